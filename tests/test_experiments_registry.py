"""experiments/registry.py: the book's models, and the one call that trains them."""

import pickle

import keras
import numpy as np
import pytest

from cae_lessons import models
from cae_lessons.cache import cache_key
from cae_lessons.config import FULL, QUICK, Profile
from cae_lessons.experiments.registry import (
    AXIAL_64,
    AXIAL_128,
    PATIENCE,
    START_FROM_EPOCH,
    SWEEP_CHANNELS,
    book_models,
    sweep_model,
    train_book_model,
    train_book_models,
)
from cae_lessons.models import build_cae, example1, example2
from cae_lessons.shapes import build_model, diagnose


@pytest.fixture(autouse=True)
def _seeded():
    keras.utils.set_random_seed(0)


# The plain Keras calls each registry entry stands for. The training cache keys on the model's
# name and architecture, so these pin the keys of the runs that the chapters have cached.


def _diagnosed_fix(kind):
    fix = next(f for f in diagnose(example1()).fixes if f.kind == kind)
    name = "example1_fix_" + fix.kind.replace("+", "_")
    return build_model(
        fix.layers, fix.input_shape, activation="relu", output_activation="sigmoid", name=name
    )


def _sweep(down, channels):
    return build_cae((64, 64, 1), filters=(8, 16, 32), down=down, latent_channels=channels)


PLAIN_BUILDERS = {
    "example2": example2,
    "example1_fix_crop_or_pad_output": lambda: _diagnosed_fix("crop_or_pad_output"),
    "example3": models.example3,
    "cae_pool_upsample_8-16-32_l16": lambda: _sweep("pool", 16),
    "cae_stride_upsample_8-16-32_l16": lambda: _sweep("stride", 16),
    "cae_pool_upsample_8-16-32_l4": lambda: _sweep("pool", 4),
    "cae_stride_upsample_8-16-32_l4": lambda: _sweep("stride", 4),
    "cae_pool_upsample_8-16-32_l1": lambda: _sweep("pool", 1),
    "cae_stride_upsample_8-16-32_l1": lambda: _sweep("stride", 1),
}


def test_book_models_lists_every_chapter_model_once_by_data_then_chapter():
    registry = book_models()
    assert list(registry) == list(PLAIN_BUILDERS)
    assert [m.chapter for m in registry.values()] == [4, 3, 5, 4, 4, 4, 4, 4, 4]
    assert all(name == m.name for name, m in registry.items())
    assert len({m.label for m in registry.values()}) == len(registry)


@pytest.mark.parametrize("name", PLAIN_BUILDERS)
def test_book_model_builds_the_model_its_name_says(name):
    """Same model name and architecture as the plain call, hence the same training-cache key."""
    ours, plain = book_models()[name].build(), PLAIN_BUILDERS[name]()
    size = ours.input_shape[1]
    x = np.random.default_rng(0).random((2, size, size, 1), dtype=np.float32)
    settings = {"epochs": 20, "batch_size": 8, "loss": "mse", "seed": 0, "learning_rate": 1e-3}
    assert ours.name == plain.name == name
    assert cache_key(ours, x, x, **settings) == cache_key(plain, x, x, **settings)


def test_the_ch3_real_fix_is_example2():
    """Chapter 3 trains its real fix as example2(): the same layers, so one cache entry."""
    real = _diagnosed_fix("padding_same+match_strides")
    assert real.count_params() == example2().count_params()
    assert [type(layer) for layer in real.layers] == [type(layer) for layer in example2().layers]


def test_every_book_model_trains_with_the_profiles_seeds():
    """Every comparison of trained models rests on three seeds or more, in each profile."""
    for model in book_models().values():
        assert model.seeds(QUICK) == range(QUICK.seeds) == range(3)
        assert model.seeds(FULL) == range(FULL.seeds) == range(5)


@pytest.mark.parametrize("name", PLAIN_BUILDERS)
def test_book_model_builders_can_be_sent_to_a_worker_process(name):
    """train_runs trains a run in another process only if its build function pickles."""
    build = pickle.loads(pickle.dumps(book_models()[name].build))
    assert build().name == name


