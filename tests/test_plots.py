"""cae_lessons.plots: figures carry titles, labels, shared colour scales and safe colour maps."""

import re
from types import SimpleNamespace

import numpy as np
import pytest

from cae_lessons import plots


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
