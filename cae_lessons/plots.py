"""Matplotlib figures that every chapter reuses.

Image grids with one colour scale and a colour bar, error maps, border-error profiles, training
curves, radial spectra and receptive-field overlays. Every figure has a title, labelled axes with
units and uses colour-blind-safe colour maps (``gray`` for MRI, ``magma`` for errors, the
Okabe-Ito palette for lines). Each function returns the :class:`matplotlib.figure.Figure`, so a
chapter can display it and a test can inspect it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import ListedColormap, to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Polygon, Rectangle

COLUMN_PX = 700
"""The rendered book's text column at 1280 px: a wider figure is scaled down to it."""
INLINE_DPI = 100
"""Matplotlib's default dpi, which Jupyter's inline backend saves a chapter's figures at."""
MAX_WIDTH_IN = 9.5
"""Widest figure, in inches: 950 px at ``INLINE_DPI``, so 9-point text stays above 9 px once the
page scales it to ``COLUMN_PX`` (:func:`smallest_text_px`; ``tests/test_book.py`` checks every
stored figure's width)."""
MIN_FONT_PT = 9
"""Smallest font size any figure of the package uses."""
ERROR_CMAP = "magma"
IMAGE_CMAP = "gray"
# Okabe & Ito (2008), colour-blind-safe qualitative palette.
LINE_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


def _as_images(images) -> list[np.ndarray]:
    """Accept (N, H, W, C) / (N, H, W) arrays or a sequence of (H, W[, 1]) arrays."""
    if isinstance(images, np.ndarray):
        if images.ndim not in (3, 4):
            raise ValueError(
                f"images must be (N, H, W, C) or (N, H, W), got shape {images.shape}; "
                "add a batch axis with x[None] for a single image."
            )
        images = list(images)
    out = []
    for i, image in enumerate(images):
        image = np.asarray(image)
        if image.ndim == 3 and image.shape[-1] == 1:
            image = image[..., 0]
        if image.ndim != 2:
            raise ValueError(
                f"image {i} must be (H, W) or (H, W, 1), got shape {image.shape}; "
                "show one channel at a time."
            )
        out.append(image)
    if not out:
        raise ValueError("no images to show: received an empty sequence.")
    return out


def smallest_text_px(fig: Figure, *, column_px: int = COLUMN_PX, dpi: int = INLINE_DPI) -> float:
    """Height in page pixels of the figure's smallest visible text, once shown in the book.

    The figure is saved at ``dpi`` with a tight bounding box (as Jupyter's inline backend does);
    if it is wider than ``column_px`` the page scales it down, text included.

    Examples
    --------
    >>> fig = plt.figure(figsize=(14, 2))
    >>> _ = fig.text(0.1, 0.5, "wide", fontsize=10), fig.text(0.9, 0.5, "figure", fontsize=10)
    >>> round(smallest_text_px(fig), 1)  # 10 pt is 13.9 px, but 1,160 px are shown at 700
    8.4
    """
    from matplotlib.text import Text

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    width = fig.get_tightbbox(renderer).width * dpi  # inches -> px at the saving dpi
    sizes = [
        t.get_fontsize()
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip() and t.get_figure() is not None
    ]
    return float(min(sizes) * dpi / 72 * min(1.0, column_px / width))


def _grid(n: int, ncols: int | None, size: float) -> tuple[Figure, np.ndarray]:
    fits = max(1, int((MAX_WIDTH_IN - 1.0) // size))  # columns that keep the text legible
    ncols = min(n, ncols or n, fits)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols + 1.0, size * nrows + 0.6), squeeze=False
    )
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes


def image_grid(
    images,
    titles: Sequence[str] | None = None,
    *,
    title: str,
    vmin: float | None = 0.0,
    vmax: float | None = 1.0,
    cmap: str = IMAGE_CMAP,
    colorbar_label: str = "intensity (normalised)",
    ncols: int | None = None,
    size: float = 2.6,
) -> Figure:
    """Show images side by side with one colour scale and one colour bar.

    Used by ch. 2 (the data gallery) and every chapter that shows reconstructions.

    Parameters
    ----------
    images : (N, H, W, C) float32 or sequence of (H, W) arrays
        The images; they may differ in size (native MRI resolutions).
    titles : sequence of str, optional
        One per image; the default shows each image's height × width.
    title : str
        The figure's title.
    vmin, vmax : float or None
        The shared colour scale; ``None`` uses the range over all images.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = image_grid(np.zeros((2, 8, 6, 1), np.float32), title="Two blank slices")
    >>> [ax.get_title() for ax in fig.axes[:2]]
    ['8×6 px', '8×6 px']
    """
    arrays = _as_images(images)
    if titles is not None and len(titles) != len(arrays):
        raise ValueError(f"got {len(titles)} titles for {len(arrays)} images; give one per image.")
    low = min(float(a.min()) for a in arrays) if vmin is None else vmin
    high = max(float(a.max()) for a in arrays) if vmax is None else vmax
    fig, axes = _grid(len(arrays), ncols, size)
    for i, (ax, image) in enumerate(zip(axes.flat, arrays, strict=False)):
        shown = ax.imshow(image, cmap=cmap, vmin=low, vmax=high, interpolation="nearest")
        ax.set_title(titles[i] if titles is not None else f"{image.shape[0]}×{image.shape[1]} px")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(shown, ax=axes.ravel().tolist(), shrink=0.8, label=colorbar_label)
    fig.suptitle(title)
    return fig


