"""Tests run in the quick budget unless told otherwise (also inherited by notebook kernels)."""

import os

import matplotlib.pyplot as plt
import pytest

os.environ.setdefault("PINN_TUTORIAL_BUDGET", "quick")


@pytest.fixture(autouse=True)
def close_figures():
    """Every figure a test draws is closed after it, so that figures do not pile up across tests."""
    yield
    plt.close("all")


def pytest_collection_modifyitems(items):
    """Give nbval's notebook cells a minute, not 5 s, for each output message after a cell has finished: the wait
    is a fixed attribute with no option, and on a loaded 2-core machine the last outputs of a long training cell
    have taken longer to arrive, failing a cell that had run."""
    for item in items:
        if hasattr(item, "output_timeout"):
            item.output_timeout = 60
