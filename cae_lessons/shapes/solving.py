"""input_sizes: every input size a model runs at and every size it round-trips, per axis, as
arithmetic progressions ("n ≡ 12 (mod 16), n ≥ 124").

The sizes are computed for ``n = 1 … limit`` at once (NumPy). A rule is said to hold beyond
``limit`` only where it is proved: every layer's size grows by a fixed step when the input grows
by a fixed period (:func:`cae_lessons.shapes.graph.growth`), so once every size has passed the
small-size effects (a size of 1 broadcasting, a crop that has crossed its reference), which of the
sizes work repeats with the common period. Where two branches that must agree grow at different
rates, they agree at finitely many sizes; that is proved too when, at the end of the range, they
are already moving apart. Anything else is reported as checked up to ``limit`` only.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from cae_lessons.shapes.arithmetic import _SEARCH_LIMIT
from cae_lessons.shapes.graph import axis_sizes, growth, wiring
from cae_lessons.shapes.reading import _ranked_specs
from cae_lessons.shapes.specs import AXIS_NAMES, MERGES, LayerSpec, _listed

WIDTH = 88
"""Characters per line of the text that ``InputSizes`` and ``Diagnosis`` print: what a code
cell shows without scrolling in the book's column."""


@dataclass(frozen=True)
class SizeRule:
    """The input sizes ``n`` along one axis for which a condition holds.

    Attributes
    ----------
    modulus : int
        The period of the rule; 0 when finitely many sizes work.
    starts : tuple of (int, int)
        ``(residue, first)``: every ``n ≡ residue (mod modulus)`` from ``first`` on works.
    extra : tuple of int
        Sizes that work besides those (all of them when ``modulus`` is 0).
    limit : int
        The sizes ``1 … limit`` were computed one by one.
    exact : bool
        True when the rule is proved for every ``n``, also beyond ``limit``.
    reason : str
        Why it is not proved beyond ``limit`` (``''`` when ``exact``).

    Examples
    --------
    >>> rule = SizeRule(16, ((12, 124),), (), 4096, True, "")
    >>> print(rule), 572 in rule, rule.nearest(570)
    n ≡ 12 (mod 16), n ≥ 124 (None, True, (556, 572))
    """

    modulus: int
    starts: tuple[tuple[int, int], ...]
    extra: tuple[int, ...]
    limit: int
    exact: bool
    reason: str

    @property
    def sizes_exist(self) -> bool:
        """True when at least one size works."""
        return bool(self.starts or self.extra)

    def __contains__(self, n) -> bool:
        n = int(n)
        if n > self.limit and not self.exact:
            raise ValueError(
                f"{n} is above {self.limit}, the largest size checked, and the rule is not "
                f"proved beyond it ({self.reason}); call input_sizes(..., limit={n})."
            )
        return n in self.extra or any(
            n >= first and (n - residue) % self.modulus == 0 for residue, first in self.starts
        )

    def nearest(self, n: int) -> tuple[int | None, int | None]:
        """The largest working size ``<= n`` and the smallest ``>= n`` (None where none)."""
        below = [m for m in self.extra if m <= n]
        above = [m for m in self.extra if m >= n]
        for residue, first in self.starts:
            if n >= first:
                below.append(n - (n - residue) % self.modulus)
            above.append(max(first, n + (residue - n) % self.modulus))
        above = [m for m in above if self.exact or m <= self.limit]
        return (max(below, default=None), min(above, default=None))

    def __str__(self) -> str:
        parts = []
        for residue, first in self.starts:
            if self.modulus == 1:
                parts.append("every n" if first == 1 else f"n ≥ {first}")
            else:
                parts.append(f"n ≡ {residue} (mod {self.modulus}), n ≥ {first}")
        if self.extra:
            shown = ", ".join(map(str, self.extra[:8])) + (", …" if len(self.extra) > 8 else "")
            parts.append(
                f"n ∈ {{{shown}}}" + (f" ({len(self.extra)} sizes)" * (len(self.extra) > 8))
            )
        text = " or ".join(parts) if parts else "no size"
        if not self.exact:
            text += f" (checked up to {self.limit} only: {self.reason})"
        return text

    __repr__ = __str__


@dataclass(frozen=True)
class AxisSizes:
    """The sizes one axis runs at and round-trips at, and what it maps them to.

    Attributes
    ----------
    axis : str
        ``'height'``, ``'width'``, ``'depth'`` (3-D) or ``'length'`` (1-D).
    runs : SizeRule
        Sizes at which Keras runs the model: no size becomes zero, every merge's inputs agree.
    round_trips : SizeRule
        Sizes at which it also gives back the same size.
    mapping : str
        The output size as a function of ``n`` on the sizes it runs at, e.g. ``'n → n − 184'``
        (``''`` when it is not one affine map).
    """

    axis: str
    runs: SizeRule
    round_trips: SizeRule
    mapping: str


