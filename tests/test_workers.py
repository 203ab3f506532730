"""workers.py: runs trained in worker processes come back as train() gives them."""

import functools
import multiprocessing
import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest

from cae_lessons import workers
from cae_lessons.models import build_cae
from cae_lessons.training import train
from cae_lessons.workers import WORKERS_VARIABLE, Run, default_workers, train_runs

X = np.random.default_rng(0).random((8, 16, 16, 1), dtype=np.float32)
TINY = functools.partial(build_cae, (16, 16, 1), filters=(4,), latent_channels=1, name="tiny")


def _runs(seeds=(0, 1), **options):
    return [Run(TINY, X, X, {"epochs": 2, "batch_size": 4, "seed": s, **options}) for s in seeds]


def _dies_in_a_worker():
    """Builds the tiny model here, and ends a worker process abruptly (as an abort would)."""
    if multiprocessing.parent_process() is not None:
        os._exit(3)
    return TINY()


def test_runs_trained_in_workers_equal_runs_trained_here(tmp_path):
    parallel = train_runs(_runs(patience=1), cache=tmp_path, progress=False, workers=2)
    for run, result in zip(_runs(patience=1), parallel, strict=True):
        here = train(run.build, X, X, cache=False, progress=False, **run.options)
        assert result.cache_hit  # a worker trained it; train() loaded it from the cache
        assert result.history == here.history
        for ours, theirs in zip(result.model.get_weights(), here.model.get_weights(), strict=True):
            np.testing.assert_array_equal(ours, theirs)


def test_cached_runs_start_no_worker(tmp_path, monkeypatch):
    train_runs(_runs(), cache=tmp_path, progress=False, workers=1)

    def refuse(*args, **kwargs):
        raise AssertionError("a worker was started for runs the cache holds")

    monkeypatch.setattr(workers, "_train_in_workers", refuse)
    again = train_runs(_runs(), cache=tmp_path, progress=False, workers=2)
    assert [r.cache_hit for r in again] == [True, True]


def test_without_the_cache_or_with_one_worker_runs_train_here(tmp_path, monkeypatch):
    monkeypatch.setattr(workers, "_train_in_workers", None)  # calling it would fail
    results = train_runs(_runs(), cache=False, progress=False, workers=2)
    assert [(r.seed, r.cache_hit) for r in results] == [(0, False), (1, False)]
    results = train_runs(_runs(), cache=tmp_path, progress=False, workers=1)
    assert [(r.seed, r.cache_hit) for r in results] == [(0, False), (1, False)]


def test_a_build_that_cannot_be_pickled_trains_here(tmp_path, monkeypatch):
    monkeypatch.setattr(workers, "_train_in_workers", None)
    runs = [Run(lambda: TINY(), X, X, {"epochs": 1, "seed": s}) for s in (0, 1)]
    assert [r.cache_hit for r in train_runs(runs, cache=tmp_path, workers=2)] == [False, False]


def test_a_worker_that_dies_is_a_runtime_error_that_says_how_to_see_why(tmp_path):
    runs = [Run(_dies_in_a_worker, X, X, {"epochs": 1, "seed": s}) for s in (0, 1)]
    with pytest.raises(RuntimeError, match=r"A worker process died .* CAE_LESSONS_WORKERS=1"):
        train_runs(runs, cache=tmp_path, progress=False, workers=2)
    # the broken pool is gone: the next call starts a new one
    assert [r.seed for r in train_runs(_runs(), cache=tmp_path, progress=False)] == [0, 1]


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({}, r"at least 'epochs' and without \['cache', 'progress'\].*got \[\]"),
        ({"epochs": 1, "cache": False}, r"without \['cache'\]"),
        ({"epochs": 1, "callbacks": []}, r"without \['callbacks'\]"),
    ],
)
def test_run_options_must_be_trains_own(options, match):
    with pytest.raises(ValueError, match=match):
        Run(TINY, X, X, options)


