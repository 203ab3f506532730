"""The book's models: every architecture that a chapter trains, and the one call that trains it.

Chapters 3 and 4 train their models with :func:`train_book_model` (or, several models at once,
:func:`train_book_models`), and ch. 9 compares them on one test set with the same call, so
:func:`cae_lessons.training.train` finds each chapter's runs in the training cache instead of
training them again. Every model is trained with the profile's seeds (:meth:`BookModel.seeds`),
until its validation loss stops improving (:data:`PATIENCE`) or the profile's epoch cap, so that
a comparison rests on several runs of models that finished learning.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cae_lessons.models import build_cae, example1, example2, example3

PATIENCE = 3
"""Epochs without a lower validation loss before a book model's run stops (its best epoch kept)."""

START_FROM_EPOCH = 10
"""Epochs of warm-up before early stopping watches the validation loss. Some runs start on a
plateau, their validation loss flat or rising for up to about nine epochs before it falls (ch. 4's
sweep shows it); stopped after three of them, such a run never learns."""

BATCH_SIZE = 8
"""The batch size of every book model's run."""

SWEEP_FILTERS = (8, 16, 32)
"""Ch. 4's sweep: the filters of ``build_cae((64, 64, 1), filters=SWEEP_FILTERS, ...)``."""

SWEEP_CHANNELS = {4: 16, 16: 4, 64: 1}
"""Ch. 4's sweep: compression ratio → latent channels (a 64×64 input and an 8×8 latent)."""

SWEEP_DOWN = ("pool", "stride")
"""Ch. 4's sweep: how each design halves the image (``build_cae``'s ``down``)."""


@dataclass(frozen=True)
class BookModel:
    """One architecture that a chapter trains, and how it trains it (ch. 9 results table).

    Train it with :func:`train_book_model`, as its chapter and ch. 9 both do.

    Attributes
    ----------
    name : str
        The Keras model name (and prefix of its training-cache entry).
    label : str
        Row label for tables.
    chapter : int
        Chapter the architecture comes from: 3 stride incompatibility, 4 padding and the
        bottleneck, 5 transposed convolutions. Each trains its models, except example 3, which
        chapter 5 only traces and the results chapter trains.
    doc : str
        The document that trains it, e.g. ``'compression_sweep'`` (for ``{doc}`` links).
    data : str
        :data:`AXIAL_128` or :data:`AXIAL_64`: the images it is trained and tested on.
    build : callable
        Zero-argument function returning the compiled, untrained model (a module-level
        function or a ``functools.partial`` of one, so that a worker process can train it).
    """

    name: str
    label: str
    chapter: int
    doc: str
    data: str
    build: Callable[[], Any] = field(repr=False, compare=False)

    def seeds(self, profile) -> range:
        """The training seeds for an execution profile (from ``resolve_profile()``).

        Examples
        --------
        >>> from cae_lessons.config import QUICK, FULL
        >>> sweep = book_models()["cae_pool_upsample_8-16-32_l16"]
        >>> sweep.seeds(QUICK), sweep.seeds(FULL)
        (range(0, 3), range(0, 5))
        """
        name, seeds = getattr(profile, "name", None), getattr(profile, "seeds", None)
        if name not in ("quick", "full") or not isinstance(seeds, int):
            raise TypeError(
                f"profile must be an execution profile with name 'quick' or 'full' and an int "
                f"seeds (from cae_lessons.config.resolve_profile()), got {profile!r}."
            )
        return range(seeds)


def _example1_shape_only_fix():
    """Ch. 3: example 1 with its 78×78 output zero-padded to 128×128 (the shape-only fix)."""
    from cae_lessons.shapes import build_model, diagnose

    fix = next(f for f in diagnose(example1()).fixes if f.kind == "crop_or_pad_output")
    return build_model(
        fix.layers,
        fix.input_shape,
        activation="relu",
        output_activation="sigmoid",
        name="example1_fix_crop_or_pad_output",
    )


