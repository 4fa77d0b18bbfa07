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
