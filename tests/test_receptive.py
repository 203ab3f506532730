"""Receptive fields: the analytic recurrences against gradients of real Keras models."""

from __future__ import annotations

from fractions import Fraction

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_shapes import SETTINGS, build, layer_args, stacks

from cae_lessons.receptive import (
    AxisStep,
    ReceptiveField,
    empirical_receptive_field,
    receptive_fields,
    support,
)
from cae_lessons.shapes import LayerSpec, cpu_kernel_problems, trace


@pytest.fixture(autouse=True)
def _seeded():
    keras.utils.set_random_seed(0)


# ---------------------------------------------------------------- the Araujo recurrence


@settings(max_examples=200, **SETTINGS)
@given(
    size=st.integers(1, 300),
    layers=st.lists(
        st.tuples(
            st.integers(1, 7),
            st.integers(1, 3),
            st.integers(1, 3),
            st.sampled_from(["conv", "max_pool"]),
            st.sampled_from(["valid", "same"]),
        ),
        min_size=1,
        max_size=8,
    ),
)
def test_window_stacks_follow_araujo_recurrence(size, layers):
    specs = [
        LayerSpec(
            kind,
            kernel_size=k,
            strides=s,
            padding=padding,
            dilation_rate=d if kind == "conv" and s == 1 else 1,
        )
        for k, s, d, kind, padding in layers
    ]
    try:
        t = trace(specs, (size, size))
    except ValueError:
        assume(False)
    r, j, start = 1, 1, 0
    for spec, step, row in zip(specs, t.steps[0], t.rows, strict=True):
        k = spec.dilation_rate[0] * (spec.kernel_size[0] - 1) + 1
        r, j, start = r + (k - 1) * j, j * spec.strides[0], start - step.offset * j
        assert row.receptive_field == (r, r)
        assert row.jump == (j, j)
    assert receptive_fields(t.steps[0])[-1] == ReceptiveField(size=r, jump=Fraction(j), start=start)


def test_upsampling_and_transposed_conv_make_the_jump_fractional():
    steps = [
        AxisStep("window", 64, 32, kernel_size=2, strides=2),
        AxisStep("resize", 32, 96),
        AxisStep("transpose", 96, 192, kernel_size=3, strides=2),
    ]
    assert [f.jump for f in receptive_fields(steps)] == [2, Fraction(2, 3), Fraction(1, 3)]
    # A 3-wide stride-2 transposed conv feeds each unit from 1 or 2 inputs: the largest wins.
    assert [f.size for f in receptive_fields(steps)] == [2, 2, 4]


# ---------------------------------------------------------------- analytic == empirical


def assert_same_support(model, t, layer, position):
    measured = empirical_receptive_field(model, layer=layer, position=position)
    expected = t.support(layer, position)
    assert (measured.rows, measured.cols) == (expected or ((0, 0), (0, 0))), (layer, position)
    return measured


rf_layers = layer_args(kinds=("conv", "conv_t", "pool", "up", "crop", "pad", "neutral"))


@settings(
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    **SETTINGS,
)
@given(
    stack=stacks(kinds=rf_layers),
    where=st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1)),
)
def test_analytic_support_equals_gradient_support_on_random_stacks(stack, where):
    input_shape, layers = stack
    input_shape = (input_shape[0] + 8, input_shape[1] + 8, input_shape[2])
    layers = build(layers)
    try:
        t = trace(layers, input_shape)
    except ValueError:
        assume(False)
    assume(max(max(row.output_shape[:2]) for row in t.rows) <= 96)
    assume(not cpu_kernel_problems(layers, input_shape))  # refused: tested below
    layer = min(int(where[0] * len(t.rows)), len(t.rows) - 1)
    out = t.rows[layer].output_shape
    position = tuple(min(int(w * n), n - 1) for w, n in zip(where[1:], out[:2], strict=True))
    model = keras.Sequential([keras.Input(input_shape), *layers])
    assert_same_support(model, t, layer, position)


EDGE_CASES = {
    # a dilated 'same' conv whose first taps fall in the padding: only pixel 2 of the first three
    "dilated_same": [LayerSpec("conv", kernel_size=2, dilation_rate=3, padding="same")],
    # units of a 2-wide stride-3 transposed conv at positions 2, 5, 8, ... see no input at all
    "transpose_gaps": [LayerSpec("conv_transpose", kernel_size=2, strides=3)],
    "bilinear_x2": [LayerSpec("upsample", size=2, interpolation="bilinear")],
    "resize_nearest": [LayerSpec("resize", target=(7, 5), interpolation="nearest")],
    "resize_bilinear_x2": [LayerSpec("resize", target=(24, 24), interpolation="bilinear")],
    "crop_then_pad": [
        LayerSpec("crop", margins=((2, 1), (0, 3))),
        LayerSpec("zero_pad", margins=((1, 1), (3, 0))),
        LayerSpec("conv", kernel_size=3, strides=2),
    ],
}


