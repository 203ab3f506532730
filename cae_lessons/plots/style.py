"""The figures' shared style: sizes that stay legible at the book's column, colour maps, palette.

Also the small helpers every figure module uses: image validation, a grid of axes, and updating
an image in place.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

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


MISMATCH_COLOUR = LINE_COLOURS[1]  # Okabe-Ito vermillion: the orange of the book's mismatches
LAYER_COLOUR = LINE_COLOURS[0]


def _set_image(shown, array: np.ndarray) -> None:
    """Put a new (H, W) array, of any size, into an existing image and fit its axes to it."""
    height, width = array.shape
    shown.set_data(array)
    shown.set_extent((-0.5, width - 0.5, height - 0.5, -0.5))
    shown.axes.set_xlim(-0.5, width - 0.5)
    shown.axes.set_ylim(height - 0.5, -0.5)
