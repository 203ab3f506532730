"""cae_lessons.diagrams: one-axis pictures whose numbers real Keras layers compute."""

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cae_lessons import diagrams
from cae_lessons.receptive import AxisStep, read_positions


@pytest.mark.parametrize("layer", ["conv", "pool"])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize(("n", "k", "s"), [(8, 3, 1), (8, 3, 3), (9, 2, 2), (7, 4, 3), (5, 1, 2)])
def test_window_units_match_keras(layer, padding, n, k, s):
    if layer == "conv":
        keras_layer = keras.layers.Conv1D(1, k, strides=s, padding=padding)
    else:
        keras_layer = keras.layers.MaxPooling1D(k, strides=s, padding=padding)
    expected = keras_layer.compute_output_shape((1, n, 1))[1]
    assert diagrams.windows(n, k, s, padding).n_out == expected


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize(("n", "k", "s"), [(8, 3, 2), (9, 4, 3), (6, 3, 1)])
def test_each_window_is_what_the_unit_reads_in_keras(padding, n, k, s):
    """A one-hot input at position i changes exactly the units whose window covers i."""
    layer = keras.layers.Conv1D(1, k, strides=s, padding=padding, use_bias=False,
                                kernel_initializer="ones")  # fmt: skip
    layout = diagrams.windows(n, k, s, padding)
    for i in range(n):
        x = np.zeros((1, n, 1), np.float32)
        x[0, i, 0] = 1
        hit = np.flatnonzero(np.asarray(layer(x))[0, :, 0])
        assert hit.tolist() == [j for j, a in enumerate(layout.starts) if a <= i < a + k]
        assert layout.read[i] == (len(hit) > 0)


def test_unread_positions_agree_with_the_receptive_module():
    layout = diagrams.windows(8, 3, strides=3)
    steps = [AxisStep("window", 8, layout.n_out, kernel_size=3, strides=3)]
    assert list(layout.read) == read_positions(steps).tolist()
    assert layout.unread == (6, 7)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((2, 3), r"a 3-wide 'valid' window does not fit 2 positions"),
        ((8, 3, 1, "full"), r"padding must be 'valid' or 'same', got 'full'"),
        ((8, 0), r"kernel_size must be a positive int, got 0"),
        ((8.0, 3), r"n must be a positive int, got 8.0"),
    ],
)
def test_bad_window_arguments_are_refused(args, message):
    with pytest.raises(ValueError, match=message):
        diagrams.windows(*args)


def test_numpy_integers_are_accepted():
    assert diagrams.windows(np.int64(8), np.int32(3)).n_out == 6


@settings(max_examples=25, deadline=None)
@given(
    x=st.lists(st.integers(-3, 3), min_size=1, max_size=5),
    kernel=st.lists(st.integers(-3, 3), min_size=1, max_size=4),
    strides=st.integers(1, 3),
)
def test_the_worked_transposed_convolution_is_keras_and_the_transpose_of_its_conv(
    x, kernel, strides
):
    worked = diagrams.transposed_conv_1d(x, kernel, strides)
    layer = keras.layers.Conv1DTranspose(1, len(kernel), strides=strides, use_bias=False)
    layer.build((1, len(x), 1))
    layer.set_weights([np.asarray(kernel, np.float32).reshape(len(kernel), 1, 1)])
    y = np.asarray(layer(np.asarray(x, np.float32).reshape(1, -1, 1)))[0, :, 0]
    np.testing.assert_allclose(worked.output, y, atol=1e-5)
    np.testing.assert_array_equal(worked.contributions.sum(axis=0), worked.output)
    # the transpose of the matrix is the strided convolution with the same kernel
    conv = keras.layers.Conv1D(1, len(kernel), strides=strides, use_bias=False)
    conv.build((1, len(y), 1))
    conv.set_weights(layer.get_weights())
    z = np.arange(len(y), dtype=np.float32).reshape(1, -1, 1)
    c = np.asarray(conv(z))[0, :, 0]
    np.testing.assert_allclose(worked.matrix.T[: len(c)] @ z[0, :, 0], c, atol=1e-4)


def test_a_bad_vector_is_refused():
    with pytest.raises(ValueError, match=r"kernel must be a non-empty 1-D sequence"):
        diagrams.transposed_conv_1d([1, 2], [])


@pytest.mark.parametrize(("k", "s", "layers"), [(3, 2, 1), (3, 2, 2), (4, 2, 2), (1, 2, 1)])
def test_overlap_counts_are_keras_all_ones_outputs(k, s, layers):
    x = np.ones((1, 6, 1), np.float32)
    for _ in range(layers):
        layer = keras.layers.Conv1DTranspose(1, k, strides=s, use_bias=False,
                                             kernel_initializer="ones")  # fmt: skip
        x = layer(x)
    expected = np.asarray(x)[0, :, 0]
    np.testing.assert_array_equal(diagrams.overlap_counts(6, k, s, layers), expected)


def test_two_layers_compound_an_uneven_overlap_and_keep_an_even_one_flat_inside():
    one, two = (diagrams.overlap_counts(8, 3, 2, layers) for layers in (1, 2))
    assert set(one[2:-2].tolist()) == {1, 2}
    assert len(set(two[4:-4].tolist())) > len(set(one[2:-2].tolist()))  # more levels
    assert set(diagrams.overlap_counts(8, 4, 2, 2)[6:-6].tolist()) == {4}


def test_the_figures_show_the_computed_numbers():
    layout = diagrams.windows(6, 3, padding="same")
    fig = diagrams.window_diagram([layout], titles=["same"])
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts.count("pad") == 2 and texts.count("0") == 1  # padding apart from index 0
    assert [t for t in texts if t.startswith("unit")] == [f"unit {j}" for j in range(6)]
    worked = diagrams.transposed_conv_1d([1, 2, 3], [1, 1, 1])
    fig = diagrams.transposed_conv_diagram(worked, title="t")
    assert {"3", "5"} <= {t.get_text() for t in fig.axes[0].texts}  # the overlapping sums
    with pytest.raises(ValueError, match=r"give one title per layout, got 1 layouts and 0"):
        diagrams.window_diagram([layout], titles=[])
