"""A later architecture: random weight factorisation with Fourier features (later work).

Two changes to the MLP, each from one paper, which the jaxpi library of the paper's group combines:

- **Fourier features** (Tancik et al., NeurIPS 2020; for PINNs Wang, Wang & Perdikaris, CMAME 384, 2021): the
  standardised input x first becomes

      gamma(x) = [cos(B x), sin(B x)],     B (m x d), entries drawn once from N(0, sigma^2), never trained,

  so that the network meets frequencies of order sigma from its first step instead of learning them slowly
  (the spectral bias that makes a PINN fit low frequencies first);
- **random weight factorisation** (RWF; Wang, Wang, Seidman & Perdikaris, arXiv:2210.01274, 2022): every dense
  layer's weight matrix is W = diag(exp(s)) V, one trained scale exp(s_j) per output unit j. The layer starts as
  the Glorot layer W_0 (s ~ N(mu, sigma_s^2), V = diag(exp(-s)) W_0); gradient descent on (s, V) then moves
  each unit's scale on its own, which the paper shows acts as a per-unit learning rate. Its recommended
  mu = 1, sigma_s = 0.1 are the defaults.

``taylor`` propagates the input derivatives forward, as the paper's networks do (``networks``); through the
features, along input k (p = B z, p' = B e_k / std_k, p'' = 0):

    cos p:  -sin(p) p',  -cos(p) p'^2          sin p:  cos(p) p',  -sin(p) p'^2
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from .autodiff import Jet
from .networks import Standardised, glorot_linear, layer_jet, output_jet


class FactorisedLinear(nn.Module):
    """y = x W^T + b with W = diag(exp(s)) V: the RWF layer, initialised to equal the Glorot layer W_0."""

    def __init__(self, fan_in: int, fan_out: int, mu: float, sigma: float):
        super().__init__()
        glorot = glorot_linear(fan_in, fan_out)
        s = mu + sigma * torch.randn(fan_out)
        self.s = nn.Parameter(s)
        self.v = nn.Parameter(glorot.weight.detach() * torch.exp(-s)[:, None])
        self.bias = nn.Parameter(glorot.bias.detach())

    @property
    def weight(self) -> torch.Tensor:
        """The effective matrix W = diag(exp(s)) V."""
        return torch.exp(self.s)[:, None] * self.v

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.addmm(self.bias, x, self.weight.T)


class FourierRWF(Standardised):
    """An MLP on Fourier features gamma(x), every dense layer factorised (see the module's docstring).

    ``layers`` lists the widths as for ``MLP``, e.g. ``[2, 50, 50, 50, 1]``: the first hidden layer reads the
    2 m features of gamma instead of the d inputs, with m = ``features`` (default: half the first width, so
    that gamma is as wide as a hidden layer). ``scale`` is sigma of B; ``rwf_mu`` and ``rwf_sigma`` those of s.
    """

    name = "rwf_fourier"

    def __init__(self, layers: Sequence[int], input_mean: Sequence[float] | None,
                 input_std: Sequence[float] | None, features: int | None = None, scale: float = 1.0,
                 rwf_mu: float = 1.0, rwf_sigma: float = 0.1):
        super().__init__(layers, input_mean, input_std)
        features = max(1, layers[1] // 2) if features is None else features
        if not (isinstance(features, int) and features >= 1):
            raise ValueError(f"features must be a whole number of at least 1, got {features!r}")
        if not all(math.isfinite(v) for v in (scale, rwf_mu, rwf_sigma)) or scale <= 0 or rwf_sigma < 0:
            raise ValueError(f"scale must be positive and rwf_sigma at least 0, all finite; got scale={scale!r}, "
                             f"rwf_mu={rwf_mu!r}, rwf_sigma={rwf_sigma!r}")
        self.register_buffer("B", scale * torch.randn(features, layers[0]))
        widths = [2 * features, *layers[1:]]
        self.linears = nn.ModuleList(FactorisedLinear(a, b, rwf_mu, rwf_sigma) for a, b in zip(widths[:-1], widths[1:]))

    def weight_matrices(self) -> list[nn.Parameter]:
        """The trained matrices V_1..V_L of the factorised layers (what Algorithm 1 reads of this network)."""
        return [linear.v for linear in self.linears]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.standardise(x) @ self.B.T
        h = torch.cat([torch.cos(p), torch.sin(p)], dim=1)
        for linear in self.linears[:-1]:
            h = torch.tanh(linear(h))
        return self.linears[-1](h)

    def taylor(self, x: torch.Tensor) -> Jet:
        """The output with its first and pure second input derivatives, propagated forward."""
        p = self.standardise(x) @ self.B.T
        p1 = (self.B / self.input_std).T.unsqueeze(1)  # direction k: B e_k / std_k, the same at every point
        cos, sin = torch.cos(p), torch.sin(p)
        h = (torch.cat([cos, sin], dim=1), torch.cat([-sin * p1, cos * p1], dim=2),
             torch.cat([-cos * p1 * p1, -sin * p1 * p1], dim=2))
        for linear in self.linears[:-1]:
            h = layer_jet(h, linear)
        return output_jet(h, self.linears[-1])
