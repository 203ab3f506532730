"""The receptive-field explorer (ch. 1): what one unit of any layer sees, and what no unit sees."""

from __future__ import annotations

import base64
import hashlib
import html
import io

import ipywidgets as widgets
import matplotlib.colors as mcolors
import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from cae_lessons import plots
from cae_lessons.coverage import ReceptiveFieldView, conv_stack, receptive_field_view
from cae_lessons.widgets.frames import (
    _STYLE,
    StaticExplorer,
    _detached,
    _dropdown,
    _evenly,
    _frame_slider,
    _int_slider,
    fit_image,
    render_png,
)

KERNEL_SIZES = (1, 2, 3, 4, 5, 7)


STRIDES = (1, 2, 3)


PADDINGS = ("valid", "same")


MAX_LAYERS = 6


INPUT_SIZES = (2, 128)


MAX_FRAMES = 7
"""Static receptive-field explorer: most unit positions per axis and layer."""


SVG_WIDTH = 360
"""Static receptive-field explorer: width of its picture on the page, in CSS px."""


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
