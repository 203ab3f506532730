"""diagnose: why a model does not give back its input size, and fixes verified by re-tracing;
compatible_sizes."""

from __future__ import annotations

import html
import itertools
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from cae_lessons.shapes.cpu import drops_fused_padding
from cae_lessons.shapes.graph import INPUT, axis_sizes, output_channels, output_size, wiring
from cae_lessons.shapes.reading import _as_specs, _ranked_specs
from cae_lessons.shapes.solving import WIDTH, InputSizes, input_sizes
from cae_lessons.shapes.specs import _POOLS, _WINDOWS, LayerSpec, _both, _joined, _pair
from cae_lessons.shapes.tracing import ShapeTrace, _is_down, _is_up, trace


def _round_trips(specs: Sequence[LayerSpec], input_shape) -> bool:
    """Re-trace the shapes (not the receptive fields): does the output equal the input?"""
    wires = wiring(specs)
    return all(
        output_size(specs, wires, axis, n) == n for axis, n in enumerate(input_shape[:-1])
    ) and (output_channels(specs, wires, input_shape[-1]) == input_shape[-1])


def compatible_sizes(model_or_layers, lo: int, hi: int) -> tuple[int, ...]:
    """Square input sizes ``n`` in ``[lo, hi]`` for which an ``n × n`` input round-trips
    (``n × n × n`` for 3-D layers).

    Used by ch. 3 and ch. 4 ("which MRI sizes does this autoencoder accept?").

    Parameters
    ----------
    model_or_layers : keras.Model or sequence of layers / LayerSpec / dict
    lo, hi : int
        Inclusive bounds, ``lo >= 1``.

    Returns
    -------
    tuple of int

    Examples
    --------
    >>> layers = [LayerSpec("conv", kernel_size=3, padding="same"),
    ...           LayerSpec("max_pool", kernel_size=2), LayerSpec("upsample", size=2)]
    >>> compatible_sizes(layers, 125, 132)
    (126, 128, 130, 132)
    """
    specs = _ranked_specs(model_or_layers)
    lo, hi = _pair((lo, hi), "lo, hi")
    if lo > hi:
        raise ValueError(
            f"compatible_sizes searches lo <= n <= hi, got lo={lo} > hi={hi}; swap them, e.g. "
            f"compatible_sizes(model, {hi}, {lo})."
        )
    n = np.arange(lo, hi + 1)
    wires = wiring(specs)
    works = np.ones(n.shape, bool)
    for axis in range(specs[0].rank if specs else 0):
        sizes, runs = axis_sizes(specs, wires, axis, n)
        works &= runs & (sizes[-1] == n)
    return tuple(n[works].tolist())


@dataclass(frozen=True)
class Fix:
    """One change that makes the model round-trip, verified by re-tracing it.

    Attributes
    ----------
    kind : str
        ``'input_size'``, ``'padding_same'``, ``'match_strides'``, ``'padding_same+match_strides'``,
        ``'output_padding'``, ``'crop_or_pad_output'`` or ``'pad_to_multiple'``.
    description : str
        What to change, in words.
    layers : tuple of LayerSpec
        The changed layer list.
    input_shape : tuple of int
        ``(H, W, C)`` the changed model round-trips at (``(D, H, W, C)`` in 3-D).
    """

    kind: str
    description: str
    layers: tuple[LayerSpec, ...]
    input_shape: tuple[int, ...]

    def __repr__(self) -> str:
        return f"Fix({self.kind}: {self.description})"

    def apply(self, model):
        """The diagnosed Keras ``model`` with this fix made to it (:func:`apply_fix`)."""
        from cae_lessons.shapes.editing import apply_fix

        return apply_fix(self, model)

    def check(self, model) -> bool:
        """Run the fixed ``model`` once: does it give back its input shape (:func:`check_fix`)?"""
        from cae_lessons.shapes.editing import check_fix

        return check_fix(self, model)


