"""Reconstructions scored against their references, with intervals over images and seeds.

:func:`evaluate` scores one set of reconstructions (MSE, MAE, PSNR, SSIM per image, each a mean
with a t-interval); :func:`compare` puts several side by side (ch. 3, 6, 9);
:func:`compare_over_seeds` scores models trained with several seeds and summarises over seeds
(ch. 4, 5), for :func:`cae_lessons.stats.seed_verdict`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from cae_lessons.metrics import (
    HF_CUTOFF,
    high_frequency_retention,
    mae,
    mse,
    psnr,
    ssim,
    ssim_win_size,
)
from cae_lessons.stats import (
    CONFIDENCE,
    SEED_FORMATS,
    MetricSummary,
    Verdicts,
    as_pairs,
    judge,
    summarize,
)
from cae_lessons.tables import html_table, text_table
from cae_lessons.validate import check_fraction, read_only

# name -> (unit, format spec) used by the summaries and tables.
_METRIC_STYLE = {"MSE": ("", ".3g"), "MAE": ("", ".3g"), "PSNR": ("dB", ".2f"), "SSIM": ("", ".4f")}


def _check_results(results, expected: str) -> None:
    """Refuse anything but a non-empty mapping of labelled results (compare, compare_over_seeds)."""
    if not isinstance(results, Mapping):
        raise TypeError(f"results must be a mapping {expected}, got {type(results).__name__}.")
    if not results:
        raise ValueError("results is empty; pass at least one {label: (x_true, x_pred)} entry.")


@dataclass(frozen=True, eq=False)
class Scores:
    """Per-image MSE, MAE, PSNR and SSIM of one model on one set of images (ch. 9).

    Attributes
    ----------
    mse, mae, psnr, ssim : (N,) float64
        Per-image values (read-only). PSNR is ``inf`` for a perfect image.
    ssim_win_size : int
        Side of the uniform SSIM window (see :func:`ssim_win_size`).
    confidence : float
        Level of the intervals printed by :meth:`summary`.
    """

    mse: np.ndarray
    mae: np.ndarray
    psnr: np.ndarray
    ssim: np.ndarray
    ssim_win_size: int
    confidence: float = CONFIDENCE

    @property
    def n(self) -> int:
        """Number of images."""
        return len(self.mse)

    def per_image(self) -> dict[str, np.ndarray]:
        """The per-image arrays by metric name (``'MSE'``, ``'MAE'``, ``'PSNR'``, ``'SSIM'``)."""
        return {"MSE": self.mse, "MAE": self.mae, "PSNR": self.psnr, "SSIM": self.ssim}

    def summary(self) -> dict[str, MetricSummary]:
        """Mean and confidence interval of each metric (see :func:`summarize`)."""
        return {
            name: summarize(
                values,
                name,
                unit=_METRIC_STYLE[name][0],
                fmt=_METRIC_STYLE[name][1],
                confidence=self.confidence,
            )
            for name, values in self.per_image().items()
        }

    def __repr__(self) -> str:
        lines = [repr(summary) for summary in self.summary().values()]
        side = self.ssim_win_size
        return "\n".join([*lines, f"(SSIM: uniform {side}x{side} window, data_range=1)"])

    def _repr_html_(self) -> str:
        summaries = self.summary().values()
        rows = [[s.name, s.unit, s.estimate] for s in summaries]
        level = next(iter(summaries)).level
        headers = ["metric", "unit", f"mean [{level} CI]"]
        return html_table(headers, rows, f"n={self.n} images")


def evaluate(x_true, x_pred, *, confidence: float = CONFIDENCE) -> Scores:
    """Score reconstructions with MSE, MAE, PSNR and SSIM (ch. 9).

    Parameters
    ----------
    x_true : (N, H, W, C) float32
        Reference images in [0, 1].
    x_pred : (N, H, W, C) float32
        Reconstructions of the same shape (finite; not clipped).
    confidence : float
        Level of the t-intervals in the summary.

    Returns
    -------
    Scores

    Raises
    ------
    TypeError
        If an input is not a float NumPy array.
    ValueError
        If an input is not 4-D, not finite, ``x_true`` leaves [0, 1], the shapes differ, or the
        images are smaller than 3 x 3 px (no SSIM window fits).

    Examples
    --------
    >>> x = np.linspace(0, 0.8, 2 * 8 * 8).reshape(2, 8, 8, 1).astype(np.float32)
    >>> scores = evaluate(x, x + np.float32(0.1))
    >>> scores.summary()["PSNR"]
    PSNR 20.00 dB [20.00, 20.00] (95% CI, n=2)
    >>> scores.psnr.shape
    (2,)
    """
    confidence = check_fraction(confidence, "confidence", what="a level")
    return Scores(
        mse=read_only(mse(x_true, x_pred)),
        mae=read_only(mae(x_true, x_pred)),
        psnr=read_only(psnr(x_true, x_pred)),
        ssim=read_only(ssim(x_true, x_pred)),
        ssim_win_size=ssim_win_size(*x_true.shape[1:3]),
        confidence=confidence,
    )


@dataclass(frozen=True, eq=False)
class Comparison:
    """Several models or baselines scored side by side (ch. 4 and ch. 9).

    Attributes
    ----------
    scores : tuple of (str, Scores)
        Label and scores of each row, in the order given.
    """

    scores: tuple[tuple[str, Scores], ...]

    def _table(self) -> tuple[list[str], list[list[str]], str]:
        headers = ["model", "n"] + [
            f"{name} ({unit})" if unit else name for name, (unit, _) in _METRIC_STYLE.items()
        ]
        rows, levels = [], []
        for label, scores in self.scores:
            summaries = list(scores.summary().values())
            rows.append([label, str(scores.n), *(s.estimate for s in summaries)])
            levels.append(summaries[0].level)
        caption = f"mean [{'/'.join(dict.fromkeys(levels))} CI] over images"
        return headers, rows, caption

    def __repr__(self) -> str:
        headers, rows, caption = self._table()
        return f"{text_table(headers, rows)}\n({caption})"

    def _repr_html_(self) -> str:
        return html_table(*self._table())


def compare(results: Mapping[str, object], *, confidence: float = CONFIDENCE) -> Comparison:
    """Score several models or baselines for one table (ch. 4 compression sweep, ch. 9 results).

    Parameters
    ----------
    results : mapping of str to (x_true, x_pred) or Scores
        One row per entry, in order: a pair of ``(N, H, W, C) float32`` arrays is scored with
        :func:`evaluate`, a :class:`Scores` is used as it is.
    confidence : float
        Level of the intervals for the pairs scored here.

    Returns
    -------
    Comparison

    Raises
    ------
    TypeError
        If ``results`` is not a mapping or an entry is neither a pair nor ``Scores``.
    ValueError
        If ``results`` is empty, or as in :func:`evaluate`.

    Examples
    --------
    >>> x = np.linspace(0, 0.8, 2 * 8 * 8).reshape(2, 8, 8, 1)
    >>> compare({"identity": (x, x), "offset": (x, x + 0.1)})
    model     n  MSE                MAE             PSNR (dB)             SSIM
    identity  2  0 [0, 0]           0 [0, 0]        inf [inf, inf]        1.0000 [1.0000, 1.0000]
    offset    2  0.01 [0.01, 0.01]  0.1 [0.1, 0.1]  20.00 [20.00, 20.00]  0.9541 [0.5202, 1.3880]
    (mean [95% CI] over images)
    """
    _check_results(results, "{label: (x_true, x_pred) or Scores}")
    rows = []
    for label, entry in results.items():
        if isinstance(entry, Scores):
            rows.append((str(label), entry))
        elif isinstance(entry, tuple | list) and len(entry) == 2:
            rows.append((str(label), evaluate(*entry, confidence=confidence)))
        else:
            raise TypeError(
                f"results[{label!r}] must be an (x_true, x_pred) pair or a Scores, got "
                f"{type(entry).__name__}."
            )
    return Comparison(tuple(rows))


SEED_METRICS = ("PSNR", "SSIM", "MAE", "HF retention")


@dataclass(frozen=True, eq=False)
class SeedComparison:
    """Models and baselines scored once per training seed, summarised over seeds (ch. 4).

    Each seed's score is the mean over images; the interval is a t-interval over *seeds* (see
    :func:`summarize`), so it says how much a result depends on the training run, which the
    per-image intervals of :func:`compare` do not. A row with one run (a baseline, or a model
    trained once, as in the quick profile of ch. 4) has no interval.

    Attributes
    ----------
    rows : tuple of (str, dict of str to (S,) float64)
        Label and, per metric in ``SEED_METRICS``, the mean over images of each of its S runs
        (read-only).
    exact : frozenset of str
        Rows of a deterministic method (a baseline): their one value is exact, not one run of
        several that could differ.
    cutoff : float
        The high-frequency cutoff used (fraction of Nyquist).
    confidence : float
        Level of the intervals.
    """

    rows: tuple[tuple[str, dict[str, np.ndarray]], ...]
    exact: frozenset = frozenset()
    cutoff: float = HF_CUTOFF
    confidence: float = CONFIDENCE

    def per_seed(self, label: str) -> dict[str, np.ndarray]:
        """Per-run values of each metric for the row ``label``."""
        for name, values in self.rows:
            if name == label:
                return values
        raise KeyError(f"no row {label!r}; rows are {[name for name, _ in self.rows]}.")

    def verdicts(self, *pairs) -> Verdicts:
        """Rows compared on PSNR, SSIM and MAE over seeds: ``verdicts(a, b)`` or
        ``verdicts((a, b), (c, d), ...)``.

        See :func:`seed_verdict`; a row of :attr:`exact` counts as one exact value.
        """

        def values(label: str, metric: str):
            runs = self.per_seed(label)[metric]
            return runs[0] if label in self.exact else runs

        return judge(as_pairs(pairs), values, confidence=self.confidence)

    def summary(self) -> dict[str, dict[str, MetricSummary]]:
        """Per row and metric: mean over runs with a t-interval over runs."""
        return {
            label: {
                metric: summarize(
                    values[metric],
                    metric,
                    unit=SEED_FORMATS[metric][0],
                    fmt=SEED_FORMATS[metric][1],
                    confidence=self.confidence,
                )
                for metric in SEED_METRICS
            }
            for label, values in self.rows
        }

    def _table(self) -> tuple[list[str], list[list[str]], str]:
        headers = [
            "model", "runs", "PSNR (dB)", "SSIM", "MAE", f"HF retention (>{self.cutoff:g} Nyq.)"
        ]  # fmt: skip
        rows = []
        for label, summaries in self.summary().items():
            shown = [s.estimate if s.n > 1 else f"{s.mean:{s.fmt}}" for s in summaries.values()]
            rows.append([label, str(next(iter(summaries.values())).n), *shown])
        if all(len(values["PSNR"]) == 1 for _, values in self.rows):
            return headers, rows, "one run per row: no interval over training seeds"
        level = f"{self.confidence * 100:g}%"
        return headers, rows, f"mean over runs [{level} CI over training seeds]"

    def __repr__(self) -> str:
        headers, rows, caption = self._table()
        return f"{text_table(headers, rows)}\n({caption})"

    def _repr_html_(self) -> str:
        return html_table(*self._table())


def compare_over_seeds(
    results: Mapping[str, object], *, cutoff: float = HF_CUTOFF, confidence: float = CONFIDENCE
) -> SeedComparison:
    """Score models trained with one or several seeds, and baselines, for one table (ch. 4).

    For every run, PSNR, SSIM (as :func:`evaluate`) and high-frequency retention (as
    :func:`high_frequency_retention`) are averaged over the images; each row is then summarised
    over its runs with a t-interval (:func:`summarize`).

    Parameters
    ----------
    results : mapping of str to (x_true, x_pred) or sequence of such pairs
        One row per entry, in order: a list of pairs, one per training seed, or a bare pair for
        a deterministic method such as a baseline (its value is exact in :meth:`verdicts
        <SeedComparison.verdicts>`). Arrays are ``(N, H, W, C) float32``.
    cutoff : float
        High-frequency cutoff, a fraction of Nyquist.
    confidence : float
        Level of the intervals over seeds.

    Returns
    -------
    SeedComparison

    Raises
    ------
    TypeError
        If ``results`` is not a mapping or an entry is not a pair or a sequence of pairs.
    ValueError
        If ``results`` or an entry is empty, or as in :func:`evaluate`.

    Examples
    --------
    >>> x = np.linspace(0.1, 0.9, 2 * 8 * 8).reshape(2, 8, 8, 1) ** 2
    >>> table = compare_over_seeds({"two runs": [(x, x + 0.1), (x, x + 0.2)], "one": (x, x + 0.1)})
    >>> table.per_seed("two runs")["PSNR"]
    array([20.        , 13.97940009])
    >>> table.summary()["two runs"]["MAE"]
    MAE 0.1500 [-0.4853, 0.7853] (95% CI, n=2)
    >>> table.verdicts("two runs", "one")[0]  # "one" is a bare pair: a deterministic method
    PSNR: two runs − one = -3.01 dB [-41.26, +35.24] (95% CI over 2 seeds; one exact): no \
