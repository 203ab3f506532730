"""The reconstruction explorer (ch. 3-5, 9): input, output, error and a zoomed patch per model,
slice and epoch, with the slice's metrics."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.text import Text

from cae_lessons import plots
from cae_lessons.scores import Scores, evaluate
from cae_lessons.tables import html_table
from cae_lessons.widgets.frames import (
    StaticExplorer,
    _detached,
    _evenly,
    _frame,
    _frame_slider,
    _int_slider,
    render_png,
)


def _snapshots(reconstructions, x) -> dict[str, list[np.ndarray]]:
    """Check the inputs of :func:`reconstruction_explorer`; every model as a list of epochs."""
    if not isinstance(x, np.ndarray) or x.ndim != 4 or x.shape[-1] != 1 or len(x) == 0:
        raise ValueError(
            f"x must be an (N, H, W, 1) array of input slices, got {type(x).__name__} of shape "
            f"{np.shape(x)}; pass e.g. x_test, with x[..., :1] for one channel."
        )
    if not isinstance(reconstructions, Mapping) or not reconstructions:
        raise TypeError(
            "reconstructions must be a non-empty dict {model name: (N, H, W, 1) array, or a list "
            f"of them, one per epoch}}, got {type(reconstructions).__name__} {reconstructions!r}."
        )
    snapshots = {}
    for name, value in reconstructions.items():
        epochs = [value] if isinstance(value, np.ndarray) else list(value)
        for epoch, array in enumerate(epochs):
            if np.shape(array) != x.shape:
                raise ValueError(
                    f"reconstructions[{name!r}] (epoch {epoch + 1}) has shape {np.shape(array)}, "
                    f"x has {x.shape}: give every model's output for the same slices, cropped "
                    "or padded to the input size."
                )
        if not epochs:
            raise ValueError(
                f"reconstructions[{name!r}] is an empty list: give at least one epoch."
            )
        snapshots[str(name)] = epochs
    return snapshots


def slice_metrics_html(scores: Mapping[str, Scores]) -> str:
    """One row per model with the MSE, MAE, PSNR and SSIM of one slice (ch. 3-5 explorer).

    Examples
    --------
    >>> x = np.full((1, 8, 8, 1), 0.5, np.float32)
    >>> table = slice_metrics_html({"copy": evaluate(x, x + np.float32(0.1))})
    >>> table.count("<tr>"), ">copy</td>" in table, ">20.00</td>" in table
    (2, True, True)
    """
    rows = []
    for name, score in scores.items():
        values = (score.mse[0], score.mae[0], score.psnr[0], score.ssim[0])
        cells = [f"{v:{f}}" for v, f in zip(values, (".3g", ".3g", ".2f", ".4f"), strict=True)]
        rows.append([str(name), *cells])
    return html_table(("model", "MSE", "MAE", "PSNR (dB)", "SSIM"), rows, align="lrrrr")


@dataclass(frozen=True)
class _Panel:
    """Everything one reconstruction frame shows: the models, slice and epoch chosen."""

    outputs: dict
    titles: dict
    scores: dict
    title: str


def _panel(snapshots, x, names, index: int, epoch: int) -> _Panel:
    outputs, titles, scores = {}, {}, {}
    for name in names:
        epochs = snapshots[name]
        shown = min(epoch, len(epochs) - 1)
        outputs[name] = epochs[shown][index]
        titles[name] = f"{name}, epoch {shown + 1}/{len(epochs)}" if len(epochs) > 1 else name
        scores[name] = evaluate(x[index : index + 1], epochs[shown][index : index + 1])
    return _Panel(outputs, titles, scores, f"slice {index}")


def _draw_panel(panel: _Panel, x, index, patch, error_vmax, figure=None) -> Figure:
    return plots.reconstruction_panel(
        x[index],
        panel.outputs,
        patch=patch,
        error_vmax=error_vmax,
        titles=panel.titles,
        title=panel.title,
        figure=figure,
    )


def _titles(ax) -> list[Artist]:
    """The axes' three titles (left, centre, right): its direct Text children."""
    return [child for child in ax.get_children() if isinstance(child, Text)]


def _changing(fig: Figure) -> list[Artist]:
    """What one reconstruction panel redraws per frame: images, what lies on them, titles."""
    shown = [ax for ax in fig.axes if ax.get_visible() and ax.images]
    on_top = [
        artist
        for ax in shown
        for artist in (*ax.images, *ax.patches, *ax.spines.values(), *_titles(ax))
    ]
    return [*on_top, *fig.texts]


