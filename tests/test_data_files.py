"""cae_lessons.data on the user's own files: every format round-trips, bad input is explained."""

from __future__ import annotations

import gzip
import hashlib
import re

import imageio.v3 as iio
import nibabel as nib
import numpy as np
import pydicom
import pytest
import tifffile
from nibabel.testing import data_path
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

from cae_lessons import data

# An 8 x 6 x 4 RAS volume with a bright voxel at the anterior (y = 5), right (x = 7) end of
# axial slice z = 2; every other voxel is 1 + z, so slices are told apart by their values.
RAS = np.broadcast_to(1.0 + np.arange(4.0), (8, 6, 4)).copy()
RAS[7, 5, 2] = 10.0


def native(path, **options):
    """Load with no resizing, no normalisation and no slice dropped."""
    defaults = {"size": None, "normalize": None, "min_foreground": 0}
    return data.load_mri_data(path, **(defaults | options))


def write_dicom(path, pixels, z, instance, *, series="1.2.3", with_pixels=True):
    """Write a minimal valid axial MR DICOM slice at height ``z`` mm."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = MRImageStorage, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.SeriesInstanceUID, ds.InstanceNumber = "MR", series, instance
    ds.ImagePositionPatient = [0.0, 0.0, float(z)]
    ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.PixelSpacing, ds.SliceThickness = [0.5, 0.5], 2.0
    if with_pixels:
        ds.Rows, ds.Columns = pixels.shape
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.PixelData = pixels.astype(np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)


def dicom_series(folder, n=5):
    """Write n slices whose names run opposite to their heights; return them bottom to top."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    slices = [rng.integers(0, 1000, size=(6, 4)) for _ in range(n)]
    for k, pixels in enumerate(slices):  # file 0 holds the top slice, file n-1 the bottom one
        write_dicom(folder / f"im{n - 1 - k}.dcm", pixels, z=2.0 * k, instance=n - k)
    return slices


def fingerprint(folder):
    return {
        p.name: (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# ---------------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz", ".mgz", ".img"])
def test_nibabel_formats_round_trip(tmp_path, suffix):
    image_class = {".mgz": nib.MGHImage, ".img": nib.AnalyzeImage}.get(suffix, nib.Nifti1Image)
    path = tmp_path / f"vol{suffix}"
    nib.save(image_class(RAS.astype(np.float32), np.diag([2.0, 2.0, 3.0, 1.0])), path)
    x, info = native(path, plane="axial", return_info=True)
    assert [s.shape for s in x] == [(6, 8, 1)] * 4
    assert [s[1, 1, 0] for s in x] == [1.0, 2.0, 3.0, 4.0]
    # Anterior at the top, patient's right on the right. Analyze stores no orientation and
    # nibabel reads it as radiological (LAS), so the right-hand voxel comes back on the left.
    column = 0 if suffix == ".img" else -1
    assert x[2][0, column, 0] == 10.0
    assert info[0].voxel_size == (2.0, 2.0)


def test_left_handed_nifti_is_reoriented_to_ras(tmp_path):
    path = tmp_path / "las.nii.gz"
    nib.save(nib.Nifti1Image(RAS[::-1].astype(np.float32), np.diag([-1.0, 1, 1, 1])), path)
    x = native(path, plane="axial")
    assert x[2][0, -1, 0] == 10.0


def test_minc_shipped_with_nibabel_loads():
    path = f"{data_path}/minc1_1_scale.mnc"
    expected = nib.load(path).shape
    _, info = native(path, plane="all", return_info=True)
    assert {row.depth for row in info} <= set(expected)
    assert len(info) == sum(expected)


def test_four_d_nifti_takes_a_volume_or_all(tmp_path):
    path = tmp_path / "series.nii.gz"
    nib.save(nib.Nifti1Image(np.stack([RAS, 2 * RAS], -1).astype(np.float32), np.eye(4)), path)
    assert len(native(path, plane="axial")) == 8
    [bright] = native(path, plane="axial", volume=1, max_slices=1)
    np.testing.assert_array_equal(bright, 2 * native(path, plane="axial", volume=0)[0])


def test_dicom_folder_is_ordered_by_position_not_by_name(tmp_path):
    slices = dicom_series(tmp_path / "series")
    x, info = native(tmp_path / "series", plane="axial", return_info=True)
    assert len(x) == 5
    for k, pixels in enumerate(slices):  # neurological display mirrors DICOM's left-right
        np.testing.assert_array_equal(x[k][..., 0], np.fliplr(pixels))
    assert info[0].voxel_size == (0.5, 0.5)
    as_list = native(sorted((tmp_path / "series").iterdir(), reverse=True), plane="axial")
    np.testing.assert_array_equal(np.stack(as_list), np.stack(x))
    _, coronal = native(tmp_path / "series", plane="coronal", return_info=True)
    assert coronal[0].native_size == (5, 4)
    assert coronal[0].voxel_size == (2.0, 0.5)


def test_single_dicom_file_loads(tmp_path):
    pixels = np.arange(24).reshape(6, 4)
    write_dicom(tmp_path / "one", pixels, z=0, instance=1)  # no suffix: found by the DICM magic
    [x] = native(tmp_path / "one")
    np.testing.assert_array_equal(x[..., 0], np.fliplr(pixels))


@pytest.mark.parametrize("kind", ["npy", "npz"])
def test_numpy_arrays_round_trip(tmp_path, kind):
    path = tmp_path / f"vol.{kind}"
    if kind == "npy":
        np.save(path, RAS)
    else:
        np.savez(path, first=RAS, second=RAS[:, :, :2])
    x, info = native(path, plane="axial", return_info=True)
    assert [s[1, 1, 0] for s in x[:4]] == [1.0, 2.0, 3.0, 4.0]
    assert x[2][0, -1, 0] == 10.0
    assert len(x) == (4 if kind == "npy" else 6)
    assert info[0].voxel_size is None


def test_png_and_tiff_folder_round_trips(tmp_path):
    folder = tmp_path / "pngs"
    folder.mkdir()
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 256, size=(12, 10), dtype=np.uint8) for _ in range(3)]
    for i, image in enumerate(images):
        iio.imwrite(folder / f"s{i}.png", image)
    tifffile.imwrite(folder / "s3.tif", images[0])
    x, info = data.load_mri_data(folder, size=None, min_foreground=0, return_info=True)
    for loaded, image in zip(x, [*images, images[0]], strict=True):
        expected = (image - image.min()) / float(image.max() - image.min())
        np.testing.assert_allclose(loaded[..., 0], expected, rtol=1e-6)
    assert {row.plane for row in info} == {"image"}


