"""How much cheaper is tracing a model than building and running it?

Times ``trace`` + ``diagnose`` on a 20-layer autoencoder (as LayerSpecs, on a 197×233 MRI slice
that does not round-trip) against building the same model in Keras and running one forward pass,
and prints both times and their ratio, measured in this one run. Not a test: ``make benchmarks``.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from cae_lessons.shapes import LayerSpec, build_model, diagnose, trace

INPUT_SHAPE = (197, 233, 1)


def twenty_layers() -> list[LayerSpec]:
    """Three conv-conv-pool levels, a bottleneck conv, three up-conv-conv levels and an output."""
    layers = []
    for level in range(3):
        layers += [
            LayerSpec("conv", f"enc{level}_a", 3, padding="same", filters=16),
            LayerSpec("conv", f"enc{level}_b", 3, padding="same", filters=16),
            LayerSpec("max_pool", f"enc{level}_pool", 2),
        ]
    layers.append(LayerSpec("conv", "bottleneck", 3, padding="same", filters=8))
    for level in range(3):
        layers += [
            LayerSpec("upsample", f"dec{level}_up", size=2),
            LayerSpec("conv", f"dec{level}_a", 3, padding="same", filters=16),
            LayerSpec("conv", f"dec{level}_b", 3, padding="same", filters=16),
        ]
    layers.append(LayerSpec("conv", "output", 3, padding="same", filters=1))
    return layers


def median_seconds(work, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    import keras

    keras.utils.set_random_seed(0)
    layers = twenty_layers()
    x = np.zeros((1, *INPUT_SHAPE), np.float32)

    def ours():
        trace(layers, INPUT_SHAPE)
        diagnose(layers, INPUT_SHAPE)

    def theirs():
        build_model(layers, INPUT_SHAPE)(x)

    ours(), theirs()  # warm up imports and TensorFlow's kernels
    shapes_time = median_seconds(ours, repeats=5)
    keras_time = median_seconds(theirs, repeats=3)
    print(f"{len(layers)} layers, input {INPUT_SHAPE}")
    print(f"trace + diagnose:           {shapes_time * 1e3:8.1f} ms (median of 5)")
    print(f"Keras build + forward pass: {keras_time * 1e3:8.1f} ms (median of 3)")
    print(f"ratio Keras / shapes:       {keras_time / shapes_time:8.1f}×")


if __name__ == "__main__":
    main()
