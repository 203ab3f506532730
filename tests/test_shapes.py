"""cae_lessons.shapes against real Keras layers: size functions, trace, diagnose and the CLI."""

from __future__ import annotations

import re
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cae_lessons import shapes
from cae_lessons.shapes import (
    LayerSpec,
    SizeCheck,
    build_model,
    check_sizes_against_keras,
    conv_transpose_output_size,
    diagnose,
    output_padding_for,
    trace,
    transpose_overlap,
)

SETTINGS = {"derandomize": True, "deadline": None}


@pytest.fixture(autouse=True)
def _seeded():
    keras.utils.set_random_seed(0)


sizes = st.integers(1, 300)
paddings = st.sampled_from(["valid", "same"])


def keras_size(layer, size):
    """Keras' own answer for an (H, W) input: compute_output_shape and a real forward pass.

    Returns the (H, W) output, or None when Keras rejects the input or gives a size <= 0.
    """
    try:
        declared = layer.compute_output_shape((1, *size, 1))[1:3]
    except ValueError:
        declared = None
    if declared is None or min(declared) <= 0:
        # Never run a kernel on an empty output: oneDNN's pooling aborts or dies with SIGFPE
        # there (tests/test_onednn.py), where the default kernels return an empty tensor.
        return None
    if shapes.cpu_kernel_problems([layer], (*size, 1)):
        return tuple(declared)  # the package refuses to run it: Keras' shape rule only
    try:
        real = tuple(layer(np.zeros((1, *size, 1), np.float32)).shape[1:3])
    except (ValueError, tf.errors.OpError):  # InvalidArgument, or Aborted with oneDNN
        real = None
    if real is None or min(real) <= 0:
        return None
    assert tuple(declared) == real, f"compute_output_shape {declared} != forward pass {real}"
    return real


def check(ours, layer, size):
    """Our size function called on (H, W) equals Keras, or both refuse the input."""
    expected = keras_size(layer, size)
    if expected is None:
        with pytest.raises(ValueError, match=r"zero or negative|fails for every input"):
            ours(size)
    else:
        assert ours(size) == expected


# ---------------------------------------------------------------- property tests vs Keras


@settings(max_examples=150, **SETTINGS)
@given(
    size=st.tuples(sizes, sizes),
    kernel_size=st.tuples(st.integers(1, 7), st.integers(1, 7)),
    strides=st.integers(1, 4),
    padding=paddings,
    dilation_rate=st.integers(1, 3),
)
def test_conv_output_size_equals_keras(size, kernel_size, strides, padding, dilation_rate):
    dilation_rate = 1 if strides > 1 else dilation_rate  # Keras refuses both > 1
    args = {"kernel_size": kernel_size, "strides": strides, "padding": padding}
    layer = keras.layers.Conv2D(1, dilation_rate=dilation_rate, **args)
    check(lambda s: shapes.conv_output_size(s, dilation_rate=dilation_rate, **args), layer, size)


@settings(max_examples=150, **SETTINGS)
@given(
    size=st.tuples(sizes, sizes),
    pool_size=st.integers(1, 5),
    strides=st.none() | st.integers(1, 5),
    padding=paddings,
    average=st.booleans(),
)
def test_pool_output_size_equals_keras(size, pool_size, strides, padding, average):
    pool = keras.layers.AveragePooling2D if average else keras.layers.MaxPooling2D
    layer = pool(pool_size, strides=strides, padding=padding)
    check(lambda s: shapes.pool_output_size(s, pool_size, strides, padding), layer, size)


@settings(max_examples=100, **SETTINGS)
@given(
    size=st.tuples(sizes, sizes),
    kernel_size=st.integers(1, 6),
    strides=st.integers(1, 4),
    padding=paddings,
    output_padding=st.none() | st.integers(0, 3),
)
def test_conv_transpose_output_size_equals_keras(
    size, kernel_size, strides, padding, output_padding
):
    assume(output_padding is None or output_padding < strides)
    args = {"kernel_size": kernel_size, "strides": strides, "padding": padding}
    layer = keras.layers.Conv2DTranspose(1, output_padding=output_padding, **args)
    check(
        lambda s: shapes.conv_transpose_output_size(s, output_padding=output_padding, **args),
        layer,
        size,
    )


@settings(max_examples=100, **SETTINGS)
@given(
    size=st.tuples(sizes, sizes),
    kernel_size=st.integers(1, 4),
    dilation_rate=st.integers(2, 3),
    padding=paddings,
    output_padding=st.none() | st.just(0),
)
def test_dilated_conv_transpose_equals_keras_compute_output_shape(
    size, kernel_size, dilation_rate, padding, output_padding
):
    # TensorFlow has no CPU kernel for dilated transposed convolutions, so only Keras' shape rule.
    args = {"kernel_size": kernel_size, "padding": padding, "dilation_rate": dilation_rate}
    layer = keras.layers.Conv2DTranspose(1, output_padding=output_padding, **args)
    declared = layer.compute_output_shape((1, *size, 1))[1:3]
    ours = lambda: shapes.conv_transpose_output_size(size, output_padding=output_padding, **args)  # noqa: E731
    if output_padding == 0 and padding == "same" and (dilation_rate * (kernel_size - 1)) % 2:
        with pytest.raises(ValueError, match="fails for every input"):
            ours()
    elif min(declared) <= 0:
        with pytest.raises(ValueError, match="zero or negative"):
            ours()
    else:
        assert ours() == tuple(declared)


