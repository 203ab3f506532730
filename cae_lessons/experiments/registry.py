"""The book's models: every architecture that a chapter trains, named as the chapter names it.

Ch. 9 compares the models of ch. 3-5 on one test set. :func:`book_models` builds each with the
same function and arguments as its chapter, so :func:`cae_lessons.training.train` finds the
chapter's run in the training cache instead of training it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cae_lessons.models import build_cae, example1, example2, example3


@dataclass(frozen=True)
class BookModel:
    """One architecture that a chapter trains, and how it trains it (ch. 9 results table).

    Calling :attr:`build` gives the same model name and architecture as the chapter's own call, so
    ``train(book_model.build, ...)`` with the chapter's data and settings (``epochs=profile.epochs,
    batch_size=8``, each seed of :meth:`seeds`) finds the chapter's run in the training cache.

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
        That chapter's document, e.g. ``'padding_bottleneck'`` (for ``{doc}`` links).
    data : str
        :data:`AXIAL_128` or :data:`AXIAL_64`: the images it is trained and tested on.
    build : callable
        Zero-argument function returning the compiled, untrained model.
    seeds_quick, seeds_full : int or None
        Training seeds ``0, 1, ...`` the chapter uses in the quick and the full profile; ``None``
        means ``profile.seeds``.
    """

    name: str
    label: str
    chapter: int
    doc: str
    data: str
    build: Callable[[], Any] = field(repr=False, compare=False)
    seeds_quick: int | None = 1
    seeds_full: int | None = 1

    def seeds(self, profile) -> range:
        """The training seeds for an execution profile (from ``resolve_profile()``).

        Examples
        --------
        >>> from cae_lessons.config import QUICK, FULL
        >>> sweep = book_models()["cae_pool_upsample_8-16-32_l16"]
        >>> sweep.seeds(QUICK), sweep.seeds(FULL)
        (range(0, 1), range(0, 5))
        """
        name, seeds = getattr(profile, "name", None), getattr(profile, "seeds", None)
        if name not in ("quick", "full") or not isinstance(seeds, int):
            raise TypeError(
                f"profile must be an execution profile with name 'quick' or 'full' and an int "
                f"seeds (from cae_lessons.config.resolve_profile()), got {profile!r}."
            )
        count = self.seeds_quick if name == "quick" else self.seeds_full
        return range(seeds if count is None else count)


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


def _ch4_sweep(down: str, channels: int):
    def build():
        return build_cae((64, 64, 1), filters=(8, 16, 32), down=down, latent_channels=channels)

    return build


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
doc='padding_bottleneck', data='axial 64×64', seeds_quick=1, seeds_full=None)
    >>> book_models()["example2"].build().count_params()
    5089
    """
    if data is not None and data not in (AXIAL_128, AXIAL_64):
        raise ValueError(
            f"data must be None or one of {(AXIAL_128, AXIAL_64)} (AXIAL_128 "
            f"or AXIAL_64), got {data!r}."
        )
    ch3, ch4, ch5 = "stride_incompatibility", "padding_bottleneck", "transposed_convolutions"
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
    for ratio, channels in {4: 16, 16: 4, 64: 1}.items():
        for down in ("pool", "stride"):
            name = f"cae_{down}_upsample_8-16-32_l{channels}"
            label = f"CAE {down}, ratio {ratio}"
            build = _ch4_sweep(down, channels)
            models.append(BookModel(name, label, 4, ch4, AXIAL_64, build, 1, None))
    return {m.name: m for m in models if data is None or m.data == data}


AXIAL_128 = "axial 128×128"
"""Data key: ``load_mri_data(plane='axial', fit='crop')`` split with ``split_by_slab(seed=0)``."""


AXIAL_64 = "axial 64×64"
"""Data key: the :data:`AXIAL_128` split averaged down with ``block_mean(x, 2)`` (ch. 4-5)."""