@pytest.mark.parametrize("profile", ["quick", Profile("auto", 20, None, 2), None])
def test_seeds_rejects_anything_but_a_resolved_profile(profile):
    with pytest.raises(TypeError, match="execution profile with name 'quick' or 'full'"):
        book_models()["example2"].seeds(profile)


def test_book_models_filters_by_data():
    assert {m.data for m in book_models(AXIAL_128).values()} == {AXIAL_128}
    assert len(book_models(AXIAL_64)) == 6  # ch. 4's sweep
    assert all(m.build().input_shape == (None, 64, 64, 1) for m in book_models(AXIAL_64).values())


def test_book_models_rejects_unknown_data():
    with pytest.raises(ValueError, match=r"data must be None or one of .* got 'axial'"):
        book_models("axial")


@pytest.mark.parametrize("ratio", SWEEP_CHANNELS)
def test_sweep_model_is_the_registry_entry(ratio):
    for down in ("pool", "stride"):
        ours = sweep_model(down, ratio)
        assert book_models()[ours.name] == ours
        assert ours.label == f"CAE {down}, ratio {ratio}"


@pytest.mark.parametrize(
    ("down", "ratio", "match"),
    [
        ("avg", 4, r"down must be one of \('pool', 'stride'\), got 'avg'"),
        ("pool", 8, r"ratio must be one of ch. 4's compression ratios \(4, 16, 64\), got 8"),
    ],
)
def test_sweep_model_rejects_what_the_sweep_does_not_hold(down, ratio, match):
    with pytest.raises(ValueError, match=match):
        sweep_model(down, ratio)


def test_train_book_model_trains_one_run_per_seed_and_shares_the_cache(tmp_path):
    x = np.random.default_rng(0).random((8, 64, 64, 1), dtype=np.float32)
    profile = Profile("full", 1, None, 2)
    first = train_book_model(
        "cae_pool_upsample_8-16-32_l16", x, x, profile, cache=tmp_path, progress=False, workers=1
    )
    again = train_book_model(sweep_model("pool", 4), x, x, profile, cache=tmp_path, progress=False)
    assert [(r.seed, r.epochs, r.batch_size) for r in first] == [(0, 1, 8), (1, 1, 8)]
    assert [r.cache_hit for r in first] == [False, False]
    assert [r.cache_hit for r in again] == [True, True]
    assert [r.history for r in again] == [r.history for r in first]


def test_book_models_train_until_validation_stops_improving(monkeypatch):
    """Every run: the profile's epochs as the cap, early stopping with PATIENCE after a warm-up
    of START_FROM_EPOCH (train() itself is tested for what those do)."""
    from cae_lessons import workers

    sent = []
    monkeypatch.setattr(workers, "train_runs", lambda runs, **kwargs: sent.extend(runs) or runs)
    x = np.zeros((8, 64, 64, 1), np.float32)
    train_book_models([("example2", x, x), (sweep_model("pool", 4), x, x)], QUICK)
    assert [run.options for run in sent] == [
        {
            "epochs": QUICK.epochs,
            "batch_size": 8,
            "seed": seed,
            "patience": PATIENCE,
            "start_from_epoch": START_FROM_EPOCH,
        }
        for _ in range(2)
        for seed in range(QUICK.seeds)
    ]
    assert PATIENCE == 3 and START_FROM_EPOCH == 10 < QUICK.epochs


def test_train_book_models_returns_each_models_runs_in_order(tmp_path):
    x64 = np.random.default_rng(0).random((8, 64, 64, 1), dtype=np.float32)
    profile = Profile("quick", 1, None, 2)
    pool, stride = sweep_model("pool", 64), sweep_model("stride", 64)
    runs = train_book_models(
        [(pool, x64, x64), (stride.name, x64, x64)], profile, cache=tmp_path, progress=False
    )
    assert [[(r.name, r.seed) for r in model_runs] for model_runs in runs] == [
        [(pool.name, 0), (pool.name, 1)],
        [(stride.name, 0), (stride.name, 1)],
    ]


def test_train_book_model_rejects_an_unknown_name():
    x = np.zeros((8, 64, 64, 1), np.float32)
    with pytest.raises(ValueError, match=r"No book model is named 'example4'; the names are"):
        train_book_model("example4", x, x, QUICK)
