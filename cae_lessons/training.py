"""Seeded, measured, cached training of autoencoders.

:func:`train` fits a Keras autoencoder to reproduce its input and returns a :class:`TrainResult`:
the loss history, wall time, throughput, per-layer gradient norms per epoch and whether the result
came from the cache. Used by every chapter that trains (ch. 3-9); the gradient norms feed ch. 7
("Does a mismatch make training unstable?").

TensorFlow is imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cae_lessons import __version__
from cae_lessons.config import seed_everything

CACHE_VARIABLE = "CAE_LESSONS_CACHE"
PROGRESS_VARIABLE = "CAE_LESSONS_PROGRESS"
_COMPLETE = "COMPLETE.json"
_WEIGHTS = "weights.npz"


class NondeterminismWarning(UserWarning):
    """Some op on this device has no deterministic kernel; training ran non-deterministically."""


class CacheWarning(UserWarning):
    """A cache entry was corrupt or partial and has been retrained."""


@dataclass(frozen=True)
class TrainResult:
    """What one training run produced.

    Attributes
    ----------
    name : str
        The model's name.
    history : dict of str to tuple of float
        Per-epoch ``loss`` and ``val_loss`` (mean squared error unless ``loss`` says otherwise).
    epochs, batch_size, seed : int
        The run's settings.
    seconds : float
        Wall time of the fit (for a cache hit: of the run that filled the cache).
    images_per_second : float
        Training images processed per second of wall time.
    gradient_norms : dict of str to tuple of float
        For each layer with weights, the L2 norm of the loss gradient with respect to its kernel on
        a fixed training batch: before training (index 0) and after every epoch.
    deterministic : bool
        False when the device had no deterministic kernel for some op.
    cache_hit : bool
        True when the weights and this record were loaded from the training cache.
    model : keras.Model
        The trained model (not part of the repr or of equality).
    """

    name: str
    history: dict[str, tuple[float, ...]]
    epochs: int
    batch_size: int
    seed: int
    seconds: float
    images_per_second: float
    gradient_norms: dict[str, tuple[float, ...]]
    deterministic: bool
    cache_hit: bool
    model: Any = field(repr=False, compare=False)

    @property
    def final_loss(self) -> float:
        """Training loss after the last epoch."""
        return self.history["loss"][-1]

    @property
    def final_val_loss(self) -> float:
        """Validation loss after the last epoch."""
        return self.history["val_loss"][-1]

    def __repr__(self) -> str:
        source = "cache" if self.cache_hit else f"{self.seconds:.1f} s"
        return (
            f"TrainResult({self.name}: {self.epochs} epochs, seed {self.seed}, "
            f"loss {self.final_loss:.5f}, val_loss {self.final_val_loss:.5f}, "
            f"{self.images_per_second:.1f} images/s, from {source})"
        )


def default_cache_dir() -> Path:
    """The training cache: ``$CAE_LESSONS_CACHE`` or ``~/.cache/cae-lessons/training``.

    Examples
    --------
    >>> isinstance(default_cache_dir(), Path)
    True
    """
    configured = os.environ.get(CACHE_VARIABLE)
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "cae-lessons" / "training"


def _array_digest(x: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest()


def _architecture(model) -> str:
    """The model's Keras config as JSON with every name replaced by its order of appearance.

    Names do not change what a model computes, and Keras numbers unnamed layers per session
    (``input_layer_3``), so they must not change the cache key.
    """
    config = model.get_config()
    names: list[str] = []

    def collect(node) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("name"), str) and node["name"] not in names:
                names.append(node["name"])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(config)
    text = json.dumps(config, sort_keys=True)
    for position, name in sorted(enumerate(names), key=lambda item: -len(item[1])):
        text = text.replace(json.dumps(name), f'"#{position}"')
    return text


def cache_key(model, x_train: np.ndarray, x_val: np.ndarray, **settings) -> str:
    """A hex digest of everything that decides a training result.

    The model's architecture (its Keras config, names aside), the data, the training settings and
    the versions of TensorFlow, Keras, NumPy and this package: change any and the key changes.
    """
    import keras
    import tensorflow as tf

    payload = {
        "model": _architecture(model),
        "x_train": _array_digest(x_train),
        "x_val": _array_digest(x_val),
        "settings": settings,
        "versions": [tf.__version__, keras.__version__, np.__version__, __version__],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


def _check_arrays(model, x_train: np.ndarray, x_val: np.ndarray) -> None:
    for label, x in (("x_train", x_train), ("x_val", x_val)):
        if not isinstance(x, np.ndarray):
            raise TypeError(f"{label} must be a NumPy array, got {type(x).__name__}.")
        if x.ndim != 4 or x.dtype != np.float32:
            raise ValueError(
                f"{label} must be (N, H, W, C) float32, got shape {x.shape} dtype {x.dtype}. "
                "load_mri_data() returns arrays in this form."
            )
        if len(x) == 0:
            raise ValueError(f"{label} is empty: shape {x.shape}; pass at least one image.")
    expected = tuple(model.input_shape[1:])
    for label, x in (("x_train", x_train), ("x_val", x_val)):
        if any(e is not None and e != s for e, s in zip(expected, x.shape[1:], strict=True)):
            raise ValueError(
                f"{label} images have shape {x.shape[1:]} but the model expects {expected}. "
                "Resize the data (load_mri_data(size=...)) or build the model for this shape."
            )


def _gradient_norms(model, batch: np.ndarray, loss_fn) -> dict[str, float]:
    import tensorflow as tf

    with tf.GradientTape() as tape:
        loss = loss_fn(batch, model(batch, training=False))
    kernels = [(layer.name, w) for layer in model.layers for w in layer.trainable_weights[:1]]
    grads = tape.gradient(loss, [w for _, w in kernels])
    return {name: float(tf.norm(g)) for (name, _), g in zip(kernels, grads, strict=True)}


def _progress_enabled(progress: bool | None) -> bool:
    if progress is not None:
        return progress
    return os.environ.get(PROGRESS_VARIABLE, "1") != "0"


def _progress_line(model_name: str):
    """A function that shows one line of progress, rewritten in place.

    In a notebook kernel it updates one display (so a stored notebook keeps one line per run);
    in a terminal it rewrites the line with a carriage return.
    """
    try:
        from IPython import get_ipython
        from IPython.display import Pretty, display
    except ImportError:  # IPython is optional outside notebooks
        get_ipython = None
    if get_ipython is not None and getattr(get_ipython(), "kernel", None) is not None:
        handle = display(Pretty(f"{model_name}: starting"), display_id=True)
        return lambda text, last: handle.update(Pretty(text))

    def write(text: str, last: bool) -> None:
        sys.stdout.write(f"\r{text}" + ("\n" if last else ""))
        sys.stdout.flush()

    return write


def _make_callbacks(model_name: str, epochs: int, batch, loss_fn, norms, show_progress: bool):
    import keras

    show = _progress_line(model_name) if show_progress else None

    class _Monitor(keras.callbacks.Callback):
        """Records gradient norms after each epoch and rewrites one progress line."""

        def on_epoch_end(self, epoch, logs=None):
            for name, value in _gradient_norms(self.model, batch, loss_fn).items():
                norms[name].append(value)
            if show is not None:
                logs = logs or {}
                show(
                    f"{model_name}: epoch {epoch + 1}/{epochs}  loss {logs.get('loss', 0):.5f}"
                    f"  val_loss {logs.get('val_loss', 0):.5f}",
                    epoch + 1 == epochs,
                )

    return [_Monitor()]


def _is_determinism_error(error: Exception) -> bool:
    return "determinis" in str(error).lower()


def _disable_op_determinism() -> None:
    from tensorflow.python.framework import config as tf_config

    tf_config.disable_op_determinism()


def _fit(model, x_train, x_val, *, epochs, batch_size, seed, loss, callbacks, show_progress):
    """Compile and fit once; return (history, seconds, gradient norms, deterministic)."""
    import keras

    loss_fn = keras.losses.get(loss)
    batch = x_train[np.random.default_rng(seed).permutation(len(x_train))[:batch_size]]
    norms = {name: [value] for name, value in _gradient_norms(model, batch, loss_fn).items()}
    monitor = _make_callbacks(model.name, epochs, batch, loss_fn, norms, show_progress)
    initial = model.get_weights()

    def fit():
        return model.fit(
            x_train,
            x_train,
            validation_data=(x_val, x_val),
            epochs=epochs,
            batch_size=batch_size,
            shuffle=True,
            verbose=0,
            callbacks=[*monitor, *callbacks],
        )

    deterministic = True
    start = time.perf_counter()
    try:
        history = fit()
    except Exception as error:  # TF raises several types for a missing deterministic kernel
        if not _is_determinism_error(error):
            raise
        warnings.warn(
            "An operation in this model has no deterministic implementation on this device "
            f"({type(error).__name__}); training again without op determinism, so repeated runs "
            "may differ slightly.",
            NondeterminismWarning,
            stacklevel=3,
        )
        _disable_op_determinism()
        deterministic = False
        model.set_weights(initial)
        for values in norms.values():
            del values[1:]
        seed_everything(seed, deterministic=False)
        start = time.perf_counter()
        history = fit()
    seconds = time.perf_counter() - start
    record = {k: tuple(float(v) for v in values) for k, values in history.history.items()}
    return record, seconds, {k: tuple(v) for k, v in norms.items()}, deterministic


def _load_cached(entry: Path, model) -> dict | None:
    """Return the stored record if the entry is complete and its weights load, else None."""
    marker = entry / _COMPLETE
    weights = entry / _WEIGHTS
    if not entry.exists():
        return None
    try:
        record = json.loads(marker.read_text())
        digest = hashlib.sha256(weights.read_bytes()).hexdigest()
        if digest != record["weights_sha256"]:
            raise ValueError("weights checksum mismatch")
        with np.load(weights, allow_pickle=False) as stored:
            model.set_weights([stored[f"arr_{i}"] for i in range(len(stored.files))])
    except Exception as error:  # any damage means: retrain, never load silently
        warnings.warn(
            f"Training cache entry {entry} is corrupt or partial ({type(error).__name__}: "
            f"{error}); retraining it.",
            CacheWarning,
            stacklevel=3,
        )
        shutil.rmtree(entry, ignore_errors=True)
        return None
    return record


def _store(entry: Path, model, record: dict) -> None:
    partial = entry.with_name(entry.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    np.savez(partial / _WEIGHTS, *model.get_weights())
    record = {
        **record,
        "weights_sha256": hashlib.sha256((partial / _WEIGHTS).read_bytes()).hexdigest(),
    }
    (partial / _COMPLETE).write_text(json.dumps(record))
    shutil.rmtree(entry, ignore_errors=True)
    partial.rename(entry)


def train(
    model,
    x_train: np.ndarray,
    x_val: np.ndarray,
    *,
    epochs: int,
    batch_size: int = 16,
    loss: str = "mse",
    seed: int = 0,
    learning_rate: float = 1e-3,
    strategy=None,
    callbacks: Sequence = (),
    cache: bool | str | os.PathLike = True,
    progress: bool | None = None,
) -> TrainResult:
    """Train an autoencoder to reproduce its input, seeded, measured and cached.

    Parameters
    ----------
    model : keras.Model or callable
        The autoencoder, or a zero-argument function that builds it. With ``strategy`` it must be
        a function, so that the model is created inside ``strategy.scope()``.
    x_train, x_val : (N, H, W, C) float32
        Training and validation images in [0, 1] (e.g. from ``load_mri_data``).
    epochs, batch_size : int
        Read them from the execution profile (``resolve_profile().epochs``) in chapters.
    loss : str
        A Keras loss name; the model is compiled with Adam at ``learning_rate``.
    seed : int
        Seeds Python, NumPy and TensorFlow and turns on deterministic ops: the same seed gives the
        same numbers on the same machine. Where a device has no deterministic kernel for some op
        (e.g. some GPU gradients) a :class:`NondeterminismWarning` says so once and training runs
        without determinism instead of crashing.
    strategy : tf.distribute.Strategy, optional
        E.g. ``MirroredStrategy()`` on several GPUs, ``MultiWorkerMirroredStrategy()`` across
        machines.
    callbacks : sequence of keras.callbacks.Callback
        Extra callbacks passed to ``fit``.
    cache : bool or path
        True (default) uses :func:`default_cache_dir`; a path uses that folder; False disables it.
        Entries are keyed by :func:`cache_key`; a corrupt or partial entry is retrained.
    progress : bool, optional
        One progress line per run (rewritten every epoch). Default: on, unless
        ``$CAE_LESSONS_PROGRESS=0`` (set by ``make notebooks`` so nbval sees no progress text).

    Returns
    -------
    TrainResult

    Raises
    ------
    TypeError
        If the data are not NumPy arrays, or ``strategy`` is given with a built model.
    ValueError
        If the data are not ``(N, H, W, C) float32`` or do not fit the model's input.

    Examples
    --------
    >>> import numpy as np, keras
    >>> def tiny():
    ...     return keras.Sequential(
    ...         [keras.Input((8, 8, 1)), keras.layers.Conv2D(1, 3, padding="same", name="conv")],
    ...         name="tiny",
    ...     )
    >>> x = np.random.default_rng(0).random((8, 8, 8, 1), dtype=np.float32)
    >>> result = train(tiny, x, x, epochs=2, batch_size=4, cache=False, progress=False)
    >>> len(result.history["val_loss"]), list(result.gradient_norms)
    (2, ['conv'])
    """
    import keras

    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1, got {epochs} and {batch_size}.")
    seed_everything(seed)
    if strategy is not None:
        if not callable(model) or isinstance(model, keras.Model):
            raise TypeError(
                "With strategy=..., pass a function that builds the model (e.g. "
                "lambda: build_cae(...)), not a built model, so it is created in strategy.scope()."
            )
        with strategy.scope():
            model = model()
            model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
    else:
        if not isinstance(model, keras.Model):
            model = model()
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
    _check_arrays(model, x_train, x_val)

    settings = {
        "epochs": epochs,
        "batch_size": batch_size,
        "loss": loss,
        "seed": seed,
        "learning_rate": learning_rate,
    }
    entry = None
    if cache is not False:
        folder = default_cache_dir() if cache is True else Path(cache)
        entry = folder / f"{model.name}-{cache_key(model, x_train, x_val, **settings)}"
        record = _load_cached(entry, model)
        if record is not None:
            return _result(model, record, settings, cache_hit=True)

    history, seconds, norms, deterministic = _fit(
        model,
        x_train,
        x_val,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        loss=loss,
        callbacks=list(callbacks),
        show_progress=_progress_enabled(progress),
    )
    record = {
        "history": history,
        "seconds": seconds,
        "images_per_second": len(x_train) * epochs / seconds,
        "gradient_norms": norms,
        "deterministic": deterministic,
    }
    if entry is not None:
        _store(entry, model, record)
    return _result(model, record, settings, cache_hit=False)


def _result(model, record: dict, settings: dict, *, cache_hit: bool) -> TrainResult:
    return TrainResult(
        name=model.name,
        history={k: tuple(v) for k, v in record["history"].items()},
        epochs=settings["epochs"],
        batch_size=settings["batch_size"],
        seed=settings["seed"],
        seconds=record["seconds"],
        images_per_second=record["images_per_second"],
        gradient_norms={k: tuple(v) for k, v in record["gradient_norms"].items()},
        deterministic=record["deterministic"],
        cache_hit=cache_hit,
        model=model,
    )


def reconstruct(result_or_model, x: np.ndarray, batch_size: int = 32) -> np.ndarray:
    """Run a trained autoencoder on ``x`` and return ``(N, H, W, C) float32`` reconstructions."""
    model = getattr(result_or_model, "model", result_or_model)
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float32)
