"""Figures of images: grids on one colour scale, error maps, spectra, reconstructions, heat maps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from cae_lessons.plots.style import (
    ERROR_CMAP,
    IMAGE_CMAP,
    LINE_COLOURS,
    MAX_WIDTH_IN,
    MIN_FONT_PT,
    MISMATCH_COLOUR,
    _as_images,
    _grid,
    _set_image,
)


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
    outlines=None,
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
    outlines : sequence of (H, W) bool arrays, optional
        One mask per image; the edge of each is drawn in the book's orange (e.g. the original
        extent inside a padded image, where black on black would not show); say in ``title``
        what it marks.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = image_grid(np.zeros((2, 8, 6, 1), np.float32), title="Two blank slices")
    >>> [ax.get_title() for ax in fig.axes[:2]]
    ['8×6 px', '8×6 px']
    >>> inside = np.pad(np.ones((4, 4), bool), 2)
    >>> fig = image_grid([np.zeros((8, 8))], title="Padded", outlines=[inside])
    >>> len(fig.axes[0].collections)  # the orange edge
    1
    """
    arrays = _as_images(images)
    if titles is not None and len(titles) != len(arrays):
        raise ValueError(f"got {len(titles)} titles for {len(arrays)} images; give one per image.")
    masks = None if outlines is None else [np.asarray(m, dtype=bool) for m in outlines]
    if masks is not None and [m.shape for m in masks] != [a.shape for a in arrays]:
        raise ValueError(
            f"outlines must be one mask per image, of the image's shape: got "
            f"{[m.shape for m in masks]} for images of {[a.shape for a in arrays]}."
        )
    low = min(float(a.min()) for a in arrays) if vmin is None else vmin
    high = max(float(a.max()) for a in arrays) if vmax is None else vmax
    fig, axes = _grid(len(arrays), ncols, size)
    for i, (ax, image) in enumerate(zip(axes.flat, arrays, strict=False)):
        shown = ax.imshow(image, cmap=cmap, vmin=low, vmax=high, interpolation="nearest")
        if masks is not None:
            ax.contour(masks[i], levels=[0.5], colors=[MISMATCH_COLOUR], linewidths=1.5)
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
