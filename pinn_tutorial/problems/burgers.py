"""The 1-D viscous Burgers equation, a benchmark of later work, with its Cole-Hopf reference solution.

Not one of the paper's benchmarks: it is the first example of Raissi, Perdikaris & Karniadakis, "Physics-informed
neural networks", J. Comput. Phys. 378 (2019), and a common one since. Its reference solution is checked against
Basdevant et al., "Spectral and finite difference solutions of the Burgers equation", Computers & Fluids 14 (1986).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch

from ..autodiff import jet
from ..sampling import BoxSampler
from .base import Condition, Field, Problem, TimeDependent, check_finite, value

QUADRATURE_NODES = 250  # Gauss-Hermite nodes of the reference solution
MIN_NU = 2e-3  # below it the Cole-Hopf integrand moves past the outermost quadrature node (see ``Burgers.exact``)


@functools.cache
def hermite_quadrature() -> tuple[torch.Tensor, torch.Tensor]:
    """The Gauss-Hermite nodes z_i and the logarithms of their weights w_i (float64), for int g(z) exp(-z^2) dz."""
    z, w = np.polynomial.hermite.hermgauss(QUADRATURE_NODES)
    return torch.as_tensor(z), torch.as_tensor(np.log(w))


@dataclass(repr=False, eq=False)
class Burgers(TimeDependent, Problem):
    """Viscous Burgers equation  u_t + u u_x = nu u_xx  on (t, x) in [0, 1] x [-1, 1].

    Initial data u(0, x) = -sin(pi x), walls u(t, -1) = u(t, 1) = 0, and nu = 0.01 / pi, as in
    Raissi et al. (2019) and Basdevant et al. (1986): a shock forms at x = 0 near t = 1 / pi and
    steepens until its slope du/dx is about -1/(2 nu) in size. Inputs are ordered (t, x), as for
    Klein-Gordon. nu must be at least ``MIN_NU``.

    Loss: L_r = mean r^2 with r = u_t + u u_x - nu u_xx; L_b ("boundary") = the sum of the mean
    squared u at x = -1 and at x = 1; L_0 ("initial") = mean (u(0, x) + sin(pi x))^2. Net:
    8 hidden layers of 20, the network of Raissi et al. (2019) for this equation.
    """

    nu: float = 0.01 / math.pi

    name = "burgers"
    default_layers = [2, 20, 20, 20, 20, 20, 20, 20, 20, 1]

    def __post_init__(self):
        check_finite(nu=self.nu)
        if not self.nu >= MIN_NU:
            raise ValueError(f"the viscosity nu must be at least {MIN_NU:g} (the reference solution's quadrature "
                             f"resolves no thinner shock), got {self.nu}")
        self.domain = BoxSampler([0.0, -1.0], [1.0, 1.0])
        self.edges = {"left": BoxSampler([0.0, -1.0], [1.0, -1.0]), "right": BoxSampler([0.0, 1.0], [1.0, 1.0])}
        self.start = BoxSampler([0.0, -1.0], [0.0, 1.0])
        self.conditions = [
            Condition("boundary", self.edges, value, self.wall_data),  # u = 0 at x = -1 and x = 1
            Condition("initial", {"initial": self.start}, value, self.initial_data),  # u(0, x) = -sin(pi x)
        ]

    def wall_data(self, x: torch.Tensor) -> torch.Tensor:
        """u(t, +-1) = 0, shape (N, 1)."""
        return torch.zeros_like(x[:, :1])

    def initial_data(self, x: torch.Tensor) -> torch.Tensor:
        """u(0, x) = -sin(pi x), shape (N, 1)."""
        return -torch.sin(math.pi * x[:, 1:2])

    def residual(self, net: Field, x: torch.Tensor) -> torch.Tensor:
        """r = u_t + u u_x - nu u_xx, shape (N,)."""
        u = jet(net, x)
        u_t, u_x, u_xx = u.d1[0].reshape(-1), u.d1[1].reshape(-1), u.d2[1].reshape(-1)
        return u_t + u.value.reshape(-1) * u_x - self.nu * u_xx

    def exact(self, x: torch.Tensor) -> torch.Tensor:
        """The Cole-Hopf solution at points (t, x), shape (N, 1), computed in float64.

        u = -2 nu phi_x / phi turns the equation into the heat equation phi_t = nu phi_xx, with
        phi(0, x) = exp(-cos(pi x) / (2 pi nu)). Its solution, the heat kernel's convolution, gives

            u(t, x) = - int sin(pi y) f(y) exp(-z^2) dz / int f(y) exp(-z^2) dz,
            y = x - sqrt(4 nu t) z,   f(y) = exp(-cos(pi y) / (2 pi nu)),

        two integrals taken by Gauss-Hermite quadrature (nodes z_i, weights w_i): u = -sum_i p_i sin(pi y_i)
        with p_i proportional to w_i f(y_i). The p_i are formed in log space (f spans e^(+-1/(2 pi nu))),
        as a softmax of log w_i - cos(pi y_i) / (2 pi nu).
        """
        z, log_w = (q.to(x.device) for q in hermite_quadrature())
        t, s = x[:, 0:1].double(), x[:, 1:2].double()
        y = s - torch.sqrt(4 * self.nu * t) * z  # (N, nodes)
        p = torch.softmax(log_w - torch.cos(math.pi * y) / (2 * math.pi * self.nu), dim=1)
        return -(p * torch.sin(math.pi * y)).sum(dim=1, keepdim=True).to(x.dtype)
