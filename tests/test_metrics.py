"""cae_lessons.metrics: per-image metrics, summaries, error locations, spectra and baselines."""

import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage, stats
from skimage.metrics import mean_squared_error, peak_signal_noise_ratio, structural_similarity

from cae_lessons import baselines, metrics
from cae_lessons.metrics import power_spectrum_2d, radial_power_spectrum
from cae_lessons.scores import compare, evaluate
from cae_lessons.stats import summarize

PROPERTY = settings(max_examples=50, derandomize=True, deadline=None)
seeds = st.integers(0, 2**32 - 1)
sides = st.integers(8, 24)


def smooth_images(seed: int, shape=(4, 32, 32, 1), sigma: float = 3.0) -> np.ndarray:
    """Real-like smooth images in [0, 1]: Gaussian-filtered noise, rescaled per image."""
    noise = np.random.default_rng(seed).random(shape)
    smooth = ndimage.gaussian_filter(noise, sigma=(0, sigma, sigma, 0))
    low = smooth.min(axis=(1, 2, 3), keepdims=True)
    high = smooth.max(axis=(1, 2, 3), keepdims=True)
    return ((smooth - low) / (high - low)).astype(np.float32)


def noisy_pair(seed: int, shape=(5, 12, 17, 1)) -> tuple[np.ndarray, np.ndarray]:
    """Random images in [0, 1] and a noisy reconstruction clipped to [0, 1]."""
    rng = np.random.default_rng(seed)
    x = rng.random(shape).astype(np.float32)
    y = np.clip(x + rng.normal(0, 0.1, shape), 0, 1).astype(np.float32)
    return x, y


def checkerboard(shape=(1, 16, 16, 1), period=(2, 2)) -> np.ndarray:
    """1 on every ``period``-th pixel of every ``period``-th row, else 0."""
    rows = np.arange(shape[1])[:, None] % period[0] == 0
    cols = np.arange(shape[2])[None, :] % period[1] == 0
    return np.broadcast_to((rows & cols)[None, :, :, None], shape).astype(np.float32)


# --- per-image metrics ------------------------------------------------------------------------


def test_constant_offset_gives_hand_computed_values():
    x = np.full((3, 8, 8, 1), 0.5)
    y = x + 0.1
    np.testing.assert_allclose(metrics.mse(x, y), 0.01)
    np.testing.assert_allclose(metrics.mae(x, y), 0.1)
    np.testing.assert_allclose(metrics.psnr(x, y), 20.0)
    assert metrics.mse(x, y).shape == (3,)


@pytest.mark.parametrize("shape", [(5, 12, 17, 1), (3, 9, 8, 3)])
def test_metrics_match_scikit_image(shape):
    x, y = noisy_pair(0, shape)
    expected_mse = [mean_squared_error(a, b) for a, b in zip(x, y, strict=True)]
    expected_psnr = [
        peak_signal_noise_ratio(a, b, data_range=1.0) for a, b in zip(x, y, strict=True)
    ]
    expected_ssim = [
        structural_similarity(a, b, data_range=1.0, channel_axis=-1)
        for a, b in zip(x.astype(np.float64), y.astype(np.float64), strict=True)
    ]
    np.testing.assert_allclose(metrics.mse(x, y), expected_mse, rtol=1e-5)
    np.testing.assert_allclose(metrics.psnr(x, y), expected_psnr, rtol=1e-5)
    np.testing.assert_allclose(metrics.ssim(x, y), expected_ssim, rtol=1e-7)
    np.testing.assert_allclose(metrics.mae(x, y), np.abs(x - y).mean(axis=(1, 2, 3)), rtol=1e-5)


def test_ssim_window_shrinks_for_small_images():
    x, y = noisy_pair(1, (2, 5, 9, 1))
    assert metrics.ssim_win_size(5, 9) == 5
    expected = [
        structural_similarity(a, b, data_range=1.0, channel_axis=-1, win_size=5)
        for a, b in zip(x.astype(np.float64), y.astype(np.float64), strict=True)
    ]
    np.testing.assert_allclose(metrics.ssim(x, y), expected)
    assert evaluate(x, y).ssim_win_size == 5


def test_ssim_rejects_images_below_three_pixels():
    x = np.zeros((1, 2, 8, 1))
    with pytest.raises(ValueError, match=re.escape("at least 3 x 3 px, got (H, W) = (2, 8)")):
        metrics.ssim(x, x)


