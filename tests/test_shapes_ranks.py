"""trace, diagnose and input_sizes on 1-D and 3-D layers, against real Keras layers and models."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from keras import layers

from cae_lessons import shapes
from cae_lessons.shapes import LayerSpec, diagnose, input_sizes, trace

SETTINGS = {"derandomize": True, "deadline": None}


def keras_outputs(model):
    return {
        layer.name: tuple(layer.output.shape[1:])
        for layer in model.layers
        if not isinstance(layer, keras.layers.InputLayer)
    }


def unet3d(shape, depth=2, filters=2):
    """A 'same' 3-D U-Net with Concatenate skips, in plain Keras."""
    x = inputs = keras.Input(shape)
    skips = []
    for d in range(depth):
        x = layers.Conv3D(filters, 3, padding="same", activation="relu", name=f"enc{d}")(x)
        skips.append(x)
        x = layers.MaxPooling3D(2, name=f"pool{d}")(x)
    x = layers.Conv3D(filters, 3, padding="same", name="bottom")(x)
    for d in reversed(range(depth)):
        x = layers.UpSampling3D(2, name=f"up{d}")(x)
        x = layers.Concatenate(name=f"skip{d}")([x, skips[d]])
        x = layers.Conv3D(filters, 3, padding="same", name=f"dec{d}")(x)
    return keras.Model(inputs, layers.Conv3D(1, 1, name="out")(x))


ONE_D = [
    lambda: layers.Conv1D(3, 4, strides=2, padding="same"),
    lambda: layers.Conv1D(2, 3, dilation_rate=2),
    lambda: layers.MaxPooling1D(3, strides=2),
    lambda: layers.AveragePooling1D(2, padding="same"),
    lambda: layers.Conv1DTranspose(2, 3, strides=2, output_padding=1),
    lambda: layers.Conv1DTranspose(2, 4, strides=2, padding="same"),
    lambda: layers.UpSampling1D(3),
    lambda: layers.Cropping1D((1, 2)),
    lambda: layers.ZeroPadding1D((0, 3)),
    lambda: layers.SeparableConv1D(2, 3),
    lambda: layers.DepthwiseConv1D(3, padding="same"),
]
THREE_D = [
    lambda: layers.Conv3D(2, (3, 1, 2), strides=(1, 2, 1), padding="same"),
    lambda: layers.Conv3D(2, 3, dilation_rate=(2, 1, 1)),
    lambda: layers.MaxPooling3D((2, 3, 2)),
    lambda: layers.AveragePooling3D(2, strides=(1, 2, 3), padding="same"),
    lambda: layers.Conv3DTranspose(2, 3, strides=(2, 1, 2), output_padding=(1, 0, 0)),
    lambda: layers.UpSampling3D((1, 2, 3)),
    lambda: layers.Cropping3D(((1, 0), (0, 2), (1, 1))),
    lambda: layers.ZeroPadding3D((1, 2, 0)),
]


@pytest.mark.parametrize("make", ONE_D + THREE_D, ids=lambda make: type(make()).__name__)
@pytest.mark.parametrize("n", [11, 16])
def test_every_layer_of_rank_1_and_3_has_the_shape_keras_gives(make, n):
    shape = (n,) if make in ONE_D else (n + 1, n, n + 2)
    model = keras.Sequential([keras.Input((*shape, 2)), make()])
    assert trace(model).output_shape == tuple(model.output_shape[1:])


def test_a_3d_unet_at_the_mni_size_names_the_merge_and_pads_to_a_multiple_of_4():
    model = unet3d((None, None, None, 1))
    with pytest.raises(ValueError, match="Concatenate"):  # what Keras itself says
        unet3d((197, 233, 189, 1))
    d = diagnose(model, (197, 233, 189))
    assert d.trace is None
    assert d.problems[0].startswith(
        "'skip0' Concatenate(['up0', 'enc0']) cannot join its inputs: 'up0' is 196×232×188×2 "
        "and 'enc0' is 197×233×189×2; their depths, heights and widths differ"
    )
    assert str(input_sizes(model)) == (
        "depth, height and width: runs for n ≡ 0 (mod 4), n ≥ 4 (n → n); round-trips for n ≡ 0\n"
        "  (mod 4), n ≥ 4"
    )
    pad = next(f for f in d.fixes if f.kind == "pad_to_multiple")
    assert "(197×233×189 → 200×236×192)" in pad.description
    # ((1, 2), ...) to reach 200×236×192, plus the first 3×3×3 convolution's own 'same' halo,
    # moved into the padding because oneDNN would drop it (cpu_kernel_problems)
    assert pad.layers[0].describe() == (
        "'fix_zero_pad' ZeroPadding3D(padding=((2, 3), (2, 3), (2, 3)))"
    )
    assert "made padding='valid'" in pad.description
    assert {f.kind for f in d.fixes} == {"input_size", "pad_to_multiple"}


def test_a_3d_unet_traces_as_keras_builds_it_and_its_fixes_run():
    built = unet3d((12, 16, 8, 1))
    assert keras_outputs(built) == {row.name: row.output_shape for row in trace(built).rows}
    model = unet3d((None, None, None, 1))
    d = diagnose(model, (13, 15, 9))
    assert d.fixes and all(fix.check(model) for fix in d.fixes)


def test_1d_input_sizes_agree_with_keras_size_by_size():
    specs = [
        LayerSpec("conv", "c", 3, rank=1),
        LayerSpec("max_pool", "p", 2, rank=1),
        LayerSpec("upsample", "u", size=2, rank=1),
        LayerSpec("concatenate", "skip", inputs=["u", "c"]),
    ]
    sizes = input_sizes(specs)
    assert [axis.axis for axis in sizes.axes] == ["length"]
    for n in range(4, 30):
        model = shapes.build_model(specs[:3], (n, 1))
        conv_size = n - 2
        runs = int(model.output_shape[1]) == conv_size
        assert (n in sizes.length.runs) == runs, n


def test_3d_support_is_the_gradient_box():
    model = keras.Sequential(
        [
            keras.Input((12, 12, 12, 1)),
            layers.Conv3D(1, (3, 1, 5), padding="same", name="a"),
            layers.MaxPooling3D(2, name="p"),
            layers.Conv3D(1, 3, name="b"),
        ]
    )
    keras.utils.set_random_seed(0)
    for layer in model.layers:
        layer.set_weights([np.abs(w) + 0.1 for w in layer.get_weights()])
    x = tf.Variable(np.random.default_rng(0).random((1, 12, 12, 12, 1), np.float32))
    with tf.GradientTape() as tape:
        y = model(x)[0, 1, 2, 0, 0]
    grad = np.abs(tape.gradient(y, x).numpy()[0, ..., 0]) > 0
    found = tuple(
        (
            int(np.flatnonzero(grad.any(axis=other))[0]),
            int(np.flatnonzero(grad.any(axis=other))[-1]) + 1,
        )
        for other in ((1, 2), (0, 2), (0, 1))
    )
    assert trace(model).support("b", (1, 2, 0)) == found


@settings(max_examples=40, **SETTINGS)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["conv", "max_pool", "upsample", "conv_transpose"]),
            st.integers(1, 3),
            st.integers(1, 2),
            st.sampled_from(["valid", "same"]),
        ),
        min_size=1,
        max_size=4,
    ),
    st.integers(6, 20),
)
def test_random_1d_chains_trace_as_keras_builds_them(draw, n):
    specs = []
    for kind, k, s, padding in draw:
        if kind == "upsample":
            specs.append(LayerSpec(kind, size=s, rank=1))
        else:
            k = max(k, 2) if s > 1 else k  # oneDNN refuses 1-wide strided kernels
            specs.append(LayerSpec(kind, kernel_size=k, strides=s, padding=padding, rank=1))
    try:
        expected = [row.output_shape for row in trace(specs, (n, 1)).rows]
    except ValueError:
        return  # an empty output: Keras' symbolic shapes go negative, trace refuses
    model = shapes.build_model(specs, (n, 1))
    assert [tuple(layer.output.shape[1:]) for layer in model.layers] == expected


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: trace(
                [LayerSpec("conv", kernel_size=(3, 3, 3)), LayerSpec("conv", kernel_size=3)], (8, 8)
            ),
            r"The layers mix spatial ranks: Conv2D\(.* is "
            r"2-D and Conv3D\(.* is 3-D",
        ),
        (
            lambda: LayerSpec("conv", kernel_size=(3, 3), strides=(1, 1, 1)),
            r"The arguments of one layer must give one value per spatial axis",
        ),
        (
            lambda: LayerSpec("conv", kernel_size=(3, 3), rank=3),
            r"rank must be 1, 2 or 3 and agree",
        ),
        (
            lambda: LayerSpec("pad_to_multiple", multiple=(2, 2, 2)),
            r"A 'pad_to_multiple' LayerSpec is 2-D",
        ),
        (
            lambda: trace(
                keras.Sequential([keras.Input((9, 1)), layers.Conv1D(1, 3, padding="causal")])
            ),
            r"has padding='causal'; trace reads 'valid' and 'same' only",
        ),
        (
            lambda: trace([LayerSpec("conv", kernel_size=(3, 3, 3))], (8, 8)),
            r"input_shape must be \(D, H, W\) or \(D, H, W, C\) with positive ints, got \(8, 8\)",
        ),
    ],
)
def test_rank_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_a_3d_layerspec_infers_its_rank_and_describes_itself():
    spec = LayerSpec("conv_transpose", kernel_size=(3, 3, 3), strides=2)
    assert spec.rank == 3 and spec.strides == (2, 2, 2)
    assert spec.describe() == (
        "Conv3DTranspose(kernel_size=(3, 3, 3), strides=(2, 2, 2), padding='valid', "
        "output_padding=None)"
    )
    assert LayerSpec("crop", margins=(1, 2), rank=1).margins == ((1, 2),)


def test_cli_reads_a_3d_model_at_dxhxw(tmp_path, capsys):
    path = tmp_path / "unet3d.keras"
    unet3d((None, None, None, 1)).save(path)
    assert shapes.main([str(path), "--input", "13x15x9"]) == 1
    out = capsys.readouterr().out
    assert "13×15×9" in out and "pad the input to a multiple of 4" in out
    assert "FAILS" not in out
