"""The training cache: where a run is stored, the key that decides whether it can be reused.

A run is keyed by everything that changes its numbers (:func:`cache_key`): the model's
architecture, the data, the settings, the callbacks and where it runs (:func:`execution_context`).
An entry holds the record, the final weights and every epoch's weights, each checksummed; a
damaged entry is never served (:func:`load_entry` deletes it and says so). Used by
:func:`cae_lessons.training.train`.

TensorFlow is imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cae_lessons import __version__

CACHE_VARIABLE = "CAE_LESSONS_CACHE"


_COMPLETE = "COMPLETE.json"


RECORD_FORMAT = 3
"""Version of what a cache entry stores. 2: gradient norms of the mean loss that ``fit``
optimises (format 1 stored those of the per-pixel sum, N·H·W times larger), so no entry written
before that fix is ever served."""


_WEIGHTS = "weights.npz"


_EPOCH_WEIGHTS = "epoch_weights.npz"


class CacheWarning(UserWarning):
    """A cache entry was corrupt or partial and has been retrained."""


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


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _arrays(path: Path, sha256: str) -> list[np.ndarray]:
    if _sha256(path) != sha256:
        raise ValueError(f"{path.stem} checksum mismatch")
    with np.load(path, allow_pickle=False) as stored:
        return [stored[f"arr_{i}"] for i in range(len(stored.files))]


def entry_complete(entry: Path) -> bool:
    """Whether a complete run is stored at ``entry`` (its checksums are checked when loaded).

    Examples
    --------
    >>> import tempfile
    >>> entry_complete(Path(tempfile.mkdtemp()) / "run")
    False
    """
    return (entry / _COMPLETE).is_file()


def load_entry(entry: Path, model) -> tuple[dict, list] | None:
    """Load a stored run into ``model``: its record and per-epoch weights, or None.

    None when there is no entry. An entry that is partial or whose checksums do not match is
    deleted with a :class:`CacheWarning` (and None returned), so the caller retrains it; the
    model's weights are set only once everything else has loaded.

    Examples
    --------
    >>> import tempfile, keras
    >>> model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(1, 3)])
    >>> folder = Path(tempfile.mkdtemp())
    >>> store_entry(folder / "run", model, {"seconds": 1.0}, [model.get_weights()])
    >>> record, epochs = load_entry(folder / "run", model)
    >>> record["seconds"], len(epochs)
    (1.0, 1)
    >>> load_entry(folder / "missing", model) is None
    True
    """
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


def store_entry(entry: Path, model, record: dict, epoch_weights: list) -> None:
    """Store a run: ``record`` (JSON), the model's weights and each epoch's, with checksums.

    Written to ``<entry>.partial`` and renamed when complete, so an interrupted write never
    looks like an entry. Read back by :func:`load_entry`.
    """
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
