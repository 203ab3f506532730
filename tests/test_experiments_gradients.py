"""experiments/gradients.py: per-layer gradient norms over seeds as ratios and threshold flags."""

from __future__ import annotations

import re

import numpy as np
import pytest
from _helpers import train_result as _run

from cae_lessons.experiments.gradients import (
    EXPLODING_NORM,
    VANISHING_NORM,
    GradientReport,
    summarize_gradients,
)


def test_ratios_over_layers_and_seeds():
    runs = {
        "toy": [
            _run({"enc": (1e-3, 2e-3), "mid": (5e-3, 5e-3), "output": (1e-2, 1e-3)}, seed=0),
            _run({"enc": (4e-3, 8e-3), "mid": (5e-3, 5e-3), "output": (1e-2, 1e-3)}, seed=1),
        ]
    }
    row = summarize_gradients(runs)["toy"]
    assert row.layers == ("enc", "mid", "output")
    assert (row.seeds, row.epochs) == (2, 1)
    assert row.first_last_before == pytest.approx(0.2)  # geometric mean of 0.1 and 0.4
    assert row.first_last_after == pytest.approx(4.0)  # of 2 and 8
    assert row.first_last_min == pytest.approx(0.1)
    assert row.spread_before == pytest.approx(10.0)  # worst seed: 1e-2 / 1e-3
    assert row.spread_after == pytest.approx(8.0)  # worst seed: 8e-3 / 1e-3
    assert row.spread_max == pytest.approx(10.0)
    assert (row.smallest, row.largest) == (1e-3, 1e-2)
    assert row.median_before == pytest.approx(5e-3)
    assert not row.vanishing and not row.exploding


def test_losses_are_means_over_seeds():
    runs = {
        "toy": [
            _run({"enc": (1.0, 1.0)}, loss=(0.5, 0.1), val_loss=(0.5, 0.2)),
            _run({"enc": (1.0, 1.0)}, loss=(0.5, 0.3), val_loss=(0.5, 0.4)),
        ]
    }
    row = summarize_gradients(runs)["toy"]
    assert (row.loss, row.val_loss) == (pytest.approx(0.2), pytest.approx(0.3))


def test_default_thresholds_are_adams_epsilon_and_a_thousand():
    import keras

    assert keras.optimizers.Adam().epsilon == VANISHING_NORM
    row = summarize_gradients({"toy": _run({"enc": (1.0, 1.0)})})["toy"]
    assert (row.vanishing_below, row.exploding_above) == (VANISHING_NORM, EXPLODING_NORM)


def test_a_norm_below_the_threshold_is_vanishing():
    row = summarize_gradients({"toy": _run({"enc": (1e-9, 1e-3), "output": (1e-3, 1e-3)})})["toy"]
    assert row.vanishing and not row.exploding
    assert row.spread_before == pytest.approx(1e6)


def test_a_zero_norm_is_vanishing_with_an_infinite_spread():
    row = summarize_gradients({"toy": _run({"enc": (0.0, 1e-3), "output": (1e-3, 1e-3)})})["toy"]
    assert row.vanishing
    assert row.spread_before == np.inf and row.first_last_before == 0.0


@pytest.mark.parametrize("value", [2e3, np.inf, np.nan])
def test_a_large_or_non_finite_norm_is_exploding(value):
    row = summarize_gradients({"toy": _run({"enc": (1e-3, value), "output": (1e-3, 1e-3)})})["toy"]
    assert row.exploding


def test_thresholds_are_configurable():
    runs = {"toy": _run({"enc": (1e-3, 1e-2)})}
    assert summarize_gradients(runs, vanishing_below=1e-2)["toy"].vanishing
    assert summarize_gradients(runs, exploding_above=5e-3)["toy"].exploding


def test_report_is_a_table_indexed_by_design():
    report = summarize_gradients(
        {"matched": _run({"enc": (1.0, 2.0)}), "deep": [_run({"enc": (1.0, 1.0)})]}
    )
    assert isinstance(report, GradientReport)
    assert [row.name for row in report.rows] == ["matched", "deep"]
    text = repr(report)
    assert text.splitlines()[0].split()[:5] == ["design", "seeds", "median", "norm", "before"]
    assert text.splitlines()[2].startswith("deep ")
    assert "vanishing below 1e-07, exploding above 1000" in text
    assert "<table>" in report._repr_html_() and "matched" in report._repr_html_()
    assert re.fullmatch(
        r"GradientSummary\(deep: 1 layers, 1 seeds, .*exploding no\)", repr(report["deep"])
    )
    with pytest.raises(KeyError, match=r"no design 'wide'; the designs are \['matched', 'deep'\]"):
        report["wide"]


def test_runs_must_be_a_mapping():
    with pytest.raises(
        TypeError, match=r"runs must be a mapping \{design: \[TrainResult, ...\]\}, got list"
    ):
        summarize_gradients([_run({"enc": (1.0,)})])


def test_runs_must_not_be_empty():
    with pytest.raises(ValueError, match="runs is empty"):
        summarize_gradients({})


def test_a_design_needs_at_least_one_run():
    with pytest.raises(ValueError, match=r"runs\['toy'\] holds no run"):
        summarize_gradients({"toy": []})


def test_entries_must_be_train_results():
    with pytest.raises(TypeError, match=r"runs\['toy'\] must hold TrainResult objects .* got dict"):
        summarize_gradients({"toy": [{"enc": (1.0,)}]})


def test_a_run_without_layers_is_rejected():
    with pytest.raises(ValueError, match="no gradient norms: no layer has weights"):
        summarize_gradients({"toy": _run({})})


def test_layers_of_one_run_need_the_same_number_of_records():
    with pytest.raises(ValueError, match=r"different numbers of records \[1, 2\]"):
        summarize_gradients({"toy": _run({"enc": (1.0, 1.0), "output": (1.0,)})})


def test_seeds_of_one_design_must_share_layers_and_epochs():
    runs = {"toy": [_run({"enc": (1.0, 1.0)}), _run({"dec": (1.0, 1.0)})]}
    with pytest.raises(ValueError, match="the runs of 'toy' differ in layers or epochs"):
        summarize_gradients(runs)
    runs = {"toy": [_run({"enc": (1.0, 1.0)}), _run({"enc": (1.0, 1.0, 1.0)})]}
    with pytest.raises(ValueError, match="the runs of 'toy' differ in layers or epochs"):
        summarize_gradients(runs)


@pytest.mark.parametrize(
    ("vanishing", "exploding"), [(0.0, 1.0), (1.0, 1e-3), (-1.0, 1.0), (1e-7, np.inf), ("a", 1)]
)
def test_thresholds_must_be_ordered_positive_numbers(vanishing, exploding):
    with pytest.raises(ValueError, match="thresholds must satisfy 0 < vanishing_below < exploding"):
        summarize_gradients(
            {"toy": _run({"enc": (1.0,)})}, vanishing_below=vanishing, exploding_above=exploding
        )
