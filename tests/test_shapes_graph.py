"""trace, input_sizes and diagnose on Keras models with branches: U-Nets ('same' and valid),
residual models (Add, ``+``), shared layers, nested models, ``keras.ops`` merges; every layer's
shape against Keras, every predicted size against a forward pass."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from keras import layers

from cae_lessons.shapes import LayerSpec, build_model, diagnose, heads, input_sizes, trace
from cae_lessons.shapes.graph import axis_sizes, wiring
from cae_lessons.shapes.reading import _as_specs
from cae_lessons.shapes.solving import SizeRule

SETTINGS = {"derandomize": True, "deadline": None}


@pytest.fixture(autouse=True)
def _seeded():
    keras.utils.set_random_seed(0)


def unet(depth=3, size=None, padding="same", filters=2, convs=2, crops=None):
    """A U-Net: ``convs`` 3×3 convolutions per level, 2×2 pooling, 2×2 stride-2 transposed
    convolutions, skips by Concatenate. When 'valid', each skip is cropped to the up path's size
    as Ronneberger et al. do: by ``crops[level]``, or as the shapes at ``size`` need."""
    x = inputs = keras.Input((size, size, 1))
    skips = []
    for level in range(depth):
        for k in range(convs):
            x = layers.Conv2D(filters, 3, padding=padding, name=f"enc{level}_{k}")(x)
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"pool{level}")(x)
    for k in range(convs):
        x = layers.Conv2D(filters, 3, padding=padding, name=f"bottom_{k}")(x)
    for level in reversed(range(depth)):
        x = layers.Conv2DTranspose(filters, 2, strides=2, name=f"up{level}")(x)
        skip = skips[level]
        if padding == "valid":
            crop = crops[level] if crops else (skip.shape[1] - x.shape[1]) // 2
            skip = layers.Cropping2D(crop, name=f"crop{level}")(skip)
        x = layers.Concatenate(name=f"skip{level}")([x, skip])
        for k in range(convs):
            x = layers.Conv2D(filters, 3, padding=padding, name=f"dec{level}_{k}")(x)
    return keras.Model(inputs, layers.Conv2D(1, 1, name="head")(x), name="unet")


def valid_unet(size=None):
    """Ronneberger's valid U-Net at depth 2, its crops those that a 60-pixel input needs."""
    at_60 = unet(2, 60, "valid")
    crops = [at_60.get_layer(f"crop{level}").cropping[0][0] for level in range(2)]
    return unet(2, size, "valid", crops=crops)


def residual(merge: str, size=None):
    """Two branches of different depth, joined by an Add layer, ``+`` or ``keras.ops``."""
    x = inputs = keras.Input((size, size, 1))
    a = layers.Cropping2D(1, name="crop")(layers.Conv2D(1, 3, name="c3")(x))
    b = layers.Conv2D(1, 5, name="c5")(x)
    if merge == "layer":
        out = layers.Add(name="sum")([a, b])
    elif merge == "operator":
        out = a + b
    else:
        out = keras.ops.concatenate([a, b], axis=-1)
    return keras.Model(inputs, out, name=f"residual_{merge}")


def shared(size=None):
    conv = layers.Conv2D(1, 3, name="shared")
    x = inputs = keras.Input((size, size, 1))
    return keras.Model(inputs, conv(conv(x)), name="shared_twice")


def nested(size=None):
    inner = keras.Sequential(
        [keras.Input((None, None, 1)), layers.Conv2D(2, 3, name="c"), layers.MaxPooling2D(2)],
        name="inner",
    )
    x = inputs = keras.Input((size, size, 1))
    skip = layers.Conv2D(2, 2, strides=2, name="down")(x)
    out = layers.Concatenate(name="join")([layers.ZeroPadding2D(((0, 1), (0, 1)))(inner(x)), skip])
    return keras.Model(inputs, out, name="outer")


def nested_in_sequential(size=None):
    inner = keras.Sequential([keras.Input((None, None, 1)), layers.Conv2D(2, 3, name="c")])
    pool = layers.MaxPooling2D(2, name="pool")
    return keras.Sequential([keras.Input((size, size, 1)), inner, pool], name="outer_seq")