@settings(max_examples=100, **SETTINGS)
@given(size=st.tuples(sizes, sizes), factor=st.tuples(st.integers(1, 4), st.integers(1, 4)))
def test_upsample_output_size_equals_keras(size, factor):
    check(lambda s: shapes.upsample_output_size(s, factor), keras.layers.UpSampling2D(factor), size)


margins = st.tuples(
    st.tuples(st.integers(0, 5), st.integers(0, 5)), st.tuples(st.integers(0, 5), st.integers(0, 5))
)


@settings(max_examples=100, **SETTINGS)
@given(size=st.tuples(st.integers(1, 20), sizes), cropping=margins)
def test_crop_output_size_equals_keras(size, cropping):
    check(lambda s: shapes.crop_output_size(s, cropping), keras.layers.Cropping2D(cropping), size)


@settings(max_examples=100, **SETTINGS)
@given(size=st.tuples(sizes, sizes), padding=margins)
def test_pad_output_size_equals_keras(size, padding):
    check(lambda s: shapes.pad_output_size(s, padding), keras.layers.ZeroPadding2D(padding), size)


# ---------------------------------------------------------------- table-driven shapes

TABLE = [
    # (our function, its arguments, Keras layer, input (H, W), expected (H, W))
    (
        shapes.conv_output_size,
        {"kernel_size": 3},
        keras.layers.Conv2D(1, 3),
        (128, 128),
        (126, 126),
    ),
    (
        shapes.conv_output_size,
        {"kernel_size": 3, "strides": 2, "padding": "same"},
        keras.layers.Conv2D(1, 3, strides=2, padding="same"),
        (197, 233),
        (99, 117),
    ),
    (
        shapes.conv_output_size,
        {"kernel_size": 3, "dilation_rate": 2},
        keras.layers.Conv2D(1, 3, dilation_rate=2),
        (10, 5),
        (6, 1),
    ),
    (
        shapes.pool_output_size,
        {"pool_size": 2, "strides": 3},
        keras.layers.MaxPooling2D(2, strides=3),
        (126, 126),
        (42, 42),
    ),
    (shapes.pool_output_size, {"pool_size": 2}, keras.layers.MaxPooling2D(2), (129, 130), (64, 65)),
    (
        shapes.pool_output_size,
        {"pool_size": 3, "strides": 2, "padding": "same"},
        keras.layers.AveragePooling2D(3, strides=2, padding="same"),
        (129, 1),
        (65, 1),
    ),
    (
        shapes.upsample_output_size,
        {"size_factor": 2},
        keras.layers.UpSampling2D(2),
        (40, 42),
        (80, 84),
    ),
    (
        shapes.conv_transpose_output_size,
        {"kernel_size": 3, "strides": 2, "padding": "same"},
        keras.layers.Conv2DTranspose(1, 3, strides=2, padding="same"),
        (64, 65),
        (128, 130),
    ),
    (
        shapes.conv_transpose_output_size,
        {"kernel_size": 3, "strides": 2, "padding": "same", "output_padding": 0},
        keras.layers.Conv2DTranspose(1, 3, strides=2, padding="same", output_padding=0),
        (65, 64),
        (129, 127),
    ),
    (
        shapes.conv_transpose_output_size,
        {"kernel_size": 2, "strides": 3},
        keras.layers.Conv2DTranspose(1, 2, strides=3),
        (4, 1),
        (12, 3),
    ),
    (shapes.crop_output_size, {"cropping": 1}, keras.layers.Cropping2D(1), (130, 3), (128, 1)),
    (
        shapes.pad_output_size,
        {"padding": ((0, 1), (2, 0))},
        keras.layers.ZeroPadding2D(((0, 1), (2, 0))),
        (127, 126),
        (128, 128),
    ),
]


@pytest.mark.parametrize(("function", "args", "layer", "size", "expected"), TABLE)
def test_size_table_against_keras(function, args, layer, size, expected):
    assert keras_size(layer, size) == expected
    assert function(size, **args) == expected


def test_square_int_in_int_out():
    assert shapes.conv_output_size(128, 3) == 126
    assert shapes.pool_output_size(126, 2, strides=3) == 42


# ---------------------------------------------------------------- user-input errors


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: shapes.conv_output_size(2, 3),
            ValueError,
            r"input height of 2: the output "
            r"would be 0 \(zero or negative\)\. The smallest input height that works is 3",
        ),
        (
            lambda: shapes.pool_output_size((5, 1), 2),
            ValueError,
            r"MaxPooling2D\(pool_size=\(2, 2\).*input width of 1.*"
            r"smallest input width that works is 2",
        ),
        (
            lambda: shapes.crop_output_size(4, 2),
            ValueError,
            r"Cropping2D\(cropping=\(\(2, 2\), "
            r"\(2, 2\)\)\) cannot take an input height of 4.*smallest input height that works is 5",
        ),
        (
            lambda: shapes.conv_transpose_output_size(4, 2, padding="same", output_padding=0),
            ValueError,
            r"fails for every input height.*Use output_padding=None",
        ),
        (
            lambda: shapes.conv_output_size("128", 3),
            TypeError,
            r"size must be an int or an \(H, W\) tuple of ints, got str '128'",
        ),
        (
            lambda: shapes.conv_output_size((128, 128, 1), 3),
            TypeError,
            r"size must be an int or an \(H, W\) tuple of ints, got tuple \(128, 128, 1\)",
        ),
        (lambda: shapes.conv_output_size(0, 3), ValueError, r"size must be >= 1, got 0"),
        (
            lambda: shapes.conv_output_size(8, 2.5),
            TypeError,
            r"kernel_size must be an int or a tuple of 2 ints, got float 2\.5",
        ),
        (lambda: shapes.conv_output_size(8, 0), ValueError, r"kernel_size must be >= 1, got 0"),
        (
            lambda: shapes.conv_output_size(8, 3, padding="full"),
            ValueError,
            r"padding must be 'valid' or 'same', got 'full'",
        ),
        (
            lambda: shapes.conv_output_size(8, 3, padding=None),
            TypeError,
            r"padding must be 'valid' or 'same', got NoneType None",
        ),
        (
            lambda: shapes.conv_output_size(8, 3, strides=2, dilation_rate=2),
            ValueError,
            r"strides > 1 together with dilation_rate > 1",
        ),
        (
            lambda: shapes.conv_transpose_output_size(8, 3, strides=2, output_padding=2),
            ValueError,
            r"output_padding must be smaller than strides",
        ),
        (
            lambda: shapes.conv_output_size(8, (3, 5)),
            ValueError,
            r"gives \(6, 4\) for a square input of 8.*pass an \(H, W\) size such as \(8, 8\)",
        ),
        (lambda: LayerSpec("fully_connected"), ValueError, r"LayerSpec kind must be one of"),
    ],
)
def test_size_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


