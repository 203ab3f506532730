"""cae_lessons.models.build_cae / cae_layers: a symmetric CAE checked before it is built."""

import itertools
import re

import numpy as np
import pytest

from cae_lessons.models import DOWNSAMPLING, UPSAMPLING, build_cae, cae_layers
from cae_lessons.shapes import trace

SMALL = {"filters": (4, 8), "latent_channels": 2}


@pytest.mark.parametrize(("down", "up"), list(itertools.product(DOWNSAMPLING, UPSAMPLING)))
def test_every_design_round_trips_for_real(down, up):
    model = build_cae((32, 24, 1), down=down, up=up, **SMALL)
    x = np.random.default_rng(0).random((2, 32, 24, 1), dtype=np.float32)
    y = model(x)
    assert tuple(y.shape) == (2, 32, 24, 1)
    assert float(np.min(y)) >= 0 and float(np.max(y)) <= 1  # sigmoid output
    assert tuple(model.get_layer("bottleneck").output.shape) == (None, 8, 6, 2)


@pytest.mark.parametrize(("down", "up"), list(itertools.product(DOWNSAMPLING, UPSAMPLING)))
def test_trace_of_the_layer_list_equals_keras_per_layer_shapes(down, up):
    layers = cae_layers((32, 32, 1), down=down, up=up, **SMALL)
    model = build_cae((32, 32, 1), down=down, up=up, **SMALL)
    traced = [(row.name, row.output_shape) for row in trace(layers, (32, 32, 1)).rows]
    keras_shapes = [(layer.name, tuple(layer.output.shape[1:])) for layer in model.layers]
    assert traced == keras_shapes


def test_designs_with_equal_kernels_have_equal_parameters():
    counts = {up: build_cae((32, 32, 1), up=up, **SMALL).count_params() for up in UPSAMPLING}
    assert len(set(counts.values())) == 1, counts


def test_default_names_and_layers():
    model = build_cae((64, 64, 1), filters=(8, 16, 32), latent_channels=4)
    assert model.name == "cae_pool_upsample_8-16-32_l4"
    names = [layer.name for layer in model.layers]
    assert names[:2] == ["enc_conv1", "enc_pool1"]
    assert "bottleneck" in names and names[-1] == "output"
    assert model.get_layer("dec_up1").get_config()["interpolation"] == "nearest"
    resize = build_cae((64, 64, 1), up="resize_conv", **SMALL)
    assert resize.get_layer("dec_up1").get_config()["interpolation"] == "bilinear"


@pytest.mark.parametrize("fit_input", ["pad", "crop"])
def test_fit_input_accepts_sizes_the_core_cannot(fit_input):
    model = build_cae((37, 51, 1), fit_input=fit_input, **SMALL)
    assert model.output_shape == (None, 37, 51, 1)
    first, last = model.layers[0], model.layers[-1]
    expected = (
        ("ZeroPadding2D", "Cropping2D") if fit_input == "pad" else ("Cropping2D", "ZeroPadding2D")
    )
    assert (type(first).__name__, type(last).__name__) == expected
    inner = tuple(first.output.shape[1:3])
    assert all(n % 4 == 0 for n in inner)
    assert inner == ((40, 52) if fit_input == "pad" else (36, 48))


def test_an_incompatible_design_raises_the_diagnosis_not_a_tensorflow_error():
    message = (
        "build_cae(...) cannot reproduce a 38×38×1 input: MISMATCH: pooling 2 with stride 2 "
        "floors 19→9 and drops the last row"
    )
    with pytest.raises(ValueError, match=re.escape(message)) as caught:
        build_cae((38, 38, 1), **SMALL)
    assert "feed 40×40 inputs instead of 38×38" in str(caught.value)
    assert "Or pass fit_input='pad'" in str(caught.value)


def test_valid_padding_is_refused_with_the_same_padding_fix():
    with pytest.raises(ValueError, match="use padding='same' in every convolution"):
        build_cae((32, 32, 1), padding="valid", **SMALL)


@pytest.mark.parametrize(
    ("argument", "value", "message"),
    [
        ("down", "avg", "down must be one of ('pool', 'stride'), got 'avg'"),
        (
            "up",
            "deconv",
            "up must be one of ('upsample', 'transpose', 'resize_conv'), got 'deconv'",
        ),
        ("fit_input", "resize", "fit_input must be one of ('none', 'pad', 'crop'), got 'resize'"),
        ("filters", (), "filters must name at least one level"),
    ],
)
def test_bad_arguments_are_named(argument, value, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        cae_layers((32, 32, 1), **{argument: value})
