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
import numbers
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
RECORD_FORMAT = 3
"""Version of what a cache entry stores. 2: gradient norms of the mean loss that ``fit``
optimises (format 1 stored those of the per-pixel sum, N·H·W times larger), so no entry written
before that fix is ever served."""
_WEIGHTS = "weights.npz"
_EPOCH_WEIGHTS = "epoch_weights.npz"


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
    epoch_weights : list of list of ndarray
        The model's weights before training (index 0) and after each epoch it ran, for
        ``reconstruct(result, x, epoch=k)`` (not part of the repr or of equality).
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
    epoch_weights: Any = field(default=(), repr=False, compare=False)

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


_PLAIN = (bool, int, float, str, type(None))


def _plain(value) -> bool:
    if isinstance(value, list | tuple):
        return all(_plain(v) for v in value)
    return isinstance(value, _PLAIN)


def callback_config(callback) -> dict:
    """The class and constructor arguments of a Keras callback, as the training cache keys them.

    Each argument of the callback's ``__init__`` is read back from the attribute of the same name
    (as Keras' ``EarlyStopping``, ``ReduceLROnPlateau`` and ``TerminateOnNaN`` store them).

    Raises
    ------
    TypeError
        If an argument is not stored under its own name or is not a plain value (bool, int,
        float, str, None or a list of them): the cache cannot tell two such callbacks apart, so
        it refuses rather than serve one's run for the other.

    Examples
    --------
    >>> import keras
    >>> config = callback_config(keras.callbacks.EarlyStopping(patience=3))
    >>> config["class"], config["arguments"]["patience"], config["arguments"]["monitor"]
    ('keras.src.callbacks.early_stopping.EarlyStopping', 3, 'val_loss')
    """
    import inspect

    kind = type(callback)
    arguments = {}
    for name, parameter in inspect.signature(kind.__init__).parameters.items():
        if name == "self" or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        missing = not hasattr(callback, name)
        value = getattr(callback, name, None)
        if missing or not _plain(value):
            what = "not stored as an attribute" if missing else f"a {type(value).__name__}"
            raise TypeError(
                f"The training cache cannot key the callback {kind.__name__}: its argument "
                f"{name!r} is {what}, so two different callbacks could share one cache entry. "
                "Pass cache=False to train with it."
            )
        arguments[name] = list(value) if isinstance(value, tuple) else value
    return {"class": f"{kind.__module__}.{kind.__qualname__}", "arguments": arguments}


def execution_context(strategy=None) -> dict:
    """What, besides the model, data and settings, changes a run's numbers on this machine.

    The device kind (``'GPU'`` when TensorFlow sees one, else ``'CPU'``), whether TensorFlow's
    oneDNN CPU kernels are on, the intra-op thread count (TensorFlow's default is the number of
    cores this process may use), and the distribution strategy with its replica count. Part of
    :func:`cache_key`.

    Examples
    --------
    >>> context = execution_context()
    >>> sorted(context), context["strategy"], context["replicas"]
    (['device', 'onednn', 'replicas', 'strategy', 'threads'], None, 1)
    """
    import tensorflow as tf

    from cae_lessons.config import onednn_enabled

    threads = tf.config.threading.get_intra_op_parallelism_threads()
    return {
        "device": "GPU" if tf.config.list_logical_devices("GPU") else "CPU",
        "onednn": onednn_enabled(),
        "threads": threads or len(os.sched_getaffinity(0)),
        "strategy": None if strategy is None else type(strategy).__name__,
        "replicas": 1 if strategy is None else int(strategy.num_replicas_in_sync),
    }


