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