@pytest.mark.parametrize("name", EDGE_CASES)
def test_analytic_support_equals_gradient_support_on_edge_cases(name):
    from cae_lessons.shapes import build_model

    model = build_model(EDGE_CASES[name], (12, 12, 1))
    t = trace(model)
    rows, cols = t.output_shape[:2]
    for position in [(0, 0), (1, 1), (rows // 2, cols - 1), (rows - 1, cols // 2)]:
        assert_same_support(model, t, len(t.rows) - 1, position)


def test_edge_case_supports_are_what_the_comments_say():
    dilated = trace(EDGE_CASES["dilated_same"], (12, 12))
    assert dilated.support(0, (0, 0)) == ((2, 3), (2, 3))
    gaps = trace(EDGE_CASES["transpose_gaps"], (12, 12))
    assert gaps.support(0, (2, 0)) is None
    assert gaps.support(0, (3, 7)) == ((1, 2), (2, 3))


def test_functional_model_layers_are_indexed_like_trace_rows():
    x = keras.Input((10, 10, 1))
    model = keras.Model(x, keras.layers.MaxPooling2D(2, name="b")(keras.layers.Conv2D(1, 3)(x)))
    measured = empirical_receptive_field(model, layer=1, position=(3, 0))
    assert measured.layer == "b"
    assert (measured.rows, measured.cols) == trace(model).support(1, (3, 0)) == ((6, 10), (0, 4))


# ---------------------------------------------------------------- the book's examples


def test_example1_receptive_field_of_the_centre_output_unit():
    from cae_lessons.models import example1

    model = example1()
    t = trace(model)
    measured = assert_same_support(model, t, "output", (39, 39))
    # output 39 <- up-layer 39..41 <- bottleneck 19..20 <- pool 19..22 <- conv1 57..67 <- input
    # 57..69: 13 pixels, the RF column of the 'output' row.
    assert measured.rows == measured.cols == (57, 70)
    assert t.rows[-1].receptive_field == (13, 13)
    assert measured.gradient.shape == (128, 128)
    assert measured.gradient.dtype == np.float32
    outside = np.ones((128, 128), bool)
    outside[slice(*measured.rows), slice(*measured.cols)] = False
    assert not measured.gradient[outside].any()


# ---------------------------------------------------------------- user-input errors


def test_position_outside_the_layer_is_refused():
    model = keras.Sequential([keras.Input((9, 9, 1)), keras.layers.Conv2D(1, 3, name="c")])
    with pytest.raises(
        ValueError,
        match=r"position must lie in the output of layer 'c', shape "
        r"\(7, 7\); got \(7, 0\)\. Use 0 <= row < 7 and 0 <= col < 7\.",
    ):
        empirical_receptive_field(model, position=(7, 0))


def test_model_without_fixed_input_size_is_refused():
    model = keras.Sequential([keras.Input((None, None, 1)), keras.layers.Conv2D(1, 3)])
    with pytest.raises(
        ValueError,
        match=r"needs a built model with a fixed \(H, W, C\) input; "
        r"got input shape \(None, None, 1\)",
    ):
        empirical_receptive_field(model)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: AxisStep("pool", 4, 2), r"AxisStep kind must be one of \('window', "),
        (
            lambda: support([AxisStep("window", 4, 4)], 4),
            r"index must be in \[0, 4\) for this "
            r"layer, got 4\.",
        ),
        (
            lambda: AxisStep("resize", 4, 8, interpolation="bicubic").taps(0),
            r"exact only for interpolation in \('nearest', 'bilinear'\), got 'bicubic'",
        ),
    ],
)
def test_axis_step_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_model_the_cpu_kernels_cannot_run_is_refused_before_tensorflow_runs_it():
    model = keras.Sequential(
        [keras.Input((8, 8, 1)), keras.layers.Conv2DTranspose(1, 1, strides=2, name="up")]
    )
    with pytest.raises(ValueError, match=r"'up' Conv2DTranspose\(kernel_size=\(1, 1\), strides"):
        empirical_receptive_field(model)


class _SubclassedConv(keras.layers.Conv2D):
    pass


def test_empirical_receptive_field_keeps_subclasses_of_spatial_layers():
    """A Conv2D subclass is cloned as a convolution, not replaced by an Identity."""

    def model(conv):
        keras.utils.set_random_seed(0)
        return keras.Sequential(
            [keras.Input((12, 12, 1)), conv(2, 3, activation="relu"), conv(1, 3, strides=2)]
        )

    ours = empirical_receptive_field(model(_SubclassedConv), position=(2, 2))
    plain = empirical_receptive_field(model(keras.layers.Conv2D), position=(2, 2))
    assert (ours.rows, ours.cols) == (plain.rows, plain.cols) == ((4, 9), (4, 9))
