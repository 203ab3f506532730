"""Readers: the bundled MRI sources and the user's files (NIfTI and what nibabel reads, DICOM
slices and series, NumPy arrays, PNG/TIFF), each read into RAS+ volumes with voxel sizes.

Each reader returns a list of ``_Unit`` (one volume or 2-D image) and raises ValueError or
OSError for a bad file; among several files a bad one becomes a :class:`DataWarning`.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SOURCES = ("mni152", "epi", "dicom", "dipy_t1", "dipy_b0", "dipy_aniso")


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


class DataWarning(UserWarning):
    """One input file was skipped (unreadable, empty, constant, ...) while the others loaded."""


@dataclass(frozen=True)
class _Unit:
    """One volume (``(X, Y, Z)`` in RAS+) or a stack of 2-D images (``(N, H, W)``) as read."""

    name: str
    data: np.ndarray
    voxel_size: tuple[float, ...] | None
    plane: str | None = None  # None: a volume; else the plane label of a 2-D stack
    volume: int | None = None


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
