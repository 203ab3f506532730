"""From volumes to ``(N, H, W, 1) float32`` stacks: resampling to a voxel size, intensity
normalisation, slicing along a plane, and fitting each slice to a size (resize, pad, crop) and
back (:func:`fit_stack`, :func:`unfit_stack`); :func:`block_mean` shrinks a stack by an integer
factor.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cae_lessons.data.read import _Unit
from cae_lessons.validate import check_int, is_int

PLANES = ("axial", "coronal", "sagittal")


FITS = ("resize", "pad", "crop", "none")


NORMALIZATIONS = ("minmax", "percentile", None)


DEFAULT_SIZE = (128, 128)


#: A pixel is foreground when it is above this fraction of its volume's intensity range.
FOREGROUND_LEVEL = 0.1


#: Percentiles that ``normalize='percentile'`` maps to 0 and 1.
PERCENTILES = (0.5, 99.5)


_PLANE_AXIS = {"sagittal": 0, "coronal": 1, "axial": 2}


def _check_choice(name: str, value, choices: tuple) -> None:
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not supported; expected one of {choices}.")


def _check_size(size) -> tuple[int, int] | None:
    """Return ``size`` as an ``(H, W)`` tuple of positive ints, or None.

    Examples
    --------
    >>> _check_size([64, 96])
    (64, 96)
    >>> _check_size((128, 0))
    Traceback (most recent call last):
    ...
    ValueError: size must be two positive integers (H, W) such as (128, 128), got (128, 0). ...
    """
    if size is None:
        return None
    hint = "Pass size=(H, W) such as (128, 128), or size=None to keep native sizes."
    ints = (
        [is_int(v) for v in size]
        if (isinstance(size, Sequence) and not isinstance(size, str))
        else []
    )
    if len(ints) != 2 or not all(ints):
        raise TypeError(f"size must be two positive integers (H, W), got {size!r}. {hint}")
    result = (int(size[0]), int(size[1]))
    if min(result) < 1:
        raise ValueError(
            f"size must be two positive integers (H, W) such as (128, 128), got {result}. {hint}"
        )
    return result


def _check_voxel_size(voxel_size) -> tuple[float, float, float] | None:
    if voxel_size is None:
        return None
    values = voxel_size if isinstance(voxel_size, Sequence) else (voxel_size,) * 3
    if len(values) != 3 or not all(
        isinstance(v, int | float | np.number) and not isinstance(v, bool) and v > 0 for v in values
    ):
        raise ValueError(
            f"voxel_size must be a positive number of mm or three of them, got {voxel_size!r}; "
            "for example voxel_size=1.5."
        )
    return tuple(float(v) for v in values)


def resample_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Return the ``(n_out, n_in) float32`` matrix of 1-D linear resampling with anti-aliasing.

    A triangle (tent) filter widened by the shrink factor when downsampling, so every output
    pixel averages the input pixels it covers; rows sum to 1, so values stay in the input range.
    Used by :func:`load_mri_data` for ``fit='resize'`` and ``voxel_size`` (ch. 6).

    Examples
    --------
    >>> resample_matrix(4, 2).round(3)
    array([[0.4, 0.4, 0.2, 0. ],
           [0. , 0.2, 0.4, 0.4]], dtype=float32)
    """
    scale = n_in / n_out
    centres = (np.arange(n_out) + 0.5) * scale - 0.5
    weights = np.clip(1 - np.abs(np.arange(n_in) - centres[:, None]) / max(scale, 1.0), 0, None)
    return (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)


def _resample_axis(data: np.ndarray, axis: int, n_out: int) -> np.ndarray:
    if data.shape[axis] == n_out:
        return data
    moved = np.ascontiguousarray(np.moveaxis(data, axis, -1))
    # Some OpenBLAS builds raise the invalid-operation flag on small float32 products of finite
    # arrays (numpy#24067, OpenBLAS#1924), which pytest's warnings-as-errors then fails on. The
    # weights are finite and non-negative, so only an inf in ``data`` could make a real NaN here.
    with np.errstate(invalid="ignore"):
        flat = moved.reshape(-1, moved.shape[-1]) @ resample_matrix(moved.shape[-1], n_out).T
    return np.moveaxis(flat.reshape(*moved.shape[:-1], n_out), -1, axis)


