"""Receptive fields through a whole convolutional autoencoder, exactly.

Which input pixels can change one unit of a layer? Along each axis a layer maps an output index to
a few input indices (its *taps*); composing the taps of every layer, from the unit back to the
input, gives the unit's receptive field. This module does that composition exactly, with integer
indices and :class:`fractions.Fraction` jumps, for convolutions, pooling, upsampling, resizing and
transposed convolutions, and checks it against the gradient of a real Keras model.

The per-layer summary (:func:`receptive_fields`) is the standard recurrence of Araujo, Norris and
Sim, "Computing receptive fields of convolutional neural networks", Distill 2019: for a
convolution or pooling layer with kernel ``k``, stride ``s``, dilation ``d`` and ``p`` rows of
padding before the input,

    r_l = r_{l-1} + (d (k - 1)) j_{l-1},    j_l = s j_{l-1},    start_l = start_{l-1} - p j_{l-1}.

A transposed convolution with stride ``s`` is a convolution with stride ``1/s`` over the input with
``s - 1`` zeros inserted between its rows (Dumoulin and Visin, "A guide to convolution arithmetic
for deep learning", 2016), so after it and after upsampling the jump becomes fractional,
``j_l = j_{l-1} / s``; neighbouring units then see different numbers of input units (``ceil(k/s)``
or ``floor(k/s)``), so the size reported is the largest over the layer's units.

This module knows nothing about Keras layer configurations: :mod:`cae_lessons.shapes` reads them
and hands over one :class:`AxisStep` per layer and axis. Only
:func:`empirical_receptive_field` imports TensorFlow, inside the function.

Used by ch. 1 "Shape arithmetic in one page" (receptive field column of the trace table) and by
ch. 5 (what a transposed convolution sees).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

STEP_KINDS = ("window", "transpose", "resize", "dense")
INTERPOLATIONS = ("nearest", "bilinear")


@dataclass(frozen=True)
class AxisStep:
    """How one layer maps indices along one axis (rows or columns).

    Built by :func:`cae_lessons.shapes.trace` (ch. 1); build one by hand to explore a layer.

    Attributes
    ----------
    kind : {'window', 'transpose', 'resize', 'dense'}
        ``'window'``: convolution, pooling, cropping, zero padding or a shape-neutral layer;
        ``'transpose'``: transposed convolution; ``'resize'``: upsampling or resizing;
        ``'dense'``: a dense bottleneck (Flatten, Dense, Reshape), every unit reading every one.
    n_in, n_out : int
        Input and output size along this axis.
    kernel_size, strides, dilation_rate : int
        As Keras spells them (``kernel_size`` is ``pool_size`` for pooling).
    offset : int
        ``'window'``: rows of padding before the input (negative: rows cropped);
        ``'transpose'``: rows cropped before the output. Unused by ``'resize'``.
    interpolation : {'nearest', 'bilinear'}
        Only for ``'resize'``.

    Examples
    --------
    >>> AxisStep("window", n_in=128, n_out=126, kernel_size=3).taps(0)
    (0, 1, 2)
    """

    kind: str
    n_in: int
    n_out: int
    kernel_size: int = 1
    strides: int = 1
    dilation_rate: int = 1
    offset: int = 0
    interpolation: str = "nearest"

    def __post_init__(self) -> None:
        if self.kind not in STEP_KINDS:
            raise ValueError(f"AxisStep kind must be one of {STEP_KINDS}, got {self.kind!r}.")
        if self.kind == "transpose" and self.strides > 1 and self.dilation_rate > 1:
            raise ValueError(
                f"A transposed step cannot have strides > 1 and dilation_rate > 1 (Keras refuses "
                f"them too); got strides={self.strides}, dilation_rate={self.dilation_rate}."
            )

    @property
    def exact(self) -> bool:
        """False for interpolations whose taps this module does not model (bicubic, area, ...)."""
        return self.kind != "resize" or self.interpolation in INTERPOLATIONS

    @property
    def jump(self) -> Fraction:
        """How far apart, in input units, neighbouring output units are."""
        if self.kind == "window":
            return Fraction(self.strides)
        if self.kind == "transpose":
            return Fraction(1, self.strides)
        if self.kind == "dense":  # every unit reads the same: its whole input
            return Fraction(0)
        return Fraction(self.n_in, self.n_out)

    def bounds(self, index):
        """First and last input index read by output unit(s) ``index``, before clipping.

        ``index`` is an int or an integer array; ``first > last`` means the unit reads nothing
        (a transposed convolution with a kernel smaller than its stride). Interpolation clamps to
        the image, as TensorFlow's resize does; convolution taps outside it are padding.
        """
        span = self.dilation_rate * (self.kernel_size - 1)
        if self.kind == "window":
            first = index * self.strides - self.offset
            return first, first + span
        if self.kind == "transpose":  # input m reaches outputs m * strides - offset + [0, span]
            shifted = index + self.offset
            return -((span - shifted) // self.strides), shifted // self.strides
        if self.kind == "dense":
            return index * 0, index * 0 + self.n_in - 1
        if not self.exact:
            raise ValueError(
                f"Receptive fields are exact only for interpolation in {INTERPOLATIONS}, got "
                f"{self.interpolation!r}; use interpolation='nearest' or 'bilinear'."
            )
        # Half-pixel centres: unit o samples input (o + 1/2) * n_in / n_out - 1/2, in integers.
        numerator, denominator = (2 * index + 1) * self.n_in, 2 * self.n_out
        if self.interpolation == "nearest":
            first = last = numerator // denominator
        else:
            first = (numerator - self.n_out) // denominator
            last = -((self.n_out - numerator) // denominator)
        return np.clip(first, 0, self.n_in - 1), np.clip(last, 0, self.n_in - 1)

    def taps(self, index: int) -> tuple[int, ...]:
        """Input indices output unit ``index`` reads, before clipping to ``[0, n_in)``."""
        first, last = (int(v) for v in self.bounds(index))
        if self.kind == "resize":
            return tuple(sorted({first, last}))
        return tuple(range(first, last + 1, self.dilation_rate))


@dataclass(frozen=True)
class ReceptiveField:
    """Receptive field of one layer along one axis, in input pixels.

    Attributes
    ----------
    size : int
        Largest receptive field of the layer's units, ignoring the image border.
    jump : fractions.Fraction
        Distance between neighbouring units' fields (the effective stride); fractional after
        upsampling or a transposed convolution.
    start : int
        First input pixel of unit 0's field, ignoring the border (negative: it starts in the
        padding).
    """

    size: int
    jump: Fraction
    start: int

    def __repr__(self) -> str:
        return f"ReceptiveField(size={self.size}, jump={self.jump}, start={self.start})"


def _support_hull(steps: Sequence[AxisStep], layer: int, index: int, memo: dict):
    """``[first, stop)`` of the input pixels reaching unit ``index`` of ``layer``, or None."""
    if layer < 0:
        return (index, index + 1)
    if (layer, index) not in memo:
        step = steps[layer]
        taps = [m for m in step.taps(index) if 0 <= m < step.n_in]
        hulls = [h for h in (_support_hull(steps, layer - 1, m, memo) for m in taps) if h]
        memo[layer, index] = (min(h[0] for h in hulls), max(h[1] for h in hulls)) if hulls else None
    return memo[layer, index]


def _range_hull(first, stop, reads, lo, hi):
    """Hull of units ``lo..hi`` (arrays) of the previous layer, skipping units that read nothing.

    Fields are monotone in the unit index, so the hull runs from the first unit that reads
    something to the last one.
    """
    index = np.arange(len(first))
    following = np.minimum.accumulate(np.where(reads, index, len(first))[::-1])[::-1]
    preceding = np.maximum.accumulate(np.where(reads, index, -1))
    start = following[np.clip(lo, 0, len(first) - 1)]
    end = preceding[np.clip(hi, 0, len(first) - 1)]
    some = (lo <= hi) & (start <= end) & (lo >= 0) & (hi < len(first))
    start, end = np.clip(start, 0, len(first) - 1), np.clip(end, 0, len(first) - 1)
    return first[start], stop[end], some


def receptive_fields(steps: Sequence[AxisStep], wires=None) -> tuple[ReceptiveField, ...]:
    """Receptive field size, jump and start after each layer, along one axis.

    The RF column of the trace table in ch. 1. Computed for every unit of every layer with integer
    arithmetic (vectorised), so the size is exact even where units differ (after upsampling).
    Through a graph (``wires``), a merge's unit reads what the same unit of each of its inputs
    reads: its field is the union over every path from the input, as Keras' gradient sees it.

    Parameters
    ----------
    steps : sequence of AxisStep
        One step per layer, input first (as built by :func:`cae_lessons.shapes.trace`); a merge
        is a 1-wide window.
    wires : sequence of tuple of int, optional
        Per step, the indices of the steps it takes (``-1``: the input), each after those it
        takes; default: a chain, each step taking the one before.

    Returns
    -------
    tuple of ReceptiveField
        One per step. In a graph, ``jump`` is the one along each step's first input.

    Examples
    --------
    Two valid 3-wide convolutions around a stride-2 pooling: 1 + 2 + 1 + 2 * 2 = 8 pixels.

    >>> steps = [AxisStep("window", 16, 14, kernel_size=3), AxisStep("window", 14, 7, 2, 2),
    ...          AxisStep("window", 7, 5, kernel_size=3)]
    >>> receptive_fields(steps)[-1]
    ReceptiveField(size=8, jump=2, start=0)
    >>> receptive_fields([AxisStep("resize", 4, 8)])[0].jump
    Fraction(1, 2)

    A 'same' 5-wide convolution (unit ``u`` reads ``u - 2 … u + 2``) added to a 3-wide one
    that reads ``u + 1 … u + 3`` (offset -1): the union spans 6 pixels.

    >>> steps = [AxisStep("window", 9, 9, kernel_size=5, offset=2),
    ...          AxisStep("window", 9, 9, kernel_size=3, offset=-1),
    ...          AxisStep("window", 9, 9)]
    >>> receptive_fields(steps, [(-1,), (-1,), (0, 1)])[-1].size
    6
    """
    steps = tuple(steps)
    wires = tuple((i - 1,) for i in range(len(steps))) if wires is None else tuple(wires)
    # Which units of each layer are needed, from the last layer back: its own units plus
    # every (padding) unit a later layer reads.
    needed = [(0, 0) for _ in steps]
    n_in = next((steps[i].n_in for i, w in enumerate(wires) if -1 in w), 0)
    needed_in, ranges = (0, n_in), [(0, 0)] * len(steps)
    for i in reversed(range(len(steps))):
        ranges[i] = (min(needed[i][0], 0), max(needed[i][1], steps[i].n_out))
        first, last = steps[i].bounds(np.arange(*ranges[i]))
        reads = first <= last
        lo, hi = int(first[reads].min(initial=0)), int(last[reads].max(initial=-1)) + 1
        for j in wires[i]:
            was = needed_in if j < 0 else needed[j]
            now = (min(was[0], lo), max(was[1], hi)) if reads.any() else was
            if j < 0:
                needed_in = now
            else:
                needed[j] = now
    origin = min(needed_in[0], 0)
    pixels = np.arange(origin, max(needed_in[1], n_in))
    start = (pixels, pixels + 1, np.ones(len(pixels), bool), origin, Fraction(1))
    states: list[tuple] = []
    fields = []
    for step, (low, high), sources in zip(steps, ranges, wires, strict=True):
        lo, hi = step.bounds(np.arange(low, high))
        parts = []
        for j in sources:
            first, stop, reads, at, _ = start if j < 0 else states[j]
            parts.append(_range_hull(first, stop, reads, lo - at, hi - at))
        reads = np.logical_or.reduce([r for _, _, r in parts])
        first = np.min([np.where(r, f, np.iinfo(np.int64).max) for f, _, r in parts], axis=0)
        stop = np.max([np.where(r, t, np.iinfo(np.int64).min) for _, t, r in parts], axis=0)
        jump = (start if sources[0] < 0 else states[sources[0]])[4] * step.jump
        states.append((first, stop, reads, low, jump))
        own = slice(-low, -low + step.n_out)
        sizes = (stop - first)[own][reads[own]]
        fields.append(
            ReceptiveField(
                size=int(sizes.max(initial=0)),
                jump=jump,
                start=int(first[-low]) if reads[-low] else 0,
            )
        )
    return tuple(fields)


def support(steps: Sequence[AxisStep], index: int) -> tuple[int, int] | None:
    """Input pixels ``[first, stop)`` (inclusive-exclusive) that can change unit ``index``.

    Unlike :func:`receptive_fields` this stops at the image border: padding is not input.
    ``None`` when no input pixel reaches the unit (a transposed convolution with a kernel smaller
    than its stride leaves such units, fed by the bias alone). Used by ch. 1 and ch. 5.

    Parameters
    ----------
    steps : sequence of AxisStep
        One step per layer, up to and including the unit's layer.
    index : int
        The unit's position along this axis, in ``[0, steps[-1].n_out)``.

    Returns
    -------
    tuple of int or None

    Examples
    --------
    >>> steps = [AxisStep("window", 8, 8, kernel_size=3, offset=1)]   # 'same' 3-wide conv
    >>> support(steps, 0), support(steps, 4), support(steps, 7)
    ((0, 2), (3, 6), (6, 8))
    """
    if not steps:
        return (index, index + 1)
    last = steps[-1]
    if not 0 <= index < last.n_out:
        raise ValueError(f"index must be in [0, {last.n_out}) for this layer, got {index}.")
    return _support_hull(tuple(steps), len(steps) - 1, index, {})


def read_positions(steps: Sequence[AxisStep], units: Sequence[int] | None = None) -> np.ndarray:
    """Input positions that at least one of ``units`` of the last layer reads, exactly.

    Follows every unit's taps back to the input along one axis, dropping taps on the padding:
    the rows a floored stride drops, the gaps a stride larger than the kernel skips and the
    units a transposed convolution leaves to its bias stay unread. Used by ch. 1 (the pixels no
    output sees) and by :mod:`cae_lessons.boundary`.

    Parameters
    ----------
    steps : sequence of AxisStep
        One step per layer, in order; at least one.
    units : sequence of int, optional
        Positions in the last layer's output (default: all of them).

    Returns
    -------
    (n_in,) bool
        True where the first layer's input position is read.

    Examples
    --------
    A 3-wide window with stride 2 over 8 positions has 3 units, the last reading 4-6:

    >>> steps = [AxisStep("window", 8, 3, kernel_size=3, strides=2)]
    >>> read_positions(steps).astype(int)
    array([1, 1, 1, 1, 1, 1, 1, 0])
    >>> read_positions(steps, units=[0]).astype(int)
    array([1, 1, 1, 0, 0, 0, 0, 0])
    """
    if not steps:
        raise ValueError("read_positions needs at least one AxisStep; got none.")
    needed = set(range(steps[-1].n_out)) if units is None else {int(u) for u in units}
    for step in reversed(steps):
        needed = {m for i in needed for m in step.taps(i) if 0 <= m < step.n_in}
    read = np.zeros(steps[0].n_in, bool)
    read[sorted(needed)] = True
    return read


def written_positions(steps: Sequence[AxisStep]) -> np.ndarray:
    """Output positions of the last layer that depend on at least one input position, exactly.

    The forward counterpart of :func:`read_positions`: a transposed convolution whose stride
    exceeds its kernel leaves gaps that only its bias fills, and a 'same' layer's edge units may
    read nothing but padding. Used by ch. 8 (the output rows a decoder paints).

    Examples
    --------
    A 1-wide transposed convolution with stride 2 from 3 positions paints every other one:

    >>> written_positions([AxisStep("transpose", 3, 6, kernel_size=1, strides=2)]).astype(int)
    array([1, 0, 1, 0, 1, 0])
    """
    if not steps:
        raise ValueError("written_positions needs at least one AxisStep; got none.")
    reached = np.ones(steps[0].n_in, bool)
    for step in steps:
        reached = np.array(
            [
                any(0 <= m < step.n_in and reached[m] for m in step.taps(i))
                for i in range(step.n_out)
            ],
            dtype=bool,
        )
    return reached


@dataclass(frozen=True)
class EmpiricalReceptiveField:
    """Input pixels reaching one unit, measured with gradients.

    Attributes
    ----------
    layer : str
        Name of the layer the unit belongs to.
    position : tuple of int
        ``(row, col)`` of the unit in that layer's output.
    rows, cols : tuple of int
        Non-zero support as ``[first, stop)`` (inclusive-exclusive), from the positive linear
        clone; ``(0, 0)`` when no pixel reaches the unit.
    gradient : numpy.ndarray
        ``(H, W) float32``: ``|d unit / d input|`` of the model itself at ``x``, summed over the
        input channels (the *effective* receptive field of Luo et al. 2016).
    """

    layer: str
    position: tuple[int, int]
    rows: tuple[int, int]
    cols: tuple[int, int]
    gradient: np.ndarray = field(compare=False, repr=False)

    def __repr__(self) -> str:
        return (
            f"EmpiricalReceptiveField(layer={self.layer!r}, position={self.position}, "
            f"rows={self.rows}, cols={self.cols})"
        )


def empirical_receptive_field(model, layer=None, position=None, x=None) -> EmpiricalReceptiveField:
    """Measure which input pixels reach one unit, with the gradient of that unit.

    The *support* is measured on a clone of the model in which every convolution has positive
    constant weights, no bias and a linear activation, every max pooling is an average pooling and
    every other shape-neutral layer (activations, normalisation, dropout) is an identity. In that
    clone every path from an input pixel to the unit carries a positive weight, so the gradient is
    non-zero exactly where some path exists: no dead ReLU or max-pooling choice can hide a pixel.
    The *gradient map* is that of the model itself, at ``x``, and shows how unevenly the pixels
    matter (Luo, Li, Urtasun and Zemel, "Understanding the effective receptive field in deep
    convolutional neural networks", NeurIPS 2016).

    Used by ch. 1 (analytic against measured receptive field) and ch. 5.

    Parameters
    ----------
    model : keras.Model
        A built Sequential or functional chain with a fixed input height and width.
    layer : str or int, optional
        Layer name, or index among the layers after the input (the rows of
        :func:`cae_lessons.shapes.trace`); default: the last layer.
    position : tuple of int, optional
        ``(row, col)`` of the unit in the layer's output (default: its centre).
    x : numpy.ndarray, optional
        ``(1, H, W, C) float32`` input for the gradient map (default: uniform noise, seed 0).

    Returns
    -------
    EmpiricalReceptiveField

    Raises
    ------
    ValueError
        If the unit is outside the layer's output or the model has no fixed input size, or if
        TensorFlow's oneDNN CPU kernels cannot run the model
        (:func:`cae_lessons.shapes.check_cpu_kernels`).

    Examples
    --------
    >>> import keras
    >>> model = keras.Sequential([keras.Input((9, 9, 1)), keras.layers.Conv2D(1, 3, name="c")])
    >>> empirical_receptive_field(model, position=(0, 6))
    EmpiricalReceptiveField(layer='c', position=(0, 6), rows=(0, 3), cols=(6, 9))
    """
    import keras
    import tensorflow as tf

    from cae_lessons.shapes import check_cpu_kernels, layer_kind  # shapes imports this module

    height, width, channels = _fixed_input_shape(model)
    check_cpu_kernels(model)
    if isinstance(layer, str):
        target = model.get_layer(layer)
    else:
        rows = [each for each in model.layers if layer_kind(each) != "input"]
        target = rows[-1 if layer is None else layer]
    out_shape = tuple(target.output.shape[1:3])
    position = tuple(position) if position is not None else (out_shape[0] // 2, out_shape[1] // 2)
    if not all(0 <= p < s for p, s in zip(position, out_shape, strict=True)):
        raise ValueError(
            f"position must lie in the output of layer {target.name!r}, shape {out_shape}; "
            f"got {position}. Use 0 <= row < {out_shape[0]} and 0 <= col < {out_shape[1]}."
        )
    if x is None:
        x = np.random.default_rng(0).random((1, height, width, channels), dtype=np.float32)

    def unit_gradient(net, inputs):
        sub = keras.Model(net.inputs, net.get_layer(target.name).output)
        inputs = tf.convert_to_tensor(inputs)
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            unit = sub(inputs)[0, position[0], position[1], 0]
        return np.abs(tape.gradient(unit, inputs).numpy()[0]).sum(axis=-1)

    clone = keras.models.clone_model(model, clone_function=_positive_linear_clone)
    reach = unit_gradient(clone, np.ones((1, height, width, channels), np.float32)) > 0
    return EmpiricalReceptiveField(
        layer=target.name,
        position=position,
        rows=_box(reach.any(axis=1)),
        cols=_box(reach.any(axis=0)),
        gradient=unit_gradient(model, x).astype(np.float32),
    )


def _fixed_input_shape(model) -> tuple[int, int, int]:
    shape = tuple(model.inputs[0].shape[1:]) if getattr(model, "inputs", None) else ()
    if len(shape) != 3 or None in shape:
        raise ValueError(
            f"empirical_receptive_field needs a built model with a fixed (H, W, C) input; got "
            f"input shape {shape}. Build it with keras.Input((H, W, C))."
        )
    return shape


def _box(mask: np.ndarray) -> tuple[int, int]:
    hits = np.flatnonzero(mask)
    return (int(hits[0]), int(hits[-1]) + 1) if hits.size else (0, 0)


def _positive_linear_clone(layer):
    """Clone for the empirical receptive field: convolutions become positive and linear, max
    pooling becomes average pooling, element-wise merges become sums, other spatial layers and
    concatenations stay, and every shape-neutral layer becomes an Identity (activations and
    normalisations would hide units behind zero gradients)."""
    import keras

    from cae_lessons.shapes import KERAS_NAMES, layer_kind  # shapes imports this module

    kind = layer_kind(layer)
    config = layer.get_config()
    if kind in ("conv", "conv_transpose"):
        config.update(activation="linear", use_bias=False)
        # Conv2D has a kernel; SeparableConv2D a depthwise and a pointwise one; DepthwiseConv2D
        # a depthwise one. Each becomes a positive constant that averages its inputs.
        for part in ("kernel", "depthwise", "pointwise"):
            if f"{part}_initializer" in config:
                weights = getattr(layer, f"{part}_kernel" if part != "kernel" else "kernel", None)
                fan_in = math.prod(weights.shape[:-1]) if layer.built and weights is not None else 1
                config[f"{part}_initializer"] = keras.initializers.Constant(1.0 / fan_in)
                config[f"{part}_regularizer"] = None
                config[f"{part}_constraint"] = None
        return type(layer).from_config(config)
    if kind == "elementwise":  # a sum reaches every pixel either input reaches; a - b may cancel
        return keras.layers.Add(name=layer.name)
    if kind == "concatenate":
        return type(layer).from_config(config)
    if kind == "max_pool":
        return keras.layers.AveragePooling2D.from_config(config)
    if kind in KERAS_NAMES:  # every other spatial layer trace reads
        return type(layer).from_config(config)
    return keras.layers.Identity(name=layer.name)
