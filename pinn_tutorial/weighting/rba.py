"""Residual-based attention (Anagnostopoulos et al. 2024): each point's weight, a decaying sum of its residuals."""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from .pointwise import PointwiseWeighting


class ResidualBasedAttention(PointwiseWeighting):
    """Residual-based attention (Anagnostopoulos, Toscano, Stergiopulos & Karniadakis, "Residual-based attention
    in physics-informed neural networks", Comput. Methods Appl. Mech. Engrg. 421, 116805, 2024; arXiv:2307.00379):
    every residual point n has a weight lambda_n, updated at every step from the residuals alone (no gradient)

        lambda_n <- gamma lambda_n + eta |r_n| / max_m |r_m|,

    the maximum over the step's points, and the residual loss is L_r = (1/N) sum_n (lambda_n r_n)^2: the
    weight of point n in the loss is w_n = lambda_n^2, after this step's update. It is bounded by
    (eta / (1 - gamma))^2. The conditions keep their plain means.

    Defaults: ``eta`` = 0.001, ``gamma`` = 0.999 and lambda_n = 0 at the start, as in the authors' code
    (``rba-pinns``, its initialisation 1). |r_n| is the norm over the residual's columns, sqrt(s_n)
    (``pointwise.point_squares``). A point is updated when the batch draws it from the pool, once per visit.
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
        return {"lambda": torch.zeros(size, dtype=torch.float64)}

    def weigh(self, squares: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        i, size = self.index["residual"], squares["residual"].double().sqrt()
        lam = self.gamma * self.state["residual"]["lambda"][i] + self.eta * size / size.max().clamp_min(1e-30)
        self.state["residual"]["lambda"][i] = lam
        return {"residual": lam.pow(2)}

    def settings(self) -> dict:
        return {"eta": self.eta, "gamma": self.gamma, "pool": self.pool}