@dataclass(frozen=True)
class InputSizes:
    """Per axis, the input sizes a model runs at and round-trips at (:func:`input_sizes`).

    Attributes
    ----------
    axes : tuple of AxisSizes
        One per spatial axis, in order; each is also an attribute named after its axis
        (``sizes.height``, ``sizes.depth``).
    """

    axes: tuple[AxisSizes, ...]

    def __getattr__(self, name: str) -> AxisSizes:
        for axis in self.__dict__.get("axes", ()):
            if axis.axis == name:
                return axis
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _lines(self) -> list[tuple[str, str, str, str]]:
        return [(a.axis, str(a.runs), a.mapping, str(a.round_trips)) for a in self.axes]

    def sentences(self) -> list[str]:
        """One sentence per axis, or one for both when they agree."""
        lines = self._lines()
        if len(lines) > 1 and len({line[1:] for line in lines}) == 1:
            names = [line[0] for line in lines]
            lines = [(_listed(names), *lines[0][1:])]
        return [
            f"{axis}: runs for {runs}{f' ({mapping})' if mapping else ''}; round-trips for {trips}"
            for axis, runs, mapping, trips in lines
        ]

    def __str__(self) -> str:
        """Wrapped at 88 characters, so that it reads in a notebook and in the book's column."""
        return "\n".join(
            textwrap.fill(line, WIDTH, subsequent_indent="  ") for line in self.sentences()
        )

    __repr__ = __str__

    def _repr_html_(self) -> str:
        from cae_lessons.tables import html_table

        return html_table(
            ["axis", "runs for", "maps", "round-trips for"], [list(line) for line in self._lines()]
        )


def _settled(sizes, rules, n) -> int:
    """The smallest input size from which every growing layer's size is at least 2."""
    first = 1
    for size, (_, step) in zip(sizes, rules, strict=True):
        if step > 0:
            small = np.nonzero(size < 2)[0]
            first = max(first, int(n[small[-1]]) + 1 if small.size else 1)
    return first


def _apart(a, b, rate_a: int, rate_b: int, window: slice) -> bool:
    """Over the window, ``a - b`` is non-zero with the sign of ``rate_a - rate_b``: the two sizes
    move apart from there on and never meet again."""
    difference = a[window] - b[window]
    return bool(np.all(np.sign(difference) == np.sign(rate_a - rate_b)))


def _pairs(specs, wires, sizes, rules, n, axis: int):
    """``(a, b, rate_a, rate_b)`` for every two sizes that must agree (or cross only once)."""
    for spec, sources in zip(specs, wires, strict=True):
        inputs = [(n, (1, 1)) if j < 0 else (sizes[j], rules[j]) for j in sources]
        if spec.kind == "dense" and spec.expects is not None:  # one size fits its Dense
            size, (period, step) = inputs[0]
            yield size, np.full_like(size, spec.expects[axis]), step, 0
            continue
        if spec.kind == "crop_to_input":
            inputs.append((n, (1, 1)))
        elif spec.kind not in MERGES:
            continue
        if spec.kind == "elementwise":  # a size that stays 1 broadcasts against anything
            inputs = [(s, r) for s, r in inputs if not (r[1] == 0 and np.all(s == 1))]
        if len(inputs) < 2:
            continue
        period = math.lcm(*(r[0] for _, r in inputs))
        (first, (p0, s0)), *rest = inputs
        for size, (p, s) in rest:
            yield first, size, s0 * period // p0, s * period // p


def _rule(works, n, period: int, proved: bool, reason: str) -> SizeRule:
    limit = int(n[-1])
    members = set(n[works].tolist())
    if not proved or period > limit // 2:
        reason = reason or f"the period {period} is too long for this range"
        return SizeRule(0, (), tuple(sorted(members)), limit, False, reason)
    residues = {m % period for m in range(limit - period + 1, limit + 1) if m in members}
    if not residues:  # none from the end of the range on: finitely many, all listed
        return SizeRule(0, (), tuple(sorted(members)), limit, True, "")
    modulus = next(
        d
        for d in range(1, period + 1)
        if period % d == 0 and all((r + d) % period in residues for r in residues)
    )
    starts = []
    for residue in sorted({r % modulus for r in residues}):
        first = limit - (limit - residue) % modulus
        while first - modulus >= 1 and first - modulus in members:
            first -= modulus
        starts.append((residue, first))
    covered = {m for residue, first in starts for m in range(first, limit + 1, modulus)}
    return SizeRule(modulus, tuple(starts), tuple(sorted(members - covered)), limit, True, "")


