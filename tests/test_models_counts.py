"""models.py: count_parameters and count_macs, against Keras and by hand."""

from __future__ import annotations

import keras
import pytest

from cae_lessons.experiments.kernel_stride import build_kernel_stride_cae
from cae_lessons.models import build_cae, count_macs, count_parameters, example2
from cae_lessons.shapes import LayerSpec


@pytest.fixture(autouse=True)
def _seeded():
    keras.utils.set_random_seed(0)


@pytest.mark.parametrize(
    "build",
    [
        example2,
        lambda: build_cae((32, 32, 1), filters=(4, 8), latent_channels=2),
        lambda: build_cae((32, 32, 1), filters=(4, 8), down="stride", up="transpose"),
        lambda: build_kernel_stride_cae((24, 24, 2), kernel_size=5, strides=3, latent_channels=3),
    ],
)
def test_parameter_count_equals_keras(build):
    model = build()
    assert count_parameters(model) == model.count_params()


def test_macs_are_counted_by_hand():
    conv = [LayerSpec("conv", kernel_size=3, filters=2, padding="same")]
    assert count_macs(conv, (8, 8, 1)) == 8 * 8 * 2 * 3 * 3 * 1
    transpose = [LayerSpec("conv_transpose", kernel_size=4, strides=2, filters=3, padding="same")]
    assert count_macs(transpose, (5, 5, 2)) == 5 * 5 * 2 * 4 * 4 * 3
    pooling = [LayerSpec("max_pool", kernel_size=2), LayerSpec("upsample", size=2)]
    assert count_macs(pooling, (8, 8, 1)) == 0
