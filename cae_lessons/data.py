"""Real MRI as ``(N, H, W, 1) float32`` arrays in [0, 1]: loaders, a phantom, splits, tf.data.

Every source is real data that ships inside an installed package (nothing is downloaded), or the
user's own files, or a synthetic phantom:

``'mni152'`` (default)
    The 1 mm T1-weighted ICBM 2009a *symmetric* MNI152 template bundled with nilearn,
    197 x 233 x 189 voxels.
``'epi'``
    nibabel's test EPI ``example4d.nii.gz``: 128 x 96 x 24 voxels of 2 x 2 x 2.2 mm, 2 volumes.
``'dicom'``
    pydicom's test slice ``MR_small.dcm``: one 64 x 64 axial slice of 0.3125 mm pixels.
``'dipy_t1'``, ``'dipy_b0'``, ``'dipy_aniso'``
    dipy's ``t1_coronal_slice.npy`` (256 x 256), ``S0_10slices.nii.gz`` (128 x 128 x 10) and
    ``aniso_vox.nii.gz`` (58 x 58 x 24 voxels of 4 x 4 x 5 mm).

Orientation. Volumes are reoriented to RAS+ (nibabel's closest canonical orientation) and every
slice is shown the radiological way up with neurological left-right: axial slices have anterior
at the top and the patient's right on the image's right; coronal and sagittal slices have superior
at the top (sagittal: anterior on the right). 2-D images (PNG, TIFF, 2-D arrays) are taken as they
are, with plane ``'image'``.

Intensities are normalised per volume (per image for 2-D files), so a dark slice at the edge of the
brain stays dark. The user's files are only ever read.

Used by ch. 2 "The data", ch. 6 "MRI of varying resolutions" and all training chapters. Imports
only :mod:`cae_lessons.config`'s layer (nothing above it); TensorFlow is imported by
:func:`as_dataset` alone.
"""

from __future__ import annotations

import functools
import html
import importlib.util
import os
import warnings
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cae_lessons.config import split_seed

SOURCES = ("mni152", "epi", "dicom", "dipy_t1", "dipy_b0", "dipy_aniso")
PLANES = ("axial", "coronal", "sagittal")
FITS = ("resize", "pad", "crop", "none")
NORMALIZATIONS = ("minmax", "percentile", None)
DEFAULT_SIZE = (128, 128)
#: A pixel is foreground when it is above this fraction of its volume's intensity range.
FOREGROUND_LEVEL = 0.1
#: Percentiles that ``normalize='percentile'`` maps to 0 and 1.
PERCENTILES = (0.5, 99.5)
#: Diameters in pixels of the bright dots that :func:`phantom` draws (its fine structures).
PHANTOM_DOT_DIAMETERS = (1, 2, 3, 4)

NIBABEL_SUFFIXES = (".nii", ".nii.gz", ".mgz", ".mgh", ".mnc", ".hdr", ".img")
ARRAY_SUFFIXES = (".npy", ".npz")
IMAGE_SUFFIXES = (".png", ".tif", ".tiff")
DICOM_SUFFIXES = (".dcm", ".dicom", ".ima")
SUPPORTED = NIBABEL_SUFFIXES + ARRAY_SUFFIXES + IMAGE_SUFFIXES + DICOM_SUFFIXES

# Package, path inside it, plane of a 2-D file.
_BUNDLED = {
    "mni152": ("nilearn", "datasets/data/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz", None),
    "epi": ("nibabel", "tests/data/example4d.nii.gz", None),
    "dicom": ("pydicom", "data/test_files/MR_small.dcm", None),
    "dipy_t1": ("dipy", "data/files/t1_coronal_slice.npy", "coronal"),
    "dipy_b0": ("dipy", "data/files/S0_10slices.nii.gz", None),
    "dipy_aniso": ("dipy", "data/files/aniso_vox.nii.gz", None),
}
_PLANE_AXIS = {"sagittal": 0, "coronal": 1, "axial": 2}


class DataWarning(UserWarning):
    """One input file was skipped (unreadable, empty, constant, ...) while the others loaded."""