def cache_key(
    model,
    x_train: np.ndarray,
    x_val: np.ndarray,
    *,
    strategy=None,
    callbacks: Sequence = (),
    **settings,
) -> str:
    """A hex digest of everything that decides a training result.

    The model's architecture (its Keras config, names aside), the data, the training settings,
    the extra callbacks (:func:`callback_config`), where and how it runs
    (:func:`execution_context`: device kind, oneDNN kernels, threads, strategy and replicas), the
    versions of TensorFlow, Keras, NumPy and this package, and the format of the stored record
    (:data:`RECORD_FORMAT`): change any and the key changes.
    """
    import keras
    import tensorflow as tf

    payload = {
        "model": _architecture(model),
        "x_train": _array_digest(x_train),
        "x_val": _array_digest(x_val),
        "settings": settings,
        "callbacks": [callback_config(c) for c in callbacks],
        "execution": execution_context(strategy),
        "versions": [tf.__version__, keras.__version__, np.__version__, __version__],
        "record": RECORD_FORMAT,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


def _check_cpu_kernels(model) -> None:
    """Refuse a model that oneDNN's CPU kernels cannot run (``shapes.check_cpu_kernels``).

    Only a model whose layers :func:`cae_lessons.shapes.trace` can read is checked; Keras and
    TensorFlow judge the rest.
    """
    from cae_lessons.shapes import CpuKernelError, check_cpu_kernels

    try:
        check_cpu_kernels(model)
    except CpuKernelError:
        raise
    except ValueError:  # a layer trace does not know
        return


def _check_replica_batches(strategy, batch_size: int, x_train, x_val) -> None:
    """Refuse batches that do not split evenly over the replicas, before TensorFlow runs.

    Under a strategy Keras splits every batch, the last partial one included, over the replicas;
    an uneven split fails inside ``fit`` with an error that names neither (an ``AddN`` shape
    error), and a replica left with no images aborts TensorFlow's oneDNN CPU kernels.
    """
    replicas = int(strategy.num_replicas_in_sync)
    if batch_size % replicas:
        lower = max(replicas, batch_size - batch_size % replicas)
        raise ValueError(
            f"batch_size={batch_size} does not split evenly over {replicas} replicas: "
            f"{strategy.__class__.__name__} gives each replica batch_size / {replicas} images. "
            f"Use a multiple of {replicas}, e.g. batch_size={lower} or {lower + replicas}."
        )
    for label, x in (("x_train", x_train), ("x_val", x_val)):
        last = len(x) % batch_size
        if last % replicas:
            raise ValueError(
                f"{label} has {len(x)} images: its last batch of {last} does not split evenly "
                f"over {replicas} replicas (batch_size={batch_size}). Drop {last % replicas} "
                f"image(s) or add {replicas - last % replicas}, so that len({label}) % "
                f"batch_size is a multiple of {replicas}."
            )


def _check_images(label: str, x) -> None:
    """Refuse anything but an ``(N, H, W, C) float32`` NumPy array, naming ``label``."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{label} must be a NumPy array, got {type(x).__name__}.")
    if x.ndim != 4 or x.dtype != np.float32:
        raise ValueError(
            f"{label} must be (N, H, W, C) float32, got shape {x.shape} dtype {x.dtype}. "
            "load_mri_data() returns arrays in this form."
        )


def _check_arrays(model, x_train: np.ndarray, x_val: np.ndarray) -> None:
    for label, x in (("x_train", x_train), ("x_val", x_val)):
        _check_images(label, x)
        if len(x) == 0:
            raise ValueError(f"{label} is empty: shape {x.shape}; pass at least one image.")
    expected = tuple(model.input_shape[1:])
    for label, x in (("x_train", x_train), ("x_val", x_val)):
        if any(e is not None and e != s for e, s in zip(expected, x.shape[1:], strict=True)):
            raise ValueError(
                f"{label} images have shape {x.shape[1:]} but the model expects {expected}. "
                "Resize the data (load_mri_data(size=...)) or build the model for this shape."
            )


def _gradient_norms(model, loss_fn):
    """A function ``batch -> {layer: norm}``, compiled once per fit (eagerly it costs ~0.2 s)."""
    import tensorflow as tf

    kernels = [(layer.name, w) for layer in model.layers for w in layer.trainable_weights[:1]]

    # No tensor-dependent control flow: nothing for AutoGraph to convert (on Python 3.13 it cannot
    # convert this closure and warns, then runs it as-is anyway).
    @tf.function(autograph=False)
    def compiled(batch):
        with tf.GradientTape() as tape:
            # The mean, as fit() optimises it: a Keras loss returns one value per pixel, and the
            # gradient of that unreduced tensor would be the gradient of its sum (N·H·W × larger).
            loss = tf.reduce_mean(loss_fn(batch, model(batch, training=False)))
        return [tf.norm(g) for g in tape.gradient(loss, [w for _, w in kernels])]

    def measure(batch: np.ndarray) -> dict[str, float]:
        values = compiled(tf.constant(batch))
        return {name: float(v) for (name, _), v in zip(kernels, values, strict=True)}

    return measure


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


def _make_callbacks(
    model_name: str, epochs: int, batch, measure, norms, weights, show_progress: bool
):
    import keras

    show = _progress_line(model_name) if show_progress else None

    class _Monitor(keras.callbacks.Callback):
        """Records gradient norms and weights after each epoch, rewrites one progress line."""

        def on_epoch_end(self, epoch, logs=None):
            for name, value in measure(batch).items():
                norms[name].append(value)
            weights.append(self.model.get_weights())
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
    """Compile and fit once; return (history, seconds, gradient norms, deterministic, weights
    before training and after each epoch)."""
    import keras

    loss_fn = keras.losses.get(loss)
    batch = x_train[np.random.default_rng(seed).permutation(len(x_train))[:batch_size]]
    measure = _gradient_norms(model, loss_fn)
    norms = {name: [value] for name, value in measure(batch).items()}
    initial = model.get_weights()
    weights = [initial]
    monitor = _make_callbacks(model.name, epochs, batch, measure, norms, weights, show_progress)

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
        for values in (*norms.values(), weights):
            del values[1:]
        seed_everything(seed, deterministic=False)
        start = time.perf_counter()
        history = fit()
    seconds = time.perf_counter() - start
    record = {k: tuple(float(v) for v in values) for k, values in history.history.items()}
    return record, seconds, {k: tuple(v) for k, v in norms.items()}, deterministic, weights


def _compiled(model, loss: str, learning_rate: float):
    """Compile with Adam and create its slots now: built lazily, they are created while ``fit``
    traces its first step, and TensorFlow then traces that step a second time (about 3 s per
    run on two CPU cores: ``benchmarks/cpu_training.py``). Same variables, same values,
    bit-identical training."""
    import keras

    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
    model.optimizer.build(model.trainable_variables)
    return model


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _arrays(path: Path, sha256: str) -> list[np.ndarray]:
    if _sha256(path) != sha256:
        raise ValueError(f"{path.stem} checksum mismatch")
    with np.load(path, allow_pickle=False) as stored:
        return [stored[f"arr_{i}"] for i in range(len(stored.files))]


def _load_cached(entry: Path, model) -> tuple[dict, list] | None:
    """The stored record and per-epoch weights if the entry is complete and its weights load."""
    if not entry.exists():
        return None
    try:
        record = json.loads((entry / _COMPLETE).read_text())
        flat = _arrays(entry / _EPOCH_WEIGHTS, record["epoch_weights_sha256"])
        n = len(model.weights)
        epoch_weights = [flat[i : i + n] for i in range(0, len(flat), n)]
        # last, so that any failure above leaves the model untrained for the retraining
        model.set_weights(_arrays(entry / _WEIGHTS, record["weights_sha256"]))
    except Exception as error:  # any damage means: retrain, never load silently
        warnings.warn(
            f"Training cache entry {entry} is corrupt or partial ({type(error).__name__}: "
            f"{error}); retraining it.",
            CacheWarning,
            stacklevel=3,
        )
        shutil.rmtree(entry, ignore_errors=True)
        return None
    return record, epoch_weights


def _store(entry: Path, model, record: dict, epoch_weights: list) -> None:
    partial = entry.with_name(entry.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    np.savez(partial / _WEIGHTS, *model.get_weights())
    np.savez(partial / _EPOCH_WEIGHTS, *(w for weights in epoch_weights for w in weights))
    record = {
        **record,
        "weights_sha256": _sha256(partial / _WEIGHTS),
        "epoch_weights_sha256": _sha256(partial / _EPOCH_WEIGHTS),
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
        machines. Every batch, the last partial ones included, must split evenly over its
        replicas. The strategy and its replica count are part of the cache key.
    callbacks : sequence of keras.callbacks.Callback
        Extra callbacks passed to ``fit`` (e.g. ``EarlyStopping``); their classes and arguments
        are part of the cache key (:func:`callback_config`).
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
        If the data are not NumPy arrays, ``strategy`` is given with a built model, or a
        callback cannot be keyed by the cache (pass ``cache=False``).
    ValueError
        If the data are not ``(N, H, W, C) float32`` or do not fit the model's input, if
        TensorFlow's oneDNN CPU kernels cannot run the model
        (:func:`cae_lessons.shapes.check_cpu_kernels`), or, with a strategy, if a batch does not
        split evenly over the replicas.

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
            model = _compiled(model(), loss, learning_rate)
    else:
        model = _compiled(model if isinstance(model, keras.Model) else model(), loss, learning_rate)
    _check_arrays(model, x_train, x_val)
    _check_cpu_kernels(model)
    if strategy is not None:
        _check_replica_batches(strategy, batch_size, x_train, x_val)

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
        key = cache_key(model, x_train, x_val, strategy=strategy, callbacks=callbacks, **settings)
        entry = folder / f"{model.name}-{key}"
        cached = _load_cached(entry, model)
        if cached is not None:
            record, epoch_weights = cached
            return _result(model, record, settings, cache_hit=True, epoch_weights=epoch_weights)

    history, seconds, norms, deterministic, epoch_weights = _fit(
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
        _store(entry, model, record, epoch_weights)
    return _result(model, record, settings, cache_hit=False, epoch_weights=epoch_weights)


def _result(model, record: dict, settings: dict, *, cache_hit: bool, epoch_weights) -> TrainResult:
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
        epoch_weights=epoch_weights,
    )


def _row_named(rows, attribute: str, value: str, what: str):
    """The row whose ``attribute`` is ``value``, or a KeyError that lists what there is."""
    for row in rows:
        if getattr(row, attribute) == value:
            return row
    names = [getattr(row, attribute) for row in rows]
    raise KeyError(f"no {what} {value!r}; the {what}s are {names}.")


def reconstruct(
    result_or_model, x: np.ndarray, batch_size: int = 32, *, epoch: int | None = None
) -> np.ndarray:
    """Run a trained autoencoder on ``x`` and return ``(N, H, W, C) float32`` reconstructions.

    It calls the model batch by batch, with the same numbers as ``model.predict`` (tested), but
    ``predict`` compiles a function per model, and TensorFlow prints a "retracing" warning into a
    chapter's output when the chapter runs many models in a row.

    Parameters
    ----------
    result_or_model : TrainResult or keras.Model
    x : (N, H, W, C) float32
    batch_size : int
    epoch : int, optional
        With a :class:`TrainResult`: the weights after this epoch (0: before training) instead of
        the trained model's. The model's own weights are put back afterwards.

    Raises
    ------
    ValueError
        If ``epoch`` is outside the run or ``result_or_model`` has no per-epoch weights.
    """
    model = getattr(result_or_model, "model", result_or_model)
    if epoch is None:
        batches = [
            model(x[i : i + batch_size], training=False) for i in range(0, len(x), batch_size)
        ]
        return np.concatenate([np.asarray(y, dtype=np.float32) for y in batches])
    stored = getattr(result_or_model, "epoch_weights", ())
    if not stored:
        raise ValueError(
            f"reconstruct(..., epoch={epoch!r}) needs the TrainResult that train() returned (it "
            f"holds the weights of every epoch), got {type(result_or_model).__name__} without "
            "them."
        )
    if (
        isinstance(epoch, bool)
        or not isinstance(epoch, numbers.Integral)
        or not 0 <= epoch < len(stored)
    ):
        raise ValueError(
            f"epoch must be an int from 0 (before training) to {len(stored) - 1} (the last epoch "
            f"this run trained), got {epoch!r}."
        )
    trained = model.get_weights()
    model.set_weights(stored[int(epoch)])
    try:
        return reconstruct(model, x, batch_size)
    finally:
        model.set_weights(trained)


def epoch_reconstructions(result: TrainResult, x: np.ndarray) -> list[np.ndarray]:
    """``reconstruct(result, x, epoch=k)`` after each epoch ``k`` the run trained, in order.

    What :func:`cae_lessons.widgets.reconstruction_explorer` takes per model to show how a
    reconstruction forms epoch by epoch.

    Examples
    --------
    >>> import keras
    >>> def tiny():
    ...     return keras.Sequential(
    ...         [keras.Input((8, 8, 1)), keras.layers.Conv2D(1, 3, padding="same")], name="tiny"
    ...     )
    >>> x = np.random.default_rng(0).random((8, 8, 8, 1), dtype=np.float32)
    >>> result = train(tiny, x, x, epochs=3, batch_size=4, cache=False, progress=False)
    >>> [y.shape for y in epoch_reconstructions(result, x[:2])]
    [(2, 8, 8, 1), (2, 8, 8, 1), (2, 8, 8, 1)]
    """
    epochs = len(result.history["loss"])
    return [reconstruct(result, x, epoch=k) for k in range(1, epochs + 1)]


# --------------------------------------------------------------------------- ch. 7: gradient norms

VANISHING_NORM = 1e-7
"""Default vanishing threshold: Keras' Adam epsilon. A kernel whose gradient's L2 norm is below it
has every entry below it, where Adam's normalisation can no longer scale the step back up."""
EXPLODING_NORM = 1e3
"""Default exploding threshold for a kernel's gradient norm (of the mean loss, images in [0, 1])."""


def _norm_table(name: str, run) -> np.ndarray:
    """One run's gradient norms as a (layers, records) float64 array."""
    norms = getattr(run, "gradient_norms", None)
    if not isinstance(norms, dict) or not isinstance(getattr(run, "history", None), dict):
        raise TypeError(
            f"runs[{name!r}] must hold TrainResult objects (from train()), got "
            f"{type(run).__name__}."
        )
    if not norms:
        raise ValueError(f"runs[{name!r}] has a run with no gradient norms: no layer has weights.")
    lengths = {len(values) for values in norms.values()}
    if len(lengths) != 1:
        raise ValueError(
            f"runs[{name!r}] has a run whose layers have different numbers of records "
            f"{sorted(lengths)}; every layer needs one norm before training and one per epoch."
        )
    return np.array([values for values in norms.values()], dtype=np.float64)


def _ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1), np.inf)