class ReconstructionExplorer(widgets.VBox):
    """Live reconstruction explorer; built by :func:`reconstruction_explorer`.

    Used by ch. 3, 5 and 9, and by ch. 4's section "What drastic compression does to the picture".

    Attributes
    ----------
    controls : dict of str to widget
        ``'models'`` (SelectMultiple), ``'slice'``, and ``'epoch'`` with ``'play'`` when some
        model has several epochs.
    figure : matplotlib.figure.Figure or None
        The panel, redrawn in place (None when no model is picked).
    picture : ipywidgets.Image
    table : ipywidgets.HTML
        The slice's metrics, one row per model.
    scores : dict of str to cae_lessons.Scores
        The same numbers.
    message : str
        What is shown, or what to pick.
    """

    def __init__(self, snapshots, x, *, models, patch, error_vmax):
        super().__init__()
        self._snapshots, self._x, self._patch, self._vmax = snapshots, x, patch, error_vmax
        names = list(snapshots)
        most = max(len(epochs) for epochs in snapshots.values())
        self.controls = {
            "models": widgets.SelectMultiple(
                options=names, value=tuple(models), description="models", rows=min(len(names), 4)
            ),
            "slice": _int_slider("slice", 0, 0, len(x) - 1),
        }
        links = []
        if most > 1:
            self.controls["epoch"] = _int_slider("epoch", most - 1, 0, most - 1)
            self.controls["play"] = widgets.Play(most - 1, 0, most - 1, interval=500)
            links.append(
                widgets.jslink((self.controls["play"], "value"), (self.controls["epoch"], "value"))
            )
        self.links = links
        self.figure = None
        self.picture = widgets.Image(format="png")
        self.table = widgets.HTML()
        self._sentence = widgets.HTML()
        self.children = [
            widgets.HBox(list(self.controls.values())),
            self._sentence,
            self.picture,
            self.table,
        ]
        self.controls["models"].observe(self._new_figure, "value")
        for name in ("slice", "epoch"):
            if name in self.controls:
                self.controls[name].observe(self._redraw, "value")
        self._new_figure()

    def _new_figure(self, _change=None) -> None:
        self.figure = None
        self._redraw()

    def _redraw(self, _change=None) -> None:
        names = self.controls["models"].value
        self.picture.layout.display = None if names else "none"
        if not names:
            self.scores, self.table.value = {}, ""
            self.message = "Pick at least one model (ctrl/shift-click for several)."
        else:
            index = self.controls["slice"].value
            epoch = self.controls["epoch"].value if "epoch" in self.controls else 0
            panel = _panel(self._snapshots, self._x, names, index, epoch)
            self.figure = _detached(
                _draw_panel(panel, self._x, index, self._patch, self._vmax, self.figure)
            )
            self.picture.value = render_png(self.figure, changing=_changing(self.figure))
            self.scores = panel.scores
            self.table.value = slice_metrics_html(panel.scores)
            self.message = f"{panel.title}: {', '.join(panel.titles.values())}"
        self._sentence.value = f"<p>{html.escape(self.message)}</p>"