def error_maps(
    x_true: np.ndarray,
    reconstructions: Mapping[str, np.ndarray],
    *,
    index: int = 0,
    title: str,
    vmax: float | None = None,
) -> Figure:
    """Input, each reconstruction and its absolute error map, one colour scale per row.

    Used by ch. 3-5 to show where a design loses information (borders, fine detail).

    Parameters
    ----------
    x_true : (N, H, W, C) float32
        The inputs.
    reconstructions : mapping of str to (N, H, W, C) float32
        Model or baseline name → its outputs, each the shape of ``x_true``.
    index : int
        Which image to show.
    vmax : float, optional
        Top of the error colour scale (default: the largest error shown).

    Examples
    --------
    >>> x = np.zeros((1, 8, 8, 1), np.float32)
    >>> fig = error_maps(x, {"copy": x + 0.1}, title="A constant error")
    >>> [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.get_title()]
    ['input', 'copy', 'copy: |error|']
    """
    for name, x_pred in reconstructions.items():
        if x_pred.shape != x_true.shape:
            raise ValueError(
                f"{name!r} has shape {x_pred.shape} but the inputs have {x_true.shape}; "
                "crop or pad the reconstruction to the input's size first."
            )
    errors = {n: np.abs(p[index] - x_true[index])[..., 0] for n, p in reconstructions.items()}
    top = vmax if vmax is not None else max(float(e.max()) for e in errors.values()) or 1.0
    n = len(reconstructions)
    size = min(2.6, (MAX_WIDTH_IN - 1.0) / (n + 1))
    fig, axes = plt.subplots(
        2, n + 1, figsize=(size * (n + 1) + 1.0, 2 * size + 0.6), squeeze=False
    )
    axes[0, 0].imshow(x_true[index, ..., 0], cmap=IMAGE_CMAP, vmin=0, vmax=1)
    axes[0, 0].set_title("input")
    axes[1, 0].set_visible(False)
    for col, (name, x_pred) in enumerate(reconstructions.items(), start=1):
        image = axes[0, col].imshow(x_pred[index, ..., 0], cmap=IMAGE_CMAP, vmin=0, vmax=1)
        axes[0, col].set_title(name)
        error = axes[1, col].imshow(errors[name], cmap=ERROR_CMAP, vmin=0, vmax=top)
        axes[1, col].set_title(f"{name}: |error|")
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8, label="intensity (normalised)")
    fig.colorbar(error, ax=axes[1].tolist(), shrink=0.8, label="absolute error")
    fig.suptitle(title)
    return fig


