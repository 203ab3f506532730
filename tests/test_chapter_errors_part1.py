"""Errors that ch. 1 "Shape arithmetic in one page" and ch. 2 "The data" show on purpose (cell
tag `raises-exception`), pinned with their exact type and message like tests/test_chapter_errors.py,
so that a Keras or package change that alters them fails a unit test, not only a notebook cell.
"""

import pytest


def test_shape_arithmetic_keras_refuses_example1_at_8x8():
    """book/shape_arithmetic.ipynb: example1 on an 8×8 input cannot be built."""
    from cae_lessons import models

    with pytest.raises(
        ValueError,
        match=(
            r"^Computed output size would be zero or negative\. Received `inputs shape=\(None, 2, "
            r"2, 32\)`, `kernel shape=\(3, 3, 32, 16\)`, `dilation_rate=\[1 1\]`, "
            r"`strides=\(1, 1\)`, `padding=valid`\.$"
        ),
    ):
        models.example1(input_shape=(8, 8, 1))


def test_shape_arithmetic_trace_names_the_bottleneck_at_8x8():
    """book/shape_arithmetic.ipynb: shapes.trace of example1 re-traced at 8×8 names the layer."""
    from cae_lessons import models, shapes

    with pytest.raises(
        ValueError,
        match=(
            r"^'bottleneck' Conv2D\(kernel_size=\(3, 3\), strides=\(1, 1\), padding='valid'\) "
            r"cannot take an input height of 2: the output would be 0 \(zero or negative\)\. The "
            r"smallest input height that works is 3; use a larger input, padding='same' or a "
            r"smaller window\.$"
        ),
    ):
        shapes.trace(models.example1(), input_shape=(8, 8))
