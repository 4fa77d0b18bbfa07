"""Fixed weights: the standard PINN."""

from __future__ import annotations

from .base import Weighting


class FixedWeights(Weighting):
    """Constant weights lambda_i (1 unless given): the standard PINN of methods M1 and M3."""

    name = "fixed"
    label = "fixed weights"