class _LoggedConv(keras.layers.Conv2D):
    """A user's subclass of a layer trace reads: it counts as that layer."""


class _MyPool(keras.layers.MaxPooling2D):
    pass


def test_trace_reads_subclasses_of_the_layers_it_knows():
    def model(conv, pool):
        return keras.Sequential(
            [keras.Input((16, 16, 1)), conv(4, 3, padding="same"), pool(2), conv(1, 3)],
            name="net",
        )

    ours = trace(model(_LoggedConv, _MyPool))
    plain = trace(model(keras.layers.Conv2D, keras.layers.MaxPooling2D))
    assert [r.output_shape for r in ours.rows] == [r.output_shape for r in plain.rows]
    assert [r.kind for r in ours.rows] == [r.kind for r in plain.rows]
    assert [r.receptive_field for r in ours.rows] == [r.receptive_field for r in plain.rows]


@pytest.mark.parametrize(
    ("layer", "kind"),
    [
        (keras.layers.InputLayer((4, 4, 1)), "input"),
        (keras.layers.Conv2DTranspose(1, 2), "conv_transpose"),
        (_LoggedConv(1, 2), "conv"),
        (keras.layers.AveragePooling2D(2), "avg_pool"),
        (keras.layers.BatchNormalization(), "neutral"),
        (keras.layers.RandomFlip(), "neutral"),
        (keras.layers.Identity(), "neutral"),
        (keras.layers.Add(), "elementwise"),
        (keras.layers.Multiply(), "elementwise"),
        (keras.layers.Concatenate(), "concatenate"),
        (keras.layers.Dense(2), "dense_layer"),
        (keras.layers.GlobalMaxPooling3D(), "global_pool"),
        (keras.layers.LSTM(2), None),
    ],
)
def test_layer_kind_goes_by_isinstance(layer, kind):
    assert shapes.layer_kind(layer) == kind


class _Subclassed(keras.Model):
    """Attributes declared in another order than call() uses them."""

    def __init__(self):
        super().__init__(name="subclassed")
        self.last = keras.layers.Conv2D(1, 3)
        self.first = keras.layers.Conv2D(8, 3)

    def call(self, x):
        return self.last(self.first(x))


def _two_heads():
    inputs = keras.Input((16, 16, 1))
    x = keras.layers.Conv2D(4, 3)(inputs)
    heads = [keras.layers.Conv2D(1, 1)(x), keras.layers.Conv2D(3, 1)(x)]
    return keras.Model(inputs, heads, name="two_heads")


def _crop_to_other():
    _, crop_to_input = shapes.fit_layers()
    inputs = keras.Input((16, 16, 1))
    x = keras.layers.Conv2D(1, 3)(inputs)
    y = keras.layers.Conv2D(1, 3)(x)
    return keras.Model(inputs, crop_to_input(name="crop")([y, x]), name="crop_other")


def _two_sizes():
    a, b = keras.Input((16, 16, 1), name="a"), keras.Input((8, 8, 1), name="b")
    pooled = keras.layers.MaxPooling2D(2)(a)
    return keras.Model([a, b], keras.layers.Concatenate()([pooled, b]), name="two_sizes")


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            _two_heads,
            r"one output; 'two_heads' has 2 outputs 'conv2d_\d+' \(None, 14, 14, 1\), "
            r"'conv2d_\d+' \(None, 14, 14, 3\)\. Trace each head on its own: for head in "
            r"cae_lessons\.shapes\.heads\(model\): trace\(head\)\.",
        ),
        (
            _two_sizes,
            r"several inputs when they are all one size .* 'two_sizes' has inputs 'a' \(16, 16, "
            r"1\), 'b' \(8, 8, 1\): 'b' is not declared with the first one's spatial size .* "
            r"LayerSpec\('input', inputs=\['that_layer'\], filters=C\)\.",
        ),
        (_Subclassed, r"cannot read the model 'subclassed' \(_Subclassed\): a subclassed"),
        (_crop_to_other, r"'crop' \(CropToInput\) crops to a tensor other than the model's input"),
    ],
)
def test_trace_refuses_what_it_cannot_read_exactly(build, message):
    """Never an answer Keras would contradict: a model that is not one chain is refused."""
    model = build()
    if isinstance(model, _Subclassed):
        model(np.zeros((1, 16, 16, 1), np.float32))
    with pytest.raises(ValueError, match=message):
        trace(model, input_shape=(16, 16, 1))


