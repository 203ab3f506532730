"""cae_lessons.config: profiles, the environment report, seeding."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

from cae_lessons import config


@pytest.mark.parametrize(
    ("name", "expected"), [("quick", config.QUICK), ("full", config.FULL), (" Full ", config.FULL)]
)
def test_resolve_profile_by_name(name, expected):
    assert config.resolve_profile(name) is expected


def test_resolve_profile_reads_the_environment(monkeypatch):
    monkeypatch.setenv(config.PROFILE_VARIABLE, "full")
    assert config.resolve_profile() is config.FULL


@pytest.mark.parametrize(("gpu", "expected"), [(True, config.FULL), (False, config.QUICK)])
def test_auto_profile_follows_the_gpu(monkeypatch, gpu, expected):
    monkeypatch.setenv(config.PROFILE_VARIABLE, "auto")
    monkeypatch.setattr(config, "gpu_available", lambda: gpu)
    assert config.resolve_profile() is expected


def test_gpu_available_asks_tensorflow(monkeypatch):
    import tensorflow as tf

    seen = []

    def devices(kind=None):
        seen.append(kind)
        return ["a GPU"] if kind == "GPU" else []

    monkeypatch.setattr(tf.config, "list_physical_devices", devices)
    assert config.gpu_available() is True and seen == ["GPU"]
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [])
    assert config.gpu_available() is False


def test_unknown_profile_says_what_to_set(monkeypatch):
    monkeypatch.setenv(config.PROFILE_VARIABLE, "turbo")
    with pytest.raises(ValueError, match=re.escape("Unknown profile 'turbo'; expected one of")):
        config.resolve_profile()


def test_quick_profile_is_smaller_than_full():
    assert config.QUICK.epochs < config.FULL.epochs
    assert config.QUICK.seeds < config.FULL.seeds


def test_environment_report_names_versions_and_profile():
    import keras
    import tensorflow as tf

    env = config.environment_report("quick")
    assert env.tensorflow == tf.__version__
    assert env.keras == keras.__version__
    assert "CPU" in env.devices
    assert f"TensorFlow {tf.__version__}" in repr(env)
    assert "profile: quick" in repr(env)


@pytest.mark.parametrize("setting", ["1", "0"])
def test_onednn_report_follows_the_variable(setting):
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": setting}
    code = "from cae_lessons.config import onednn_enabled\nprint(onednn_enabled())"
    run = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert run.stdout.strip() == str(setting == "1")


def test_environment_report_says_whether_onednn_is_on():
    env = config.environment_report("quick")
    assert env.onednn == config.onednn_enabled()
    assert f"oneDNN CPU kernels: {'on' if env.onednn else 'off'}" in repr(env)


class _Device:
    def __init__(self, device_type):
        self.device_type = device_type


@pytest.mark.parametrize("kinds", [("CPU",), ("CPU", "GPU")])
def test_require_gpu_fails_loudly_without_one(monkeypatch, kinds):
    import tensorflow as tf

    monkeypatch.setenv(config.REQUIRE_GPU_VARIABLE, "1")
    found = [_Device(kind) for kind in kinds]
    monkeypatch.setattr(
        tf.config,
        "list_physical_devices",
        lambda kind=None: [d for d in found if kind in (None, d.device_type)],
    )
    if "GPU" in kinds:
        assert config.environment_report("quick").devices == kinds
    else:
        message = "CAE_LESSONS_REQUIRE_GPU=1 but TensorFlow sees no GPU (devices: ('CPU',))"
        with pytest.raises(RuntimeError, match=re.escape(message)):
            config.environment_report("quick")


def test_seed_everything_repeats_numpy_and_tensorflow():
    import tensorflow as tf

    config.seed_everything(3)
    first = (np.random.rand(3), tf.random.uniform((3,)).numpy())
    config.seed_everything(3)
    second = (np.random.rand(3), tf.random.uniform((3,)).numpy())
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


@pytest.mark.parametrize(
    ("seed", "error", "message"),
    [(1.5, TypeError, "seed must be an int, got float 1.5"), (-1, ValueError, "seed must be >= 0")],
)
def test_seed_everything_rejects_bad_seeds(seed, error, message):
    with pytest.raises(error, match=re.escape(message)):
        config.seed_everything(seed)


def test_import_is_cheap():
    """`import cae_lessons` must not import TensorFlow (ARCHITECTURE.md: importing is cheap)."""
    import subprocess
    import sys

    code = "import sys, cae_lessons, cae_lessons.config; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