@dataclass(frozen=True)
class GradientSummary:
    """Per-layer gradient norms of one design over its training seeds (ch. 7).

    Every ratio is of the L2 norms of the loss gradient with respect to each layer's kernel, on
    the fixed batch that :func:`train` records them on: before training and after every epoch.

    Attributes
    ----------
    name : str
        The design.
    layers : tuple of str
        Layers with weights, from input to output.
    seeds, epochs : int
        Runs summarised, and epochs per run.
    median_before, median_after : float
        Median norm over layers and seeds, before training and after the last epoch.
    first_last_before, first_last_after : float
        First layer's norm over the last layer's: geometric mean over seeds. Well below 1 is the
        textbook picture of vanishing gradients (the layers nearest the input learn slowest).
    first_last_min : float
        The smallest first/last ratio of any seed and record.
    spread_before, spread_after : float
        Largest over smallest norm across layers, the worst seed.
    spread_max : float
        The same, the worst seed and record (before training or after any epoch).
    smallest, largest : float
        Smallest and largest norm of any layer, record and seed.
    vanishing_below, exploding_above : float
        The thresholds that :attr:`vanishing` and :attr:`exploding` use.
    loss, val_loss : float
        Training and validation loss after the last epoch, mean over seeds.
    """

    name: str
    layers: tuple[str, ...]
    seeds: int
    epochs: int
    median_before: float
    median_after: float
    first_last_before: float
    first_last_after: float
    first_last_min: float
    spread_before: float
    spread_after: float
    spread_max: float
    smallest: float
    largest: float
    vanishing_below: float
    exploding_above: float
    loss: float
    val_loss: float

    @property
    def vanishing(self) -> bool:
        """True if any layer's norm fell below :attr:`vanishing_below` in any record and seed."""
        return self.smallest < self.vanishing_below

    @property
    def exploding(self) -> bool:
        """True if any norm was not finite or grew past :attr:`exploding_above`."""
        return bool(not np.isfinite(self.largest) or self.largest > self.exploding_above)

    def _cells(self) -> list[str]:
        return [
            self.name,
            str(self.seeds),
            f"{self.median_before:.2e} → {self.median_after:.2e}",
            f"{self.first_last_before:.3g} → {self.first_last_after:.3g} "
            f"({self.first_last_min:.3g})",
            f"{self.spread_before:.3g} → {self.spread_after:.3g} ({self.spread_max:.3g})",
            f"{self.smallest:.2e}",
            f"{self.largest:.2e}",
            "yes" if self.vanishing else "no",
            "yes" if self.exploding else "no",
            f"{self.loss:.5f}",
            f"{self.val_loss:.5f}",
        ]

    def __repr__(self) -> str:
        return (
            f"GradientSummary({self.name}: {len(self.layers)} layers, {self.seeds} seeds, "
            f"first/last {self.first_last_before:.3g} → {self.first_last_after:.3g} (min "
            f"{self.first_last_min:.3g}), spread "
            f"{self.spread_before:.3g} → {self.spread_after:.3g} (max {self.spread_max:.3g}), "
            f"vanishing {'yes' if self.vanishing else 'no'}, "
            f"exploding {'yes' if self.exploding else 'no'})"
        )


