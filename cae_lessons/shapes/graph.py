"""A layer list as a graph: which earlier layers each one takes, and every layer's size along one
axis for many input sizes at once (NumPy arrays), merges included.

A plain list of :class:`LayerSpec` is a chain: each layer takes the one before it. A layer whose
``inputs`` names earlier layers (``'input'`` for the model input) makes the list a graph; the list
is then in an order that computes every layer after the layers it takes (Keras' own order for a
model read by :func:`cae_lessons.shapes.trace`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from cae_lessons.shapes.arithmetic import _raw_axis_size
from cae_lessons.shapes.specs import _WINDOWS, MERGES, LayerSpec

INPUT = "input"
"""The name by which a LayerSpec's ``inputs`` refer to the model input."""


def wiring(specs: Sequence[LayerSpec]) -> tuple[tuple[int, ...], ...]:
    """For every spec, the indices of the specs it takes; ``-1`` is the model input.

    Examples
    --------
    >>> wiring([LayerSpec("conv", "a"), LayerSpec("conv", "b"),
    ...         LayerSpec("elementwise", "sum", inputs=["a", "b"])])
    ((-1,), (0,), (0, 1))
    """
    index: dict[str, int] = {}
    repeated: set[str] = set()
    wires = []
    for i, spec in enumerate(specs):
        if not spec.inputs:
            wires.append((i - 1,))
        else:
            sources = []
            for name in spec.inputs:
                if name in repeated:
                    raise ValueError(
                        f"{spec.describe()} takes {name!r}, a name that several earlier layers "
                        "have; give every layer that another one takes a unique name."
                    )
                if name != INPUT and name not in index:
                    raise ValueError(
                        f"{spec.describe()} takes {name!r}, which is not the name of an earlier "
                        f"layer (nor {INPUT!r}, the model input); list every layer after the "
                        "layers it takes."
                    )
                sources.append(-1 if name == INPUT else index[name])
            wires.append(tuple(sources))
        if spec.name in index:
            repeated.add(spec.name)
        index[spec.name] = i
    return tuple(wires)


def is_chain(wires: Sequence[tuple[int, ...]]) -> bool:
    """True when every layer takes the one before it."""
    return all(sources == (i - 1,) for i, sources in enumerate(wires))


def merge_size(kind: str, sizes: Sequence):
    """A merge's output size along one axis and whether its inputs agree there.

    ``'concatenate'`` needs equal sizes; ``'elementwise'`` equal sizes or 1 (broadcast, as Keras'
    merging layers and ``keras.ops`` broadcast). Works on ints and on arrays.
    """
    if kind == "concatenate":
        first = sizes[0]
        agree = np.logical_and.reduce([size == first for size in sizes])
        return first, agree
    out = np.maximum.reduce(np.broadcast_arrays(*sizes))
    agree = np.logical_and.reduce([(size == out) | (size == 1) for size in sizes])
    return out, agree


def axis_sizes(specs: Sequence[LayerSpec], wires, axis: int, n) -> tuple[list, np.ndarray]:
    """Every layer's output size along ``axis`` for an array of input sizes.

    Parameters
    ----------
    specs : sequence of LayerSpec
    wires : tuple of tuple of int
        :func:`wiring` of ``specs``.
    axis : int
        0 (height) or 1 (width).
    n : array_like of int
        Input sizes along the axis.

    Returns
    -------
    sizes : list of (len(n),) int64
        One per spec; meaningful only where ``runs``.
    runs : (len(n),) bool
        True where Keras runs the model at that size: every size is at least 1, every merge's
        inputs agree and TensorFlow accepts every layer.

    Examples
    --------
    >>> specs = [LayerSpec("max_pool", "p", 2), LayerSpec("upsample", "u", size=2),
    ...          LayerSpec("concatenate", "c", inputs=["u", "input"])]
    >>> sizes, runs = axis_sizes(specs, wiring(specs), 0, [7, 8])
    >>> [s.tolist() for s in sizes], runs.tolist()
    ([[3, 4], [6, 8], [6, 8]], [False, True])
    """
    n = np.asarray(n, np.int64)
    runs = n >= 1
    sizes: list = []
    for spec, sources in zip(specs, wires, strict=True):
        inputs = [n if j < 0 else sizes[j] for j in sources]
        if spec.kind in MERGES:
            out, agree = merge_size(spec.kind, inputs)
            runs = runs & agree
        else:
            out = _raw_axis_size(spec, axis, inputs[0], n)
            if out is None:  # TensorFlow rejects every input size
                out = np.zeros_like(n)
            out = np.broadcast_to(np.asarray(out, np.int64), n.shape)
        runs = runs & (out >= 1)
        sizes.append(out)
    return sizes, runs