def resampled_shape(shape: Sequence[int], native: Sequence[float], target: Sequence[float]):
    """Return the shape of an array of ``native`` mm voxels resampled to ``target`` mm.

    Rounds like ``scipy.ndimage.zoom(data, native / target)`` does.

    Examples
    --------
    >>> resampled_shape((197, 233, 189), (1, 1, 1), (2, 2, 2))
    (98, 116, 94)
    """
    return tuple(max(1, round(n * a / b)) for n, a, b in zip(shape, native, target, strict=True))


def _resample_unit(unit: _Unit, voxel_size: tuple[float, float, float]) -> _Unit:
    if unit.voxel_size is None:
        raise ValueError(
            f"{unit.name} has no voxel size (a plain array or picture), so voxel_size="
            f"{voxel_size} cannot be applied. Save it as NIfTI with its affine, or resize with "
            "size=(H, W) instead."
        )
    target = voxel_size[: unit.data.ndim] if unit.plane is None else voxel_size[:2]
    axes = range(3) if unit.plane is None else (1, 2)
    data = unit.data
    shape = resampled_shape([data.shape[a] for a in axes], unit.voxel_size, target)
    for axis, n_out in zip(axes, shape, strict=True):
        data = _resample_axis(data, axis, n_out)
    return _Unit(unit.name, data, tuple(target), unit.plane, unit.volume)


def _intensity_range(unit: _Unit, normalize: str | None) -> tuple[float, float]:
    if normalize == "percentile":
        low, high = np.percentile(unit.data, PERCENTILES)
        if high > low:
            return float(low), float(high)
    low, high = float(unit.data.min()), float(unit.data.max())
    if normalize is not None and high <= low:
        raise ValueError(
            f"{unit.name} is constant (every value is {low:g}); normalising it would divide by "
            "zero and it holds no image. Check the file, or pass normalize=None to keep it."
        )
    return low, high


def _normalize(data: np.ndarray, low: float, high: float) -> np.ndarray:
    return np.clip((data - low) / (high - low), 0, 1, dtype=np.float32)


def _plane_stacks(unit: _Unit, plane: str) -> list[tuple[str, np.ndarray, tuple | None]]:
    """Return ``(plane, (N, H, W) stack, pixel mm)`` for each requested plane of a unit."""
    if unit.plane is not None:
        if plane not in ("all", unit.plane):
            raise ValueError(
                f"{unit.name} holds 2-D {unit.plane} slices of size {unit.data.shape[1:]}, so it "
                f"has no {plane} plane; pass plane='all' (or plane={unit.plane!r}), or a volume."
            )
        return [(unit.plane, unit.data, unit.voxel_size)]
    wanted = PLANES if plane == "all" else (plane,)
    stacks = []
    for name in wanted:
        axis = _PLANE_AXIS[name]
        rest = [a for a in range(3) if a != axis]
        if min(unit.data.shape[a] for a in rest) < 2:
            continue
        stack = _plane_view(unit.data, axis)
        mm = None if unit.voxel_size is None else tuple(unit.voxel_size[a] for a in rest[::-1])
        stacks.append((name, stack, mm))
    if not stacks:
        raise ValueError(
            f"{unit.name} has shape {unit.data.shape}, so it has no {plane} slices wider than "
            "one pixel; pass plane='all' to take the planes it has."
        )
    return stacks


def _plane_view(data: np.ndarray, axis: int) -> np.ndarray:
    """The slices of an ``(X, Y, Z)`` RAS+ volume across ``axis``, shown the book's way up."""
    return np.rot90(np.moveaxis(data, axis, 0), axes=(1, 2))


