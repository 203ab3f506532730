"""trace: every layer's shape, what it loses, its receptive field, without running TensorFlow."""

from __future__ import annotations

import html
import itertools
import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from cae_lessons.receptive import AxisStep, receptive_fields, support
from cae_lessons.shapes.arithmetic import _axis_size, _axis_step
from cae_lessons.shapes.graph import INPUT, is_chain, merge_size, wiring
from cae_lessons.shapes.reading import _as_specs, data_format
from cae_lessons.shapes.specs import (
    _AXIS_UNITS,
    _WINDOWS,
    AXIS_NAMES,
    MERGES,
    LayerSpec,
    Pair,
    _both,
    _joined,
    _listed,
)


@dataclass(frozen=True)
class TraceRow:
    """One layer of a :class:`ShapeTrace`.

    Attributes
    ----------
    name, kind : str
    kernel_size, strides : tuple of int or None
        ``None`` for layers without a window.
    padding : str or None
    input_shape, output_shape : tuple of int
        ``(H, W, C)``; ``(D, H, W, C)`` in 3-D, ``(L, C)`` in 1-D.
    kept : float
        Output values (H * W * C) over the model input's values.
    receptive_field : tuple of int or None
        Receptive field ``(rows, cols)`` (one size per axis) in input pixels (largest over the
        layer's units); ``None`` after a resize whose interpolation is not modelled (bicubic,
        area, ...), and for a layer that more than one path from the input reaches (after a merge).
    jump : tuple of fractions.Fraction or None
        Effective stride ``(rows, cols)`` in input pixels; ``None`` when the paths that reach
        the layer have different ones.
    note : str
        What the layer does to the size when it loses, adds or mismatches pixels, else ``''``.
    loses : bool
        True when the layer drops, trims or crops pixels, or does not undo its encoder partner.
    inputs : tuple of str
        The rows it takes (``'input'``: the model input); empty in a chain.
    """

    name: str
    kind: str
    kernel_size: Pair | None
    strides: Pair | None
    padding: str | None
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    kept: float
    receptive_field: Pair | None
    jump: tuple[Fraction, ...] | None
    note: str
    loses: bool
    inputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class ShapeTrace:
    """Layer-by-layer shapes of a model, computed without running it.

    Attributes
    ----------
    input_shape, output_shape : tuple of int
        ``(H, W, C)`` of the model input and of the last layer (``(D, H, W, C)`` in 3-D).
    rows : tuple of TraceRow
        One per layer (the InputLayer excluded).
    bottleneck : TraceRow
        The layer with the fewest pixels, height × width in 2-D (ties: not the last layer,
        whose output is the reconstruction, then the fewest values).
    compression_ratio : float
        Input values over bottleneck values; below 1 the bottleneck is LARGER than the input.
    bottleneck_values : int or None
        The values at the bottleneck when they are not its output's (a dense bottleneck's
        narrowest Dense); None otherwise.
    matches_input : bool
        True when the output shape equals the input shape.
    first_problem : int or None
        Index into ``rows`` of the first layer that loses pixels or mismatches, or of the last
        layer when only the final size is wrong.
    steps : tuple of tuple of AxisStep
        Per axis, every row's receptive-field step, in row order (a chain when the model is one).
    wiring : tuple of tuple of int
        Per row, the rows it takes (-1: the model input).
    data_format : str
        The model's: for ``'channels_first'`` every shape here is still ``(H, W, C)``.
    """

    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    rows: tuple[TraceRow, ...]
    bottleneck: TraceRow
    compression_ratio: float
    matches_input: bool
    first_problem: int | None
    steps: tuple[tuple[AxisStep, ...], ...] = field(repr=False, compare=False)
    wiring: tuple[tuple[int, ...], ...] = field(default=(), repr=False, compare=False)
    data_format: str = "channels_last"
    bottleneck_values: int | None = None

    @property
    def is_chain(self) -> bool:
        """True when every layer takes the one before it (no branch, no merge)."""
        return is_chain(self.wiring)

    def support(self, layer: int | str, position: tuple[int, ...]):
        """Input pixels that can change one unit, as ``((first_row, stop_row), (first_col,
        stop_col))`` (inclusive-exclusive, clipped to the image); ``None`` if no pixel reaches it.

        Through merges, the union over every path from the input: exact when one path's box
        holds all the others (as the deepest path of a U-Net does); otherwise a ValueError.

        Parameters
        ----------
        layer : int or str
            Index into ``rows`` or a layer name.
        position : tuple of int
            ``(row, col)`` of the unit in that layer's output (one index per axis).

        Examples
        --------
        >>> t = trace([LayerSpec("conv", kernel_size=3), LayerSpec("max_pool", kernel_size=2)],
        ...           input_shape=(8, 8))
        >>> t.support(1, (0, 2))
        ((0, 4), (4, 8))
        """
        names = [row.name for row in self.rows]
        index = names.index(layer) if isinstance(layer, str) else layer
        if len(position) != len(self.steps):
            raise ValueError(
                f"position must give one index per spatial axis ({len(self.steps)}), got "
                f"{tuple(position)}."
            )
        paths = _paths(self.wiring, index)
        if paths is None:
            raise ValueError(
                f"More than {_PATH_LIMIT} paths from the input reach {names[index]!r}; "
                "support() follows each. Trace a part of the model."
            )
        boxes = []
        for path in paths:
            box = tuple(
                support([axis[i] for i in path], p)
                for axis, p in zip(self.steps, position, strict=True)
            )
            if None not in box:
                boxes.append(box)
        if not boxes:
            return None
        hull = tuple(
            (min(b[a][0] for b in boxes), max(b[a][1] for b in boxes)) for a in range(len(box))
        )
        if hull not in boxes:  # the union of the paths' boxes is a box only if one holds all
            raise ValueError(
                f"The input pixels that reach {names[index]!r} at {tuple(position)} through its "
                f"{len(paths)} paths are not one box (no path's box {boxes} holds all the "
                "others); trace each path as a list of its layers."
            )
        return hull

    def summary(self) -> str:
        """One paragraph: round trip, bottleneck and compression."""
        verdict = (
            "round-trips"
            if self.matches_input
            else f"does NOT round-trip: output {_joined(self.output_shape)}"
        )
        bigger = (
            " (the bottleneck is LARGER than the input: nothing forces compression)"
            if self.compression_ratio < 1
            else ""
        )
        order = (
            " (A channels_first model: its C×H×W shapes are shown as H×W×C.)"
            if self.data_format == "channels_first"
            else ""
        )
        size = _joined(self.bottleneck.output_shape)
        if self.bottleneck_values is not None:
            size = f"({self.bottleneck_values} values inside)"
        others = [row for row in self.rows if row.kind == "input"]
        several = (
            f" The other inputs: {_listed(f'{r.name!r} {_joined(r.output_shape)}' for r in others)}"
            f"; 'input' in the 'from' column is the first."
            if others
            else ""
        )
        return (
            f"Input {_joined(self.input_shape)} {verdict}. Bottleneck {self.bottleneck.name!r} "
            f"{size}: compression {self.compression_ratio:.2f}×"
            f"{bigger}.{several}{order}"
        )

    def _header(self) -> tuple[str, ...]:
        header = self._HEADER
        return header if self.is_chain else (*header[:2], "from", *header[2:])

    def _cells(self) -> list[list[str]]:
        cells = []
        for index, row in enumerate(self.rows):
            window = "" if row.kernel_size is None else _both(*row.kernel_size)
            stride = "" if row.strides is None else _both(*row.strides)
            after = () if self.is_chain else (_sources(row, index, self.wiring),)
            cells.append(
                [
                    row.name,
                    row.kind,
                    *after,
                    window,
                    stride,
                    row.padding or "",
                    _joined(row.input_shape),
                    _joined(row.output_shape),
                    f"{row.kept:.2f}",
                    "?" if row.receptive_field is None else _both(*row.receptive_field),
                    "?" if row.jump is None else _both(*row.jump),
                    row.note,
                ]
            )
        return cells

    _HEADER = (
        "layer",
        "kind",
        "kernel",
        "strides",
        "padding",
        "input",
        "output",
        "kept",
        "RF",
        "jump",
        "note",
    )

    def __str__(self) -> str:
        header = self._header()
        cells = [list(header), *self._cells()]
        widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
        lines = []
        for index, line in enumerate(cells):
            mark = ">>" if index - 1 == self.first_problem else "  "
            lines.append(
                mark + " " + "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True))
            )
        return "\n".join([*(line.rstrip() for line in lines), self.summary()])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        # Numbers stay on one line; only the last column (the note) wraps, and the table
        # scrolls sideways in a narrow page instead of growing very tall rows.
        fixed, note = "white-space:nowrap;padding:0 0.5em", "min-width:22em;padding:0 0.5em"
        header = self._header()
        head = "".join(
            f'<th style="{note if i == len(header) - 1 else fixed}">{html.escape(h)}</th>'
            for i, h in enumerate(header)
        )
        body = []
        for index, line in enumerate(self._cells()):
            style = ' style="background:#fdd"' if index == self.first_problem else ""
            tds = "".join(
                f'<td style="{note if i == len(line) - 1 else fixed}">{html.escape(c)}</td>'
                for i, c in enumerate(line)
            )
            body.append(f"<tr{style}>{tds}</tr>")
        return (
            f'<div style="overflow-x:auto"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>"
            f"<p>{html.escape(self.summary())}</p>"
        )