def sweep_model(down: str, ratio: int) -> BookModel:
    """Ch. 4's sweep design that halves with ``down`` and compresses by ``ratio``.

    Parameters
    ----------
    down : {'pool', 'stride'}
        Max pooling or strided convolutions (``build_cae``'s ``down``).
    ratio : {4, 16, 64}
        Input values per latent value; a key of :data:`SWEEP_CHANNELS`.

    Returns
    -------
    BookModel

    Raises
    ------
    ValueError
        If ``down`` or ``ratio`` is not one of the sweep's.

    Examples
    --------
    >>> m = sweep_model("stride", 64)
    >>> m.name, m.label
    ('cae_stride_upsample_8-16-32_l1', 'CAE stride, ratio 64')
    >>> m.build().output_shape
    (None, 64, 64, 1)
    """
    if down not in SWEEP_DOWN:
        raise ValueError(f"down must be one of {SWEEP_DOWN}, got {down!r}.")
    if ratio not in SWEEP_CHANNELS:
        raise ValueError(
            f"ratio must be one of ch. 4's compression ratios {tuple(SWEEP_CHANNELS)}, got "
            f"{ratio!r}."
        )
    channels = SWEEP_CHANNELS[ratio]
    build = functools.partial(
        build_cae, (64, 64, 1), filters=SWEEP_FILTERS, down=down, latent_channels=channels
    )
    filters = "-".join(map(str, SWEEP_FILTERS))
    name = f"cae_{down}_upsample_{filters}_l{channels}"
    return BookModel(name, f"CAE {down}, ratio {ratio}", 4, "compression_sweep", AXIAL_64, build)


def _as_book_model(model: BookModel | str) -> BookModel:
    if isinstance(model, BookModel):
        return model
    registry = book_models()
    if model not in registry:
        raise ValueError(f"No book model is named {model!r}; the names are {tuple(registry)}.")
    return registry[model]


def train_book_models(
    models: Iterable[tuple[BookModel | str, Any, Any]],
    profile,
    *,
    cache=True,
    progress=None,
    workers=None,
) -> list[list]:
    """Train several book models as their chapters do, all their runs at once.

    Each model gets one run per seed of ``model.seeds(profile)``, with ``batch_size=8``, the mean
    squared error, and early stopping: after :data:`START_FROM_EPOCH` epochs of warm-up, a run
    ends once its validation loss has not fallen for :data:`PATIENCE` epochs, or at
    ``profile.epochs``, and keeps its best epoch's weights. A
    chapter and ch. 9 calling this with the same images share the training cache's runs. The runs
    not yet in the cache train in parallel processes on a CPU
    (:func:`cae_lessons.workers.train_runs`).

    Parameters
    ----------
    models : iterable of (BookModel or str, x_train, x_val)
        Each model (a value of :func:`book_models`, or its name) with its training and
        validation images, ``(N, H, W, 1) float32``, those named by ``model.data``.
    profile : Profile
        From ``resolve_profile()``: its epoch cap and its seeds.
    cache, progress, workers
        As for :func:`cae_lessons.workers.train_runs`.

    Returns
    -------
    list of list of TrainResult
        Per model, in order, one run per seed in seed order.

    Raises
    ------
    ValueError
        If a model names no book model.
    """
    from cae_lessons.workers import Run, train_runs

    models = [(_as_book_model(model), x_train, x_val) for model, x_train, x_val in models]
    runs = [
        Run(
            model.build,
            x_train,
            x_val,
            {
                "epochs": profile.epochs,
                "batch_size": BATCH_SIZE,
                "seed": seed,
                "patience": PATIENCE,
                "start_from_epoch": START_FROM_EPOCH,
            },
        )
        for model, x_train, x_val in models
        for seed in model.seeds(profile)
    ]
    results = iter(train_runs(runs, cache=cache, progress=progress, workers=workers))
    return [[next(results) for _ in model.seeds(profile)] for model, _, _ in models]


