"""Tests run in the quick budget unless told otherwise (also inherited by notebook kernels)."""

import os

os.environ.setdefault("PINN_TUTORIAL_BUDGET", "quick")