@dataclass(frozen=True)
class Diagnosis:
    """Why a model does or does not give back its input size, and verified fixes.

    Attributes
    ----------
    ok : bool
        True when the output shape equals the input shape.
    problems : tuple of str
        Plain-English steps that break the round trip, in layer order, ending with the sizes.
    fixes : tuple of Fix
        Only fixes whose re-trace round-trips; empty when ``ok``.
    trace : ShapeTrace or None
        ``None`` when Keras cannot run the model at this size: a size becomes zero or negative,
        or a merge's inputs disagree.
    sizes : InputSizes or None
        The input sizes the model runs at and round-trips at, per axis (:func:`input_sizes`).
    """

    ok: bool
    problems: tuple[str, ...]
    fixes: tuple[Fix, ...]
    trace: ShapeTrace | None
    sizes: InputSizes | None = None

    @property
    def explanation(self) -> str:
        """The problems joined into one sentence."""
        return "; ".join(self.problems) if self.problems else "the output shape equals the input"

    @property
    def runs(self) -> str:
        """What the model maps its input to when it runs here but round-trips at no size (as a
        segmentation head or a valid U-Net does by design), else ``''``."""
        trips = self.sizes is not None and all(a.round_trips.sizes_exist for a in self.sizes.axes)
        if self.ok or self.trace is None or trips:
            return ""
        shapes = f"{_joined(self.trace.input_shape)} → {_joined(self.trace.output_shape)}"
        return (
            f"It runs at this size: {shapes}; if that is what it is for (a segmentation head, a "
            "valid U-Net), it needs no fix."
        )

    def _notes(self) -> list[str]:
        notes = [self.runs] if self.runs else []
        if self.sizes is not None:
            notes += [f"Input sizes, {line}." for line in self.sizes.sentences()]
        return notes

    def __str__(self) -> str:
        """Wrapped at 88 characters, so that it reads in a notebook and in the book's column."""
        lines = [("OK: " if self.ok else "MISMATCH: ") + self.explanation.rstrip(".") + "."]
        if not self.ok:
            lines += self._notes()
            lines.append("Fixes (each verified by re-tracing):" if self.fixes else "No fix found.")
        text = [textwrap.fill(line, WIDTH, subsequent_indent="  ") for line in lines]
        if not self.ok:
            text += [
                textwrap.fill(
                    fix.description, WIDTH, initial_indent="  - ", subsequent_indent="    "
                )
                for fix in self.fixes
            ]
        return "\n".join(text)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(fix.description)}</li>" for fix in self.fixes)
        verdict = "OK" if self.ok else "MISMATCH"
        heading = "Fixes (each verified by re-tracing):" if self.fixes else "No fix found."
        notes = "" if self.ok else "".join(f"<p>{html.escape(n)}</p>" for n in self._notes())
        fixes = "" if self.ok else f"<p>{heading}</p><ul>{items}</ul>"
        explanation = html.escape(self.explanation.rstrip("."))
        return f"<p><b>{verdict}</b>: {explanation}.</p>{notes}{fixes}"


def _input_size_fix(specs, shape, sizes: InputSizes) -> Fix | None:
    """The nearest input size that round-trips (ties: the larger, so padding beats cropping), or
    where none does and the model cannot run at this size, the nearest it runs at."""
    trips = [axis.round_trips for axis in sizes.axes]
    if not all(rule.sizes_exist for rule in trips):
        if all(n in axis.runs for axis, n in zip(sizes.axes, shape[:-1], strict=True)):
            return None
        rules, what = [axis.runs for axis in sizes.axes], "runs at"
    else:
        rules, what = trips, "round-trips"
    near = [rule.nearest(n) for rule, n in zip(rules, shape[:-1], strict=True)]
    if any(below is None and above is None for below, above in near):
        return None
    chosen = tuple(
        below if above is None or (below is not None and n - below < above - n) else above
        for (below, above), n in zip(near, shape[:-1], strict=True)
    )
    new = (*chosen, shape[-1])
    if what == "round-trips" and not _round_trips(specs, new):
        return None
    sides = [
        f"{side} {_joined(tuple(b if b is not None else '-' for b in bounds))}"
        for side, bounds in (("below", [b for b, _ in near]), ("above", [a for _, a in near]))
        if None not in bounds
    ]
    return Fix(
        "input_size",
        f"feed {_joined(new[:-1])} inputs instead of {_joined(shape[:-1])} (the nearest size it "
        f"{what}; nearest {' and '.join(sides)}; pad or crop the images to it)",
        specs,
        new,
    )


def _down_up_pairs(specs) -> list[tuple[int, int]]:
    pairs, pending = [], []
    for index, spec in enumerate(specs):
        if _is_down(spec):
            pending.append(index)
        elif _is_up(spec) and pending:
            pairs.append((pending.pop(), index))
    return pairs


def _with_same_padding(specs):
    return tuple(replace(s, padding="same") if s.kind in _WINDOWS else s for s in specs)