def two_heads(head, size=None):
    """A U-Net of depth 1 with a reconstruction head and a segmentation head at the skip."""
    x = inputs = keras.Input((size, size, 1))
    skip = layers.Conv2D(2, 3, padding="same", name="enc")(x)
    x = layers.MaxPooling2D(2, name="pool")(skip)
    x = layers.Conv2DTranspose(2, 2, strides=2, name="up")(x)
    x = layers.Concatenate(name="join")([x, skip])
    rec = layers.Conv2D(1, 1, name="rec")(x)
    seg = layers.Conv2D(3, 3, name="seg")(skip)  # 'valid': two pixels smaller
    return heads(keras.Model(inputs, [rec, seg], name="two"))[head]


def two_inputs(size=None):
    """An image and its two-channel mask, joined at the start and again at the skip."""
    image = keras.Input((size, size, 1), name="image")
    mask = keras.Input((size, size, 2), name="mask")
    x = layers.Concatenate(name="join")([image, mask])
    x = layers.Conv2D(4, 3, padding="same", name="enc")(x)
    x = layers.MaxPooling2D(2, name="pool")(x)
    x = layers.UpSampling2D(2, name="up")(x)
    gate = layers.Conv2D(4, 1, name="gate")(mask)
    x = layers.Multiply(name="gated")([x, gate])
    return keras.Model([image, mask], layers.Conv2D(1, 3, padding="same", name="out")(x))


def two_inputs_valid(size=None):
    """Two scans to register, each through its own valid convolution, then added."""
    fixed = keras.Input((size, size, 1), name="fixed")
    moving = keras.Input((size, size, 1), name="moving")
    a = layers.Conv2D(2, 3, name="fixed_conv")(fixed)
    b = layers.Cropping2D(1, name="crop")(layers.Conv2D(2, 1, name="moving_conv")(moving))
    x = layers.MaxPooling2D(2, name="pool")(layers.Add(name="sum")([a, b]))
    return keras.Model([fixed, moving], layers.UpSampling2D(2, name="up")(x), name="register")


BUILDERS = {
    "unet_same": lambda size=None: unet(3, size),
    "unet_valid": valid_unet,
    "residual_add": lambda size=None: residual("layer", size),
    "residual_plus": lambda size=None: residual("operator", size),
    "residual_ops_concatenate": lambda size=None: residual("ops", size),
    "shared": shared,
    "nested": nested,
    "nested_in_sequential": nested_in_sequential,
    "two_heads_rec": lambda size=None: two_heads(0, size),
    "two_heads_seg": lambda size=None: two_heads(1, size),
    "two_inputs": two_inputs,
    "two_inputs_valid": two_inputs_valid,
}
"""Builders of a model at one size, or at any size (``None``)."""


def keras_outputs(model):
    """``{name: output shape}`` of every layer call that trace names the same way."""
    shapes = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        for call, node in enumerate(layer._inbound_nodes, start=1):
            name = layer.name + (f"#{call}" if call > 1 else "")
            shapes[name] = tuple(node.output_tensors[0].shape[1:])
    return shapes


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_layer_shape_equals_keras(name):
    size = 60 if name == "unet_valid" else 64
    model = BUILDERS[name](size)
    result = trace(model)
    expected = keras_outputs(model)
    compared = [row.name for row in result.rows if row.name in expected]
    assert len(compared) >= len(result.rows) - 3  # ops (add, concatenate) and nested layers
    for row in result.rows:
        if row.name in expected:
            assert row.output_shape == expected[row.name], row.name
    assert result.output_shape == tuple(model.output_shape[1:])


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_input_sizes_equal_keras_forward_passes(name):
    """Keras runs the model at a size 1…40 exactly when input_sizes says so, with that output."""
    model = BUILDERS[name]()
    sizes = input_sizes(model)
    specs, _ = _as_specs(model, (1, 1, 1))
    per_layer, _ = axis_sizes(specs, wiring(specs), 0, np.arange(1, 41))
    positive = np.all([size >= 1 for size in per_layer], axis=0)
    for m in range(1, 41):
        if not positive[m - 1]:  # never run a kernel on an empty output: oneDNN aborts on them
            assert m not in sizes.height.runs
            continue
        try:
            zeros = [np.zeros((1, m, m, t.shape[-1]), np.float32) for t in model.inputs]
            out = model(zeros if len(model.inputs) > 1 else zeros[0])
        except (ValueError, tf.errors.InvalidArgumentError):  # a merge's inputs disagree
            assert m not in sizes.height.runs, m
        else:
            assert m in sizes.height.runs, m
            assert out.shape[1] == per_layer[-1][m - 1]


