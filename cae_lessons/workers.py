"""Several training runs at once: one worker process per CPU core.

One TensorFlow process training one of the book's small models leaves a two-core CPU about half
idle: its convolutions are too small to keep both cores busy. The chapters train many
independent runs (seeds, designs), so two processes, each training its own run, finish them
sooner (``benchmarks/training_levers.py`` measures by how much). :func:`train_runs` trains the
runs that the training cache does not hold yet in worker processes, which store each run in the
cache, and then returns every run through :func:`cae_lessons.training.train` itself, which
loads it from there: a run's numbers are the ones ``train`` gives, whichever process trained it.

On a GPU (one device, which one process keeps busy), with ``workers=1`` or with the cache off,
the runs are trained here, one after the other.
"""

from __future__ import annotations

import atexit
import os
import pickle
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import numpy as np

from cae_lessons.config import gpu_available
from cae_lessons.training import (
    TrainResult,
    _progress_enabled,
    _progress_line,
    is_cached,
    train,
)
from cae_lessons.validate import is_int

WORKERS_VARIABLE = "CAE_LESSONS_WORKERS"

_POOL: dict = {}  # (workers, threads) -> ProcessPoolExecutor, kept for the next call


@dataclass(frozen=True, eq=False)
class Run:
    """One training run for :func:`train_runs`: the arguments of :func:`train`.

    Attributes
    ----------
    build : callable
        Zero-argument function that returns the compiled, untrained model. A worker process can
        train the run only if the function can be pickled (a module-level function, or a
        ``functools.partial`` of one); otherwise it is trained in this process.
    x_train, x_val : (N, H, W, C) float32
    options : dict
        Keyword arguments of :func:`train` (``epochs`` at least; ``batch_size``, ``seed``,
        ``patience``, ...), but not ``cache`` or ``progress``.
    """

    build: Callable
    x_train: np.ndarray = field(repr=False)
    x_val: np.ndarray = field(repr=False)
    options: dict = field(default_factory=dict)

    def __post_init__(self):
        if not callable(self.build):
            raise TypeError(
                f"Run.build must be a function that builds the model, got "
                f"{type(self.build).__name__}."
            )
        taken = {"cache", "progress", "strategy", "callbacks"} & set(self.options)
        if "epochs" not in self.options or taken:
            raise ValueError(
                "Run.options are train()'s keyword arguments with at least 'epochs' and without "
                f"{sorted(taken) or ['cache', 'progress']} (train_runs sets the cache and the "
                f"progress; a strategy or extra callbacks need train() itself), got "
                f"{sorted(self.options)}."
            )


def default_workers(runs: int) -> int:
    """How many processes :func:`train_runs` uses for ``runs`` runs that need training.

    ``$CAE_LESSONS_WORKERS`` when set; otherwise one on a GPU and, on a CPU, one per core this
    process may use, but no more than there are runs.

    Examples
    --------
    >>> import os
    >>> os.environ[WORKERS_VARIABLE] = "1"
    >>> default_workers(9)
    1
    >>> os.environ[WORKERS_VARIABLE] = "two"
    >>> default_workers(9)
    Traceback (most recent call last):
    ...
    ValueError: CAE_LESSONS_WORKERS='two' is not a number of worker processes; expected ...
    >>> del os.environ[WORKERS_VARIABLE]
    """
    value = os.environ.get(WORKERS_VARIABLE, "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ValueError(
                f"{WORKERS_VARIABLE}={value!r} is not a number of worker processes; expected an "
                f"integer >= 1 (1 trains every run in this process), or unset it."
            )
        return int(value)
    if gpu_available():
        return 1
    return max(1, min(runs, len(os.sched_getaffinity(0))))


def _threads() -> tuple[int, int]:
    import tensorflow as tf

    return (
        tf.config.threading.get_intra_op_parallelism_threads(),
        tf.config.threading.get_inter_op_parallelism_threads(),
    )


