"""Statistics of numbers: a mean with a t-interval, and whether one set of runs beats another.

:func:`summarize` gives a mean and its t-interval (over images, or over training seeds);
:func:`seed_verdict` judges one model against another on one metric from their per-seed values
with Welch's interval, and says "no difference shown" unless the interval excludes zero. Knows
nothing about images.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass

import numpy as np
from scipy import stats

from cae_lessons.tables import html_table, text_table
from cae_lessons.validate import check_fraction

CONFIDENCE = 0.95


@dataclass(frozen=True)
class MetricSummary:
    """Mean of per-image values with a confidence interval over images.

    Attributes
    ----------
    name : str
        Metric name, e.g. ``'PSNR'``.
    mean, low, high : float
        Mean and the bounds of the interval.
    n : int
        Number of images.
    confidence : float
        Level of the interval, e.g. 0.95.
    unit : str
        Printed after the mean (``'dB'`` for PSNR).
    fmt : str
        Format spec for the numbers.
    """

    name: str
    mean: float
    low: float
    high: float
    n: int
    confidence: float = CONFIDENCE
    unit: str = ""
    fmt: str = ".4g"

    @property
    def estimate(self) -> str:
        """``'mean [low, high]'`` as printed in the tables."""
        f = self.fmt
        return f"{self.mean:{f}} [{self.low:{f}}, {self.high:{f}}]"

    @property
    def level(self) -> str:
        """The confidence level as a percentage, e.g. ``'95%'``."""
        return f"{self.confidence * 100:g}%"

    def __repr__(self) -> str:
        mean, interval = self.estimate.split(" ", 1)
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.name} {mean}{unit} {interval} ({self.level} CI, n={self.n})"


def summarize(
    values, name: str, *, unit: str = "", fmt: str = ".4g", confidence: float = CONFIDENCE
) -> MetricSummary:
    """Mean and Student-t confidence interval of per-image values.

    The interval is ``mean ± t_{(1+confidence)/2, n-1} · s / sqrt(n)`` (``scipy.stats.t``), i.e.
    it treats the images as a sample and says how well the mean over *images like these* is
    known. It does not cover training-seed variation.

    Edge cases, all NaN-free: with ``n = 1`` the interval is ``(-inf, inf)`` (one image says
    nothing about the spread); if any value is infinite (the PSNR of a perfect reconstruction)
    the mean is infinite and the interval collapses onto it; equal values give a zero-width
    interval.

    Parameters
    ----------
    values : array_like of float
        Per-image values, e.g. from :func:`psnr`.
    name, unit, fmt : str
        Passed to :class:`MetricSummary`.
    confidence : float
        Level of the interval, strictly between 0 and 1.

    Returns
    -------
    MetricSummary

    Raises
    ------
    ValueError
        If there are no values or any is NaN.

    Examples
    --------
    >>> summarize([26.5, 27.0, 27.5], "PSNR", unit="dB", fmt=".2f")
    PSNR 27.00 dB [25.76, 28.24] (95% CI, n=3)
    >>> summarize([0.8], "SSIM")
    SSIM 0.8 [-inf, inf] (95% CI, n=1)
    """
    confidence = check_fraction(confidence, "confidence", what="a level")
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0 or np.isnan(v).any():
        raise ValueError(
            f"{name}: need at least one value and no NaN, got {v.size} value(s) of which "
            f"{int(np.isnan(v).sum())} NaN."
        )
    mean = float(np.mean(v))
    if not np.isfinite(mean):
        low = high = mean
    elif v.size == 1:
        low, high = -math.inf, math.inf
    else:
        quantile = stats.t.ppf(0.5 + confidence / 2, df=v.size - 1)
        half = float(quantile * np.std(v, ddof=1) / math.sqrt(v.size))
        low, high = mean - half, mean + half
    return MetricSummary(name, mean, low, high, int(v.size), confidence, unit, fmt)


SEED_FORMATS = {
    "PSNR": ("dB", ".2f"),
    "SSIM": ("", ".4f"),
    "MAE": ("", ".4f"),
    "HF retention": ("", ".3f"),
}


# Which way is better, for the metrics a verdict can rest on.
HIGHER_IS_BETTER = {"PSNR": True, "SSIM": True, "MAE": False}


@dataclass(frozen=True)
class SeedVerdict:
    """Whether one row beats another on one metric, judged over training seeds.

    The difference of the two rows' means over seeds, ``a - b``, with a Welch t-interval (the
    rows may have different seed counts and spreads). Against a deterministic method (a
    baseline, whose score is one exact number) the interval is over the other row's seeds
    alone. A row is called better only when the interval excludes zero on its side; otherwise
    ``better`` is ``None``: no difference shown.

    Attributes
    ----------
    metric, a, b : str
    difference, low, high : float
        ``mean(a) - mean(b)`` and its interval (infinite with a single run in a row).
    runs : (int, int)
        Runs behind ``a`` and ``b``; 0 for a deterministic method's exact value.
    confidence : float
    better : str or None
        ``a``, ``b`` or ``None``.
    """

    metric: str
    a: str
    b: str
    difference: float
    low: float
    high: float
    runs: tuple[int, int]
    confidence: float
    better: str | None

    @property
    def said(self) -> str:
        """``'<label> better'`` or ``'no difference shown'``."""
        return f"{self.better} better" if self.better else "no difference shown"

    @property
    def estimate(self) -> str:
        """The difference with its interval, e.g. ``'+1.10 dB [+0.87, +1.33]'``."""
        unit, fmt = SEED_FORMATS[self.metric]
        unit = f" {unit}" if unit else ""
        return f"{self.difference:+{fmt}}{unit} [{self.low:+{fmt}}, {self.high:+{fmt}}]"

    @property
    def over(self) -> str:
        """What the interval is over, e.g. ``'95% CI over 3 + 3 seeds'``."""
        (n_a, n_b), level = self.runs, f"{self.confidence * 100:g}% CI over"
        if not n_a or not n_b:
            return f"{level} {n_a or n_b} seeds; {self.a if not n_a else self.b} exact"
        return f"{level} {n_a} + {n_b} seeds"

    def __repr__(self) -> str:
        return f"{self.metric}: {self.a} − {self.b} = {self.estimate} ({self.over}): {self.said}"


def _values(name: str, values) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0 or not np.isfinite(array).all():
        raise ValueError(f"{name}: need at least one finite value per run, got {array.tolist()}.")
    return array if array.ndim == 0 else array.ravel()


def seed_verdict(a, b, metric: str, *, labels=("a", "b"), confidence: float = CONFIDENCE):
    """Judge ``a`` against ``b`` on one metric from their per-seed values (Welch's interval).

    Parameters
    ----------
    a, b : array_like of float, or float
        One value per training run (each the mean over the test images), e.g.
        ``SeedComparison.per_seed(label)[metric]``. A plain number (0-d) is the exact value of
        a deterministic method such as a baseline: the interval is then over the other side's
        runs alone (a one-sample t-interval).
    metric : {'PSNR', 'SSIM', 'MAE'}
        Sets which direction is better (MAE: lower).
    labels : (str, str)
        Names of ``a`` and ``b`` in the verdict.
    confidence : float

    Returns
    -------
    SeedVerdict

    Raises
    ------
    ValueError
        For a metric without a direction, an empty or NaN input, or two exact values.

    Examples
    --------
    >>> seed_verdict([25.1, 25.3, 25.2], [24.0, 24.2, 24.1], "PSNR", labels=("A", "B"))
    PSNR: A − B = +1.10 dB [+0.87, +1.33] (95% CI over 3 + 3 seeds): A better
    >>> seed_verdict([0.020, 0.030], [0.025, 0.026], "MAE", labels=("A", "B")).better is None
    True
    >>> seed_verdict([25.1, 25.3, 25.2], 24.9, "PSNR", labels=("CAE", "bicubic")).over
    '95% CI over 3 seeds; bicubic exact'
    """
    if metric not in HIGHER_IS_BETTER:
        raise ValueError(
            f"metric must be one of {tuple(HIGHER_IS_BETTER)} (metrics with a better direction), "
            f"got {metric!r}."
        )
    confidence = check_fraction(confidence, "confidence", what="a level")
    x, y = (_values(name, v) for name, v in zip(labels, (a, b), strict=True))
    if x.ndim == 0 and y.ndim == 0:
        raise ValueError(
            f"{labels[0]} and {labels[1]} are both exact values: there are no runs to judge "
            "over; pass the per-seed values of at least one of them."
        )
    difference = float(x.mean() - y.mean())
    runs = (0 if x.ndim == 0 else x.size, 0 if y.ndim == 0 else y.size)
    if 1 in runs:
        low, high = -math.inf, math.inf
    else:
        va, vb = (0.0 if v.ndim == 0 else v.var(ddof=1) / v.size for v in (x, y))
        se = math.sqrt(va + vb)
        if se == 0:
            low = high = difference
        else:
            # Welch-Satterthwaite, written with each model's share of the variance so that
            # tiny variances (squares that underflow to 0) still give a finite df.
            df = 1 / sum(
                (v / se**2) ** 2 / (n - 1) for v, n in zip((va, vb), runs, strict=True) if n
            )
            half = float(stats.t.ppf(0.5 + confidence / 2, df=df) * se)
            low, high = difference - half, difference + half
    if HIGHER_IS_BETTER[metric]:
        better = labels[0] if low > 0 else labels[1] if high < 0 else None
    else:
        better = labels[0] if high < 0 else labels[1] if low > 0 else None
    return SeedVerdict(
        metric, labels[0], labels[1], difference, low, high, runs, confidence, better
    )


@dataclass(frozen=True)
class Verdicts:
    """Several :class:`SeedVerdict` as one table: a row per comparison, a column per metric.

    Each cell is the difference of the means with its interval; the last column says which row
    is better on which metric. Iterating gives the verdicts in order; ``verdicts[a, b, metric]``
    (or ``verdicts[i]``) picks one. Made by :func:`judge`.

    Attributes
    ----------
    verdicts : tuple of SeedVerdict

    Examples
    --------
    >>> v = Verdicts((seed_verdict([25.1, 25.3, 25.2], 24.0, "PSNR", labels=("CAE", "bicubic")),))
    >>> v["CAE", "bicubic", "PSNR"].better
    'CAE'
    >>> v
    comparison     PSNR                     verdict
    CAE − bicubic  +1.20 dB [+0.95, +1.45]  CAE better on PSNR
    (a − b: difference of the means [95% CI over the training seeds, 3 per model; a baseline is
    exact]; better only where the interval excludes 0)
    """

    verdicts: tuple[SeedVerdict, ...]

    def __iter__(self):
        return iter(self.verdicts)

    def __len__(self) -> int:
        return len(self.verdicts)

    def __getitem__(self, key: int | tuple[str, str, str]) -> SeedVerdict:
        if isinstance(key, int):
            return self.verdicts[key]
        for verdict in self.verdicts:
            if (verdict.a, verdict.b, verdict.metric) == tuple(key):
                return verdict
        known = [(v.a, v.b, v.metric) for v in self.verdicts]
        raise KeyError(f"no verdict {key!r}; there are {known}.")

    def _table(self) -> tuple[list[str], list[list[str]], str]:
        metrics = list(dict.fromkeys(v.metric for v in self.verdicts))
        rows = []
        for a, b in dict.fromkeys((v.a, v.b) for v in self.verdicts):
            mine = {v.metric: v for v in self.verdicts if (v.a, v.b) == (a, b)}
            winners = {}
            for metric, verdict in mine.items():
                if verdict.better:
                    winners.setdefault(verdict.better, []).append(metric)
            said = "; ".join(f"{w} better on {', '.join(ms)}" for w, ms in winners.items())
            cells = [mine[m].estimate if m in mine else "–" for m in metrics]
            rows.append([f"{a} − {b}", *cells, said or "no difference shown"])
        levels = "/".join(dict.fromkeys(f"{v.confidence * 100:g}%" for v in self.verdicts))
        counts = "/".join(map(str, sorted({n for v in self.verdicts for n in v.runs if n})))
        exact = "; a baseline is exact" if any(0 in v.runs for v in self.verdicts) else ""
        caption = (
            f"a − b: difference of the means [{levels} CI over the training seeds, {counts} per "
            f"model{exact}]; better only where the interval excludes 0"
        )
        return ["comparison", *metrics, "verdict"], rows, caption

    def __repr__(self) -> str:
        headers, rows, caption = self._table()
        return f"{text_table(headers, rows)}\n({textwrap.fill(caption, 96)})"

    def _repr_html_(self) -> str:
        return html_table(*self._table(), narrow=True, wrap=(0, -1))


def judge(pairs, values, *, confidence: float = CONFIDENCE) -> Verdicts:
    """Each ``(a, b)`` of ``pairs`` on PSNR, SSIM and MAE, over seeds (:func:`seed_verdict`).

    Parameters
    ----------
    pairs : sequence of (str, str)
        The rows to compare, ``a`` against ``b``.
    values : callable
        ``values(label, metric)``: the row's per-seed values, or one exact number for a
        deterministic method.
    confidence : float

    Returns
    -------
    Verdicts

    Examples
    --------
    >>> runs = {"A": {"PSNR": [25.1, 25.3, 25.2], "SSIM": [0.80, 0.82, 0.81], "MAE": [0.02] * 3}}
    >>> exact = {"B": {"PSNR": 24.0, "SSIM": 0.85, "MAE": 0.03}}
    >>> table = judge([("A", "B")], lambda row, m: (runs | exact)[row][m])
    >>> table["A", "B", "SSIM"].better, table["A", "B", "MAE"].better
    ('B', 'A')
    """
    return Verdicts(
        tuple(
            seed_verdict(values(a, m), values(b, m), m, labels=(a, b), confidence=confidence)
            for a, b in pairs
            for m in HIGHER_IS_BETTER
        )
    )


def as_pairs(pairs) -> list[tuple[str, str]]:
    """``(a, b)`` or ``((a, b), (c, d), ...)`` as a list of pairs, for the ``verdicts`` methods.

    Examples
    --------
    >>> as_pairs(("A", "B")), as_pairs((("A", "B"), ("A", "C")))
    ([('A', 'B')], [('A', 'B'), ('A', 'C')])
    >>> as_pairs(("A",))
    Traceback (most recent call last):
    ...
    TypeError: Pass two row labels, verdicts(a, b), or pairs of them, verdicts((a, b), ...), ...
    """
    if len(pairs) == 2 and all(isinstance(p, str) for p in pairs):
        return [tuple(pairs)]
    if pairs and all(
        isinstance(p, tuple | list) and len(p) == 2 and all(isinstance(x, str) for x in p)
        for p in pairs
    ):
        return [tuple(p) for p in pairs]
    raise TypeError(
        "Pass two row labels, verdicts(a, b), or pairs of them, verdicts((a, b), ...), got "
        f"{pairs!r}."
    )