difference shown
    """
    _check_results(results, "{label: (x_true, x_pred) or [(x_true, x_pred), ...]}")
    rows, exact = [], set()
    for label, entry in results.items():
        is_pair = isinstance(entry, tuple) and len(entry) == 2
        runs = [entry] if is_pair and isinstance(entry[0], np.ndarray) else entry
        if runs is not entry:
            exact.add(str(label))
        if not isinstance(runs, tuple | list) or not runs:
            raise ValueError(f"results[{label!r}] holds no run; pass at least one pair.")
        values: dict[str, list[float]] = {metric: [] for metric in SEED_METRICS}
        for run in runs:
            if not (isinstance(run, tuple | list) and len(run) == 2):
                raise TypeError(
                    f"results[{label!r}] must be an (x_true, x_pred) pair or a sequence of "
                    f"them, got an element of type {type(run).__name__}."
                )
            scores = evaluate(*run)
            values["PSNR"].append(float(np.mean(scores.psnr)))
            values["SSIM"].append(float(np.mean(scores.ssim)))
            values["MAE"].append(float(np.mean(scores.mae)))
            values["HF retention"].append(high_frequency_retention(*run, cutoff).mean)
        arrays = {metric: read_only(np.array(v)) for metric, v in values.items()}
        rows.append((str(label), arrays))
    return SeedComparison(
        tuple(rows),
        frozenset(exact),
        cutoff,
        check_fraction(confidence, "confidence", what="a level"),
    )