_UNIT = "\x00unit\x00"
"""Stands in a per-axis note for the axis' unit until :func:`_join_axes` names it."""


def _axis_note(spec: LayerSpec, axis: int, n_in: int, n_out: int) -> tuple[str, bool]:
    """Plain-English note on what a layer does to one axis, and whether it loses pixels."""
    k, s = spec.kernel_size[axis], spec.strides[axis]
    if spec.kind == "crop" and n_out < n_in:
        return f"cropping removes {n_in - n_out} px: {n_in}→{n_out}", True
    if spec.kind == "pad_to_multiple" and n_out > n_in:
        return f"pads to a multiple of {spec.multiple[axis]}: {n_in}→{n_out}", False
    if spec.kind == "crop_to_input" and n_out < n_in:
        return f"crops back to the input: {n_in}→{n_out}", False
    if spec.kind == "dense":
        return "dense bottleneck: each pixel it gives reads every pixel it takes", False
    if spec.kind not in _WINDOWS or (n_out == n_in and s == 1):
        return "", False
    kernel = _both(*spec.kernel_size)
    what = f"{_kernel_words(spec.kernel_size)} conv" if spec.kind == "conv" else f"pooling {kernel}"
    if s == 1:
        return f"{spec.padding} {what} trims {n_in - n_out} px: {n_in}→{n_out}", True
    dilated = spec.dilation_rate[axis] * (k - 1) + 1
    dropped = 0 if spec.padding == "same" else (n_in - dilated) % s
    losses = []
    if dropped:
        losses.append(f"drops the last {_UNIT if dropped == 1 else f'{dropped} {_UNIT}s'}")
    if s > dilated:
        losses.append(f"skips {s - dilated} of every {s} {_UNIT}s between windows")
    pads = n_out * s - n_in if spec.padding == "same" else 0
    verb = "floors" if dropped else "pads" if pads > 0 else "maps"
    note = f"{what} with stride {s} {verb} {n_in}→{n_out}"
    return ", ".join([note, *losses[:-1]]) + (f" and {losses[-1]}" if losses else ""), bool(losses)