_GRADIENT_HEADERS = [
    "design",
    "seeds",
    "median norm before → after",
    "first/last before → after (min)",
    "spread before → after (max)",
    "smallest",
    "largest",
    "vanishing",
    "exploding",
    "loss",
    "val_loss",
]


@dataclass(frozen=True)
class GradientReport:
    """One :class:`GradientSummary` per design, shown as a table (ch. 7).

    Index it by design name: ``report["matched"]``.
    """

    rows: tuple[GradientSummary, ...]

    def __getitem__(self, name: str) -> GradientSummary:
        return _row_named(self.rows, "name", name, "design")

    def _caption(self) -> str:
        first = self.rows[0]
        return (
            f"L2 norms of each kernel's gradient; ratios over seeds (geometric mean for "
            f"first/last, worst seed for spread); vanishing below {first.vanishing_below:g}, "
            f"exploding above {first.exploding_above:g}; losses are means over seeds"
        )

    def __repr__(self) -> str:
        from cae_lessons.metrics import _text_table

        table = _text_table(_GRADIENT_HEADERS, [row._cells() for row in self.rows])
        return f"{table}\n({self._caption()})"

    def _repr_html_(self) -> str:
        from cae_lessons.metrics import _html_table

        return _html_table(_GRADIENT_HEADERS, [row._cells() for row in self.rows], self._caption())


def summarize_gradients(
    runs,
    *,
    vanishing_below: float = VANISHING_NORM,
    exploding_above: float = EXPLODING_NORM,
) -> GradientReport:
    """Summarise the per-layer gradient norms of several designs, each trained with several seeds.

    Used by ch. 7 ("Does a mismatch make training unstable?") to test the claim that size
    mismatches cause vanishing or exploding gradients: for each design, how the first layer's
    gradient compares with the last layer's, how far apart the layers' gradients are (spread),
    before training and after it, and whether any norm crossed a threshold.

    Parameters
    ----------
    runs : mapping of str to TrainResult or sequence of TrainResult
        Design name → its runs (one per seed), all with the same layers and epochs.
    vanishing_below, exploding_above : float
        Thresholds on a kernel's gradient norm, ``0 < vanishing_below < exploding_above``.

    Returns
    -------
    GradientReport

    Raises
    ------
    TypeError
        If ``runs`` is not a mapping, or holds something other than TrainResult objects.
    ValueError
        If ``runs`` or a design is empty, the runs of one design differ in layers or epochs, or
        the thresholds are not ordered positive numbers.

    Examples
    --------
    >>> def run(seed, first, last):  # a TrainResult as train() returns it, without a model
    ...     norms = {"enc": (first, first * 2), "output": (last, last)}
    ...     history = {"loss": (0.1, 0.05), "val_loss": (0.1, 0.06)}
    ...     return TrainResult("toy", history, 1, 8, seed, 1.0, 8.0, norms, True, False, None)
    >>> report = summarize_gradients({"toy": [run(0, 1e-3, 1e-2), run(1, 4e-3, 1e-2)]})
    >>> row = report["toy"]
    >>> round(row.first_last_before, 3), row.spread_max, row.vanishing, row.exploding
    (0.2, 10.0, False, False)
    >>> report
    design  seeds  median norm before → after  first/last before → after (min)  ...  val_loss
    toy     2      7.00e-03 → 9.00e-03         0.2 → 0.4 (0.1)                  ...  0.06000
    (L2 norms of each kernel's gradient; ...)
    """
    from collections.abc import Mapping

    if not isinstance(runs, Mapping):
        raise TypeError(
            f"runs must be a mapping {{design: [TrainResult, ...]}}, got {type(runs).__name__}."
        )
    if not runs:
        raise ValueError("runs is empty; pass at least one {design: [TrainResult, ...]} entry.")
    thresholds = (vanishing_below, exploding_above)
    if not all(isinstance(t, int | float) and bool(np.isfinite(t)) for t in thresholds) or not (
        0 < vanishing_below < exploding_above
    ):
        raise ValueError(
            f"thresholds must satisfy 0 < vanishing_below < exploding_above, got "
            f"vanishing_below={vanishing_below!r}, exploding_above={exploding_above!r}."
        )
    rows = []
    for name, entry in runs.items():
        seeds = [entry] if hasattr(entry, "gradient_norms") else entry
        if not isinstance(seeds, Sequence) or isinstance(seeds, str) or not seeds:
            raise ValueError(f"runs[{name!r}] holds no run; pass at least one TrainResult.")
        tables = [_norm_table(name, run) for run in seeds]
        layers = [tuple(run.gradient_norms) for run in seeds]
        if len(set(layers)) != 1 or len({t.shape for t in tables}) != 1:
            raise ValueError(
                f"the runs of {name!r} differ in layers or epochs ({[t.shape for t in tables]} "
                "(layers, records)); summarise one design per entry, trained for the same epochs."
            )
        norms = np.stack(tables)  # (seeds, layers, records)
        first_last = _ratio(norms[:, 0], norms[:, -1])
        spread = _ratio(norms.max(axis=1), norms.min(axis=1))
        with np.errstate(divide="ignore"):
            log_first_last = np.log(first_last)
        rows.append(
            GradientSummary(
                name=str(name),
                layers=layers[0],
                seeds=len(seeds),
                epochs=norms.shape[2] - 1,
                median_before=float(np.median(norms[:, :, 0])),
                median_after=float(np.median(norms[:, :, -1])),
                first_last_before=float(np.exp(log_first_last[:, 0].mean())),
                first_last_after=float(np.exp(log_first_last[:, -1].mean())),
                first_last_min=float(first_last.min()),
                spread_before=float(spread[:, 0].max()),
                spread_after=float(spread[:, -1].max()),
                spread_max=float(spread.max()),
                smallest=float(np.nanmin(norms)),
                largest=float(np.inf if not np.isfinite(norms).all() else norms.max()),
                vanishing_below=float(vanishing_below),
                exploding_above=float(exploding_above),
                loss=float(np.mean([run.history["loss"][-1] for run in seeds])),
                val_loss=float(np.mean([run.history["val_loss"][-1] for run in seeds])),
            )
        )
    return GradientReport(tuple(rows))