def reconstruction_explorer(
    reconstructions,
    x: np.ndarray,
    *,
    models: Sequence[str] | None = None,
    patch: tuple[int, int, int] | None = None,
    error_vmax: float | None = None,
    static: bool = False,
    slices: Sequence[int] | None = None,
    groups: Sequence[Sequence[str]] | None = None,
    max_frames: int = 6,
):
    """Compare reconstructions slice by slice and epoch by epoch (ch. 3-5, 9).

    For each chosen model: the input, the output, the absolute error and a zoomed patch side by
    side (one intensity scale, one error scale for every model, slice and epoch), the slice's
    metrics (:func:`cae_lessons.scores.evaluate`), and an epoch slider with a Play button when
    snapshots exist. Everything is precomputed: moving a slider only redraws.

    Parameters
    ----------
    reconstructions : dict of str to (N, H, W, 1) float32, or to a list of them (one per epoch)
        Each model's outputs for ``x``, e.g. ``model.predict(x)`` saved after each epoch.
    x : (N, H, W, 1) float32
        The input slices, in [0, 1].
    models : sequence of str, optional
        Models shown first (default: all).
    patch : (top, left, size), optional
        The zoomed square; default: the central quarter.
    error_vmax : float, optional
        Top of the error scale; default: the largest error of the models' last epochs over all
        slices (earlier, worse epochs saturate at the top colour).
    static : bool
        Precompute frames for a page without a kernel: one frame per group of models
        (``groups``), slice (at most ``max_frames``, evenly spaced, or ``slices``) and epoch (at
        most ``max_frames``, last included). Each frame is a palette PNG of about 30 kB per
        model row: mind the page's weight.
    slices : sequence of int, optional
        Static mode: the slices to offer.
    groups : sequence of sequence of str, or mapping of str to sequence of str, optional
        Static mode: the model sets a "models" menu offers, e.g. each model alone and two side by
        side, optionally each under a label for the menu; default: one set, ``models``.
    max_frames : int
        Static mode: most slices and most epochs.

    Returns
    -------
    ReconstructionExplorer or StaticExplorer

    Examples
    --------
    >>> x = np.linspace(0, 1, 2 * 8 * 8, dtype=np.float32).reshape(2, 8, 8, 1)
    >>> explorer = reconstruction_explorer({"cae": [x * 0.5, x * 0.9]}, x)
    >>> explorer.controls["epoch"].value = 0
    >>> explorer.scores["cae"].mae.round(3)
    array([0.124])
    >>> explorer.message
    'slice 0: cae, epoch 1/2'
    """
    snapshots = _snapshots(reconstructions, x)
    models = _model_names(snapshots, models, "models")
    if not isinstance(groups, Mapping):
        groups = {" + ".join(map(str, g)): g for g in groups or [models]}
    groups = {label: _model_names(snapshots, g, "each of groups") for label, g in groups.items()}
    height, width = x.shape[1:3]
    size = max(1, min(height, width) // 4)
    patch = patch or ((height - size) // 2, (width - size) // 2, size)
    if error_vmax is None:
        errors = [np.abs(epochs[-1] - x).max() for epochs in snapshots.values()]
        error_vmax = float(max(errors)) or 1.0
    if static:
        return _static_reconstructions(
            snapshots,
            x,
            groups,
            patch,
            error_vmax,
            slices or _evenly(len(x), max_frames),
            max_frames,
        )
    return ReconstructionExplorer(snapshots, x, models=models, patch=patch, error_vmax=error_vmax)


def _model_names(snapshots, names, what: str) -> list[str]:
    names = list(snapshots) if names is None else list(names)
    if not names or any(name not in snapshots for name in names):
        raise ValueError(
            f"{what} must name some of {list(snapshots)}, got {names!r}; leave it out to show all."
        )
    return names


def _static_reconstructions(snapshots, x, groups, patch, error_vmax, slices, max_frames):
    """Frames for every group (label -> model names) × slice × epoch, in nested stacks.

    No Play button: in the static page its view fails when clicked (ipywidgets 8's
    html-manager), so the epoch has a slider only.
    """
    most = max(len(snapshots[name]) for group in groups.values() for name in group)
    epochs = _evenly(most, max_frames)
    figures, frames, by_group, by_epoch = {}, [], [], []
    for group in groups.values():
        by_slice = []
        for index in slices:
            inner = []
            for epoch in epochs:
                panel = _panel(snapshots, x, group, index, epoch)
                figure = _draw_panel(panel, x, index, patch, error_vmax, figures.get(tuple(group)))
                figures[tuple(group)] = _detached(figure)
                frames.append(render_png(figure, compress_level=9, palette=True))
                inner.append(_frame(frames[-1], slice_metrics_html(panel.scores)))
            by_epoch.append(widgets.Stack(inner, selected_index=len(epochs) - 1))
            by_slice.append(by_epoch[-1])
        by_group.append(widgets.Stack(by_slice, selected_index=0))
    stack = widgets.Stack(by_group, selected_index=0)
    controls, links = {}, []
    if len(groups) > 1:
        controls["models"] = widgets.Dropdown(
            options=[(label, i) for i, label in enumerate(groups)],
            description="models",
            layout=widgets.Layout(width="auto"),
        )
        links.append(widgets.jslink((controls["models"], "index"), (stack, "selected_index")))
    controls["slice"] = _frame_slider("slice", [str(i) for i in slices])
    links += [
        widgets.jslink((controls["slice"], "index"), (by_slice, "selected_index"))
        for by_slice in by_group
    ]
    if len(epochs) > 1:
        controls["epoch"] = _frame_slider("epoch", [str(e + 1) for e in epochs])
        controls["epoch"].index = len(epochs) - 1
        links += [
            widgets.jslink((controls["epoch"], "index"), (inner, "selected_index"))
            for inner in by_epoch
        ]
    sets = f"{len(groups)} model sets × " if len(groups) > 1 else ""
    per = "epoch" if len(epochs) == 1 else "epochs"
    message = f"{sets}{len(slices)} slices × {len(epochs)} {per}, precomputed."
    return StaticExplorer(controls, stack, frames, links, "", message)