def _check_dense(spec: LayerSpec, current: tuple[int, ...]) -> None:
    """A ValueError, as Keras raises one, where a dense bottleneck gets another size than its
    first Dense was built for (a Flatten passes on every value; a global pooling one per
    channel, at any size)."""
    if spec.expects is None or math.prod(current) == math.prod(spec.expects):
        return
    raise ValueError(
        f"{spec.describe()} cannot take {_joined(current)} ({math.prod(current):,} values): its "
        f"first Dense was built for {_joined(spec.expects)} ({math.prod(spec.expects):,} values) "
        "and Keras raises a ValueError here. A model with a Flatten → Dense bottleneck runs at "
        "the one input size it was built for (input_sizes(model) gives it): feed that size, or "
        "pad or crop the images to it."
    )


def _kernel_words(kernel_size: Sequence[int]) -> str:
    """``'3×3'``, ``'3×3×3'``, or ``'3-wide'`` for a 1-D kernel."""
    return f"{kernel_size[0]}-wide" if len(kernel_size) == 1 else _joined(kernel_size)


def _is_down(spec: LayerSpec) -> bool:
    return spec.kind in _WINDOWS and max(spec.strides) > 1


def _is_up(spec: LayerSpec) -> bool:
    return (spec.kind == "upsample" and max(spec.size) > 1) or (
        spec.kind == "conv_transpose" and max(spec.strides) > 1
    )


