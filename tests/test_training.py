"""cae_lessons.training: seeded, measured, cached training."""

import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf
from _helpers import random_images as _images

from cae_lessons import cache, training
from cae_lessons.models import build_cae
from cae_lessons.training import _gradient_norms, reconstruct


def _tiny(size=16, name="tiny"):
    import keras

    def build():
        return keras.Sequential(
            [
                keras.Input((size, size, 1)),
                keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="enc"),
                keras.layers.Conv2D(1, 3, padding="same", activation="sigmoid", name="dec"),
            ],
            name=name,
        )

    return build


@pytest.fixture(scope="module")
def images():
    """Smooth seeded 16×16 blobs: learnable, so a few epochs lower the loss."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:16, 0:16]
    centres = rng.uniform(4, 12, size=(48, 2))
    widths = rng.uniform(2, 5, size=48)
    blobs = np.exp(
        -((yy - centres[:, :1, None]) ** 2 + (xx - centres[:, 1:, None]) ** 2)
        / widths[:, None, None] ** 2
    )
    x = blobs[..., None].astype(np.float32)
    return x[:32], x[32:]


def _train(images, **kwargs):
    x_train, x_val = images
    options = {"epochs": 3, "batch_size": 8, "cache": False, "progress": False, **kwargs}
    return training.train(_tiny(), x_train, x_val, **options)


def test_training_lowers_validation_loss(images):
    result = _train(images, epochs=6, learning_rate=1e-2)
    assert result.history["val_loss"][-1] < result.history["val_loss"][0]
    assert len(result.history["loss"]) == 6
    assert result.images_per_second > 0


def test_same_seed_reproduces_exactly_and_another_seed_differs(images):
    first, second, other = _train(images, seed=1), _train(images, seed=1), _train(images, seed=2)
    assert first.history == second.history
    assert first.gradient_norms == second.gradient_norms
    assert first.history != other.history


def test_one_fit_traces_its_training_step_once(images):
    # Adam's slots are created before fit: created lazily, TensorFlow traces the step twice.
    import keras

    traces = []

    class Counting(keras.Sequential):
        def train_step(self, data):
            traces.append(1)
            return super().train_step(data)

    def build():
        return Counting([keras.Input((16, 16, 1)), *_tiny()().layers], name="counting")

    x_train, x_val = images
    training.train(build, x_train, x_val, epochs=2, batch_size=8, cache=False, progress=False)
    assert len(traces) == 1


def test_gradient_norms_per_layer_before_and_after_each_epoch(images):
    result = _train(images, epochs=3)
    assert list(result.gradient_norms) == ["enc", "dec"]
    for norms in result.gradient_norms.values():
        assert len(norms) == 4
        assert all(np.isfinite(norms)) and all(n > 0 for n in norms)


def test_repr_is_one_readable_line(images):
    text = repr(_train(images, epochs=1))
    assert re.fullmatch(
        r"TrainResult\(tiny: 1 epochs, seed 0, loss [\d.]+, val_loss [\d.]+, "
        r"[\d.]+ images/s, from [\d.]+ s\)",
        text,
    )


def test_cache_hit_returns_the_same_model_and_history(images, tmp_path):
    first = _train(images, cache=tmp_path)
    second = _train(images, cache=tmp_path)
    assert (first.cache_hit, second.cache_hit) == (False, True)
    assert first.history == second.history
    x_val = images[1]
    np.testing.assert_array_equal(
        training.reconstruct(first, x_val), training.reconstruct(second, x_val)
    )


def test_cache_misses_when_a_setting_changes(images, tmp_path):
    _train(images, cache=tmp_path, epochs=2)
    assert _train(images, cache=tmp_path, epochs=3).cache_hit is False
    assert len(list(tmp_path.iterdir())) == 2


def test_every_epoch_can_be_reconstructed_fresh_or_from_the_cache(images, tmp_path):
    x_val = images[1][:4]
    first = _train(images, cache=tmp_path)
    second = _train(images, cache=tmp_path)
    assert len(first.epoch_weights) == len(second.epoch_weights) == 3 + 1
    trained = training.reconstruct(first, x_val)
    np.testing.assert_array_equal(training.reconstruct(first, x_val, epoch=3), trained)
    untrained = training.reconstruct(first, x_val, epoch=0)
    assert np.abs(untrained - trained).max() > 1e-3
    np.testing.assert_array_equal(training.reconstruct(first, x_val), trained)  # put back
    fresh, cached = (training.epoch_reconstructions(r, x_val) for r in (first, second))
    assert len(fresh) == 3
    for a, b in zip(fresh, cached, strict=True):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_keeps_the_weights_of_the_epochs_it_ran(images):
    import keras

    stop = keras.callbacks.EarlyStopping(patience=0, min_delta=10.0, restore_best_weights=True)
    result = _train(images, epochs=5, callbacks=[stop])
    ran = len(result.history["loss"])
    assert ran < 5 and len(result.epoch_weights) == ran + 1


def test_patience_is_early_stopping_that_keeps_the_best_epoch(images, tmp_path):
    import keras

    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    ours = _train(images, epochs=4, patience=2, cache=tmp_path)
    theirs = _train(images, epochs=4, callbacks=[stop], cache=tmp_path)
    assert theirs.cache_hit  # the same callback, so the same cache entry
    assert ours.history == theirs.history
    ran = len(ours.history["loss"])
    assert ours.images_per_second == pytest.approx(len(images[0]) * ran / ours.seconds)


def test_start_from_epoch_waits_before_watching_the_validation_loss(images):
    """With a learning rate of 0 the validation loss never falls: patience 1 stops a run after
    2 epochs, and after 3 + 2 with 3 epochs of warm-up."""
    frozen = {"epochs": 8, "learning_rate": 0.0, "patience": 1}
    assert len(_train(images, **frozen).history["loss"]) == 2
    assert len(_train(images, **frozen, start_from_epoch=3).history["loss"]) == 5


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"start_from_epoch": 2}, r"start_from_epoch=2 needs patience=\.\.\."),
        ({"patience": 2, "start_from_epoch": -1}, r"start_from_epoch must be an int >= 0"),
        ({"patience": 2, "start_from_epoch": 1.0}, r"start_from_epoch must be an int >= 0"),
    ],
)
def test_start_from_epoch_is_a_warm_up_for_patience(images, options, match):
    with pytest.raises(ValueError, match=match):
        _train(images, **options)


@pytest.mark.parametrize("patience", [0, -1, 1.5, True, "3"])
def test_patience_must_be_a_positive_int(images, patience):
    with pytest.raises(ValueError, match=r"patience must be None \(train every epoch\) or an int"):
        _train(images, patience=patience)


@pytest.mark.parametrize(
    ("val_loss", "plateau"),
    [
        ((0.2, 0.1, 0.05), 0),  # improves at once
        ((0.17, 0.19, 0.22, 0.2, 0.16, 0.1), 3),  # three epochs at or above its first value
        ((0.2, 0.2, 0.3), 2),  # never falls below it
        ((0.2,), 0),
    ],
)
def test_plateau_epochs_count_the_epochs_before_the_loss_first_falls(val_loss, plateau):
    result = training.TrainResult(
        "m",
        {"loss": val_loss, "val_loss": val_loss},
        len(val_loss),
        8,
        0,
        1.0,
        1.0,
        {},
        True,
        False,
        None,
    )
    assert result.plateau_epochs == plateau


@pytest.mark.parametrize("epoch", [-1, 4, 1.5, True, "1"])
def test_an_epoch_outside_the_run_is_refused(images, epoch):
    result = _train(images)
    with pytest.raises(ValueError, match=r"epoch must be an int from 0 \(before training\) to 3 "):
        training.reconstruct(result, images[1], epoch=epoch)


def test_an_epoch_of_a_bare_model_is_refused(images):
    model = _train(images).model
    with pytest.raises(ValueError, match=r"needs the TrainResult that train\(\) returned .* got "):
        training.reconstruct(model, images[1], epoch=1)


@pytest.mark.parametrize("damage", ["truncate_weights", "drop_marker", "truncate_epochs"])
def test_corrupt_or_partial_entry_is_retrained_not_loaded(images, tmp_path, damage):
    first = _train(images, cache=tmp_path)
    (entry,) = tmp_path.iterdir()
    if damage == "truncate_weights":
        weights = entry / "weights.npz"
        weights.write_bytes(weights.read_bytes()[:100])
        with pytest.warns(cache.CacheWarning, match=r"weights checksum mismatch\); retraining it"):
            again = _train(images, cache=tmp_path)
    elif damage == "truncate_epochs":
        weights = entry / "epoch_weights.npz"
        weights.write_bytes(weights.read_bytes()[:100])
        with pytest.warns(cache.CacheWarning, match=r"epoch_weights checksum mismatch"):
            again = _train(images, cache=tmp_path)
    else:
        (entry / "COMPLETE.json").unlink()
        with pytest.warns(cache.CacheWarning, match="FileNotFoundError"):
            again = _train(images, cache=tmp_path)
    assert again.cache_hit is False
    assert again.history == first.history


def test_wrong_image_size_is_refused_before_training(images):
    x_train, _ = images
    small = x_train[:, :8, :8]
    message = re.escape("x_train images have shape (8, 8, 1) but the model expects (16, 16, 1)")
    with pytest.raises(ValueError, match=message):
        training.train(_tiny(), small, small, epochs=1, cache=False, progress=False)


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        ([[0.0]], TypeError, r"x_train must be a NumPy array of shape \(N, H, W, C\), got list"),
        (
            np.zeros((4, 16, 16), np.float32),
            ValueError,
            r"x_train must be 4-D \(N, H, W, C\), got 3-D shape \(4, 16, 16\)",
        ),
        (np.zeros((4, 16, 16, 1), np.float64), TypeError, "must be float32 .*dtype float64"),
        (np.zeros((0, 16, 16, 1), np.float32), ValueError, "at least one non-empty image"),
        (np.full((2, 16, 16, 1), np.nan, np.float32), ValueError, "x_train must be finite"),
    ],
)
def test_bad_data_gets_a_clear_error(images, bad, error, message):
    with pytest.raises(error, match=message):
        training.train(_tiny(), bad, images[1], epochs=1, cache=False, progress=False)


def test_strategy_needs_a_builder_not_a_built_model(images):
    import tensorflow as tf

    with pytest.raises(TypeError, match="pass a function that builds the model"):
        training.train(_tiny()(), *images, epochs=1, strategy=tf.distribute.get_strategy())


def test_progress_is_one_line_per_run(images, capsys):
    _train(images, epochs=3, progress=True)
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert out.count("\r") == 3
    assert "tiny: epoch 3/3" in out


def test_mirrored_strategy_on_two_logical_cpus():
    """Two replicas need a fresh process: logical devices are fixed once TF has started."""
    code = textwrap.dedent(
        """
        import numpy as np, tensorflow as tf, keras
        cpu = tf.config.list_physical_devices("CPU")[0]
        two = [tf.config.LogicalDeviceConfiguration()] * 2
        tf.config.set_logical_device_configuration(cpu, two)
        from cae_lessons.training import train
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        layers = lambda: [keras.Input((8, 8, 1)), keras.layers.Conv2D(1, 3, padding="same")]
        build = lambda: keras.Sequential(layers())
        x = np.random.default_rng(0).random((16, 8, 8, 1), dtype=np.float32)
        options = dict(epochs=2, batch_size=8, cache=False, progress=False)
        result = train(build, x, x, strategy=strategy, **options)
        print(strategy.num_replicas_in_sync, len(result.history["loss"]))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-2:] == ["2", "2"]