def mid_planes(volume) -> dict[str, np.ndarray]:
    """Return the middle sagittal, coronal and axial slices of a volume, the way up the book shows.

    For a picture of a whole volume before a 3-D model sees it (ch. 6's section "A 3-D U-Net
    meets the whole volume"); the slices are oriented as :func:`load_mri_data` orients them.

    Parameters
    ----------
    volume : (X, Y, Z) or (X, Y, Z, 1) ndarray
        One volume in RAS+ order, as :func:`load_mri_volumes` gives it (without the batch axis).

    Returns
    -------
    dict of str to (H, W) ndarray
        ``'sagittal'``, ``'coronal'`` and ``'axial'``.

    Examples
    --------
    >>> planes = mid_planes(np.zeros((4, 6, 8, 1), np.float32))
    >>> {name: plane.shape for name, plane in planes.items()}
    {'sagittal': (8, 6), 'coronal': (8, 4), 'axial': (6, 4)}
    """
    data = np.asarray(volume)
    if data.ndim == 4 and data.shape[-1] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise ValueError(
            f"mid_planes needs one volume (X, Y, Z) or (X, Y, Z, 1); got shape {data.shape}. "
            "For a batch from load_mri_volumes, pass volumes[0]."
        )
    return {
        name: _plane_view(data, axis)[data.shape[axis] // 2] for name, axis in _PLANE_AXIS.items()
    }


def foreground_fraction(stack: np.ndarray, threshold: float) -> np.ndarray:
    """Return, per slice of an ``(N, H, W)`` stack, the fraction of pixels above ``threshold``.

    Examples
    --------
    >>> foreground_fraction(np.eye(4)[None], 0.5)
    array([0.25])
    """
    return (stack > threshold).mean(axis=(1, 2))


def evenly_spaced(n: int, k: int | None) -> np.ndarray:
    """Return ``k`` evenly spaced, distinct indices into ``range(n)`` (all when ``k`` is None).

    Examples
    --------
    >>> evenly_spaced(10, 4)
    array([0, 3, 6, 9])
    """
    if k is None or k >= n:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, k)).astype(int))


