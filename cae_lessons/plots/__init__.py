"""Matplotlib figures that every chapter reuses.

Image grids with one colour scale and a colour bar, error maps, border-error profiles, training
curves, radial spectra and receptive-field overlays. Every figure has a title, labelled axes with
units and uses colour-blind-safe colour maps (``gray`` for MRI, ``magma`` for errors, the
Okabe-Ito palette for lines). Each function returns the :class:`matplotlib.figure.Figure`, so a
chapter can display it and a test can inspect it.

The figures live in :mod:`~cae_lessons.plots.images`, :mod:`~cae_lessons.plots.curves` and
:mod:`~cae_lessons.plots.layers`, their shared sizes and colours in
:mod:`~cae_lessons.plots.style`; every public name is importable from here.
"""

from cae_lessons.plots.curves import (
    border_error_plot,
    gradient_norms_by_depth,
    gradient_norms_by_epoch,
    interval_plot,
    line_plot,
    ratio_sweep_plot,
    spectra_plot,
    train_val_curves,
    training_curves,
)
from cae_lessons.plots.images import (
    HEAT_CMAP,
    error_maps,
    heat_maps,
    image_grid,
    reconstruction_panel,
    spectrum_images,
)
from cae_lessons.plots.layers import (
    GRID_LIMIT,
    receptive_field_overlay,
    shape_flow,
    update_receptive_field_overlay,
)
from cae_lessons.plots.style import (
    COLUMN_PX,
    ERROR_CMAP,
    IMAGE_CMAP,
    INLINE_DPI,
    LAYER_COLOUR,
    LINE_COLOURS,
    MAX_WIDTH_IN,
    MIN_FONT_PT,
    MISMATCH_COLOUR,
    smallest_text_px,
)

__all__ = [
    "COLUMN_PX",
    "ERROR_CMAP",
    "GRID_LIMIT",
    "HEAT_CMAP",
    "IMAGE_CMAP",
    "INLINE_DPI",
    "LAYER_COLOUR",
    "LINE_COLOURS",
    "MAX_WIDTH_IN",
    "MIN_FONT_PT",
    "MISMATCH_COLOUR",
    "border_error_plot",
    "error_maps",
    "gradient_norms_by_depth",
    "gradient_norms_by_epoch",
    "heat_maps",
    "image_grid",
    "interval_plot",
    "line_plot",
    "ratio_sweep_plot",
    "receptive_field_overlay",
    "reconstruction_panel",
    "shape_flow",
    "smallest_text_px",
    "spectra_plot",
    "spectrum_images",
    "train_val_curves",
    "training_curves",
    "update_receptive_field_overlay",
]