def test_ronneberger_unet_sizes():
    """The valid U-Net of Ronneberger et al. (depth 4): 572 → 388, n ≡ 12 (mod 16)."""
    model = unet(4, 572, "valid", filters=1)
    assert trace(model).output_shape == (388, 388, 1) == tuple(model.output_shape[1:])
    sizes = input_sizes(model)
    assert str(sizes.height.runs) == "n ≡ 12 (mod 16), n ≥ 188"  # the paper's 572 is one
    assert sizes.height.mapping == "n → n − 184"
    assert not sizes.height.round_trips.sizes_exist
    assert sizes.height.runs.nearest(570) == (556, 572)


def test_same_unet_sizes_are_multiples_of_two_to_the_depth():
    sizes = input_sizes(unet(4))
    assert sizes.sentences() == [
        "height and width: runs for n ≡ 0 (mod 16), n ≥ 16 (n → n); "
        "round-trips for n ≡ 0 (mod 16), n ≥ 16"
    ]
    assert max(len(line) for line in str(sizes).splitlines()) <= 88


def test_merge_mismatch_names_the_merge_both_shapes_and_branches():
    with pytest.raises(ValueError) as caught:
        trace(unet(2), (66, 66))
    assert str(caught.value) == (
        "'skip1' Concatenate(['up1', 'enc1_1']) cannot join its inputs: 'up1' is 32×32×2 and "
        "'enc1_1' is 33×33×2; their heights and widths differ, and Keras raises a ValueError "
        "here. Behind 'up1': pool1 → bottom_0 → bottom_1 → up1; there, 'pool1': pooling 2 with "
        "stride 2 floors 33→16 and drops the last row. The branches split at 'enc1_1'."
    )


def test_diagnose_a_unet_fixes_by_input_size_and_padding_and_each_fix_runs():
    model = unet(3)
    result = diagnose(model, (66, 66))
    assert not result.ok and result.trace is None
    assert result.problems[0].startswith("'skip1' Concatenate(['up1', 'enc1_1']) cannot join")
    kinds = [fix.kind for fix in result.fixes]
    assert kinds[0] == "input_size" and "pad_to_multiple" in kinds
    assert result.fixes[0].input_shape == (64, 64, 1)
    assert "nearest below 64×64 and above 72×72" in result.fixes[0].description
    assert model(np.zeros((1, 64, 64, 1), np.float32)).shape == (1, 64, 64, 1)
    padded = next(fix for fix in result.fixes if fix.kind == "pad_to_multiple")
    assert trace(padded.layers, (66, 66, 1)).output_shape == (66, 66, 1)


