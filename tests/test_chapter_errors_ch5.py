"""Errors that ch. 5 "Transposed convolutions (example 3)" shows on purpose (cell tag
`raises-exception`), all of them in its section "Odd sizes and `output_padding`", pinned with their
exact type and message like tests/test_chapter_errors.py, so that a Keras or package change that
alters them fails a unit test, not only a notebook cell.
"""

import numpy as np
import pytest


def test_odd_sizes_example3_at_129_fails_in_fit():
    """book/odd_sizes.ipynb: example 3 on 129×129 slices returns 130×130."""
    from cae_lessons.models import example3

    model = example3((129, 129, 1))
    x = np.zeros((4, 129, 129, 1), dtype="float32")
    with pytest.raises(
        ValueError,
        match=(
            r"^Arguments `target` and `output` must have the same shape\. Received: "
            r"target\.shape=\(None, 129, 129, 1\), output\.shape=\(None, 130, 130, 1\)$"
        ),
    ):
        model.fit(x, x, epochs=1, verbose=0)
