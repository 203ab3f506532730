"""Errors that ch. 4 "Padding and the bottleneck" shows on purpose (cell tag `raises-exception`),
pinned with their exact type and message like tests/test_chapter_errors.py."""

import re

import numpy as np
import pytest


def test_padding_bottleneck_pca_cannot_have_more_components_than_training_images():
    """book/compression_sweep.ipynb: PCA at ratio 4 of 64×64 slices needs 1024 components."""
    from cae_lessons.baselines import pca_baseline

    x_train = np.random.default_rng(0).random((87, 64, 64, 1)).astype(np.float32)
    message = (
        "n_components must be between 1 and 87 (min(n_samples, n_features) for x_train of shape "
        "(87, 64, 64, 1); use fewer components), got 1024."
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        pca_baseline(x_train, x_train[:2], 64 * 64 // 4)
