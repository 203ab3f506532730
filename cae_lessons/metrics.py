"""Honest measurements of reconstructions, and the baselines a CAE has to beat.

Every function takes images as ``(N, H, W, C)`` float arrays; the reference ``x_true`` (and the
data the baselines see) must lie in [0, 1] because the peak metrics use ``data_range=1``. The
reconstruction ``x_pred`` only has to be finite: a linear decoder may overshoot and is measured
as it is. Everything is computed per image in float64 and summarised as a mean with a
t-interval over images, so a table says how sure it is.

- ch. 3: :func:`border_error_profile` (where valid convolutions and floored pooling lose pixels).
- ch. 4: :func:`pca_baseline`, :func:`bicubic_baseline`, :func:`latent_size_to_pca_components`,
  :func:`high_frequency_retention`, :func:`radial_power_spectrum` (the compression sweep).
- ch. 5: :func:`checkerboard_score` (transposed-convolution artifacts), :func:`power_spectrum_2d`.
- ch. 9: :func:`evaluate`, :func:`compare` (the results table).

Imports nothing from the package. scikit-learn is imported only by :func:`pca_baseline`;
TensorFlow never.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats
from skimage.metrics import structural_similarity
from skimage.transform import resize

DATA_RANGE = 1.0
CONFIDENCE = 0.95
SSIM_WIN_SIZE = 7
HF_CUTOFF = 0.25

# name -> (unit, format spec) used by the summaries and tables.
_METRIC_STYLE = {"MSE": ("", ".3g"), "MAE": ("", ".3g"), "PSNR": ("dB", ".2f"), "SSIM": ("", ".4f")}


# --- input checks ---------------------------------------------------------------------------


def _as_images(x, name: str, *, unit_range: bool = False, span: float = 1.0) -> np.ndarray:
    """Check that ``x`` is a finite ``(N, H, W, C)`` float array; return a float64 copy.

    With ``unit_range`` its values must lie in ``[0, span]`` (``span`` is the data range).
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(
            f"{name} must be a NumPy array of shape (N, H, W, C), got {type(x).__name__}. "
            f"Convert it with np.asarray({name}, dtype=np.float32)."
        )
    if x.ndim != 4:
        raise ValueError(
            f"{name} must be 4-D (N, H, W, C), got {x.ndim}-D shape {x.shape}. "
            "Add a batch axis with x[None] or a channel axis with x[..., None]."
        )
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"{name} must be a float array with values in [0, 1], got dtype {x.dtype}. "
            f"Convert it with {name}.astype(np.float32) (divided by 255 for 8-bit images)."
        )
    if x.size == 0:
        raise ValueError(f"{name} must hold at least one non-empty image, got shape {x.shape}.")
    bad = x.size - int(np.count_nonzero(np.isfinite(x)))
    if bad:
        raise ValueError(
            f"{name} must be finite, got {bad} NaN or infinite value(s) in shape {x.shape}. "
            "A diverged model produces these: lower the learning rate or check the loss."
        )
    if unit_range and (x.min() < 0 or x.max() > span):
        raise ValueError(
            f"{name} must lie in [0, {span:g}] (data_range={span:g}), got values in "
            f"[{x.min():.4g}, {x.max():.4g}]. Rescale it, e.g. (x - x.min()) / (x.max() - "
            "x.min()), or pass the data_range of your images."
        )
    return x.astype(np.float64)


def _as_pair(x_true, x_pred, span: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Check a reference and a reconstruction of the same shape; return float64 copies."""
    true = _as_images(x_true, "x_true", unit_range=True, span=span)
    pred = _as_images(x_pred, "x_pred")
    if true.shape != pred.shape:
        raise ValueError(
            f"x_true and x_pred must have the same shape, got x_true {true.shape} and x_pred "
            f"{pred.shape}. A decoder whose output size differs from its input cannot be scored "
            "pixel by pixel: fix the architecture (see cae_lessons.shapes) or crop both to a "
            "common size."
        )
    return true, pred


def _check_int(value, name: str, low: int, high: int, hint: str) -> int:
    """Check that ``value`` is an int in ``[low, high]``; ``hint`` says what the bounds mean."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}.")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high} ({hint}), got {value}.")
    return int(value)


