"""Ch. 7: does a mismatch make training unstable? Per-layer gradient norms over training.

:func:`summarize_gradients` reads the gradient norms that :func:`cae_lessons.training.train`
records for every layer with weights (before training and after each epoch) and summarises them
per model and over seeds: the smallest and largest norm by depth, the ratio of the first layer's
to the last's, and which layers fall below :data:`VANISHING_NORM` or above
:data:`EXPLODING_NORM`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cae_lessons.tables import html_table, row_named, text_table

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
        return row_named(self.rows, "name", name, "design")

    def _caption(self) -> str:
        first = self.rows[0]
        return (
            f"L2 norms of each kernel's gradient; ratios over seeds (geometric mean for "
            f"first/last, worst seed for spread); vanishing below {first.vanishing_below:g}, "
            f"exploding above {first.exploding_above:g}; losses are means over seeds"
        )

    def __repr__(self) -> str:
        table = text_table(_GRADIENT_HEADERS, [row._cells() for row in self.rows])
        return f"{table}\n({self._caption()})"

    def _repr_html_(self) -> str:
        return html_table(_GRADIENT_HEADERS, [row._cells() for row in self.rows], self._caption())


def summarize_gradients(
    runs,
    *,
    vanishing_below: float = VANISHING_NORM,
    exploding_above: float = EXPLODING_NORM,
) -> GradientReport:
    """Summarise the per-layer gradient norms of several designs, each trained with several seeds.

    Used by ch. 7 ("Does a mismatch make training unstable?") to test the claim that size
    mismatches cause vanishing or exploding gradients, and by its section "Gradients, or what the
    design can represent?" to set gradient health beside the losses: for each design, how the
    first layer's gradient compares with the last layer's, how far apart the layers' gradients are
    (spread), before training and after it, and whether any norm crossed a threshold.

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
    >>> from cae_lessons.training import TrainResult
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