@pytest.fixture
def restores_op_determinism():
    """train()'s retry turns op determinism off; turn it back on for the tests that follow."""
    import tensorflow as tf

    yield
    tf.config.experimental.enable_op_determinism()


def test_a_device_without_deterministic_kernels_warns_once_and_trains(
    images, monkeypatch, restores_op_determinism
):
    """On a GPU some gradients have no deterministic kernel; TF then raises from fit. Simulate it:
    the first fit raises such an error, train() must warn in plain words and train again."""
    import keras
    import tensorflow as tf

    real_fit = keras.Model.fit
    calls = []

    def fit_without_determinism_once(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise tf.errors.UnimplementedError(
                None, None, "Deterministic GPU implementation of this op is not available."
            )
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", fit_without_determinism_once)
    with pytest.warns(training.NondeterminismWarning, match="no deterministic implementation"):
        result = _train(images, epochs=2)
    assert len(calls) == 2
    assert result.deterministic is False
    assert len(result.history["loss"]) == 2
    assert all(len(norms) == 3 for norms in result.gradient_norms.values())


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("no deterministic implementation of this op"),
        "InvalidArgumentError",
        "UnimplementedError",
    ],
)
def test_only_tensorflows_missing_deterministic_kernel_error_is_retried(images, monkeypatch, error):
    """The retry goes by type: an UnimplementedError that names determinism. A RuntimeError or
    another TensorFlow error that mentions determinism, or an UnimplementedError that does not,
    reaches the caller unchanged."""
    import keras
    import tensorflow as tf

    if error == "InvalidArgumentError":
        error = tf.errors.InvalidArgumentError(None, None, "op determinism is on")
    elif error == "UnimplementedError":
        error = tf.errors.UnimplementedError(None, None, "no CPU kernel for this op")
    calls = []

    def failing_fit(self, *args, **kwargs):
        calls.append(1)
        raise error

    monkeypatch.setattr(keras.Model, "fit", failing_fit)
    with pytest.raises(type(error)) as raised:
        _train(images)
    assert raised.value is error and len(calls) == 1


