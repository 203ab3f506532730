"""Dense bottlenecks (Flatten or global pooling, Dense, Reshape) read as one layer."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from cae_lessons.shapes import LayerSpec, build_model, diagnose, input_sizes, trace


@pytest.fixture(autouse=True)
def _seeded():
    keras.utils.set_random_seed(0)


def dense_cae(size=28):
    """The Keras-blog style CAE: two strided convolutions, a 16-value Dense code, back up."""
    x = inputs = keras.Input((size, size, 1))
    x = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu", name="enc1")(x)
    x = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu", name="enc2")(x)
    x = layers.Flatten(name="flat")(x)
    x = layers.Dense(16, name="code")(x)
    x = layers.Dropout(0.1, name="drop")(x)
    x = layers.Dense(7 * 7 * 16, activation="relu", name="expand")(x)
    x = layers.Reshape((7, 7, 16), name="unflat")(x)
    x = layers.Conv2DTranspose(8, 3, strides=2, padding="same", name="dec1")(x)
    x = layers.Conv2DTranspose(1, 3, strides=2, padding="same", name="dec2")(x)
    return keras.Model(inputs, x, name="dense_cae")


def pooled(keepdims: bool):
    """A global pooling to one pixel, a Dense, and back up by upsampling."""
    pooling = layers.GlobalAveragePooling2D(keepdims=keepdims, name="pool")
    middle = [pooling, layers.Dense(8, name="mix")]
    if not keepdims:
        middle.append(layers.Reshape((1, 1, 8), name="pixel"))
    return keras.Sequential(
        [
            keras.Input((32, 32, 1)),
            layers.Conv2D(4, 3, padding="same", name="enc"),
            *middle,
            layers.UpSampling2D(32, name="up"),
            layers.Conv2D(1, 1, name="out"),
        ],
        name=f"pooled_{keepdims}",
    )


def _layer_outputs(model, m: int) -> dict | None:
    """Every layer's output shape when Keras runs the model's layers on an m×m zero image; None
    where a layer refuses it (calling each layer, so no warning about the built input size)."""
    x = np.zeros((1, m, m, 1), np.float32)
    shapes = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        try:
            x = layer(x)
        except ValueError:
            return None
        shapes[layer.name] = tuple(x.shape[1:])
    return shapes


@pytest.mark.parametrize("build", [dense_cae, lambda: pooled(True), lambda: pooled(False)])
def test_every_layer_shape_equals_keras(build):
    model = build()
    rows = {row.name: row.output_shape for row in trace(model).rows}
    real = _layer_outputs(model, model.input_shape[1])
    assert {name: real[name] for name in rows} == rows
    assert trace(model).output_shape == tuple(model.output_shape[1:])


@pytest.mark.parametrize("build", [dense_cae, lambda: pooled(False)])
def test_input_sizes_are_the_sizes_keras_runs_at(build):
    model = build()
    sizes = input_sizes(model)
    for m in range(1, 41):
        real = _layer_outputs(model, m)
        assert (real is not None) == (m in sizes.height.runs), m


def test_a_flatten_bottleneck_runs_at_the_size_it_was_built_for_only():
    model = dense_cae()
    result = trace(model)
    assert [row.kind for row in result.rows][2] == "dense"
    assert result.bottleneck.name == "unflat" and result.bottleneck_values == 16
    assert result.compression_ratio == 28 * 28 / 16
    assert str(input_sizes(model)).startswith(
        "height and width: runs for n ∈ {25, 26, 27, 28} (n → 28); round-trips for n ∈ {28}"
    )
    with pytest.raises(ValueError, match=r"cannot take 8×8×16 \(1,024 values\): its first Dense "):
        trace(model, input_shape=(30, 30))


def test_diagnose_a_flatten_bottleneck_feeds_the_size_it_was_built_for():
    model = dense_cae()
    result = diagnose(model, (30, 30))
    assert result.problems[0].startswith("'unflat' dense bottleneck through 16 values taking")
    assert [fix.kind for fix in result.fixes] == ["input_size"]
    assert result.fixes[0].input_shape == (28, 28, 1) and result.fixes[0].check(model)


def test_a_global_pooling_takes_any_size():
    sizes = input_sizes(pooled(False))
    assert str(sizes.height.runs) == "every n" and str(sizes.height.round_trips) == "n ∈ {32}"


def test_a_model_whose_output_is_a_vector_is_refused_with_the_reason():
    classifier = keras.Sequential(
        [keras.Input((16, 16, 1)), layers.Conv2D(4, 3), layers.GlobalMaxPooling2D(name="gmp")]
    )
    with pytest.raises(ValueError, match=r"'gmp' \(GlobalMaxPooling2D\) .* leaves the image for"):
        trace(classifier)


def test_a_list_of_keras_layers_with_a_flatten_is_refused():
    with pytest.raises(ValueError, match=r"holds 'flat' \(Flatten\): trace reads a dense bott"):
        trace([layers.Conv2D(1, 3), layers.Flatten(name="flat")], input_shape=(8, 8, 1))


def test_a_flatten_of_an_input_of_any_size_is_refused():
    inputs = keras.Input((None, None, 1))
    out = layers.Reshape((4, 4, 1))(layers.Flatten(name="flat")(inputs))
    with pytest.raises(ValueError, match=r"'flat' \(Flatten\) .* takes \(None, None, 1\)"):
        trace(keras.Model(inputs, out), input_shape=(4, 4))


def test_a_dense_spec_list_builds_the_model_it_describes():
    specs = [
        LayerSpec("conv", "enc", 3, strides=2, padding="same", filters=4),
        LayerSpec("dense", "code", target=(8, 8), filters=4, expects=(8, 8, 4), units=10),
        LayerSpec("upsample", "up", size=2),
    ]
    model = build_model(specs, (16, 16, 1))
    assert model.output_shape == (None, 16, 16, 4)
    assert trace(specs, (16, 16, 1)).output_shape == (16, 16, 4)


def test_a_dense_spec_needs_its_target_and_a_whole_expected_shape():
    with pytest.raises(ValueError, match=r"A 'dense' LayerSpec needs target=\(H, W\) and filt"):
        LayerSpec("dense", target=(4, 4))
    with pytest.raises(ValueError, match=r"expects must be None .* the 3 positive ints"):
        LayerSpec("dense", target=(4, 4), filters=2, expects=(4, 4))
