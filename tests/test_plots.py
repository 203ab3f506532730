"""cae_lessons.plots: figures carry titles, labels, shared colour scales and safe colour maps."""

import re
from types import SimpleNamespace

import matplotlib.colors
import matplotlib.pyplot as plt
import numpy as np
import pytest
from _helpers import train_result as _run

from cae_lessons import plots, stats
from cae_lessons.metrics import power_spectrum_2d
from cae_lessons.plots import heat_maps, spectrum_images


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _images(n=3, h=12, w=10):
    return np.random.default_rng(0).random((n, h, w, 1), dtype=np.float32)


def test_image_grid_shares_one_colour_scale_and_names_sizes():
    fig = plots.image_grid([np.zeros((12, 10)), np.ones((6, 9, 1))], title="Native sizes")
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert [im.get_clim() for im in images] == [(0.0, 1.0), (0.0, 1.0)]
    assert [ax.get_title() for ax in fig.axes[:2]] == ["12×10 px", "6×9 px"]
    assert fig._suptitle.get_text() == "Native sizes"
    assert fig.axes[-1].get_ylabel() == "intensity (normalised)"


def test_image_grid_automatic_range_and_wrapping():
    x = _images(5) * 3
    fig = plots.image_grid(x, title="t", vmin=None, vmax=None, ncols=2)
    clim = fig.axes[0].images[0].get_clim()
    assert clim == (float(x.min()), float(x.max()))
    assert sum(ax.get_visible() for ax in fig.axes[:-1]) == 5


@pytest.mark.parametrize(
    ("images", "titles", "message"),
    [
        (np.zeros((4, 4)), None, re.escape("got shape (4, 4); add a batch axis")),
        ([np.zeros((4, 4, 3))], None, re.escape("image 0 must be (H, W) or (H, W, 1), got shape")),
        ([], None, "no images to show"),
        (np.zeros((2, 4, 4)), ["only one"], "got 1 titles for 2 images"),
    ],
)
def test_image_grid_rejects_bad_input(images, titles, message):
    with pytest.raises(ValueError, match=message):
        plots.image_grid(images, titles, title="bad")


def test_error_maps_use_one_error_scale_across_models():
    x = _images(2)
    fig = plots.error_maps(x, {"a": x + 0.1, "b": x * 0}, index=1, title="Errors")
    error_images = [ax.images[0] for ax in fig.axes if ax.get_title().endswith("|error|")]
    assert len(error_images) == 2
    top = float(np.abs(x[1]).max())
    assert all(im.get_clim() == pytest.approx((0.0, top)) for im in error_images)
    assert error_images[0].get_cmap().name == plots.ERROR_CMAP


def test_error_maps_refuse_a_reconstruction_of_another_size():
    x = _images(1)
    with pytest.raises(ValueError, match=re.escape("has shape (1, 10, 8, 1) but the inputs have")):
        plots.error_maps(x, {"valid": x[:, 1:-1, 1:-1]}, title="t")


def test_border_error_plot_accepts_profiles_and_pairs():
    profile = SimpleNamespace(distance=np.arange(4), error=np.array([4.0, 2, 1, 1]))
    fig = plots.border_error_plot({"a": profile, "b": (np.arange(3), [1, 1, 1])}, title="Border")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "distance from the nearest edge (px)"
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [4, 2, 1, 1])
    assert [line.get_color() for line in ax.lines] == list(plots.LINE_COLOURS[:2])


def test_training_curves_read_histories_per_epoch():
    result = SimpleNamespace(history={"val_loss": [0.4, 0.2, 0.1]})
    fig = plots.training_curves({"run": result}, title="Loss")
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [1, 2, 3])
    assert ax.get_yscale() == "log"
    assert ax.get_ylabel() == "val loss"


def test_spectra_plot_is_log_scaled():
    fig = plots.spectra_plot({"x": (np.linspace(0, 1, 5), np.ones(5))}, title="Spectra")
    assert fig.axes[0].get_yscale() == "log"
    assert "Nyquist" in fig.axes[0].get_xlabel()


def test_line_plot_needs_series():
    with pytest.raises(ValueError, match="nothing to plot"):
        plots.line_plot({}, title="t", xlabel="x", ylabel="y")


def test_receptive_field_overlay_draws_the_box_and_unseen_pixels():
    unseen = np.zeros((10, 10), bool)
    unseen[0] = True
    fig = plots.receptive_field_overlay(np.zeros((10, 10)), (2, 3, 7, 8), title="RF", unseen=unseen)
    ax = fig.axes[0]
    (box,) = ax.patches
    assert (box.get_x(), box.get_y(), box.get_width(), box.get_height()) == (2.5, 1.5, 5, 5)
    assert len(ax.images) == 2


def test_receptive_field_overlay_rejects_a_box_outside_the_image():
    with pytest.raises(ValueError, match=re.escape("box (0, 0, 11, 5) does not fit")):
        plots.receptive_field_overlay(np.zeros((10, 10)), (0, 0, 11, 5), title="RF")


