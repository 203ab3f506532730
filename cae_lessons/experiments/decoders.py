"""Ch. 5: a transposed-convolution decoder against upsampling + convolution, under compression.

The source answer says ``Conv2DTranspose`` layers "learn to upsample the feature maps, often
producing better results compared to simple ``UpSampling2D`` in terms of reconstruction quality,
particularly when dealing with significant dimensionality reduction". This experiment puts that
to the test on 64×64 MRI with real compression: one encoder (3×3 convolutions with 16 and 32
filters, 2×2 max pooling) into a 16×16×4 bottleneck, which holds a quarter of the input's
values, and three decoders:

- ``'transposed conv'``: two stride-2 ``Conv2DTranspose`` layers (32 and 16 filters);
- ``'nearest up + conv'``: ``UpSampling2D`` then a 3×3 convolution, the same widths: the same
  number of parameters, but each convolution runs at the doubled size, so about 2.3 times the
  multiply-accumulates of the whole transposed model;
- ``'nearest up + conv, equal MACs'``: the same with half the widths (16 and 8), which gives
  exactly the transposed model's multiply-accumulates.

Each is trained with several seeds until the validation loss stops improving
(``EarlyStopping`` with ``restore_best_weights``, after the book's warm-up), with an epoch cap,
and scored on the held-out slices; :meth:`DecoderComparison.verdicts` judges two decoders over
seeds on PSNR, SSIM and MAE.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cae_lessons.experiments.registry import BATCH_SIZE, PATIENCE, START_FROM_EPOCH
from cae_lessons.models import build_cae, cae_layers, count_macs, count_parameters, decoder_suffix
from cae_lessons.scores import SeedComparison, compare_over_seeds
from cae_lessons.shapes import trace
from cae_lessons.stats import Verdicts

SIZE = 64
FILTERS = (16, 32)
LATENT_CHANNELS = 4
DECODERS = {
    "transposed conv": {"up": "transpose"},
    "nearest up + conv": {"up": "upsample"},
    "nearest up + conv, equal MACs": {"up": "upsample", "decoder_filters": (16, 8)},
}


def decoder_cae(up: str, *, kernel_size: int = 3, size: int = SIZE, decoder_filters=None):
    """Ch. 5's CAE with decoder ``up``, built and compiled (:func:`~cae_lessons.models.build_cae`).

    Parameters
    ----------
    up : {'upsample', 'transpose', 'resize_conv'}
    kernel_size : int
        Of every convolution (ch. 5 also builds 4×4 transposed kernels).
    size : int
        Height and width of the input.
    decoder_filters : sequence of int, optional
        Decoder widths from the bottleneck up (default: the encoder's, mirrored: 32, 16).

    Returns
    -------
    keras.Sequential
        Named ``'ch5_{up}_k{kernel_size}'``, plus ``'_d16-8'`` for other decoder widths.

    Examples
    --------
    >>> model = decoder_cae("transpose")
    >>> model.name, model.count_params(), model.get_layer("bottleneck").output.shape
    ('ch5_transpose_k3', 11909, (None, 16, 16, 4))
    """
    name = f"ch5_{up}_k{kernel_size}" + decoder_suffix(decoder_filters)
    return build_cae(
        (size, size, 1),
        filters=FILTERS,
        up=up,
        kernel_size=kernel_size,
        latent_channels=LATENT_CHANNELS,
        decoder_filters=decoder_filters,
        name=name,
    )


def untrained_reconstruction(
    up: str, x: np.ndarray, *, kernel_size: int = 3, decoder_filters=None, seed: int = 0
) -> np.ndarray:
    """What ch. 5's CAE with decoder ``up`` outputs before any training.

    Builds :func:`decoder_cae` for the size of ``x`` with Keras' random seed set to ``seed`` (so
    the weights are the initial weights of a training run with that seed) and runs ``x`` through
    it in inference mode.

    Parameters
    ----------
    up : {'upsample', 'transpose', 'resize_conv'}
    x : (N, S, S, 1) float32
        Square slices; ``S`` a multiple of 4 (the encoder pools twice).
    kernel_size : int
        Of every convolution.
    decoder_filters : sequence of int, optional
        Decoder widths from the bottleneck up (default: the encoder's, mirrored).
    seed : int
        Passed to ``keras.utils.set_random_seed``, which also seeds Python's and NumPy's global
        generators.

    Returns
    -------
    (N, S, S, 1) float32

    Examples
    --------
    >>> x = np.full((2, 64, 64, 1), 0.5, np.float32)
    >>> y = untrained_reconstruction("transpose", x, kernel_size=4)
    >>> y.shape, y.dtype
    ((2, 64, 64, 1), dtype('float32'))
    >>> untrained_reconstruction("upsample", x[:, :, :32])
    Traceback (most recent call last):
    ...
    ValueError: untrained_reconstruction needs square ... got (2, 64, 32, 1); crop or pad ...
    """
    import keras

    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 4 or x.shape[1] != x.shape[2] or x.shape[3] != 1:
        raise ValueError(
            "untrained_reconstruction needs square single-channel slices (N, S, S, 1), got "
            f"{x.shape}; crop or pad them to a square first."
        )
    keras.utils.set_random_seed(seed)
    model = decoder_cae(
        up, kernel_size=kernel_size, size=x.shape[1], decoder_filters=decoder_filters
    )
    return np.asarray(model(x, training=False))


@dataclass(frozen=True)
class Design:
    """What the shapes alone say about one decoder design.

    Attributes
    ----------
    label : str
    parameters : int
    macs : int
        Multiply-accumulates per image (:func:`~cae_lessons.models.count_macs`).
    compression : float
        Input values over bottleneck values.
    """

    label: str
    parameters: int
    macs: int
    compression: float

    def __repr__(self) -> str:
        return (
            f"{self.label}: {self.parameters:,} parameters, {self.macs / 1e6:.2f} M MACs per "
            f"image, compression {self.compression:g}×"
        )


def designs() -> tuple[Design, ...]:
    """The three decoders' parameters, multiply-accumulates and compression, from their layers.

    Returns
    -------
    tuple of Design

    Examples
    --------
    >>> for design in designs():
    ...     print(design)
    transposed conv: 11,909 parameters, 11.21 M MACs per image, compression 4×
    nearest up + conv: 11,909 parameters, 26.25 M MACs per image, compression 4×
    nearest up + conv, equal MACs: 7,781 parameters, 11.21 M MACs per image, compression 4×
    """
    shape = (SIZE, SIZE, 1)
    rows = []
    for label, options in DECODERS.items():
        layers = cae_layers(shape, filters=FILTERS, latent_channels=LATENT_CHANNELS, **options)
        rows.append(
            Design(
                label,
                count_parameters(layers, shape),
                count_macs(layers, shape),
                trace(layers, shape).compression_ratio,
            )
        )
    return tuple(rows)


@dataclass(frozen=True, eq=False)
class DecoderComparison:
    """The three decoders, each trained with several seeds, scored on the held-out slices.

    Attributes
    ----------
    designs : tuple of Design
    runs : dict of str to tuple of TrainResult
        Per decoder label, one training run per seed.
    outputs : dict of str to tuple of (N, H, W, 1) float32
        Per decoder label, each run's reconstructions of the test slices.
    table : SeedComparison
        PSNR, SSIM, MAE and high-frequency retention per run, with intervals over seeds.
    """

    designs: tuple[Design, ...]
    runs: dict
    outputs: dict
    table: SeedComparison

    def epochs(self) -> dict[str, tuple[int, ...]]:
        """Epochs each run trained before early stopping ended it (or the cap did)."""
        return {
            label: tuple(len(run.history["loss"]) for run in runs)
            for label, runs in self.runs.items()
        }

    def verdicts(self, *pairs) -> Verdicts:
        """Decoders compared on PSNR, SSIM and MAE over seeds: ``verdicts(a, b)`` or
        ``verdicts((a, b), (c, d), ...)``."""
        return self.table.verdicts(*pairs)

    def __repr__(self) -> str:
        lines = [repr(design) for design in self.designs]
        lines += [f"{label}: epochs {list(n)}" for label, n in self.epochs().items()]
        return "\n".join([*lines, repr(self.table)])

    def _repr_html_(self) -> str:
        return self.table._repr_html_()


def compare_decoders(
    x_train, x_val, x_test, *, seeds: Sequence[int], epochs: int, patience: int = PATIENCE
) -> DecoderComparison:
    """Train every decoder of :data:`DECODERS` with each seed and score it (ch. 5).

    Parameters
    ----------
    x_train, x_val, x_test : (N, 64, 64, 1) float32
        The slab split, at 64×64 (e.g. 2×2 block means of the 128×128 slices).
    seeds : sequence of int
        One training run per seed and decoder; at least three for a verdict to mean much.
    epochs : int
        The cap; early stopping usually ends a run before it.
    patience : int
        Epochs without a lower validation loss before a run stops; its best weights are kept.

    Returns
    -------
    DecoderComparison

    Raises
    ------
    ValueError
        If ``seeds`` is empty or the images are not 64×64.
    """
    from cae_lessons.training import reconstruct
    from cae_lessons.workers import train_seeds

    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must name at least one training seed, e.g. range(3); got none.")
    for name, x in (("x_train", x_train), ("x_val", x_val), ("x_test", x_test)):
        if np.ndim(x) != 4 or tuple(np.shape(x)[1:]) != (SIZE, SIZE, 1):
            raise ValueError(
                f"{name} must be (N, {SIZE}, {SIZE}, 1) images, got shape {np.shape(x)}; average "
                "the 128×128 slices down with cae_lessons.data.block_mean(x, 2)."
            )
    runs = train_seeds(
        {label: functools.partial(decoder_cae, **options) for label, options in DECODERS.items()},
        x_train,
        x_val,
        seeds=seeds,
        epochs=epochs,
        batch_size=BATCH_SIZE,
        patience=patience,
        start_from_epoch=START_FROM_EPOCH,
    )
    outputs = {label: [reconstruct(r, x_test) for r in results] for label, results in runs.items()}
    table = compare_over_seeds({label: [(x_test, y) for y in ys] for label, ys in outputs.items()})
    return DecoderComparison(
        designs(),
        {k: tuple(v) for k, v in runs.items()},
        {k: tuple(v) for k, v in outputs.items()},
        table,
    )
