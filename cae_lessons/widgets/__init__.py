"""Interactive explorers (ipywidgets 8): live in a kernel, static in the rendered book.

- ch. 1 "Shape arithmetic in one page": :func:`receptive_field_explorer` (what one unit of any
  layer of a conv stack sees, which pixels no unit of that layer sees, the per-layer size table)
  next to :func:`cae_lessons.plots.shape_flow`.
- ch. 3, 5 and 9, and ch. 4's section "What drastic compression does to the picture":
  :func:`reconstruction_explorer` (input, output, error and a zoomed patch per model, slice and
  epoch, with the slice's metrics; epochs from :func:`cae_lessons.training.epoch_reconstructions`).

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

The explorers live in :mod:`~cae_lessons.widgets.receptive_field` and
:mod:`~cae_lessons.widgets.reconstructions`, what they share in
:mod:`~cae_lessons.widgets.frames`; every public name is importable from here.

Images are ``(N, H, W, 1) float32`` in [0, 1] (see ``ARCHITECTURE.md``); the MRI slice of the
receptive-field explorer is passed in by the chapter (``load_mri_data()[k]``), because this
layer does not import :mod:`cae_lessons.data`.
"""

from cae_lessons.widgets.frames import DPI, StaticExplorer, fit_image, render_png
from cae_lessons.widgets.receptive_field import (
    INPUT_SIZES,
    KERNEL_SIZES,
    MAX_FRAMES,
    MAX_LAYERS,
    PADDINGS,
    STRIDES,
    SVG_WIDTH,
    ReceptiveFieldExplorer,
    receptive_field_explorer,
)
from cae_lessons.widgets.reconstructions import (
    ReconstructionExplorer,
    reconstruction_explorer,
    slice_metrics_html,
)

__all__ = [
    "DPI",
    "INPUT_SIZES",
    "KERNEL_SIZES",
    "MAX_FRAMES",
    "MAX_LAYERS",
    "PADDINGS",
    "STRIDES",
    "SVG_WIDTH",
    "ReceptiveFieldExplorer",
    "ReconstructionExplorer",
    "StaticExplorer",
    "fit_image",
    "receptive_field_explorer",
    "reconstruction_explorer",
    "render_png",
    "slice_metrics_html",
]