def _up_note(spec: LayerSpec, n_out: int, target: int | None) -> tuple[str, bool]:
    if spec.kind == "upsample":
        what = f"upsampling ×{_both(*spec.size)}"
    else:
        kernel = _kernel_words(spec.kernel_size)
        what = f"transposed {kernel} conv with stride {_both(*spec.strides)}"
    if target is None or target == n_out:
        return "", False
    return f"{what} gives {n_out}, not {target}", True


def _join_axes(notes: Sequence[str]) -> str:
    """One note for the axes, or one per axis, each in its own unit (row, column, slice).

    Notes that agree on every axis are given once, in the first axis' unit.
    """
    units = _AXIS_UNITS[len(notes)]
    if len(set(notes)) == 1:
        return notes[0].replace(_UNIT, units[0])
    names = AXIS_NAMES[len(notes)]
    return "; ".join(
        f"{axis}: {note.replace(_UNIT, unit)}"
        for axis, unit, note in zip(names, units, notes, strict=True)
        if note
    )


def trace(model_or_layers, input_shape=None) -> ShapeTrace:
    """Walk a model layer by layer and report every shape, without running TensorFlow.

    Reads each layer's ``get_config()``; works on built and unbuilt Sequential and functional
    chains, or on a list of :class:`LayerSpec` (or of dicts with its fields). Used by ch. 1, 3-5.

    Parameters
    ----------
    model_or_layers : keras.Model or sequence of layers / LayerSpec / dict
        Of 1-D, 2-D or 3-D layers (one rank throughout).
    input_shape : tuple of int, optional
        ``(H, W)`` or ``(H, W, C)``, also for a channels_first model (``(D, H, W)`` or
        ``(D, H, W, C)`` for 3-D layers, ``(L,)`` or ``(L, C)`` for 1-D); default: the model's
        own input shape.

    Returns
    -------
    ShapeTrace

    Raises
    ------
    ValueError
        For unknown layers (named in the message), a model that is not one chain of layers
        (several inputs or outputs, merges, a subclassed model), an unknown input shape, or a
        size that becomes zero or negative.

    Examples
    --------
    >>> layers = [LayerSpec("conv", "enc", kernel_size=3, filters=8),
    ...           LayerSpec("max_pool", "pool", 2), LayerSpec("upsample", "up", size=2),
    ...           LayerSpec("conv", "out", 3, filters=1)]
    >>> t = trace(layers, input_shape=(128, 128, 1))
    >>> t.output_shape, t.matches_input, t.rows[t.first_problem].name
    ((124, 124, 1), False, 'enc')
    >>> t.rows[0].note
    'valid 3×3 conv trims 2 px: 128→126'
    """
    specs, shape = _as_specs(model_or_layers, input_shape)
    wires = wiring(specs)
    axes = range(len(shape) - 1)
    rows: list[dict] = []
    steps: tuple[list[AxisStep], ...] = tuple([] for _ in axes)
    pendings: list[tuple] = []  # per row: the sizes before each downsampling not yet undone
    values_in = math.prod(shape)
    for spec, sources in zip(specs, wires, strict=True):
        inputs = [shape if j < 0 else rows[j]["output_shape"] for j in sources]
        pending = () if sources[0] < 0 else pendings[sources[0]]
        current = inputs[0]
        if spec.kind in MERGES:
            out = _merged_shape(spec, inputs, sources, specs, wires, rows)
            notes = [("", False) for _ in axes]
        else:
            if spec.kind == "dense":
                _check_dense(spec, current)
                size = spec.target
            else:
                size = tuple(_axis_size(spec, axis, current[axis], shape[axis]) for axis in axes)
            out = (*size, spec.filters or current[-1])
            notes = [_axis_note(spec, axis, current[axis], size[axis]) for axis in axes]
            if _is_down(spec):
                pending = (*pending, current[:-1])
            elif _is_up(spec):
                target = pending[-1] if pending else (None,) * len(axes)
                pending = pending[:-1]
                notes = [_up_note(spec, size[axis], target[axis]) for axis in axes]
        pendings.append(pending)
        for axis in axes:
            steps[axis].append(_axis_step(spec, axis, current[axis], out[axis]))
        has_window = spec.kind in _WINDOWS or spec.kind == "conv_transpose"
        rows.append(
            dict(
                name=spec.name or f"{spec.kind}_{len(rows)}",
                kind=spec.kind,
                kernel_size=spec.kernel_size if has_window else None,
                strides=spec.strides if has_window else None,
                padding=spec.padding if has_window else None,
                input_shape=out if spec.kind == "input" else current,
                output_shape=out,
                kept=math.prod(out) / values_in,
                note=_join_axes([n for n, _ in notes]),
                loses=any(lost for _, lost in notes),
                inputs=tuple(INPUT if j < 0 else rows[j]["name"] for j in sources)
                if spec.inputs
                else (),
            )
        )
    current = rows[-1]["output_shape"] if rows else shape
    if not rows:
        raise ValueError("trace needs at least one layer besides the input; got none.")
    columns = _receptive_columns(steps) if is_chain(wires) else _graph_columns(steps, wires)
    rows = tuple(
        TraceRow(**row, receptive_field=rf, jump=jump)
        for row, rf, jump in zip(rows, *columns, strict=True)
    )
    matches = current == shape
    problem = next((i for i, row in enumerate(rows) if row.loses), None)
    if problem is None and not matches:
        problem = len(rows) - 1
    last = len(rows) - 1  # the reconstruction: the bottleneck only when nothing else is as small
    inside = [spec.units if spec.kind == "dense" else None for spec in specs]
    least = min(
        (i for i, row in enumerate(rows) if row.kind != "input"),
        key=lambda i: (
            1 if inside[i] else math.prod(rows[i].output_shape[:-1]),  # a vector: one pixel
            i == last,
            inside[i] or math.prod(rows[i].output_shape),
        ),
        default=last,
    )
    bottleneck = rows[least]
    return ShapeTrace(
        input_shape=shape,
        output_shape=current,
        rows=rows,
        bottleneck=bottleneck,
        compression_ratio=values_in / (inside[least] or math.prod(bottleneck.output_shape)),
        matches_input=matches,
        first_problem=problem,
        steps=tuple(tuple(axis) for axis in steps),
        wiring=wires,
        data_format=data_format(model_or_layers),
        bottleneck_values=inside[least],
    )