def train_book_model(
    model: BookModel | str, x_train, x_val, profile, *, cache=True, progress=None, workers=None
) -> list:
    """Train one book model as its chapter does (:func:`train_book_models` for one model).

    Returns
    -------
    list of TrainResult
        One per seed of ``model.seeds(profile)``, in seed order.

    Raises
    ------
    ValueError
        If ``model`` names no book model.

    Examples
    --------
    >>> import numpy as np
    >>> from cae_lessons.config import Profile
    >>> x = np.random.default_rng(0).random((8, 64, 64, 1), dtype=np.float32)
    >>> runs = train_book_model(
    ...     "cae_pool_upsample_8-16-32_l16", x, x, Profile("quick", 1, None, 2),
    ...     cache=False, progress=False,
    ... )
    >>> [(r.seed, r.epochs) for r in runs]
    [(0, 1), (1, 1)]
    """
    [runs] = train_book_models(
        [(model, x_train, x_val)], profile, cache=cache, progress=progress, workers=workers
    )
    return runs


def book_models(data: str | None = None) -> dict[str, BookModel]:
    """Every architecture that chapters 3 and 4 train, and example 3, by model name (ch. 9).

    Chapter 3 trains its real fix as ``example2()`` and the shape-only fix of example 1; chapter
    4 trains example 2 and a 64×64 sweep of ``build_cae`` designs (max pooling or strided
    convolutions, latent ratio 4, 16 or 64); the results chapter (ch. 9) trains example 3, which
    chapter 5 only traces. Chapter 5's decoders are an experiment that both chapters call
    (:func:`cae_lessons.experiments.decoders.compare_decoders`), not a registry entry. A test checks
    that each builder gives the chapter's model name and architecture, which is what the
    training cache keys on.

    Parameters
    ----------
    data : {AXIAL_128, AXIAL_64}, optional
        Keep only the models trained on these images.

    Returns
    -------
    dict of str to BookModel

    Raises
    ------
    ValueError
        If ``data`` is not one of the data keys.

    Examples
    --------
    >>> models = book_models(AXIAL_64)
    >>> list(models)[:2]
    ['cae_pool_upsample_8-16-32_l16', 'cae_stride_upsample_8-16-32_l16']
    >>> models["cae_pool_upsample_8-16-32_l16"]
    BookModel(name='cae_pool_upsample_8-16-32_l16', label='CAE pool, ratio 4', chapter=4, \
doc='compression_sweep', data='axial 64×64')
    >>> book_models()["example2"].build().count_params()
    5089
    """
    if data is not None and data not in (AXIAL_128, AXIAL_64):
        raise ValueError(
            f"data must be None or one of {(AXIAL_128, AXIAL_64)} (AXIAL_128 "
            f"or AXIAL_64), got {data!r}."
        )
    ch3, ch4, ch5 = "fixes_trained", "padding_bottleneck", "transposed_convolutions"
    models = [
        BookModel("example2", "example 2 = ch. 3 real fix", 4, ch4, AXIAL_128, example2),
        BookModel(
            "example1_fix_crop_or_pad_output",
            "example 1, shape-only fix",
            3,
            ch3,
            AXIAL_128,
            _example1_shape_only_fix,
        ),
        BookModel("example3", "example 3", 5, ch5, AXIAL_128, example3),
    ]
    models += [sweep_model(down, ratio) for ratio in SWEEP_CHANNELS for down in SWEEP_DOWN]
    return {m.name: m for m in models if data is None or m.data == data}


AXIAL_128 = "axial 128×128"
"""Data key: ``load_mri_data(plane='axial', fit='crop')`` split with ``split_by_slab(seed=0)``."""


AXIAL_64 = "axial 64×64"
"""Data key: the :data:`AXIAL_128` split averaged down with ``block_mean(x, 2)`` (ch. 4-5)."""
