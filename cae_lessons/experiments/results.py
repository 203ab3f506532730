"""Ch. 9: every trained model and baseline of the book, scored on one test set.

:func:`results_table` scores trained runs (:class:`cae_lessons.training.TrainResult`) and the
PCA and bicubic baselines with the same metrics (MSE, MAE, PSNR, SSIM, high-frequency
retention, the checkerboard score), with an interval over seeds where a model has several.
:func:`train_book_results` trains (or loads from the training cache) every model the book
compares, and :func:`results_tables` scores them in ch. 9's two tables, which the chapter and its
section "Five findings across chapters" both use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cae_lessons.baselines import Baseline, bicubic_baseline, pca_baseline
from cae_lessons.experiments.decoders import compare_decoders
from cae_lessons.experiments.registry import AXIAL_64, AXIAL_128, book_models, train_book_models
from cae_lessons.metrics import checkerboard_score, high_frequency_retention
from cae_lessons.scores import evaluate
from cae_lessons.shapes import trace
from cae_lessons.stats import Verdicts, as_pairs, judge, summarize
from cae_lessons.tables import html_table, row_named, text_table
from cae_lessons.training import TrainResult, reconstruct

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
    run_means : dict of str to tuple of float
        Per metric (as ``metrics``), the mean over the images of each run: the values a verdict
        over seeds compares (:meth:`ResultsTable.verdicts`), and the seed-to-seed spread.
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
    run_means: dict
    seconds: float | None

    @property
    def psnr_runs(self) -> tuple[float, ...]:
        """Mean PSNR over the images of each run, so the seed-to-seed spread stays visible."""
        return self.run_means["PSNR"]

    @property
    def checkerboard_runs(self) -> tuple[float, ...]:
        """Mean checkerboard score of each run (one run that failed to train cannot stand for
        all in a median)."""
        return self.run_means["checkerboard"]

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
    confidence : float
        Level of the intervals, over images in the table and over seeds in :meth:`verdicts`.
    show_time : bool
        Whether the table shows the train-time column.
    """

    rows: tuple[ResultRow, ...]
    test_set: str
    n_images: int
    input_checkerboard: float
    cutoff: float
    confidence: float = 0.95
    show_time: bool = True

    def __getitem__(self, label: str) -> ResultRow:
        return row_named(self.rows, "label", label, "row")

    def without_time(self) -> ResultsTable:
        """The same table without the train-time column."""
        from dataclasses import replace

        return replace(self, show_time=False)

    def verdicts(self, *pairs) -> Verdicts:
        """Rows compared on PSNR, SSIM and MAE over seeds: ``verdicts(a, b)`` or
        ``verdicts((a, b), (c, d), ...)``.

        Each run's mean over the test images is one value (:attr:`ResultRow.run_means`); a
        baseline's value is exact. See :func:`cae_lessons.stats.seed_verdict`.
        """

        def values(label: str, metric: str):
            row = self[label]
            return row.run_means[metric][0] if row.baseline else row.run_means[metric]

        return judge(as_pairs(pairs), values, confidence=self.confidence)

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
        headers, rows, caption = self._table()
        return f"{text_table(headers, rows)}\n({caption})"

    def _repr_html_(self) -> str:
        """The verdict columns in a table that fits the book's column; every column below."""
        headers, rows, caption = self._table()
        shown = [headers.index(h) for h in VERDICT_COLUMNS]
        main = html_table(
            [headers[i] for i in shown],  # at 1280 px they fit the book's column unscrolled
            [[row[i] for i in shown] for row in rows],
            caption.split("; PSNR per run")[0],
            narrow=True,
        )
        rest = ", ".join(h for h in headers if h not in VERDICT_COLUMNS)
        details = html_table(headers, rows, caption)
        return f"{main}<details><summary>All columns ({rest})</summary>{details}</details>"


