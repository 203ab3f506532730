"""experiments/results.py: the results table of ch. 9, and its interval plot."""

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest
from _helpers import random_images as _images

from cae_lessons import plots
from cae_lessons.baselines import bicubic_baseline, pca_baseline
from cae_lessons.experiments.results import ResultsTable, results_table
from cae_lessons.scores import evaluate
from cae_lessons.stats import summarize
from cae_lessons.training import TrainResult


@pytest.fixture(autouse=True)
def _seeded():
    keras.utils.set_random_seed(0)


# --- results_table ------------------------------------------------------------------------------


def _run(gain, size=16, seconds=10.0, name="scale"):
    """A TrainResult whose model multiplies its input by ``gain`` (no training needed)."""
    model = keras.Sequential(
        [
            keras.Input((size, size, 1)),
            keras.layers.Conv2D(
                1,
                1,
                use_bias=False,
                kernel_initializer=keras.initializers.Constant(gain),
                name="bottleneck",
            ),
        ],
        name=name,
    )
    history = {"loss": (0.1,), "val_loss": (0.1,)}
    return TrainResult(name, history, 1, 8, 0, seconds, 1.0, {}, True, True, model)


def test_a_row_averages_each_image_over_its_runs():
    x = _images()
    table = results_table(x, {"scale": [_run(0.5, seconds=10), _run(0.9, seconds=30)]})
    row = table["scale"]
    per_run = [evaluate(x, gain * x) for gain in (0.5, 0.9)]
    np.testing.assert_allclose(row["MSE"].mean, np.mean([s.mse for s in per_run]), rtol=1e-5)
    np.testing.assert_allclose(row.psnr_runs, [s.psnr.mean() for s in per_run], rtol=1e-5)
    assert row.runs == 2 and row.seconds == 20 and row["PSNR"].n == len(x)
    assert row.parameters == 1 and row.compression_ratio == 1.0 and not row.baseline


def test_baselines_count_their_parameters_and_have_no_train_time():
    x_train, x_test = _images(8, seed=1), _images(4, seed=2)
    table = results_table(
        x_test, {"PCA": pca_baseline(x_train, x_test, 4), "bicubic": bicubic_baseline(x_test, 2)}
    )
    assert table["PCA"].parameters == (4 + 1) * 16 * 16  # components and mean
    assert table["bicubic"].parameters == 0 and table["bicubic"].compression_ratio == 4
    assert table["PCA"].seconds is None and table["PCA"].baseline and table["PCA"].chapter is None


def test_table_shows_time_unless_asked_not_to():
    x = _images()
    table = results_table(x, {"scale": _run(0.9)}, chapters={"scale": 9}, test_set="noise")
    assert isinstance(table, ResultsTable) and table["scale"].chapter == 9
    assert "train time" in repr(table) and "10 s" in repr(table)
    quiet = table.without_time()
    assert "train time" not in repr(quiet) and "train time" not in quiet._repr_html_()
    assert "noise, 5 held-out images" in repr(quiet) and "<table>" in quiet._repr_html_()
    assert table.points("SSIM")[0][0] == "scale" and table.points()[0][2] is False


def test_input_checkerboard_is_the_test_images_own_score():
    board = np.indices((8, 8)).sum(axis=0) % 2 * 0.5 + 0.25
    x = np.broadcast_to(board[None, :, :, None], (2, 8, 8, 1)).astype(np.float32)
    table = results_table(x, {"scale": _run(1.0, size=8)})
    assert table.input_checkerboard == pytest.approx(1.0)
    assert table["scale"]["checkerboard"].mean == pytest.approx(1.0)


def test_checkerboard_runs_keep_each_run_so_a_flat_one_does_not_stand_for_all():
    board = np.indices((8, 8)).sum(axis=0) % 2 * 0.5 + 0.25
    x = np.broadcast_to(board[None, :, :, None], (2, 8, 8, 1)).astype(np.float32)
    table = results_table(x, {"scale": [_run(1.0, size=8), _run(0.0, size=8)]})
    row = table["scale"]
    assert row.checkerboard_runs[0] == pytest.approx(1.0) and row.checkerboard_runs[1] < 1e-6
    assert row["checkerboard"].mean == pytest.approx(0.5)


def test_verdicts_compare_runs_over_seeds_and_a_baseline_as_exact():
    x = _images()
    runs = {
        "near": [_run(g) for g in (0.97, 0.98, 0.99)],
        "far": [_run(g) for g in (0.5, 0.6, 0.7)],
    }
    table = results_table(x, runs | {"bicubic": bicubic_baseline(x, 2)})
    verdicts = table.verdicts(("near", "far"), ("near", "bicubic"))
    psnr = verdicts["near", "far", "PSNR"]
    assert psnr.runs == (3, 3) and psnr.better == "near"
    assert psnr.difference == pytest.approx(
        np.mean(table["near"].psnr_runs) - np.mean(table["far"].psnr_runs)
    )
    against = verdicts["near", "bicubic", "MAE"]
    assert against.runs == (3, 0) and "bicubic exact" in against.over
    assert against.difference == pytest.approx(
        np.mean(table["near"].run_means["MAE"]) - table["bicubic"]["MAE"].mean
    )
    assert [v.metric for v in verdicts] == ["PSNR", "SSIM", "MAE"] * 2