@PROPERTY
@given(seed=seeds, low=st.floats(0.001, 0.5), factor=st.floats(1.01, 10.0))
def test_psnr_decreases_as_noise_increases(seed, low, factor):
    rng = np.random.default_rng(seed)
    x = rng.random((2, 8, 8, 1))
    noise = rng.normal(size=x.shape)
    assert np.all(metrics.psnr(x, x + factor * low * noise) < metrics.psnr(x, x + low * noise))


@PROPERTY
@given(seed=seeds, height=sides, width=sides)
def test_identical_images_are_perfect_and_keep_all_high_frequencies(seed, height, width):
    x = np.random.default_rng(seed).random((2, height, width, 1))
    scores = evaluate(x, x)
    np.testing.assert_array_equal(scores.mse, 0.0)
    np.testing.assert_array_equal(scores.psnr, np.inf)
    np.testing.assert_allclose(scores.ssim, 1.0)
    retention = metrics.high_frequency_retention(x, x)
    np.testing.assert_array_equal(retention.ratio, 1.0)
    assert retention.mean == 1.0


# --- summaries, Scores and Comparison ---------------------------------------------------------


def test_summary_is_a_student_t_interval():
    values = np.random.default_rng(2).normal(27, 1, 48)
    summary = summarize(values, "PSNR", unit="dB", fmt=".2f")
    low, high = stats.t.interval(0.95, 47, loc=values.mean(), scale=stats.sem(values))
    assert summary.mean == pytest.approx(values.mean())
    assert (summary.low, summary.high) == pytest.approx((low, high))
    assert re.fullmatch(
        r"PSNR \d+\.\d\d dB \[\d+\.\d\d, \d+\.\d\d\] \(95% CI, n=48\)", repr(summary)
    )


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0.8], (0.8, -np.inf, np.inf)),
        ([np.inf, 30.0], (np.inf, np.inf, np.inf)),
        ([0.5, 0.5, 0.5], (0.5, 0.5, 0.5)),
    ],
)
def test_summary_edge_cases_are_nan_free(values, expected):
    summary = summarize(values, "X")
    assert (summary.mean, summary.low, summary.high) == expected


@pytest.mark.parametrize(
    ("values", "confidence", "error", "message"),
    [
        ([], 0.95, ValueError, "X: need at least one value and no NaN, got 0 value(s)"),
        ([1.0, np.nan], 0.95, ValueError, "got 2 value(s) of which 1 NaN"),
        ([1.0], 95, ValueError, "confidence must be a level strictly between 0 and 1, got 95"),
        ([1.0], "95%", TypeError, "confidence must be a number, got str '95%'"),
    ],
)
def test_summary_rejects_bad_input(values, confidence, error, message):
    with pytest.raises(error, match=re.escape(message)):
        summarize(values, "X", confidence=confidence)


def test_evaluate_returns_frozen_per_image_scores():
    x, y = noisy_pair(3, (6, 16, 16, 1))
    scores = evaluate(x, y, confidence=0.9)
    assert scores.n == 6
    np.testing.assert_allclose(scores.psnr, metrics.psnr(x, y))
    np.testing.assert_allclose(scores.ssim, metrics.ssim(x, y))
    with pytest.raises(ValueError, match="read-only"):
        scores.psnr[0] = 0.0
    assert list(scores.summary()) == ["MSE", "MAE", "PSNR", "SSIM"]
    assert "PSNR" in repr(scores) and "(90% CI, n=6)" in repr(scores)
    assert "uniform 7x7 window" in repr(scores)
    assert "<table>" in scores._repr_html_() and "mean [90% CI]" in scores._repr_html_()


def test_compare_tabulates_pairs_and_scores_in_order():
    x, y = noisy_pair(4, (4, 16, 16, 1))
    table = compare({"CAE": (x, y), "identity": evaluate(x, x)})
    assert [label for label, _ in table.scores] == ["CAE", "identity"]
    lines = repr(table).splitlines()
    assert lines[0].split() == ["model", "n", "MSE", "MAE", "PSNR", "(dB)", "SSIM"]
    assert lines[1].startswith("CAE ") and lines[2].startswith("identity  4  0 [0, 0]")
    assert lines[-1] == "(mean [95% CI] over images)"
    assert table._repr_html_().count("<tr>") == 3


