"""Every error a chapter shows on purpose (cell tag `raises-exception`) is pinned here too,
with its exact type and message, so that a Keras upgrade that changes it fails a unit test and not
only a notebook cell."""

import numpy as np
import pytest


def test_start_valid_conv_autoencoder_fails_in_fit_with_a_shape_error():
    """book/start.ipynb: a one-layer 'valid' 3×3 CAE builds, then `fit` raises."""
    import keras

    tiny = keras.Sequential(
        [keras.Input(shape=(128, 128, 1)), keras.layers.Conv2D(1, kernel_size=3, padding="valid")]
    )
    tiny.compile(optimizer="adam", loss="mse")
    x = np.zeros((4, 128, 128, 1), dtype="float32")
    with pytest.raises(ValueError, match=r"Dimensions must be equal, but are 128 and 126 for"):
        tiny.fit(x, x, epochs=1, verbose=0)
