"""Seeded, measured, cached training of autoencoders.

:func:`train` fits a Keras autoencoder to reproduce its input and returns a :class:`TrainResult`:
the loss history, wall time, throughput, per-layer gradient norms per epoch and whether the result
came from the cache. Used by every chapter that trains (ch. 3-9); the gradient norms feed ch. 7
("Does a mismatch make training unstable?").

TensorFlow is imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

import numbers
import os
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cae_lessons.cache import (
    cache_key,
    default_cache_dir,
    entry_complete,
    load_entry,
    store_entry,
)
from cae_lessons.config import seed_everything
from cae_lessons.validate import check_images

PROGRESS_VARIABLE = "CAE_LESSONS_PROGRESS"


class NondeterminismWarning(UserWarning):
    """Some op on this device has no deterministic kernel; training ran non-deterministically."""


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

    @property
    def plateau_epochs(self) -> int:
        """Epochs after the first before the validation loss first fell below its first value.

        0 for a run that improved at once; a run whose loss is flat or rising for its first
        epochs has a plateau of several (early stopping needs a warm-up longer than that:
        ``train(..., start_from_epoch=...)``). A run that never fell below its first value gives
        the number of epochs it ran after the first.
        """
        losses = self.history["val_loss"]
        return next((i - 1 for i, v in enumerate(losses) if v < losses[0]), len(losses) - 1)

    def __repr__(self) -> str:
        source = "cache" if self.cache_hit else f"{self.seconds:.1f} s"
        return (
            f"TrainResult({self.name}: {self.epochs} epochs, seed {self.seed}, "
            f"loss {self.final_loss:.5f}, val_loss {self.final_val_loss:.5f}, "
            f"{self.images_per_second:.1f} images/s, from {source})"
        )


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


def _check_arrays(model, x_train: np.ndarray, x_val: np.ndarray) -> None:
    for label, x in (("x_train", x_train), ("x_val", x_val)):
        check_images(x, label, float32=True)
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


def _disable_op_determinism() -> None:
    # TensorFlow has no public way back: tf.config.experimental has only enable_op_determinism.
    from tensorflow.python.framework import config as tf_config

    tf_config.disable_op_determinism()


def _fit(model, x_train, x_val, *, epochs, batch_size, seed, loss, callbacks, show_progress):
    """Compile and fit once; return (history, seconds, gradient norms, deterministic, weights
    before training and after each epoch)."""
    import keras
    import tensorflow as tf

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
    except tf.errors.UnimplementedError as error:
        # TensorFlow's error for an op with no deterministic kernel on this device says so;
        # any other UnimplementedError (and every other error) reaches the caller unchanged.
        if "determinis" not in str(error).lower():
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


def _early_stopping(patience: int | None, start_from_epoch: int = 0) -> list:
    """``[EarlyStopping(...)]`` for ``train(patience=...)``, or ``[]`` for every epoch."""
    if patience is None:
        if start_from_epoch:
            raise ValueError(
                f"start_from_epoch={start_from_epoch!r} needs patience=...: it delays early "
                "stopping, and without patience there is none."
            )
        return []
    if (
        isinstance(start_from_epoch, bool)
        or not isinstance(start_from_epoch, numbers.Integral)
        or start_from_epoch < 0
    ):
        raise ValueError(
            f"start_from_epoch must be an int >= 0 (epochs before the validation loss is "
            f"watched), got {start_from_epoch!r}."
        )
    if isinstance(patience, bool) or not isinstance(patience, numbers.Integral) or patience < 1:
        raise ValueError(
            f"patience must be None (train every epoch) or an int >= 1 (epochs without a lower "
            f"validation loss before training stops), got {patience!r}."
        )
    import keras

    stop = keras.callbacks.EarlyStopping(
        monitor="val_loss",
        patience=int(patience),
        restore_best_weights=True,
        start_from_epoch=int(start_from_epoch),
    )
    return [stop]


def _settings(epochs, batch_size, loss, seed, learning_rate) -> dict:
    """A run's settings, as the cache keys them and :class:`TrainResult` reports them."""
    return {
        "epochs": epochs,
        "batch_size": batch_size,
        "loss": loss,
        "seed": seed,
        "learning_rate": learning_rate,
    }