@dataclass(frozen=True)
class SliceInfo:
    """Where one slice came from.

    Attributes
    ----------
    source : str
        Bundled source name or the file (folder for a DICOM series) it was read from.
    plane : str
        ``'axial'``, ``'coronal'``, ``'sagittal'`` or ``'image'`` for 2-D files.
    index : int
        Slice index along the plane's axis (after any ``voxel_size`` resampling).
    depth : int
        Number of slices along that axis, so ``depth - 1 - index`` is the mirror slice.
    native_size : tuple of int
        ``(H, W)`` of the slice before ``fit``.
    voxel_size : tuple of float or None
        In-plane pixel spacing ``(row, column)`` in mm, ``None`` when the file has none.
    volume : int or None
        Index into a 4-D file's volumes.
    """

    source: str
    plane: str
    index: int
    depth: int
    native_size: tuple[int, int]
    voxel_size: tuple[float, float] | None
    volume: int | None = None

    @property
    def group(self) -> tuple[str, int | None, str]:
        """``(source, volume, plane)``: slices that share it are neighbours in one volume."""
        return (self.source, self.volume, self.plane)


@dataclass(frozen=True)
class SliceTable:
    """Per-slice :class:`SliceInfo` of a :func:`load_mri_data` result, row ``i`` for ``x[i]``.

    Examples
    --------
    >>> x, info = load_mri_data(plane="axial", max_slices=4, return_info=True)
    >>> info
    SliceTable(4 slices: mni152 axial 4 x (233, 197) at 1 x 1 mm)
    >>> info[0].index
    12
    """

    rows: tuple[SliceInfo, ...]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[SliceInfo]:
        return iter(self.rows)

    def __getitem__(self, i: int) -> SliceInfo:
        return self.rows[i]

    def take(self, indices: Sequence[int] | np.ndarray) -> SliceTable:
        """Return the rows at ``indices`` as a new table."""
        return SliceTable(tuple(self.rows[int(i)] for i in indices))

    def summary(self) -> list[tuple[str, str, int, str, str]]:
        """Group rows by source, volume, plane and native size: ``(source, plane, n, size, mm)``."""
        groups: dict[tuple, int] = {}
        for row in self.rows:
            key = (row.source, row.volume, row.plane, row.native_size, row.voxel_size)
            groups[key] = groups.get(key, 0) + 1
        return [
            (
                source if volume is None else f"{source}[{volume}]",
                plane,
                n,
                str(size),
                "unknown" if mm is None else f"{mm[0]:.4g} x {mm[1]:.4g} mm",
            )
            for (source, volume, plane, size, mm), n in groups.items()
        ]

    def __repr__(self) -> str:
        parts = [f"{s} {p} {n} x {size} at {mm}" for s, p, n, size, mm in self.summary()]
        return f"SliceTable({len(self)} slices: {'; '.join(parts)})"

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{h}</th>" for h in ("source", "plane", "slices", "size", "pixel"))
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
            for row in self.summary()
        )
        return f"<table><tr>{head}</tr>{body}</table>"


@dataclass(frozen=True)
class Split:
    """Train / validation / test arrays and their :class:`SliceTable` rows."""

    x_train: np.ndarray | list[np.ndarray]
    x_val: np.ndarray | list[np.ndarray]
    x_test: np.ndarray | list[np.ndarray]
    info_train: SliceTable
    info_val: SliceTable
    info_test: SliceTable

    def __repr__(self) -> str:
        return (
            f"Split(train={len(self.info_train)}, val={len(self.info_val)}, "
            f"test={len(self.info_test)} slices)"
        )


@dataclass(frozen=True)
class _Unit:
    """One volume (``(X, Y, Z)`` in RAS+) or a stack of 2-D images (``(N, H, W)``) as read."""

    name: str
    data: np.ndarray
    voxel_size: tuple[float, ...] | None
    plane: str | None = None  # None: a volume; else the plane label of a 2-D stack
    volume: int | None = None


# --------------------------------------------------------------------------------------------
# Validation of arguments


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
    is_int = (
        [isinstance(v, int | np.integer) and not isinstance(v, bool) for v in size]
        if (isinstance(size, Sequence) and not isinstance(size, str))
        else []
    )
    if len(is_int) != 2 or not all(is_int):
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


