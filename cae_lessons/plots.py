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
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

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


def _grid(n: int, ncols: int | None, size: float) -> tuple[Figure, np.ndarray]:
    ncols = min(n, ncols or n)
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
    fig, axes = plt.subplots(2, n + 1, figsize=(2.6 * (n + 1) + 1.0, 5.8), squeeze=False)
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
        ax.imshow(np.ma.masked_where(~unseen, unseen), cmap="Oranges", alpha=0.6, vmin=0, vmax=1)
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
