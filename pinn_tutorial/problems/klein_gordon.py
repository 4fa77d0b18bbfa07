"""The Klein-Gordon benchmark: nonlinear and time-dependent (paper section 3.2)."""

from __future__ import annotations

import math

import torch

from ..autodiff import jet
from ..sampling import BoxSampler
from .base import Batch, Field, Problem, check_finite, mse

MAX_POWER = 9  # of the nonlinear term u^k; the paper's is 3 (cubic), and the forcing grows like |u|^k


class KleinGordon(Problem):
    """Klein-Gordon equation  u_tt + alpha u_xx + beta u + gamma u^k = f  on (t, x) in [0, 1]^2 (Eq. 49).

    The paper's case is alpha = -1, beta = 0, gamma = 1, k = 3 (k must be a whole number: u is negative
    in part of the domain), with the exact solution
    u = x cos(5 pi t) + (x t)^3, which fixes the forcing f, the boundary data at x = 0 and
    x = 1 and the initial data. Inputs are ordered (t, x), as in the original code.

    Initial data: u(0, x) = x and u_t(0, x) = 0, both from the exact solution. The paper's text
    says g1 = g2 = 0, which contradicts its own exact solution for u(0, x); the original code
    uses u(0, x) = x, and so does this class.

    Loss (Eq. 54): L_r = mean r^2; L_b = the sum of the mean squared errors at x = 0 and x = 1;
    L_0 ("initial") = mean (u(0, x) - x)^2 + mean u_t(0, x)^2, on one shared batch of points.
    Algorithm 1 weights the boundary and the initial term separately.
    """

    name = "klein_gordon"
    terms = ("residual", "boundary", "initial")
    default_layers = [2, 50, 50, 50, 50, 50, 1]

    def __init__(self, alpha: float = -1.0, beta: float = 0.0, gamma: float = 1.0, k: int = 3):
        check_finite(alpha=alpha, beta=beta, gamma=gamma, k=k)
        if not (float(k).is_integer() and 0 <= k <= MAX_POWER):  # u < 0 somewhere: u^k needs a whole k
            raise ValueError(f"the power k must be a whole number from 0 to {MAX_POWER}, got {k}")
        self.alpha, self.beta, self.gamma, self.k = alpha, beta, gamma, k
        self.domain = BoxSampler([0.0, 0.0], [1.0, 1.0])
        self.edges = {"x0": BoxSampler([0.0, 0.0], [1.0, 0.0]), "x1": BoxSampler([0.0, 1.0], [1.0, 1.0])}
        self.start = BoxSampler([0.0, 0.0], [0.0, 1.0])

    def exact(self, x: torch.Tensor) -> torch.Tensor:
        """u(t, x) = x cos(5 pi t) + (x t)^3."""
        t, s = x[:, 0:1], x[:, 1:2]
        return s * torch.cos(5 * math.pi * t) + (s * t) ** 3

    def forcing(self, x: torch.Tensor) -> torch.Tensor:
        """f = u_tt + alpha u_xx + beta u + gamma u^k for the exact u, shape (N,).

        u_tt = -25 pi^2 x cos(5 pi t) + 6 t x^3 and u_xx = 6 x t^3.
        """
        t, s = x[:, 0], x[:, 1]
        u = self.exact(x).reshape(-1)
        u_tt = -25 * math.pi**2 * s * torch.cos(5 * math.pi * t) + 6 * t * s**3
        u_xx = 6 * s * t**3
        return u_tt + self.alpha * u_xx + self.beta * u + self.gamma * u**self.k

    def residual(self, net: Field, x: torch.Tensor) -> torch.Tensor:
        """r = u_tt + alpha u_xx + beta u + gamma u^k - f  (paper Eq. 49), shape (N,)."""
        u = jet(net, x)
        value = u.value.reshape(-1)
        pde = u.d2[0].reshape(-1) + self.alpha * u.d2[1].reshape(-1) + self.beta * value + self.gamma * value**self.k
        return pde - self.forcing(x)

    def sample(self, batch_size: int, generator: torch.Generator | None = None) -> Batch:
        batch = {"residual": self.domain.sample(batch_size, generator)}
        for edge, sampler in self.edges.items():
            batch[edge] = sampler.sample(batch_size, generator)
        batch["initial"] = self.start.sample(batch_size, generator)
        return batch

    def losses(self, net: Field, batch: Batch) -> dict[str, torch.Tensor]:
        return {"residual": mse(self.residual(net, batch["residual"])), **self.data_losses(net, batch)}

    def data_losses(self, net: Field, batch: Batch) -> dict[str, torch.Tensor]:
        """The boundary and initial terms (everything but the residual)."""
        x_b = torch.cat([batch[edge] for edge in self.edges])
        edge_errors = (net(x_b) - self.exact(x_b)).reshape(len(self.edges), -1)
        x_0 = batch["initial"]
        start = jet(net, x_0)
        initial = mse(start.value - self.exact(x_0)) + mse(start.d1[0])  # u(0, x) = x and u_t(0, x) = 0
        return {"boundary": edge_errors.pow(2).mean(dim=1).sum(), "initial": initial}

    def __repr__(self) -> str:
        return f"KleinGordon(alpha={self.alpha}, beta={self.beta}, gamma={self.gamma}, k={self.k})"