def _pad_or_crop(stack: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Centre-pad with zeros and/or centre-crop the last two axes to ``size``."""
    for axis, n_out in zip((1, 2), size, strict=True):
        n_in = stack.shape[axis]
        if n_in > n_out:
            start = (n_in - n_out) // 2
            stack = np.take(stack, np.arange(start, start + n_out), axis=axis)
        elif n_in < n_out:
            widths = [(0, 0)] * 3
            widths[axis] = ((n_out - n_in) // 2, n_out - n_in - (n_out - n_in) // 2)
            stack = np.pad(stack, widths)
    return stack


def fit_stack(stack: np.ndarray, size: tuple[int, int], fit: str) -> np.ndarray:
    """Bring an ``(N, H, W)`` stack to ``(N, *size)`` by ``fit``.

    ``'resize'`` scales by one factor (aspect ratio kept) so the slice just fits, then zero-pads
    the short side; ``'pad'`` zero-pads around the centre; ``'crop'`` cuts around the centre.
    Used by ch. 6 "MRI of varying resolutions" to compare the three.

    Raises
    ------
    ValueError
        If ``'pad'`` would have to shrink or ``'crop'`` to grow the slices.

    Examples
    --------
    >>> fit_stack(np.ones((1, 2, 4)), (4, 4), "resize")[0]
    array([[0., 0., 0., 0.],
           [1., 1., 1., 1.],
           [1., 1., 1., 1.],
           [0., 0., 0., 0.]])
    >>> fit_stack(np.ones((1, 2, 4)), (4, 4), "pad").shape
    (1, 4, 4)
    >>> fit_stack(np.ones((1, 2, 4)), (4, 4), "crop")
    Traceback (most recent call last):
    ...
    ValueError: fit='crop' cannot grow slices of size (2, 4) to (4, 4); use fit='pad' ...
    """
    native = stack.shape[1:]
    if fit == "resize":
        scale = min(t / n for t, n in zip(size, native, strict=True))
        for axis, n in zip((1, 2), native, strict=True):
            stack = _resample_axis(stack, axis, max(1, min(round(n * scale), size[axis - 1])))
    elif (fit == "pad" and any(n > t for n, t in zip(native, size, strict=True))) or (
        fit == "crop" and any(n < t for n, t in zip(native, size, strict=True))
    ):
        verb, other = ("shrink", "fit='crop'") if fit == "pad" else ("grow", "fit='pad'")
        bigger_or_smaller = "larger" if fit == "pad" else "smaller"
        raise ValueError(
            f"fit={fit!r} cannot {verb} slices of size {native} to {size}; use {other} or "
            f"fit='resize', or a {bigger_or_smaller} size."
        )
    return _pad_or_crop(stack, size)


def unfit_stack(stack: np.ndarray, native_size: tuple[int, int], fit: str) -> np.ndarray:
    """Undo :func:`fit_stack`: bring an ``(N, H, W)`` stack back to ``(N, *native_size)``.

    ``'resize'`` cuts out the centred region that ``fit_stack(..., fit='resize')`` filled (the
    zero-padded margins are dropped) and resamples it to ``native_size`` with the same
    anti-aliased linear filter; ``'pad'`` and ``'crop'`` cut or pad around the centre. A model's
    output on fitted slices can then be compared with the native slices pixel for pixel, and
    ``unfit_stack(fit_stack(s, size, 'resize'), s.shape[1:], 'resize')`` measures what the
    interpolation alone loses. Used by ch. 6 "MRI of varying resolutions".

    Parameters
    ----------
    stack : (N, H, W) float32 ndarray
        Slices of the fitted size, e.g. a model's output with the channel axis dropped.
    native_size : (H, W)
        The size of the slices before :func:`fit_stack`.
    fit : {'resize', 'pad', 'crop'}
        The ``fit`` that was used.

    Returns
    -------
    (N, *native_size) float32 ndarray

    Raises
    ------
    ValueError
        If ``fit`` is not one of ``'resize'``, ``'pad'``, ``'crop'``.

    Examples
    --------
    >>> s = np.arange(12, dtype=np.float32).reshape(1, 3, 4)
    >>> fitted = fit_stack(s, (8, 8), "resize")
    >>> fitted.shape, unfit_stack(fitted, (3, 4), "resize").shape
    ((1, 8, 8), (1, 3, 4))
    >>> bool(np.array_equal(unfit_stack(fit_stack(s, (5, 6), "pad"), (3, 4), "pad"), s))
    True
    """
    _check_choice("fit", fit, ("resize", "pad", "crop"))
    native = _check_size(tuple(native_size))
    stack = np.asarray(stack, dtype=np.float32)
    if fit != "resize":
        return _pad_or_crop(stack, native)
    size = stack.shape[1:]
    scale = min(t / n for t, n in zip(size, native, strict=True))
    content = [max(1, min(round(n * scale), t)) for n, t in zip(native, size, strict=True)]
    stack = _pad_or_crop(stack, tuple(content))
    for axis, n in zip((1, 2), native, strict=True):
        stack = _resample_axis(stack, axis, n)
    return stack.astype(np.float32, copy=False)


def block_mean(x: np.ndarray, factor: int) -> np.ndarray:
    """Downsample images by averaging non-overlapping ``factor`` x ``factor`` blocks.

    Area averaging: every output pixel is the mean of the input pixels it covers, so values stay
    in the input's range and nothing is interpolated. Used by ch. 4 to run its compression sweep
    on the same slices at half the size, inside the quick profile's time budget.

    Parameters
    ----------
    x : (N, H, W, C) float32 ndarray
        Images whose height and width are multiples of ``factor``.
    factor : int
        Block side, >= 1.

    Returns
    -------
    (N, H // factor, W // factor, C) float32 ndarray

    Raises
    ------
    TypeError
        If ``x`` is not a 4-D array or ``factor`` not an int.
    ValueError
        If ``factor`` < 1 or does not divide H and W.

    Examples
    --------
    >>> x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    >>> block_mean(x, 2)[0, :, :, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]], dtype=float32)
    """
    if not isinstance(x, np.ndarray) or x.ndim != 4:
        got = getattr(x, "shape", type(x).__name__)
        raise TypeError(f"x must be an (N, H, W, C) array, got {got}.")
    factor = check_int(factor, "factor")
    n, height, width, channels = x.shape
    if factor < 1 or height % factor or width % factor:
        raise ValueError(
            f"factor must be >= 1 and divide both sides of the {height}×{width} images, got "
            f"{factor}. Crop the images to a multiple of it first (load_mri_data(size=...))."
        )
    blocks = x.reshape(n, height // factor, factor, width // factor, factor, channels)
    return blocks.mean(axis=(2, 4)).astype(np.float32, copy=False)