def _check_fraction(name: str, value) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}.")
    return float(value)


# --------------------------------------------------------------------------------------------
# Readers: each returns a list of _Unit and raises ValueError/OSError for a bad file


def _bundled_path(name: str) -> Path:
    package, relative, _ = _BUNDLED[name]
    spec = importlib.util.find_spec(package)
    path = Path(spec.submodule_search_locations[0], relative) if spec else None
    if path is None or not path.is_file():
        raise FileNotFoundError(
            f"Source {name!r} needs {relative} from the {package!r} package, which is not on disk "
            f"here. Install the pinned {package} (`pip install -e .`) or choose another source "
            f"from {SOURCES}."
        )
    return path


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".nii.gz" if name.endswith(".nii.gz") else path.suffix.lower()


def _finite(name: str, data: np.ndarray) -> np.ndarray:
    bad = int(np.count_nonzero(~np.isfinite(data)))
    if bad:
        raise ValueError(
            f"{name} has {bad} NaN or infinite voxels out of {data.size}; replace them "
            "(e.g. np.nan_to_num) or re-export the file."
        )
    return data


def _voxel_sizes(affine: np.ndarray) -> np.ndarray:
    return np.sqrt((np.asarray(affine, dtype=float)[:3, :3] ** 2).sum(axis=0))


def _canonical(name: str, data: np.ndarray, affine: np.ndarray, volume: int | None) -> _Unit:
    """Reorient a 3-D array with its voxel-to-world affine to RAS+ (no resampling)."""
    import nibabel.orientations as nio

    ornt = nio.io_orientation(affine)
    zooms = _voxel_sizes(affine)[ornt[:, 0].argsort()]
    data = nio.apply_orientation(data, ornt)
    return _Unit(name, data, tuple(round(float(z), 6) for z in zooms), volume=volume)


def _volumes(
    name: str, data: np.ndarray, volume: int | None
) -> list[tuple[np.ndarray, int | None]]:
    """Split a 2-, 3- or 4-D array into 3-D volumes with their 4-D index."""
    if data.ndim == 2:
        data = data[:, :, None]
    if data.ndim == 3:
        return [(data, None)]
    if data.ndim != 4:
        raise ValueError(
            f"{name} has shape {data.shape}; expected a 2-D image, a 3-D volume or a 4-D series."
        )
    if volume is None:
        return [(data[..., v], v) for v in range(data.shape[3])]
    if not -data.shape[3] <= volume < data.shape[3]:
        raise ValueError(
            f"volume={volume} is out of range for {name}, which has {data.shape[3]} volumes; "
            f"pass volume=0..{data.shape[3] - 1} or volume=None for all."
        )
    return [(data[..., volume], volume % data.shape[3])]


def _read_nibabel(path: Path, volume: int | None) -> list[_Unit]:
    import nibabel as nib

    image = nib.load(path)
    raw = np.asarray(image.dataobj)
    if np.iscomplexobj(raw) or raw.dtype.names:
        raise ValueError(f"{path} holds {raw.dtype} data; expected real-valued intensities.")
    data = _finite(str(path), raw.astype(np.float32))
    return [_canonical(str(path), d, image.affine, v) for d, v in _volumes(str(path), data, volume)]


def _read_numpy(path: Path, volume: int | None) -> list[_Unit]:
    loaded = np.load(path, allow_pickle=False)
    if isinstance(loaded, np.ndarray):
        arrays = {path.name: loaded}
    else:
        with loaded:
            arrays = dict(loaded.items())
    units = []
    for key, array in arrays.items():
        name = str(path) if key == path.name else f"{path}[{key}]"
        if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
            raise ValueError(f"{name} holds {array.dtype} data; expected real-valued intensities.")
        data = _finite(name, array.astype(np.float32))
        if data.ndim == 2:
            units.append(_Unit(name, data[None], None, plane="image"))
        else:
            units += [_Unit(name, d, None, volume=v) for d, v in _volumes(name, data, volume)]
    return units


