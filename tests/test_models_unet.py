"""cae_lessons.models.build_unet in every rank: the layers it builds, the sizes it round-trips,
and a clear refusal of a shape it cannot build."""

import re

import numpy as np
import pytest

from cae_lessons.models import build_unet
from cae_lessons.shapes import cpu_kernel_problems, diagnose, trace


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_build_unet_takes_its_rank_from_the_input_shape(rank):
    model = build_unet((None,) * rank + (1,), depth=2, filters=2)
    kinds = {type(model.get_layer(name)).__name__ for name in ("enc0_conv0", "pool0", "up0")}
    assert kinds == {f"Conv{rank}D", f"MaxPooling{rank}D", f"Conv{rank}DTranspose"}


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_build_unet_round_trips_multiples_of_two_to_the_depth(rank):
    model = build_unet((None,) * rank + (1,), depth=2, filters=2)
    x = np.zeros((1, *(8,) * rank, 1), np.float32)
    assert model.predict(x, verbose=0).shape == x.shape
    with pytest.raises(ValueError):
        trace(model, (*(10,) * rank, 1))  # 10 is not a multiple of 4: the deepest skip disagrees


def test_build_unet_keeps_the_channels_of_its_input():
    assert build_unet((8, 8, 8, 3), depth=1, filters=2).output_shape == (None, 8, 8, 8, 3)


@pytest.mark.parametrize("shape", [(1,), (4, 4, 4, 4, 1)])
def test_build_unet_refuses_a_shape_of_another_rank(shape):
    message = f"got {shape} ({len(shape)} axes). Give the sizes without the batch axis"
    with pytest.raises(ValueError, match=re.escape(message)):
        build_unet(shape)


def test_the_3d_pad_fix_moves_the_first_convs_same_padding_into_its_zero_padding():
    # oneDNN drops the 'same' padding of a Conv3D that a ZeroPadding3D feeds (tests/
    # test_onednn.py), so the fix pads by that much more and makes the convolution 'valid':
    # in graph mode (predict), whichever kernels are on, it computes what the plain fix
    # (pad, the unchanged U-Net, crop) computes eagerly.
    import keras

    keras.utils.set_random_seed(0)
    unet = build_unet((None, None, None, 1), depth=2, filters=2)
    fix = next(f for f in diagnose(unet, (13, 10, 9)).fixes if f.kind == "pad_to_multiple")
    assert fix.layers[0].margins == ((2, 3), (2, 2), (2, 3))  # (1, 2), (1, 1), (1, 2) + 1
    assert "'enc0_conv0' made padding='valid'" in fix.description
    assert cpu_kernel_problems(fix.layers, fix.input_shape) == ()
    x = np.random.default_rng(0).random((1, 13, 10, 9, 1), np.float32)
    padded = keras.layers.ZeroPadding3D(((1, 2), (1, 1), (1, 2)))(x)
    expected = unet(padded)[:, 1:14, 1:11, 1:10]
    fixed = fix.apply(unet)
    assert fixed.get_layer("unet").get_layer("enc0_conv0").padding == "valid"
    assert unet.get_layer("enc0_conv0").padding == "same"
    np.testing.assert_allclose(fixed.predict(x, verbose=0), expected, atol=1e-5)
