"""Ch. 5's decoders before training: untrained_reconstruction."""

import numpy as np
import pytest

from cae_lessons.experiments.decoders import decoder_cae, untrained_reconstruction
from cae_lessons.metrics import checkerboard_score

X = np.random.default_rng(0).random((2, 32, 32, 1), dtype=np.float32)


def test_untrained_reconstruction_is_the_seeded_models_output():
    import keras

    keras.utils.set_random_seed(3)
    expected = np.asarray(decoder_cae("transpose", size=32)(X, training=False))
    np.testing.assert_array_equal(untrained_reconstruction("transpose", X, seed=3), expected)


def test_untrained_reconstruction_depends_on_the_seed_and_the_decoder():
    y0 = untrained_reconstruction("upsample", X, seed=0)
    assert not np.array_equal(y0, untrained_reconstruction("upsample", X, seed=1))
    assert y0.shape == X.shape and y0.dtype == np.float32


def test_an_untrained_transposed_decoder_paints_a_checkerboard():
    transposed = checkerboard_score(untrained_reconstruction("transpose", X)).mean()
    upsampled = checkerboard_score(untrained_reconstruction("upsample", X)).mean()
    assert transposed > 20 * upsampled


@pytest.mark.parametrize("shape", [(2, 32, 16, 1), (2, 32, 32, 3), (32, 32, 1)])
def test_untrained_reconstruction_refuses_what_is_not_square_single_channel_slices(shape):
    with pytest.raises(ValueError, match=r"square single-channel slices \(N, S, S, 1\), got"):
        untrained_reconstruction("upsample", np.zeros(shape, np.float32))