def test_unknown_row_and_metric_say_what_exists():
    table = results_table(_images(), {"scale": _run(0.9)})
    with pytest.raises(KeyError, match=r"no row 'other'; the rows are \['scale'\]"):
        table["other"]
    with pytest.raises(KeyError, match="no metric 'PSNR dB'"):
        table["scale"]["PSNR dB"]


@pytest.mark.parametrize(
    ("entries", "error", "match"),
    [
        ([("scale", None)], TypeError, "entries must be a mapping"),
        ({}, ValueError, "entries is empty"),
        ({"bad": np.zeros(3)}, TypeError, r"entries\['bad'\] must be a TrainResult"),
        ({"none": []}, ValueError, r"entries\['none'\] holds no run"),
    ],
)
def test_results_table_rejects_bad_entries(entries, error, match):
    with pytest.raises(error, match=match):
        results_table(_images(), entries)


def test_results_table_rejects_a_row_of_different_models():
    runs = [_run(0.5, name="a"), _run(0.9, name="b")]
    with pytest.raises(ValueError, match=r"mixes models \['a', 'b'\]"):
        results_table(_images(), {"mixed": runs})


def test_results_table_rejects_a_baseline_of_other_images():
    with pytest.raises(ValueError, match="x_true and x_pred must have the same shape"):
        results_table(_images(size=16), {"bicubic": bicubic_baseline(_images(size=8), 2)})


# --- interval_plot --------------------------------------------------------------------------------


def test_interval_plot_draws_a_panel_per_test_set_and_skips_infinite_intervals():
    panels = {
        "a": [("CAE", summarize([28, 29, 30], "PSNR"), False)],
        "b": [
            ("one image", summarize([20.0], "PSNR"), False),
            ("bicubic", summarize([1, 2], "x"), True),
        ],
    }
    fig = plots.interval_plot(panels, title="t", xlabel="PSNR (dB)")
    first, second = fig.axes[:2]
    assert [first.get_title(), second.get_title()] == ["a", "b"]
    assert len(first.lines) == 2  # the dot and its interval
    assert len(second.lines) == 3  # no interval for one image; the baseline has one
    assert second.lines[-1].get_marker() == "s" or second.lines[-2].get_marker() == "s"
    plt.close(fig)


@pytest.mark.parametrize("panels", [{}, {"empty": []}])
def test_interval_plot_rejects_empty_input(panels):
    with pytest.raises(ValueError, match="at least one panel and a row in every panel"):
        plots.interval_plot(panels, title="t", xlabel="x")


def test_the_rich_table_shows_the_verdict_columns_first_and_the_rest_behind_a_toggle():
    from cae_lessons.experiments.results import VERDICT_COLUMNS

    x = _images()
    table = results_table(x, {"copy": [_run(1.0, name="copy")], "dim": [_run(0.5, name="dim")]})
    page = table._repr_html_()
    main, details = page.split("<details>")
    assert [h for h in VERDICT_COLUMNS if f">{h}</th>" in main] == list(VERDICT_COLUMNS)
    assert ">MSE</th>" not in main and ">MSE</th>" in details
    assert "<br>[" in main  # intervals on their own line: the table fits a narrow column


# --- train_book_results and results_tables --------------------------------------------------------


@pytest.mark.slow
def test_book_results_train_every_model_once_and_fill_both_tables(tmp_path, monkeypatch):
    from cae_lessons.config import Profile
    from cae_lessons.experiments.decoders import DECODERS
    from cae_lessons.experiments.registry import AXIAL_64, AXIAL_128, book_models
    from cae_lessons.experiments.results import results_tables, train_book_results

    monkeypatch.setenv("CAE_LESSONS_CACHE", str(tmp_path))
    monkeypatch.setenv("CAE_LESSONS_PROGRESS", "0")
    rng = np.random.default_rng(0)
    data = {
        AXIAL_128: tuple(rng.random((n, 128, 128, 1), dtype=np.float32) for n in (8, 4, 4)),
        # PCA at ratio 64 keeps 64 components: more training slices than that
        AXIAL_64: tuple(rng.random((n, 64, 64, 1), dtype=np.float32) for n in (72, 4, 4)),
    }
    profile = Profile("quick", 1, None, 1)
    book = train_book_results(data, profile)
    registered = [m.label for m in book_models().values()]
    assert list(book.runs) == registered + list(DECODERS)
    assert all(len(runs) == 1 for runs in book.runs.values())
    assert book.chapters["example 1, shape-only fix"] == 3 and book.chapters["transposed conv"] == 5
    assert repr(book).startswith(
        f"BookRuns({len(registered) + 3} models, {len(registered) + 3} runs)"
    )

    again = train_book_results(data, profile)  # the chapters' runs, from the cache
    assert all(runs[0].cache_hit for runs in again.runs.values())
    assert {label: runs[0].history for label, runs in again.runs.items()} == {
        label: runs[0].history for label, runs in book.runs.items()
    }

    table_128, table_64 = results_tables(data, book)
    labels_128 = [row.label for row in table_128.rows]
    labels_64 = [row.label for row in table_64.rows]
    assert labels_128 == [m.label for m in book_models(AXIAL_128).values()] + [
        "bicubic, ratio 4",
        "bicubic, ratio 16",
    ]
    assert labels_64 == [m.label for m in book_models(AXIAL_64).values()] + list(DECODERS) + [
        "bicubic, ratio 4",
        "bicubic, ratio 16",
        "bicubic, ratio 64",
        "PCA, ratio 64",
    ]
    assert table_64["PCA, ratio 64"].compression_ratio == 64