def line_plot(
    series: Mapping[str, tuple[np.ndarray, np.ndarray]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    logy: bool = False,
) -> Figure:
    """Several named (x, y) curves on one set of axes, in colour-blind-safe colours.

    The building block of :func:`border_error_plot`, :func:`training_curves` and
    :func:`spectra_plot`.

    Examples
    --------
    >>> fig = line_plot({"a": ([0, 1], [1, 2])}, title="t", xlabel="x (px)", ylabel="y")
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_legend().get_texts()[0].get_text()
    ('x (px)', 'a')
    """
    if not series:
        raise ValueError("nothing to plot: received no series.")
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for i, (name, (x, y)) in enumerate(series.items()):
        ax.plot(x, y, label=name, color=LINE_COLOURS[i % len(LINE_COLOURS)], lw=1.8)
    if logy:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def border_error_plot(profiles: Mapping[str, object], *, title: str) -> Figure:
    """Error against distance from the image edge, one curve per model (ch. 3, ch. 4).

    ``profiles`` maps a name to an object with ``distance`` and ``error`` arrays (such as the
    result of ``cae_lessons.metrics.border_error_profile``) or to a ``(distance, error)`` pair.
    """
    series = {
        name: (p.distance, p.error) if hasattr(p, "distance") else tuple(p)
        for name, p in profiles.items()
    }
    return line_plot(
        series,
        title=title,
        xlabel="distance from the nearest edge (px)",
        ylabel="mean squared error",
    )


def training_curves(results: Mapping[str, object], *, title: str, key: str = "val_loss") -> Figure:
    """Validation (or training) loss per epoch for several runs (``TrainResult`` or a history)."""
    series = {}
    for name, result in results.items():
        history = getattr(result, "history", result)
        values = np.asarray(history[key])
        series[name] = (np.arange(1, len(values) + 1), values)
    return line_plot(series, title=title, xlabel="epoch", ylabel=key.replace("_", " "), logy=True)


def spectra_plot(spectra: Mapping[str, tuple[np.ndarray, np.ndarray]], *, title: str) -> Figure:
    """Radial power spectra (frequency, power) on a log scale (ch. 4 detail loss, ch. 5)."""
    return line_plot(
        spectra,
        title=title,
        xlabel="radial frequency (fraction of Nyquist)",
        ylabel="power",
        logy=True,
    )


def spectrum_images(spectra: Mapping[str, np.ndarray], *, title: str) -> Figure:
    """2-D power spectra side by side on one log colour scale, axes in fractions of Nyquist (ch. 5).

    Parameters
    ----------
    spectra : mapping of str to (H, W) array
        Name → power with zero frequency in the centre, e.g. from
        :func:`cae_lessons.metrics.power_spectrum_2d`; all the same shape, power > 0.
    title : str
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = spectrum_images({"flat": np.ones((8, 8))}, title="One spectrum")
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_title()
    ('horizontal (× Nyquist)', 'flat')
    """
    if not spectra:
        raise ValueError("nothing to plot: received no spectra.")
    shapes = {np.shape(power) for power in spectra.values()}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise ValueError(f"spectra must all be (H, W) arrays of one shape, got shapes {shapes}.")
    logs = {name: np.log10(np.maximum(np.asarray(p, float), 1e-300)) for name, p in spectra.items()}
    low = min(float(v.min()) for v in logs.values())
    high = max(float(v.max()) for v in logs.values())
    height, width = next(iter(shapes))
    # fftshift puts frequency -1 at index 0 and (n // 2 - 1) / (n // 2) at the last index.
    extent = (-1 - 1 / width, 1 - 1 / width, 1 - 1 / height, -1 - 1 / height)
    fig, axes = _grid(len(logs), None, 2.8)
    for i, (ax, (name, values)) in enumerate(zip(axes.flat, logs.items(), strict=False)):
        shown = ax.imshow(values, cmap=ERROR_CMAP, vmin=low, vmax=high, extent=extent)
        # where a stride-2 checkerboard puts its power: Nyquist along rows, columns or both
        ax.scatter([0, -1, -1], [-1, 0, -1], s=70, facecolors="none", edgecolors="#56B4E9",
                   lw=1.5, clip_on=False, label="stride-2 frequencies")  # fmt: skip
        ax.set_title(name)
        ax.set_xlabel("horizontal (× Nyquist)")
        if i % axes.shape[1] == 0:
            ax.set_ylabel("vertical frequency (× Nyquist)")
        else:
            ax.tick_params(labelleft=False)
    fig.colorbar(shown, ax=axes.ravel().tolist(), shrink=0.8, label="log10 power")
    axes.flat[0].legend(loc="upper right", fontsize=MIN_FONT_PT, framealpha=0.8)
    fig.suptitle(title)
    return fig


def receptive_field_overlay(
    image: np.ndarray,
    box: tuple[int, int, int, int],
    *,
    title: str,
    unseen: np.ndarray | None = None,
) -> Figure:
    """An image with one output unit's receptive field drawn as a box (ch. 1).

    Parameters
    ----------
    image : (H, W) or (H, W, 1) float32
    box : (top, left, bottom, right)
        Rows ``top:bottom`` and columns ``left:right`` (end-exclusive), clipped to the image.
    unseen : (H, W) bool, optional
        Pixels no output unit ever sees, shaded.

    Examples
    --------
    >>> fig = receptive_field_overlay(np.zeros((8, 8)), (1, 2, 4, 6), title="RF")
    >>> fig.axes[0].patches[0].get_width(), fig.axes[0].patches[0].get_height()
    (4, 3)
    """
    (array,) = _as_images([image])
    top, left, bottom, right = box
    if not (0 <= top < bottom <= array.shape[0] and 0 <= left < right <= array.shape[1]):
        raise ValueError(
            f"box {box} does not fit an image of shape {array.shape}; expected "
            "(top, left, bottom, right) with 0 <= top < bottom <= H and 0 <= left < right <= W."
        )
    fig, ax = plt.subplots(figsize=(4.2, 4.2))
    ax.imshow(array, cmap=IMAGE_CMAP, vmin=0, vmax=1, interpolation="nearest")
    if unseen is not None:
        # one solid orange, visible on the black background too
        ax.imshow(np.ma.masked_where(~unseen, unseen), cmap=ListedColormap([LINE_COLOURS[1]]),
                  alpha=0.85, vmin=0, vmax=1)  # fmt: skip
    ax.add_patch(
        Rectangle(
            (left - 0.5, top - 0.5),
            right - left,
            bottom - top,
            fill=False,
            edgecolor=LINE_COLOURS[4],
            lw=2,
        )
    )
    ax.set_title(title)
    ax.set_xlabel("column (px)")
    ax.set_ylabel("row (px)")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- explorers' figures

# Images up to this many pixels on a side get a pixel grid in the receptive-field figure.
GRID_LIMIT = 64
MISMATCH_COLOUR = LINE_COLOURS[1]  # Okabe-Ito vermillion: the orange of the book's mismatches
LAYER_COLOUR = LINE_COLOURS[0]


def _set_image(shown, array: np.ndarray) -> None:
    """Put a new (H, W) array, of any size, into an existing image and fit its axes to it."""
    height, width = array.shape
    shown.set_data(array)
    shown.set_extent((-0.5, width - 0.5, height - 0.5, -0.5))
    shown.axes.set_xlim(-0.5, width - 0.5)
    shown.axes.set_ylim(height - 0.5, -0.5)


def update_receptive_field_overlay(
    fig: Figure,
    image: np.ndarray,
    box: tuple[int, int, int, int] | None,
    *,
    title: str,
    unseen: np.ndarray,
) -> Figure:
    """Redraw, in place, a figure made by :func:`receptive_field_overlay` (ch. 1 explorer).

    Much faster than a new figure, so the receptive-field explorer can follow a slider. The image
    may change size; images up to ``GRID_LIMIT`` px on a side get a pixel grid.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Made by ``receptive_field_overlay(..., unseen=...)`` (with an ``unseen`` mask).
    image : (H, W) or (H, W, 1) float32
    box : (top, left, bottom, right) or None
        End-exclusive, as in :func:`receptive_field_overlay`; ``None`` hides the box (a unit that
        no input pixel reaches).
    title : str
    unseen : (H, W) bool
        Pixels no output unit ever sees, shaded.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig`` itself.

    Examples
    --------
    >>> fig = receptive_field_overlay(np.zeros((8, 8)), (0, 0, 3, 3), title="RF",
    ...                               unseen=np.zeros((8, 8), bool))
    >>> fig = update_receptive_field_overlay(fig, np.zeros((5, 6)), (1, 2, 4, 5), title="moved",
    ...                                      unseen=np.zeros((5, 6), bool))
    >>> box = fig.axes[0].patches[0]
    >>> box.get_xy(), box.get_width(), box.get_height(), fig.axes[0].get_xlim() == (-0.5, 5.5)
    ((1.5, 0.5), 3, 3, True)
    """
    (array,) = _as_images([image])
    ax = fig.axes[0]
    if len(ax.images) != 2 or len(ax.patches) != 1:
        raise ValueError(
            "fig must come from receptive_field_overlay(..., unseen=mask): expected one image, "
            f"one unseen overlay and one box, got {len(ax.images)} images and {len(ax.patches)} "
            "patches."
        )
    if unseen.shape != array.shape:
        raise ValueError(
            f"unseen has shape {unseen.shape} but the image {array.shape}; give one flag per pixel."
        )
    height, width = array.shape
    _set_image(ax.images[0], array)
    _set_image(ax.images[1], np.ma.masked_where(~unseen, unseen))
    rectangle = ax.patches[0]
    rectangle.set_visible(box is not None)
    if box is not None:
        top, left, bottom, right = box
        rectangle.set_bounds(left - 0.5, top - 0.5, right - left, bottom - top)
    for old in [c for c in ax.collections if c.get_gid() == "pixel-grid"]:
        old.remove()
    if max(height, width) <= GRID_LIMIT:
        rows = [[(-0.5, y), (width - 0.5, y)] for y in np.arange(-0.5, height)]
        cols = [[(x, -0.5), (x, height - 0.5)] for x in np.arange(-0.5, width)]
        grid = LineCollection(rows + cols, colors="white", alpha=0.25, lw=0.4, gid="pixel-grid")
        ax.add_collection(grid, autolim=False)
    ax.set_title(title)
    return fig


def _box_faces(x: float, height: float, width: float, depth: float):
    """Front rectangle and the top and side faces of a box drawn in oblique projection."""
    dx, dy = depth * 0.7, depth * 0.5
    front = Rectangle((x, -height / 2), width, height)
    top = Polygon(
        [(x, height / 2), (x + dx, height / 2 + dy), (x + width + dx, height / 2 + dy),
         (x + width, height / 2)]
    )  # fmt: skip
    side = Polygon(
        [(x + width, -height / 2), (x + width + dx, -height / 2 + dy),
         (x + width + dx, height / 2 + dy), (x + width, height / 2)]
    )  # fmt: skip
    return front, top, side


def shape_flow(model_or_trace, input_shape=None, *, title: str | None = None) -> Figure:
    """The autoencoder as a row of boxes scaled to each layer's H×W×C, mismatches in orange (ch. 1).

    Each box is one layer's output (the first is the input): its height is proportional to H,
    its depth to W and its width to log2(C); the size is written on it. Layers that lose pixels
    (a valid convolution's trim, a floored pooling, an upsampling that does not undo its pooling)
    are orange, and so is the output box when the output shape is not the input's. Used by ch. 1
    "Shape arithmetic in one page".

    Parameters
    ----------
    model_or_trace : ShapeTrace, keras.Model or sequence of LayerSpec / dict
        Anything :func:`cae_lessons.shapes.trace` accepts, or its result.
    input_shape : tuple of int, optional
        ``(H, W)`` or ``(H, W, C)`` for ``trace``; not allowed with a ShapeTrace.
    title : str, optional
        Default: ``'input H×W×C → output H×W×C'`` and whether they match.

    Returns
    -------
    matplotlib.figure.Figure
        One axes; the boxes' front faces are its :class:`~matplotlib.patches.Rectangle` patches,
        in layer order, labelled with the layer names.

    Examples
    --------
    >>> from cae_lessons.shapes import LayerSpec
    >>> fig = shape_flow([LayerSpec("max_pool", "pool", 2), LayerSpec("upsample", "up", size=2)],
    ...                  (129, 129, 1))
    >>> fronts = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    >>> [(p.get_label(), p.get_edgecolor() == to_rgba(MISMATCH_COLOUR)) for p in fronts]
    [('input', False), ('pool', True), ('up', True)]
    >>> fig.axes[0].get_title()
    'input 129×129×1 → output 128×128×1: MISMATCH'
    """
    from cae_lessons.shapes import ShapeTrace, trace

    if isinstance(model_or_trace, ShapeTrace):
        if input_shape is not None:
            raise ValueError(
                "input_shape was given with a ShapeTrace, which already has one; pass the model "
                "or the layer list instead to trace it at another size."
            )
        result = model_or_trace
    else:
        result = trace(model_or_trace, input_shape)
    shapes = [result.input_shape, *(row.output_shape for row in result.rows)]
    names = ["input", *(row.name for row in result.rows)]
    flagged = [False, *(row.loses for row in result.rows)]
    flagged[-1] = flagged[-1] or not result.matches_input
    tallest = max(s[0] for s in shapes)
    widest = max(s[1] for s in shapes)
    deepest = max(np.log2(s[2]) + 1 for s in shapes)
    fig, ax = plt.subplots(figsize=(min(MAX_WIDTH_IN, max(6.0, 1.1 * len(shapes))), 3.6))
    x = 0.0
    for shape, name, bad in zip(shapes, names, flagged, strict=True):
        height = 0.15 + 0.85 * shape[0] / tallest
        width = 0.2 + 0.4 * (np.log2(shape[2]) + 1) / deepest
        depth = 0.1 + 0.3 * shape[1] / widest
        colour = MISMATCH_COLOUR if bad else LAYER_COLOUR
        faces = _box_faces(x, height, width, depth)
        for alpha, face in zip((0.25, 0.4, 0.15), faces, strict=True):
            face.set(facecolor=to_rgba(colour, alpha), edgecolor=colour, lw=1.5 if bad else 1.0)
            ax.add_patch(face)
        faces[0].set_label(name)
        ax.text(x + width / 2, 0, "×".join(map(str, shape)), rotation=90, ha="center",
                va="center", fontsize=MIN_FONT_PT)  # fmt: skip
        ax.text(x + width / 2, -0.62, name, rotation=30, ha="right", va="top", fontsize=MIN_FONT_PT,
                color=colour)  # fmt: skip
        x += width + 0.7 * depth + 0.35
    verdict = "matches" if result.matches_input else "MISMATCH"
    default = f"input {'×'.join(map(str, shapes[0]))} → output {'×'.join(map(str, shapes[-1]))}"
    ax.set_title(title or f"{default}: {verdict}")
    ax.set_xlim(-0.2, x)
    ax.set_ylim(-0.9, 0.9)
    ax.set_axis_off()
    ax.text(
        0,
        0.82,
        "box: height ∝ H, depth ∝ W, width ∝ log2 C;  orange: loses pixels or mismatches the input",
        fontsize=MIN_FONT_PT,
        color="0.3",
    )
    return fig


def reconstruction_panel(
    image: np.ndarray,
    outputs: Mapping[str, np.ndarray],
    *,
    patch: tuple[int, int, int],
    error_vmax: float,
    titles: Mapping[str, str] | None = None,
    title: str,
    figure: Figure | None = None,
) -> Figure:
    """One slice and each model's output, absolute error and a zoomed patch (ch. 3-5 explorer).

    One row per model: the input (first row only), the output, the output's patch enlarged and
    ``|output - input|``; the patch is outlined on the input and the outputs. Intensities
    share one colour scale (0 to 1), errors another (0 to ``error_vmax``), so rows, slices and
    epochs compare by eye.

    Parameters
    ----------
    image : (H, W) or (H, W, 1) float32
        The input slice.
    outputs : mapping of str to (H, W) or (H, W, 1) float32
        Model name → its reconstruction of ``image``.
    patch : (top, left, size)
        The zoomed square, inside the image.
    error_vmax : float
        Top of the error colour scale.
    titles : mapping of str to str, optional
        Per-model title of the output column (default: the name).
    title : str
    figure : matplotlib.figure.Figure, optional
        A figure this function returned for the same model names, image size and patch: its
        images are updated in place, which is several times faster than a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        Axes ``4 * row + column`` in row-major order, then the two colour bars.

    Examples
    --------
    >>> x = np.zeros((16, 16), np.float32)
    >>> fig = reconstruction_panel(x, {"cae": x + 0.2}, patch=(4, 4, 8), error_vmax=0.5,
    ...                            title="slice 0")
    >>> [ax.get_title(loc="left") or ax.get_title() for ax in fig.axes[:4]]
    ['input (box: zoom ×2)', 'cae', '', '|error|']
    >>> fig = reconstruction_panel(x, {"cae": x + 0.4}, patch=(4, 4, 8), error_vmax=0.5,
    ...                            title="slice 0", figure=fig)
    >>> float(fig.axes[3].images[0].get_array().max()), fig.axes[3].images[0].get_clim()
    (0.4, (0.0, 0.5))
    """
    (reference,) = _as_images([image])
    shown = dict(zip(outputs, _as_images(list(outputs.values())), strict=True))
    top, left, size = patch
    height, width = reference.shape
    if not (top >= 0 and left >= 0 and size >= 1 and top + size <= height and left + size <= width):
        raise ValueError(
            f"patch (top, left, size) = {patch} does not fit a {height}×{width} image; expected "
            f"0 <= top, 0 <= left and top + size <= {height}, left + size <= {width}."
        )
    for name, output in shown.items():
        if output.shape != reference.shape:
            raise ValueError(
                f"{name!r} has shape {output.shape} but the input {reference.shape}; crop or pad "
                "the reconstruction to the input's size first."
            )
    zoom = slice(top, top + size), slice(left, left + size)
    titles = {name: titles.get(name, name) if titles else name for name in shown}
    panels = {}
    # the model's title starts over its output and runs on over the zoom, which has none: long
    # names ("nearest up + conv, equal MACs, epoch 20/20") stay clear of their neighbours
    for row, (name, output) in enumerate(shown.items()):
        panels[4 * row + 1] = (output, titles[name])
        panels[4 * row + 2] = (output[zoom], "")
        panels[4 * row + 3] = (np.abs(output - reference), "|error|")
    panels[0] = (reference, f"input (box: zoom ×{max(1, round(height / size))})")
    if figure is None:
        figure = _new_reconstruction_panel(len(shown), patch, error_vmax)
    for index, (array, label) in panels.items():
        _set_image(figure.axes[index].images[0], array)
        left = index % 4 == 1
        figure.axes[index].set_title(label if left else "", fontsize=9, loc="left")
        figure.axes[index].set_title("" if left else label, fontsize=9)
    figure.suptitle(title)
    return figure


def _new_reconstruction_panel(rows: int, patch: tuple[int, int, int], error_vmax: float):
    """Empty figure for :func:`reconstruction_panel`; images are filled in by the caller."""
    top, left, size = patch
    # 7 inches at 100 dpi: the book's column width, so 9-point text stays 9 px or more on the page
    fig, axes = plt.subplots(
        rows, 4, figsize=(7.0, 1.75 * rows + 0.45), squeeze=False, layout="constrained"
    )
    placeholder = np.zeros((1, 1))
    for row in range(rows):
        for column, ax in enumerate(axes[row]):
            is_error = column == 3
            ax.imshow(
                placeholder,
                cmap=ERROR_CMAP if is_error else IMAGE_CMAP,
                vmin=0,
                vmax=error_vmax if is_error else 1,
                interpolation="nearest",
            )
            ax.set_xticks([])
            ax.set_yticks([])
            if column in (0, 1):
                ax.add_patch(
                    Rectangle((left - 0.5, top - 0.5), size, size, fill=False,
                              edgecolor=LINE_COLOURS[4], lw=1.2)
                )  # fmt: skip
        axes[row, 0].set_visible(row == 0)
    fig.colorbar(axes[0, 1].images[0], ax=axes[:, :3].ravel().tolist(), shrink=0.8,
                 label="intensity (normalised)")  # fmt: skip
    fig.colorbar(axes[0, 3].images[0], ax=axes[:, 3].tolist(), shrink=0.8,
                 label="absolute error")  # fmt: skip
    fig.suptitle(" ")  # room for the title the caller sets
    fig.draw_without_rendering()  # lay out once, then keep it: every frame the same geometry
    fig.set_layout_engine("none")
    return fig


def ratio_sweep_plot(
    series: Mapping[str, Sequence[tuple[float, object]]],
    *,
    title: str,
    ylabel: str,
) -> Figure:
    """A metric against the compression ratio, one line per method, with intervals (ch. 4).

    Parameters
    ----------
    series : mapping of str to sequence of (ratio, summary)
        Method name → points; each summary has ``mean``, ``low`` and ``high`` (such as a
        :class:`cae_lessons.stats.MetricSummary`). Intervals that are infinite (a single run)
        are not drawn.
    title, ylabel : str

    Returns
    -------
    matplotlib.figure.Figure
        One axes with a logarithmic (base 2) x axis labelled with the ratios.

    Examples
    --------
    >>> from cae_lessons.stats import summarize
    >>> fig = ratio_sweep_plot({"a": [(4, summarize([30, 31], "PSNR")),
    ...                               (16, summarize([25], "PSNR"))]},
    ...                        title="t", ylabel="PSNR (dB)")
    >>> ax = fig.axes[0]
    >>> ax.get_xscale(), [t.get_text() for t in ax.get_xticklabels()]
    ('log', ['4', '16'])
    """
    if not series:
        raise ValueError("nothing to plot: received no series.")
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    ratios = sorted({float(r) for points in series.values() for r, _ in points})
    for i, (name, points) in enumerate(series.items()):
        points = sorted(points, key=lambda p: p[0])
        x = np.array([float(r) for r, _ in points])
        mean = np.array([s.mean for _, s in points])
        low = np.array([s.low for _, s in points])
        high = np.array([s.high for _, s in points])
        finite = np.isfinite(low) & np.isfinite(high)
        colour = LINE_COLOURS[i % len(LINE_COLOURS)]
        ax.plot(x, mean, "o-", label=name, color=colour, lw=1.8)
        if finite.any():
            ax.errorbar(x[finite], mean[finite],
                        yerr=[(mean - low)[finite], (high - mean)[finite]],
                        fmt="none", ecolor=colour, capsize=4, lw=1.2)  # fmt: skip
    ax.set_xscale("log", base=2)
    ax.set_xticks(ratios, [f"{r:g}" for r in ratios])
    ax.minorticks_off()
    ax.set_title(title)
    ax.set_xlabel("compression ratio (input values / stored values)")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


# --- ch. 7: gradient norms through training -------------------------------------------------


def _gradient_runs(runs: Mapping[str, object]) -> dict[str, tuple[list[str], np.ndarray]]:
    """Design → (layer names, (layers, records) geometric mean of the norms over its runs)."""
    if not isinstance(runs, Mapping) or not runs:
        raise ValueError(
            "runs must be a non-empty mapping {design: [run, ...]}, each run a TrainResult or a "
            f"{{layer: norms}} mapping; got {type(runs).__name__} {runs!r:.60}."
        )
    out = {}
    for name, entry in runs.items():
        seeds = [entry] if isinstance(entry, Mapping) or hasattr(entry, "gradient_norms") else entry
        tables = [getattr(run, "gradient_norms", run) for run in seeds]
        if not tables or not all(isinstance(t, Mapping) and t for t in tables):
            raise ValueError(
                f"runs[{name!r}] must hold runs with per-layer gradient norms (TrainResult or "
                f"{{layer: norms}}), got {type(entry).__name__}."
            )
        arrays = [np.array(list(t.values()), dtype=np.float64) for t in tables]
        if len({a.shape for a in arrays}) != 1:
            raise ValueError(
                f"the runs of {name!r} differ in layers or epochs: {[a.shape for a in arrays]}."
            )
        with np.errstate(divide="ignore"):
            mean = np.exp(np.log(np.stack(arrays)).mean(axis=0))
        out[str(name)] = (list(tables[0]), mean)
    return out


def _vanishing_line(ax, vanishing_below: float | None) -> None:
    if vanishing_below is not None:
        ax.axhline(vanishing_below, color="0.35", ls=":", lw=1.4,
                   label=f"vanishing below {vanishing_below:g}")  # fmt: skip


def gradient_norms_by_epoch(
    runs: Mapping[str, object],
    *,
    title: str,
    ncols: int = 2,
    cmap: str = "viridis",
    vanishing_below: float | None = None,
) -> Figure:
    """Each layer's gradient norm against the epoch, one panel per design, log scale (ch. 7).

    Parameters
    ----------
    runs : mapping of str to run or sequence of runs
        Design → its runs (one per seed); a run is a ``TrainResult`` or a ``{layer: norms}``
        mapping with the norm before training (epoch 0) and after every epoch. Several runs are
        drawn as their geometric mean.
    title : str
    ncols : int
        Panels per row; all panels share the y axis, so designs compare directly.
    cmap : str
        Colour-blind-safe sequential map colouring the layers from input (dark) to output.
    vanishing_below : float, optional
        Draw this threshold (e.g. ``experiments.gradients.VANISHING_NORM``) as a dotted line.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = gradient_norms_by_epoch(
    ...     {"a": {"enc": [1e-3, 1e-2], "out": [1e-2, 1e-2]},
    ...      "b": [{"enc": [1, 2]}, {"enc": [4, 8]}]},  # two seeds: their geometric mean
    ...     title="t",
    ... )
    >>> ax = fig.axes[1]
    >>> ax.get_title(), ax.get_yscale(), ax.lines[0].get_ydata().tolist()
    ('b', 'log', [2.0, 4.0])
    """
    designs = _gradient_runs(runs)
    fig, axes = _grid(len(designs), ncols, 3.2)
    for ax in axes.flat[len(designs) :]:
        ax.remove()
    colours = plt.get_cmap(cmap)
    first = None
    for ax, (name, (layers, norms)) in zip(axes.flat, designs.items(), strict=False):
        if first is None:
            first = ax
        else:
            ax.sharey(first)
        for depth, (layer, values) in enumerate(zip(layers, norms, strict=True)):
            colour = colours(depth / max(len(layers) - 1, 1) * 0.9)
            ax.plot(np.arange(len(values)), values, color=colour, lw=1.4, label=layer)
        _vanishing_line(ax, vanishing_below)
        ax.set_yscale("log")
        ax.set_title(name)
        ax.set_xlabel("epoch (0 = before training)")
        ax.set_ylabel("gradient norm (L2, log)")
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, fontsize=MIN_FONT_PT, ncols=2 if len(layers) > 6 else 1)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def gradient_norms_by_depth(
    runs: Mapping[str, object], *, title: str, vanishing_below: float | None = None
) -> Figure:
    """Each layer's gradient norm against its depth, before and after training, log scale (ch. 7).

    Depth is relative, from 0 (the first layer with weights) to 1 (the output layer), so designs
    with different numbers of layers share one axis. Dashed lines with open markers: before
    training; solid lines with filled markers: after the last epoch. A line falling steeply
    towards depth 0 is the picture of vanishing gradients.

    Parameters
    ----------
    runs : mapping of str to run or sequence of runs
        As :func:`gradient_norms_by_epoch`.
    title : str
    vanishing_below : float, optional
        Draw this threshold as a dotted line.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = gradient_norms_by_depth({"a": {"enc": [1e-3, 1e-2], "out": [1e-2, 1e-2]}}, title="t")
    >>> ax = fig.axes[0]
    >>> [line.get_xdata().tolist() for line in ax.lines], ax.get_xlabel()
    ([[0.0, 1.0], [0.0, 1.0]], 'relative depth (0 = first layer, 1 = output layer)')
    """
    from matplotlib.lines import Line2D

    designs = _gradient_runs(runs)
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for i, (name, (_, norms)) in enumerate(designs.items()):
        colour = LINE_COLOURS[i % len(LINE_COLOURS)]
        depth = np.linspace(0, 1, len(norms)) if len(norms) > 1 else np.zeros(1)
        ax.plot(depth, norms[:, 0], "o--", color=colour, mfc="white", lw=1.2, alpha=0.8)
        ax.plot(depth, norms[:, -1], "o-", color=colour, lw=1.8, label=name)
    _vanishing_line(ax, vanishing_below)
    handles, labels = ax.get_legend_handles_labels()
    before = Line2D([], [], color="k", ls="--", marker="o", mfc="white", lw=1.2)
    after = Line2D([], [], color="k", ls="-", marker="o", lw=1.8)
    labels = [*labels, "before training", "after training"]
    ax.set_yscale("log")
    ax.set_title(title)
    ax.set_xlabel("relative depth (0 = first layer, 1 = output layer)")
    ax.set_ylabel("gradient norm (L2, log)")
    ax.grid(alpha=0.3)
    ax.legend([*handles, before, after], labels, frameon=False, fontsize=MIN_FONT_PT)
    fig.tight_layout()
    return fig