def _entry(model, x_train, x_val, cache, strategy, callbacks, settings) -> Path | None:
    """The cache entry of this run (it may not exist yet); None when the cache is off."""
    if cache is False:
        return None
    folder = default_cache_dir() if cache is True else Path(cache)
    key = cache_key(model, x_train, x_val, strategy=strategy, callbacks=callbacks, **settings)
    return folder / f"{model.name}-{key}"


def is_cached(
    model,
    x_train: np.ndarray,
    x_val: np.ndarray,
    *,
    epochs: int,
    batch_size: int = 16,
    loss: str = "mse",
    seed: int = 0,
    learning_rate: float = 1e-3,
    patience: int | None = None,
    start_from_epoch: int = 0,
    cache: bool | str | os.PathLike = True,
) -> bool:
    """Whether :func:`train` with these arguments would load its run from the cache.

    It builds the model (a function is called) to compute the cache key, and trains nothing.
    Arguments as for :func:`train`, without a strategy or extra callbacks.

    Examples
    --------
    >>> import tempfile, keras
    >>> def tiny():
    ...     return keras.Sequential(
    ...         [keras.Input((8, 8, 1)), keras.layers.Conv2D(1, 3, padding="same")], name="tiny"
    ...     )
    >>> x = np.random.default_rng(0).random((4, 8, 8, 1), dtype=np.float32)
    >>> folder = tempfile.mkdtemp()
    >>> is_cached(tiny, x, x, epochs=1, cache=folder)
    False
    >>> _ = train(tiny, x, x, epochs=1, cache=folder, progress=False)
    >>> is_cached(tiny, x, x, epochs=1, cache=folder), is_cached(tiny, x, x, epochs=2, cache=folder)
    (True, False)
    """
    import keras

    settings = _settings(epochs, batch_size, loss, seed, learning_rate)
    built = model if isinstance(model, keras.Model) else model()
    stop = _early_stopping(patience, start_from_epoch)
    entry = _entry(built, x_train, x_val, cache, None, stop, settings)
    return entry is not None and entry_complete(entry)


def _compiled(model, loss: str, learning_rate: float):
    """Compile with Adam and create its slots now: built lazily, they are created while ``fit``
    traces its first step, and TensorFlow then traces that step a second time (about 3 s per
    run on two CPU cores: ``benchmarks/cpu_training.py``). Same variables, same values,
    bit-identical training."""
    import keras

    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
    model.optimizer.build(model.trainable_variables)
    return model


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
    patience: int | None = None,
    start_from_epoch: int = 0,
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
    patience : int, optional
        Train until the validation loss stops improving: stop once it has not fallen for
        ``patience`` epochs and keep the best epoch's weights (Keras' ``EarlyStopping`` with
        ``restore_best_weights=True``); ``epochs`` is then the cap. Default: every epoch.
    start_from_epoch : int
        With ``patience``: epochs of warm-up before the validation loss is watched (Keras'
        argument of that name). A run that starts on a plateau, its loss flat or rising for a
        few epochs before it falls, is otherwise stopped before it has learnt anything.
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
    callbacks = [*callbacks, *_early_stopping(patience, start_from_epoch)]
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

    settings = _settings(epochs, batch_size, loss, seed, learning_rate)
    entry = _entry(model, x_train, x_val, cache, strategy, callbacks, settings)
    if entry is not None:
        cached = load_entry(entry, model)
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
        "images_per_second": len(x_train) * len(history["loss"]) / seconds,
        "gradient_norms": norms,
        "deterministic": deterministic,
    }
    if entry is not None:
        store_entry(entry, model, record, epoch_weights)
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
