"""Residual-based attention (Anagnostopoulos et al. 2024): each point's weight, a decaying sum of its residuals."""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from .pointwise import PointwiseWeighting


class ResidualBasedAttention(PointwiseWeighting):
    """Residual-based attention (Anagnostopoulos, Toscano, Stergiopulos & Karniadakis, "Residual-based attention
    in physics-informed neural networks", Comput. Methods Appl. Mech. Engrg. 421, 116805, 2024; arXiv:2307.00379):
    every residual point j has a weight tau_j (the source's lambda), updated at every step from the residuals
    alone, with no gradient,

        tau_j <- gamma tau_j + eta |r_j| / max_l |r_l|,

    the maximum over the step's points, and the residual loss is L_r = (1/N) sum_j (tau_j r_j)^2: the factor of
    point j in the loss is tau_j^2, after this step's update, bounded by (eta / (1 - gamma))^2. The conditions
    keep their plain means.

    Defaults: ``eta`` = 0.001, ``gamma`` = 0.999 and tau_j = 0 at the start, as in the authors' code
    (``rba-pinns``, its initialisation 1). |r_j| is the norm over the residual's columns, the square root of
    ``pointwise.point_squares``. A point is updated when the batch draws it from the pool, once per visit.
    """

    name = "rba"
    label = "residual-based attention (RBA)"
    weighted_sets = ("residual",)

    def __init__(self, terms: Iterable[str], eta: float = 0.001, gamma: float = 0.999, pool: int = 1280):
        super().__init__(terms, pool)
        if not (math.isfinite(eta) and eta > 0):
            raise ValueError(f"eta (the attention's learning rate) must be a positive number, got {eta}")
        if not 0 < gamma < 1:
            raise ValueError(f"gamma (the attention's decay) must be in (0, 1), got {gamma}")
        self.eta, self.gamma = eta, gamma

    def start(self, size: int, generator: torch.Generator | None) -> dict[str, torch.Tensor]:
        return {"tau": torch.zeros(size, dtype=torch.float64)}

    def weigh(self, squares: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        i, size = self.index["residual"], squares["residual"].double().sqrt()  # |r_j|
        tau = self.gamma * self.state["residual"]["tau"][i] + self.eta * size / size.max().clamp_min(1e-30)
        self.state["residual"]["tau"][i] = tau
        return {"residual": tau.pow(2)}
