"""cae_lessons.data: the bundled real MRI, resampling, determinism and the phantom."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
from scipy import ndimage

from cae_lessons import data
from cae_lessons.data import preprocess, read

MNI_SHAPE = (197, 233, 189)


def test_default_call_is_the_books_shape_in_unit_range():
    x = data.load_mri_data()
    assert x.shape[1:] == (128, 128, 1)
    assert x.dtype == np.float32
    assert x.min() == 0.0
    assert x.max() <= 1.0


def test_default_call_is_deterministic_and_returns_copies():
    first = data.load_mri_data()
    kept = first.copy()
    first[:] = 7.0  # a caller scribbling on its result must not reach the cache
    np.testing.assert_array_equal(data.load_mri_data(), kept)
    native = data.load_mri_data(plane="axial", size=None, normalize=None, max_slices=2)
    native[0][:] = -1.0
    again = data.load_mri_data(plane="axial", size=None, normalize=None, max_slices=2)
    assert again[0].min() >= 0.0


def test_import_does_not_import_tensorflow():
    code = "import sys, cae_lessons.data; print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


def test_bundled_template_matches_nilearns_loader():
    from nilearn.datasets import load_mni152_template

    expected = load_mni152_template(resolution=1).get_fdata(dtype=np.float32)
    (unit,) = read._read_bundled("mni152")
    assert unit.data.shape == MNI_SHAPE
    assert unit.voxel_size == (1.0, 1.0, 1.0)
    np.testing.assert_allclose(unit.data / unit.data.max(), expected, rtol=0, atol=1e-7)


def test_slice_counts_per_plane_follow_the_foreground_rule():
    volume = read._read_bundled("mni152")[0].data
    threshold = data.FOREGROUND_LEVEL * volume.max()
    _, info = data.load_mri_data(return_info=True, size=(8, 8))
    for plane, axis in preprocess._PLANE_AXIS.items():
        others = tuple(a for a in range(3) if a != axis)
        expected = int(((volume > threshold).mean(axis=others) >= 0.05).sum())
        assert sum(row.plane == plane for row in info) == expected
    assert [sum(r.plane == p for r in info) for p in data.PLANES] == [137, 170, 137]


def test_min_foreground_zero_keeps_every_slice():
    _, info = data.load_mri_data(min_foreground=0, size=(8, 8), return_info=True)
    assert [sum(r.plane == p for r in info) for p in data.PLANES] == [189, 233, 197]


def test_orientation_anterior_up_axial_superior_up_coronal():
    [axial] = data.load_mri_data(plane="axial", size=None, max_slices=1, min_foreground=0.3)
    rows = np.flatnonzero(axial[..., 0].max(axis=1) > 0.1)
    # The MNI brain reaches 68 mm anterior and 102 mm posterior of the origin (y = 0 at row 134
    # counted from the posterior end), so with anterior up the top margin is the smaller one.
    assert rows[0] < axial.shape[0] - 1 - rows[-1]
    _, info = data.load_mri_data(plane="coronal", size=None, max_slices=1, return_info=True)
    assert info[0].native_size == (189, 197)


def test_sagittal_mirror_slices_of_the_symmetric_template_are_identical():
    x, info = data.load_mri_data(plane="sagittal", size=None, min_foreground=0, return_info=True)
    depth = info[0].depth
    assert depth == MNI_SHAPE[0]
    for k in (0, 40, 90):
        np.testing.assert_array_equal(x[k], x[depth - 1 - k])
    assert not np.array_equal(x[40], x[41])


@pytest.mark.parametrize(("voxel_size", "expected"), [(1.0, 197), (1.5, 131), (2.0, 98)])
def test_voxel_size_gives_scipy_zoom_sizes(voxel_size, expected):
    shape = data.resampled_shape(MNI_SHAPE, (1, 1, 1), (voxel_size,) * 3)
    assert shape == ndimage.zoom(np.zeros(MNI_SHAPE, np.uint8), 1 / voxel_size, order=0).shape
    _, info = data.load_mri_data(
        plane="axial", voxel_size=voxel_size, size=None, max_slices=1, return_info=True
    )
    assert info[0].native_size == (shape[1], shape[0])
    assert info[0].native_size[1] == expected
    assert info[0].voxel_size == (voxel_size, voxel_size)


def test_resample_matrix_keeps_constants_and_averages_when_shrinking():
    for n_in, n_out in [(197, 131), (197, 98), (58, 128)]:
        matrix = data.resample_matrix(n_in, n_out)
        assert matrix.shape == (n_out, n_in)
        np.testing.assert_allclose(matrix.sum(axis=1), 1, rtol=1e-6)
    stripes = np.tile([0.0, 1.0], 50)  # a 1-px pattern must average out, not alias
    np.testing.assert_allclose(data.resample_matrix(100, 50) @ stripes, 0.5, atol=0.26)
    np.testing.assert_allclose((data.resample_matrix(100, 50) @ stripes)[1:-1], 0.5, atol=1e-6)


@pytest.mark.parametrize(
    ("source", "native"),
    [
        ("epi", {"axial": (96, 128), "coronal": (24, 128), "sagittal": (24, 96)}),
        ("dicom", {"axial": (64, 64)}),
        ("dipy_t1", {"coronal": (256, 256)}),
        ("dipy_b0", {"axial": (128, 128), "coronal": (10, 128), "sagittal": (10, 128)}),
        ("dipy_aniso", {"axial": (58, 58), "coronal": (24, 58), "sagittal": (24, 58)}),
    ],
)
def test_every_bundled_source_loads_at_its_native_size(source, native):
    x, info = data.load_mri_data(source, return_info=True)
    assert x.shape == (len(info), 128, 128, 1)
    assert {row.plane: row.native_size for row in info} == native


def test_bundled_voxel_sizes_are_read_from_the_headers():
    _, epi = data.load_mri_data("epi", plane="coronal", max_slices=1, return_info=True)
    _, aniso = data.load_mri_data("dipy_aniso", plane="coronal", max_slices=1, return_info=True)
    _, dicom = data.load_mri_data("dicom", return_info=True)
    assert epi[0].voxel_size == pytest.approx((2.2, 2.0), abs=1e-5)
    assert aniso[0].voxel_size == (5.0, 4.0)
    assert dicom[0].voxel_size == (0.3125, 0.3125)


def test_four_d_source_takes_one_or_all_volumes():
    _, both = data.load_mri_data("epi", plane="axial", return_info=True, min_foreground=0)
    _, one = data.load_mri_data("epi", plane="axial", volume=1, return_info=True, min_foreground=0)
    assert [r.volume for r in both].count(0) == [r.volume for r in both].count(1) == 24
    assert {r.volume for r in one} == {1}


def test_max_slices_is_evenly_spaced_and_deterministic():
    _, every = data.load_mri_data(plane="axial", size=(8, 8), return_info=True)
    _, info = data.load_mri_data(plane="axial", max_slices=5, size=(8, 8), return_info=True)
    assert list(info) == [every[i] for i in data.evenly_spaced(len(every), 5)]
    assert data.evenly_spaced(137, 5).tolist() == [0, 34, 68, 102, 136]
    assert data.evenly_spaced(3, 5).tolist() == [0, 1, 2]


@pytest.mark.parametrize("normalize", ["percentile", None])
def test_other_normalisations(normalize):
    x = data.load_mri_data(plane="axial", max_slices=4, normalize=normalize)
    if normalize is None:  # raw template intensities are 0..255
        assert x.max() > 100
    else:
        assert x.min() == 0.0
        assert x.max() == pytest.approx(1.0, abs=1e-6)


def test_slice_table_repr_and_html_name_groups():
    _, info = data.load_mri_data("dipy_aniso", return_info=True)
    assert repr(info).startswith("SliceTable(95 slices: dipy_aniso axial 24 x (58, 58) at 4 x 4")
    assert info._repr_html_().count("<tr>") == 4


def test_phantom_is_deterministic_in_unit_range_at_any_size():
    a = data.phantom(3, (37, 53), seed=5)
    assert a.shape == (3, 37, 53, 1)
    assert a.dtype == np.float32
    assert a.min() >= 0.0
    assert a.max() == 1.0
    np.testing.assert_array_equal(a, data.phantom(3, (37, 53), seed=5))
    assert not np.array_equal(a, data.phantom(3, (37, 53), seed=6))


def test_phantom_dots_have_their_nominal_diameters_and_show_in_the_phantom():
    dots = data.phantom_dots((128, 128))
    row = dots[round(0.7 * 128)]
    edges = np.flatnonzero(np.diff(np.concatenate([[0], row.astype(int), [0]])))
    assert tuple(np.diff(edges)[::2]) == data.PHANTOM_DOT_DIAMETERS
    image = data.phantom(1, (128, 128), seed=0)[0, ..., 0]
    around = np.zeros_like(dots)
    around[80:100, 45:85] = True  # the white matter around the row of dots
    assert image[dots].mean() > image[around & ~dots].mean() + 0.1


def test_load_mri_volumes_gives_the_whole_template_in_unit_range():
    x = data.load_mri_volumes()
    assert x.shape == (1, *MNI_SHAPE, 1)
    assert x.dtype == np.float32
    assert (x.min(), x.max()) == (0.0, 1.0)


def test_load_mri_volumes_resamples_to_the_sizes_of_resampled_shape():
    x = data.load_mri_volumes(voxel_size=2)
    assert x.shape == (1, *data.resampled_shape(MNI_SHAPE, (1.0, 1.0, 1.0), (2.0, 2.0, 2.0)), 1)


def test_mid_planes_show_the_slices_load_mri_data_shows():
    planes = data.mid_planes(data.load_mri_volumes()[0])
    for plane, axis in (("sagittal", 0), ("coronal", 1), ("axial", 2)):
        slices = data.load_mri_data(plane=plane, size=None, min_foreground=0)
        np.testing.assert_array_equal(planes[plane], slices[MNI_SHAPE[axis] // 2][..., 0])


def test_load_mri_volumes_takes_every_volume_of_a_4d_file():
    assert data.load_mri_volumes("epi").shape == (2, 128, 96, 24, 1)
    assert data.load_mri_volumes("epi", volume=1).shape == (1, 128, 96, 24, 1)


def test_load_mri_volumes_refuses_2d_images(tmp_path):
    import imageio.v3 as iio

    iio.imwrite(tmp_path / "s.png", np.eye(8, dtype=np.uint8))
    with pytest.raises(ValueError, match=r"holds 2-D images of shape \(8, 8\), not a volume"):
        data.load_mri_volumes(tmp_path / "s.png")


@pytest.mark.parametrize("shape", [(4, 6), (2, 4, 6, 8, 1), (4, 6, 8, 3)])
def test_mid_planes_refuses_what_is_not_one_volume(shape):
    with pytest.raises(ValueError, match=re.escape(f"got shape {shape}")):
        data.mid_planes(np.zeros(shape))
