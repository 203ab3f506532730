"""Errors that ch. 3 "Stride incompatibility" shows on purpose (cell tag `raises-exception`),
pinned with their exact type and message like tests/test_chapter_errors.py, so that a Keras or
package change that alters them fails a unit test, not only a notebook cell.
"""

import re
import warnings

import numpy as np
import pytest

X = np.zeros((2, 128, 128, 1), dtype="float32")


def test_example1_as_the_source_compiles_it_fails_in_fit():
    """The source's loss, binary cross-entropy: Keras compares the shapes before computing."""
    from cae_lessons.models import example1

    message = (
        "Arguments `target` and `output` must have the same shape. Received: "
        "target.shape=(None, 128, 128, 1), output.shape=(None, 78, 78, 1)"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        example1().fit(X, X, epochs=1, verbose=0)


def test_example1_with_mse_fails_in_the_graph():
    """The loss the book trains with: the subtraction inside MSE fails instead."""
    from cae_lessons.models import example1

    model = example1()
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(
        ValueError,
        match=(
            r"^Dimensions must be equal, but are 128 and 78 for '\{\{node compile_loss/mse/sub\}\}"
            r" = Sub\[T=DT_FLOAT\]\(data_1, example1(_\d+)?/output(_\d+)?/Sigmoid\)' with input "
            r"shapes: \[\?,128,128,1\], \[\?,78,78,1\]\.$"
        ),
    ):
        model.fit(X, X, epochs=1, verbose=0)


def test_the_sources_input_shape_argument_is_a_keras_3_warning():
    from keras.layers import Conv2D

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Conv2D(32, (3, 3), activation="relu", input_shape=(128, 128, 1))
    assert [(w.category, str(w.message)) for w in caught] == [
        (
            UserWarning,
            "Do not pass an `input_shape`/`input_dim` argument to a layer. When using Sequential "
            "models, prefer using an `Input(shape)` object as the first layer in the model "
            "instead.",
        )
    ]
