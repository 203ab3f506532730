"""How much cheaper is tracing a model than building and running it?

1. ``trace`` + ``diagnose`` on a 20-layer autoencoder (as LayerSpecs, on a 197×233 MRI slice
   that does not round-trip) against building the same model in Keras and running one forward
   pass.
2. ``trace`` + ``diagnose`` of a 50-layer Keras U-Net (skip connections by Concatenate) that a
   197×233 slice breaks (target: under 50 ms), and ``input_sizes`` solving which of the sizes
   1…4096 it runs at and round-trips at, per axis (target: under 100 ms), against the time Keras
   needs to try sizes by building the model at each (measured on 8 sizes, times 4096).

Prints the times and their ratios, measured in this one run. Not a test: ``make benchmarks``.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from cae_lessons.models import build_unet
from cae_lessons.shapes import LayerSpec, build_model, diagnose, input_sizes, trace

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


def unet_50(size=None):
    """The 50-layer U-Net: ``build_unet`` of depth 4 with batch normalisation."""
    return build_unet((size, size, 1), depth=4, filters=4, batch_norm=True, name="unet_50")


def keras_tries(size: int) -> bool:
    """Keras' own way to learn whether the U-Net runs at size × size: build it there."""
    try:
        unet_50(size)
    except ValueError:
        return False
    return True


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

    model = unet_50()
    layer_count = len(model.layers)
    shape = INPUT_SHAPE

    def doctor():
        trace(model, (64, 64))
        diagnose(model, shape)

    doctor()
    doctor_time = median_seconds(doctor, repeats=5)
    solve_time = median_seconds(lambda: input_sizes(model), repeats=5)
    sizes = (16, 17, 96, 100, 197, 208, 233, 240)
    build_time = median_seconds(lambda: [keras_tries(n) for n in sizes], repeats=1) / len(sizes)
    print(f"\n{layer_count}-layer U-Net (Concatenate skips), input {shape}")
    print(f"trace + diagnose:            {doctor_time * 1e3:8.1f} ms (median of 5; target < 50)")
    print(f"input_sizes, n = 1…4096:     {solve_time * 1e3:8.1f} ms (median of 5; target < 100)")
    print(f"Keras, build at one size:    {build_time * 1e3:8.1f} ms (mean of {len(sizes)} sizes)")
    print(f"Keras, build at 4096 sizes:  {build_time * 4096:8.1f} s (one size's time × 4096)")
    print(f"ratio Keras / input_sizes:   {build_time * 4096 / solve_time:8.0f}×")
    print(input_sizes(model))


if __name__ == "__main__":
    main()
