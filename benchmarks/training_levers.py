"""What speeds up the book's training on a CPU: worker processes, early stopping, batch, XLA.

Measured on chapter 4's sweep model (``sweep_model('pool', 4)``: 64×64 MRI, 87 training
slices, batch 8), with TensorFlow's CPU kernels as it sets them (printed):

1. **Worker processes.** ``--runs`` runs (seeds 0, 1, ...) trained as the book trains them
   (``profile.epochs`` = 20 at most, early stopping after a 10-epoch warm-up with patience 3),
   once one after the other in this process (``workers=1``) and once by
   :func:`cae_lessons.workers.train_runs` with one worker process per core, each into a cold
   training cache. The ratio of the wall times includes starting the workers.
2. **Early stopping.** The epochs those runs trained against the cap: the share of the epoch
   budget it saved.
3. **Batch size.** Images per second of ``fit`` at batch 8, 16 and 32 (the best of five timings
   of two epochs, after one epoch of warm-up and one model trained and thrown away). A larger
   batch takes fewer steps per epoch and learns less per epoch, so the book keeps 8; this shows
   what it would gain.
4. **Op determinism and XLA.** ``fit`` with TensorFlow's op determinism on (as ``train`` runs:
   the same seed gives the same numbers) and off, and with ``jit_compile=True`` (off only: Keras
   turns XLA off while determinism is on): the first epoch's seconds (XLA compiles in it) and the
   images per second after it.

Prints each measurement and its ratio, all from this one run. ``--runs N`` (default 4) sets the
runs of part 1; ``--quick`` uses 2 runs of at most 3 epochs and skips parts 3 and 4 (a smoke
run). Not a test: ``make benchmarks``.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow loads: no start-up log
REPEATS = 5


@functools.cache
def _data():
    from cae_lessons.data import block_mean, load_mri_data, split_by_slab

    x, info = load_mri_data(plane="axial", fit="crop", return_info=True)
    split = split_by_slab(x, info, seed=0)
    return tuple(block_mean(a, 2) for a in (split.x_train, split.x_val))


def _runs(count: int, epochs: int):
    from cae_lessons.experiments.registry import (
        BATCH_SIZE,
        PATIENCE,
        START_FROM_EPOCH,
        sweep_model,
    )
    from cae_lessons.workers import Run

    x_train, x_val = _data()
    options = {"epochs": epochs, "batch_size": BATCH_SIZE, "patience": PATIENCE}
    options["start_from_epoch"] = min(START_FROM_EPOCH, epochs - 1)
    build = sweep_model("pool", 4).build
    return [Run(build, x_train, x_val, {**options, "seed": seed}) for seed in range(count)]


def workers(count: int, epochs: int) -> None:
    from cae_lessons.workers import default_workers, train_runs

    cores = default_workers(count)
    times, ran = {}, []
    for processes in (1, cores):
        with tempfile.TemporaryDirectory() as cache:
            start = time.perf_counter()
            results = train_runs(_runs(count, epochs), workers=processes, cache=cache)
            times[processes] = time.perf_counter() - start
            ran = [len(r.history["loss"]) for r in results]
    print(f"1. {count} runs of ch. 4's sweep model, cold cache:")
    print(f"   one after the other in this process: {times[1]:6.1f} s")
    print(f"   train_runs, {cores} worker processes:   {times[cores]:6.1f} s")
    print(f"   ratio: {times[1] / times[cores]:.2f}×")
    saved = 1 - sum(ran) / (epochs * len(ran))
    print(f"2. early stopping: epochs trained {ran} of {epochs} each: {100 * saved:.0f}% saved")


def _fit_images_per_second(
    batch_size: int, *, jit: bool = False, deterministic: bool = True
) -> tuple[float, float]:
    """(seconds of the first epoch, images/s after it) of ``fit`` at ``batch_size``: the best of
    :data:`REPEATS` timings of two epochs."""
    import keras

    from cae_lessons.config import seed_everything
    from cae_lessons.experiments.registry import sweep_model

    x_train, _ = _data()
    seed_everything(0, deterministic=deterministic)
    model = sweep_model("pool", 4).build()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse", jit_compile=jit)
    if model.jit_compile != jit:
        raise SystemExit(f"Keras set jit_compile={model.jit_compile}, asked {jit}: nothing timed.")
    fit = functools.partial(model.fit, x_train, x_train, batch_size=batch_size, verbose=0)
    start = time.perf_counter()
    fit(epochs=1)
    first = time.perf_counter() - start
    rates = []
    for _ in range(REPEATS):  # the best of several: a shared machine only ever slows a run down
        start = time.perf_counter()
        fit(epochs=2)
        rates.append(2 * len(x_train) / (time.perf_counter() - start))
    return first, max(rates)


def batch_sizes() -> None:
    _fit_images_per_second(8)  # warm-up: the first model of a process trains slower
    rates = {b: _fit_images_per_second(b)[1] for b in (8, 16, 32)}
    print("3. fit, images/s by batch size (the book trains at 8):")
    for b, rate in rates.items():
        print(f"   batch {b:2d}: {rate:7.1f} images/s  ({rate / rates[8]:.2f}× batch 8)")


def determinism_and_xla() -> None:
    from cae_lessons.training import _disable_op_determinism

    _disable_op_determinism()  # train() and part 3 turned it on; Keras skips XLA while it is on
    plain_first, plain = _fit_images_per_second(8, deterministic=False)
    jit_first, jitted = _fit_images_per_second(8, jit=True, deterministic=False)
    _, deterministic = _fit_images_per_second(8)  # turns op determinism back on, as the book runs
    print("4. op determinism and XLA, batch 8:")
    print(f"   op determinism on (the book): {deterministic:7.1f} images/s")
    print(f"   off: first epoch {plain_first:5.1f} s, then {plain:7.1f} images/s", end="")
    print(f"  ({plain / deterministic:.2f}× on)")
    print(
        f"   off, jit_compile=True: first epoch {jit_first:5.1f} s, then {jitted:7.1f} images/s",
        end="",
    )
    print(f"  ({jitted / plain:.2f}× off without XLA)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 short runs only")
    args = parser.parse_args(argv)
    from cae_lessons.config import environment_report

    print(environment_report())
    if args.quick:
        workers(2, 3)
        return
    workers(args.runs, 20)
    batch_sizes()
    determinism_and_xla()


if __name__ == "__main__":
    sys.exit(main())