def test_trace_follows_a_layer_called_twice_as_keras_does():
    shared = keras.layers.Conv2D(1, 3, name="shared")
    inputs = keras.Input((34, 34, 1))
    model = keras.Model(inputs, shared(shared(inputs)), name="twice")
    traced = trace(model)
    assert [r.name for r in traced.rows] == ["shared", "shared#2"]
    assert traced.output_shape == tuple(model.output_shape[1:]) == (30, 30, 1)


def test_trace_reads_a_functional_chain_in_call_order():
    inputs = keras.Input((32, 32, 1))
    first, last = keras.layers.Conv2D(8, 3, name="first"), keras.layers.Conv2D(1, 3, name="last")
    model = keras.Model(inputs, last(first(inputs)))
    traced = trace(model)
    assert [r.name for r in traced.rows] == ["first", "last"]
    assert traced.output_shape == tuple(model.output_shape[1:]) == (28, 28, 1)


def test_trace_names_every_unknown_layer():
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Lambda(lambda x: x, name="lam"),
            keras.layers.Permute((2, 1, 3), name="swap"),
        ]
    )
    with pytest.raises(
        ValueError,
        match=r"does not know the layer\(s\) 'lam' \(Lambda\), "
        r"'swap' \(Permute\): it reads only InputLayer, Conv2D",
    ):
        trace(model)


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (
            ([LayerSpec("conv", kernel_size=3)],),
            ValueError,
            r"The input shape is unknown: pass input_shape=\(H, W\) or \(H, W, C\)",
        ),
        (
            ([LayerSpec("conv")], (8, 8, 1, 1)),
            ValueError,
            r"input_shape must be \(H, W\) or \(H, W, C\) with positive ints, got \(8, 8, 1, 1\)",
        ),
        (([], (8, 8)), ValueError, r"trace needs at least one layer besides the input"),
        (
            (42,),
            TypeError,
            r"expects a Keras model or a list of layers / LayerSpec / dicts, got int",
        ),
        (
            ([3], (8, 8)),
            TypeError,
            r"Layer entries must be Keras layers, LayerSpec or dicts, got int 3",
        ),
        (
            ([{"kind": "conv", "kernel_size": 9}], (8, 8)),
            ValueError,
            r"input height of 8: the output would be 0.*smallest input height that works is 9",
        ),
    ],
)
def test_trace_errors(args, error, message):
    with pytest.raises(error, match=message):
        trace(*args)


def test_trace_reads_channels_first_with_the_input_shape_as_height_width_channels():
    model = keras.Sequential([keras.layers.MaxPooling2D(2, data_format="channels_first", name="p")])
    result = trace(model, (8, 6, 3))  # (H, W, C), whatever the model's data_format
    assert result.output_shape == (4, 3, 3) and result.data_format == "channels_first"
    assert tuple(model.compute_output_shape((None, 3, 8, 6))[1:]) == (3, 4, 3)


# ---------------------------------------------------------------- trace vs Keras on random stacks


neutral_layers = st.sampled_from(
    [
        ("Activation", {"activation": "relu"}),
        ("BatchNormalization", {}),
        ("Dropout", {"rate": 0.1}),
        ("LayerNormalization", {}),
        ("ReLU", {}),
        ("LeakyReLU", {}),
    ]
)


@st.composite
def layer_args(draw, kinds=("conv", "conv_t", "pool", "up", "crop", "pad", "resize", "neutral")):
    """A Keras layer as (class name, keyword arguments); built in the test, not the strategy."""
    kind = draw(st.sampled_from(kinds))
    padding = draw(paddings)
    if kind == "conv":
        strides = draw(st.integers(1, 3))
        return "Conv2D", {
            "filters": draw(st.integers(1, 3)),
            "kernel_size": draw(st.integers(1, 4)),
            "strides": strides,
            "padding": padding,
            "dilation_rate": 1 if strides > 1 else draw(st.integers(1, 2)),
        }
    if kind == "conv_t":
        strides = draw(st.integers(1, 3))
        return "Conv2DTranspose", {
            "filters": draw(st.integers(1, 3)),
            "kernel_size": draw(st.integers(1, 4)),
            "strides": strides,
            "padding": padding,
            "output_padding": draw(st.none() | st.integers(0, strides - 1)),
        }
    if kind == "pool":
        return draw(st.sampled_from(["MaxPooling2D", "AveragePooling2D"])), {
            "pool_size": draw(st.integers(1, 3)),
            "strides": draw(st.none() | st.integers(1, 3)),
            "padding": padding,
        }
    if kind == "up":
        return "UpSampling2D", {
            "size": draw(st.integers(1, 2)),
            "interpolation": draw(st.sampled_from(["nearest", "bilinear"])),
        }
    if kind == "crop":
        return "Cropping2D", {"cropping": draw(margins)}
    if kind == "pad":
        return "ZeroPadding2D", {"padding": draw(margins)}
    if kind == "resize":
        return "Resizing", {"height": draw(st.integers(1, 40)), "width": draw(st.integers(1, 40))}
    return draw(neutral_layers)


def build(layers):
    return [getattr(keras.layers, name)(**kwargs) for name, kwargs in layers]


@st.composite
def stacks(draw, kinds=None):
    layers = draw(st.lists(layer_args() if kinds is None else kinds, min_size=2, max_size=8))
    return (draw(st.integers(1, 48)), draw(st.integers(1, 48)), draw(st.integers(1, 2))), layers