# --------------------------------------------------------------------- ch. 9: the results table

_ROW_METRICS = ("MSE", "MAE", "PSNR", "SSIM", "HF retention", "checkerboard")
_ROW_STYLE = {
    "MSE": ("", ".3g"),
    "MAE": ("", ".3g"),
    "PSNR": ("dB", ".2f"),
    "SSIM": ("", ".4f"),
    "HF retention": ("", ".3f"),
    "checkerboard": ("", ".1e"),
}


@dataclass(frozen=True, eq=False)
class ResultRow:
    """One trained model or baseline scored on one test set (ch. 9 "Results").

    Attributes
    ----------
    label : str
        Row label.
    chapter : int or None
        Chapter that trains the model; None for a baseline or when not given.
    baseline : bool
        True for a classical baseline (PCA, bicubic), False for a trained model.
    runs : int
        Training runs (seeds) pooled in the row; 1 for a baseline.
    parameters : int
        Trainable and other weights of the model (``count_params()``); for PCA the stored
        components and mean, ``(k + 1) · H · W · C``; 0 for bicubic interpolation.
    compression_ratio : float
        Input values over the values the bottleneck (or the baseline) stores per image; below 1
        the latent is larger than the input.
    metrics : dict of str to MetricSummary
        ``'MSE'``, ``'MAE'``, ``'PSNR'``, ``'SSIM'``, ``'HF retention'`` and ``'checkerboard'``:
        each image's value averaged over the runs, then the mean and t-interval over images.
    psnr_runs : tuple of float
        Mean PSNR over the images of each run, so the seed-to-seed spread stays visible.
    seconds : float or None
        Mean wall time of a training run, as measured when it was trained (a cache hit reports
        the original run); None for a baseline. It varies from machine to machine and run to run.
    """

    label: str
    chapter: int | None
    baseline: bool
    runs: int
    parameters: int
    compression_ratio: float
    metrics: dict
    psnr_runs: tuple[float, ...]
    seconds: float | None

    def __getitem__(self, metric: str):
        """The summary of one metric, e.g. ``row["PSNR"].mean``."""
        if metric not in self.metrics:
            raise KeyError(f"no metric {metric!r}; the row has {list(self.metrics)}.")
        return self.metrics[metric]

    def _cells(self, show_time: bool) -> list[str]:
        m = self.metrics
        spread = f"{min(self.psnr_runs):.2f}–{max(self.psnr_runs):.2f}" if self.runs > 1 else "–"
        cells = [
            self.label,
            "baseline" if self.baseline else str(self.chapter or ""),
            f"{self.compression_ratio:.3g}×",
            m["PSNR"].estimate,
            m["SSIM"].estimate,
            f"{m['checkerboard'].mean:.1e}",
            spread,
            m["MSE"].estimate,
            m["MAE"].estimate,
            m["HF retention"].estimate,
            str(self.runs),
            f"{self.parameters:,}",
        ]
        if show_time:
            cells.append("–" if self.seconds is None else f"{self.seconds:.0f} s")
        return cells

    def __repr__(self) -> str:
        return (
            f"ResultRow({self.label}: {self.runs} run(s), {self.parameters:,} parameters, "
            f"compression {self.compression_ratio:.3g}×, PSNR {self['PSNR'].estimate} dB)"
        )


VERDICT_COLUMNS = ("model", "compression", "PSNR (dB)", "SSIM", "checkerboard")
"""The columns of a :class:`ResultsTable` that ch. 9's findings rest on."""


@dataclass(frozen=True, eq=False)
class ResultsTable:
    """Every model of the book on one test set, beside the baselines (ch. 9 "Results").

    Index it by row label (``table["example 3"]``); :meth:`without_time` drops the train-time
    column, which varies between runs, for a table whose printed numbers must not change.

    Attributes
    ----------
    rows : tuple of ResultRow
        In the order given.
    test_set : str
        What the images are, for the caption.
    n_images : int
        Test images.
    input_checkerboard : float
        Mean checkerboard score of the test images themselves (the floor for a faithful model).
    cutoff : float
        High-frequency cutoff (fraction of Nyquist) of the HF retention.
    show_time : bool
        Whether the table shows the train-time column.
    """

    rows: tuple[ResultRow, ...]
    test_set: str
    n_images: int
    input_checkerboard: float
    cutoff: float
    show_time: bool = True

    def __getitem__(self, label: str) -> ResultRow:
        return _row_named(self.rows, "label", label, "row")

    def without_time(self) -> ResultsTable:
        """The same table without the train-time column."""
        from dataclasses import replace

        return replace(self, show_time=False)

    def points(self, metric: str = "PSNR") -> list[tuple[str, Any, bool]]:
        """``(label, summary, is_baseline)`` of every row, for :func:`plots.interval_plot`."""
        return [(row.label, row[metric], row.baseline) for row in self.rows]

    def _table(self) -> tuple[list[str], list[list[str]], str]:
        # the columns the chapter's verdicts rest on first (VERDICT_COLUMNS: the rich display
        # shows them alone, the rest below a toggle)
        headers = ["model", "chapter", "compression", "PSNR (dB)", "SSIM", "checkerboard"]
        headers += ["PSNR per run", "MSE", "MAE", "HF retention", "runs", "parameters"]
        if self.show_time:
            headers.append("train time")
        level = next(iter(self.rows[0].metrics.values())).level
        caption = (
            f"{self.test_set}, {self.n_images} held-out images: each image's score averaged over "
            f"a row's training runs, mean [{level} CI over images]; PSNR per run: lowest–highest "
            f"run; HF retention: power above {self.cutoff:g} × Nyquist, output / input; "
            f"checkerboard: energy share at the stride-2 frequencies (the test images: "
            f"{self.input_checkerboard:.1e}); compression: input values / stored values"
        )
        if self.show_time:
            caption += "; train time: wall time per run when it was trained (varies)"
        return headers, [row._cells(self.show_time) for row in self.rows], caption

    def __repr__(self) -> str:
        from cae_lessons.metrics import _text_table

        headers, rows, caption = self._table()
        return f"{_text_table(headers, rows)}\n({caption})"

    def _repr_html_(self) -> str:
        """The verdict columns in a table that fits the book's column; every column below."""
        from cae_lessons.metrics import _html_table

        headers, rows, caption = self._table()
        shown = [headers.index(h) for h in VERDICT_COLUMNS]
        main = _html_table(
            [headers[i] for i in shown],  # at 1280 px they fit the book's column unscrolled
            [[row[i] for i in shown] for row in rows],
            caption.split("; PSNR per run")[0],
            narrow=True,
        )
        rest = ", ".join(h for h in headers if h not in VERDICT_COLUMNS)
        details = _html_table(headers, rows, caption)
        return f"{main}<details><summary>All columns ({rest})</summary>{details}</details>"