def _with_matched_strides(specs):
    changed = [replace(s, strides=s.kernel_size) if s.kind in _POOLS else s for s in specs]
    for down, up in _down_up_pairs(changed):
        factor = changed[down].strides
        if changed[up].kind == "upsample":
            changed[up] = replace(changed[up], size=factor)
        else:
            changed[up] = replace(changed[up], strides=factor, output_padding=None)
    return tuple(changed)


def _structural_fixes(specs, shape):
    candidates = [
        (
            "padding_same",
            "use padding='same' in every convolution and pooling layer",
            _with_same_padding(specs),
        ),
        (
            "match_strides",
            "give each pooling strides=pool_size and each upsampling the factor of its pooling",
            _with_matched_strides(specs),
        ),
        (
            "padding_same+match_strides",
            "use padding='same' everywhere AND give each pooling "
            "strides=pool_size and each upsampling the factor of its pooling",
            _with_matched_strides(_with_same_padding(specs)),
        ),
    ]
    tried = {tuple(specs)}
    for kind, description, layers in candidates:
        if layers not in tried and _round_trips(layers, shape):
            yield Fix(kind, description, layers, shape)
        tried.add(layers)


def _output_padding_fix(specs, shape) -> Fix | None:
    indices = [i for i, s in enumerate(specs) if s.kind == "conv_transpose"]
    options = [
        [
            replace(specs[i], output_padding=p)
            for p in (None, *itertools.product(*(range(s) for s in specs[i].strides)))
        ]
        for i in indices
    ]
    for choice in itertools.islice(itertools.product(*options), 1, 1024):
        layers = list(specs)
        for i, changed in zip(indices, choice, strict=True):
            layers[i] = changed
        if _round_trips(layers, shape):
            settings = ", ".join(
                f"{specs[i].name or i!s}: output_padding={changed.output_padding}"
                for i, changed in zip(indices, choice, strict=True)
                if changed != specs[i]
            )
            return Fix("output_padding", f"set {settings}", tuple(layers), shape)
    return None


