"""cae_lessons.data: leak-free slab splits (checked with PCA) and the tf.data pipeline."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA

from cae_lessons import data

# PCA with 16 components fitted on the training slices. Measured on the 128 x 128 sagittal MNI
# slices: it reconstructs its own training slices at about 36 dB and held-out slabs of a safe
# split at about 17 dB, while a naive split by slice index scores about 34 dB on test, because
# the template is symmetric and each test slice is a mirror copy of a training slice. A test
# PSNR above 30 dB therefore means the test set was (almost) seen in training.
LEAK_DB = 30.0


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / np.mean((a - b) ** 2)))


def pca_test_psnr(x_train: np.ndarray, x_test: np.ndarray) -> float:
    pca = PCA(n_components=16, random_state=0).fit(x_train.reshape(len(x_train), -1))
    flat = x_test.reshape(len(x_test), -1)
    return psnr(flat, np.clip(pca.inverse_transform(pca.transform(flat)), 0, 1))


def naive_split(x: np.ndarray, fractions=(0.7, 0.15, 0.15)):
    """Contiguous thirds by slice index, as one would cut any ordered sequence."""
    n_train, n_val = (int(f * len(x)) for f in fractions[:2])
    return x[:n_train], x[n_train + n_val :]


@pytest.fixture(scope="module")
def sagittal():
    return data.load_mri_data(plane="sagittal", return_info=True)


def test_naive_split_leaks_through_the_mirror_and_slab_split_does_not(sagittal):
    x, info = sagittal
    naive_train, naive_test = naive_split(x)
    mirrors = {
        info.rows[i].depth - 1 - info.rows[i].index for i in range(len(x) - len(naive_test), len(x))
    }
    assert mirrors <= {row.index for row in info.rows[: len(naive_train)]}
    assert pca_test_psnr(naive_train, naive_test) > LEAK_DB
    assert pca_test_psnr(naive_train, naive_train) > LEAK_DB  # what "seen in training" scores
    for seed in range(3):
        split = data.split_by_slab(x, info, seed=seed)
        assert pca_test_psnr(split.x_train, split.x_test) < LEAK_DB - 5


def test_slab_split_keeps_mirrors_together_and_a_gap_between_slabs(sagittal):
    x, info = sagittal
    split = data.split_by_slab(x, info, seed=1, gap=4)
    folded = {
        name: {min(r.index, r.depth - 1 - r.index) for r in part}
        for name, part in (
            ("train", split.info_train),
            ("val", split.info_val),
            ("test", split.info_test),
        )
    }
    for a, b in (("train", "val"), ("train", "test"), ("val", "test")):
        distance = min(abs(p - q) for p in folded[a] for q in folded[b])
        assert distance > 4
    assert len(split.x_train) > 3 * len(split.x_test) > 0
    assert split.x_train.shape[1:] == (128, 128, 1)


def test_slab_split_is_deterministic_and_covers_each_plane():
    x, info = data.load_mri_data(size=(16, 16), return_info=True)
    first, again = data.split_by_slab(x, info, seed=3), data.split_by_slab(x, info, seed=3)
    assert first.info_test == again.info_test
    for part in (first.info_train, first.info_val, first.info_test):
        assert {row.plane for row in part} == set(data.PLANES)
    assert repr(first).startswith("Split(train=")


def test_slab_split_accepts_native_size_lists():
    x, info = data.load_mri_data("dipy_aniso", size=None, return_info=True)
    split = data.split_by_slab(x, info, gap=0)
    assert isinstance(split.x_train, list)
    assert len(split.x_train) + len(split.x_val) + len(split.x_test) == len(x)


@pytest.mark.parametrize("fractions", [(0.5, 0.5), (0.7, 0.2, 0.2), (1.2, -0.1, -0.1)])
def test_slab_split_rejects_bad_fractions(sagittal, fractions):
    x, info = sagittal
    with pytest.raises(ValueError, match="fractions must be three non-negative shares"):
        data.split_by_slab(x, info, fractions=fractions)


def test_slab_split_rejects_mismatched_info(sagittal):
    x, info = sagittal
    with pytest.raises(ValueError, match=f"x has 3 slices but info has {len(info)} rows"):
        data.split_by_slab(x[:3], info)


def batches(dataset) -> list[np.ndarray]:
    return [np.asarray(a) for a, _ in dataset]


def test_as_dataset_yields_x_x_pairs_in_order_without_shuffle():
    x = data.phantom(5, (32, 32))
    dataset = data.as_dataset(x, batch_size=2, shuffle=False)
    for inputs, targets in dataset:
        np.testing.assert_array_equal(inputs, targets)
    np.testing.assert_array_equal(np.concatenate(batches(dataset)), x)


def test_as_dataset_is_deterministic_for_a_seed_and_reshuffles_each_epoch():
    x = data.phantom(8, (32, 32))
    one = data.as_dataset(x, batch_size=8, augment=True, seed=4)
    two = data.as_dataset(x, batch_size=8, augment=True, seed=4)
    epoch1, epoch2 = batches(one), batches(one)
    np.testing.assert_array_equal(epoch1[0], batches(two)[0])
    assert not np.array_equal(epoch1[0], epoch2[0])
    assert not np.array_equal(epoch1[0], batches(data.as_dataset(x, 8, augment=True, seed=5))[0])


def test_augmentation_is_a_flip_and_a_small_shift():
    x = data.phantom(4, (32, 32))
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    candidates = [
        image
        for original in padded
        for flipped in (original, original[:, ::-1])
        for image in (flipped[r : r + 32, c : c + 32] for r in range(3) for c in range(3))
    ]
    (augmented,) = batches(data.as_dataset(x, batch_size=4, augment=True, seed=0))
    for image in augmented:
        assert any(np.array_equal(image, c) for c in candidates)
    assert any(not np.array_equal(a, b) for a, b in zip(augmented, x, strict=True))


def test_as_dataset_needs_one_array():
    with pytest.raises(TypeError, match=r"needs an \(N, H, W, C\) array, got a list of 2 arrays"):
        data.as_dataset([np.zeros((4, 4, 1))] * 2, batch_size=1)


def test_the_default_split_seed_comes_from_the_environment(monkeypatch):
    x, info = data.load_mri_data(plane="axial", size=(32, 32), return_info=True)
    monkeypatch.delenv("CAE_LESSONS_SPLIT_SEED", raising=False)
    unset = data.split_by_slab(x, info)
    monkeypatch.setenv("CAE_LESSONS_SPLIT_SEED", "1")
    from_environment = data.split_by_slab(x, info)
    assert np.array_equal(from_environment.x_test, data.split_by_slab(x, info, seed=1).x_test)
    assert np.array_equal(unset.x_test, data.split_by_slab(x, info, seed=0).x_test)
    assert not np.array_equal(unset.x_test[:5], from_environment.x_test[:5])
