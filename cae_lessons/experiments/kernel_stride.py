"""Ch. 8: kernel size against stride, in a one-layer autoencoder.

:func:`kernel_stride_design` says what a ``Conv2D(k, s)`` encoder undone by a
``Conv2DTranspose(k, s)`` decoder computes from its shapes alone (compression, receptive field,
parameters, multiply-accumulates, the input pixels it never reads); :func:`kernel_stride_sweep`
trains every design of a grid, seeded and cached, and scores it on held-out images.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cae_lessons.metrics import HF_CUTOFF
from cae_lessons.models import count_macs, count_parameters
from cae_lessons.receptive import read_positions, written_positions
from cae_lessons.scores import SeedComparison, compare_over_seeds
from cae_lessons.tables import html_table, text_table
from cae_lessons.training import TrainResult, reconstruct
from cae_lessons.validate import check_images, check_int, check_ints
from cae_lessons.workers import train_seeds

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
    design : cae_lessons.experiments.kernel_stride.KernelStrideDesign
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
        Training epochs (the cap, where runs stop early) and seeds of every cell.
    cutoff : float
        High-frequency cutoff (fraction of Nyquist) of the retention.
    patience : int or None
        Epochs without a better validation loss after which a run stopped (None: every run
        trained ``epochs`` epochs).
    held_out : cae_lessons.scores.SeedComparison
        Every run of every cell scored on the held-out images (PSNR, SSIM, MAE, HF retention),
        a row per cell named :meth:`label`: ``held_out.verdicts(("k=3, s=4", "k=5, s=4"))``
        compares two cells over their seeds. The cells' PSNR and HF retention are its columns
        (not part of the repr or of equality).
    """

    kernel_sizes: tuple[int, ...]
    strides: tuple[int, ...]
    cells: tuple[KernelStrideCell, ...]
    epochs: int
    seeds: int
    cutoff: float
    patience: int | None = None
    held_out: SeedComparison | None = field(default=None, repr=False, compare=False)

    @staticmethod
    def label(kernel_size: int, strides: int) -> str:
        """A cell's name in tables and verdicts: ``'k=3, s=4'``."""
        return f"k={kernel_size}, s={strides}"

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
        head = f"{metric}{f' ({unit})' if unit else ''}"
        if measured:
            head += f", mean of {self.seeds} seed{'s' * (self.seeds > 1)}"
        labels = [f"s={s}" for s in self.strides]
        table = text_table(
            ["stride", *(f"k={k}" for k in self.kernel_sizes)],
            [[label, *row] for label, row in zip(labels, cells, strict=True)],
            align="l" + "r" * len(self.kernel_sizes),
        )
        return f"{head}\n{table}"

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
        epochs = (
            f"{self.epochs} epochs each"
            if self.patience is None
            else f"each until its validation loss stopped improving ({self.epochs} epochs at most)"
        )
        return (
            f"PSNR and HF retention (power above {self.cutoff:g} × Nyquist, output / input): "
            f"means over the test images and {self.seeds} seed(s), {epochs}"
        )

    def __repr__(self) -> str:
        table = text_table(self._HEADER, self._rows(), align="r" * len(self._HEADER))
        return f"{table}\n({self._caption()})"

    def _repr_html_(self) -> str:
        return html_table(
            self._HEADER, self._rows(), self._caption(), align="r" * len(self._HEADER)
        )


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
    patience: int | None = None,
    start_from_epoch: int = 0,
    cutoff: float | None = None,
    cache: bool | str | os.PathLike = True,
    progress: bool | None = None,
) -> KernelStrideSweep:
    """Train every kernel size × stride design of ch. 8 and measure it on held-out images.

    Each cell is :func:`build_kernel_stride_cae` (one ``Conv2D`` with kernel
    ``k`` and stride ``s``, undone by one ``Conv2DTranspose`` with the same ``k`` and ``s``,
    ``latent_channels`` fixed), trained with :func:`train` (seeded and cached; the runs not yet
    in the cache several at once: :func:`cae_lessons.workers.train_seeds`) for every seed
    ``0, 1, ..., seeds - 1``, and scored on ``x_test`` with the PSNR and the high-frequency
    retention. Every design is checked to round-trip the input before anything trains. Used by
    ch. 8 "Kernel size against stride" and its section "The kernel and stride rule against the
    numbers".

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
    batch_size, learning_rate, patience, start_from_epoch : int, float, int or None, int
        As :func:`train`: with ``patience``, a run stops once its validation loss has not
        improved for that many epochs (not before ``start_from_epoch``) and keeps its best
        weights; ``epochs`` is then the cap.
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
    kernel_sizes = check_ints(
        kernel_sizes, "kernel_sizes", distinct=True, hint="Pass e.g. kernel_sizes=(3, 5, 7, 9)."
    )
    strides = check_ints(strides, "strides", distinct=True, hint="Pass e.g. strides=(1, 2, 3, 4).")
    seeds = check_int(seeds, "seeds", low=1, hint="Pass profile.seeds in a chapter.")
    arrays = {"x_train": x_train, "x_val": x_val, "x_test": x_test}
    for label, x in arrays.items():
        check_images(x, label, float32=True)
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
    builds = {
        design: functools.partial(
            build_kernel_stride_cae,
            input_shape,
            kernel_size=design.kernel_size,
            strides=design.strides,
            latent_channels=latent_channels,
        )
        for design in designs
    }
    trained = train_seeds(
        builds,
        x_train,
        x_val,
        seeds=range(seeds),
        cache=cache,
        progress=progress,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        patience=patience,
        start_from_epoch=start_from_epoch,
    )
    label = KernelStrideSweep.label
    held_out = compare_over_seeds(
        {
            label(d.kernel_size, d.strides): [(x_test, reconstruct(r, x_test)) for r in trained[d]]
            for d in designs
        },
        cutoff=cutoff,
    )
    cells = []
    for design in designs:
        scores = held_out.per_seed(label(design.kernel_size, design.strides))
        cells.append(
            KernelStrideCell(
                design=design,
                psnr=tuple(map(float, scores["PSNR"])),
                hf_retention=tuple(map(float, scores["HF retention"])),
                seconds=tuple(run.seconds for run in trained[design]),
                runs=tuple(trained[design]),
            )
        )
    return KernelStrideSweep(
        kernel_sizes, strides, tuple(cells), epochs, seeds, cutoff, patience, held_out
    )


def kernel_stride_layers(input_shape=(48, 48, 1), *, kernel_size, strides, latent_channels=4):
    """The two layers of ch. 8's one-level autoencoder, as LayerSpec (no Keras).

    ``Conv2D(latent_channels, kernel_size, strides=strides, padding='same')`` named
    ``'bottleneck'``, then ``Conv2DTranspose(C, kernel_size, strides=strides, padding='same')``
    named ``'output'`` (``C`` = the input's channels): the decoder undoes the encoder with the
    same kernel and stride. Used by ch. 8 "Kernel size against stride" through
    :func:`build_kernel_stride_cae` and :func:`kernel_stride_design`.

    Parameters
    ----------
    input_shape : tuple of int
        ``(H, W, C)``.
    kernel_size, strides : int
        Square kernel side and stride of both layers.
    latent_channels : int
        Channels of the bottleneck.

    Returns
    -------
    tuple of LayerSpec

    Raises
    ------
    TypeError, ValueError
        If ``kernel_size``, ``strides`` or ``latent_channels`` is not a positive int.

    Examples
    --------
    >>> from cae_lessons.shapes import trace
    >>> t = trace(kernel_stride_layers(kernel_size=5, strides=3), (48, 48, 1))
    >>> t.bottleneck.output_shape, t.output_shape, t.compression_ratio
    ((16, 16, 4), (48, 48, 1), 2.25)
    """
    from cae_lessons.shapes import LayerSpec

    hint = "Pass e.g. kernel_size=3, strides=2, latent_channels=4."
    kernel_size = check_int(kernel_size, "kernel_size", low=1, hint=hint)
    strides = check_int(strides, "strides", low=1, hint=hint)
    latent_channels = check_int(latent_channels, "latent_channels", low=1, hint=hint)
    window = {"kernel_size": kernel_size, "strides": strides, "padding": "same"}
    return (
        LayerSpec("conv", "bottleneck", filters=latent_channels, **window),
        LayerSpec("conv_transpose", "output", filters=input_shape[2], **window),
    )


def _checked_kernel_stride_trace(input_shape, kernel_size, strides, latent_channels):
    from cae_lessons.shapes import trace

    shape = tuple(input_shape)
    layers = kernel_stride_layers(
        shape, kernel_size=kernel_size, strides=strides, latent_channels=latent_channels
    )
    traced = trace(layers, shape)
    if not traced.matches_input:
        out = "×".join(map(str, traced.output_shape))
        fitting = [-(-n // strides) * strides for n in shape[:2]]
        raise ValueError(
            f"A {shape[0]}×{shape[1]} input does not round-trip through kernel_size={kernel_size},"
            f" strides={strides}: 'same' padding rounds {shape[0]}/{strides} up and the output is "
            f"{out}. Use a height and width that are multiples of {strides}, e.g. "
            f"{fitting[0]}×{fitting[1]}."
        )
    return layers, traced


def build_kernel_stride_cae(
    input_shape=(48, 48, 1), *, kernel_size, strides, latent_channels=4, name=None
):
    """Ch. 8's one-level autoencoder as a compiled Keras model, checked before it is built.

    The layers of :func:`kernel_stride_layers`, with ``relu`` on the bottleneck and ``sigmoid``
    on the output, compiled with Adam and ``loss='mse'``. Used by ch. 8 "Kernel size against
    stride" (through :func:`cae_lessons.experiments.kernel_stride.kernel_stride_sweep`).

    Parameters
    ----------
    input_shape : tuple of int
        ``(H, W, C)``; ``H`` and ``W`` must be multiples of ``strides``.
    kernel_size, strides, latent_channels : int
        As :func:`kernel_stride_layers`.
    name : str, optional
        Default ``'ks_k{kernel_size}_s{strides}_c{latent_channels}'``.

    Returns
    -------
    keras.Sequential

    Raises
    ------
    ValueError
        If the input does not round-trip (the message names a size that does), or as
        :func:`kernel_stride_layers`.

    Examples
    --------
    >>> model = build_kernel_stride_cae((48, 48, 1), kernel_size=9, strides=4)
    >>> model.name, model.get_layer("bottleneck").output.shape, model.count_params()
    ('ks_k9_s4_c4', (None, 12, 12, 4), 653)
    >>> build_kernel_stride_cae((50, 50, 1), kernel_size=3, strides=4)
    Traceback (most recent call last):
    ...
    ValueError: A 50×50 input does not round-trip through kernel_size=3, strides=4: ...
    """
    from cae_lessons.shapes import build_model

    layers, _ = _checked_kernel_stride_trace(input_shape, kernel_size, strides, latent_channels)
    model = build_model(
        layers,
        tuple(input_shape),
        activation="relu",
        output_activation="sigmoid",
        name=name or f"ks_k{kernel_size}_s{strides}_c{latent_channels}",
    )
    model.compile(optimizer="adam", loss="mse")
    return model


@dataclass(frozen=True)
class KernelStrideDesign:
    """What the shapes alone say about one cell of ch. 8's kernel × stride grid.

    Attributes
    ----------
    kernel_size, strides, latent_channels : int
    input_shape, latent_shape : tuple of int
        ``(H, W, C)`` of the input and of the bottleneck.
    compression_ratio : float
        Input values over bottleneck values (below 1: the bottleneck is larger).
    receptive_field : int
        Side of the largest receptive field of an output pixel, in input pixels.
    parameters : int
        From :func:`count_parameters`.
    macs : int
        Multiply-accumulates per image, from :func:`count_macs`.
    unseen_fraction : float
        Fraction of input pixels that no bottleneck unit reads (the kernel is narrower than the
        stride, so the windows leave gaps).
    unreached_fraction : float
        Fraction of output pixels that no bottleneck unit writes to: the transposed convolution
        leaves them to its bias alone.
    """

    kernel_size: int
    strides: int
    latent_channels: int
    input_shape: tuple[int, int, int]
    latent_shape: tuple[int, int, int]
    compression_ratio: float
    receptive_field: int
    parameters: int
    macs: int
    unseen_fraction: float
    unreached_fraction: float

    def __repr__(self) -> str:
        latent = "×".join(map(str, self.latent_shape))
        return (
            f"KernelStrideDesign(k={self.kernel_size}, s={self.strides}: latent {latent}, "
            f"compression {self.compression_ratio:g}×, RF {self.receptive_field}, "
            f"{self.parameters} parameters, {self.macs} MACs, unseen {self.unseen_fraction:.4g}, "
            f"unreached {self.unreached_fraction:.4g})"
        )


def kernel_stride_design(kernel_size, strides, input_shape=(48, 48, 1), latent_channels=4):
    """Shapes, compression, receptive field, cost and coverage of one ch. 8 design, untrained.

    Parameters
    ----------
    kernel_size, strides : int
        As :func:`kernel_stride_layers`.
    input_shape : tuple of int
        ``(H, W, C)``; ``H`` and ``W`` must be multiples of ``strides``.
    latent_channels : int

    Returns
    -------
    KernelStrideDesign

    Raises
    ------
    ValueError
        If the input does not round-trip, as :func:`build_kernel_stride_cae`.

    Examples
    --------
    >>> kernel_stride_design(3, 4)
    KernelStrideDesign(k=3, s=4: latent 12×12×4, compression 4×, RF 3, 77 parameters, 10368 \
MACs, unseen 0.4375, unreached 0.4375)
    >>> d = kernel_stride_design(9, 1)
    >>> d.latent_shape, d.compression_ratio, d.receptive_field
    ((48, 48, 4), 0.25, 17)
    """
    layers, traced = _checked_kernel_stride_trace(
        input_shape, kernel_size, strides, latent_channels
    )
    shape, latent = traced.input_shape, traced.bottleneck.output_shape
    seen, reached = 1.0, 1.0
    for axis, (encoder, decoder) in enumerate(traced.steps):
        seen *= read_positions([encoder]).sum() / shape[axis]
        reached *= written_positions([decoder]).sum() / shape[axis]
    return KernelStrideDesign(
        kernel_size=kernel_size,
        strides=strides,
        latent_channels=latent_channels,
        input_shape=shape,
        latent_shape=latent,
        compression_ratio=traced.compression_ratio,
        receptive_field=max(traced.rows[-1].receptive_field),
        parameters=count_parameters(layers, shape),
        macs=count_macs(layers, shape),
        unseen_fraction=1.0 - seen,
        unreached_fraction=1.0 - reached,
    )