def _receptive_columns(steps) -> tuple[list, list]:
    """Per-layer receptive field, one size per axis (``None`` after an unmodelled resize), and
    jump."""
    sizes, jumps = [], []
    for axis_steps in steps:
        known = next((i for i, step in enumerate(axis_steps) if not step.exact), len(axis_steps))
        fields = receptive_fields(axis_steps[:known])
        sizes.append([f.size for f in fields] + [None] * (len(axis_steps) - known))
        jumps.append(list(itertools.accumulate((step.jump for step in axis_steps), operator.mul)))
    return (
        [None if None in pair else pair for pair in zip(*sizes, strict=True)],
        list(zip(*jumps, strict=True)),
    )


_PATH_LIMIT = 4096
"""The most paths from the input to one layer that ``ShapeTrace.support`` follows."""


def _paths(wires, index: int) -> list[list[int]] | None:
    """Every path from the input to ``index`` (rows in order); None past ``_PATH_LIMIT``."""
    found: dict[int, list[list[int]] | None] = {}
    for i in range(index + 1):
        ways: list[list[int]] = []
        for j in wires[i]:
            before = [[]] if j < 0 else found[j]
            if before is None or len(ways) + len(before) > _PATH_LIMIT:
                ways = None
                break
            ways += [[*way, i] for way in before]
        found[i] = ways
    return found[index]


