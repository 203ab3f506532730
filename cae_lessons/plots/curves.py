"""Figures of curves and intervals: border errors, training curves, spectra, ratio sweeps,
gradient norms (ch. 7) and the results table at a glance (ch. 9)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from cae_lessons.plots.style import (
    LINE_COLOURS,
    MIN_FONT_PT,
    _grid,
)


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