def output_size(specs: Sequence[LayerSpec], wires, axis: int, n: int) -> int | None:
    """The last layer's size along ``axis`` for one input size; None where Keras would not run.

    :func:`axis_sizes` for one size, in plain Python (the fixes of ``diagnose`` try hundreds).

    Examples
    --------
    >>> specs = [LayerSpec("max_pool", "p", 2), LayerSpec("upsample", "u", size=2),
    ...          LayerSpec("concatenate", "c", inputs=["u", "input"])]
    >>> output_size(specs, wiring(specs), 0, 8), output_size(specs, wiring(specs), 0, 7)
    (8, None)
    """
    sizes: list[int] = []
    for spec, sources in zip(specs, wires, strict=True):
        inputs = [n if j < 0 else sizes[j] for j in sources]
        if spec.kind == "concatenate":
            out = inputs[0] if all(size == inputs[0] for size in inputs) else None
        elif spec.kind == "elementwise":
            out = max(inputs)
            out = out if all(size in (out, 1) for size in inputs) else None
        else:
            out = _raw_axis_size(spec, axis, inputs[0], n)
        if out is None or out < 1:
            return None
        sizes.append(out)
    return sizes[-1] if sizes else n


def output_channels(specs: Sequence[LayerSpec], wires, channels: int) -> int | None:
    """The channels of the last layer's output; None where an elementwise merge's disagree.

    Examples
    --------
    >>> specs = [LayerSpec("conv", "a", filters=8),
    ...          LayerSpec("concatenate", "c", inputs=["a", "input"])]
    >>> output_channels(specs, wiring(specs), 3)
    11
    """
    out: list[int | None] = []
    for spec, sources in zip(specs, wires, strict=True):
        inputs = [channels if j < 0 else out[j] for j in sources]
        if None in inputs:
            out.append(None)
        elif spec.kind == "concatenate":
            out.append(sum(inputs))
        elif spec.kind == "elementwise":
            size, agree = merge_size(spec.kind, inputs)
            out.append(int(size) if agree else None)
        else:
            out.append(spec.filters or inputs[0])
    return out[-1] if out else channels


def growth(specs: Sequence[LayerSpec], wires, axis: int) -> list[tuple[int, int]]:
    """Per layer, ``(period, step)``: adding ``period`` to the input size adds ``step`` to its size.

    Every layer's size rule is a floor or ceiling of an affine map, so ``size(n + period) =
    size(n) + step`` holds for every integer ``n`` (the formula's value, before any check that it
    is positive). A stride ``s`` divides the step, so the period grows until the step is a
    multiple of ``s``; an upsampling multiplies it; a resize makes it 0. A merge's branches are
    brought to a common period (the input's own rule is ``(1, 1)``); where their steps differ
    the merge's step is the larger, and :func:`cae_lessons.shapes.solving.input_sizes` knows
    that those branches agree at finitely many sizes only.

    Examples
    --------
    >>> specs = [LayerSpec("conv", kernel_size=3), LayerSpec("max_pool", kernel_size=2),
    ...          LayerSpec("max_pool", kernel_size=2), LayerSpec("upsample", size=4)]
    >>> growth(specs, wiring(specs), 0)
    [(1, 1), (2, 1), (4, 1), (4, 4)]
    """
    rules: list[tuple[int, int]] = []
    for spec, sources in zip(specs, wires, strict=True):
        inputs = [(1, 1) if j < 0 else rules[j] for j in sources]
        period, step = inputs[0]
        if spec.kind in MERGES:
            period = math.lcm(*(p for p, _ in inputs))
            step = max(s * period // p for p, s in inputs)
        elif spec.kind in _WINDOWS:
            stride = spec.strides[axis]
            times = stride // math.gcd(step, stride)
            period, step = period * times, step * times // stride
        elif spec.kind == "pad_to_multiple":
            multiple = spec.multiple[axis]
            times = multiple // math.gcd(step, multiple)
            period, step = period * times, step * times
        elif spec.kind == "upsample":
            step *= spec.size[axis]
        elif spec.kind == "conv_transpose":
            step *= spec.strides[axis]
        elif spec.kind in ("resize", "dense"):
            step = 0
        elif spec.kind == "crop_to_input":
            step = min(step, period)  # min(size, n): the slower one, once they have crossed
        rules.append((period, step))
    return rules
