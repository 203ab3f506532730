"""cae_lessons.boundary: which rows an autoencoder never reads or rebuilds, against real Keras.

The geometry is checked on real models with random weights: perturbing a row the report calls
unread leaves every bottleneck value unchanged, perturbing any other row changes some, and the
output sizes are the ones Keras computes.
"""

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cae_lessons.boundary import BoundaryLoss, boundary_loss, edge_errors, fit_output
from cae_lessons.config import seed_everything
from cae_lessons.models import cae_layers, example1, example3
from cae_lessons.shapes import build_model


def _encoder(model, last="bottleneck"):
    """The layers of ``model`` up to and including the one named ``last``, as a model."""
    inputs = keras.Input(model.input_shape[1:])
    x = inputs
    for layer in model.layers:
        x = layer(x)
        if layer.name == last:
            return keras.Model(inputs, x)
    raise AssertionError(f"{model.name} has no layer {last!r}")


def _rows_that_reach(encoder, size):
    """Input rows whose change moves some bottleneck value (random weights, a real forward)."""
    rng = np.random.default_rng(0)
    x = rng.random((1, size, size, 1), dtype=np.float32)
    base = np.asarray(encoder(x))
    reach = []
    for row in range(size):
        moved = x.copy()
        moved[:, row] += 5.0 * (1 + rng.random((1, size, 1), dtype=np.float32))
        reach.append(not np.allclose(np.asarray(encoder(moved)), base, atol=0))
    return np.array(reach)


# (size, down): a 3×3 'same' convolution before each floored pooling reads the rows the pooling
# drops, so nothing is unread, but the output is short; strided 'same' convolutions ceil instead.
CASES = [
    (127, "pool", 124, (), (124, 125, 126), 0),
    (128, "pool", 128, (), (), 0),
    (129, "pool", 128, (), (128,), 0),
    (131, "pool", 128, (), (128, 129, 130), 0),
    (127, "stride", 128, (), (), 1),
    (130, "stride", 132, (), (), 2),
]


@pytest.mark.parametrize(("size", "down", "out", "unread", "unbuilt", "extra"), CASES)
def test_boundary_loss_matches_keras(size, down, out, unread, unbuilt, extra):
    seed_everything(0)
    shape = (size, size, 1)
    model = build_model(cae_layers(shape, filters=(8, 16), down=down), shape, activation="relu")
    report = boundary_loss(model)
    assert model.output_shape[1:3] == report.output_shape[:2] == (out, out)
    assert report.unread == (unread, unread)
    assert report.unbuilt == (unbuilt, unbuilt) and report.extra == (extra, extra)
    reach = _rows_that_reach(_encoder(model), size)
    assert np.flatnonzero(~reach).tolist() == list(unread)


def test_example1_never_reads_row_127_and_keras_agrees():
    seed_everything(0)
    model = example1()
    encoder = _encoder(model, last=model.layers[2].name)  # the layer before upsampling
    layers = model.layers[:3]
    report = boundary_loss(layers, (128, 128, 1))
    assert report.unread == ((127,), (127,))
    reach = _rows_that_reach(encoder, 128)
    assert np.flatnonzero(~reach).tolist() == [127]


def test_example1_loses_the_rows_beyond_its_78_row_output():
    report = boundary_loss(example1())
    assert report.output_shape == (78, 78, 1)
    assert report.unbuilt == (tuple(range(78, 128)),) * 2
    assert report.lost_pixels == 128 * 128 - 78 * 78


def test_example3_at_129_builds_one_row_too_many_and_loses_none():
    report = boundary_loss(example3((129, 129, 1)))
    assert report.output_shape[:2] == (130, 130) and report.extra == (1, 1)
    assert report.lost == ((), ()) and report.lost_pixels == 0


def test_anisotropic_sizes_are_reported_per_axis():
    report = boundary_loss(cae_layers((129, 128, 1), filters=(8,)), (129, 128, 1))
    assert report.unbuilt == ((128,), ()) and report.lost_pixels == 128


def test_repr_names_the_rows_as_ranges():
    report = boundary_loss(cae_layers((131, 131, 1), filters=(8, 16)), (131, 131, 1))
    assert "rows unread: none, unbuilt: 128-130, extra: 0" in repr(report)
    assert repr(report).endswith("777 px lost)")


def test_lost_counts_a_pixel_in_a_lost_row_and_column_once():
    report = BoundaryLoss((4, 4, 1), (3, 3, 1), ((), ()), ((3,), (3,)), (0, 0))
    assert report.lost_pixels == 16 - 9


def test_boundary_loss_passes_trace_errors_through():
    with pytest.raises(ValueError, match="input_shape"):
        boundary_loss(cae_layers((64, 64, 1), filters=(8,)))


@settings(max_examples=30, deadline=None)
@given(
    height=st.integers(1, 20), width=st.integers(1, 20), out_h=st.integers(1, 20),
    out_w=st.integers(1, 20),
)  # fmt: skip
def test_fit_output_keeps_the_top_left_and_zero_fills(height, width, out_h, out_w):
    y = np.arange(out_h * out_w, dtype=np.float32).reshape(1, out_h, out_w, 1) + 1
    fitted = fit_output(y, (np.int64(height), width))
    h, w = min(height, out_h), min(width, out_w)
    assert fitted.shape == (1, height, width, 1) and fitted.dtype == np.float32
    np.testing.assert_array_equal(fitted[:, :h, :w], y[:, :h, :w])
    assert fitted.sum() == y[:, :h, :w].sum()


def test_fit_output_needs_images_and_a_size():
    with pytest.raises(ValueError, match=r"\(N, H, W, C\) images, got an array of shape \(3, 3\)"):
        fit_output(np.zeros((3, 3)), (3, 3))
    with pytest.raises(TypeError, match="shape must be"):
        fit_output(np.zeros((1, 3, 3, 1)), 3)
    with pytest.raises(ValueError, match=r"shape must be positive, got \(0, 3\)"):
        fit_output(np.zeros((1, 3, 3, 1)), (0, 3))


def test_edge_errors_separate_the_four_edges():
    x = np.zeros((2, 10, 10, 1), np.float32)
    y = x.copy()
    y[:, -2:] = 1.0  # the two bottom rows
    e = edge_errors(x, y, width=np.int64(2))
    assert (e.top, e.bottom, e.interior) == (0.0, 1.0, 0.0)
    assert e.left == e.right == pytest.approx(2 / 10)


def test_edge_errors_refuse_mismatched_shapes_and_bad_widths():
    x = np.zeros((1, 8, 8, 1), np.float32)
    with pytest.raises(ValueError, match=r"fit_output\(x_pred, x_true.shape\[1:3\]\)"):
        edge_errors(x, np.zeros((1, 7, 8, 1), np.float32))
    with pytest.raises(ValueError, match="leave an interior"):
        edge_errors(x, x, width=4)
    with pytest.raises(TypeError, match="width must be an int"):
        edge_errors(x, x, width=1.5)