def _start_worker(threads: tuple[int, int]) -> None:
    """Give a worker the thread counts of the process that started it (part of the cache key),
    and leave interrupts to that process: Ctrl-C, or a notebook's interrupt button, stops the
    waiting, not the runs in flight, which still land in the cache."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # TensorFlow's import writes its start-up log straight to file descriptor 2, which a notebook
    # would show under the cell that started the workers; errors reach the caller as exceptions.
    saved, quiet = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 2)
    try:
        import tensorflow as tf
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(quiet)

    intra, inter = threads
    if intra:
        tf.config.threading.set_intra_op_parallelism_threads(intra)
    if inter:
        tf.config.threading.set_inter_op_parallelism_threads(inter)


def _train_stored(run: Run, cache) -> float:
    """In a worker: train ``run`` into the cache; return the seconds it took."""
    result = train(run.build, run.x_train, run.x_val, cache=cache, progress=False, **run.options)
    return result.seconds


def _pool(workers: int, threads: tuple[int, int]) -> ProcessPoolExecutor:
    import multiprocessing

    key = (workers, threads)
    if key not in _POOL:
        _shutdown()
        _POOL[key] = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(threads,),
        )
    return _POOL[key]


@atexit.register
def _shutdown(wait: bool = True) -> None:
    for pool in _POOL.values():
        pool.shutdown(wait=wait, cancel_futures=True)
    _POOL.clear()


def _picklable(build) -> bool:
    try:
        pickle.dumps(build)
    except Exception:  # lambdas, closures, notebook functions: any failure means "not here"
        return False
    return True


def _train_in_workers(runs: list[Run], workers: int, cache, show) -> None:
    pool = _pool(workers, _threads())
    start = time.perf_counter()
    try:
        futures = [pool.submit(_train_stored, run, cache) for run in runs]
        for done, future in enumerate(as_completed(futures), 1):
            future.result()
            if show is not None:
                show(
                    f"trained {done} of {len(runs)} runs in {workers} processes "
                    f"({time.perf_counter() - start:.0f} s)",
                    done == len(runs),
                )
    except KeyboardInterrupt:
        _shutdown(wait=False)  # queued runs are dropped; the ones in flight finish into the cache
        raise
    except BrokenProcessPool as error:
        _shutdown()
        raise RuntimeError(
            f"A worker process died while training ({error}). Set {WORKERS_VARIABLE}=1, or "
            "pass workers=1, to train in this process and see the error there. In a script, "
            "call train_runs under `if __name__ == '__main__':`: each worker imports the script "
            "first, and without that guard it would start workers of its own."
        ) from error


def train_runs(
    runs: Sequence[Run], *, workers: int | None = None, cache=True, progress: bool | None = None
) -> list[TrainResult]:
    """Train every run, those not yet in the cache several at a time, and return them in order.

    Parameters
    ----------
    runs : sequence of Run
    workers : int, optional
        Processes that train at once (default: :func:`default_workers`). With 1, or
        ``cache=False``, every run trains in this process.
    cache : bool or path
        As for :func:`cae_lessons.training.train`. Worker processes hand their runs back
        through it.
    progress : bool, optional
        One line saying how many runs are done (default as for ``train``).

    Returns
    -------
    list of TrainResult
        One per run, in order, each as ``train`` returns it (``cache_hit`` is True for a run
        that a worker trained).

    Raises
    ------
    TypeError
        If an element of ``runs`` is not a :class:`Run`.
    ValueError
        If ``workers`` is not a positive integer.
    RuntimeError
        If a worker process dies (TensorFlow aborting, out of memory).

    Examples
    --------
    >>> import functools, tempfile
    >>> from cae_lessons.models import build_cae
    >>> x = np.random.default_rng(0).random((8, 16, 16, 1), dtype=np.float32)
    >>> tiny = functools.partial(build_cae, (16, 16, 1), filters=(4,), latent_channels=1)
    >>> runs = [Run(tiny, x, x, {"epochs": 2, "seed": s}) for s in (0, 1)]
    >>> [r.seed for r in train_runs(runs, cache=tempfile.mkdtemp(), progress=False)]
    [0, 1]
    """
    runs = list(runs)
    for i, run in enumerate(runs):
        if not isinstance(run, Run):
            raise TypeError(f"runs[{i}] must be a Run, got {type(run).__name__}.")
    if workers is not None and (not is_int(workers) or workers < 1):
        raise ValueError(f"workers must be None or an integer >= 1, got {workers!r}.")
    if cache is not False:
        todo = [
            run
            for run in runs
            if _picklable(run.build)
            and not is_cached(run.build, run.x_train, run.x_val, cache=cache, **run.options)
        ]
        count = default_workers(len(todo)) if workers is None else min(int(workers), len(todo))
        if count > 1:
            show = _progress_line("training") if _progress_enabled(progress) else None
            _train_in_workers(todo, count, cache, show)
    return [
        train(run.build, run.x_train, run.x_val, cache=cache, progress=progress, **run.options)
        for run in runs
    ]


def train_seeds(
    builds: Mapping[str, Callable],
    x_train: np.ndarray,
    x_val: np.ndarray,
    *,
    seeds: Iterable[int],
    cache=True,
    progress: bool | None = None,
    workers: int | None = None,
    **options,
) -> dict[str, list[TrainResult]]:
    """Train every model of ``builds`` with every seed, all at once (:func:`train_runs`).

    Parameters
    ----------
    builds : mapping of str to callable
        Name → zero-argument function that builds the model (picklable, as for :class:`Run`).
    x_train, x_val : (N, H, W, C) float32
    seeds : iterable of int
    cache, progress, workers
        As for :func:`train_runs`.
    **options
        The other keyword arguments of :func:`cae_lessons.training.train` (``epochs`` at least).

    Returns
    -------
    dict of str to list of TrainResult
        Per name, in the order of ``builds``, one run per seed in seed order.

    Examples
    --------
    >>> import functools, tempfile
    >>> from cae_lessons.models import build_cae
    >>> x = np.random.default_rng(0).random((8, 16, 16, 1), dtype=np.float32)
    >>> builds = {f"{f} filters": functools.partial(build_cae, (16, 16, 1), filters=(f,),
    ...                                               latent_channels=1) for f in (2, 4)}
    >>> runs = train_seeds(builds, x, x, seeds=range(2), epochs=1, cache=tempfile.mkdtemp(),
    ...                    progress=False)
    >>> {name: [r.seed for r in rs] for name, rs in runs.items()}
    {'2 filters': [0, 1], '4 filters': [0, 1]}
    """
    seeds = [int(seed) for seed in seeds]
    if not seeds:
        raise ValueError("seeds must name at least one training seed, e.g. range(3); got none.")
    runs = [
        Run(build, x_train, x_val, {**options, "seed": seed})
        for build in builds.values()
        for seed in seeds
    ]
    trained = iter(train_runs(runs, cache=cache, progress=progress, workers=workers))
    return {name: [next(trained) for _ in seeds] for name in builds}