def _check_fraction(value, name: str, what: str) -> float:
    """Check that ``value`` is a real number strictly between 0 and 1."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating):
        raise TypeError(f"{name} must be a float, got {type(value).__name__} {value!r}.")
    if not 0 < value < 1:
        raise ValueError(f"{name} must be {what} strictly between 0 and 1, got {value}.")
    return float(value)


def _read_only(values: np.ndarray) -> np.ndarray:
    """Mark an array the result owns as read-only, so that a frozen result stays frozen."""
    values.setflags(write=False)
    return values


# --- tables -----------------------------------------------------------------------------------


def _check_results(results, expected: str) -> None:
    """Refuse anything but a non-empty mapping of labelled results (compare, compare_over_seeds)."""
    if not isinstance(results, Mapping):
        raise TypeError(f"results must be a mapping {expected}, got {type(results).__name__}.")
    if not results:
        raise ValueError("results is empty; pass at least one {label: (x_true, x_pred)} entry.")


def _text_table(headers: list[str], rows: list[list[str]]) -> str:
    """Left-aligned plain-text table, columns separated by two spaces."""
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]
    lines = [headers, *rows]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def _html_table(
    headers: list[str], rows: list[list[str]], caption: str, *, narrow: bool = False
) -> str:
    """Minimal HTML table for Jupyter's rich display.

    ``narrow`` puts each ``mean [low, high]`` cell's interval on a second line and tightens the
    cells, so a table of estimates fits the book's column.
    """
    pad = "0 0.3em" if narrow else "0 0.5em"
    cell_style = f'style="white-space:nowrap;padding:{pad}"'
    label_style = f'style="padding:{pad};min-width:7em"' if narrow else cell_style  # may wrap

    def cell(text: str) -> str:
        escaped = html.escape(text)
        return escaped.replace(" [", "<br>[") if narrow else escaped

    def tr(tag: str, cells: list[str]) -> str:
        styles = [label_style] + [cell_style] * (len(cells) - 1)
        return "".join(f"<{tag} {st}>{c}</{tag}>" for st, c in zip(styles, cells, strict=True))

    head = tr("th", [html.escape(h) for h in headers])
    body = "".join(f"<tr>{tr('td', [cell(c) for c in row])}</tr>" for row in rows)
    return (
        f'<div style="overflow-x:auto"><table><caption>{html.escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


# --- per-image metrics ------------------------------------------------------------------------


def mse(x_true, x_pred) -> np.ndarray:
    """Mean squared error of each image.

    Parameters
    ----------
    x_true : (N, H, W, C) float32
        Reference images in [0, 1].
    x_pred : (N, H, W, C) float32
        Reconstructions, same shape.

    Returns
    -------
    (N,) float64

    Examples
    --------
    >>> x = np.full((2, 4, 4, 1), 0.5, dtype=np.float32)
    >>> mse(x, x + np.float32(0.25))
    array([0.0625, 0.0625])
    """
    true, pred = _as_pair(x_true, x_pred)
    return np.mean((pred - true) ** 2, axis=(1, 2, 3))


def mae(x_true, x_pred) -> np.ndarray:
    """Mean absolute error of each image; arguments as in :func:`mse`.

    Examples
    --------
    >>> x = np.full((2, 4, 4, 1), 0.5, dtype=np.float32)
    >>> mae(x, x - np.float32(0.25))
    array([0.25, 0.25])
    """
    true, pred = _as_pair(x_true, x_pred)
    return np.mean(np.abs(pred - true), axis=(1, 2, 3))


def _check_data_range(data_range) -> float:
    if isinstance(data_range, bool) or not isinstance(data_range, int | float | np.number):
        raise TypeError(
            f"data_range must be a number (the span of possible values, 1 for images in [0, 1]), "
            f"got {type(data_range).__name__} {data_range!r}."
        )
    if not np.isfinite(data_range) or data_range <= 0:
        raise ValueError(
            f"data_range must be a positive finite number, got {data_range!r}; the book's images "
            "are in [0, 1], so data_range=1."
        )
    return float(data_range)


def psnr(x_true, x_pred, data_range: float = DATA_RANGE) -> np.ndarray:
    """Peak signal-to-noise ratio of each image in dB, ``10 log10(data_range² / MSE)``.

    A perfect reconstruction (MSE 0) has PSNR ``inf``; arguments as in :func:`mse`, and
    ``data_range`` the span of possible values (1 for the book's images in [0, 1], as
    scikit-image's ``data_range``).

    Examples
    --------
    >>> x = np.full((1, 4, 4, 1), 0.5)
    >>> psnr(x, x + 0.1).round(6)
    array([20.])
    >>> psnr(255 * x, 255 * x + 25.5, data_range=255).round(6)
    array([20.])
    >>> psnr(x, x)
    array([inf])
    """
    span = _check_data_range(data_range)
    true, pred = _as_pair(x_true, x_pred, span)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(span**2 / np.mean((pred - true) ** 2, axis=(1, 2, 3)))


def ssim_win_size(height: int, width: int) -> int:
    """Side of the SSIM window used for ``height`` x ``width`` images.

    The window is scikit-image's default, a uniform 7 x 7 window, shrunk to the largest odd size
    that fits when a side is shorter than 7 px (so 5 x 5 for a 6 px image). Images with a side
    below 3 px have no valid window.

    Raises
    ------
    ValueError
        If ``min(height, width) < 3``.

    Examples
    --------
    >>> ssim_win_size(128, 128), ssim_win_size(6, 40), ssim_win_size(3, 3)
    (7, 5, 3)
    """
    side = min(height, width)
    if side < 3:
        raise ValueError(
            f"SSIM needs images of at least 3 x 3 px, got (H, W) = {(height, width)}. "
            "Use MSE/PSNR for such small images."
        )
    return min(SSIM_WIN_SIZE, side if side % 2 else side - 1)


def ssim(x_true, x_pred, data_range: float = DATA_RANGE) -> np.ndarray:
    """Structural similarity of each image (scikit-image).

    Uses ``skimage.metrics.structural_similarity`` with ``data_range`` (1 for the book's images
    in [0, 1]), ``channel_axis=-1`` (so C=1 works unchanged; several channels are averaged) and
    the uniform window from :func:`ssim_win_size` (7 x 7 unless the image is smaller). Arguments
    as in :func:`mse`.

    Examples
    --------
    >>> x = np.linspace(0, 1, 64).reshape(1, 8, 8, 1)
    >>> ssim(x, x)
    array([1.])
    """
    span = _check_data_range(data_range)
    true, pred = _as_pair(x_true, x_pred, span)
    win_size = ssim_win_size(*true.shape[1:3])
    return np.array(
        [
            structural_similarity(a, b, data_range=span, channel_axis=-1, win_size=win_size)
            for a, b in zip(true, pred, strict=True)
        ]
    )


# --- summaries --------------------------------------------------------------------------------


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
    confidence = _check_fraction(confidence, "confidence", "a level")
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
        return _html_table(headers, rows, f"n={self.n} images")


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
    confidence = _check_fraction(confidence, "confidence", "a level")
    return Scores(
        mse=_read_only(mse(x_true, x_pred)),
        mae=_read_only(mae(x_true, x_pred)),
        psnr=_read_only(psnr(x_true, x_pred)),
        ssim=_read_only(ssim(x_true, x_pred)),
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
        return f"{_text_table(headers, rows)}\n({caption})"

    def _repr_html_(self) -> str:
        return _html_table(*self._table())


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


# --- where the error lives -------------------------------------------------------------------


def error_map(x_true, x_pred) -> np.ndarray:
    """Absolute error ``|x_pred - x_true|`` of every pixel, for plotting (ch. 3).

    Returns
    -------
    (N, H, W, C) float32

    Examples
    --------
    >>> x = np.zeros((1, 2, 2, 1), dtype=np.float32)
    >>> error_map(x, x - np.float32(0.5))[0, :, :, 0]
    array([[0.5, 0.5],
           [0.5, 0.5]], dtype=float32)
    """
    true, pred = _as_pair(x_true, x_pred)
    return np.abs(pred - true).astype(np.float32)


def distance_to_edge(height: int, width: int) -> np.ndarray:
    """Distance in pixels of each pixel from the nearest image edge (0 = outermost ring).

    Returns
    -------
    (H, W) int array

    Examples
    --------
    >>> distance_to_edge(4, 5)
    array([[0, 0, 0, 0, 0],
           [0, 1, 1, 1, 0],
           [0, 1, 1, 1, 0],
           [0, 0, 0, 0, 0]])
    """
    rows = np.arange(height)
    cols = np.arange(width)
    return np.minimum.outer(np.minimum(rows, rows[::-1]), np.minimum(cols, cols[::-1]))


@dataclass(frozen=True, eq=False)
class BorderErrorProfile:
    """Mean squared error as a function of distance from the image edge (ch. 3).

    Attributes
    ----------
    distance : (D,) int
        Distance from the nearest edge in pixels; 0 is the outermost ring.
    error : (D,) float64
        Mean squared error over all images, channels and pixels at that distance.
    """

    distance: np.ndarray
    error: np.ndarray

    def __repr__(self) -> str:
        shown = ", ".join(f"{e:.3g}" for e in self.error[:6])
        more = ", ..." if len(self.error) > 6 else ""
        return (
            f"BorderErrorProfile(MSE by distance from the edge, d=0..{self.distance[-1]}: "
            f"{shown}{more})"
        )


def border_error_profile(x_true, x_pred, max_distance: int | None = None) -> BorderErrorProfile:
    """Mean squared error per ring of pixels at the same distance from the edge (ch. 3).

    Valid convolutions and floored pooling lose the outer pixels first; their cost shows here
    as an error that rises towards distance 0. Works for non-square images: the rings are the
    level sets of :func:`distance_to_edge`, and the deepest ring is ``(min(H, W) - 1) // 2``.

    Parameters
    ----------
    x_true, x_pred : (N, H, W, C) float32
        References in [0, 1] and reconstructions of the same shape.
    max_distance : int, optional
        Keep distances ``0 .. max_distance`` only (default: all of them).

    Returns
    -------
    BorderErrorProfile

    Raises
    ------
    ValueError
        As in :func:`evaluate`, or if ``max_distance`` is beyond the deepest ring.

    Examples
    --------
    >>> x = np.zeros((1, 5, 6, 1))
    >>> y = x.copy()
    >>> y[0, 0, :, 0] = 1.0   # the top row is wrong
    >>> border_error_profile(x, y).error
    array([0.33333333, 0.        , 0.        ])
    """
    true, pred = _as_pair(x_true, x_pred)
    ring = distance_to_edge(*true.shape[1:3]).ravel()
    squared = ((pred - true) ** 2).mean(axis=(0, 3)).ravel()
    error = np.bincount(ring, weights=squared) / np.bincount(ring)
    if max_distance is not None:
        deepest = len(error) - 1
        hint = f"the deepest ring of a {true.shape[1:3]} image"
        error = error[: _check_int(max_distance, "max_distance", 0, deepest, hint) + 1]
    return BorderErrorProfile(distance=np.arange(len(error)), error=_read_only(error))


# --- spectra ----------------------------------------------------------------------------------


def _radial_frequency(height: int, width: int) -> np.ndarray:
    """``(H, W)`` radial frequency of each FFT bin as a fraction of Nyquist (0 .. sqrt 2)."""
    nyquist = 0.5  # cycles per pixel
    fy = np.fft.fftfreq(height) / nyquist
    fx = np.fft.fftfreq(width) / nyquist
    return np.hypot(fy[:, None], fx[None, :])


def _power_spectra(x: np.ndarray) -> np.ndarray:
    """``(N, H, W)`` power ``|FFT|^2 / (H W)`` of mean-removed, Hann-windowed images.

    Channels are summed. The mean is removed and a separable symmetric Hann window
    (``np.hanning``) applied so that the jump between opposite edges, which the FFT sees as a
    periodic discontinuity, does not leak power into the high frequencies.
    """
    height, width = x.shape[1:3]
    window = np.outer(np.hanning(height), np.hanning(width))[None, :, :, None]
    centred = x - x.mean(axis=(1, 2), keepdims=True)
    spectrum = np.fft.fft2(centred * window, axes=(1, 2))
    return (np.abs(spectrum) ** 2).sum(axis=-1) / (height * width)


def radial_power_spectrum(x) -> tuple[np.ndarray, np.ndarray]:
    """Radially averaged power spectrum of images, for plots (ch. 4).

    Spectra are computed as in :func:`high_frequency_retention` (mean removed, Hann window),
    averaged over images and over the FFT bins in each ring of radial frequency. There are
    ``max(1, min(H, W) // 2)`` equal-width rings from 0 to the Nyquist frequency; the corners of
    the spectrum beyond Nyquist are left out.

    Parameters
    ----------
    x : (N, H, W, C) float32
        Images (any finite values).

    Returns
    -------
    frequencies : (B,) float64
        Centre of each ring as a fraction of Nyquist (1.0 = 0.5 cycles per pixel).
    power : (B,) float64
        Mean power ``|FFT|^2 / (H W)`` in each ring.

    Examples
    --------
    >>> f, p = radial_power_spectrum(np.random.default_rng(0).random((2, 16, 16, 1)))
    >>> f[:3], p.shape
    (array([0.0625, 0.1875, 0.3125]), (8,))
    """
    images = _as_images(x, "x")
    height, width = images.shape[1:3]
    bins = max(1, min(height, width) // 2)
    radius = _radial_frequency(height, width)
    inside = radius <= 1
    ring = np.minimum((radius[inside] * bins).astype(int), bins - 1)
    power = _power_spectra(images).mean(axis=0)[inside]
    mean_power = np.bincount(ring, weights=power, minlength=bins) / np.bincount(
        ring, minlength=bins
    )
    return (np.arange(bins) + 0.5) / bins, mean_power


def power_spectrum_2d(x) -> np.ndarray:
    """Mean 2-D power spectrum of images, zero frequency in the centre, for pictures (ch. 5).

    Computed as in :func:`radial_power_spectrum` (mean removed, Hann window, ``|FFT|^2 / (H W)``,
    channels summed), averaged over images and shifted with ``np.fft.fftshift``: the zero
    frequency sits at ``(H // 2, W // 2)`` and, for even sides, the Nyquist frequency at row and
    column 0. A stride-2 checkerboard shows up as bright points at the middle of the edges and at
    the corners, which a radial average mixes with everything else at the same radius.

    Parameters
    ----------
    x : (N, H, W, C) float32
        Images (any finite values).

    Returns
    -------
    (H, W) float64
        Mean power per frequency; frequencies run from -1 to just under 1 x Nyquist.

    Examples
    --------
    >>> board = (np.indices((8, 8)).sum(axis=0) % 2).reshape(1, 8, 8, 1).astype(np.float32)
    >>> power = power_spectrum_2d(board)
    >>> np.unravel_index(power.argmax(), power.shape)
    (np.int64(0), np.int64(0))
    """
    images = _as_images(x, "x")
    return np.fft.fftshift(_power_spectra(images).mean(axis=0))


@dataclass(frozen=True, eq=False)
class HighFrequencyRetention:
    """Power above a cutoff frequency in the output relative to the input (ch. 4).

    Attributes
    ----------
    ratio : (N,) float64
        Per image: 1.0 = fine detail fully kept, < 1 lost (blur), > 1 added (noise, artifacts).
    cutoff : float
        Radial frequency cutoff as a fraction of Nyquist.
    confidence : float
        Level of the interval in :meth:`summary`.
    """

    ratio: np.ndarray
    cutoff: float
    confidence: float = CONFIDENCE

    @property
    def mean(self) -> float:
        """Mean ratio over images."""
        return float(np.mean(self.ratio))

    def summary(self) -> MetricSummary:
        """Mean ratio with a t-interval over images (see :func:`summarize`)."""
        return summarize(self.ratio, "HF retention", fmt=".3f", confidence=self.confidence)

    def __repr__(self) -> str:
        return f"{self.summary()!r}; power above {self.cutoff:g} x Nyquist, output / input"


def high_frequency_retention(
    x_true, x_pred, cutoff: float = HF_CUTOFF, *, confidence: float = CONFIDENCE
) -> HighFrequencyRetention:
    """How much of the fine detail survives the autoencoder (ch. 4).

    For each image, the spectral power at radial frequencies above ``cutoff`` (a fraction of the
    Nyquist frequency, 0.5 cycles per pixel; 0.25 means structures smaller than about 8 px) in
    ``x_pred`` divided by the same power in ``x_true``. Power is ``|FFT|^2`` of the image after
    removing its mean and applying a 2-D Hann window (against edge leakage), summed over
    channels. The ratio compares power, not phase: noise that replaces lost detail with equal
    power scores 1.0, so read it next to the MSE.

    Parameters
    ----------
    x_true, x_pred : (N, H, W, C) float32
        References in [0, 1] and reconstructions of the same shape.
    cutoff : float
        Fraction of Nyquist, strictly between 0 and 1.
    confidence : float
        Level of the interval in the summary.

    Returns
    -------
    HighFrequencyRetention

    Raises
    ------
    ValueError
        As in :func:`evaluate`, if ``cutoff`` is out of range, or if an ``x_true`` image has no
        power above the cutoff (flat or tiny images), where the ratio is undefined.

    Examples
    --------
    >>> x = np.random.default_rng(0).random((3, 16, 16, 1))
    >>> high_frequency_retention(x, x).ratio
    array([1., 1., 1.])
    """
    true, pred = _as_pair(x_true, x_pred)
    cutoff = _check_fraction(cutoff, "cutoff", "a fraction of the Nyquist frequency")
    confidence = _check_fraction(confidence, "confidence", "a level")
    high = _radial_frequency(*true.shape[1:3]) > cutoff
    reference = _power_spectra(true)[:, high].sum(axis=1)
    undefined = np.flatnonzero(reference <= np.finfo(float).eps * np.sum(true**2, axis=(1, 2, 3)))
    if undefined.size:
        raise ValueError(
            f"x_true image(s) {undefined[:10].tolist()} have no power above cutoff={cutoff} "
            "(flat or too small), so the retention ratio is undefined. Leave them out, e.g. "
            "keep = x_true.std(axis=(1, 2, 3)) > 0, or lower the cutoff."
        )
    ratio = _power_spectra(pred)[:, high].sum(axis=1) / reference
    return HighFrequencyRetention(_read_only(ratio), cutoff, confidence)


def _stride_pair(strides) -> tuple[int, int]:
    """``strides`` as Keras spells it (int or pair) -> ``(sy, sx)``, with a period >= 2."""
    pair = (strides, strides) if isinstance(strides, int | np.integer) else strides
    valid = (
        isinstance(pair, tuple | list)
        and len(pair) == 2
        and all(isinstance(s, int | np.integer) and not isinstance(s, bool) for s in pair)
        and min(pair) >= 1
        and max(pair) >= 2
    )
    if isinstance(strides, bool) or not valid:
        raise ValueError(
            "strides must be an int >= 2 or a pair (sy, sx) of ints >= 1 with one >= 2, as "
            f"Keras spells it; got {strides!r}."
        )
    return int(pair[0]), int(pair[1])


def checkerboard_score(x, strides=2) -> np.ndarray:
    """Share of an image's energy at the stride-periodic frequencies (ch. 5).

    A transposed convolution whose kernel size is not divisible by its stride paints a pattern
    with period ``strides`` (Odena et al., 2016). Its energy sits at the frequencies that are
    multiples of ``1/strides`` of the sampling frequency: for stride 2 the FFT bins (pi, 0),
    (0, pi) and (pi, pi). The score is the energy in those bins (DC excluded) over the total
    energy without DC, per image, channels summed: about 0 for a smooth image, 1 for a pure
    checkerboard. No window is applied, so that a grid-aligned pattern stays in its bins;
    images whose side is not a multiple of the stride are cropped at the bottom/right (keeping
    the pattern's phase). A constant image scores 0.

    Parameters
    ----------
    x : (N, H, W, C) float32
        Images, e.g. decoder outputs (any finite values).
    strides : int or (int, int)
        Upsampling stride of the decoder, as Keras spells it.

    Returns
    -------
    (N,) float64

    Raises
    ------
    ValueError
        If ``strides`` is not a valid stride, or the image is smaller than one period.

    References
    ----------
    A. Odena, V. Dumoulin and C. Olah, "Deconvolution and Checkerboard Artifacts", Distill,
    2016. https://doi.org/10.23915/distill.00003

    Examples
    --------
    >>> board = (np.indices((8, 8)).sum(axis=0) % 2).reshape(1, 8, 8, 1).astype(np.float32)
    >>> checkerboard_score(board).round(6)
    array([1.])
    >>> checkerboard_score(np.full((1, 8, 8, 1), 0.5))
    array([0.])
    """
    images = _as_images(x, "x")
    sy, sx = _stride_pair(strides)
    height = images.shape[1] - images.shape[1] % sy
    width = images.shape[2] - images.shape[2] % sx
    if height == 0 or width == 0:
        raise ValueError(
            f"x images of (H, W) = {images.shape[1:3]} are smaller than one stride period "
            f"{(sy, sx)}; the checkerboard score needs at least one full period."
        )
    images = images[:, :height, :width]
    centred = images - images.mean(axis=(1, 2), keepdims=True)
    energy = (np.abs(np.fft.fft2(centred, axes=(1, 2))) ** 2).sum(axis=-1)
    energy[:, 0, 0] = 0.0
    periodic = energy[:, :: height // sy, :: width // sx].sum(axis=(1, 2))
    total = energy.sum(axis=(1, 2))
    flat = np.ptp(images, axis=(1, 2, 3)) == 0
    return np.where(flat, 0.0, periodic / np.where(flat, 1.0, total))


# --- baselines at the same latent size --------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Baseline:
    """Reconstruction by a classical method that stores a fixed number of values per image.

    Attributes
    ----------
    method : str
        ``'PCA'`` or ``'bicubic'``.
    reconstruction : (N, H, W, C) float32
        Reconstructed images in [0, 1] (read-only).
    latent_values : int
        Values stored per image: the number of PCA components, or ``h * w * C`` pixels of the
        downsampled image.
    compression_ratio : float
        ``H * W * C / latent_values``.
    """

    method: str
    reconstruction: np.ndarray
    latent_values: int
    compression_ratio: float

    @property
    def label(self) -> str:
        """Row label for :func:`compare`, e.g. ``'PCA (64 values)'``."""
        return f"{self.method} ({self.latent_values} values)"

    def __repr__(self) -> str:
        return (
            f"Baseline({self.method}: {self.latent_values} values per image, compression "
            f"{self.compression_ratio:g}x, reconstruction {self.reconstruction.shape})"
        )


def latent_size_to_pca_components(latent_shape) -> int:
    """Number of PCA components that store as many values per image as a CAE latent (ch. 4).

    A CAE whose bottleneck is ``h x w x c`` stores ``h * w * c`` values per image; PCA with
    ``k`` components stores ``k``. So "the same latent size" means ``k = h * w * c``.

    Parameters
    ----------
    latent_shape : int or tuple of int
        The latent's value count, or its shape as Keras reports it (a leading ``None`` batch
        axis is ignored).

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If the shape is empty or holds anything but positive ints.

    Examples
    --------
    >>> latent_size_to_pca_components((None, 16, 16, 8))
    2048
    >>> latent_size_to_pca_components(64)
    64
    """
    dims = (latent_shape,) if isinstance(latent_shape, int | np.integer) else tuple(latent_shape)
    dims = dims[1:] if dims and dims[0] is None else dims
    if not dims or not all(
        isinstance(d, int | np.integer) and not isinstance(d, bool) and d > 0 for d in dims
    ):
        raise ValueError(
            "latent_shape must be a positive int or a shape of positive ints such as "
            f"(16, 16, 8) or (None, 16, 16, 8); got {latent_shape!r}."
        )
    return math.prod(int(d) for d in dims)


def pca_baseline(x_train, x_test, n_components: int) -> Baseline:
    """Reconstruct ``x_test`` from ``n_components`` principal components of ``x_train`` (ch. 4).

    Fits ``sklearn.decomposition.PCA(n_components, svd_solver='full')`` (exact and
    deterministic) on the flattened training images, projects the test images and maps them
    back; the result is clipped to [0, 1].

    Parameters
    ----------
    x_train, x_test : (N, H, W, C) float32
        Images in [0, 1] with the same ``(H, W, C)``.
    n_components : int
        Between 1 and ``min(n_samples, n_features)`` of ``x_train``.

    Returns
    -------
    Baseline

    Raises
    ------
    TypeError
        If ``n_components`` is not an int, or as in :func:`evaluate`.
    ValueError
        If ``n_components`` is out of range, or the image sizes differ.

    Examples
    --------
    >>> x = np.random.default_rng(0).random((6, 4, 4, 1)).astype(np.float32)
    >>> pca = pca_baseline(x, x, 6)
    >>> pca
    Baseline(PCA: 6 values per image, compression 2.66667x, reconstruction (6, 4, 4, 1))
    >>> bool(np.allclose(pca.reconstruction, x, atol=1e-6))
    True
    """
    train = _as_images(x_train, "x_train", unit_range=True)
    test = _as_images(x_test, "x_test", unit_range=True)
    if train.shape[1:] != test.shape[1:]:
        raise ValueError(
            f"x_train and x_test must hold images of the same (H, W, C), got {train.shape[1:]} "
            f"and {test.shape[1:]}. Load both with the same crop."
        )
    n_samples, n_features = train.shape[0], math.prod(train.shape[1:])
    hint = f"min(n_samples, n_features) for x_train of shape {train.shape}; use fewer components"
    k = _check_int(n_components, "n_components", 1, min(n_samples, n_features), hint)
    from sklearn.decomposition import PCA

    pca = PCA(n_components=k, svd_solver="full").fit(train.reshape(n_samples, -1))
    flat = pca.inverse_transform(pca.transform(test.reshape(len(test), -1)))
    reconstruction = np.clip(flat, 0.0, 1.0).astype(np.float32).reshape(test.shape)
    return Baseline("PCA", _read_only(reconstruction), k, n_features / k)


def bicubic_baseline(x, factor: int) -> Baseline:
    """Downsample by ``factor`` per side and upsample back with cubic interpolation (ch. 4).

    Uses ``skimage.transform.resize`` with ``order=3`` (cubic spline interpolation, scikit-image's
    "bicubic"; not the Keys kernel of PIL or ``tf.image.resize``), ``mode='reflect'``,
    Gaussian anti-aliasing on the way down and none on the way up. Values stay within the input
    range, so in [0, 1]. The small image is ``ceil(H / factor) x ceil(W / factor)``, so the
    compression ratio is exactly ``factor**2`` when ``factor`` divides both sides.

    Parameters
    ----------
    x : (N, H, W, C) float32
        Images in [0, 1].
    factor : int
        Downsampling factor per side, from 1 to ``min(H, W)``.

    Returns
    -------
    Baseline

    Raises
    ------
    TypeError
        If ``factor`` is not an int, or as in :func:`evaluate`.
    ValueError
        If ``factor`` is out of range, or as in :func:`evaluate`.

    Examples
    --------
    >>> x = np.random.default_rng(0).random((2, 8, 8, 1)).astype(np.float32)
    >>> bicubic_baseline(x, 2)
    Baseline(bicubic: 16 values per image, compression 4x, reconstruction (2, 8, 8, 1))
    """
    images = _as_images(x, "x", unit_range=True)
    _, height, width, channels = images.shape
    hint = f"at most the shorter side of {(height, width)} images"
    factor = _check_int(factor, "factor", 1, min(height, width), hint)
    small = (math.ceil(height / factor), math.ceil(width / factor))
    reconstruction = np.stack(
        [
            resize(
                resize(image, small, order=3, mode="reflect", anti_aliasing=True),
                (height, width),
                order=3,
                mode="reflect",
                anti_aliasing=False,
            )
            for image in images
        ]
    ).astype(np.float32)
    latent_values = small[0] * small[1] * channels
    return Baseline(
        "bicubic", _read_only(reconstruction), latent_values, height * width / math.prod(small)
    )


# --- several training seeds -------------------------------------------------------------------

SEED_METRICS = ("PSNR", "SSIM", "MAE", "HF retention")
_SEED_STYLE = {
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
        unit, fmt = _SEED_STYLE[self.metric]
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
    confidence = _check_fraction(confidence, "confidence", "a level")
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
    cutoff : float
        The high-frequency cutoff used (fraction of Nyquist).
    confidence : float
        Level of the intervals.
    """

    rows: tuple[tuple[str, dict[str, np.ndarray]], ...]
    cutoff: float = HF_CUTOFF
    confidence: float = CONFIDENCE

    def per_seed(self, label: str) -> dict[str, np.ndarray]:
        """Per-run values of each metric for the row ``label``."""
        for name, values in self.rows:
            if name == label:
                return values
        raise KeyError(f"no row {label!r}; rows are {[name for name, _ in self.rows]}.")

    def verdicts(self, a: str, b: str) -> tuple[SeedVerdict, ...]:
        """Row ``a`` against row ``b`` on PSNR, SSIM and MAE (see :func:`seed_verdict`)."""
        x, y = self.per_seed(a), self.per_seed(b)
        return tuple(
            seed_verdict(x[m], y[m], m, labels=(a, b), confidence=self.confidence)
            for m in HIGHER_IS_BETTER
        )

    def summary(self) -> dict[str, dict[str, MetricSummary]]:
        """Per row and metric: mean over runs with a t-interval over runs."""
        return {
            label: {
                metric: summarize(
                    values[metric],
                    metric,
                    unit=_SEED_STYLE[metric][0],
                    fmt=_SEED_STYLE[metric][1],
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
        return f"{_text_table(headers, rows)}\n({caption})"

    def _repr_html_(self) -> str:
        return _html_table(*self._table())


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
        One row per entry, in order: one pair per training seed, or a single pair for a
        deterministic method such as a baseline. Arrays are ``(N, H, W, C) float32``.
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
    >>> table.verdicts("two runs", "one")[0]
    PSNR: two runs − one = -3.01 dB [-inf, +inf] (95% CI over 2 + 1 seeds): no difference shown
    """
    _check_results(results, "{label: (x_true, x_pred) or [(x_true, x_pred), ...]}")
    rows = []
    for label, entry in results.items():
        is_pair = isinstance(entry, tuple) and len(entry) == 2
        runs = [entry] if is_pair and isinstance(entry[0], np.ndarray) else entry
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
        arrays = {metric: _read_only(np.array(v)) for metric, v in values.items()}
        rows.append((str(label), arrays))
    return SeedComparison(tuple(rows), cutoff, _check_fraction(confidence, "confidence", "a level"))
