""":func:`load_mri_data`: a source (bundled or the user's files) read, resampled, normalised,
sliced and fitted to one size, with a table of where each slice came from.
"""

from __future__ import annotations

import numpy as np

from cae_lessons.data.preprocess import (
    DEFAULT_SIZE,
    FITS,
    FOREGROUND_LEVEL,
    NORMALIZATIONS,
    PLANES,
    _check_choice,
    _check_size,
    _check_voxel_size,
    _intensity_range,
    _normalize,
    _plane_stacks,
    _resample_unit,
    evenly_spaced,
    fit_stack,
    foreground_fraction,
)
from cae_lessons.data.read import _read_source
from cae_lessons.data.split import SliceInfo, SliceTable
from cae_lessons.validate import check_fraction, is_int


def load_mri_data(
    source=None,
    *,
    plane: str = "all",
    size: tuple[int, int] | None = DEFAULT_SIZE,
    fit: str = "resize",
    voxel_size: float | tuple[float, float, float] | None = None,
    volume: int | None = None,
    normalize: str | None = "minmax",
    min_foreground: float = 0.05,
    max_slices: int | None = None,
    return_info: bool = False,
):
    """Load real MRI slices as ``(N, H, W, 1) float32`` in [0, 1].

    The default call gives slices of the bundled 1 mm MNI152 T1 template in all three planes,
    empty slices dropped, resized to 128 x 128: the shape the book's examples assume. Used by
    ch. 2 "The data", ch. 6 "MRI of varying resolutions" and all training chapters.

    Parameters
    ----------
    source : str, path or list of paths, optional
        A bundled source from ``SOURCES`` (default ``'mni152'``), or files and folders: NIfTI,
        MGH, MINC, Analyze, DICOM files or a DICOM folder (ordered by ImagePositionPatient, then
        InstanceNumber), ``.npy``/``.npz`` (3-D arrays are read as ``(X, Y, Z)`` in RAS order),
        PNG or TIFF. A ``pathlib.Path`` is always a path, even if named like a source.
    plane : {'all', 'axial', 'coronal', 'sagittal'}
        Which planes to slice volumes along. 2-D files are single slices of plane ``'image'``.
    size : (H, W) or None
        Output size; ``None`` keeps each slice's native size and returns a list.
    fit : {'resize', 'pad', 'crop', 'none'}
        How slices reach ``size`` (see :func:`fit_stack`); ``'none'`` returns native sizes.
    voxel_size : float or (float, float, float), optional
        Resample volumes to this many mm per voxel before slicing (anti-aliased linear).
    volume : int, optional
        Which volume of a 4-D file; ``None`` takes all of them.
    normalize : {'minmax', 'percentile', None}
        Map each volume's (or 2-D image's) minimum and maximum, or its 0.5th and 99.5th
        percentiles, to 0 and 1; ``None`` keeps raw intensities.
    min_foreground : float
        Drop slices in which fewer than this fraction of pixels lie above
        ``FOREGROUND_LEVEL`` of the volume's intensity range (0 keeps every slice).
    max_slices : int, optional
        Keep this many evenly spaced slices (deterministic).
    return_info : bool
        Also return a :class:`SliceTable` with one row per slice.

    Returns
    -------
    x : (N, H, W, 1) float32 ndarray, or list of (H, W, 1) float32 ndarrays
        A list when ``size`` is None or ``fit='none'``.
    info : SliceTable
        Only with ``return_info=True``.

    Raises
    ------
    FileNotFoundError
        A path does not exist, a folder is empty, or a bundled file is not installed.
    ValueError
        An unreadable, truncated, constant or non-finite file (when it is the only one), a bad
        option, or no slice left after ``min_foreground``.
    TypeError
        ``size`` is not two integers or ``source`` is not a name, path or list of paths.

    Warns
    -----
    DataWarning
        For each bad file among several: it is skipped and the others load.

    Examples
    --------
    >>> x = load_mri_data()
    >>> x.shape, x.dtype, float(x.min()), float(x.max()) <= 1.0
    ((444, 128, 128, 1), dtype('float32'), 0.0, True)
    >>> [s.shape for s in load_mri_data("epi", plane="axial", size=None, max_slices=2)]
    [(96, 128, 1), (96, 128, 1)]
    """
    _check_choice("plane", plane, ("all", *PLANES))
    _check_choice("fit", fit, FITS)
    _check_choice("normalize", normalize, NORMALIZATIONS)
    size = _check_size(size)
    voxel_size = _check_voxel_size(voxel_size)
    min_foreground = check_fraction(min_foreground, "min_foreground", inclusive=True)
    if max_slices is not None and (not is_int(max_slices) or max_slices < 1):
        raise ValueError(f"max_slices must be a positive int or None, got {max_slices!r}.")

    groups = []  # (stack, kept indices, info rows)
    for unit in _read_source(source, volume):
        if voxel_size is not None:
            unit = _resample_unit(unit, voxel_size)
        low, high = _intensity_range(unit, normalize)
        threshold = low + FOREGROUND_LEVEL * (high - low)
        for name, stack, mm in _plane_stacks(unit, plane):
            keep = np.flatnonzero(foreground_fraction(stack, threshold) >= min_foreground)
            rows = [
                SliceInfo(unit.name, name, int(i), len(stack), stack.shape[1:], mm, unit.volume)
                for i in keep
            ]
            groups.append((stack, keep, rows, (low, high) if normalize else None))
    total = sum(len(keep) for _, keep, _, _ in groups)
    if total == 0:
        raise ValueError(
            f"No slice has at least min_foreground={min_foreground} of its pixels above "
            f"{FOREGROUND_LEVEL} of the intensity range; lower min_foreground (0 keeps all)."
        )
    chosen = set(evenly_spaced(total, max_slices).tolist())
    arrays, infos, offset = [], [], 0
    for stack, keep, rows, scale in groups:
        picked = [j for j in range(len(keep)) if offset + j in chosen]
        offset += len(keep)
        if not picked:
            continue
        part = stack[keep[picked]]
        part = _normalize(part, *scale) if scale else part.astype(np.float32)
        if size is not None and fit != "none":
            part = fit_stack(part, size, fit)
        arrays.append(part)
        infos += [rows[j] for j in picked]
    table = SliceTable(tuple(infos))
    if size is None or fit == "none":
        x = [np.array(s[..., None], dtype=np.float32) for part in arrays for s in part]
    else:
        x = np.concatenate(arrays)[..., None].astype(np.float32, copy=False)
    return (x, table) if return_info else x