def test_other_training_errors_are_not_swallowed(images, monkeypatch):
    import keras

    def broken_fit(self, *args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(keras.Model, "fit", broken_fit)
    with pytest.raises(RuntimeError, match="out of memory"):
        _train(images)


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(cache.CACHE_VARIABLE, str(tmp_path))
    assert cache.default_cache_dir() == tmp_path
    monkeypatch.delenv(cache.CACHE_VARIABLE)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache.default_cache_dir() == tmp_path / ".cache" / "cae-lessons" / "training"


def test_the_cache_key_changes_with_the_record_format(monkeypatch):
    model = _tiny(8)()
    x = np.zeros((4, 8, 8, 1), np.float32)
    before = cache.cache_key(model, x, x, epochs=1)
    monkeypatch.setattr(cache, "RECORD_FORMAT", cache.RECORD_FORMAT + 1)
    assert cache.cache_key(model, x, x, epochs=1) != before


def test_reconstruct_many_models_logs_no_retracing(caplog):
    # model.predict compiles a function per model: seven models in a row make TensorFlow warn
    # about "retracing" into a chapter's output. reconstruct calls the models instead.
    import logging

    x = np.zeros((8, 16, 16, 1), np.float32)
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        for _ in range(7):
            training.reconstruct(_tiny()(), x)
    assert "retracing" not in caplog.text


def _key(**options):
    model = _tiny(8)()
    x = np.zeros((4, 8, 8, 1), np.float32)
    return cache.cache_key(model, x, x, epochs=1, **options)


def test_the_cache_key_changes_with_the_callbacks():
    import keras

    plain = _key()
    patient = _key(callbacks=[keras.callbacks.EarlyStopping(patience=3)])
    assert len({plain, patient, _key(callbacks=[keras.callbacks.EarlyStopping(patience=4)])}) == 3
    assert _key(callbacks=[keras.callbacks.EarlyStopping(patience=3)]) == patient


def test_a_callback_the_cache_cannot_key_is_refused():
    import keras

    callback = keras.callbacks.LambdaCallback(on_epoch_end=print)
    with pytest.raises(TypeError, match="cannot key the callback LambdaCallback: its argument"):
        _key(callbacks=[callback])


@pytest.mark.parametrize(
    ("field", "patch"),
    [
        ("onednn", lambda mp: mp.setattr("cae_lessons.config.onednn_enabled", lambda: "other")),
        ("threads", lambda mp: mp.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4})),
        ("device", lambda mp: mp.setattr(tf.config, "list_logical_devices", lambda kind: [kind])),
    ],
)
def test_the_cache_key_changes_with_where_it_runs(field, patch, monkeypatch):
    before, context = _key(), cache.execution_context()
    patch(monkeypatch)
    assert cache.execution_context()[field] != context[field]
    assert _key() != before


