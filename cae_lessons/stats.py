"""Statistics of numbers: a mean with a t-interval, and whether one set of runs beats another.

:func:`summarize` gives a mean and its t-interval (over images, or over training seeds);
:func:`seed_verdict` judges one model against another on one metric from their per-seed values
with Welch's interval, and says "no difference shown" unless the interval excludes zero. Knows
nothing about images.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

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
    rows may have different seed counts and spreads). A row is called better only when the
    interval excludes zero on its side; otherwise ``better`` is ``None``: no difference shown.

    Attributes
    ----------
    metric, a, b : str
    difference, low, high : float
        ``mean(a) - mean(b)`` and its interval (infinite with fewer than two runs in a row).
    runs : (int, int)
        Runs behind ``a`` and ``b``.
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

    def __repr__(self) -> str:
        unit, fmt = SEED_FORMATS[self.metric]
        unit = f" {unit}" if unit else ""
        said = f"{self.better} better" if self.better else "no difference shown"
        level = f"{self.confidence * 100:g}%"
        return (
            f"{self.metric}: {self.a} − {self.b} = {self.difference:+{fmt}}{unit} "
            f"[{self.low:+{fmt}}, {self.high:+{fmt}}] ({level} CI over {self.runs[0]} + "
            f"{self.runs[1]} seeds): {said}"
        )


def seed_verdict(a, b, metric: str, *, labels=("a", "b"), confidence: float = CONFIDENCE):
    """Judge ``a`` against ``b`` on one metric from their per-seed values (Welch's interval).

    Parameters
    ----------
    a, b : array_like of float
        One value per training run (each the mean over the test images), e.g.
        ``SeedComparison.per_seed(label)[metric]``.
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
        For a metric without a direction, an empty or NaN input.

    Examples
    --------
    >>> seed_verdict([25.1, 25.3, 25.2], [24.0, 24.2, 24.1], "PSNR", labels=("A", "B"))
    PSNR: A − B = +1.10 dB [+0.87, +1.33] (95% CI over 3 + 3 seeds): A better
    >>> seed_verdict([0.020, 0.030], [0.025, 0.026], "MAE", labels=("A", "B")).better is None
    True
    """
    if metric not in HIGHER_IS_BETTER:
        raise ValueError(
            f"metric must be one of {tuple(HIGHER_IS_BETTER)} (metrics with a better direction), "
            f"got {metric!r}."
        )
    confidence = check_fraction(confidence, "confidence", what="a level")
    x, y = (np.asarray(v, dtype=np.float64).ravel() for v in (a, b))
    for name, v in zip(labels, (x, y), strict=True):
        if v.size == 0 or not np.isfinite(v).all():
            raise ValueError(f"{name}: need at least one finite value per run, got {v.tolist()}.")
    difference = float(x.mean() - y.mean())
    if x.size < 2 or y.size < 2:
        low, high = -math.inf, math.inf
    else:
        va, vb = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
        se = math.sqrt(va + vb)
        if se == 0:
            low = high = difference
        else:
            df = (va + vb) ** 2 / (va**2 / (x.size - 1) + vb**2 / (y.size - 1))
            half = float(stats.t.ppf(0.5 + confidence / 2, df=df) * se)
            low, high = difference - half, difference + half
    if HIGHER_IS_BETTER[metric]:
        better = labels[0] if low > 0 else labels[1] if high < 0 else None
    else:
        better = labels[0] if high < 0 else labels[1] if low > 0 else None
    return SeedVerdict(
        metric, labels[0], labels[1], difference, low, high, (x.size, y.size), confidence, better
    )
