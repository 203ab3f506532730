"""Throughput of the data layer: loading slices, and feeding a small CAE from tf.data vs NumPy.

Run with ``.venv/bin/python benchmarks/data.py``. Prints slices per second and ratios measured
in this one run (absolute numbers depend on the machine and its load; the ratios are the
point). Timing lives here only: the tests never assert a duration.
"""

from __future__ import annotations

import time

import numpy as np

from cae_lessons import data
from cae_lessons.config import seed_everything


def best_rate(function, n_slices: int, repeats: int) -> float:
    """Slices per second of the fastest of ``repeats`` calls."""
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return n_slices / best


def small_cae(size: tuple[int, int]):
    import keras

    inputs = keras.Input((*size, 1))
    hidden = keras.layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(inputs)
    hidden = keras.layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(hidden)
    hidden = keras.layers.Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu")(
        hidden
    )
    outputs = keras.layers.Conv2DTranspose(1, 3, strides=2, padding="same")(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse")
    return model


def main() -> None:
    start = time.perf_counter()
    x = data.load_mri_data()
    print(f"load_mri_data() cold: {time.perf_counter() - start:.2f} s for {len(x)} slices")
    load_rate = best_rate(data.load_mri_data, len(x), repeats=5)
    print(f"load_mri_data() warm: {load_rate:8.0f} slices/s")
    native_rate = best_rate(lambda: data.load_mri_data(size=None), len(x), repeats=3)
    print(f"load_mri_data(size=None) warm: {native_rate:8.0f} slices/s")

    seed_everything(0)
    x_fit = x[data.evenly_spaced(len(x), 256)]
    batch = 32
    model = small_cae(x_fit.shape[1:3])
    model.fit(x_fit, x_fit, batch_size=batch, epochs=1, verbose=0)  # build and warm up
    numpy_rate = best_rate(
        lambda: model.fit(x_fit, x_fit, batch_size=batch, epochs=1, verbose=0), len(x_fit), 3
    )
    rates = {"NumPy arrays": numpy_rate}
    for augment in (False, True):
        dataset = data.as_dataset(x_fit, batch_size=batch, augment=augment, seed=0)
        model.fit(dataset, epochs=1, verbose=0, shuffle=False)
        rates[f"as_dataset(augment={augment})"] = best_rate(
            lambda d=dataset: model.fit(d, epochs=1, verbose=0, shuffle=False), len(x_fit), 3
        )
    print(f"fit a small CAE on {len(x_fit)} slices of {x_fit.shape[1:]}, batch {batch}:")
    for name, rate in rates.items():
        print(f"  {name:28s} {rate:8.0f} slices/s  ratio to NumPy {rate / numpy_rate:5.2f}")
    print(f"load_mri_data warm vs CAE training on NumPy: {load_rate / numpy_rate:.0f}x faster")


if __name__ == "__main__":
    main()
