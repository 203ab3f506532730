"""What every explorer shares: PNG rendering, fitted images, controls, and the static
explorer that shows precomputed frames in a page with no kernel."""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from weakref import WeakKeyDictionary

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

DPI = 72
_NO_IMAGE_LEVEL = 0.5
# figure -> (canvas size, the pixels drawn without its changing artists), see render_png
_BACKGROUNDS: WeakKeyDictionary = WeakKeyDictionary()


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
    ``reconstruction_explorer(..., static=True)`` (ch. 3, 5, 9 and ch. 4's section on drastic
    compression).

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