def _scored_row(label, outputs, x_test, cutoff, strides, confidence, **fields) -> ResultRow:
    from cae_lessons.metrics import (
        checkerboard_score,
        evaluate,
        high_frequency_retention,
        summarize,
    )

    per_run = [evaluate(x_test, y, confidence=confidence) for y in outputs]
    values = {
        name: np.mean([scores.per_image()[name] for scores in per_run], axis=0)
        for name in ("MSE", "MAE", "PSNR", "SSIM")
    }
    values["HF retention"] = np.mean(
        [high_frequency_retention(x_test, y, cutoff).ratio for y in outputs], axis=0
    )
    values["checkerboard"] = np.mean([checkerboard_score(y, strides) for y in outputs], axis=0)
    metrics = {
        name: summarize(
            values[name],
            name,
            unit=_ROW_STYLE[name][0],
            fmt=_ROW_STYLE[name][1],
            confidence=confidence,
        )
        for name in _ROW_METRICS
    }
    psnr_runs = tuple(float(np.mean(scores.psnr)) for scores in per_run)
    return ResultRow(label=label, runs=len(outputs), metrics=metrics, psnr_runs=psnr_runs, **fields)


def results_table(
    x_test: np.ndarray,
    entries,
    *,
    chapters=None,
    test_set: str = "held-out images",
    cutoff: float = 0.25,
    strides=2,
    confidence: float = 0.95,
) -> ResultsTable:
    """Score trained models and baselines on one test set, for the book's results table (ch. 9).

    For every row: MSE, MAE, PSNR and SSIM (as :func:`cae_lessons.metrics.evaluate`), the
    high-frequency retention and the checkerboard score (as in :mod:`cae_lessons.metrics`), each
    image's value averaged over the row's training runs and summarised by the mean and a
    t-interval over images; the mean PSNR of every run; the compression ratio of the model's
    bottleneck (:func:`cae_lessons.shapes.trace`) or of the baseline; the parameter count; and
    the mean training wall time.

    Parameters
    ----------
    x_test : (N, H, W, C) float32
        Held-out images in [0, 1].
    entries : mapping of str to TrainResult, sequence of TrainResult, or Baseline
        One row per entry, in order: the runs (one per seed) of one architecture, reconstructed
        here (as :func:`reconstruct` does), or a :class:`cae_lessons.metrics.Baseline` of
        ``x_test``.
    chapters : mapping of str to int, optional
        Chapter that trains each model row, by label (e.g. from
        :func:`cae_lessons.models.book_models`).
    test_set : str
        Caption text saying what the images are.
    cutoff : float
        High-frequency cutoff, a fraction of Nyquist.
    strides : int or (int, int)
        Upsampling stride whose checkerboard is scored (2 for every model of the book).
    confidence : float
        Level of the intervals.

    Returns
    -------
    ResultsTable

    Raises
    ------
    TypeError
        If ``entries`` is not a mapping or an entry is not runs or a Baseline.
    ValueError
        If ``entries`` or a row's runs are empty, a row's runs are different models, or as in
        :func:`cae_lessons.metrics.evaluate` (e.g. a baseline of other images).

    Examples
    --------
    >>> import keras
    >>> from cae_lessons.metrics import bicubic_baseline
    >>> from cae_lessons.models import build_cae
    >>> x = np.random.default_rng(0).random((6, 16, 16, 1)).astype(np.float32)
    >>> def tiny():
    ...     return build_cae((16, 16, 1), filters=(4,), latent_channels=1, name="tiny")
    >>> runs = [train(tiny, x, x, epochs=1, seed=s, cache=False, progress=False) for s in (0, 1)]
    >>> table = results_table(x, {"tiny CAE": runs, "bicubic": bicubic_baseline(x, 2)},
    ...                       chapters={"tiny CAE": 9}, test_set="noise")
    >>> row = table["tiny CAE"]
    >>> row.runs, row.parameters, row.compression_ratio, len(row.psnr_runs)
    (2, 154, 4.0, 2)
    >>> table["bicubic"].parameters, table["bicubic"].compression_ratio, table["bicubic"].seconds
    (0, 4.0, None)
    """
    from collections.abc import Mapping

    from cae_lessons.metrics import Baseline, checkerboard_score
    from cae_lessons.shapes import trace

    if not isinstance(entries, Mapping):
        raise TypeError(
            "entries must be a mapping {label: [TrainResult, ...] or Baseline}, got "
            f"{type(entries).__name__}."
        )
    if not entries:
        raise ValueError("entries is empty; pass at least one {label: runs or Baseline} entry.")
    chapters = dict(chapters or {})
    settings = {"cutoff": cutoff, "strides": strides, "confidence": confidence}
    rows = []
    for label, entry in entries.items():
        label = str(label)
        if isinstance(entry, Baseline):
            n_features = int(np.prod(entry.reconstruction.shape[1:]))
            parameters = (entry.latent_values + 1) * n_features if entry.method == "PCA" else 0
            fields = {"chapter": None, "baseline": True, "parameters": parameters}
            fields["seconds"] = None
            fields["compression_ratio"] = float(entry.compression_ratio)
            rows.append(_scored_row(label, [entry.reconstruction], x_test, **settings, **fields))
            continue
        runs = [entry] if isinstance(entry, TrainResult) else entry
        if not isinstance(runs, Sequence) or not all(isinstance(r, TrainResult) for r in runs):
            raise TypeError(
                f"entries[{label!r}] must be a TrainResult, a sequence of them (one per seed) or "
                f"a metrics Baseline, got {type(entry).__name__}."
            )
        if not runs:
            raise ValueError(f"entries[{label!r}] holds no run; pass at least one TrainResult.")
        names = sorted({run.name for run in runs})
        if len(names) > 1:
            raise ValueError(
                f"entries[{label!r}] mixes models {names}; give each architecture its own row."
            )
        model = runs[0].model
        fields = {
            "chapter": chapters.get(label),
            "baseline": False,
            "parameters": int(model.count_params()),
            "compression_ratio": float(trace(model).compression_ratio),
            "seconds": float(np.mean([run.seconds for run in runs])),
        }
        outputs = [reconstruct(run, x_test) for run in runs]
        rows.append(_scored_row(label, outputs, x_test, **settings, **fields))
    return ResultsTable(
        rows=tuple(rows),
        test_set=test_set,
        n_images=len(x_test),
        input_checkerboard=float(checkerboard_score(x_test, strides).mean()),
        cutoff=cutoff,
    )


