"""Which input pixels a conv stack's units read: the pixels no unit sees, one unit's field.

Built on :mod:`cae_lessons.receptive` (exact reads along each axis) and
:func:`cae_lessons.shapes.trace` (the stack's sizes). :func:`unseen_pixels` gives the input
pixels no unit of a layer ever reads; :func:`receptive_field_view` the box one unit reads, the
trace table and a sentence that says both, which the receptive-field explorer of
:mod:`cae_lessons.widgets` draws (ch. 1). NumPy only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from cae_lessons.receptive import read_positions
from cae_lessons.shapes import LayerSpec, ShapeTrace, trace


def conv_stack(n_layers: int, kernel_size: int, strides: int, padding: str) -> list[LayerSpec]:
    """``n_layers`` identical Conv2D layers, as the ch. 1 explorer's controls describe them.

    Examples
    --------
    >>> [spec.describe() for spec in conv_stack(2, 3, 2, "valid")]
    ["'conv_1' Conv2D(kernel_size=(3, 3), strides=(2, 2), padding='valid')",
     "'conv_2' Conv2D(kernel_size=(3, 3), strides=(2, 2), padding='valid')"]
    """
    return [
        LayerSpec("conv", f"conv_{i}", kernel_size=kernel_size, strides=strides, padding=padding)
        for i in range(1, n_layers + 1)
    ]


def _layer_index(result: ShapeTrace, layer) -> int:
    n = len(result.rows)
    try:
        if isinstance(layer, bool):
            raise TypeError
        return range(n)[layer]
    except (IndexError, TypeError):
        raise ValueError(
            f"layer must be an index into the trace's {n} layers (0 to {n - 1}, or negative from "
            f"the end), got {layer!r}."
        ) from None


def unseen_pixels(result: ShapeTrace, layer: int = -1) -> np.ndarray:
    """Input pixels that no unit of a layer (default: the last) ever reads, exactly (ch. 1).

    Follows every unit's taps back to the input along each axis (a pixel is seen when both its
    row and its column are): the rows a floored stride drops, the gaps a stride larger than the
    kernel skips. A valid stride-1 convolution loses no pixel this way: its border pixels are
    seen by fewer units, but seen.

    Parameters
    ----------
    result : ShapeTrace
    layer : int
        Index into ``result.rows``.

    Returns
    -------
    (H, W) bool
        True where no unit of that layer depends on the pixel.

    Examples
    --------
    A 3×3 convolution with stride 2 on 8 rows reads rows 0-6 only: ``(8 - 3) // 2 + 1 = 3``
    units, the last reading rows 4-6.

    >>> t = trace(conv_stack(1, 3, 2, "valid"), input_shape=(8, 8))
    >>> unseen_pixels(t)[:, 0].astype(int)
    array([0, 0, 0, 0, 0, 0, 0, 1])
    """
    stop = _layer_index(result, layer) + 1
    return ~np.outer(*(read_positions(steps[:stop]) for steps in result.steps))


@dataclass(frozen=True)
class ReceptiveFieldView:
    """What the receptive-field explorer shows for one architecture, input size and unit (ch. 1).

    Attributes
    ----------
    input_shape : tuple of int
        ``(H, W)`` of the input.
    trace : ShapeTrace or None
        ``None`` when the combination is invalid (a size would become zero or negative).
    unit : tuple of int or None
        ``(row, col)`` of the chosen unit in the output of ``layer``.
    box : tuple of int or None
        ``(top, left, bottom, right)``, end-exclusive: the input pixels that can change the unit
        (:meth:`ShapeTrace.support`); ``None`` when no pixel reaches it or the view is invalid.
    unseen : (H, W) bool or None
        Pixels no unit of ``layer`` reads (:func:`unseen_pixels`).
    highlight : int or None
        Row of the size table to highlight: the first layer that floors, trims or crops.
    message : str
        One sentence: what the unit sees, or why the combination does not work.
    layer : int
        Index into ``trace.rows`` of the layer whose unit is shown (default: the last).
    """

    input_shape: tuple[int, int]
    trace: ShapeTrace | None
    unit: tuple[int, int] | None
    box: tuple[int, int, int, int] | None
    unseen: np.ndarray | None = field(repr=False, compare=False)
    highlight: int | None
    message: str
    layer: int = -1

    @property
    def ok(self) -> bool:
        """True when the layers accept the input."""
        return self.trace is not None

    def table_html(self) -> str:
        """The per-layer size table, first floored/cropped layer highlighted ('' if invalid)."""
        if self.trace is None:
            return ""
        return replace(self.trace, first_problem=self.highlight)._repr_html_()

    def at(self, unit: tuple[int, int], layer: int | None = None) -> ReceptiveFieldView:
        """The same view for another unit, of this layer or another (no re-trace)."""
        rows = self.trace.rows
        index = _layer_index(self.trace, self.layer if layer is None else layer)
        height, width = rows[index].output_shape[:2]
        if not (0 <= unit[0] < height and 0 <= unit[1] < width):
            raise ValueError(
                f"unit must lie in layer {rows[index].name!r}'s {height}×{width} output, got "
                f"{unit}; use 0 <= row < {height} and 0 <= col < {width}."
            )
        unseen = self.unseen if index == _layer_index(self.trace, self.layer) else None
        view = replace(
            self,
            layer=index,
            unit=tuple(unit),
            unseen=unseen if unseen is not None else unseen_pixels(self.trace, index),
        )
        support = self.trace.support(index, unit)
        box = (
            None
            if support is None
            else (support[0][0], support[1][0], support[0][1], support[1][1])
        )
        return replace(view, box=box, message=view._sentence(unit, box))

    def _sentence(self, unit, box) -> str:
        row = self.trace.rows[self.layer]
        last = self.layer == len(self.trace.rows) - 1
        where = (
            f"{'Output unit' if last else 'Unit'} (row {unit[0]}, col {unit[1]}) of {row.name!r}"
        )
        lost = int(self.unseen.sum())
        share = f"{lost} of {self.unseen.size} input pixels ({lost / self.unseen.size:.0%})"
        if box is None:
            seen = "is reached by no input pixel (only its bias feeds it)"
        else:
            rf = "?" if row.receptive_field is None else "×".join(map(str, row.receptive_field))
            top, left, bottom, right = box
            seen = (
                f"sees input rows {top}–{bottom - 1} and columns {left}–{right - 1}, "
                f"{bottom - top}×{right - left} px of its {rf} px receptive field (less only "
                f"where the field hangs over the border)"
            )
        whose = "output unit" if last else f"unit of {row.name!r}"
        return f"{where} {seen}. {share} reach no {whose}."


def receptive_field_view(layers, input_shape, unit=None, layer: int = -1) -> ReceptiveFieldView:
    """Trace ``layers`` at ``input_shape`` and find what one unit of one layer sees (ch. 1).

    Parameters
    ----------
    layers : keras.Model or sequence of LayerSpec / dict
    input_shape : (H, W)
    unit : (row, col), optional
        In the output of ``layer``; default: its centre.
    layer : int
        Index into the trace's rows; default: the last layer.

    Returns
    -------
    ReceptiveFieldView
        Invalid combinations (a kernel larger than the input, a zero-size output) give a view
        whose ``message`` says why, never an exception.

    Examples
    --------
    >>> view = receptive_field_view(conv_stack(2, 3, 1, "valid"), (9, 9), unit=(0, 4))
    >>> view.box
    (0, 4, 5, 9)
    >>> view.at((0, 4), layer=0).box
    (0, 4, 3, 7)
    >>> print(receptive_field_view(conv_stack(1, 5, 1, "valid"), (3, 3)).message)
    This combination does not work: 'conv_1' Conv2D(kernel_size=(5, 5), ...) cannot take an
    input height of 3: the output would be -1 (zero or negative). The smallest input height
    that works is 5; use a larger input, padding='same' or a smaller window.
    """
    try:
        result = trace(layers, input_shape=tuple(input_shape))
    except ValueError as error:
        message = f"This combination does not work: {error}"
        return ReceptiveFieldView(tuple(input_shape), None, None, None, None, None, message)
    highlight = next((i for i, row in enumerate(result.rows) if row.loses), None)
    index = _layer_index(result, layer)
    view = ReceptiveFieldView(
        tuple(input_shape[:2]), result, None, None, unseen_pixels(result, index), highlight, "",
        index,
    )  # fmt: skip
    height, width = result.rows[index].output_shape[:2]
    return view.at(unit if unit is not None else (height // 2, width // 2))
