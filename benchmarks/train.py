"""How fast does the book's CAE train, and what do tf.data and XLA buy?

Trains the book's default design (``build_cae``: filters 32/64/128, a 16×16×4 latent, 16:1) on
128×128 MNI152 slices for a few epochs three ways and prints images/s and ratios, all measured in
this one run (``make benchmarks``; not a test):

1. ``model.fit`` on NumPy arrays (what ``cae_lessons.training.train`` does);
2. ``model.fit`` on ``cae_lessons.data.as_dataset`` (shuffle, batch, prefetch);
3. the same with ``jit_compile=True`` (XLA);
4. on a GPU only: 3 plus ``mixed_float16``.

The first epoch of each run (tracing, compilation) is excluded.
"""

from __future__ import annotations

import time

import keras
import numpy as np
import tensorflow as tf

from cae_lessons.config import gpu_available, seed_everything
from cae_lessons.data import as_dataset, load_mri_data
from cae_lessons.models import build_cae

EPOCHS = 3
BATCH_SIZE = 16


class EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self.start)


def images_per_second(x: np.ndarray, *, dataset: bool, jit: bool, mixed: bool = False) -> float:
    keras.mixed_precision.set_global_policy("mixed_float16" if mixed else "float32")
    seed_everything(0)
    model = build_cae((128, 128, 1), latent_channels=4)
    model.compile(optimizer="adam", loss="mse", jit_compile=jit)
    timer = EpochTimer()
    if dataset:
        data = as_dataset(x, batch_size=BATCH_SIZE, seed=0)
        model.fit(data, epochs=EPOCHS, verbose=0, shuffle=False, callbacks=[timer])
    else:
        model.fit(x, x, batch_size=BATCH_SIZE, epochs=EPOCHS, verbose=0, callbacks=[timer])
    return len(x) / float(np.median(timer.times[1:]))


def main() -> None:
    x = load_mri_data(plane="axial", max_slices=128)
    runs = {
        "fit on NumPy arrays": {"dataset": False, "jit": False},
        "fit on as_dataset": {"dataset": True, "jit": False},
        "as_dataset + jit_compile": {"dataset": True, "jit": True},
    }
    if gpu_available():
        runs["as_dataset + jit_compile + mixed_float16"] = {
            "dataset": True,
            "jit": True,
            "mixed": True,
        }
    devices = ", ".join(d.device_type for d in tf.config.list_physical_devices())
    print(f"{len(x)} slices 128×128, batch {BATCH_SIZE}, median of epochs 2..{EPOCHS}; {devices}")
    baseline = None
    for label, options in runs.items():
        rate = images_per_second(x, **options)
        baseline = baseline or rate
        print(f"{label:42s} {rate:7.1f} images/s   ratio {rate / baseline:4.2f}")


if __name__ == "__main__":
    main()