def _read_picture(path: Path, _volume: int | None) -> list[_Unit]:
    if _suffix(path) == ".png":
        import imageio.v3 as iio

        data = np.asarray(iio.imread(path, plugin="pillow"))
    else:
        import tifffile

        data = np.asarray(tifffile.imread(path))
    if data.ndim == 3 and data.shape[-1] in (3, 4):  # colour: drop alpha, average channels
        data = data[..., :3].mean(axis=-1)
    if data.ndim == 2:
        data = data[None]
    if data.ndim != 3:
        raise ValueError(f"{path} has shape {data.shape}; expected a grey or RGB image.")
    return [_Unit(str(path), _finite(str(path), data.astype(np.float32)), None, plane="image")]


def _is_dicom(path: Path) -> bool:
    if _suffix(path) in DICOM_SUFFIXES:
        return True
    with open(path, "rb") as handle:
        return handle.read(132)[128:] == b"DICM"


def _read_dicom_slice(path: Path):
    """Return ``(dataset, pixels, path)`` of one DICOM slice, pixels rescaled to real values."""
    import pydicom

    dataset = pydicom.dcmread(path)
    if "PixelData" not in dataset:
        raise ValueError(
            f"{path} is a DICOM file without pixel data (a report or structured set?); "
            "remove it or point to the image series."
        )
    pixels = dataset.pixel_array.astype(np.float32)
    if pixels.ndim != 2:
        raise ValueError(
            f"{path} holds pixel data of shape {pixels.shape}; expected one grey 2-D slice."
        )
    slope = float(dataset.get("RescaleSlope", 1) or 1)
    intercept = float(dataset.get("RescaleIntercept", 0) or 0)
    return dataset, _finite(str(path), pixels * slope + intercept), path


def _dicom_affine(dataset, step: np.ndarray | None) -> np.ndarray:
    """Voxel (row, column, slice) to RAS+ world affine of a DICOM slice (LPS flipped to RAS)."""
    cosines = np.asarray(dataset.get("ImageOrientationPatient", [1, 0, 0, 0, 1, 0]), float)
    row_spacing, column_spacing = (float(v) for v in dataset.get("PixelSpacing", [1, 1]))
    along_row, along_column = cosines[:3], cosines[3:]
    normal = np.cross(along_row, along_column)
    if step is None:
        step = normal * float(dataset.get("SliceThickness", 1) or 1)
    affine = np.eye(4)
    affine[:3, 0] = along_column * row_spacing
    affine[:3, 1] = along_row * column_spacing
    affine[:3, 2] = step
    affine[:3, 3] = np.asarray(dataset.get("ImagePositionPatient", [0, 0, 0]), float)
    return np.diag([-1.0, -1.0, 1.0, 1.0]) @ affine


def _slice_position(dataset) -> tuple[float, float]:
    """Sort key of a DICOM slice: position along the slice normal, then InstanceNumber."""
    cosines = np.asarray(dataset.get("ImageOrientationPatient", [1, 0, 0, 0, 1, 0]), float)
    position = dataset.get("ImagePositionPatient")
    along = float(np.dot(np.cross(cosines[:3], cosines[3:]), position)) if position else 0.0
    return (along, float(dataset.get("InstanceNumber", 0) or 0))


def _dicom_volume(slices: list) -> _Unit:
    """Stack ``(dataset, pixels, path)`` of one series into a volume ordered along its normal.

    The volume is named after its folder, or after the file when it has one slice.
    """
    name = str(slices[0][2]) if len(slices) == 1 else str(slices[0][2].parent)
    shapes = sorted({pixels.shape for _, pixels, _ in slices})
    if len(shapes) > 1:
        raise ValueError(
            f"Cannot stack the DICOM slices in {name} into one volume: they have sizes "
            f"{shapes}, so they are not one volume. Put each series in its own folder, or give "
            "the series different SeriesInstanceUIDs."
        )
    slices = sorted(slices, key=lambda item: _slice_position(item[0]))
    first, last = slices[0][0], slices[-1][0]
    step = None
    if len(slices) > 1 and "ImagePositionPatient" in first:
        span = np.subtract(last.ImagePositionPatient, first.ImagePositionPatient, dtype=float)
        step = span / (len(slices) - 1) if np.linalg.norm(span) > 0 else None
    data = np.stack([pixels for _, pixels, _ in slices], axis=-1)
    return _canonical(name, data, _dicom_affine(first, step), None)