def load_mri_volumes(
    source=None,
    *,
    voxel_size: float | tuple[float, float, float] | None = None,
    volume: int | None = None,
    normalize: str | None = "minmax",
):
    """Load whole MRI volumes as ``(N, X, Y, Z, 1) float32`` in [0, 1], for 3-D models.

    The default call gives the bundled 1 mm MNI152 T1 template at its native 197 x 233 x 189
    voxels, in RAS+ order (x: left → right, y: posterior → anterior, z: inferior → superior).
    Used by ch. 6's section "A 3-D U-Net meets the whole volume".

    Parameters
    ----------
    source : str, path or list of paths, optional
        As for :func:`load_mri_data`, but every file must hold a volume (NIfTI, MGH, MINC,
        Analyze, a DICOM series or a 3-D ``.npy``), not 2-D images.
    voxel_size : float or (float, float, float), optional
        Resample to this many mm per voxel (anti-aliased linear); ``None`` keeps the native grid.
    volume : int, optional
        Which volume of a 4-D file; ``None`` takes all of them.
    normalize : {'minmax', 'percentile', None}
        As for :func:`load_mri_data`, per volume.

    Returns
    -------
    (N, X, Y, Z, 1) float32 ndarray, or list of (X, Y, Z, 1) float32 ndarrays
        A list when the volumes differ in shape.

    Raises
    ------
    ValueError
        A source holds 2-D images, or any error :func:`load_mri_data` raises for the file.

    Examples
    --------
    >>> x = load_mri_volumes()
    >>> x.shape, x.dtype, float(x.min()), float(x.max())
    ((1, 197, 233, 189, 1), dtype('float32'), 0.0, 1.0)
    >>> load_mri_volumes(voxel_size=2).shape
    (1, 98, 116, 94, 1)
    """
    _check_choice("normalize", normalize, NORMALIZATIONS)
    voxel_size = _check_voxel_size(voxel_size)
    volumes = []
    for unit in _read_source(source, volume):
        if unit.plane is not None:
            raise ValueError(
                f"{unit.name} holds 2-D images of shape {unit.data.shape[1:]}, "
                "not a volume; load it with load_mri_data, or pass a 3-D file "
                "(NIfTI, DICOM series, 3-D .npy)."
            )
        if voxel_size is not None:
            unit = _resample_unit(unit, voxel_size)
        data = _normalize(unit.data, *_intensity_range(unit, normalize)) if normalize else unit.data
        volumes.append(np.asarray(data, dtype=np.float32)[..., None])
    if len({v.shape for v in volumes}) > 1:
        return volumes
    return np.stack(volumes)
