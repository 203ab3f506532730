"""Helpers added for ch. 5 "Transposed convolutions (example 3)": output_padding from Dumoulin &
Visin's relationship 14, the overlap pattern of a transposed convolution, and 2-D spectra."""

from __future__ import annotations

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest

from cae_lessons.metrics import power_spectrum_2d, radial_power_spectrum
from cae_lessons.plots import spectrum_images
from cae_lessons.shapes import conv_transpose_output_size, output_padding_for, transpose_overlap


@pytest.fixture(autouse=True)
def _seeded():
    keras.utils.set_random_seed(0)


def _keras_round_trip(size, kernel_size, strides, padding, output_padding):
    """Height after Conv2D then Conv2DTranspose (same arguments), from real Keras layers."""
    args = {"kernel_size": (kernel_size, 1), "strides": (strides, 1), "padding": padding}
    x = np.zeros((1, size, 1, 1), np.float32)
    encoded = keras.layers.Conv2D(1, **args)(x)
    out = keras.layers.Conv2DTranspose(1, output_padding=(output_padding, 0), **args)(encoded)
    return out.shape[1]


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize(("kernel_size", "strides"), [(1, 2), (3, 2), (4, 2), (3, 3), (5, 3)])
def test_output_padding_restores_every_size_keras_can(kernel_size, strides, padding):
    for size in range(kernel_size + 3, kernel_size + 3 + 2 * strides):
        try:
            a = output_padding_for(size, kernel_size, strides, padding)
        except ValueError:
            # Only 'same' with an even kernel at a multiple of the stride has no output_padding.
            assert (padding, kernel_size % 2, size % strides) == ("same", 0, 0)
            continue
        assert 0 <= a < strides
        assert _keras_round_trip(size, kernel_size, strides, padding, a) == size


@pytest.mark.parametrize("size", range(7, 15))
@pytest.mark.parametrize(("padding", "p"), [("valid", 0), ("same", 1)])
def test_odd_kernels_follow_dumoulin_visin_relationship_14(size, padding, p):
    assert output_padding_for(size, 3, 2, padding) == (size + 2 * p - 3) % 2


def test_output_padding_for_explains_what_cannot_be_restored():
    with pytest.raises(ValueError, match=r"give back 128 from 64 \(it would need 2\)"):
        output_padding_for(128, 4, 2, "same")
    with pytest.raises(ValueError, match="cannot take an input height of 2"):
        output_padding_for(2, 3, 1, "valid")
    with pytest.raises(TypeError, match="size must be an int"):
        output_padding_for((128, 128), 3, 2)
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same'"):
        output_padding_for(128, 3, 2, "full")


@pytest.mark.parametrize(
    ("size", "kernel_size", "strides", "padding", "output_padding"),
    [
        (4, 3, 2, "same", None),
        (4, 4, 2, "same", None),
        (4, 3, 2, "valid", None),
        (5, 4, 2, "valid", 1),
        (3, 3, 2, "same", 0),
        (5, 5, 3, "same", None),
        (5, 2, 3, "valid", 1),
    ],
)
def test_overlap_is_the_output_of_an_all_ones_transposed_conv(
    size, kernel_size, strides, padding, output_padding
):
    layer = keras.layers.Conv2DTranspose(
        1,
        (kernel_size, 1),
        strides=(strides, 1),
        padding=padding,
        output_padding=None if output_padding is None else (output_padding, 0),
        kernel_initializer="ones",
        use_bias=False,
    )
    keras_counts = np.asarray(layer(np.ones((1, size, 1, 1), np.float32)))[0, :, 0, 0]
    counts = transpose_overlap(size, kernel_size, strides, padding, output_padding)
    assert counts == tuple(int(v) for v in keras_counts)
    assert len(counts) == conv_transpose_output_size(
        size, kernel_size, strides, padding, output_padding
    )


def test_overlap_is_even_inside_when_the_stride_divides_the_kernel():
    assert set(transpose_overlap(16, 4, 2, "same")[2:-2]) == {2}
    assert set(transpose_overlap(16, 3, 2, "same")[2:-2]) == {1, 2}
    assert 0 in transpose_overlap(8, 2, 3, "valid")  # a stride larger than the kernel leaves gaps


def test_power_spectrum_2d_centres_zero_frequency_and_agrees_with_the_radial_average():
    rng = np.random.default_rng(0)
    x = rng.random((3, 16, 16, 1)).astype(np.float32)
    power = power_spectrum_2d(x)
    assert power.shape == (16, 16)
    np.testing.assert_allclose(power_spectrum_2d(x + 0.25), power, rtol=1e-5)  # mean removed
    radius = np.hypot(*np.meshgrid(np.arange(-8, 8), np.arange(-8, 8), indexing="ij")) / 8
    inside = radius <= 1
    ring = np.minimum((radius[inside] * 8).astype(int), 7)
    rings = np.bincount(ring, power[inside]) / np.bincount(ring)
    np.testing.assert_allclose(rings, radial_power_spectrum(x)[1])


def test_power_spectrum_2d_puts_zero_frequency_in_the_centre():
    columns = np.cos(2 * np.pi * 2 * np.arange(16) / 16)  # 2 cycles across the width
    wave = np.tile(columns, (16, 1)).astype(np.float32)[None, :, :, None]
    power = power_spectrum_2d(wave)
    peaks = {
        tuple(int(i) for i in np.unravel_index(j, power.shape))
        for j in np.argsort(power, None)[-2:]
    }
    assert peaks == {(8, 6), (8, 10)}


def test_power_spectrum_2d_puts_a_checkerboard_at_the_corners():
    board = (np.indices((16, 16)).sum(axis=0) % 2).astype(np.float32)[None, :, :, None]
    power = power_spectrum_2d(board)
    assert np.unravel_index(power.argmax(), power.shape) == (0, 0)


def test_power_spectrum_2d_rejects_non_images():
    with pytest.raises(ValueError):
        power_spectrum_2d(np.zeros((16, 16)))


def test_spectrum_images_labels_every_panel_and_shares_one_scale():
    power = power_spectrum_2d(np.random.default_rng(0).random((2, 8, 8, 1)))
    fig = spectrum_images({"a": power, "b": 10 * power}, title="Two spectra")
    try:
        a, b = fig.axes[:2]
        assert (a.get_title(), b.get_title()) == ("a", "b")
        assert a.get_ylabel() == "vertical frequency (× Nyquist)"
        assert (a.get_xlabel(), b.get_ylabel()) == ("horizontal (× Nyquist)", "")
        assert a.images[0].get_clim() == b.images[0].get_clim()
        left, right, _, _ = a.images[0].get_extent()
        assert (left, right) == pytest.approx((-1 - 1 / 8, 1 - 1 / 8))
        assert fig._suptitle.get_text() == "Two spectra"
    finally:
        plt.close(fig)


def test_spectrum_images_rejects_nothing_and_mixed_shapes():
    with pytest.raises(ValueError, match="no spectra"):
        spectrum_images({}, title="t")
    with pytest.raises(ValueError, match="one shape"):
        spectrum_images({"a": np.ones((4, 4)), "b": np.ones((8, 8))}, title="t")