def _reader(path: Path):
    suffix = _suffix(path)
    for suffixes, reader in (
        (NIBABEL_SUFFIXES, _read_nibabel),
        (ARRAY_SUFFIXES, _read_numpy),
        (IMAGE_SUFFIXES, _read_picture),
    ):
        if suffix in suffixes:
            return reader
    if _is_dicom(path):
        return _read_dicom_slice
    raise ValueError(
        f"{path} has an unsupported type {suffix or '(no suffix)'!r}; expected one of "
        f"{SUPPORTED} or a DICOM file."
    )


def _read_errors() -> tuple[type[BaseException], ...]:
    from nibabel.filebasedimages import ImageFileError
    from pydicom.errors import InvalidDicomError

    return (OSError, ValueError, EOFError, zlib.error, ImageFileError, InvalidDicomError)


def _explain(name: str, error: BaseException) -> BaseException:
    """Return ``error`` if it already names the file, else a ValueError that does."""
    if isinstance(error, ValueError) and name in str(error):
        return error
    return ValueError(
        f"Could not read {name} ({type(error).__name__}: {error}); it may be truncated, corrupt "
        "or not the format its name says. Re-copy or re-export it, or remove it from the input."
    )


def _report(failures: list[tuple[str, BaseException]], loaded: int) -> None:
    """Warn about each file that failed while others loaded; raise if none loaded."""
    if loaded == 0:
        if len(failures) == 1:
            raise _explain(*failures[0]) from failures[0][1]
        listing = " | ".join(str(_explain(name, error)) for name, error in failures)
        raise ValueError(f"None of the {len(failures)} files could be read: {listing}")
    for name, error in failures:
        warnings.warn(
            DataWarning(
                f"Skipped {_explain(name, error)} The other files were loaded; fix or remove "
                "this one to silence this warning."
            ),
            stacklevel=5,
        )