# --------------------------------------------------------------- ch. 8: kernel size against stride

KERNEL_STRIDE_METRICS = {
    # name -> (unit, format spec, measured by training?)
    "PSNR": ("dB", ".2f", True),
    "HF retention": ("", ".3f", True),
    "seconds": ("s", ".1f", True),
    "compression": ("×", ".4g", False),
    "receptive field": ("px", "d", False),
    "parameters": ("", "d", False),
    "MACs": ("", "d", False),
    "unseen": ("", ".4g", False),
}
_DESIGN_FIELDS = {
    "compression": "compression_ratio",
    "receptive field": "receptive_field",
    "parameters": "parameters",
    "MACs": "macs",
    "unseen": "unseen_fraction",
}


@dataclass(frozen=True)
class KernelStrideCell:
    """One kernel size × stride design of ch. 8, trained once per seed and measured.

    Attributes
    ----------
    design : cae_lessons.models.KernelStrideDesign
        What the shapes alone say (compression, receptive field, parameters, MACs, coverage).
    psnr, hf_retention : tuple of float
        Per seed: the mean over the test images of the PSNR (dB) and of the high-frequency
        retention (:func:`cae_lessons.metrics.high_frequency_retention`).
    seconds : tuple of float
        Per seed: the measured wall time of training (for a cache hit: of the run that filled
        the cache). Varies from run to run and machine to machine.
    runs : tuple of TrainResult
        The trained models, one per seed (not part of the repr or of equality).
    """

    design: Any
    psnr: tuple[float, ...]
    hf_retention: tuple[float, ...]
    seconds: tuple[float, ...]
    runs: tuple[TrainResult, ...] = field(default=(), repr=False, compare=False)

    def value(self, metric: str) -> float:
        """One number for ``metric`` (a key of ``KERNEL_STRIDE_METRICS``); the mean over seeds
        for the measured ones."""
        if metric not in KERNEL_STRIDE_METRICS:
            raise KeyError(
                f"unknown metric {metric!r}; choose one of {list(KERNEL_STRIDE_METRICS)}."
            )
        if metric in _DESIGN_FIELDS:
            return float(getattr(self.design, _DESIGN_FIELDS[metric]))
        per_seed = {"PSNR": self.psnr, "HF retention": self.hf_retention, "seconds": self.seconds}
        return float(np.mean(per_seed[metric]))


@dataclass(frozen=True)
class KernelStrideSweep:
    """Ch. 8's grid: every kernel size against every stride, trained and measured.

    Attributes
    ----------
    kernel_sizes, strides : tuple of int
        The grid's columns and rows.
    cells : tuple of KernelStrideCell
        Row by row: all kernel sizes of the first stride, then of the next, ...
    epochs, seeds : int
        Training epochs and seeds of every cell.
    cutoff : float
        High-frequency cutoff (fraction of Nyquist) of the retention.
    """

    kernel_sizes: tuple[int, ...]
    strides: tuple[int, ...]
    cells: tuple[KernelStrideCell, ...]
    epochs: int
    seeds: int
    cutoff: float

    def cell(self, kernel_size: int, strides: int) -> KernelStrideCell:
        """The cell of one kernel size and stride.

        Raises
        ------
        KeyError
            If the sweep has no such cell.
        """
        if kernel_size not in self.kernel_sizes or strides not in self.strides:
            raise KeyError(
                f"no cell kernel_size={kernel_size!r}, strides={strides!r}; the sweep has kernel "
                f"sizes {self.kernel_sizes} and strides {self.strides}."
            )
        row, col = self.strides.index(strides), self.kernel_sizes.index(kernel_size)
        return self.cells[row * len(self.kernel_sizes) + col]

    def grid(self, metric: str) -> np.ndarray:
        """``(len(strides), len(kernel_sizes))`` float64 array of one metric (rows: strides).

        Measured metrics are means over seeds. Raises KeyError for an unknown metric.
        """
        values = [cell.value(metric) for cell in self.cells]
        return np.array(values, dtype=np.float64).reshape(len(self.strides), -1)

    def format_grid(self, metric: str) -> str:
        """One metric as a text table: a row per stride, a column per kernel size."""
        unit, fmt, measured = KERNEL_STRIDE_METRICS.get(metric, ("", "", False))
        grid = self.grid(metric)
        cells = [[f"{int(v) if fmt == 'd' else v:{fmt}}" for v in row] for row in grid]
        width = max(len(c) for row in cells for c in row) + 2
        head = f"{metric}{f' ({unit})' if unit else ''}"
        if measured:
            head += f", mean of {self.seeds} seed{'s' * (self.seeds > 1)}"
        lines = [
            head,
            "stride".ljust(8) + "".join(f"k={k}".rjust(width) for k in self.kernel_sizes),
        ]
        for s, row in zip(self.strides, cells, strict=True):
            lines.append(f"s={s}".ljust(8) + "".join(c.rjust(width) for c in row))
        return "\n".join(lines)

    _HEADER = (
        "kernel",
        "stride",
        "latent",
        "compression",
        "RF",
        "parameters",
        "MACs",
        "unseen",
        "PSNR (dB)",
        "HF retention",
    )

    def _rows(self) -> list[list[str]]:
        rows = []
        for cell in self.cells:
            d = cell.design
            rows.append(
                [
                    str(d.kernel_size),
                    str(d.strides),
                    "×".join(map(str, d.latent_shape)),
                    f"{d.compression_ratio:g}×",
                    str(d.receptive_field),
                    str(d.parameters),
                    str(d.macs),
                    f"{d.unseen_fraction:.4g}",
                    f"{cell.value('PSNR'):.2f}",
                    f"{cell.value('HF retention'):.3f}",
                ]
            )
        return rows

    def _caption(self) -> str:
        return (
            f"PSNR and HF retention (power above {self.cutoff:g} × Nyquist, output / input): "
            f"means over the test images and {self.seeds} seed(s), {self.epochs} epochs each"
        )

    def __repr__(self) -> str:
        rows = [list(self._HEADER), *self._rows()]
        widths = [max(len(r[i]) for r in rows) for i in range(len(self._HEADER))]
        lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
        return "\n".join([*lines, f"({self._caption()})"])

    def _repr_html_(self) -> str:
        import html

        style = 'style="white-space:nowrap;padding:0 0.5em;text-align:right"'
        head = "".join(f"<th {style}>{html.escape(h)}</th>" for h in self._HEADER)
        body = "".join(
            "<tr>" + "".join(f"<td {style}>{html.escape(c)}</td>" for c in row) + "</tr>"
            for row in self._rows()
        )
        return (
            f'<div style="overflow-x:auto"><table><caption>{html.escape(self._caption())}'
            f"</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
        )