def _margin_layers(kind: str, differences) -> list[LayerSpec]:
    margins = tuple((d // 2, d - d // 2) for d in differences)
    return [LayerSpec(kind, name=f"fix_{kind}", margins=margins)] if any(differences) else []


def _crop_or_pad_fix(specs, shape, out) -> Fix | None:
    extra = [max(o - i, 0) for o, i in zip(out[:-1], shape[:-1], strict=True)]
    missing = [max(i - o, 0) for o, i in zip(out[:-1], shape[:-1], strict=True)]
    added = _margin_layers("crop", extra) + _margin_layers("zero_pad", missing)
    layers = (*specs, *added)
    if not added or not _round_trips(layers, shape):
        return None
    what = "; ".join(s.describe() for s in added)
    zero = (
        " (the padded border is always zero: the model cannot reconstruct it)"
        if any(missing)
        else ""
    )
    return Fix("crop_or_pad_output", f"append {what} after the last layer{zero}", layers, shape)


def _fed_by(specs, name: str) -> tuple[LayerSpec, ...]:
    """The specs with every reference to the model input turned into one to ``name``."""
    return tuple(
        replace(s, inputs=tuple(name if i == INPUT else i for i in s.inputs)) for s in specs
    )


def _unfused(front: LayerSpec, specs, padded) -> tuple[LayerSpec, tuple[LayerSpec, ...], str]:
    """The padding in front and the specs, with a convolution oneDNN would fuse with it made
    'valid' and its 'same' padding moved into ``front`` (the same output on every machine).

    oneDNN drops the 'same' padding of a Conv3D that a ZeroPadding3D feeds
    (:func:`cae_lessons.shapes.cpu.drops_fused_padding`). When the model input feeds one such
    convolution and nothing else, the padding 'same' adds at the padded size (``padded``) is
    added to ``front`` instead. Returns the name of the convolution changed ('' if none).
    """
    takers = [i for i, sources in enumerate(wiring(specs)) if -1 in sources]
    if len(takers) != 1 or not drops_fused_padding(specs[takers[0]]):
        return front, tuple(specs), ""
    conv = specs[takers[0]]
    margins = []
    for axis, ((before, after), n) in enumerate(zip(front.margins, padded[:-1], strict=True)):
        k, s = conv.kernel_size[axis], conv.strides[axis]
        total = max((-(-n // s) - 1) * s + k - n, 0)  # what 'same' pads, as TensorFlow splits it
        margins.append((before + total // 2, after + total - total // 2))
    changed = list(specs)
    changed[takers[0]] = replace(conv, padding="valid")
    return replace(front, margins=tuple(margins)), tuple(changed), conv.name or str(takers[0])


def _pad_to_multiple_fix(specs, shape) -> Fix | None:
    axes = range(len(shape) - 1)
    factors = [math.prod(s.strides[axis] for s in specs if _is_down(s)) for axis in axes]
    targets = [-(-n // f) * f for n, f in zip(shape[:-1], factors, strict=True)]
    differences = [t - n for t, n in zip(targets, shape[:-1], strict=True)]
    if not any(differences):
        return None
    padded = (*targets, shape[-1])
    front, body, unfused = _unfused(*_margin_layers("zero_pad", differences), specs, padded)
    layers = (front, *_fed_by(body, front.name), *_margin_layers("crop", differences))
    if not (_round_trips(specs, padded) and _round_trips(layers, shape)):
        return None
    valid = (
        f", {unfused!r} made padding='valid' with its 'same' padding moved into the "
        "ZeroPadding3D (oneDNN's CPU kernels drop it where a ZeroPadding3D feeds a Conv3D),"
        if unfused
        else ""
    )
    return Fix(
        "pad_to_multiple",
        f"pad {'every' if any(s.kind == 'input' for s in specs) else 'the'} input to a "
        f"multiple of {_both(*factors)} ({_joined(shape[:-1])} → "
        f"{_joined(padded[:-1])}) with {front.describe()} in front{valid} and crop it back "
        f"with {layers[-1].describe()}",
        layers,
        shape,
    )


def diagnose(model_or_layers, input_shape=None) -> Diagnosis:
    """Explain why a model's output does not match its input and list verified fixes.

    Every fix is applied to the layer list and re-traced; it is listed only if the re-traced
    model round-trips. Used by ch. 3-5.

    Parameters
    ----------
    model_or_layers : keras.Model or sequence of layers / LayerSpec / dict
    input_shape : tuple of int, optional
        ``(H, W)`` or ``(H, W, C)`` (``(D, H, W)`` or ``(D, H, W, C)`` for 3-D layers); default:
        the model's own input shape.

    Returns
    -------
    Diagnosis

    Examples
    --------
    >>> layers = [LayerSpec("conv", kernel_size=3, padding="same"),
    ...           LayerSpec("max_pool", kernel_size=2), LayerSpec("upsample", size=2)]
    >>> d = diagnose(layers, (129, 129, 1))
    >>> d.explanation
    'pooling 2 with stride 2 floors 129→64 and drops the last row; upsampling ×2 gives 128,
    not 129; the output is 128×128, the input 129×129'
    >>> [fix.kind for fix in d.fixes]
    ['input_size', 'crop_or_pad_output', 'pad_to_multiple']
    """
    specs, shape = _as_specs(model_or_layers, input_shape)
    if not specs:
        raise ValueError(
            "diagnose needs at least one layer besides the input; got none. Pass the model or "
            "its list of layers."
        )
    try:
        result = trace(specs, shape)
    except ValueError as error:
        problems, result = (str(error),), None
    else:
        problems = tuple(row.note for row in result.rows if row.loses)
        if result.output_shape[:-1] != shape[:-1]:
            problems += (
                f"the output is {_joined(result.output_shape[:-1])}, the input "
                f"{_joined(shape[:-1])}",
            )
        if result.output_shape[-1] != shape[-1]:
            problems += (
                f"the output has {result.output_shape[-1]} channels, the input {shape[-1]}: "
                f"to reconstruct the input, give the last convolution filters={shape[-1]}; a "
                f"head meant to give {result.output_shape[-1]} channels (classes, say) needs "
                "no fix",
            )
    if result is not None and result.matches_input:
        return Diagnosis(ok=True, problems=(), fixes=(), trace=result)
    sizes = input_sizes(specs)
    fixes = [_input_size_fix(specs, shape, sizes), *_structural_fixes(specs, shape)]
    fixes.append(_output_padding_fix(specs, shape))
    if result is not None:
        fixes.append(_crop_or_pad_fix(specs, shape, result.output_shape))
    fixes.append(_pad_to_multiple_fix(specs, shape))
    return Diagnosis(
        ok=False,
        problems=problems,
        fixes=tuple(f for f in fixes if f is not None),
        trace=result,
        sizes=sizes,
    )