def keras_layer_shapes(input_shape, layers):
    """Per-layer (H, W, C) from a real forward pass, or None when Keras refuses the stack."""
    try:
        model = keras.Sequential([keras.Input(input_shape), *layers])
        probe = keras.Model(model.inputs[0], [layer.output for layer in model.layers])
        if shapes.cpu_kernel_problems(layers, input_shape):
            outputs = probe.outputs  # the package refuses to run it: Keras' shape rule only
        else:
            outputs = probe(np.zeros((1, *input_shape), np.float32))
    except (ValueError, tf.errors.OpError):  # InvalidArgument, or Aborted with oneDNN
        return None
    found = [tuple(out.shape[1:]) for out in outputs]
    return None if any(min(s[:2]) <= 0 for s in found) else found


@settings(
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    **SETTINGS,
)
@given(stack=stacks())
def test_trace_equals_keras_layer_shapes(stack):
    input_shape, layers = stack
    layers = build(layers)
    try:
        ours = trace(layers, input_shape)
    except ValueError:
        ours = None
    assume(ours is None or max(max(row.output_shape[:2]) for row in ours.rows) <= 192)
    expected = keras_layer_shapes(input_shape, layers)
    if expected is None:
        assert ours is None
    else:
        assert ours is not None
        assert [row.output_shape for row in ours.rows] == expected


def test_trace_reads_unbuilt_sequential_and_functional_models():
    layers = [keras.layers.Conv2D(4, 3, name="c"), keras.layers.MaxPooling2D(2, name="p")]
    unbuilt = trace(keras.Sequential(layers), input_shape=(10, 12))
    assert [row.output_shape for row in unbuilt.rows] == [(8, 10, 4), (4, 5, 4)]
    x = keras.Input((10, 12, 3))
    functional = keras.Model(x, keras.layers.MaxPooling2D(2)(keras.layers.Conv2D(4, 3)(x)))
    assert trace(functional).output_shape == (4, 5, 4)
    assert trace(functional, input_shape=(20, 20)).input_shape == (20, 20, 3)


def test_trace_table_text_and_html_highlight_the_first_loss():
    t = trace(
        [
            LayerSpec("conv", "enc", kernel_size=3, padding="same", filters=4),
            LayerSpec("max_pool", "pool", kernel_size=2),
            LayerSpec("upsample", "up", size=2),
        ],
        (129, 129, 1),
    )
    text = str(t)
    assert ">> pool" in text
    assert "pooling 2 with stride 2 floors 129→64 and drops the last row" in text
    assert text.endswith(
        "Input 129×129×1 does NOT round-trip: output 128×128×4. Bottleneck 'pool' 64×64×4: "
        "compression 1.02×."
    )
    assert re.search(r'<tr style="background:#fdd"><td[^>]*>pool</td>', t._repr_html_())
    assert t.bottleneck.name == "pool"


def test_compression_below_one_is_called_larger_in_text_and_html():
    t = trace([LayerSpec("conv", kernel_size=1, filters=8)], (4, 4, 1))
    assert t.compression_ratio == 0.125
    assert "the bottleneck is LARGER than the input" in str(t)
    assert "the bottleneck is LARGER than the input" in t._repr_html_()


def test_receptive_field_and_jump_columns():
    t = trace(
        [
            LayerSpec("conv", kernel_size=3),
            LayerSpec("max_pool", kernel_size=2),
            LayerSpec("conv", kernel_size=3),
            LayerSpec("upsample", size=2),
            LayerSpec("conv", kernel_size=3),
        ],
        (32, 32),
    )
    assert [row.receptive_field for row in t.rows] == [(3, 3), (4, 4), (8, 8), (8, 8), (10, 10)]
    assert [row.jump[0] for row in t.rows] == [1, 2, 2, 1, 1]


def test_unmodelled_resize_interpolation_has_no_receptive_field_but_a_shape():
    t = trace([LayerSpec("resize", target=(5, 7), interpolation="bicubic")], (9, 9))
    assert t.output_shape == (5, 7, 1)
    assert t.rows[0].receptive_field is None
    assert " ? " in str(t)


# ---------------------------------------------------------------- diagnose


SAME_POOL_UP = [
    LayerSpec("conv", "enc", kernel_size=3, padding="same"),
    LayerSpec("max_pool", "pool", kernel_size=2),
    LayerSpec("upsample", "up", size=2),
]


def test_diagnose_ok_has_no_problems_or_fixes():
    d = diagnose(SAME_POOL_UP, (128, 128))
    assert d.ok and d.problems == () and d.fixes == ()
    assert str(d) == "OK: the output shape equals the input."


def test_every_fix_round_trips_in_real_keras():
    d = diagnose(SAME_POOL_UP, (129, 131, 1))
    assert not d.ok
    assert [fix.kind for fix in d.fixes] == ["input_size", "crop_or_pad_output", "pad_to_multiple"]
    assert d.fixes[0].input_shape == (130, 132, 1)
    assert d._repr_html_().startswith("<p><b>MISMATCH</b>: height: pooling 2 with stride 2")
    assert d._repr_html_().count("<li>") == len(d.fixes) == str(d).count("\n  - ")
    for fix in d.fixes:
        model = build_model(fix.layers, fix.input_shape)
        assert model.output_shape[1:] == fix.input_shape, fix


