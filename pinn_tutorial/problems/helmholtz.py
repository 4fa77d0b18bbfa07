"""The 2-D Helmholtz benchmark (paper section 2.2, with Figs. 1-2; its results in section 3.1).

Sections and figures are those of arXiv:2001.04536 v1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..autodiff import jet
from ..sampling import BoxSampler, box_edges
from .base import MAX_FREQUENCY, Condition, Field, Problem, check_finite, value


@dataclass(repr=False, eq=False)
class Helmholtz(Problem):
    """Helmholtz equation  Δu + k^2 u = q  on [-1, 1]^2 with u = h on the boundary (section 2.2).

    The exact solution u = sin(a1 pi x) sin(a2 pi y) fixes the forcing
    q = (k^2 - (a1 pi)^2 - (a2 pi)^2) sin(a1 pi x) sin(a2 pi y) and the boundary data h (zero
    up to rounding). The paper's case is a1 = 1, a2 = 4, k = 1; (1, 1) is its milder case. a1 and a2 must
    be non-zero (else u = 0), and |a1|, |a2|, |k| at most ``MAX_FREQUENCY``.

    Loss, as in the original code: L_r = mean of r^2 over the residual points, and
    L_b = the sum over the four edges of each edge's mean squared error, every edge with its
    own batch of points.
    """

    a1: float = 1.0
    a2: float = 4.0
    k: float = 1.0

    name = "helmholtz"
    default_layers = [2, 50, 50, 50, 1]

    def __post_init__(self):
        check_finite(a1=self.a1, a2=self.a2, k=self.k)
        if self.a1 == 0 or self.a2 == 0:  # the exact solution would be u = 0, against which no error is relative
            raise ValueError(f"a1 and a2 must be non-zero, got a1={self.a1}, a2={self.a2}")
        too_large = [f"{name}={value}" for name, value in (("a1", self.a1), ("a2", self.a2), ("k", self.k))
                     if abs(value) > MAX_FREQUENCY]
        if too_large:
            raise ValueError(f"{too_large[0]} is past {MAX_FREQUENCY:g}, more oscillation than a network here can "
                             "resolve (and its square overflows the forcing)")
        low, high = [-1.0, -1.0], [1.0, 1.0]
        self.domain = BoxSampler(low, high)
        self.edges = box_edges(low, high)
        self.conditions = [Condition("boundary", self.edges, value, self.exact)]  # u = h on the four edges

    def exact(self, x: torch.Tensor) -> torch.Tensor:
        """u(x, y) = sin(a1 pi x) sin(a2 pi y)."""
        return (torch.sin(self.a1 * math.pi * x[:, 0:1]) * torch.sin(self.a2 * math.pi * x[:, 1:2]))

    def forcing(self, x: torch.Tensor) -> torch.Tensor:
        """q(x, y) = (k^2 - (a1 pi)^2 - (a2 pi)^2) sin(a1 pi x) sin(a2 pi y), shape (N,)."""
        factor = self.k**2 - (self.a1 * math.pi) ** 2 - (self.a2 * math.pi) ** 2
        return factor * self.exact(x).reshape(-1)

    def residual(self, net: Field, x: torch.Tensor) -> torch.Tensor:
        """r = u_xx + u_yy + k^2 u - q  (paper section 2.2), shape (N,)."""
        u = jet(net, x)
        return (u.laplacian() + self.k**2 * u.value).reshape(-1) - self.forcing(x)