def test_run_build_must_be_callable():
    with pytest.raises(TypeError, match=r"Run.build must be a function .* got str"):
        Run("example2", X, X, {"epochs": 1})


def test_train_runs_refuses_what_is_not_a_run():
    with pytest.raises(TypeError, match=r"runs\[0\] must be a Run, got dict"):
        train_runs([{"epochs": 1}])


@pytest.mark.parametrize("count", [0, -1, 1.5, True])
def test_workers_must_be_a_positive_integer(count):
    with pytest.raises(ValueError, match="workers must be None or an integer >= 1"):
        train_runs(_runs(), workers=count)


def test_default_workers_is_one_per_core_and_no_more_than_the_runs(monkeypatch):
    monkeypatch.delenv(WORKERS_VARIABLE, raising=False)
    monkeypatch.setattr(workers, "gpu_available", lambda: False)
    cores = len(os.sched_getaffinity(0))
    assert default_workers(100) == cores
    assert default_workers(1) == 1
    monkeypatch.setattr(workers, "gpu_available", lambda: True)
    assert default_workers(100) == 1  # one GPU: one process keeps it busy
    monkeypatch.setenv(WORKERS_VARIABLE, "3")
    assert default_workers(100) == 3


@pytest.mark.parametrize("value", ["0", "-2", "many"])
def test_the_workers_variable_must_be_a_positive_integer(monkeypatch, value):
    monkeypatch.setenv(WORKERS_VARIABLE, value)
    with pytest.raises(ValueError, match=f"CAE_LESSONS_WORKERS={value!r} is not a number"):
        default_workers(4)


def test_workers_ignore_an_interrupt_meant_for_this_process(tmp_path):
    """A notebook's interrupt reaches the whole process group: the workers must live on."""
    train_runs(_runs(seeds=(5, 6)), cache=tmp_path / "first", progress=False, workers=2)
    children = multiprocessing.active_children()
    assert children  # the pool's workers, kept for the next call
    for child in children:
        os.kill(child.pid, signal.SIGINT)
    again = train_runs(_runs(), cache=tmp_path / "second", progress=False, workers=2)
    assert [r.cache_hit for r in again] == [True, True]  # trained by those same workers
    assert {c.pid for c in multiprocessing.active_children()} == {c.pid for c in children}


def test_an_interrupt_while_waiting_drops_the_pool_and_reaches_the_caller(tmp_path, monkeypatch):
    def interrupted(futures):
        raise KeyboardInterrupt

    monkeypatch.setattr(workers, "as_completed", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train_runs(_runs(), cache=tmp_path, progress=False, workers=2)
    assert workers._POOL == {}


def test_workers_start_without_tensorflows_start_up_log(tmp_path):
    """What a worker writes to its standard error shows under a notebook cell: nothing on start.

    TensorFlow's log lines carry the id of the thread that wrote them; every one must be the
    parent's own (its main thread's id is its process id)."""
    script = (
        "import functools, os, sys, numpy as np\n"
        "from cae_lessons.models import build_cae\n"
        "from cae_lessons.workers import Run, train_runs\n"
        "if __name__ == '__main__':\n"
        "    x = np.zeros((4, 8, 8, 1), np.float32)\n"
        "    tiny = functools.partial(build_cae, (8, 8, 1), filters=(2,), latent_channels=1)\n"
        "    runs = [Run(tiny, x, x, {'epochs': 1, 'seed': s}) for s in (0, 1)]\n"
        f"    train_runs(runs, workers=2, cache={str(tmp_path)!r}, progress=False)\n"
        "    print(os.getpid())\n"
    )
    path = tmp_path / "start.py"
    path.write_text(script)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}  # as the chapters run (environment_report)
    run = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    writers = {int(t) for t in re.findall(r"^[IWEF]\d{4} \S+\s+(\d+) ", run.stderr, re.M)}
    assert writers <= {int(run.stdout.split()[-1])}, run.stderr[-2000:]
