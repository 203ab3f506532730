"""scores.py: reconstructions scored with intervals over training seeds (compare_over_seeds)."""

import numpy as np
import pytest

from cae_lessons import metrics, scores


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
