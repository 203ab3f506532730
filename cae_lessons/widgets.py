"""Interactive explorers (ipywidgets 8): live in a kernel, static in the rendered book.

- ch. 1 "Shape arithmetic in one page": :func:`receptive_field_explorer` (what one unit of any
  layer of a conv stack sees, which pixels no unit of that layer sees, the per-layer size table)
  next to :func:`cae_lessons.plots.shape_flow`.
- ch. 3-5 and 9: :func:`reconstruction_explorer` (input, output, error and a zoomed patch per
  model, slice and epoch, with the slice's metrics; epochs from
  :func:`cae_lessons.training.epoch_reconstructions`).

Every explorer is an ``ipywidgets.VBox`` whose controls (``.controls``), current figure
(``.figure``), table (``.table``) and message (``.message``) are attributes, so tests and
chapters drive it from Python. Slider moves only redraw arrays computed beforehand: no TensorFlow
is called (this module never imports it; pass reconstructions as arrays).

With ``static=True`` an explorer precomputes one frame per combination of control values into
nested ``widgets.Stack`` widgets whose ``selected_index`` is ``jslink``-ed to the controls (and
``Play``), so the picture follows them in a page with no kernel, such as the rendered book with
its embedded widget state. Reconstruction frames are palette PNGs; receptive-field frames are a
few hundred bytes of SVG each (a box over one shared picture per layer), so every layer and both
axes fit in the page.

Images are ``(N, H, W, 1) float32`` in [0, 1] (see ``ARCHITECTURE.md``); the MRI slice of the
receptive-field explorer is passed in by the chapter (``load_mri_data()[k]``), because this
layer does not import :mod:`cae_lessons.data`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from weakref import WeakKeyDictionary

import ipywidgets as widgets
import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image

from cae_lessons import plots
from cae_lessons.coverage import ReceptiveFieldView, conv_stack, receptive_field_view
from cae_lessons.scores import Scores, evaluate

KERNEL_SIZES = (1, 2, 3, 4, 5, 7)
STRIDES = (1, 2, 3)
PADDINGS = ("valid", "same")
MAX_LAYERS = 6
INPUT_SIZES = (2, 128)
DPI = 72
MAX_FRAMES = 7
"""Static receptive-field explorer: most unit positions per axis and layer."""
SVG_WIDTH = 360
"""Static receptive-field explorer: width of its picture on the page, in CSS px."""
_NO_IMAGE_LEVEL = 0.5
# figure -> (canvas size, the pixels drawn without its changing artists), see render_png
_BACKGROUNDS: WeakKeyDictionary = WeakKeyDictionary()


# --------------------------------------------------------------------------- shared helpers


def render_png(
    fig: Figure, *, compress_level: int = 1, changing: Sequence[Artist] = (), palette: bool = False
) -> bytes:
    """The figure as PNG bytes at its own dpi, drawn with Agg whatever the backend.

    ``compress_level`` 1 keeps a live redraw fast. Static frames, embedded in the page, use
    ``palette=True`` (256 colours, chosen per frame), which about halves their bytes with no
    visible change (greyscale slices and one colour map need fewer colours than that), and 9.

    ``changing`` names the artists (images, titles) that differ between calls on the same figure.
    Everything else (axes, colour bars, outlines) is then drawn once and kept as a background, and
    later calls draw only ``changing`` over it (blitting): the live reconstruction explorer's
    redraw drops from about 150 ms to under 100 ms on two cores (``benchmarks/widgets.py``). The
    artists are left as they were found, so ``fig.savefig`` still draws everything.

    Examples
    --------
    >>> fig = plt.figure(figsize=(1, 1), dpi=DPI)
    >>> render_png(fig)[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    >>> title = fig.suptitle("epoch 1")
    >>> first = render_png(fig, changing=[title])
    >>> _ = title.set_text("epoch 2")
    >>> render_png(fig, changing=[title]) == render_png(fig)
    True
    """
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    if changing:
        for artist in changing:
            artist.set_animated(True)
        size = canvas.get_width_height()
        cached = _BACKGROUNDS.get(fig)
        if cached is None or cached[0] != size:
            canvas.draw()
            _BACKGROUNDS[fig] = size, canvas.copy_from_bbox(fig.bbox)
        else:
            canvas.restore_region(cached[1])
        for artist in changing:
            fig.draw_artist(artist)
            artist.set_animated(False)
    else:
        canvas.draw()
    buffer = io.BytesIO()
    picture = Image.fromarray(np.asarray(canvas.buffer_rgba()))
    if palette:
        picture = picture.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT)
    picture.save(buffer, format="png", compress_level=compress_level)
    return buffer.getvalue()


def _detached(fig: Figure) -> Figure:
    """Take a figure away from pyplot, so Jupyter's inline backend does not show it too."""
    plt.close(fig)  # closing restores the original dpi, so set it afterwards
    fig.set_dpi(DPI)
    return fig


def fit_image(image: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray:
    """Resample a slice to ``shape`` by nearest neighbour (an illustration, not a model input).

    ``None`` gives a uniform mid-grey canvas. Used by the ch. 1 receptive-field explorer to lay
    an MRI slice under an input grid of any size.

    Parameters
    ----------
    image : (H, W) or (H, W, 1) float32 in [0, 1], or None
    shape : (height, width)

    Returns
    -------
    (height, width) float32

    Examples
    --------
    >>> fit_image(np.arange(16, dtype=np.float32).reshape(4, 4) / 15, (2, 2)) * 15
    array([[ 5.,  7.],
           [13., 15.]], dtype=float32)
    """
    if image is None:
        return np.full(shape, _NO_IMAGE_LEVEL, np.float32)
    array = np.asarray(image, dtype=np.float32)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 2 or min(array.shape) < 1:
        raise ValueError(
            f"image must be one slice of shape (H, W) or (H, W, 1), got {np.shape(image)}; "
            "pass x[k] of an (N, H, W, 1) array, e.g. load_mri_data()[k]."
        )
    rows, cols = (
        ((np.arange(n) + 0.5) * size / n).astype(int)
        for n, size in zip(shape, array.shape, strict=True)
    )
    return array[np.ix_(rows, cols)]


_STYLE = {"description_width": "initial"}


def _int_slider(description: str, value: int, low: int, high: int, **kwargs):
    return widgets.IntSlider(
        value, low, high, description=description, continuous_update=True, style=_STYLE, **kwargs
    )


def _dropdown(description: str, options, value, **kwargs):
    return widgets.Dropdown(options=options, value=value, description=description, **kwargs)


def _frame_slider(description: str, labels: Sequence[str]) -> widgets.SelectionSlider:
    """A slider over frames: its ``index`` is the frame, its readout the frame's label."""
    return widgets.SelectionSlider(
        options=[(label, i) for i, label in enumerate(labels)],
        description=description,
        continuous_update=True,
        style=_STYLE,
    )


def _evenly(n: int, k: int) -> list[int]:
    """At most ``k`` evenly spaced indices of ``range(n)``, first and last included."""
    return sorted({round(v) for v in np.linspace(0, n - 1, min(n, k))})


def _frame(png: bytes, caption: str = "") -> widgets.Widget:
    image = widgets.Image(value=png, format="png")
    return widgets.VBox([image, widgets.HTML(caption)]) if caption else image


class StaticExplorer(widgets.VBox):
    """Precomputed frames in a ``Stack`` that follows its sliders in the browser, no kernel.

    Built by ``receptive_field_explorer(..., static=True)`` (ch. 1) and
    ``reconstruction_explorer(..., static=True)`` (ch. 3-5, 9).

    Attributes
    ----------
    controls : dict of str to widget
        The sliders (and ``'play'``); each slider's ``index`` is the frame shown.
    stack : ipywidgets.Stack
        One child per value of the first slider (nested stacks for a second one).
    frames : list of bytes or str
        Every frame, in stack order: PNG bytes, or SVG text (the receptive-field explorer).
    links : list of ipywidgets.Link
        The ``jslink``\\ s from the controls to the stacks' ``selected_index``.
    table : ipywidgets.HTML
        Text that does not change with the sliders.
    message : str
        What the explorer shows, or why it cannot (an invalid combination).
    """

    def __init__(self, controls, stack, frames, links, table_html: str, message: str):
        super().__init__()
        self.controls, self.stack, self.frames, self.links = controls, stack, frames, links
        self.table = widgets.HTML(table_html, layout=widgets.Layout(max_width="100%"))
        self.message = message
        self.children = [
            widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap")),
            widgets.HTML(f"<p>{html.escape(message)}</p>"),
            *([stack] if stack is not None else []),
            self.table,
        ]


# --------------------------------------------------------------------------- receptive fields


def _rf_title(view: ReceptiveFieldView) -> str:
    height, width = view.input_shape
    return f"{height}×{width} input, output unit {view.unit}"


def _draw_view(fig: Figure, image: np.ndarray | None, view: ReceptiveFieldView) -> Figure:
    """Redraw the overlay figure for a valid view."""
    return plots.update_receptive_field_overlay(
        fig, fit_image(image, view.input_shape), view.box, title=_rf_title(view), unseen=view.unseen
    )


def _new_overlay() -> Figure:
    blank = np.zeros((1, 1), bool)
    fig = plots.receptive_field_overlay(
        blank.astype(np.float32), (0, 0, 1, 1), title="", unseen=blank
    )
    return _detached(fig)


class ReceptiveFieldExplorer(widgets.VBox):
    """Live receptive-field explorer (ch. 1); built by :func:`receptive_field_explorer`.

    Attributes
    ----------
    controls : dict of str to widget
        ``'input_size'``, ``'kernel_size'``, ``'strides'``, ``'padding'``, ``'n_layers'``,
        ``'layer'`` (whose unit is shown; default the last), ``'unit_row'``, ``'unit_col'``. The
        architecture controls are disabled when a model is given.
    view : ReceptiveFieldView
        What is shown now.
    figure : matplotlib.figure.Figure
        The overlay, redrawn in place.
    picture : ipywidgets.Image
        The figure as a PNG (hidden for an invalid combination).
    table : ipywidgets.HTML
        The per-layer size table.
    message : str
        ``view.message``: what the unit sees, or why the combination does not work.
    """

    def __init__(self, model, image, *, input_size, kernel_size, strides, padding, n_layers):
        super().__init__()
        self._model, self._image = model, image
        declared = _declared_size(model)
        fixed = model is not None
        square = not declared or declared[0] == declared[1]
        self.controls = {
            "input_size": _int_slider(
                "input size (px)", declared[0] if declared else input_size, *INPUT_SIZES,
                disabled=not square,
            ),
            "kernel_size": _dropdown("kernel_size", KERNEL_SIZES, kernel_size, disabled=fixed),
            "strides": _dropdown("strides", STRIDES, strides, disabled=fixed),
            "padding": _dropdown("padding", PADDINGS, padding, disabled=fixed),
            "n_layers": _int_slider("layers", n_layers, 1, MAX_LAYERS, disabled=fixed),
            "layer": _dropdown("unit of layer", [("", 0)], 0),
            "unit_row": _int_slider("unit row", 0, 0, 0),
            "unit_col": _int_slider("unit col", 0, 0, 0),
        }  # fmt: skip
        self._declared = declared
        self.figure = _new_overlay()
        self.picture = widgets.Image(format="png")
        self.table = widgets.HTML()
        self._sentence = widgets.HTML()
        self._quiet = False
        names = list(self.controls)
        self.children = [
            widgets.HBox([widgets.VBox([self.controls[n] for n in names[:4]]),
                          widgets.VBox([self.controls[n] for n in names[4:]])]),
            self._sentence,
            widgets.HBox([self.picture, self.table]),
        ]  # fmt: skip
        for name in names[:5]:
            self.controls[name].observe(self._rebuild, "value")
        for name in names[5:]:
            self.controls[name].observe(self._move, "value")
        self._rebuild()

    @property
    def message(self) -> str:
        return self.view.message

    def layers(self):
        """The model, or the conv stack the controls describe."""
        if self._model is not None:
            return self._model
        c = self.controls
        return conv_stack(
            c["n_layers"].value, c["kernel_size"].value, c["strides"].value, c["padding"].value
        )

    def _input_shape(self) -> tuple[int, int]:
        if self._declared and self.controls["input_size"].disabled:
            return self._declared
        return (self.controls["input_size"].value,) * 2

    def _rebuild(self, _change=None) -> None:
        self.view = receptive_field_view(self.layers(), self._input_shape())
        if self.view.ok:
            rows = self.view.trace.rows
            self._quiet = True
            self.controls["layer"].options = [(row.name, i) for i, row in enumerate(rows)]
            self.controls["layer"].value = len(rows) - 1
            self._quiet = False
            self._follow_layer()
        self.table.value = self.view.table_html()
        self._show()

    def _follow_layer(self) -> None:
        """Fit the unit sliders to the chosen layer's output and centre them."""
        row, col = (self.controls[n] for n in ("unit_row", "unit_col"))
        layer = self.controls["layer"].value
        height, width = self.view.trace.rows[layer].output_shape[:2]
        self._quiet = True
        row.max, col.max = height - 1, width - 1
        row.value, col.value = height // 2, width // 2
        self._quiet = False
        self.view = self.view.at((row.value, col.value), layer=layer)

    def _move(self, change=None) -> None:
        if self._quiet or not self.view.ok:
            return
        if change is not None and change["owner"] is self.controls["layer"]:
            self._follow_layer()
        else:
            unit = (self.controls["unit_row"].value, self.controls["unit_col"].value)
            self.view = self.view.at(unit)
        self._show()

    def _show(self) -> None:
        self._sentence.value = f"<p>{html.escape(self.view.message)}</p>"
        self.picture.layout.display = None if self.view.ok else "none"
        if self.view.ok:
            self.picture.value = render_png(_draw_view(self.figure, self._image, self.view))


def _declared_size(model) -> tuple[int, int] | None:
    """``(H, W)`` of a Keras model's fixed input, else None."""
    inputs = getattr(model, "inputs", None)
    shape = tuple(inputs[0].shape[1:3]) if inputs else ()
    return shape if len(shape) == 2 and None not in shape else None


def receptive_field_explorer(
    model=None,
    image: np.ndarray | None = None,
    *,
    input_size: int = 32,
    kernel_size: int = 3,
    strides: int = 1,
    padding: str = "valid",
    n_layers: int = 3,
    static: bool = False,
    max_frames: int = MAX_FRAMES,
):
    """Explore what one output unit sees, over a real MRI slice (ch. 1).

    Controls for the input size, ``kernel_size``, ``strides``, ``padding`` and the number of
    Conv2D layers (or a given model / list of LayerSpec); a menu picks the layer (default: the
    last) and sliders move its unit. Shows the
    input grid with the unit's receptive field (:meth:`ShapeTrace.support`), the pixels no output
    unit ever sees shaded (:func:`unseen_pixels`), the per-layer size table of
    :func:`cae_lessons.shapes.trace` with the first floored/cropped layer highlighted, and one
    sentence. An invalid combination shows a sentence, never a traceback.

    Parameters
    ----------
    model : keras.Model or sequence of LayerSpec / dict, optional
        Fixes the layers (their controls are disabled); default: a stack of identical Conv2D.
    image : (H, W) or (H, W, 1) float32, optional
        The slice under the grid, resampled to the input size, e.g. ``load_mri_data()[64]``;
        default: a uniform grey canvas.
    input_size, kernel_size, strides, padding, n_layers
        Initial control values (a model's fixed input size wins over ``input_size``).
    static : bool
        Precompute frames for a page without a kernel: the architecture is fixed; a menu picks
        the layer and two sliders move its unit along rows and columns. Each frame is a few
        hundred bytes of SVG (the unit's box) over one embedded picture of the slice per layer.
    max_frames : int
        Static mode: most unit positions per axis and layer (evenly spaced, both ends included).

    Returns
    -------
    ReceptiveFieldExplorer or StaticExplorer

    Examples
    --------
    >>> explorer = receptive_field_explorer(input_size=9, kernel_size=3, n_layers=2)
    >>> explorer.view.box, explorer.view.unit
    ((2, 2, 7, 7), (2, 2))
    >>> explorer.controls["unit_col"].value = 0
    >>> explorer.view.box
    (2, 0, 7, 5)
    >>> explorer.controls["kernel_size"].value = 7
    >>> print(explorer.message)
    This combination does not work: 'conv_2' Conv2D(kernel_size=(7, 7), ...) cannot take an
    input height of 3: the output would be -3 (zero or negative). ...
    """
    if static:
        shape = _declared_size(model) or (input_size, input_size)
        layers = conv_stack(n_layers, kernel_size, strides, padding) if model is None else model
        return _static_receptive_field(layers, image, shape, max_frames)
    return ReceptiveFieldExplorer(
        model,
        image,
        input_size=input_size,
        kernel_size=kernel_size,
        strides=strides,
        padding=padding,
        n_layers=n_layers,
    )


def _shaded_png(image: np.ndarray | None, unseen: np.ndarray) -> bytes:
    """The slice at input resolution, pixels no unit reads tinted orange, as PNG bytes."""
    grey = np.repeat(fit_image(image, unseen.shape)[..., None], 3, axis=-1)
    tint = np.array(mcolors.to_rgb(plots.LINE_COLOURS[1]))
    rgb = np.where(unseen[..., None], 0.2 * grey + 0.8 * tint, grey)
    buffer = io.BytesIO()
    Image.fromarray(np.round(255 * rgb).astype(np.uint8)).save(buffer, format="png", optimize=True)
    return buffer.getvalue()


def _svg_frame(view: ReceptiveFieldView, background: str) -> str:
    """One unit's box over the layer's picture (``<use>`` of its ``<image>``), and its sentence."""
    height, width = view.input_shape
    box = ""
    if view.box is not None:
        top, left, bottom, right = view.box
        box = (
            f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" '
            f'fill="none" stroke="{plots.LINE_COLOURS[4]}" stroke-width="3" '
            'vector-effect="non-scaling-stroke"/>'
        )
    picture = (
        f'<svg viewBox="0 0 {width} {height}" width="{SVG_WIDTH}" '
        f'height="{round(SVG_WIDTH * height / width)}" role="img">'
        f'<use href="#{background}"/>{box}</svg>'
    )
    return f'{picture}<p style="max-width: 40em">{html.escape(view.message)}</p>'


def _static_receptive_field(layers, image, shape, max_frames: int) -> StaticExplorer:
    view = receptive_field_view(layers, shape)
    if not view.ok:
        return StaticExplorer({}, None, [], [], "", view.message)
    height, width = view.input_shape
    rows = view.trace.rows
    definitions, frames, by_layer, links = [], [], [], []
    # one Layout and one style for every frame and stack: a widget each would triple the models
    # embedded in the page
    template = widgets.HTML()
    layout, style = template.layout, template.style
    for layer, row in enumerate(rows):
        at_layer = view.at((0, 0), layer=layer)
        png = _shaded_png(image, at_layer.unseen)
        background = f"rf-{hashlib.sha1(png).hexdigest()[:12]}"
        definitions.append(
            f'<image id="{background}" width="{width}" height="{height}" '
            f'style="image-rendering: pixelated" '
            f'href="data:image/png;base64,{base64.b64encode(png).decode()}"/>'
        )
        units = [_evenly(n, max_frames) for n in row.output_shape[:2]]
        sliders = [
            _frame_slider(f"unit {axis}", [str(u) for u in positions])
            for axis, positions in zip(("row", "col"), units, strict=True)
        ]
        by_row = []
        for r in units[0]:
            cells = []
            for c in units[1]:
                frames.append(_svg_frame(at_layer.at((r, c)), background))
                cells.append(widgets.HTML(frames[-1], layout=layout, style=style))
            by_row.append(widgets.Stack(cells, selected_index=0, layout=layout))
            links.append(widgets.jslink((sliders[1], "index"), (by_row[-1], "selected_index")))
        rows_stack = widgets.Stack(by_row, selected_index=0)
        links.append(widgets.jslink((sliders[0], "index"), (rows_stack, "selected_index")))
        by_layer.append(widgets.VBox([widgets.HBox(sliders), rows_stack]))
    stack = widgets.Stack(by_layer, selected_index=len(rows) - 1)
    menu = widgets.Dropdown(
        options=[(f"{row.name} ({row.output_shape[0]}×{row.output_shape[1]})", i)
                 for i, row in enumerate(rows)],
        index=len(rows) - 1,
        description="unit of layer",
        style=_STYLE,
    )  # fmt: skip
    links.append(widgets.jslink((menu, "index"), (stack, "selected_index")))
    hidden = 'width="0" height="0" style="position: absolute"'
    defs = f"<svg {hidden}><defs>{''.join(definitions)}</defs></svg>"
    fit = "overflow-x: auto; max-width: 100%; line-height: 1.35; font-size: 0.9em"
    legend = (
        "<p>The trace of every layer; highlighted: the first layer that floors, trims or crops "
        "(loses rows or columns).</p>"
    )
    table = f'{legend}<div style="{fit}">{view.table_html()}</div>{defs}'
    message = f"The whole model: {view.message.split('. ')[-1]}"
    return StaticExplorer({"layer": menu}, stack, frames, links, table, message)


# --------------------------------------------------------------------------- reconstructions


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
    >>> table.count("<tr>"), "<td>copy</td><td>0.01</td><td>0.1</td><td>20.00</td>" in table
    (2, True)
    """
    head = "".join(f"<th>{h}</th>" for h in ("model", "MSE", "MAE", "PSNR (dB)", "SSIM"))
    rows = []
    for name, score in scores.items():
        values = (score.mse[0], score.mae[0], score.psnr[0], score.ssim[0])
        cells = [f"{v:{f}}" for v, f in zip(values, (".3g", ".3g", ".2f", ".4f"), strict=True)]
        rows.append("".join(f"<td>{c}</td>" for c in [html.escape(name), *cells]))
    body = "".join(f"<tr>{row}</tr>" for row in rows)
    spaced = 'style="border-collapse: separate; border-spacing: 14px 2px"'
    return f"<table {spaced}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


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
    """Live reconstruction explorer (ch. 3-5); built by :func:`reconstruction_explorer`.

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