@pytest.mark.parametrize(
    ("results", "error", "message"),
    [
        ({}, ValueError, "results is empty"),
        (
            [("CAE", None)],
            TypeError,
            "results must be a mapping {label: (x_true, x_pred) or Scores}",
        ),
        ({"CAE": np.zeros(3)}, TypeError, "results['CAE'] must be an (x_true, x_pred) pair or a"),
    ],
)
def test_compare_rejects_bad_results(results, error, message):
    with pytest.raises(error, match=re.escape(message)):
        compare(results)


# --- input validation -------------------------------------------------------------------------

GOOD = np.zeros((4, 8, 8, 1), dtype=np.float32)


@pytest.mark.parametrize(
    ("x_true", "x_pred", "error", "message"),
    [
        (GOOD.tolist(), GOOD, TypeError, "x_true must be a NumPy array of shape (N, H, W, C), got"),
        (GOOD[0], GOOD, ValueError, "x_true must be 4-D (N, H, W, C), got 3-D shape (8, 8, 1)"),
        (GOOD, GOOD.astype(np.uint8), TypeError, "x_pred must be a float array with values in"),
        (GOOD[:0], GOOD[:0], ValueError, "one non-empty image, got shape (0, 8, 8, 1)"),
        (GOOD, np.full_like(GOOD, np.nan), ValueError, "x_pred must be finite, got 256 NaN or"),
        (GOOD + 255, GOOD, ValueError, "x_true must lie in [0, 1] (data_range=1)"),
        (GOOD, GOOD[:, 2:-2, 2:-2], ValueError, "got x_true (4, 8, 8, 1) and x_pred (4, 4, 4, 1)"),
    ],
)
@pytest.mark.parametrize(
    "function",
    [
        evaluate,
        metrics.error_map,
        metrics.border_error_profile,
        metrics.high_frequency_retention,
    ],
)
def test_pair_functions_reject_bad_input(function, x_true, x_pred, error, message):
    with pytest.raises(error, match=re.escape(message)):
        function(x_true, x_pred)


def test_reconstruction_may_leave_the_unit_range():
    x = np.full((1, 8, 8, 1), 0.95)
    np.testing.assert_allclose(metrics.mae(x, x + 0.1), 0.1)


def test_importing_metrics_does_not_import_tensorflow():
    code = "import sys, cae_lessons.metrics; print('tensorflow' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


# --- where the error lives -------------------------------------------------------------------


def test_error_map_is_absolute_error_in_float32():
    x, y = noisy_pair(5)
    errors = metrics.error_map(x, y)
    assert errors.dtype == np.float32 and errors.shape == x.shape
    np.testing.assert_allclose(errors, np.abs(y - x), atol=1e-7)


def test_distance_to_edge_on_a_non_square_image():
    d = metrics.distance_to_edge(5, 8)
    assert d.shape == (5, 8)
    assert d.max() == 2 and d[2, 2:6].tolist() == [2, 2, 2, 2]
    np.testing.assert_array_equal(d, d[::-1, ::-1])


@PROPERTY
@given(seed=seeds, height=st.integers(4, 20), width=st.integers(4, 20), data=st.data())
def test_border_profile_is_zero_beyond_the_damaged_rings(seed, height, width, data):
    deepest = (min(height, width) - 1) // 2
    k = data.draw(st.integers(1, deepest))
    x = np.zeros((2, height, width, 1))
    damaged = metrics.distance_to_edge(height, width) < k
    error = np.random.default_rng(seed).uniform(0.1, 1.0, x.shape) * damaged[None, :, :, None]
    profile = metrics.border_error_profile(x, error)
    np.testing.assert_array_equal(profile.distance, np.arange(deepest + 1))
    assert np.all(profile.error[:k] > 0)
    np.testing.assert_array_equal(profile.error[k:], 0.0)


def test_border_profile_can_stop_early():
    x, y = noisy_pair(6, (2, 12, 17, 1))
    full = metrics.border_error_profile(x, y)
    short = metrics.border_error_profile(x, y, max_distance=2)
    np.testing.assert_array_equal(short.error, full.error[:3])
    assert len(full.error) == 6
    assert repr(full).startswith("BorderErrorProfile(MSE by distance from the edge, d=0..5: ")


@pytest.mark.parametrize(
    ("max_distance", "error", "message"),
    [
        (6, ValueError, "between 0 and 5 (the deepest ring of a (12, 17) image), got 6"),
        (2.0, TypeError, "max_distance must be an int, got float 2.0"),
    ],
)
def test_border_profile_rejects_bad_max_distance(max_distance, error, message):
    x, y = noisy_pair(6, (2, 12, 17, 1))
    with pytest.raises(error, match=re.escape(message)):
        metrics.border_error_profile(x, y, max_distance=max_distance)


