"""Helpers shared by more than one test file: `from _helpers import ...`."""

from __future__ import annotations

import numpy as np

from cae_lessons.training import TrainResult


def random_images(n=5, size=16, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((n, size, size, 1)) * 0.8 + 0.1).astype(np.float32)


def train_result(norms, seed=0, loss=(0.1, 0.05), val_loss=(0.1, 0.06)):
    """A TrainResult as train() returns it, without a model."""
    history = {"loss": tuple(loss), "val_loss": tuple(val_loss)}
    norms = {name: tuple(values) for name, values in norms.items()}
    return TrainResult("toy", history, 1, 8, seed, 1.0, 8.0, norms, True, False, None)