def test_mixed_sizes_resize_to_one_array_or_stay_a_list(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    iio.imwrite(folder / "a.png", np.full((20, 30), 200, np.uint8) * np.eye(20, 30, dtype=np.uint8))
    iio.imwrite(folder / "b.png", np.tri(16, 16, dtype=np.uint8) * 255)
    resized = data.load_mri_data(folder, size=(32, 32), min_foreground=0)
    assert resized.shape == (2, 32, 32, 1)
    listed = data.load_mri_data(folder, fit="none", min_foreground=0)
    assert [s.shape for s in listed] == [(20, 30, 1), (16, 16, 1)]


def test_pad_and_crop_centre_the_slice(tmp_path):
    path = tmp_path / "vol.npy"
    np.save(path, RAS)
    padded = native(path, plane="axial", size=(10, 12), fit="pad")
    cropped = native(path, plane="axial", size=(4, 4), fit="crop")
    axial = native(path, plane="axial")[0]
    np.testing.assert_array_equal(padded[0, 2:8, 2:10], axial)
    np.testing.assert_array_equal(cropped[0], axial[1:5, 2:6])


def test_voxel_size_resamples_a_user_volume(tmp_path):
    path = tmp_path / "vol.nii.gz"
    nib.save(nib.Nifti1Image(RAS.astype(np.float32), np.diag([2.0, 2.0, 3.0, 1.0])), path)
    _, info = native(path, plane="axial", voxel_size=1.0, return_info=True)
    assert info[0].native_size == (12, 16)
    assert info[0].depth == 12


def test_user_files_are_only_read(tmp_path):
    dicom_series(tmp_path / "series")
    nib.save(nib.Nifti1Image(RAS.astype(np.float32), np.eye(4)), tmp_path / "v.nii.gz")
    np.save(tmp_path / "v.npy", RAS)
    iio.imwrite(tmp_path / "v.png", (RAS[..., 2] * 20).astype(np.uint8))
    before = fingerprint(tmp_path)
    paths = [tmp_path / "series", tmp_path / "v.nii.gz", tmp_path / "v.npy", tmp_path / "v.png"]
    data.load_mri_data(paths, voxel_size=None, min_foreground=0)
    assert fingerprint(tmp_path) == before


# ---------------------------------------------------------------------------------- bad input


def test_missing_path_says_what_to_pass(tmp_path):
    with pytest.raises(
        FileNotFoundError, match=re.escape(f"{tmp_path / 'nope.nii'} does not exist")
    ):
        data.load_mri_data(tmp_path / "nope.nii")


def test_empty_folder_names_the_expected_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="has no files; expected MRI files ending in"):
        data.load_mri_data(tmp_path)


def test_unreadable_file_is_named(tmp_path):
    path = tmp_path / "garbage.nii.gz"
    path.write_bytes(b"this is not a volume")
    with pytest.raises(ValueError, match=re.escape(f"Could not read {path}")):
        data.load_mri_data(path)


def test_truncated_file_is_named(tmp_path):
    whole = tmp_path / "whole.nii"
    nib.save(nib.Nifti1Image(RAS.astype(np.float32), np.eye(4)), whole)
    cut = tmp_path / "cut.nii.gz"
    cut.write_bytes(gzip.compress(whole.read_bytes())[:-40])
    with pytest.raises(ValueError, match=re.escape(f"Could not read {cut}") + ".*truncated"):
        data.load_mri_data(cut)