def _legibility_cases():
    from cae_lessons import diagrams
    from cae_lessons.shapes import LayerSpec

    rng = np.random.default_rng(0)
    x = rng.random((4, 32, 32, 1), dtype=np.float32)
    grid = rng.random((4, 4))
    specs = [LayerSpec("conv", f"conv_{i}", kernel_size=3) for i in range(9)]
    return {
        "image_grid, 7 images": lambda: plots.image_grid(list(x[:4]) + list(x[:3]), title="t"),
        "error_maps, 4 models": lambda: plots.error_maps(
            x, {f"model {i}": x for i in range(4)}, title="t"
        ),
        "heat_maps, 3 panels": lambda: plots.heat_maps(
            {"a": grid, "b": grid, "c": grid}, x_values=[3, 5, 7, 9], y_values=[1, 2, 3, 4],
            xlabel="kernel size", ylabel="stride", title="t",
        ),
        "shape_flow, 10 layers": lambda: plots.shape_flow(specs, (64, 64, 1)),
        "reconstruction_panel, 3 models": lambda: plots.reconstruction_panel(
            x[0], {f"m{i}": x[1] for i in range(3)}, patch=(8, 8, 16), error_vmax=1, title="t"
        ),
        "spectrum_images, 4": lambda: plots.spectrum_images(
            {f"s{i}": grid for i in range(4)}, title="t"
        ),
        "window_diagram": lambda: diagrams.window_diagram(
            [diagrams.windows(8, 3), diagrams.windows(8, 3, 3)], titles=["a", "b"]
        ),
        "transposed_conv_diagram": lambda: diagrams.transposed_conv_diagram(
            diagrams.transposed_conv_1d([1, 2, 3], [1, 2, 1]), title="t"
        ),
        "overlap_diagram": lambda: diagrams.overlap_diagram([3, 4], n=8),
    }  # fmt: skip


@pytest.mark.parametrize("case", list(_legibility_cases()))
def test_every_figure_reads_at_the_books_column_width(case):
    fig = _legibility_cases()[case]()
    assert plots.smallest_text_px(fig) >= 9


def test_a_wide_figure_is_flagged_illegible():
    import matplotlib.pyplot as plt

    fig, _ = plt.subplots(1, 8, figsize=(20, 2.5))
    assert plots.smallest_text_px(fig) < 9


# --- ratio_sweep_plot (ch. 4) ---------------------------------------------------------------------


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


# --- spectrum_images (ch. 5) ----------------------------------------------------------------------


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


# --- gradient norms and loss curves (ch. 7) -------------------------------------------------------


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


# --- heat_maps (ch. 8) ----------------------------------------------------------------------------


def test_heat_maps_annotate_every_cell_readably():
    grid = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, np.nan]])
    fig = heat_maps(
        {"a": grid, "b": grid * 10},
        x_values=[3, 5],
        y_values=[1, 2, 3],
        xlabel="kernel size",
        ylabel="stride",
        title="grid",
        fmt={"a": ".1f"},
    )
    first = fig.axes[0]
    assert [t.get_text() for t in first.texts] == ["1.0", "2.0", "3.0", "4.0", "5.0", "–"]
    # white on the darkest (lowest) cell, black on the lightest (highest) of cividis
    assert (first.texts[0].get_color(), first.texts[4].get_color()) == ("white", "black")
    assert [t.get_text() for t in fig.axes[1].texts][:2] == ["10", "20"]  # default '.3g'
    assert first.get_xlabel() == "kernel size" and first.get_ylabel() == "stride"
    assert [t.get_text() for t in first.get_yticklabels()] == ["1", "2", "3"]
    assert first.images[0].get_cmap().name == "cividis"
    assert fig._suptitle.get_text() == "grid"
    assert fig.axes[2].get_ylabel() == "a"  # the colour bar names its panel


def test_heat_maps_format_integers_and_use_a_log_scale_on_request():
    fig = heat_maps(
        {"n": np.array([[10.0, 1000.0]])},
        x_values=["a", "b"],
        y_values=["r"],
        xlabel="x",
        ylabel="y",
        title="t",
        fmt="d",
        log=["n"],
    )
    assert [t.get_text() for t in fig.axes[0].texts] == ["10", "1000"]
    assert fig.axes[0].images[0].norm(100.0) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("panels", "log", "message"),
    [
        ({}, (), "at least one panel"),
        ({"a": np.zeros((2, 3))}, (), r"shape \(2, 3\) but the labels need \(2, 2\)"),
        ({"a": np.ones((2, 2))}, ("b",), "log names panel 'b'"),
        ({"a": np.zeros((2, 2))}, ("a",), "values <= 0"),
    ],
)
def test_heat_maps_refuse_bad_panels(panels, log, message):
    with pytest.raises(ValueError, match=message):
        heat_maps(
            panels, x_values=[1, 2], y_values=[1, 2], xlabel="x", ylabel="y", title="t", log=log
        )


def test_image_grid_outlines_draw_one_orange_edge_per_image():
    inside = np.pad(np.ones((8, 6), bool), 2)  # the shape of _images: 12×10
    fig = plots.image_grid(_images(2), title="Padded", outlines=[inside, inside])
    for ax in fig.axes[:2]:
        (edge,) = ax.collections
        assert matplotlib.colors.to_hex(edge.get_edgecolor()[0]) == plots.MISMATCH_COLOUR.lower()


def test_image_grid_rejects_outlines_of_another_shape():
    with pytest.raises(ValueError, match=re.escape("got [(3, 3)] for images of [(12, 10)]")):
        plots.image_grid(_images(1), title="bad", outlines=[np.ones((3, 3), bool)])