def test_the_cache_key_changes_with_the_cpu_kernels():
    """Fresh processes: TensorFlow reads TF_ENABLE_ONEDNN_OPTS once, when it loads."""
    code = textwrap.dedent(
        """
        import numpy as np, keras
        from cae_lessons.cache import cache_key, execution_context
        model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(1, 3)])
        x = np.zeros((4, 8, 8, 1), np.float32)
        print(execution_context()["onednn"], cache_key(model, x, x, epochs=1))
        """
    )
    keys = {}
    for value in ("0", "1"):
        env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": value, "TF_CPP_MIN_LOG_LEVEL": "3"}
        run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr[-1500:]
        keys[value] = run.stdout.split()[-2:]
    assert keys["0"][0] == "False" and keys["1"][0] == "True"
    assert keys["0"][1] != keys["1"][1]


def test_a_model_the_cpu_kernels_cannot_run_is_refused_before_fit():
    import keras

    from cae_lessons.shapes import CpuKernelError

    def strided_1x1():
        layers = [
            keras.layers.Conv2D(2, 2, strides=2),
            keras.layers.Conv2DTranspose(1, 1, strides=2),
        ]
        return keras.Sequential([keras.Input((8, 8, 1)), *layers])

    x = np.zeros((4, 8, 8, 1), np.float32)
    with pytest.raises(CpuKernelError, match="a 1-wide kernel with stride 2 along the height"):
        training.train(strided_1x1, x, x, epochs=1, cache=False, progress=False)