def _scored_row(label, outputs, x_test, cutoff, strides, confidence, **fields) -> ResultRow:
    per_run = {name: [] for name in _ROW_METRICS}  # per metric: each run's per-image values
    for y in outputs:
        scores = evaluate(x_test, y, confidence=confidence).per_image()
        for name in ("MSE", "MAE", "PSNR", "SSIM"):
            per_run[name].append(scores[name])
        per_run["HF retention"].append(high_frequency_retention(x_test, y, cutoff).ratio)
        per_run["checkerboard"].append(checkerboard_score(y, strides))
    metrics = {
        name: summarize(
            np.mean(per_run[name], axis=0),  # each image averaged over the runs
            name,
            unit=_ROW_STYLE[name][0],
            fmt=_ROW_STYLE[name][1],
            confidence=confidence,
        )
        for name in _ROW_METRICS
    }
    run_means = {name: tuple(float(np.mean(v)) for v in runs) for name, runs in per_run.items()}
    return ResultRow(label=label, runs=len(outputs), metrics=metrics, run_means=run_means, **fields)


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

    For every row: MSE, MAE, PSNR and SSIM (as :func:`cae_lessons.scores.evaluate`), the
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
        here (as :func:`reconstruct` does), or a :class:`cae_lessons.baselines.Baseline` of
        ``x_test``.
    chapters : mapping of str to int, optional
        Chapter that trains each model row, by label (e.g. from
        :func:`cae_lessons.experiments.registry.book_models`).
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
        :func:`cae_lessons.scores.evaluate` (e.g. a baseline of other images).

    Examples
    --------
    >>> import keras
    >>> from cae_lessons.baselines import bicubic_baseline
    >>> from cae_lessons.models import build_cae
    >>> from cae_lessons.training import train
    >>> x = np.random.default_rng(0).random((6, 16, 16, 1)).astype(np.float32)
    >>> def tiny():
    ...     return build_cae((16, 16, 1), filters=(4,), latent_channels=1, name="tiny")
    >>> runs = [train(tiny, x, x, epochs=1, seed=s, cache=False, progress=False) for s in (0, 1)]
    >>> table = results_table(x, {"tiny CAE": runs, "bicubic": bicubic_baseline(x, 2)},
    ...                       chapters={"tiny CAE": 9}, test_set="noise")
    >>> row = table["tiny CAE"]
    >>> row.runs, row.parameters, row.compression_ratio, len(row.psnr_runs)
    (2, 154, 4.0, 2)
    >>> len(row.checkerboard_runs)
    2
    >>> table["bicubic"].parameters, table["bicubic"].compression_ratio, table["bicubic"].seconds
    (0, 4.0, None)
    """

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
        confidence=confidence,
    )


@dataclass(frozen=True)
class BookRuns:
    """Every model the book compares, trained with the profile's seeds (ch. 9).

    Attributes
    ----------
    runs : dict of str to list of TrainResult
        Row label → one run per seed: the models of
        :func:`~cae_lessons.experiments.registry.book_models` and ch. 5's three decoders.
    chapters : dict of str to int
        Row label → the chapter that trains the model.
    """

    runs: dict
    chapters: dict

    def __repr__(self) -> str:
        count = sum(len(runs) for runs in self.runs.values())
        lines = [f"BookRuns({len(self.runs)} models, {count} runs)"]
        lines += [
            f"  ch. {self.chapters[label]}  {label:32s} {len(runs)} runs, epochs "
            f"{[len(run.history['loss']) for run in runs]}"
            for label, runs in self.runs.items()
        ]
        return "\n".join(lines)


def train_book_results(data: Mapping, profile) -> BookRuns:
    """Train every model the book compares, as its chapter trains it (ch. 9).

    The models of :func:`~cae_lessons.experiments.registry.book_models` with
    :func:`~cae_lessons.experiments.registry.train_book_models`, and ch. 5's decoders with
    :func:`~cae_lessons.experiments.decoders.compare_decoders`: the chapters' own calls, so the
    runs come from the training cache where the chapters have run.

    Parameters
    ----------
    data : mapping
        :data:`~cae_lessons.experiments.registry.AXIAL_128` and
        :data:`~cae_lessons.experiments.registry.AXIAL_64` → ``(x_train, x_val, x_test)``, each
        (N, H, W, 1) float32.
    profile : Profile
        Seeds and epoch cap.

    Returns
    -------
    BookRuns
    """
    registry = book_models()
    trained = train_book_models([(m, *data[m.data][:2]) for m in registry.values()], profile)
    runs = {
        m.label: list(model_runs) for m, model_runs in zip(registry.values(), trained, strict=True)
    }
    chapters = {m.label: m.chapter for m in registry.values()}
    decoders = compare_decoders(*data[AXIAL_64], seeds=range(profile.seeds), epochs=profile.epochs)
    runs |= {label: list(seed_runs) for label, seed_runs in decoders.runs.items()}
    chapters |= dict.fromkeys(decoders.runs, 5)
    return BookRuns(runs=runs, chapters=chapters)


def results_tables(data: Mapping, book: BookRuns) -> tuple[ResultsTable, ResultsTable]:
    """Ch. 9's two results tables, on the 128×128 and the 64×64 test slabs.

    The 128×128 table holds every 128×128 model of ``book`` and the bicubic baselines that store
    4 and 16 times fewer values than the input (ratios 4 and 16); the 64×64 table every 64×64
    model (ch. 4's sweep and ch. 5's decoders), the bicubic baselines of ratios 4, 16 and 64, and
    PCA with 64 components (ratio 64, the only ratio at which PCA has fewer components than
    there are training slices).

    Parameters
    ----------
    data : mapping
        As for :func:`train_book_results`.
    book : BookRuns

    Returns
    -------
    table_128, table_64 : ResultsTable
    """
    x_test = data[AXIAL_128][2]
    entries = {m.label: book.runs[m.label] for m in book_models(AXIAL_128).values()}
    entries |= {f"bicubic, ratio {f * f}": bicubic_baseline(x_test, f) for f in (2, 4)}
    table_128 = results_table(
        x_test, entries, chapters=book.chapters, test_set="Axial MNI152 slices, 128×128"
    )
    x_train64, _, x_test64 = data[AXIAL_64]
    entries = {m.label: book.runs[m.label] for m in book_models(AXIAL_64).values()}
    registered = {m.label for m in book_models().values()}
    entries |= {label: runs for label, runs in book.runs.items() if label not in registered}
    entries |= {f"bicubic, ratio {f * f}": bicubic_baseline(x_test64, f) for f in (2, 4, 8)}
    entries["PCA, ratio 64"] = pca_baseline(x_train64, x_test64, 64 * 64 // 64)
    table_64 = results_table(
        x_test64, entries, chapters=book.chapters, test_set="The same slices, 64×64 block means"
    )
    return table_128, table_64