def train_val_curves(runs: Mapping[str, object], *, title: str) -> Figure:
    """Training and validation loss per epoch, side by side, one colour per design (ch. 7).

    Parameters
    ----------
    runs : mapping of str to run or sequence of runs
        Design → its runs (one per seed); a run is a ``TrainResult`` or a history mapping with
        ``loss`` and ``val_loss``. Each seed is a thin line, the mean over seeds a thick one.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
        Two axes (training, validation) sharing a logarithmic y axis.

    Examples
    --------
    >>> h = {"loss": [0.1, 0.05], "val_loss": [0.2, 0.1]}
    >>> fig = train_val_curves({"a": [h, h]}, title="t")
    >>> [ax.get_title() for ax in fig.axes], len(fig.axes[0].lines)
    (['training loss', 'validation loss'], 3)
    """
    if not isinstance(runs, Mapping) or not runs:
        raise ValueError(
            f"runs must be a non-empty mapping {{design: [run, ...]}}, got {type(runs).__name__}."
        )
    fig, axes = plt.subplots(1, 2, figsize=(9.6, 3.8), sharey=True)
    for i, (name, entry) in enumerate(runs.items()):
        seeds = [entry] if isinstance(entry, Mapping) or hasattr(entry, "history") else entry
        histories = [getattr(run, "history", run) for run in seeds]
        colour = LINE_COLOURS[i % len(LINE_COLOURS)]
        for ax, key in zip(axes, ("loss", "val_loss"), strict=True):
            curves = np.array([h[key] for h in histories], dtype=np.float64)
            epochs = np.arange(1, curves.shape[1] + 1)
            for curve in curves if len(curves) > 1 else ():
                ax.plot(epochs, curve, color=colour, lw=0.8, alpha=0.45)
            ax.plot(epochs, curves.mean(axis=0), color=colour, lw=2.0, label=name)
    for ax, label in zip(axes, ("training loss", "validation loss"), strict=True):
        ax.set_yscale("log")
        ax.set_title(label)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("mean squared error (log)")
    axes[1].legend(frameon=False, fontsize=MIN_FONT_PT)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