def test_diagnose_a_valid_unet_says_what_it_maps_to_what():
    result = diagnose(unet(2, 60, "valid"))
    assert result.runs == (
        "It runs at this size: 60×60×1 → 20×20×1; if that is what it is for (a segmentation "
        "head, a valid U-Net), it needs no fix."
    )


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: keras.Model(
                (i := keras.Input((8, 8, 1))), [layers.Conv2D(1, 3)(i), layers.Conv2D(1, 1)(i)]
            ),
            "trace reads a model with one output",
        ),
        (
            lambda: keras.Model(
                (i := keras.Input((8, 8, 1))),
                layers.Concatenate(axis=1)([i, i]),
                name="tall",
            ),
            "trace reads concatenations along the channel axis only; 'concatenate",
        ),
        (
            lambda: keras.Model((i := keras.Input((8, 8, 1))), keras.ops.transpose(i), name="t"),
            "trace does not know the operation 'transpose' (Transpose)",
        ),
    ],
    ids=["two_outputs", "concatenate_on_height", "unknown_op"],
)
def test_refused_graphs(build, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        trace(build())


def test_a_plain_list_of_keras_layers_with_a_merge_is_refused():
    with pytest.raises(ValueError, match="A list of Keras layers is a chain, but 'sum' \\(Add\\)"):
        trace([layers.Conv2D(1, 3), layers.Add(name="sum")], (8, 8, 1))


def test_spec_inputs_must_name_earlier_layers():
    with pytest.raises(ValueError, match="takes 'later', which is not the name of an earlier"):
        trace(
            [LayerSpec("conv", "a"), LayerSpec("elementwise", "m", inputs=["a", "later"])], (8, 8)
        )


@pytest.mark.parametrize("position", [(8, 8), (0, 0), (15, 3)])
def test_support_through_a_merge_is_the_union_over_paths_as_the_gradient_finds(position):
    """After the last skip of a U-Net, support() equals the box the unit's gradient reaches."""
    from cae_lessons.receptive import empirical_receptive_field

    model = unet(2, 16)
    result = trace(model)
    assert result.support("enc0_1", (0, 0)) == ((0, 3), (0, 3))
    found = empirical_receptive_field(model, "dec0_0", position)
    assert result.support("dec0_0", position) == (found.rows, found.cols)


@pytest.mark.parametrize(
    ("build", "layers_after_merges"),
    [
        (lambda: unet(2, 128), ["skip1", "dec1_1", "skip0", "dec0_0", "dec0_1", "head"]),
        (lambda: residual("layer", 40), ["sum"]),
    ],
)
def test_receptive_field_after_merges_is_the_widest_field_the_gradient_finds(
    build, layers_after_merges
):
    """The RF column past a merge is the union over paths: the largest field among the units
    of one period in the middle of the image (away from the border), measured by gradients."""
    from cae_lessons.receptive import empirical_receptive_field

    model = build()
    rows = {row.name: row for row in trace(model).rows}
    for name in layers_after_merges:
        middle = rows[name].output_shape[0] // 2
        fields = [  # the axes are independent: one period along the diagonal covers both
            empirical_receptive_field(model, name, (middle + d, middle + d)) for d in range(4)
        ]
        widest = tuple(
            max(stop - first for first, stop in axis)
            for axis in zip(*((f.rows, f.cols) for f in fields), strict=True)
        )
        assert rows[name].receptive_field == widest, name


def test_support_refuses_a_union_that_is_not_one_box():
    specs = [
        LayerSpec("conv", "tall", kernel_size=(5, 1), padding="same"),
        LayerSpec("conv", "wide", kernel_size=(1, 5), padding="same", inputs=["input"]),
        LayerSpec("elementwise", "cross", inputs=["tall", "wide"]),
    ]
    result = trace(specs, (9, 9))
    with pytest.raises(ValueError, match=r"at \(4, 4\) through its 2 paths are not one box"):
        result.support("cross", (4, 4))


graph_layers = st.lists(
    st.tuples(
        st.sampled_from(["conv", "max_pool", "upsample", "conv_transpose", "crop", "skip"]),
        st.integers(1, 3),
        st.integers(1, 3),
        st.sampled_from(["valid", "same"]),
    ),
    min_size=1,
    max_size=7,
)


def _graph(draw_layers):
    specs = []
    for index, (kind, k, s, padding) in enumerate(draw_layers):
        name = f"l{index}"
        if kind == "skip":
            earlier = specs[-2].name if len(specs) >= 2 else "input"
            specs.append(
                LayerSpec(
                    "elementwise", name, inputs=[specs[-1].name if specs else "input", earlier]
                )
            )
        elif kind == "upsample":
            specs.append(LayerSpec("upsample", name, size=s))
        elif kind == "crop":
            specs.append(LayerSpec("crop", name, margins=k - 1))
        else:
            specs.append(
                LayerSpec(
                    kind,
                    name,
                    kernel_size=k + (kind == "conv_transpose"),
                    strides=s,
                    padding=padding,
                )
            )
    return specs


@settings(max_examples=150, **SETTINGS)
@given(graph_layers)
def test_rules_hold_beyond_the_range_they_were_computed_on(draw_layers):
    """A rule proved from sizes 1…256 holds, size by size, up to 1024."""
    specs = _graph(draw_layers)
    small, large = input_sizes(specs, limit=256), input_sizes(specs, limit=1024)
    n = np.arange(1, 1025)
    sizes, runs = axis_sizes(specs, wiring(specs), 0, n)
    trips = runs & (sizes[-1] == n)
    for rule, works in ((small.height.runs, runs), (small.height.round_trips, trips)):
        checked = n if rule.exact else n[:256]
        assert [int(m) in rule for m in checked] == works[: len(checked)].tolist()
    assert [int(m) in large.height.runs for m in n] == runs.tolist()


def test_size_rule_beyond_its_limit_refuses_when_not_proved():
    rule = SizeRule(0, (), (3, 5), 100, False, "two branches grow at different rates")
    assert 5 in rule
    with pytest.raises(ValueError, match="101 is above 100, the largest size checked"):
        101 in rule  # noqa: B015 - the membership test is what raises


@pytest.mark.parametrize("size", [66, 197])
def test_every_fix_of_a_unet_is_a_model_that_round_trips(size):
    model = unet(3)
    result = diagnose(model, (size, size))
    assert len(result.fixes) >= 2
    for fix in result.fixes:
        assert fix.check(model), fix


def _chain_with_activations():
    return keras.Sequential(
        [
            keras.Input((130, 130, 1)),
            layers.Conv2D(4, 3, activation="relu", name="enc"),
            layers.BatchNormalization(name="norm"),
            layers.MaxPooling2D(2, name="pool"),
            layers.UpSampling2D(2, name="up"),
            layers.Conv2D(1, 3, activation="sigmoid", name="out"),
        ],
        name="chain",
    )


def test_every_fix_of_a_chain_is_a_model_that_round_trips():
    model = _chain_with_activations()
    result = diagnose(model)
    assert {"padding_same", "crop_or_pad_output"} <= {f.kind for f in result.fixes}
    for fix in result.fixes:
        assert fix.check(model), fix


def test_a_fix_keeps_names_activations_normalisation_and_weights():
    model = _chain_with_activations()
    fix = next(f for f in diagnose(model).fixes if f.kind == "padding_same")
    fixed = fix.apply(model)
    assert [layer.name for layer in fixed.layers] == [layer.name for layer in model.layers]
    assert fixed.get_layer("enc").get_config()["padding"] == "same"
    assert fixed.get_layer("enc").get_config()["activation"] == "relu"
    assert fixed.get_layer("out").get_config()["activation"] == "sigmoid"
    assert isinstance(fixed.get_layer("norm"), layers.BatchNormalization)
    np.testing.assert_array_equal(fixed.get_layer("enc").kernel, model.get_layer("enc").kernel)
    assert fixed.output_shape == (None, 130, 130, 1)


def test_a_fix_inside_a_nested_model_edits_the_nested_layer():
    inner = keras.Sequential(
        [
            keras.Input((None, None, 1)),
            layers.MaxPooling2D(2, strides=3, name="p"),
            layers.UpSampling2D(2, name="u"),
        ],
        name="inner",
    )
    x = inputs = keras.Input((12, 12, 1))
    model = keras.Model(inputs, inner(x))
    fix = next(f for f in diagnose(model).fixes if f.kind == "match_strides")
    fixed = fix.apply(model)
    assert fixed.get_layer("inner").get_layer("p").strides == (2, 2)
    assert model.get_layer("inner").get_layer("p").strides == (3, 3)  # the user's is untouched
    assert fixed.output_shape == (None, 12, 12, 1) and fix.check(model)


def test_augmentation_and_normalisation_layers_are_shape_neutral_as_in_keras():
    model = keras.Sequential(
        [
            keras.Input((20, 20, 1)),
            layers.RandomFlip(name="flip"),
            layers.RandomRotation(0.1, name="rotate"),
            layers.Normalization(mean=0.5, variance=0.25, name="normalize"),
            layers.Identity(name="identity"),
            layers.Conv2D(1, 3, name="conv"),
        ]
    )
    result = trace(model)
    assert [row.kind for row in result.rows] == ["neutral"] * 4 + ["conv"]
    assert result.output_shape == tuple(model.output_shape[1:]) == (18, 18, 1)
    assert result.rows[-1].receptive_field == (3, 3)


def test_separable_and_depthwise_convolutions_trace_as_keras_computes_them():
    model = keras.Sequential(
        [
            keras.Input((33, 31, 3)),
            layers.SeparableConv2D(8, 3, strides=2, name="separable"),
            layers.DepthwiseConv2D(5, padding="same", dilation_rate=2, name="depthwise"),
            layers.SeparableConv2D(2, (3, 1), padding="same", strides=(1, 2), name="tall"),
        ]
    )
    expected = keras_outputs(model)
    result = trace(model)
    assert {row.name: row.output_shape for row in result.rows} == expected
    assert [row.kind for row in result.rows] == ["conv"] * 3


def test_a_depthwise_convolution_that_multiplies_channels_is_refused():
    model = keras.Sequential(
        [keras.Input((8, 8, 2)), layers.DepthwiseConv2D(3, depth_multiplier=2)]
    )
    with pytest.raises(ValueError, match=r"has depth_multiplier=2: its output channels depend"):
        trace(model)


def test_empirical_receptive_field_reaches_through_a_skip_and_a_separable_convolution():
    """The gradient of a unit after an Add of a 3×3 and a 5×5 branch reaches the 5×5 box."""
    from cae_lessons.receptive import empirical_receptive_field

    x = inputs = keras.Input((16, 16, 1))
    a = layers.SeparableConv2D(1, 3, padding="same", name="sep")(x)
    b = layers.Conv2D(1, 5, padding="same", name="wide")(x)
    model = keras.Model(inputs, layers.Subtract(name="diff")([a, b]))
    found = empirical_receptive_field(model, "diff", (8, 8))
    assert (found.rows, found.cols) == ((6, 11), (6, 11))


def test_build_model_of_a_graph_is_the_functional_model_trace_describes():
    specs = [
        LayerSpec("conv", "enc", 3, padding="same", filters=4),
        LayerSpec("max_pool", "pool", 2),
        LayerSpec("conv", "mid", 3, padding="same"),
        LayerSpec("upsample", "up", size=2),
        LayerSpec("concatenate", "skip", inputs=["up", "enc"]),
        LayerSpec("conv", "out", 3, padding="same", filters=1),
    ]
    model = build_model(specs, (16, 16, 1))
    assert keras_outputs(model) == {
        row.name: row.output_shape for row in trace(specs, (16, 16)).rows
    }
    assert model.get_layer("mid").filters == 4  # as many as its input, like trace says


@settings(max_examples=40, **SETTINGS)
@given(graph_layers, st.integers(4, 24))
def test_keras_builds_a_random_graph_exactly_when_trace_does(draw_layers, n):
    """At a size where no layer's output is empty, Keras refuses a graph exactly when trace
    does, and otherwise every layer's shape is the one trace gives."""
    specs = _graph(draw_layers)
    per_layer, _ = axis_sizes(specs, wiring(specs), 0, [n])
    if min(int(size[0]) for size in per_layer) < 1:
        return  # Keras' symbolic shapes go negative there; trace refuses, which is checked above
    try:
        expected = {row.name: row.output_shape for row in trace(specs, (n, n)).rows}
    except ValueError:
        with pytest.raises(ValueError):
            build_model(specs, (n, n, 1))
    else:
        assert keras_outputs(build_model(specs, (n, n, 1))) == expected


def test_a_channels_first_unet_traces_as_keras_computes_it():
    x = inputs = keras.Input((2, 20, 24))
    enc = layers.Conv2D(4, 3, padding="same", data_format="channels_first", name="enc")(x)
    down = layers.MaxPooling2D(2, data_format="channels_first", name="pool")(enc)
    up = layers.UpSampling2D(2, data_format="channels_first", name="up")(down)
    skip = layers.Concatenate(axis=1, name="skip")([up, enc])
    out = layers.Conv2D(2, 1, data_format="channels_first", name="out")(skip)
    model = keras.Model(inputs, out)
    result = trace(model)
    expected = {name: (h, w, c) for name, (c, h, w) in keras_outputs(model).items()}
    assert {row.name: row.output_shape for row in result.rows} == expected
    assert result.input_shape == (20, 24, 2) and result.data_format == "channels_first"
    assert result.summary().endswith(
        "(A channels_first model: its C×H×W shapes are shown as H×W×C.)"
    )
    assert str(input_sizes(model)).startswith("height and width: runs for n ≡ 0 (mod 2), n ≥ 2")
    result = diagnose(model, (21, 24))
    assert result.problems[0].startswith("'skip' Concatenate(['up', 'enc']) cannot join")
    fix = result.fixes[0]
    with pytest.raises(ValueError, match="apply_fix edits channels_last models; 'functional"):
        fix.apply(model)


def test_a_model_that_mixes_data_formats_is_refused():
    model = keras.Sequential(
        [
            keras.Input((8, 8, 8)),
            layers.Conv2D(8, 3, data_format="channels_first", name="first"),
            layers.MaxPooling2D(2, name="last"),
        ]
    )
    with pytest.raises(
        ValueError,
        match="mixes data formats: 'first' is channels_first, 'last' is channels_last",
    ):
        trace(model)


def test_each_head_of_a_two_head_model_is_diagnosed_and_fixed_on_its_own():
    rec, seg = two_heads(0), two_heads(1)
    assert [h.name for h in (rec, seg)] == ["two_rec", "two_seg"]
    d = diagnose(rec, (17, 17, 1))
    assert not d.ok and d.problems[0].startswith("'join' Concatenate(['up', 'enc']) cannot join")
    assert d.fixes and all(fix.check(rec) for fix in d.fixes)  # each made to the head and run
    assert trace(seg, input_shape=(17, 17, 1)).output_shape == (15, 15, 3)


def test_the_heads_of_a_two_input_model_take_both_inputs():
    a, b = keras.Input((8, 8, 1), name="a"), keras.Input((8, 8, 3), name="b")
    summed = layers.Add(name="sum")([layers.Conv2D(3, 1, name="ca")(a), b])
    model = keras.Model([a, b], [summed, layers.Conv2D(2, 3, name="cb")(b)], name="pair")
    first, second = heads(model)
    assert [len(head.inputs) for head in (first, second)] == [2, 2]
    assert trace(first).output_shape == (8, 8, 3) and trace(second).output_shape == (6, 6, 2)


def test_every_fix_of_a_two_input_model_pads_both_inputs_and_runs():
    model = two_inputs()
    result = diagnose(model, (33, 33))
    assert result.problems[0].startswith("'gated' elementwise merge (Add, Multiply, ...) of")
    assert {"input_size", "pad_to_multiple"} <= {fix.kind for fix in result.fixes}
    for fix in result.fixes:
        fixed = fix.apply(model)
        size = fix.input_shape[:-1]
        assert [tuple(t.shape[1:]) for t in fixed.inputs] == [(*size, 1), (*size, 2)], fix
        assert fix.check(model), fix


def test_an_input_of_another_layers_size_traces_and_builds_as_keras_computes_it():
    specs = [
        LayerSpec("max_pool", "pool", 2),
        LayerSpec("input", "half", inputs=["pool"], filters=2),
        LayerSpec("concatenate", "join", inputs=["pool", "half"]),
        LayerSpec("upsample", "up", size=2),
    ]
    model = build_model(specs, (32, 32, 1))
    rows = {row.name: row.output_shape for row in trace(specs, (32, 32, 1)).rows}
    assert [tuple(t.shape[1:]) for t in model.inputs] == [(32, 32, 1), rows["half"]]
    assert {name: rows[name] for name in keras_outputs(model)} == keras_outputs(model)
    assert rows["join"] == (16, 16, 3) and rows["up"] == (32, 32, 3)
