"""What makes training on two CPU cores faster: Adam's slots built before fit, and oneDNN.

1. ``train()`` creates Adam's slot variables before ``fit``. Created lazily, inside the first
   traced step, they make TensorFlow trace that step twice. Measured on chapter 4's sweep model
   (64×64 MRI, 20 epochs, batch 8): ``fit`` after a plain ``compile`` against ``fit`` after
   ``compile`` plus ``optimizer.build``, each twice, the faster of the two.
2. TensorFlow's oneDNN CPU kernels (``TF_ENABLE_ONEDNN_OPTS=1``; TensorFlow turns them on by
   itself only on some Intel CPUs). TensorFlow reads the variable once, at import, so each
   setting runs in its own child process: the median milliseconds of one training step (after
   warm-up) for three models the chapters train, and one whole ``train()`` of the sweep model.
   The book leaves the setting alone: ``tests/test_onednn.py`` shows why.

Prints times and ratios, all measured in this one run. Not a test: ``make benchmarks``.
"""

from __future__ import annotations

import functools
import json
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow loads: no start-up log
STEPS = 30
MODELS = {
    "ch. 3-4 example2, 128×128": "example2",
    "ch. 4 sweep (pool, ratio 4), 64×64": "sweep",
    "ch. 8 k=5 s=2, 48×48": "kernel_stride",
}


def _build(which: str):
    from cae_lessons.models import build_cae, build_kernel_stride_cae, example2

    if which == "example2":
        return example2()
    if which == "sweep":
        return build_cae((64, 64, 1), filters=(8, 16, 32), down="pool", latent_channels=16)
    return build_kernel_stride_cae((48, 48, 1), kernel_size=5, strides=2)


def _step_ms(which: str) -> float:
    import keras
    import numpy as np

    from cae_lessons.config import seed_everything

    seed_everything(0)
    model = _build(which)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    x = np.random.default_rng(0).random((8, *model.input_shape[1:]), dtype=np.float32)
    for _ in range(5):
        model.train_on_batch(x, x)
    times = []
    for _ in range(STEPS):
        start = time.perf_counter()
        model.train_on_batch(x, x)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


@functools.cache
def _sweep_data():
    from cae_lessons.data import block_mean, load_mri_data, split_by_slab

    x, info = load_mri_data(plane="axial", fit="crop", return_info=True)
    split = split_by_slab(x, info, seed=0)
    return tuple(block_mean(a, 2) for a in (split.x_train, split.x_val))


def _fit_seconds(prebuild: bool) -> float:
    import keras

    from cae_lessons.config import seed_everything

    x_train, x_val = _sweep_data()
    seed_everything(0)
    model = _build("sweep")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    if prebuild:
        model.optimizer.build(model.trainable_variables)
    start = time.perf_counter()
    model.fit(x_train, x_train, validation_data=(x_val, x_val), epochs=20, batch_size=8, verbose=0)
    return time.perf_counter() - start


def _train_seconds() -> float:
    from cae_lessons.training import train

    x_train, x_val = _sweep_data()
    start = time.perf_counter()
    train(
        lambda: _build("sweep"),
        x_train,
        x_val,
        epochs=20,
        batch_size=8,
        cache=False,
        progress=False,
    )
    return time.perf_counter() - start


def child() -> None:
    from cae_lessons.config import onednn_enabled

    result = {label: _step_ms(which) for label, which in MODELS.items()}
    result["train()"] = _train_seconds()
    result["onednn"] = onednn_enabled()
    print(json.dumps(result))


def slots() -> None:
    lazy, built = (min(_fit_seconds(p) for p in (flag, flag)) for flag in (False, True))
    print("fit, ch. 4 sweep model, 20 epochs (oneDNN as TensorFlow sets it):")
    print(
        f"  Adam's slots built lazily {lazy:5.1f} s, before fit {built:5.1f} s: {lazy / built:.2f}×"
    )


def measure(setting: str) -> dict:
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": setting, "TF_CPP_MIN_LOG_LEVEL": "3"}
    run = subprocess.run(
        [sys.executable, __file__, "--child"], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(run.stdout.splitlines()[-1])


def main() -> None:
    slots()
    off, on = measure("0"), measure("1")
    if off.pop("onednn") or not on.pop("onednn"):
        raise SystemExit("TF_ENABLE_ONEDNN_OPTS had no effect on this CPU; nothing to compare.")
    print(f"{'batch of 8, median of ' + str(STEPS) + ' steps':42s} {'off':>9s} {'on':>9s} ratio")
    for label in MODELS:
        print(f"{label:42s} {off[label]:6.1f} ms {on[label]:6.1f} ms {off[label] / on[label]:4.2f}")
    before, after = off["train()"], on["train()"]
    label = "train(): ch. 4 sweep model, 20 epochs"
    print(f"{label:42s} {before:7.1f} s {after:7.1f} s {before / after:4.2f}")


if __name__ == "__main__":
    child() if sys.argv[1:] == ["--child"] else main()
