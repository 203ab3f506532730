"""build_cae(input_shape=(None, None, C), fit_input='pad'): one autoencoder for MRI of any size."""

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from test_receptive import assert_same_support

from cae_lessons import shapes
from cae_lessons.data import phantom
from cae_lessons.models import build_cae, cae_layers
from cae_lessons.shapes import (
    LayerSpec,
    build_model,
    check_sizes_against_keras,
    compatible_sizes,
    fit_layers,
    trace,
)
from cae_lessons.training import train

SMALL = {"filters": (4, 8, 16), "latent_channels": 2}  # total stride 8
SIZES = [(197, 233), (131, 155), (98, 116), (128, 96), (64, 64)]


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return build_cae((None, None, 1), fit_input="pad", **SMALL)


@pytest.fixture(scope="module")
def per_layer(model):
    """The same layers (same weights), returning every layer's output."""
    return keras.Model(model.input, [layer.output for layer in model.layers[1:]])


@pytest.mark.parametrize(("h", "w"), SIZES, ids=[f"{h}x{w}" for h, w in SIZES])
def test_one_model_reconstructs_every_size_and_trace_equals_keras(model, per_layer, h, w):
    x = np.random.default_rng(h).random((2, h, w, 1), dtype=np.float32)
    assert tuple(model(x).shape) == (2, h, w, 1)
    outputs = [np.asarray(out) for out in per_layer(x)]
    real = [
        (layer.name, out.shape[1:]) for layer, out in zip(model.layers[1:], outputs, strict=True)
    ]
    t = trace(model, (h, w))
    assert [(row.name, row.output_shape) for row in t.rows] == real
    assert t.matches_input and t.rows[0].kind == "pad_to_multiple"
    # Zeros are added at the bottom and right only, and the top-left H×W is kept.
    padded, core_out, cropped = outputs[0], outputs[-2], outputs[-1]
    assert padded.shape[1] % 8 == 0 and padded.shape[2] % 8 == 0
    np.testing.assert_array_equal(padded[:, :h, :w], x)
    assert not padded[:, h:].any() and not padded[:, :, w:].any()
    np.testing.assert_array_equal(cropped, core_out[:, :h, :w])


def test_every_size_round_trips_by_the_arithmetic(model):
    assert compatible_sizes(model, 1, 300) == tuple(range(1, 301))


def test_trace_of_an_any_size_model_asks_for_a_size(model):
    with pytest.raises(
        ValueError, match=r"got \(None, None, 1\).*needs input_shape=\(H, W\).*--input 197x233"
    ):
        trace(model)


@pytest.mark.parametrize("fit_input", ["none", "crop"])
def test_open_sizes_need_fit_input_pad(fit_input):
    message = (
        r"input_shape=\(None, None, 1\) leaves the height or width open \(None\), which only "
        rf"fit_input='pad' handles .* got fit_input='{fit_input}'. Pass fit_input='pad'"
    )
    with pytest.raises(ValueError, match=message):
        build_cae((None, None, 1), fit_input=fit_input, **SMALL)
    with pytest.raises(ValueError, match=message):
        cae_layers((None, None, 1), fit_input=fit_input, **SMALL)


def test_a_core_that_cannot_round_trip_raises_its_diagnosis():
    with pytest.raises(ValueError, match=r"cannot reproduce a 128×128×1 input: MISMATCH") as caught:
        build_cae((None, None, 1), fit_input="pad", padding="valid", **SMALL)
    assert "use padding='same' in every convolution" in str(caught.value)
    assert "padded to a multiple of 8, checked at 128" in str(caught.value)


def test_analytic_receptive_field_equals_gradient_support_through_the_fit_layers():
    pad_to_multiple, crop_to_input = fit_layers()
    inputs = keras.Input((13, 22, 1))
    x = pad_to_multiple((4, 8), name="fit_in")(inputs)
    x = keras.layers.Conv2D(2, 3, strides=2, padding="same", name="down")(x)
    x = keras.layers.Conv2DTranspose(1, 3, strides=2, padding="same", name="up")(x)
    net = keras.Model(inputs, crop_to_input(name="fit_out")([x, inputs]))
    t = trace(net)
    assert [row.output_shape[:2] for row in t.rows] == [(16, 24), (8, 12), (16, 24), (13, 22)]
    for position in [(0, 0), (6, 11), (12, 21), (12, 0)]:
        assert_same_support(net, t, len(t.rows) - 1, position)


def test_pad_to_multiple_sizes_equal_keras_and_crop_to_input_needs_a_functional_model():
    check = check_sizes_against_keras([LayerSpec("pad_to_multiple", multiple=8)], [1, 13, 64])
    assert check.agree and check.formula == ((8, 16, 64),)
    with pytest.raises(ValueError, match=r"CropToInput\(\) crops back to the model input"):
        build_model([LayerSpec("crop_to_input", "fit_out")], (16, 16, 1))


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )


def test_cli_traces_a_saved_any_size_model(model, tmp_path, capsys):
    path = tmp_path / "any_size.keras"
    model.save(path)
    done = subprocess.run(
        [sys.executable, "-m", "cae_lessons.shapes", str(path), "--input", "197x233"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "pad_to_multiple" in done.stdout and "crop_to_input" in done.stdout
    assert "Input 197×233×1 round-trips." in done.stdout
    assert "OK: the output shape equals the input." in done.stdout
    assert shapes.main([str(path)]) == 2
    assert "on the command line, --input 197x233" in capsys.readouterr().err


def test_train_and_reload_in_a_fresh_process(tmp_path):
    def build():
        return build_cae((None, None, 1), fit_input="pad", name="any_size", **SMALL)

    x_train, x_val = phantom(16, (64, 64), seed=0), phantom(8, (64, 64), seed=1)
    options = {"epochs": 2, "batch_size": 8, "seed": 0, "cache": tmp_path, "progress": False}
    result = train(build, x_train, x_val, **options)
    assert len(result.history["val_loss"]) == 2 and np.isfinite(result.final_loss)
    assert train(build, x_train, x_val, **options).cache_hit

    x = phantom(1, (131, 155), seed=2)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", result.model.predict(x, verbose=0))
    result.model.save(tmp_path / "trained.keras")
    done = _run(
        f"""
        import numpy as np
        from cae_lessons.models import load_model
        model = load_model({str(tmp_path / "trained.keras")!r})
        y = model.predict(np.load({str(tmp_path / "x.npy")!r}), verbose=0)
        np.testing.assert_allclose(y, np.load({str(tmp_path / "y.npy")!r}), atol=1e-6)
        print(type(model.layers[1]).__name__, model.input_shape, y.shape)
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "PadToMultiple (None, None, None, 1) (1, 131, 155, 1)"
