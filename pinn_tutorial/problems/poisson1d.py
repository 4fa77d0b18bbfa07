"""The 1-D Poisson problem of the paper's gradient analysis (section 2.3, Appendix 5.1)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..autodiff import jet
from ..sampling import BoxSampler, FixedPoints
from .base import MAX_FREQUENCY, Condition, Field, Problem, value


@dataclass(repr=False, eq=False)
class Poisson1D(Problem):
    """Poisson equation  u_xx = g  on [0, 1] with Dirichlet data at x = 0 and x = 1 (Eqs. 9-10).

    The exact solution u = sin(C x) gives g = -C^2 sin(C x) and boundary values u(0) = 0,
    u(1) = sin(C). The frequency C sets how hard the problem is: the paper's bounds say the
    residual's parameter gradients grow like C^4 while the boundary's do not (Eqs. 14-15).

    Loss (Eq. 11): L_r = mean of (u_xx - g)^2 over the residual points and
    L_b = mean of (u - h)^2 over the two boundary points.
    """

    C: float = 2.0

    name = "poisson1d"
    default_layers = [1, 50, 50, 50, 1]

    def __post_init__(self):
        if not 0 < self.C <= MAX_FREQUENCY:
            raise ValueError(f"the frequency C must be positive and at most {MAX_FREQUENCY:g}, got {self.C}")
        self.domain = BoxSampler([0.0], [1.0])
        self.x_b = torch.tensor([[0.0], [1.0]])  # the two ends, the same at every step
        self.conditions = [Condition("boundary", {"boundary": FixedPoints(self.x_b)}, value, self.exact)]

    def exact(self, x: torch.Tensor) -> torch.Tensor:
        """u(x) = sin(C x)."""
        return torch.sin(self.C * x)

    def forcing(self, x: torch.Tensor) -> torch.Tensor:
        """g(x) = -C^2 sin(C x), shape (N,)."""
        return -self.C**2 * torch.sin(self.C * x).reshape(-1)

    def residual(self, net: Field, x: torch.Tensor) -> torch.Tensor:
        """r = u_xx - g  (paper Eq. 9), shape (N,)."""
        return jet(net, x).d2[0].reshape(-1) - self.forcing(x)
