"""The Klein-Gordon benchmark: nonlinear and time-dependent (paper section 3.2)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..autodiff import jet
from ..sampling import BoxSampler
from .base import Condition, Field, Problem, TimeDependent, check_finite, value

MAX_POWER = 9  # of the nonlinear term u^k; the paper's is 3 (cubic), and the forcing grows like |u|^k


@dataclass(repr=False, eq=False)
class KleinGordon(TimeDependent, Problem):
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

    alpha: float = -1.0
    beta: float = 0.0
    gamma: float = 1.0
    k: int = 3

    name = "klein_gordon"
    default_layers = [2, 50, 50, 50, 50, 50, 1]

    def __post_init__(self):
        check_finite(alpha=self.alpha, beta=self.beta, gamma=self.gamma, k=self.k)
        if not (float(self.k).is_integer() and 0 <= self.k <= MAX_POWER):  # u < 0 somewhere: u^k needs a whole k
            raise ValueError(f"the power k must be a whole number from 0 to {MAX_POWER}, got {self.k}")
        self.domain = BoxSampler([0.0, 0.0], [1.0, 1.0])
        self.edges = {"x0": BoxSampler([0.0, 0.0], [1.0, 0.0]), "x1": BoxSampler([0.0, 1.0], [1.0, 1.0])}
        self.start = BoxSampler([0.0, 0.0], [0.0, 1.0])
        self.conditions = [
            Condition("boundary", self.edges, value, self.exact),  # u at x = 0 and x = 1
            Condition("initial", {"initial": self.start}, self.initial_values, self.initial_data),  # u, u_t at t = 0
        ]

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

    def initial_values(self, net: Field, x: torch.Tensor) -> torch.Tensor:
        """(u, u_t) at points x, shape (N, 2): what the initial condition prescribes."""
        u = jet(net, x)
        return torch.cat([u.value, u.d1[0]], dim=1)

    def initial_data(self, x: torch.Tensor) -> torch.Tensor:
        """(u(0, x), u_t(0, x)) = (x, 0), from the exact solution, shape (N, 2)."""
        return torch.cat([self.exact(x), torch.zeros_like(x[:, :1])], dim=1)