def test_diagnose_lists_output_padding_only_when_it_works():
    layers = [
        LayerSpec("conv", "down", kernel_size=3, strides=2, padding="same"),
        LayerSpec("conv_transpose", "up", kernel_size=3, strides=2, padding="same"),
    ]
    fix = {f.kind: f for f in diagnose(layers, (129, 129)).fixes}["output_padding"]
    assert fix.description == "set up: output_padding=(0, 0)"
    assert build_model(fix.layers, (129, 129, 1)).output_shape == (None, 129, 129, 1)
    # A stride-1 transposed conv only allows output_padding=0: no such fix is claimed.
    trimmed = [LayerSpec("conv", kernel_size=3), LayerSpec("conv_transpose", kernel_size=1)]
    kinds = [f.kind for f in diagnose(trimmed, (10, 10)).fixes]
    assert "output_padding" not in kinds
    assert kinds == ["padding_same", "crop_or_pad_output"]


def test_diagnose_reports_channels_and_too_small_inputs():
    d = diagnose([LayerSpec("conv", kernel_size=1, filters=3)], (8, 8, 1))
    assert d.problems == (
        "the output has 3 channels, the input 1: to reconstruct the input, give the last "
        "convolution filters=1; a head meant to give 3 channels (classes, say) needs no fix",
    )
    assert d.fixes == ()
    tiny = diagnose([LayerSpec("conv", kernel_size=5), LayerSpec("upsample", size=1)], (4, 4))
    assert tiny.trace is None
    assert "smallest input height that works is 5" in tiny.explanation


def test_compatible_sizes_rejects_bad_bounds():
    with pytest.raises(ValueError, match=r"lo, hi must be >= 1, got \(0, 5\)"):
        shapes.compatible_sizes(SAME_POOL_UP, 0, 5)


# ---------------------------------------------------------------- command line and import cost


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    good = keras.Sequential(
        [
            keras.Input((None, None, 1)),
            keras.layers.Conv2D(1, 3, padding="same"),
            keras.layers.MaxPooling2D(2),
            keras.layers.UpSampling2D(2),
        ]
    )
    good.save(folder / "good.keras")
    x = inputs = keras.Input((None, None, 1))
    x = keras.layers.Conv2D(2, 3, padding="same", name="enc")(x)
    pooled = keras.layers.MaxPooling2D(2, name="pool")(x)
    up = keras.layers.UpSampling2D(2, name="up")(pooled)
    outputs = [keras.layers.Conv2D(1, 1, name="rec")(up), keras.layers.Conv2D(3, 1, name="seg")(x)]
    keras.Model(inputs, outputs, name="two").save(folder / "two_heads.keras")
    image, mask = keras.Input((None, None, 1), name="image"), keras.Input((None, None, 2))
    pooled = keras.layers.MaxPooling2D(2, name="pool")(keras.layers.Concatenate()([image, mask]))
    up = keras.layers.UpSampling2D(2, name="up")(keras.layers.Conv2D(1, 1, name="mix")(pooled))
    keras.Model([image, mask], up, name="pair").save(folder / "two_inputs.keras")
    (folder / "not_a_model.keras").write_text("hello")
    return folder


@pytest.mark.parametrize(
    ("argv", "status", "stdout", "stderr"),
    [
        (["good.keras", "--input", "128x128"], 0, "OK: the output shape equals the input.", ""),
        (
            ["good.keras", "--input", "197x233"],
            1,
            "MISMATCH: height: pooling 2 with stride 2 floors 197→98 and drops the last row; "
            "width: pooling 2 with stride 2 floors 233→116",
            "",
        ),
        (["missing.keras"], 2, "", "cae-shapes: error: no such file: "),
        (["not_a_model.keras"], 2, "", "cannot load "),
        (
            ["good.keras"],
            2,
            "",
            "got (None, None, 1). A model built with keras.Input((None, None, 1)) "
            "needs input_shape=(H, W)",
        ),
    ],
)
def test_cli_exit_status(saved, capsys, argv, status, stdout, stderr):
    assert shapes.main([str(saved / argv[0]), *argv[1:]]) == status
    out, err = capsys.readouterr()
    assert " ".join(stdout.split()) in " ".join(out.split())  # the diagnosis is wrapped
    assert stderr in err


def test_cli_runs_each_fix_made_to_the_model(saved, capsys):
    assert shapes.main([str(saved / "good.keras"), "--input", "197x233"]) == 1
    out = capsys.readouterr().out.splitlines()[-1]
    assert out.startswith("Each fix made to the model and run once on zeros: input_size round-")
    assert out.endswith("pad_to_multiple round-trips.") and "FAILS" not in out


def test_cli_diagnoses_each_head_of_a_model_with_two_outputs(saved, capsys):
    assert shapes.main([str(saved / "two_heads.keras"), "--input", "17x16"]) == 1
    out = capsys.readouterr().out
    rec, seg = out.split("== head 'two_seg' (output 'seg') ==")
    assert rec.startswith("== head 'two_rec' (output 'rec') ==")
    assert "MISMATCH: height: pooling 2 with stride 2 floors 17→8" in " ".join(rec.split())
    assert "OK: the output shape equals the input" not in rec
    assert "17×16×3" in seg and "the output is" not in seg  # 'same' keeps the size
    assert "a head meant to give 3 channels (classes, say) needs no fix" in " ".join(seg.split())