def test_dicom_without_pixel_data(tmp_path):
    write_dicom(tmp_path / "report.dcm", None, z=0, instance=1, with_pixels=False)
    with pytest.raises(ValueError, match="DICOM file without pixel data"):
        data.load_mri_data(tmp_path / "report.dcm")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_voxels(tmp_path, bad):
    volume = RAS.copy()
    volume[0, 0, 0] = bad
    np.save(tmp_path / "v.npy", volume)
    with pytest.raises(ValueError, match=r"v\.npy has 1 NaN or infinite voxels.*np\.nan_to_num"):
        data.load_mri_data(tmp_path / "v.npy")


def test_constant_volume_does_not_divide_by_zero(tmp_path):
    nib.save(nib.Nifti1Image(np.full((4, 4, 4), 3.0, np.float32), np.eye(4)), tmp_path / "c.nii")
    with pytest.raises(ValueError, match=r"c\.nii is constant \(every value is 3\)"):
        data.load_mri_data(tmp_path / "c.nii")
    assert len(native(tmp_path / "c.nii")) == 12  # raw intensities need no division


def test_two_d_image_has_no_sagittal_plane(tmp_path):
    iio.imwrite(tmp_path / "s.png", np.eye(8, dtype=np.uint8))
    with pytest.raises(
        ValueError,
        match=r"s\.png holds 2-D image slices of size \(8, 8\), so it has no sagittal plane",
    ):
        data.load_mri_data(tmp_path / "s.png", plane="sagittal")


def test_dicom_slices_of_mixed_sizes_cannot_be_stacked(tmp_path):
    write_dicom(tmp_path / "a.dcm", np.ones((6, 4)), z=0, instance=1)
    write_dicom(tmp_path / "b.dcm", np.ones((5, 4)), z=2, instance=2)
    with pytest.raises(ValueError, match=r"Cannot stack .* sizes \[\(5, 4\), \(6, 4\)\]"):
        data.load_mri_data(tmp_path)


@pytest.mark.parametrize(
    ("size", "error"),
    [
        (128, TypeError),
        ((128,), TypeError),
        ((1.5, 2), TypeError),
        ("ab", TypeError),
        ((True, 2), TypeError),
        ((0, 128), ValueError),
        ((128, -1), ValueError),
    ],
)
def test_size_must_be_two_positive_integers(size, error):
    with pytest.raises(error, match="size must be two positive integers"):
        data.load_mri_data(size=size)


def test_one_bad_file_among_many_warns_and_the_rest_load(tmp_path):
    for i in range(3):
        np.save(tmp_path / f"v{i}.npy", RAS)
    (tmp_path / "v1.npy").write_bytes(b"\x93NUMPY broken")
    with pytest.warns(
        data.DataWarning, match=re.escape(f"Skipped Could not read {tmp_path / 'v1.npy'}")
    ):
        _, info = native(tmp_path, plane="axial", return_info=True)
    assert {row.source for row in info} == {str(tmp_path / "v0.npy"), str(tmp_path / "v2.npy")}


def test_all_bad_files_are_listed(tmp_path):
    for name in ("a.nii", "b.png"):
        (tmp_path / name).write_bytes(b"junk")
    with pytest.raises(ValueError, match=r"None of the 2 files could be read.*a\.nii.*b\.png"):
        data.load_mri_data(tmp_path)


def test_unsupported_file_type(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match=r"unsupported type '\.txt'; expected one of"):
        data.load_mri_data(tmp_path / "notes.txt")


def test_pickled_arrays_are_refused(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match=r"Could not read .*obj\.npy.*allow_pickle=False"):
        data.load_mri_data(tmp_path / "obj.npy")


def test_volume_index_out_of_range(tmp_path):
    nib.save(
        nib.Nifti1Image(np.stack([RAS, RAS], -1).astype(np.float32), np.eye(4)), tmp_path / "s.nii"
    )
    with pytest.raises(ValueError, match=r"volume=5 is out of range .* has 2 volumes"):
        data.load_mri_data(tmp_path / "s.nii", volume=5)


def test_voxel_size_needs_a_voxel_size(tmp_path):
    np.save(tmp_path / "v.npy", RAS)
    with pytest.raises(ValueError, match=r"v\.npy has no voxel size"):
        data.load_mri_data(tmp_path / "v.npy", voxel_size=2.0)


def test_pad_cannot_shrink():
    with pytest.raises(ValueError, match=r"fit='pad' cannot shrink slices of size \(233, 197\)"):
        data.load_mri_data(plane="axial", fit="pad", max_slices=1)


def test_no_slice_left_after_min_foreground():
    with pytest.raises(ValueError, match="lower min_foreground"):
        data.load_mri_data("dicom", min_foreground=1.0)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("plane", "oblique"),
        ("fit", "stretch"),
        ("normalize", "zscore"),
        ("voxel_size", -1),
        ("min_foreground", 2),
        ("max_slices", 0),
    ],
)
def test_bad_options_name_the_choices(option, value):
    with pytest.raises(ValueError, match=re.escape(f"{option}")):
        data.load_mri_data(**{option: value})


def test_bad_source_type():
    with pytest.raises(TypeError, match="source must be None, a bundled source name"):
        data.load_mri_data(42)