# --- ch. 9: the results table at a glance ----------------------------------------------------


def interval_plot(
    panels: Mapping[str, Sequence[tuple[str, object, bool]]], *, title: str, xlabel: str
) -> Figure:
    """Each row's mean and interval as a dot with whiskers, one panel per test set (ch. 9).

    Parameters
    ----------
    panels : mapping of str to sequence of (label, summary, is_baseline)
        Panel title → its rows, drawn top to bottom; each summary has ``mean``, ``low`` and
        ``high`` (such as a :class:`cae_lessons.stats.MetricSummary`). Models are blue
        circles, baselines vermilion squares (Okabe-Ito); infinite intervals (a single image)
        are not drawn.
    title, xlabel : str

    Returns
    -------
    matplotlib.figure.Figure
        One axes per panel, stacked, each with its own x axis (the test sets differ).

    Raises
    ------
    ValueError
        If there is no panel or a panel has no rows.

    Examples
    --------
    >>> from cae_lessons.stats import summarize
    >>> fig = interval_plot(
    ...     {"test set": [("CAE", summarize([28, 29, 30], "PSNR"), False),
    ...                   ("bicubic", summarize([32, 33], "PSNR"), True)]},
    ...     title="t", xlabel="PSNR (dB)",
    ... )
    >>> ax = fig.axes[0]
    >>> [t.get_text() for t in ax.get_yticklabels()], ax.get_xlabel()
    (['CAE', 'bicubic'], 'PSNR (dB)')
    """
    if not panels or not all(panels.values()):
        raise ValueError(
            "interval_plot needs at least one panel and a row in every panel, got "
            f"{ {name: len(rows) for name, rows in panels.items()} }."
        )
    counts = [len(rows) for rows in panels.values()]
    fig, axes = plt.subplots(
        len(panels),
        1,
        figsize=(7.4, 0.9 + 0.34 * sum(counts) + 0.7 * len(panels)),
        gridspec_kw={"height_ratios": counts},
        squeeze=False,
    )
    styles = {False: ("o", LINE_COLOURS[0], "model"), True: ("s", LINE_COLOURS[1], "baseline")}
    for ax, (name, rows) in zip(axes[:, 0], panels.items(), strict=True):
        y = np.arange(len(rows))[::-1]
        for position, (_, summary, is_baseline) in zip(y, rows, strict=True):
            marker, colour, _ = styles[bool(is_baseline)]
            ax.plot(summary.mean, position, marker, color=colour, ms=7)
            if np.isfinite(summary.low) and np.isfinite(summary.high):
                ax.plot([summary.low, summary.high], [position] * 2, color=colour, lw=2)
        ax.set_yticks(y, [label for label, _, _ in rows])
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel(xlabel)
        ax.grid(axis="x", alpha=0.3)
    handles = [
        plt.Line2D([], [], marker=marker, color=colour, ls="none", label=label)
        for marker, colour, label in styles.values()
    ]
    fig.legend(handles=handles, loc="upper right", frameon=False, ncols=2)
    fig.suptitle(title, x=0.02, ha="left")
    fig.tight_layout()
    return fig