# --- spectra ----------------------------------------------------------------------------------


@PROPERTY
@given(seed=seeds, sigma=st.floats(1.0, 3.0), cutoff=st.floats(0.1, 0.9))
def test_high_frequency_retention_of_a_blur_is_below_one(seed, sigma, cutoff):
    x = np.random.default_rng(seed).random((2, 24, 20, 1))
    blurred = ndimage.gaussian_filter(x, sigma=(0, sigma, sigma, 0))
    assert np.all(metrics.high_frequency_retention(x, blurred, cutoff).ratio < 1)


def test_high_frequency_retention_sees_added_noise():
    x = smooth_images(7)
    noisy = x + np.random.default_rng(7).normal(0, 0.05, x.shape)
    retention = metrics.high_frequency_retention(x, noisy)
    assert np.all(retention.ratio > 1)
    assert repr(retention).endswith("(95% CI, n=4); power above 0.25 x Nyquist, output / input")


@pytest.mark.parametrize(
    ("x_true", "cutoff", "error", "message"),
    [
        (np.full((2, 16, 16, 1), 0.5), 0.25, ValueError, "image(s) [0, 1] have no power above"),
        (smooth_images(0), 1.0, ValueError, "Nyquist frequency strictly between 0 and 1, got 1.0"),
        (smooth_images(0), None, TypeError, "cutoff must be a number, got NoneType None"),
    ],
)
def test_high_frequency_retention_rejects_undefined_ratios(x_true, cutoff, error, message):
    with pytest.raises(error, match=re.escape(message)):
        metrics.high_frequency_retention(x_true, x_true, cutoff)


def test_radial_power_spectrum_separates_noise_from_smooth_images():
    frequencies, smooth = metrics.radial_power_spectrum(smooth_images(8, (3, 32, 24, 1)))
    _, white = metrics.radial_power_spectrum(np.random.default_rng(8).random((3, 32, 24, 1)))
    assert frequencies.shape == smooth.shape == white.shape == (12,)
    assert 0 < frequencies[0] < frequencies[-1] < 1
    assert smooth[-1] < 1e-3 * smooth[0]
    assert white[-1] > 0.2 * white[1:].mean()


# --- checkerboard -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "period", "strides"),
    [
        ((2, 16, 16, 1), (2, 2), 2),
        ((1, 17, 15, 2), (2, 2), (2, 2)),
        ((1, 18, 12, 1), (3, 3), 3),
        ((1, 16, 12, 1), (2, 1), (2, 1)),
    ],
)
def test_a_pure_stride_pattern_scores_one(shape, period, strides):
    score = metrics.checkerboard_score(checkerboard(shape, period), strides)
    np.testing.assert_allclose(score, 1.0)
    assert score.shape == (shape[0],)


def test_a_smooth_image_scores_near_zero():
    assert np.all(metrics.checkerboard_score(smooth_images(9)) < 1e-3)


def test_checkerboard_score_rises_with_the_artifact_amplitude():
    x = smooth_images(10, (1, 64, 64, 1))
    board = checkerboard(x.shape) - 0.25
    amplitudes = [0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2]
    scores = [metrics.checkerboard_score(x + a * board)[0] for a in amplitudes]
    assert np.all(np.diff(scores) > 0)
    assert scores[0] < 1e-3 and scores[-1] > 0.2