def test_cli_diagnoses_a_model_with_two_inputs_of_one_size(saved, capsys):
    assert shapes.main([str(saved / "two_inputs.keras"), "--input", "17x16"]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "MISMATCH: height: pooling 2 with stride 2 floors 17→8" in out
    assert "pad every input to a multiple of 2 (17×16 → 18×16)" in out


def test_cli_bad_input_flag_is_usage_error(saved, capsys):
    with pytest.raises(SystemExit) as exit_info:
        shapes.main([str(saved / "good.keras"), "--input", "12by12"])
    assert exit_info.value.code == 2
    assert "with positive integers, e.g. 197x233 or 197x233x189; got '12by12'" in (
        capsys.readouterr().err
    )


def test_import_is_cheap_and_help_needs_no_tensorflow():
    code = (
        "import sys, cae_lessons.shapes, cae_lessons.receptive, cae_lessons.models; "
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"
    )
    assert (
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        == "[]\n"
    )
    helped = subprocess.run(
        [sys.executable, "-m", "cae_lessons.shapes", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "usage: cae-shapes" in helped.stdout


@pytest.mark.parametrize(
    ("spec", "size", "note", "loses"),
    [
        (
            LayerSpec("conv", kernel_size=3, strides=2, padding="same"),
            129,
            "3×3 conv with stride 2 pads 129→65",
            False,
        ),
        (
            LayerSpec("conv", kernel_size=3, strides=2, padding="same"),
            128,
            "3×3 conv with stride 2 maps 128→64",
            False,
        ),
        (
            LayerSpec("conv", kernel_size=3, strides=2),
            128,
            "3×3 conv with stride 2 floors 128→63 and drops the last row",
            True,
        ),
        (
            LayerSpec("max_pool", kernel_size=2, strides=3),
            128,
            "pooling 2 with stride 3 maps 128→43 and skips 1 of every 3 rows between windows",
            True,
        ),
        (
            LayerSpec("max_pool", kernel_size=2, strides=2),
            131,
            "pooling 2 with stride 2 floors 131→65 and drops the last row",
            True,
        ),
        (
            LayerSpec("avg_pool", kernel_size=3, strides=1),
            10,
            "valid pooling 3 trims 2 px: 10→8",
            True,
        ),
        (LayerSpec("crop", margins=(1, 0)), 10, "height: cropping removes 2 px: 10→8", True),
        (LayerSpec("zero_pad", margins=1), 10, "", False),
        (LayerSpec("conv", kernel_size=3, padding="same"), 10, "", False),
    ],
)
def test_row_notes(spec, size, note, loses):
    row = trace([spec], (size, size)).rows[0]
    assert (row.note, row.loses) == (note, loses)


def test_the_output_layer_is_not_the_bottleneck_when_an_earlier_layer_is_as_small():
    layers = [
        LayerSpec("conv", kernel_size=3, padding="same", filters=4),
        LayerSpec("conv", kernel_size=3, padding="same", filters=1),
    ]
    result = trace(layers, (48, 48, 1))
    assert result.bottleneck is result.rows[0]
    assert result.compression_ratio == 0.25


# ---------------------------------------------------------------- input holes


@pytest.mark.parametrize("size", [np.int64(128), [128, 128], (np.int32(128), 128)])
def test_size_functions_accept_what_keras_accepts(size):
    expected = 126 if np.ndim(size) == 0 else (126, 126)
    assert shapes.conv_output_size(size, np.int64(3)) == expected
    assert shapes.pool_output_size(size, [2, 2]) == (64 if np.ndim(size) == 0 else (64, 64))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"kind": "conv", "filters": 0}, "filters must be None"),
        ({"kind": "upsample", "interpolation": "bogus"}, "interpolation must be one of"),
        ({"kind": "max_pool", "kernel_size": 2, "dilation_rate": 2}, "pooling layers have no"),
        ({"kind": "resize"}, "needs target=\\(height, width\\)"),
    ],
)
def test_layer_spec_refuses_what_keras_refuses(arguments, message):
    with pytest.raises(ValueError, match=message):
        LayerSpec(**arguments)


def test_layer_spec_keeps_numpy_filters_as_int():
    assert LayerSpec("conv", filters=np.int64(8)).filters == 8
    assert type(LayerSpec("conv", filters=np.int64(8)).filters) is int


def test_diagnose_refuses_an_empty_model():
    with pytest.raises(ValueError, match="diagnose needs at least one layer"):
        diagnose([], (8, 8))


def test_transpose_overlap_counts_along_one_axis():
    with pytest.raises(TypeError, match="size must be an int"):
        shapes.transpose_overlap((4, 4), 3, 2)
    assert shapes.transpose_overlap(np.int64(4), 3, 2, "same") == (1, 1, 2, 1, 2, 1, 2, 1)


def test_compatible_sizes_refuses_an_empty_range():
    with pytest.raises(ValueError, match="got lo=10 > hi=5; swap them"):
        shapes.compatible_sizes([LayerSpec("conv", kernel_size=3, padding="same")], 10, 5)


# --- check_sizes_against_keras: the formulas-against-Keras table (ch. 1) --------------------------


def test_every_kind_agrees_with_keras_on_even_and_odd_sizes():
    layers = [
        LayerSpec("conv", kernel_size=3, strides=2, padding="valid"),
        LayerSpec("conv", kernel_size=4, strides=2, padding="same"),
        LayerSpec("max_pool", kernel_size=2),
        LayerSpec("avg_pool", kernel_size=3, strides=2, padding="same"),
        LayerSpec("upsample", size=3),
        LayerSpec("conv_transpose", kernel_size=3, strides=2, padding="valid"),
        LayerSpec("conv_transpose", kernel_size=3, strides=2, padding="same", output_padding=0),
    ]
    check = check_sizes_against_keras(layers, [9, 64, 129])
    assert check.agree
    assert (check.n_cases, check.n_agree) == (21, 21)
    assert check.formula[0] == (4, 31, 64)
    assert check.keras[-1] == (17, 127, 257)
    assert check.labels[4] == "UpSampling2D ×3"
    assert check.labels[-1] == "Conv2DTranspose k3 s2 same op0"