def _graph_columns(steps, wires) -> tuple[list, list]:
    """:func:`_receptive_columns` for a graph: the receptive field is the union over every path
    (None behind an unmodelled resize), the jump given only where all paths agree."""
    jumps, path_jumps = [], []
    for index, sources in enumerate(wires):
        start = {(Fraction(1),) * len(steps)}
        before = set().union(*(start if j < 0 else path_jumps[j] for j in sources))
        here = {
            tuple(jump * axis[index].jump for jump, axis in zip(way, steps, strict=True))
            for way in before
        }
        path_jumps.append(here)
        jumps.append(next(iter(here)) if len(here) == 1 else None)
    exact: list[bool] = []  # no unmodelled resize on the row or behind it
    for index, sources in enumerate(wires):
        behind = all(exact[j] for j in sources if j >= 0)
        exact.append(behind and all(axis[index].exact for axis in steps))
    kept = [i for i in range(len(wires)) if exact[i]]
    renumber = {old: new for new, old in enumerate(kept)} | {-1: -1}
    kept_wires = [tuple(renumber[j] for j in wires[i]) for i in kept]
    sizes = [
        [f.size for f in receptive_fields([axis[i] for i in kept], kept_wires)] for axis in steps
    ]
    fields: list = [None] * len(wires)
    for new, old in enumerate(kept):
        fields[old] = tuple(axis[new] for axis in sizes)
    return fields, jumps


def _sources(row: TraceRow, index: int, wires) -> str:
    """The ``from`` cell: blank when a row takes the row before it."""
    return "" if wires[index] == (index - 1,) else ", ".join(row.inputs)


def _branch(specs, wires, start: int, other: int) -> list[int]:
    """The rows behind ``start`` back to where its branch left the one that leads to ``other``."""
    behind = _ancestors(wires, other)
    branch = []
    while start >= 0 and start not in behind:
        branch.append(start)
        start = wires[start][0]
    return branch[::-1]


def _ancestors(wires, index: int) -> set[int]:
    seen, todo = set(), [index]
    while todo:
        j = todo.pop()
        if j >= 0 and j not in seen:
            seen.add(j)
            todo.extend(wires[j])
    return seen


def _merged_shape(spec: LayerSpec, inputs, sources, specs, wires, rows) -> tuple[int, ...]:
    """A merge's output ``(H, W, C)``, or a ValueError naming both branches, their shapes and
    the first layer on either branch that loses pixels."""
    axes = range(len(inputs[0]) - 1)
    sizes = [merge_size(spec.kind, [shape[axis] for shape in inputs]) for axis in axes]
    if spec.kind == "concatenate":
        channels, channels_agree = sum(shape[-1] for shape in inputs), True
    else:
        channels, channels_agree = merge_size(spec.kind, [shape[-1] for shape in inputs])
    if all(bool(agree) for _, agree in sizes) and bool(channels_agree):
        return (*(int(size) for size, _ in sizes), int(channels))
    first, other = next(
        (0, k)
        for k in range(1, len(inputs))
        if inputs[k][:-1] != inputs[0][:-1]
        or (spec.kind != "concatenate" and inputs[k] != inputs[0])
    )
    names = [INPUT if j < 0 else rows[j]["name"] for j in sources]
    a, b = sources[first], sources[other]
    differ = [
        AXIS_NAMES[len(axes)][axis] + "s"
        for axis in axes
        if inputs[first][axis] != inputs[other][axis]
    ]
    if spec.kind != "concatenate" and inputs[first][-1] != inputs[other][-1]:
        differ.append("channels")
    lines = [
        f"{spec.describe()} cannot join its inputs: {names[first]!r} is "
        f"{_joined(inputs[first])} and {names[other]!r} is {_joined(inputs[other])}; their "
        f"{_listed(differ)} differ, and Keras raises a ValueError here."
    ]
    for j, k in ((a, b), (b, a)):
        branch = _branch(specs, wires, j, k)
        label = INPUT if j < 0 else rows[j]["name"]
        if not branch:
            lines.append(f"The branches split at {label!r}.")
            continue
        lossy = next((i for i in branch if rows[i]["loses"]), None)
        lost = "" if lossy is None else f"; there, {rows[lossy]['name']!r}: {rows[lossy]['note']}"
        lines.append(f"Behind {label!r}: {' → '.join(rows[i]['name'] for i in branch)}{lost}.")
    raise ValueError(" ".join(lines))
