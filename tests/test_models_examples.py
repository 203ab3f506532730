"""The book's three example autoencoders: shapes, parameters, names, traces and diagnoses."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest

from cae_lessons.models import example1, example2, example3
from cae_lessons.shapes import build_model, compatible_sizes, diagnose, trace

EXAMPLES = {
    "example1": (example1, (None, 78, 78, 1), 5089),
    "example2": (example2, (None, 128, 128, 1), 5089),
    "example3": (example3, (None, 128, 128, 1), 9873),
}
NAMES = {
    "example1": ["enc_conv1", "enc_pool1", "bottleneck", "dec_up1", "output"],
    "example2": ["enc_conv1", "enc_pool1", "bottleneck", "dec_up1", "output"],
    "example3": ["enc_conv1", "bottleneck", "dec_deconv1", "output"],
}


@pytest.fixture(autouse=True)
def _seeded():
    keras.utils.set_random_seed(0)


@pytest.mark.parametrize("name", EXAMPLES)
def test_output_shape_parameters_names_and_compilation(name):
    build, output_shape, parameters = EXAMPLES[name]
    model = build()
    assert model.name == name
    assert model.output_shape == output_shape
    assert model.count_params() == parameters
    assert [layer.name for layer in model.layers] == NAMES[name]
    assert model.loss == "binary_crossentropy"  # as the source answer compiles them
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert trace(model).output_shape == output_shape[1:]


@pytest.mark.parametrize("name", EXAMPLES)
def test_forward_pass_agrees_with_trace(name):
    model = EXAMPLES[name][0]()
    probe = keras.Model(model.inputs[0], [layer.output for layer in model.layers])
    real = [tuple(out.shape[1:]) for out in probe(np.zeros((1, 128, 128, 1), np.float32))]
    assert real == [row.output_shape for row in trace(model).rows]


def test_example1_builds_but_fit_on_128_targets_raises():
    model = example1()
    x = np.zeros((2, 128, 128, 1), np.float32)
    message = (
        "Arguments `target` and `output` must have the same shape. Received: "
        "target.shape=(None, 128, 128, 1), output.shape=(None, 78, 78, 1)"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        model.fit(x, x, epochs=1, verbose=0)


def test_example1_trace_and_exact_explanation():
    t = trace(example1())
    assert t.output_shape == (78, 78, 1)
    assert not t.matches_input
    assert t.rows[t.first_problem].name == "enc_conv1"
    assert (t.bottleneck.name, t.bottleneck.output_shape) == ("bottleneck", (40, 40, 16))
    assert t.compression_ratio == 128 * 128 / (40 * 40 * 16)
    d = diagnose(example1())
    assert not d.ok
    assert d.explanation == (
        "valid 3×3 conv trims 2 px: 128→126; "
        "pooling 2 with stride 3 floors 126→42, drops the last row and skips 1 of every 3 rows "
        "between windows; "
        "valid 3×3 conv trims 2 px: 42→40; "
        "upsampling ×2 gives 80, not 126; "
        "valid 3×3 conv trims 2 px: 80→78; "
        "the output is 78×78, the input 128×128"
    )


def test_example1_fixes_are_honest_and_run_in_keras():
    d = diagnose(example1())
    # No input size, no padding='same' alone and no stride change alone round-trips.
    assert compatible_sizes(example1(), 1, 512) == ()
    assert [fix.kind for fix in d.fixes] == ["padding_same+match_strides", "crop_or_pad_output"]
    for fix in d.fixes:
        assert build_model(fix.layers, fix.input_shape).output_shape == (None, 128, 128, 1)


@pytest.mark.parametrize("build", [example2, example3])
def test_examples_2_and_3_round_trip_even_sizes_only(build):
    model = build()
    assert diagnose(model).ok
    # Computed, not assumed: one 2x level means every EVEN size round-trips (130 does), odd ones
    # do not (129, 131).
    assert compatible_sizes(model, 120, 140) == tuple(range(120, 141, 2))
    assert [diagnose(model, (n, n)).ok for n in (128, 129, 130, 131, 132)] == [
        True,
        False,
        True,
        False,
        True,
    ]


@pytest.mark.parametrize(
    ("build", "explanation"),
    [
        (
            example2,
            "pooling 2 with stride 2 floors 129→64 and drops the last row; "
            "upsampling ×2 gives 128, not 129; the output is 128×128, the input 129×129",
        ),
        (
            example3,
            "transposed 3×3 conv with stride 2 gives 130, not 129; "
            "the output is 130×130, the input 129×129",
        ),
    ],
)
def test_diagnose_fixes_restore_129_in_real_keras(build, explanation):
    d = diagnose(build(), (129, 129))
    assert d.explanation == explanation
    assert d.fixes
    for fix in d.fixes:
        model = build_model(fix.layers, fix.input_shape)
        assert model.output_shape[1:] == fix.input_shape, fix
    input_fix = d.fixes[0]
    assert (input_fix.kind, input_fix.input_shape) == ("input_size", (130, 130, 1))
    assert build(input_fix.input_shape).output_shape == (None, 130, 130, 1)


def test_example3_output_padding_fix_in_the_real_model():
    fix = {f.kind: f for f in diagnose(example3(), (129, 129)).fixes}["output_padding"]
    assert fix.description == "set dec_deconv1: output_padding=(0, 0)"
    model = build_model(fix.layers, (129, 129, 1))
    assert model(np.zeros((1, 129, 129, 1), np.float32)).shape == (1, 129, 129, 1)
