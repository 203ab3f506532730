"""data/preprocess.py: block_mean, and unfit_stack (fitted slices back to their native size)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cae_lessons.data import block_mean, fit_stack, unfit_stack

# --- block_mean (ch. 4) ---------------------------------------------------------------------------


def test_block_mean_averages_each_block_and_keeps_float32():
    x = np.random.default_rng(0).random((3, 6, 4, 2)).astype(np.float32)
    small = block_mean(x, 2)
    assert small.shape == (3, 3, 2, 2) and small.dtype == np.float32
    np.testing.assert_allclose(small[1, 2, 1, 0], x[1, 4:6, 2:4, 0].mean(), rtol=1e-6)


def test_block_mean_factor_one_is_the_identity():
    x = np.random.default_rng(1).random((2, 5, 5, 1)).astype(np.float32)
    np.testing.assert_array_equal(block_mean(x, 1), x)


@pytest.mark.parametrize(
    ("x", "factor", "error", "match"),
    [
        (np.zeros((4, 4)), 2, TypeError, r"\(N, H, W, C\) array, got \(4, 4\)"),
        (np.zeros((1, 4, 4, 1)), 2.0, TypeError, "factor must be an int, got float"),
        (np.zeros((1, 4, 4, 1)), 0, ValueError, "divide both sides of the 4×4 images, got 0"),
        (np.zeros((1, 6, 4, 1)), 4, ValueError, "divide both sides of the 6×4 images, got 4"),
    ],
)
def test_block_mean_rejects_bad_input(x, factor, error, match):
    with pytest.raises(error, match=match):
        block_mean(x, factor)


# --- unfit_stack, the inverse of fit_stack (ch. 6) ------------------------------------------------


sides = st.integers(min_value=1, max_value=40)


@settings(max_examples=60, deadline=None)
@given(h=sides, w=sides, th=sides, tw=sides)
def test_resize_round_trip_returns_the_native_shape_in_range(h, w, th, tw):
    stack = np.random.default_rng(h * 41 + w).random((2, h, w), dtype=np.float32)
    back = unfit_stack(fit_stack(stack, (th, tw), "resize"), (h, w), "resize")
    assert back.shape == (2, h, w)
    assert back.dtype == np.float32
    assert back.min() >= -1e-6 and back.max() <= 1 + 1e-6


@settings(max_examples=60, deadline=None)
@given(h=sides, w=sides, extra_h=st.integers(0, 9), extra_w=st.integers(0, 9))
def test_pad_round_trip_is_exact(h, w, extra_h, extra_w):
    stack = np.random.default_rng(h * 41 + w).random((1, h, w), dtype=np.float32)
    padded = fit_stack(stack, (h + extra_h, w + extra_w), "pad")
    np.testing.assert_array_equal(unfit_stack(padded, (h, w), "pad"), stack)


def test_crop_round_trip_keeps_the_centre_and_zeroes_the_lost_border():
    stack = np.arange(1, 37, dtype=np.float32).reshape(1, 6, 6)
    back = unfit_stack(fit_stack(stack, (4, 4), "crop"), (6, 6), "crop")
    np.testing.assert_array_equal(back[:, 1:5, 1:5], stack[:, 1:5, 1:5])
    assert back.sum() == stack[:, 1:5, 1:5].sum()


def test_resize_with_scale_one_only_pads_so_the_round_trip_is_exact():
    """The EPI case of ch. 6: 96×128 slices fitted to 128×128 are only padded."""
    stack = np.random.default_rng(0).random((3, 96, 128), dtype=np.float32)
    fitted = fit_stack(stack, (128, 128), "resize")
    assert not fitted[:, :16].any() and not fitted[:, -16:].any()
    np.testing.assert_array_equal(unfit_stack(fitted, (96, 128), "resize"), stack)


def test_resize_round_trip_loses_detail_when_shrinking():
    stack = np.zeros((1, 64, 64), np.float32)
    stack[0, ::2] = 1.0  # stripes one pixel high: finer than a 32-pixel grid can hold
    back = unfit_stack(fit_stack(stack, (32, 32), "resize"), (64, 64), "resize")
    assert np.abs(back - stack).max() > 0.4


def test_resize_undoes_the_centred_placement():
    """A bright block in a wide slice lands back where it was, not shifted by the padding."""
    stack = np.zeros((1, 20, 40), np.float32)
    stack[0, 8:12, 30:34] = 1.0
    back = unfit_stack(fit_stack(stack, (40, 40), "resize"), (20, 40), "resize")
    np.testing.assert_allclose(back, stack, atol=1e-6)


def test_unknown_fit_is_rejected_with_the_choices():
    with pytest.raises(ValueError, match=r"fit='none' is not supported; expected one of"):
        unfit_stack(np.zeros((1, 4, 4), np.float32), (4, 4), "none")


@pytest.mark.parametrize(
    ("size", "error"), [((4, 0), ValueError), ((4.0, 4), TypeError), ((4,), TypeError)]
)
def test_bad_native_size_is_rejected(size, error):
    with pytest.raises(error, match="size must be two positive integers"):
        unfit_stack(np.zeros((1, 4, 4), np.float32), size, "resize")
