"""Self-adaptive PINN (McClenny & Braga-Neto 2023): a trainable weight at every point, raised by gradient ascent."""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from .pointwise import PointwiseWeighting


class SelfAdaptive(PointwiseWeighting):
    """Self-adaptive PINN (McClenny & Braga-Neto, "Self-adaptive physics-informed neural networks", J. Comput.
    Phys. 474, 111722, 2023; arXiv:2009.04544): every point j of every set has a weight tau_j (the source's
    lambda), and the loss (their Sec. 2, with the self-adaptation mask m(tau) = tau^2)

        L(theta, tau) = sum_terms sum_sets (1/N) sum_j tau_j^2 d_j^2,      d_j^2 the squared value at point j

    is minimised in the network's parameters theta and *maximised* in the tau_j: a point the network fits
    badly gains weight. Both move at every step on the same loss: theta by the run's Adam step, tau by an Adam
    step of ascent with its own learning rate ``lr`` along

        dL/dtau_j = 2 tau_j d_j^2 / N

    (d_j^2 from ``pointwise.point_squares``). The step's loss uses the weights before this ascent step (the two
    steps are simultaneous). Here a point is visited only when the batch draws it from the pool, so each point
    keeps its own Adam moments and count of steps (the "lazy" Adam of sparse updates): a point's weight moves as
    it would in a full batch, once per visit.

    Defaults: tau_j drawn uniform in [0, 1), ``lr`` = 0.005, Adam's betas (0.9, 0.999) and epsilon 1e-8, no
    decay: the SA-PINN baseline in the code of the residual-based attention paper (Anagnostopoulos et al. 2024),
    which reruns it on the Helmholtz problem.
    """

    name = "sa_pinn"
    label = "self-adaptive weights (SA-PINN)"
    betas = (0.9, 0.999)
    eps = 1e-8

    def __init__(self, terms: Iterable[str], lr: float = 0.005, pool: int = 1280):
        super().__init__(terms, pool)
        if not (math.isfinite(lr) and lr > 0):
            raise ValueError(f"lr (the ascent's learning rate) must be a positive number, got {lr}")
        self.lr = lr

    def start(self, size: int, generator: torch.Generator | None) -> dict[str, torch.Tensor]:
        zeros = torch.zeros(size, dtype=torch.float64)
        return {"tau": torch.rand(size, generator=generator, dtype=torch.float64), "m": zeros,
                "v": zeros.clone(), "visits": zeros.clone()}

    def weigh(self, squares: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        (beta1, beta2), weights = self.betas, {}
        for s, state in self.state.items():
            i, squared = self.index[s], squares[s].double()
            tau = state["tau"][i]
            weights[s] = tau.pow(2)  # before the ascent step
            g = 2 * tau * squared / len(i)
            t = state["visits"][i] + 1
            m = beta1 * state["m"][i] + (1 - beta1) * g
            v = beta2 * state["v"][i] + (1 - beta2) * g.pow(2)
            step = self.lr * (m / (1 - beta1 ** t)) / ((v / (1 - beta2 ** t)).sqrt() + self.eps)
            state["tau"][i], state["m"][i], state["v"][i], state["visits"][i] = tau + step, m, v, t
        return weights
