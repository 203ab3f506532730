"""Honest measurements of reconstructions, one image at a time.

Every function takes images as ``(N, H, W, C)`` float arrays; the reference ``x_true`` must lie
in ``[0, data_range]`` (1 by default). The reconstruction ``x_pred`` only has to be finite: a
linear decoder may overshoot and is measured as it is. Everything is computed per image in
float64; :mod:`cae_lessons.scores` summarises them with intervals.

- per image: :func:`mse`, :func:`mae`, :func:`psnr`, :func:`ssim`, :func:`error_map`;
- where the error lives: :func:`border_error_profile` (ch. 3);
- fine detail: :func:`high_frequency_retention`, :func:`radial_power_spectrum` (ch. 4);
- artifacts: :func:`checkerboard_score`, :func:`power_spectrum_2d` (ch. 5).

TensorFlow is never imported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from skimage.metrics import structural_similarity

from cae_lessons.stats import CONFIDENCE, MetricSummary, summarize
from cae_lessons.validate import check_fraction, check_images, check_int, read_only

DATA_RANGE = 1.0
SSIM_WIN_SIZE = 7
HF_CUTOFF = 0.25


def _as_pair(x_true, x_pred, span: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Check a reference and a reconstruction of the same shape; return float64 copies."""
    true = check_images(x_true, "x_true", unit_range=True, span=span).astype(np.float64)
    pred = check_images(x_pred, "x_pred").astype(np.float64)
    if true.shape != pred.shape:
        raise ValueError(
            f"x_true and x_pred must have the same shape, got x_true {true.shape} and x_pred "
            f"{pred.shape}. A decoder whose output size differs from its input cannot be scored "
            "pixel by pixel: fix the architecture (see cae_lessons.shapes) or crop both to a "
            "common size."
        )
    return true, pred


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
        bounds = f"the deepest ring of a {true.shape[1:3]} image"
        last = check_int(max_distance, "max_distance", low=0, high=deepest, bounds=bounds)
        error = error[: last + 1]
    return BorderErrorProfile(distance=np.arange(len(error)), error=read_only(error))


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
    images = check_images(x, "x").astype(np.float64)
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
    images = check_images(x, "x").astype(np.float64)
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
    cutoff = check_fraction(cutoff, "cutoff", what="a fraction of the Nyquist frequency")
    confidence = check_fraction(confidence, "confidence", what="a level")
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
    return HighFrequencyRetention(read_only(ratio), cutoff, confidence)


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
    images = check_images(x, "x").astype(np.float64)
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