def test_an_input_both_refuse_is_shown_as_a_dash_and_counts_as_agreement():
    check = check_sizes_against_keras([LayerSpec("conv", kernel_size=5)], [3, 5])
    assert check.formula == ((None, 1),)
    assert check.keras == ((None, 1),)
    assert check.agree
    assert str(check).splitlines()[1].split() == ["Conv2D", "k5", "s1", "valid", "-", "1"]


def test_a_disagreement_is_marked_in_text_and_html():
    check = SizeCheck(("Conv2D k3 s1 valid",), (8, 9), ((6, 7),), ((6, 8),))
    assert not check.agree
    assert check.n_agree == 1
    text = str(check)
    assert "7≠8" in text
    assert text.endswith("1 of 2 cases agree with Keras (≠: formula≠Keras; -: refused).")
    assert ">7≠8</td>" in check._repr_html_()


def test_dilated_labels_and_dict_layers():
    check = check_sizes_against_keras(
        [{"kind": "conv", "kernel_size": 3, "dilation_rate": 2}], [10]
    )
    assert check.labels == ("Conv2D k3 s1 valid d2",)
    assert check.formula == check.keras == ((6,),)


@pytest.mark.parametrize("sizes", [[], [0], [8, 2.5], [True]])
def test_bad_sizes_are_rejected(sizes):
    with pytest.raises(ValueError, match="sizes must be a non-empty list of ints >= 1"):
        check_sizes_against_keras([LayerSpec("conv", kernel_size=3)], sizes)


def test_non_square_layers_are_rejected():
    with pytest.raises(ValueError, match="differs between height and width"):
        check_sizes_against_keras([LayerSpec("conv", kernel_size=(3, 5))], [9])


# --- output_padding_for and transpose_overlap (ch. 5) ---------------------------------------------


def _keras_round_trip(size, kernel_size, strides, padding, output_padding):
    """Height after Conv2D then Conv2DTranspose (same arguments), from real Keras layers."""
    args = {"kernel_size": (kernel_size, 1), "strides": (strides, 1), "padding": padding}
    x = np.zeros((1, size, 1, 1), np.float32)
    encoded = keras.layers.Conv2D(1, **args)(x)
    out = keras.layers.Conv2DTranspose(1, output_padding=(output_padding, 0), **args)(encoded)
    return out.shape[1]


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize(("kernel_size", "strides"), [(1, 2), (3, 2), (4, 2), (3, 3), (5, 3)])
def test_output_padding_restores_every_size_keras_can(kernel_size, strides, padding):
    for size in range(kernel_size + 3, kernel_size + 3 + 2 * strides):
        try:
            a = output_padding_for(size, kernel_size, strides, padding)
        except ValueError:
            # Only 'same' with an even kernel at a multiple of the stride has no output_padding.
            assert (padding, kernel_size % 2, size % strides) == ("same", 0, 0)
            continue
        assert 0 <= a < strides
        assert _keras_round_trip(size, kernel_size, strides, padding, a) == size


@pytest.mark.parametrize("size", range(7, 15))
@pytest.mark.parametrize(("padding", "p"), [("valid", 0), ("same", 1)])
def test_odd_kernels_follow_dumoulin_visin_relationship_14(size, padding, p):
    assert output_padding_for(size, 3, 2, padding) == (size + 2 * p - 3) % 2


def test_output_padding_for_explains_what_cannot_be_restored():
    with pytest.raises(ValueError, match=r"give back 128 from 64 \(it would need 2\)"):
        output_padding_for(128, 4, 2, "same")
    with pytest.raises(ValueError, match="cannot take an input height of 2"):
        output_padding_for(2, 3, 1, "valid")
    with pytest.raises(TypeError, match="size must be an int"):
        output_padding_for((128, 128), 3, 2)
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same'"):
        output_padding_for(128, 3, 2, "full")


@pytest.mark.parametrize(
    ("size", "kernel_size", "strides", "padding", "output_padding"),
    [
        (4, 3, 2, "same", None),
        (4, 4, 2, "same", None),
        (4, 3, 2, "valid", None),
        (5, 4, 2, "valid", 1),
        (3, 3, 2, "same", 0),
        (5, 5, 3, "same", None),
        (5, 2, 3, "valid", 1),
    ],
)
def test_overlap_is_the_output_of_an_all_ones_transposed_conv(
    size, kernel_size, strides, padding, output_padding
):
    layer = keras.layers.Conv2DTranspose(
        1,
        (kernel_size, 1),
        strides=(strides, 1),
        padding=padding,
        output_padding=None if output_padding is None else (output_padding, 0),
        kernel_initializer="ones",
        use_bias=False,
    )
    keras_counts = np.asarray(layer(np.ones((1, size, 1, 1), np.float32)))[0, :, 0, 0]
    counts = transpose_overlap(size, kernel_size, strides, padding, output_padding)
    assert counts == tuple(int(v) for v in keras_counts)
    assert len(counts) == conv_transpose_output_size(
        size, kernel_size, strides, padding, output_padding
    )


def test_overlap_is_even_inside_when_the_stride_divides_the_kernel():
    assert set(transpose_overlap(16, 4, 2, "same")[2:-2]) == {2}
    assert set(transpose_overlap(16, 3, 2, "same")[2:-2]) == {1, 2}
    assert 0 in transpose_overlap(8, 2, 3, "valid")  # a stride larger than the kernel leaves gaps
