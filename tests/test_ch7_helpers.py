"""Helpers added for ch. 7 "Does a mismatch make training unstable?".

`train` records the gradient norm of the *mean* loss (as `fit` optimises it);
`summarize_gradients` turns per-layer norms over seeds into ratios and threshold flags; the plots
draw them against the epoch and the depth, and the loss curves side by side.
"""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np
import pytest

from cae_lessons import plots
from cae_lessons.experiments.gradients import (
    EXPLODING_NORM,
    VANISHING_NORM,
    GradientReport,
    summarize_gradients,
)
from cae_lessons.training import TrainResult, _gradient_norms


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _run(norms, seed=0, loss=(0.1, 0.05), val_loss=(0.1, 0.06)):
    """A TrainResult as train() returns it, without a model."""
    history = {"loss": tuple(loss), "val_loss": tuple(val_loss)}
    norms = {name: tuple(values) for name, values in norms.items()}
    return TrainResult("toy", history, 1, 8, seed, 1.0, 8.0, norms, True, False, None)


# --- the recorded norm -----------------------------------------------------------------------


def _tiny_model():
    import keras

    from cae_lessons.config import seed_everything

    seed_everything(0)
    return keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(2, 3, padding="same", activation="relu", name="enc"),
            keras.layers.Conv2D(1, 3, padding="same", activation="sigmoid", name="output"),
        ]
    )


def test_recorded_norm_is_that_of_the_mean_loss_fit_optimises():
    import keras
    import tensorflow as tf

    model = _tiny_model()
    batch = np.random.default_rng(0).random((4, 8, 8, 1), dtype=np.float32)
    measured = _gradient_norms(model, keras.losses.get("mse"))(batch)
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError()(batch, model(batch))  # what compile(loss="mse") uses
    kernels = [model.get_layer(name).kernel for name in ("enc", "output")]
    expected = [float(tf.norm(g)) for g in tape.gradient(loss, kernels)]
    np.testing.assert_allclose(list(measured.values()), expected, rtol=1e-5)
    assert list(measured) == ["enc", "output"]


def test_recorded_norm_does_not_grow_with_the_batch():
    """The gradient of a sum would double when every image is repeated; that of a mean does not."""
    import keras

    model = _tiny_model()
    measure = _gradient_norms(model, keras.losses.get("mse"))
    batch = np.random.default_rng(1).random((4, 8, 8, 1), dtype=np.float32)
    once, twice = measure(batch), measure(np.concatenate([batch, batch]))
    np.testing.assert_allclose(list(twice.values()), list(once.values()), rtol=1e-5)


# --- summarize_gradients --------------------------------------------------------------------


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


# --- plots ----------------------------------------------------------------------------------


def test_norms_by_epoch_one_panel_per_design_on_a_shared_log_axis():
    runs = {
        "a": _run({"enc": (1e-3, 1e-2), "output": (1e-2, 1e-2)}),
        "b": [{"enc": [1.0, 2.0]}, {"enc": [4.0, 8.0]}],
        "c": {"enc": [1.0, 1.0]},
    }
    fig = plots.gradient_norms_by_epoch(runs, title="Norms")
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["a", "b", "c"]
    assert all(ax.get_yscale() == "log" for ax in axes)
    assert axes[0].get_shared_y_axes().joined(axes[0], axes[2])
    assert [line.get_label() for line in axes[0].lines] == ["enc", "output"]
    np.testing.assert_allclose(axes[1].lines[0].get_ydata(), [2.0, 4.0])  # geometric mean
    np.testing.assert_array_equal(axes[0].lines[0].get_xdata(), [0, 1])
    assert axes[0].get_xlabel() == "epoch (0 = before training)"
    assert fig._suptitle.get_text() == "Norms"
    first, last = (line.get_color() for line in axes[0].lines)
    assert first != last  # coloured by depth


def test_norms_by_depth_before_dashed_after_solid():
    runs = {"a": [{"enc": [1e-3, 1e-2], "mid": [1.0, 1.0], "output": [1e-2, 1e-3]}]}
    ax = plots.gradient_norms_by_depth(runs, title="Depth").axes[0]
    before, after = ax.lines
    np.testing.assert_array_equal(before.get_xdata(), [0.0, 0.5, 1.0])
    np.testing.assert_allclose(before.get_ydata(), [1e-3, 1.0, 1e-2])
    np.testing.assert_allclose(after.get_ydata(), [1e-2, 1.0, 1e-3])
    assert (before.get_linestyle(), after.get_linestyle()) == ("--", "-")
    assert ax.get_yscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["a", "before training", "after training"]


@pytest.mark.parametrize(
    ("runs", "message"),
    [
        ({}, "runs must be a non-empty mapping"),
        ([{"enc": [1.0]}], "runs must be a non-empty mapping"),
        ({"a": [1, 2]}, r"runs\['a'\] must hold runs with per-layer gradient norms"),
        (
            {"a": [{"enc": [1.0]}, {"enc": [1.0, 2.0]}]},
            "the runs of 'a' differ in layers or epochs",
        ),
    ],
)
def test_gradient_plots_reject_bad_runs(runs, message):
    for plot in (plots.gradient_norms_by_epoch, plots.gradient_norms_by_depth):
        with pytest.raises(ValueError, match=message):
            plot(runs, title="t")


def test_train_val_curves_show_each_seed_and_their_mean():
    runs = {
        "a": [_run({}, loss=(0.4, 0.2), val_loss=(0.5, 0.3)), _run({}, loss=(0.2, 0.1))],
        "b": {"loss": [0.3, 0.3], "val_loss": [0.3, 0.3]},
    }
    fig = plots.train_val_curves(runs, title="Losses")
    train_ax, val_ax = fig.axes
    assert [train_ax.get_title(), val_ax.get_title()] == ["training loss", "validation loss"]
    assert len(train_ax.lines) == 2 + 1 + 1  # two seeds and their mean, one run of b
    np.testing.assert_allclose(train_ax.lines[2].get_ydata(), [0.3, 0.15])
    assert train_ax.get_yscale() == "log" and train_ax.get_shared_y_axes().joined(train_ax, val_ax)
    assert [t.get_text() for t in val_ax.get_legend().get_texts()] == ["a", "b"]


def test_train_val_curves_reject_an_empty_mapping():
    with pytest.raises(ValueError, match="runs must be a non-empty mapping"):
        plots.train_val_curves({}, title="t")