# --- ch. 8: kernel size against stride --------------------------------------------------------

HEAT_CMAP = "cividis"  # perceptually uniform and readable with colour-vision deficiencies


def heat_maps(
    panels: Mapping[str, np.ndarray],
    *,
    x_values: Sequence,
    y_values: Sequence,
    xlabel: str,
    ylabel: str,
    title: str,
    fmt: str | Mapping[str, str] = ".3g",
    log: Sequence[str] = (),
    ncols: int = 3,
    cmap: str = HEAT_CMAP,
) -> Figure:
    """Grids of one shape as annotated heat maps, one panel and colour bar each (ch. 8).

    Each cell is coloured by its value (``cividis``: colour-blind safe) and labelled with it,
    in black on light cells and white on dark ones; NaN cells are left blank and labelled "–".
    A logarithmic colour scale keeps small differences visible next to an outlier.

    Parameters
    ----------
    panels : mapping of str to 2-D array
        Panel title (also its colour bar's label) → a ``(len(y_values), len(x_values))`` grid.
    x_values, y_values : sequence
        Labels of the columns (x axis) and rows (y axis, top to bottom).
    xlabel, ylabel, title : str
    fmt : str or mapping of str to str
        Format spec of the annotations, one for all panels or one per panel title (missing
        titles get ``'.3g'``).
    log : sequence of str
        Titles of the panels to colour on a logarithmic scale (all their values must be > 0).
    ncols : int
        Panels per row.
    cmap : str
        Matplotlib colour map.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If there is no panel, a grid's shape does not match the labels, or a panel in ``log``
        does not exist or has values <= 0.

    Examples
    --------
    >>> fig = heat_maps({"PSNR (dB)": np.array([[30.0, 28.5], [25.25, np.nan]]),
    ...                  "ratio": np.array([[0.2, 0.5], [4.0, 1.0]])},
    ...                 x_values=[3, 5], y_values=[1, 2], xlabel="kernel size",
    ...                 ylabel="stride", title="t", fmt=".1f", log=["ratio"])
    >>> [t.get_text() for t in fig.axes[0].texts]
    ['30.0', '28.5', '25.2', '–']
    >>> fig.axes[1].images[0].norm.__class__.__name__
    'LogNorm'
    """
    from matplotlib.colors import LogNorm
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

    if not panels:
        raise ValueError("heat_maps needs at least one panel, got none.")
    expected = (len(y_values), len(x_values))
    grids = {name: np.asarray(grid, dtype=np.float64) for name, grid in panels.items()}
    for name, grid in grids.items():
        if grid.shape != expected:
            raise ValueError(
                f"panel {name!r} has shape {grid.shape} but the labels need {expected} "
                f"(len(y_values), len(x_values)); pass one row per y value."
            )
    for name in log:
        if name not in grids:
            raise ValueError(f"log names panel {name!r}, but the panels are {list(grids)}.")
        if not (grids[name][np.isfinite(grids[name])] > 0).all():
            raise ValueError(
                f"panel {name!r} has values <= 0, which a logarithmic colour scale cannot show; "
                "leave it out of log."
            )
    n = len(grids)
    ncols = min(n, ncols, int((MAX_WIDTH_IN - 0.4) // 3.6))
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(3.6 * ncols + 0.4, 3.1 * nrows + 0.6), squeeze=False
    )
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    colours = plt.get_cmap(cmap)
    for ax, (name, grid) in zip(axes.flat, grids.items(), strict=False):
        spec = fmt if isinstance(fmt, str) else fmt.get(name, ".3g")
        finite = grid[np.isfinite(grid)]
        norm = LogNorm(finite.min(), finite.max()) if name in log else None
        shown = ax.imshow(np.ma.masked_invalid(grid), cmap=colours, norm=norm, aspect="auto")
        low, high = shown.get_clim()
        for (row, col), value in np.ndenumerate(grid):
            if not np.isfinite(value):
                ax.text(col, row, "–", ha="center", va="center", fontsize=9)
                continue
            level = 0.5 if high == low else float(shown.norm(value))
            red, green, blue, _ = colours(level)
            dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
            text = f"{int(value) if spec == 'd' else value:{spec}}"
            ax.text(col, row, text, ha="center", va="center", fontsize=9,
                    color="white" if dark else "black")  # fmt: skip
        ax.set_xticks(range(len(x_values)), [str(v) for v in x_values])
        ax.set_yticks(range(len(y_values)), [str(v) for v in y_values])
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(name, fontsize=10)
        bar = fig.colorbar(shown, ax=ax, shrink=0.85, label=name)
        if name in log:  # plain numbers at 1, 2 and 5 times powers of ten, no crowded minors
            bar.ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            bar.ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
            bar.ax.yaxis.set_minor_formatter(NullFormatter())
    fig.suptitle(title)
    fig.tight_layout()
    return fig
