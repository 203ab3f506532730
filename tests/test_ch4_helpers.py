"""Helpers added for ch. 4 "Padding and the bottleneck": block_mean, compare_over_seeds and
ratio_sweep_plot."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from cae_lessons import metrics, plots, scores, stats
from cae_lessons.data import block_mean


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


def _images(seed=0, shape=(4, 16, 16, 1)):
    return np.random.default_rng(seed).random(shape).astype(np.float32) * 0.8 + 0.1


def test_compare_over_seeds_summarises_per_run_means_over_seeds():
    x = _images()
    runs = [(x, x + np.float32(0.01)), (x, x + np.float32(0.02)), (x, x + np.float32(0.04))]
    table = scores.compare_over_seeds({"cae": runs, "copy": (x, x * np.float32(0.99))})
    per_seed = table.per_seed("cae")
    expected = [float(np.mean(metrics.psnr(a, b))) for a, b in runs]
    np.testing.assert_allclose(per_seed["PSNR"], expected)
    summary = table.summary()["cae"]["PSNR"]
    assert summary.n == 3 and summary.low < summary.mean < summary.high
    assert table.summary()["copy"]["SSIM"].n == 1
    hf = metrics.high_frequency_retention(x, x * np.float32(0.99)).mean
    assert table.per_seed("copy")["HF retention"][0] == pytest.approx(hf)


def test_compare_over_seeds_table_shows_no_interval_for_single_runs():
    x = _images()
    text = repr(scores.compare_over_seeds({"baseline": (x, x)}))
    assert "[" not in text.splitlines()[1]
    assert text.endswith("(one run per row: no interval over training seeds)")
    two = repr(scores.compare_over_seeds({"cae": [(x, x), (x, x * np.float32(0.9))]}))
    assert two.endswith("(mean over runs [95% CI over training seeds])")
    assert "<table>" in scores.compare_over_seeds({"b": (x, x)})._repr_html_()


def test_compare_over_seeds_values_are_read_only():
    x = _images()
    values = scores.compare_over_seeds({"b": (x, x)}).per_seed("b")["PSNR"]
    with pytest.raises(ValueError, match="read-only"):
        values[0] = 0.0


@pytest.mark.parametrize(
    ("results", "error", "match"),
    [
        ([], TypeError, "must be a mapping"),
        ({}, ValueError, "results is empty"),
        ({"a": []}, ValueError, r"results\['a'\] holds no run"),
        ({"a": [np.zeros((1, 8, 8, 1))]}, TypeError, "got an element of type ndarray"),
    ],
)
def test_compare_over_seeds_rejects_bad_results(results, error, match):
    with pytest.raises(error, match=match):
        scores.compare_over_seeds(results)


def test_compare_over_seeds_unknown_row_names_the_rows():
    x = _images()
    with pytest.raises(KeyError, match=r"rows are \['b'\]"):
        scores.compare_over_seeds({"b": (x, x)}).per_seed("c")


def test_ratio_sweep_plot_draws_means_and_only_finite_intervals():
    two = stats.summarize([20.0, 22.0], "PSNR")
    one = stats.summarize([18.0], "PSNR")
    fig = plots.ratio_sweep_plot(
        {"CAE": [(64, two), (4, two)], "bicubic": [(4, one), (64, one)]},
        title="sweep",
        ylabel="PSNR (dB)",
    )
    ax = fig.axes[0]
    lines = [line for line in ax.get_lines() if line.get_label() in ("CAE", "bicubic")]
    assert [list(line.get_xdata()) for line in lines] == [[4.0, 64.0], [4.0, 64.0]]
    assert len(ax.containers) == 1  # only the CAE, whose intervals are finite, has error bars
    assert ax.get_xlabel().startswith("compression ratio") and ax.get_ylabel() == "PSNR (dB)"
    plt.close(fig)


def test_ratio_sweep_plot_needs_a_series():
    with pytest.raises(ValueError, match="no series"):
        plots.ratio_sweep_plot({}, title="t", ylabel="y")