def _mapping(out, runs, n, rule: tuple[int, int]) -> str:
    """``'n → n − 184'`` when the output is one affine map of n wherever the model runs."""
    period, step = rule
    slope = Fraction(step, period)
    scaled = out[runs] * period - step * n[runs]  # the offset times the period
    if scaled.size == 0 or np.any(scaled != scaled[0]):
        return ""
    offset = Fraction(int(scaled[0]), period)
    if slope == 0:
        return f"n → {offset}"
    term = "n" if slope == 1 else f"{slope}·n" if slope.denominator == 1 else f"n·{slope}"
    if offset == 0:
        return f"n → {term}"
    return f"n → {term} {'+' if offset > 0 else '−'} {abs(offset)}"


def _axis(specs: Sequence[LayerSpec], wires, axis: int, limit: int) -> AxisSizes:
    n = np.arange(1, limit + 1, dtype=np.int64)
    sizes, runs = axis_sizes(specs, wires, axis, n)
    rules = growth(specs, wires, axis)
    period = math.lcm(*(p for p, _ in rules))
    start = limit - period + 1
    settled = _settled(sizes, rules, n)
    proved, reason = start >= settled, "" if start >= settled else "small sizes reach the end"
    window = slice(max(start, 1) - 1, None)
    for a, b, rate_a, rate_b in _pairs(specs, wires, sizes, rules, n, axis):
        if rate_a != rate_b and not _apart(a, b, rate_a, rate_b, window):
            proved, reason = False, "two branches grow at different rates"
    out, (out_period, out_step) = sizes[-1], rules[-1]
    trip_period = math.lcm(period, out_period)
    trips = runs & (out == n)
    trips_proved = proved
    if out_step * trip_period // out_period != trip_period:  # the output grows at another rate
        trips_proved = proved and _apart(
            out, n, out_step * trip_period // out_period, trip_period, window
        )
    run_rule = _rule(runs, n, period, proved, reason)
    trip_rule = _rule(
        trips, n, trip_period, trips_proved, reason or "the output grows at another rate"
    )
    name = AXIS_NAMES[specs[0].rank][axis]
    return AxisSizes(name, run_rule, trip_rule, _mapping(out, runs, n, rules[-1]))


def input_sizes(model_or_layers, *, limit: int = _SEARCH_LIMIT) -> InputSizes:
    """The input sizes, per axis, at which a model runs and at which it gives back its size.

    A model runs at a size when no layer's output becomes zero or negative and every merge
    (``Concatenate``, ``Add``, ``a + b``) gets inputs of equal sizes; Keras raises otherwise. It
    round-trips when, in addition, the output size equals the input size. Used by
    :func:`cae_lessons.shapes.diagnose` for its input-size fix, by ch. 6's U-Net sections and
    by ``benchmarks/shapes.py``.

    Parameters
    ----------
    model_or_layers : keras.Model or sequence of layers / LayerSpec / dict
    limit : int, optional
        Sizes ``1 … limit`` are computed one by one (default 4096); rules are stated for every
        size where they are proved (see the module docstring).

    Returns
    -------
    InputSizes

    Examples
    --------
    A 'same' U-Net of depth 2 (skip connections through ``Concatenate``):

    >>> unet = [LayerSpec("conv", "enc1", 3, padding="same"), LayerSpec("max_pool", "pool1", 2),
    ...         LayerSpec("conv", "enc2", 3, padding="same"), LayerSpec("max_pool", "pool2", 2),
    ...         LayerSpec("upsample", "up2", size=2),
    ...         LayerSpec("concatenate", "skip2", inputs=["up2", "enc2"]),
    ...         LayerSpec("upsample", "up1", size=2),
    ...         LayerSpec("concatenate", "skip1", inputs=["up1", "enc1"])]
    >>> print(input_sizes(unet))
    height and width: runs for n ≡ 0 (mod 4), n ≥ 4 (n → n); round-trips for n ≡ 0 (mod 4), n ≥ 4
    """
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 8:
        raise ValueError(f"limit must be an int >= 8, got {limit!r}.")
    specs = _ranked_specs(model_or_layers)
    if not specs:
        raise ValueError("input_sizes needs at least one layer besides the input; got none.")
    wires = wiring(specs)
    return InputSizes(tuple(_axis(specs, wires, axis, limit) for axis in range(specs[0].rank)))