def test_a_layer_trace_cannot_read_is_left_to_keras():
    import keras

    def dense():  # Dense acts on the channels: an (8, 8, 1) autoencoder trace does not read
        return keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Dense(1)])

    x = np.zeros((4, 8, 8, 1), np.float32)
    result = training.train(dense, x, x, epochs=1, batch_size=4, cache=False, progress=False)
    assert len(result.history["loss"]) == 1


# --- the recorded gradient norm (ch. 7) -----------------------------------------------------------


def _tiny_model():
    import keras

    from cae_lessons.config import seed_everything

    seed_everything(0)
    return keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(2, 3, padding="same", activation="relu", name="enc"),
            keras.layers.Conv2D(1, 3, padding="same", activation="sigmoid", name="output"),
        ]
    )


def test_recorded_norm_is_that_of_the_mean_loss_fit_optimises():
    import keras
    import tensorflow as tf

    model = _tiny_model()
    batch = np.random.default_rng(0).random((4, 8, 8, 1), dtype=np.float32)
    measured = _gradient_norms(model, keras.losses.get("mse"))(batch)
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError()(batch, model(batch))  # what compile(loss="mse") uses
    kernels = [model.get_layer(name).kernel for name in ("enc", "output")]
    expected = [float(tf.norm(g)) for g in tape.gradient(loss, kernels)]
    np.testing.assert_allclose(list(measured.values()), expected, rtol=1e-5)
    assert list(measured) == ["enc", "output"]


def test_recorded_norm_does_not_grow_with_the_batch():
    """The gradient of a sum would double when every image is repeated; that of a mean does not."""
    import keras

    model = _tiny_model()
    measure = _gradient_norms(model, keras.losses.get("mse"))
    batch = np.random.default_rng(1).random((4, 8, 8, 1), dtype=np.float32)
    once, twice = measure(batch), measure(np.concatenate([batch, batch]))
    np.testing.assert_allclose(list(twice.values()), list(once.values()), rtol=1e-5)


# --- reconstruct ----------------------------------------------------------------------------------


@pytest.fixture
def _seeded():
    """Seed Keras for a test that builds a model with random weights."""
    import keras

    keras.utils.set_random_seed(0)


@pytest.mark.usefixtures("_seeded")
def test_rows_reconstruct_as_predict_does_across_batches():
    x = _images(40)
    model = build_cae((16, 16, 1), filters=(4,), latent_channels=1, name="tiny")
    expected = model.predict(x, batch_size=32, verbose=0)
    np.testing.assert_array_equal(reconstruct(model, x), expected)
