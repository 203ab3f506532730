"""Repository-wide pytest set-up (unit tests and the package's doctests)."""

import matplotlib
import pytest

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every matplotlib figure a test or doctest opened."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
