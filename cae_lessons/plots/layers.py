"""Figures of a model's layers: receptive-field overlays and the shape-flow diagram."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import ListedColormap, to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Polygon, Rectangle

from cae_lessons.plots.style import (
    IMAGE_CMAP,
    LAYER_COLOUR,
    LINE_COLOURS,
    MAX_WIDTH_IN,
    MIN_FONT_PT,
    MISMATCH_COLOUR,
    _as_images,
    _set_image,
)


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


# Images up to this many pixels on a side get a pixel grid in the receptive-field figure.
GRID_LIMIT = 64


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
