"""cae_lessons.models.build_unet in every rank: the layers it builds, the sizes it round-trips,
and a clear refusal of a shape it cannot build."""

import re

import numpy as np
import pytest

from cae_lessons.models import build_unet
from cae_lessons.shapes import trace


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