def _distinct_positive_ints(values, name: str) -> tuple[int, ...]:
    hint = f"Pass e.g. {name}=(1, 2, 3, 4)."
    if isinstance(values, int | str) or not isinstance(values, Sequence) or not values:
        raise TypeError(f"{name} must be a non-empty sequence of ints, got {values!r}. {hint}")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in values):
        raise ValueError(f"{name} must hold ints >= 1, got {tuple(values)!r}. {hint}")
    if len(set(values)) != len(values):
        raise ValueError(f"{name} must not repeat a value, got {tuple(values)!r}. {hint}")
    return tuple(values)


def kernel_stride_sweep(
    x_train: np.ndarray,
    x_val: np.ndarray,
    x_test: np.ndarray,
    *,
    epochs: int,
    kernel_sizes: Sequence[int] = (3, 5, 7, 9),
    strides: Sequence[int] = (1, 2, 3, 4),
    latent_channels: int = 4,
    seeds: int = 1,
    batch_size: int = 8,
    learning_rate: float = 1e-3,
    cutoff: float | None = None,
    cache: bool | str | os.PathLike = True,
    progress: bool | None = None,
) -> KernelStrideSweep:
    """Train every kernel size × stride design of ch. 8 and measure it on held-out images.

    Each cell is :func:`cae_lessons.models.build_kernel_stride_cae` (one ``Conv2D`` with kernel
    ``k`` and stride ``s``, undone by one ``Conv2DTranspose`` with the same ``k`` and ``s``,
    ``latent_channels`` fixed), trained with :func:`train` (seeded and cached) for every seed
    ``0, 1, ..., seeds - 1``, and scored on ``x_test`` with the PSNR and the high-frequency
    retention. Every design is checked to round-trip the input before anything trains. Used by
    ch. 8 "Kernel size against stride".

    Parameters
    ----------
    x_train, x_val, x_test : (N, H, W, C) float32
        Images in [0, 1]; ``H`` and ``W`` must be multiples of every stride.
    epochs : int
        Read it from the execution profile in chapters.
    kernel_sizes, strides : sequence of int
        The grid's columns and rows.
    latent_channels : int
        Bottleneck channels, the same in every cell.
    seeds : int
        Training runs per cell.
    batch_size, learning_rate : int, float
        As :func:`train`.
    cutoff : float, optional
        High-frequency cutoff (fraction of Nyquist); default ``metrics.HF_CUTOFF``.
    cache, progress
        As :func:`train`.

    Returns
    -------
    KernelStrideSweep

    Raises
    ------
    TypeError
        If ``kernel_sizes`` or ``strides`` is not a sequence, ``seeds`` not an int, or an image
        array not a NumPy array.
    ValueError
        If a kernel size or stride is repeated or below 1, ``seeds`` < 1, the images are not
        ``(N, H, W, C) float32`` of one size, or a stride does not divide ``H`` and ``W``.

    Examples
    --------
    >>> x = np.random.default_rng(0).random((4, 12, 12, 1), dtype=np.float32)
    >>> sweep = kernel_stride_sweep(x, x, x, epochs=1, kernel_sizes=(3, 5), strides=(2, 3),
    ...                             cache=False, progress=False)
    >>> sweep.grid("receptive field")
    array([[5., 9.],
           [3., 8.]])
    >>> print(sweep.format_grid("parameters"))
    parameters
    stride    k=3  k=5
    s=2        77  205
    s=3        77  205
    """
    from cae_lessons.metrics import HF_CUTOFF, high_frequency_retention, psnr
    from cae_lessons.models import build_kernel_stride_cae, kernel_stride_design

    kernel_sizes = _distinct_positive_ints(kernel_sizes, "kernel_sizes")
    strides = _distinct_positive_ints(strides, "strides")
    if isinstance(seeds, bool) or not isinstance(seeds, int):
        raise TypeError(f"seeds must be an int, got {type(seeds).__name__} {seeds!r}.")
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}; pass profile.seeds in a chapter.")
    arrays = {"x_train": x_train, "x_val": x_val, "x_test": x_test}
    for label, x in arrays.items():
        _check_images(label, x)
    sizes = {label: x.shape[1:] for label, x in arrays.items()}
    if len(set(sizes.values())) > 1:
        raise ValueError(
            f"x_train, x_val and x_test must hold images of one size, got {sizes}; load them "
            "with one load_mri_data(size=...) call and split_by_slab."
        )
    input_shape = tuple(int(n) for n in x_train.shape[1:])
    designs = [
        kernel_stride_design(k, s, input_shape, latent_channels)
        for s in strides
        for k in kernel_sizes
    ]
    cutoff = HF_CUTOFF if cutoff is None else cutoff
    cells = []
    for design in designs:

        def build(design=design):
            return build_kernel_stride_cae(
                input_shape,
                kernel_size=design.kernel_size,
                strides=design.strides,
                latent_channels=latent_channels,
            )

        runs = tuple(
            train(
                build,
                x_train,
                x_val,
                epochs=epochs,
                batch_size=batch_size,
                seed=seed,
                learning_rate=learning_rate,
                cache=cache,
                progress=progress,
            )
            for seed in range(seeds)
        )
        outputs = [reconstruct(run, x_test) for run in runs]
        cells.append(
            KernelStrideCell(
                design=design,
                psnr=tuple(float(psnr(x_test, y).mean()) for y in outputs),
                hf_retention=tuple(
                    high_frequency_retention(x_test, y, cutoff).mean for y in outputs
                ),
                seconds=tuple(run.seconds for run in runs),
                runs=runs,
            )
        )
    return KernelStrideSweep(kernel_sizes, strides, tuple(cells), epochs, seeds, cutoff)
