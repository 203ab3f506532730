"""stats.py: verdicts over training seeds, against scipy's own intervals."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from cae_lessons.stats import Verdicts, seed_verdict

A = [25.1, 25.6, 24.8]  # PSNR, or MAE (lower is better: B's values are lower)
B = [23.0, 23.9, 23.2, 23.4]


def test_two_sets_of_runs_get_welchs_interval():
    verdict = seed_verdict(A, B, "PSNR", labels=("A", "B"))
    scipy = stats.ttest_ind(A, B, equal_var=False).confidence_interval(0.95)
    assert verdict.runs == (3, 4)
    assert (verdict.low, verdict.high) == pytest.approx((scipy.low, scipy.high))
    assert verdict.better == "A" and verdict.over == "95% CI over 3 + 4 seeds"


def test_against_an_exact_value_the_interval_is_over_the_runs_alone():
    verdict = seed_verdict(A, 24.5, "PSNR", labels=("CAE", "bicubic"))
    scipy = stats.ttest_1samp(A, 24.5).confidence_interval(0.95)
    assert verdict.runs == (3, 0)
    assert (verdict.low, verdict.high) == pytest.approx((scipy.low - 24.5, scipy.high - 24.5))
    assert verdict.over == "95% CI over 3 seeds; bicubic exact"
    flipped = seed_verdict(np.float64(24.5), A, "PSNR", labels=("bicubic", "CAE"))
    assert flipped.runs == (0, 3) and flipped.high == pytest.approx(-verdict.low)


def test_lower_is_better_for_mae():
    verdict = seed_verdict([0.02, 0.021, 0.019], [0.03, 0.031, 0.029], "MAE", labels=("A", "B"))
    assert verdict.high < 0 and verdict.better == "A"


def test_one_run_has_no_interval_and_shows_no_difference():
    verdict = seed_verdict([30.0], B, "PSNR")
    assert (verdict.low, verdict.high) == (-math.inf, math.inf) and verdict.better is None
    assert "no difference shown" in repr(verdict)


def test_two_exact_values_cannot_be_judged_over_seeds():
    with pytest.raises(ValueError, match="both exact values: there are no runs to judge over"):
        seed_verdict(25.0, 24.0, "PSNR")


@pytest.mark.parametrize(
    ("a", "metric", "match"),
    [
        (A, "MSE", r"metric must be one of \('PSNR', 'SSIM', 'MAE'\)"),
        ([], "PSNR", r"a: need at least one finite value per run, got \[\]"),
        ([1.0, float("nan")], "PSNR", "a: need at least one finite value per run"),
    ],
)
def test_bad_input_is_refused(a, metric, match):
    with pytest.raises(ValueError, match=match):
        seed_verdict(a, B, metric)


finite = st.floats(-50, 50, allow_nan=False)


@settings(max_examples=50, deadline=None)
@given(st.lists(finite, min_size=2, max_size=6), st.lists(finite, min_size=2, max_size=6))
def test_swapping_the_rows_mirrors_the_verdict(a, b):
    ab = seed_verdict(a, b, "PSNR", labels=("a", "b"))
    ba = seed_verdict(b, a, "PSNR", labels=("b", "a"))
    assert ba.difference == pytest.approx(-ab.difference, abs=1e-9)
    assert (ba.low, ba.high) == pytest.approx((-ab.high, -ab.low), abs=1e-9)
    assert ab.better == ba.better


def test_a_tiny_spread_gives_a_finite_interval():
    """Variances whose squares underflow to 0 still give Welch's degrees of freedom."""
    verdict = seed_verdict([0.0, 0.0], [0.0, 7.1e-130], "PSNR", labels=("a", "b"))
    assert math.isfinite(verdict.low) and math.isfinite(verdict.high)
    assert verdict.low < verdict.difference < verdict.high and verdict.better is None


def test_verdicts_lay_out_a_row_per_comparison_and_a_column_per_metric():
    pairs = [(A, B, "PSNR", "B"), (A, B, "MAE", "B"), (A, 24.0, "PSNR", "bicubic")]
    verdicts = Verdicts(tuple(seed_verdict(a, b, m, labels=("A", n)) for a, b, m, n in pairs))
    lines = repr(verdicts).splitlines()
    assert lines[0].split() == ["comparison", "PSNR", "MAE", "verdict"]
    assert lines[1].startswith("A − B ") and lines[1].endswith("A better on PSNR; B better on MAE")
    assert lines[2].startswith("A − bicubic") and " – " in lines[2]
    assert lines[2].endswith("A better on PSNR")
    caption = " ".join(lines[3:])
    assert "95% CI over the training seeds, 3/4 per model; a baseline is exact" in caption
    page = verdicts._repr_html_()
    assert "dB<br>[" in page  # intervals on their own line, so the table fits the book's column
    cells = page.split("<tr>")[2].split("<td ")[1:]
    wraps = ["min-width" in c for c in cells]  # the comparison and the verdict wrap, not numbers
    assert wraps == [True, False, False, True], cells
    assert [v.metric for v in verdicts] == ["PSNR", "MAE", "PSNR"] and len(verdicts) == 3
    assert verdicts["A", "bicubic", "PSNR"] is verdicts[2]
    with pytest.raises(KeyError, match=r"no verdict \('A', 'B', 'SSIM'\); there are"):
        verdicts["A", "B", "SSIM"]