def _folder_files(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise FileNotFoundError(
            f"Folder {folder} has no files; expected MRI files ending in {SUPPORTED} or DICOM "
            "files. Point to the folder that holds them."
        )
    return files


def _read_paths(paths: list[Path], volume: int | None) -> list[_Unit]:
    """Read files and folders; a bad file among several becomes a :class:`DataWarning`.

    DICOM files are grouped into volumes by folder and SeriesInstanceUID.
    """
    errors = _read_errors()
    units: list[_Unit] = []
    failures: list[tuple[str, BaseException]] = []
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(
                f"{path} does not exist. Pass an existing file or folder, or one of the bundled "
                f"sources {SOURCES}."
            )
    dicom_series: dict[tuple[Path, str], list] = {}
    for file in (f for p in paths for f in (_folder_files(p) if p.is_dir() else [p])):
        try:
            reader = _reader(file)
            if reader is _read_dicom_slice:
                item = _read_dicom_slice(file)
                key = (file.parent, str(item[0].get("SeriesInstanceUID", "")))
                dicom_series.setdefault(key, []).append(item)
            else:
                units += reader(file, volume)
        except errors as error:
            failures.append((str(file), error))
    for slices in dicom_series.values():
        try:
            units.append(_dicom_volume(slices))
        except ValueError as error:
            failures.append((str(slices[0][2].parent), error))
    _report(failures, len(units))
    return units


@functools.lru_cache(maxsize=len(SOURCES))
def _read_bundled(name: str) -> tuple[_Unit, ...]:
    """Read a bundled source once; cached arrays are read-only so callers cannot corrupt them."""
    units = [
        _Unit(name, u.data, u.voxel_size, _BUNDLED[name][2] or u.plane, u.volume)
        for u in _read_paths([_bundled_path(name)], None)
    ]
    for unit in units:
        unit.data.flags.writeable = False
    return tuple(units)


def _read_source(source, volume: int | None) -> list[_Unit]:
    if source is None or (isinstance(source, str) and source in SOURCES):
        units = _read_bundled(source or "mni152")
        if volume is None:
            return list(units)
        matching = [u for u in units if u.volume == volume]
        if not matching:
            raise ValueError(
                f"volume={volume} does not exist in source {source!r}, which has volumes "
                f"{[u.volume for u in units]}; pass one of them or volume=None."
            )
        return matching
    items = [source] if isinstance(source, str | os.PathLike) else source
    if not isinstance(items, Sequence) or not all(isinstance(i, str | os.PathLike) for i in items):
        raise TypeError(
            f"source must be None, a bundled source name {SOURCES}, a path or a list of paths; "
            f"got {type(source).__name__}."
        )
    if not items:
        raise ValueError("source is an empty list; pass at least one file or folder.")
    return _read_paths([Path(i) for i in items], volume)


# --------------------------------------------------------------------------------------------
# Pure array helpers


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
        stack = np.rot90(np.moveaxis(unit.data, axis, 0), axes=(1, 2))
        mm = None if unit.voxel_size is None else tuple(unit.voxel_size[a] for a in rest[::-1])
        stacks.append((name, stack, mm))
    if not stacks:
        raise ValueError(
            f"{unit.name} has shape {unit.data.shape}, so it has no {plane} slices wider than "
            "one pixel; pass plane='all' to take the planes it has."
        )
    return stacks


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


# --------------------------------------------------------------------------------------------
# Public loaders


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
    min_foreground = _check_fraction("min_foreground", min_foreground)
    if max_slices is not None and (not isinstance(max_slices, int) or max_slices < 1):
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


def phantom_dots(size: tuple[int, int] = DEFAULT_SIZE) -> np.ndarray:
    """Return the ``(H, W)`` bool mask of :func:`phantom`'s fine structures.

    Discs of diameters ``PHANTOM_DOT_DIAMETERS`` pixels, 3 pixels apart, centred in a row at
    70 % of the height, each exactly that many pixels wide along row ``round(0.7 * H)``.
    Used by ch. 6 to measure which details a CAE keeps.

    Examples
    --------
    >>> phantom_dots((32, 32))[22].astype(int)
    array([0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0,
           1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    """
    h, w = size
    rows, cols = np.ogrid[:h, :w]
    mask = np.zeros((h, w), dtype=bool)
    gap = 3
    left = w // 2 - (sum(PHANTOM_DOT_DIAMETERS) + gap * (len(PHANTOM_DOT_DIAMETERS) - 1)) // 2
    for diameter in PHANTOM_DOT_DIAMETERS:
        centre_r = round(0.7 * h) - 0.5 * (1 - diameter % 2)  # even: centre on a pixel corner
        centre_c = left + (diameter - 1) / 2
        mask |= (rows - centre_r) ** 2 + (cols - centre_c) ** 2 <= (diameter / 2) ** 2
        left += diameter + gap
    return mask


def phantom(n: int = 8, size: tuple[int, int] = DEFAULT_SIZE, seed: int = 0) -> np.ndarray:
    """Return ``n`` synthetic brain-like T1 slices as ``(n, H, W, 1) float32`` in [0, 1].

    Scalp, skull, grey and white matter and ventricles as ellipses with T1-like contrast, whose
    extent follows a head from bottom to top slice; a row of bright dots of diameters
    ``PHANTOM_DOT_DIAMETERS`` pixels in the white matter (fine structures of known size); a smooth
    multiplicative bias field and Rician noise. Deterministic for a seed, any resolution from
    32 x 32 up. Used by ch. 6 "MRI of varying resolutions" and as a fast stand-in in tests.

    Examples
    --------
    >>> x = phantom(4, (48, 64), seed=1)
    >>> x.shape, x.dtype, float(x.min()) >= 0, float(x.max())
    ((4, 48, 64, 1), dtype('float32'), True, 1.0)
    >>> bool((phantom(2, seed=3) == phantom(2, seed=3)).all())
    True
    """
    size = _check_size(size)
    if not isinstance(n, int) or n < 1 or min(size) < 32:
        raise ValueError(f"phantom needs n >= 1 and size >= (32, 32), got n={n!r}, size={size}.")
    rng = np.random.default_rng(seed)
    h, w = size
    y = ((np.arange(h) + 0.5) / h * 2 - 1)[:, None]
    x = ((np.arange(w) + 0.5) / w * 2 - 1)[None, :]
    out = np.empty((n, h, w), dtype=np.float32)
    for i in range(n):
        extent = 0.6 + 0.35 * np.sin(np.pi * (i + 0.5) / n) + rng.uniform(-0.03, 0.03)
        cy, cx = rng.uniform(-0.03, 0.03, size=2)

        def ellipse(a, b, dy=0.0, dx=0.0, cy=cy, cx=cx, extent=extent):
            return ((y - cy - dy) / (a * extent)) ** 2 + ((x - cx - dx) / (b * extent)) ** 2 <= 1

        image = np.zeros((h, w))
        for mask, value in (
            (ellipse(0.95, 0.8), 0.9),  # scalp fat
            (ellipse(0.88, 0.73), 0.1),  # skull
            (ellipse(0.84, 0.69), 0.25),  # CSF
            (ellipse(0.8, 0.65), 0.55),  # grey matter
            (ellipse(0.62, 0.48), 0.8),  # white matter
            (ellipse(0.18, 0.06, 0.0, -0.1), 0.15),  # ventricles
            (ellipse(0.18, 0.06, 0.0, 0.1), 0.15),
        ):
            image[mask] = value
        image[phantom_dots(size)] = 1.0
        a, b, c = rng.uniform(-0.12, 0.12, size=3)
        bias = 1 + a * y + b * x + c * (x**2 + y**2)
        noise = 0.02 * rng.standard_normal((2, h, w))
        image = np.hypot(image * bias + noise[0], noise[1])
        out[i] = image / image.max()
    return out[..., None]


# --------------------------------------------------------------------------------------------
# Splits and the input pipeline


def _slab_position(row: SliceInfo) -> int:
    """Sagittal slices k and depth-1-k share a position, so mirror pairs are never split."""
    if row.plane == "sagittal":
        return min(row.index, row.depth - 1 - row.index)
    return row.index


def split_by_slab(
    x,
    info: SliceTable,
    fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
    seed: int | None = None,
    gap: int = 4,
) -> Split:
    """Split slices into train / val / test by contiguous slabs of each volume and plane.

    Within each ``(source, volume, plane)`` group the slice positions are cut into three
    contiguous slabs in proportion to ``fractions``, in an order drawn from ``seed``, and ``gap``
    positions at every border are dropped, so no held-out slice has a 1 mm neighbour in training.
    Sagittal positions are folded about the midline: the bundled MNI152 is *symmetric*, its
    sagittal slice k equals slice 196 - k pixel for pixel, and a split that put one in training
    and its mirror in test would leak. Groups of one slice go whole to a split drawn with
    probabilities ``fractions``. Used by all training chapters.

    Parameters
    ----------
    x : (N, H, W, 1) float32 ndarray or list of arrays
    info : SliceTable
        From ``load_mri_data(..., return_info=True)``.
    fractions : (float, float, float)
        Shares of train, validation and test; must sum to 1.
    seed : int, optional
        Chooses which slab of each group goes to which split. Default:
        ``$CAE_LESSONS_SPLIT_SEED``, or 0 when it is unset (``config.split_seed``; the book is
        re-executed with another split to show that its claims do not hang on one).
    gap : int
        Slice positions dropped at each border between slabs.

    Returns
    -------
    Split

    Examples
    --------
    >>> x, info = load_mri_data(plane="axial", return_info=True)
    >>> split_by_slab(x, info)
    Split(train=87, val=17, test=17 slices)
    """
    fractions_array = np.asarray(fractions, dtype=float)
    if (
        fractions_array.shape != (3,)
        or (fractions_array < 0).any()
        or not np.isclose(fractions_array.sum(), 1)
    ):
        raise ValueError(
            f"fractions must be three non-negative shares summing to 1, got {fractions}."
        )
    if len(x) != len(info):
        raise ValueError(
            f"x has {len(x)} slices but info has {len(info)} rows; pass both from one call."
        )
    rng = np.random.default_rng(split_seed() if seed is None else seed)
    parts: list[list[int]] = [[], [], []]
    groups: dict[tuple, list[int]] = {}
    for i, row in enumerate(info):
        groups.setdefault(row.group, []).append(i)
    for members in groups.values():
        positions = [_slab_position(info[i]) for i in members]
        unique, rank = np.unique(positions, return_inverse=True)
        if len(unique) == 1:
            parts[rng.choice(3, p=fractions_array)] += members
            continue
        order = rng.permutation(3)
        stops = np.round(np.cumsum(fractions_array[order]) * len(unique)).astype(int)
        for split, start, stop in zip(order, [0, *stops[:-1]], stops, strict=True):
            lo = start + gap if start > 0 else 0
            hi = stop - gap if stop < len(unique) else stop
            parts[split] += [i for i, r in zip(members, rank, strict=True) if lo <= r < hi]

    def take(indices: list[int]):
        indices = sorted(indices)
        chosen = [x[i] for i in indices]
        if isinstance(x, np.ndarray):
            chosen = x[indices] if indices else x[:0]
        return chosen, info.take(indices)

    (x_train, i_train), (x_val, i_val), (x_test, i_test) = (take(p) for p in parts)
    return Split(x_train, x_val, x_test, i_train, i_val, i_test)


def as_dataset(
    x: np.ndarray,
    batch_size: int = 32,
    augment: bool = False,
    shuffle: bool = True,
    seed: int = 0,
):
    """Return a ``tf.data.Dataset`` of ``(x, x)`` batches for training an autoencoder.

    Shuffles (reshuffled every epoch), optionally augments with left-right flips and integer
    shifts of up to ``max(1, W // 32)`` pixels (zero fill), batches and prefetches, so the CPU
    prepares the next batch while the device trains on this one. The same seed gives the same
    batches and augmentations. Used by all training chapters.

    Parameters
    ----------
    x : (N, H, W, C) float32 ndarray
    batch_size : int
    augment, shuffle : bool
    seed : int

    Returns
    -------
    tf.data.Dataset
        Elements ``(batch, batch)`` of shape ``(B, H, W, C)`` float32.

    Examples
    --------
    >>> ds = as_dataset(phantom(5, (32, 32)), batch_size=2, augment=True)
    >>> [tuple(a.shape) for a, _ in ds]
    [(2, 32, 32, 1), (2, 32, 32, 1), (1, 32, 32, 1)]
    """
    if not isinstance(x, np.ndarray) or x.ndim != 4:
        got = f"a list of {len(x)} arrays" if isinstance(x, list) else getattr(x, "shape", type(x))
        raise TypeError(
            f"as_dataset needs an (N, H, W, C) array, got {got}. Load with size=(H, W) so all "
            "slices share one shape, e.g. load_mri_data(size=(128, 128))."
        )
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}.")
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices(x.astype(np.float32, copy=False))
    if shuffle:
        data = data.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    if augment:
        shift = max(1, x.shape[2] // 32)
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        data = tf.data.Dataset.zip((data, seeds)).map(
            functools.partial(_augment, shift=shift), num_parallel_calls=tf.data.AUTOTUNE
        )
    data = data.batch(batch_size).map(lambda b: (b, b))
    return data.prefetch(tf.data.AUTOTUNE)


def _augment(image, seeds, shift: int):
    """Random left-right flip and integer shift of one ``(H, W, C)`` image (stateless ops)."""
    import tensorflow as tf

    image = tf.image.stateless_random_flip_left_right(image, seed=seeds)
    padded = tf.pad(image, [[shift, shift], [shift, shift], [0, 0]])
    return tf.image.stateless_random_crop(padded, tf.shape(image), seed=seeds[::-1])


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
    if isinstance(factor, bool) or not isinstance(factor, int | np.integer):
        raise TypeError(f"factor must be an int, got {type(factor).__name__} {factor!r}.")
    n, height, width, channels = x.shape
    if factor < 1 or height % factor or width % factor:
        raise ValueError(
            f"factor must be >= 1 and divide both sides of the {height}×{width} images, got "
            f"{factor}. Crop the images to a multiple of it first (load_mri_data(size=...))."
        )
    blocks = x.reshape(n, height // factor, factor, width // factor, factor, channels)
    return blocks.mean(axis=(2, 4)).astype(np.float32, copy=False)