@pytest.mark.parametrize(
    ("strides", "message"),
    [
        (1, "strides must be an int >= 2 or a pair (sy, sx) of ints >= 1 with one >= 2, as"),
        ((2, 0), "got (2, 0)"),
        (True, "got True"),
        (2.0, "got 2.0"),
        (32, "x images of (H, W) = (16, 16) are smaller than one stride period (32, 32)"),
    ],
)
def test_checkerboard_score_rejects_bad_strides(strides, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        metrics.checkerboard_score(checkerboard(), strides)


# --- baselines --------------------------------------------------------------------------------


def test_pca_with_as_many_components_as_images_reproduces_the_training_set():
    x = np.random.default_rng(11).random((8, 6, 5, 1)).astype(np.float32)
    pca = baselines.pca_baseline(x, x, n_components=8)
    np.testing.assert_allclose(pca.reconstruction, x, atol=1e-5)
    assert pca.reconstruction.dtype == np.float32
    assert (pca.method, pca.latent_values, pca.compression_ratio) == ("PCA", 8, 30 / 8)
    assert pca.label == "PCA (8 values)"


def test_pca_reconstruction_of_new_images_is_clipped_and_lossy():
    x_train, x_test = smooth_images(12, (10, 16, 16, 1)), smooth_images(13, (3, 16, 16, 1))
    pca = baselines.pca_baseline(x_train, x_test, n_components=2)
    assert pca.reconstruction.shape == x_test.shape
    assert pca.reconstruction.min() >= 0 and pca.reconstruction.max() <= 1
    assert metrics.mse(x_test, pca.reconstruction).min() > 0


@pytest.mark.parametrize(
    ("x_test", "n_components", "error", "message"),
    [
        (GOOD, 5, ValueError, "n_components must be between 1 and 4 (min(n_samples, n_features)"),
        (GOOD, 5, ValueError, "for x_train of shape (4, 8, 8, 1); use fewer components), got 5"),
        (GOOD, 0, ValueError, "n_components must be between 1 and 4"),
        (GOOD, 2.5, TypeError, "n_components must be an int, got float 2.5"),
        (GOOD[:, :4], 2, ValueError, "same (H, W, C), got (8, 8, 1) and (4, 8, 1)"),
    ],
)
def test_pca_rejects_bad_requests(x_test, n_components, error, message):
    with pytest.raises(error, match=re.escape(message)):
        baselines.pca_baseline(GOOD, x_test, n_components)


@pytest.mark.parametrize(
    ("shape", "factor", "latent_values", "ratio"),
    [((3, 16, 16, 1), 4, 16, 16.0), ((2, 16, 12, 2), 2, 96, 4.0), ((1, 10, 10, 1), 3, 16, 6.25)],
)
def test_bicubic_baseline_keeps_the_shape_and_compresses_by_factor_squared(
    shape, factor, latent_values, ratio
):
    x = smooth_images(14, shape)
    bicubic = baselines.bicubic_baseline(x, factor)
    assert bicubic.reconstruction.shape == x.shape and bicubic.reconstruction.dtype == np.float32
    assert (bicubic.latent_values, bicubic.compression_ratio) == (latent_values, ratio)
    assert bicubic.reconstruction.min() >= 0 and bicubic.reconstruction.max() <= 1
    assert metrics.psnr(x, bicubic.reconstruction).min() > 20


@pytest.mark.parametrize(
    ("factor", "error", "message"),
    [
        (9, ValueError, "between 1 and 8 (at most the shorter side of (8, 8) images), got 9"),
        (2.0, TypeError, "factor must be an int, got float 2.0"),
    ],
)
def test_bicubic_rejects_bad_factors(factor, error, message):
    with pytest.raises(error, match=re.escape(message)):
        baselines.bicubic_baseline(GOOD, factor)


@pytest.mark.parametrize(
    ("latent_shape", "expected"), [(64, 64), ((16, 16, 8), 2048), ((None, 4, 4, 8), 128)]
)
def test_latent_size_to_pca_components(latent_shape, expected):
    assert baselines.latent_size_to_pca_components(latent_shape) == expected


@pytest.mark.parametrize("latent_shape", [0, (), (None,), (4, -1), (4.0, 4)])
def test_latent_size_rejects_bad_shapes(latent_shape):
    with pytest.raises(ValueError, match=re.escape(f"got {latent_shape!r}")):
        baselines.latent_size_to_pca_components(latent_shape)


def test_psnr_and_ssim_take_the_data_range_of_other_images():
    rng = np.random.default_rng(0)
    x = rng.random((2, 16, 16, 1))
    y = np.clip(x + rng.normal(0, 0.05, x.shape), 0, 1)
    np.testing.assert_allclose(metrics.psnr(255 * x, 255 * y, data_range=255), metrics.psnr(x, y))
    np.testing.assert_allclose(metrics.ssim(255 * x, 255 * y, data_range=255), metrics.ssim(x, y))


@pytest.mark.parametrize(("data_range", "error"), [(0, ValueError), ("1", TypeError)])
def test_a_data_range_that_is_no_span_is_refused(data_range, error):
    x = np.zeros((1, 8, 8, 1))
    with pytest.raises(error, match="data_range must be"):
        metrics.psnr(x, x, data_range=data_range)


# --- power_spectrum_2d (ch. 5) --------------------------------------------------------------------


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
