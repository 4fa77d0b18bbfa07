"""The two networks of the paper: a plain tanh MLP and the gated ``ModifiedMLP`` (section 2.6).

Both standardise their inputs first, ``x -> (x - mean) / std``, as the original code does with
the mean and standard deviation of the residual points (the paper does not mention it).
Autograd differentiates through this scaling, so input derivatives need no correction.

Both also offer ``taylor(x)``: the output with its first and pure second input derivatives,
propagated forward layer by layer (Taylor mode) instead of by nested autograd. A *stacked jet*
is one tensor of shape (1 + 2d, N, width): the value, then d derivatives d/dx_k, then d second
derivatives d^2/dx_k^2, so that each layer's weights multiply all of them in one matrix product.
The rules, for each direction k (' = d/dx_k):

    linear  h = W z + b        h' = W z'                h'' = W z''
    tanh    a = tanh(h)        a' = s h'                a'' = s (h'' - 2 a h'^2),   s = 1 - a^2
    gate    h = p + z q        h' = p' + z' q + z q'    h'' = p'' + z'' q + 2 z' q' + z q''
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

from .autodiff import Jet


def glorot_linear(fan_in: int, fan_out: int, random_bias: bool = False) -> nn.Linear:
    """A linear layer with Glorot-normal weights, W ~ N(0, 2 / (fan_in + fan_out)).

    Biases are zero, as in the original code's ``xavier_init`` for the MLP; ``random_bias``
    draws them from the same normal law, as the original code does for the gated net's
    encoders.
    """
    layer = nn.Linear(fan_in, fan_out)
    nn.init.xavier_normal_(layer.weight)
    if random_bias:
        nn.init.normal_(layer.bias, std=(2.0 / (1 + fan_out)) ** 0.5)
    else:
        nn.init.zeros_(layer.bias)
    return layer


def _jet_linear(z: torch.Tensor, linear: nn.Linear) -> torch.Tensor:
    """h = W z + b on a stacked jet: the bias enters the value only."""
    h = z @ linear.weight.T
    return torch.cat([h[:1] + linear.bias, h[1:]])


def _jet_tanh(h: torch.Tensor, d: int) -> torch.Tensor:
    """a = tanh(h) on a stacked jet: a' = s h', a'' = s (h'' - 2 a h'^2) with s = 1 - a^2."""
    a = torch.tanh(h[:1])
    s = 1 - a * a
    h1 = h[1:1 + d]
    return torch.cat([a, s * h1, s * (h[1 + d:] - 2 * a * h1 * h1)])


def _jet_gate(p: torch.Tensor, z: torch.Tensor, q: torch.Tensor, d: int) -> torch.Tensor:
    """h = p + z q on stacked jets, by the product rule."""
    z0, z1, z2 = z[:1], z[1:1 + d], z[1 + d:]
    q0, q1, q2 = q[:1], q[1:1 + d], q[1 + d:]
    return p + torch.cat([z0 * q0, z1 * q0 + z0 * q1, z2 * q0 + 2 * z1 * q1 + z0 * q2])


def _unstack(h: torch.Tensor, d: int) -> Jet:
    return Jet(h[0], h[1:1 + d], h[1 + d:])


class _Standardised(nn.Module):
    """Shared input scaling; ``mean`` and ``std`` are buffers, saved with the state dict."""

    def __init__(self, layers: Sequence[int], input_mean: Sequence[float] | None,
                 input_std: Sequence[float] | None):
        super().__init__()
        if len(layers) < 3:
            raise ValueError(f"layers must list input, at least one hidden and output size, got {list(layers)}")
        d_in = layers[0]
        mean = torch.zeros(d_in) if input_mean is None else torch.as_tensor(input_mean, dtype=torch.float32)
        std = torch.ones(d_in) if input_std is None else torch.as_tensor(input_std, dtype=torch.float32)
        if mean.shape != (d_in,) or std.shape != (d_in,):
            raise ValueError(f"input_mean and input_std need {d_in} entries, one per input")
        self.register_buffer("input_mean", mean)
        self.register_buffer("input_std", std)
        self.layers = list(layers)

    def standardise(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2 or x.shape[1] != self.layers[0]:
            raise ValueError(f"expected inputs of shape (N, {self.layers[0]}), got {tuple(x.shape)}")
        return (x - self.input_mean) / self.input_std

    def input_jet(self, x: torch.Tensor) -> torch.Tensor:
        """The stacked jet of the standardised input: value, d/dx_k = e_k / std_k, second derivatives 0."""
        z = self.standardise(x)
        n, d = z.shape
        d1 = torch.diag(1 / self.input_std).unsqueeze(1).expand(d, n, d)
        return torch.cat([z.unsqueeze(0), d1, torch.zeros_like(d1)])


class MLP(_Standardised):
    """The standard fully-connected network f(x) = W_L tanh(... tanh(W_1 x + b_1) ...) + b_L.

    ``layers`` lists the widths, e.g. ``[2, 50, 50, 50, 1]``: 2 inputs, 3 hidden layers of 50
    tanh units (the original code's Helmholtz net), one linear output.
    """

    def __init__(self, layers: Sequence[int], input_mean: Sequence[float] | None = None,
                 input_std: Sequence[float] | None = None):
        super().__init__(layers, input_mean, input_std)
        self.linears = nn.ModuleList(glorot_linear(a, b) for a, b in zip(layers[:-1], layers[1:]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.standardise(x)
        for linear in self.linears[:-1]:
            h = torch.tanh(linear(h))
        return self.linears[-1](h)

    def taylor(self, x: torch.Tensor) -> Jet:
        """The output with its first and pure second input derivatives, propagated forward."""
        d = x.shape[1]
        h = self.input_jet(x)
        for linear in self.linears[:-1]:
            h = _jet_tanh(_jet_linear(h, linear), d)
        return _unstack(_jet_linear(h, self.linears[-1]), d)

    def weight_matrices(self) -> list[nn.Parameter]:
        """The weight matrices W_1..W_L (no biases): what the original code's Algorithm 1 reads."""
        return [linear.weight for linear in self.linears]


class ModifiedMLP(_Standardised):
    """The paper's improved fully-connected architecture (Eqs. 43-47).

    Two encoders embed the input, U = tanh(X W^1 + b^1) and V = tanh(X W^2 + b^2), and every
    hidden layer mixes them through a gate Z:

        H^(1)   = tanh(X W^{z,1} + b^{z,1})
        Z^(k)   = tanh(H^(k) W^{z,k} + b^{z,k}),               k = 1..L
        H^(k+1) = (1 - Z^(k)) * U + Z^(k) * V
        f(X)    = H^(L+1) W + b

    ``variant="paper"`` is exactly these equations, with zero biases as in the MLP.
    ``variant="code"`` (the default) is what the original TensorFlow code runs: no plain H^(1)
    layer (the first gate reads X directly, so every hidden layer is a gate, one more than in
    the paper's form), U and V swapped (the same family after relabelling), and the encoders'
    biases drawn at random. Both have the same parameters for the same ``layers``: the encoders
    are 2 extra layers on top of the MLP's. (The code's first public version also had a bug,
    ``tanh(1 - H W + b)`` for the gate, fixed in 2021; it is not reproduced here.)

    The code form is the default because it reproduces the paper: on Helmholtz at the paper
    budget (seed 0, ``results/``) M3 reaches 2.6e-2 with it (Table 2: 2.46e-2) against 8.3e-2
    with the paper's form; for M4 both give about 6e-3.
    """

    def __init__(self, layers: Sequence[int], input_mean: Sequence[float] | None = None,
                 input_std: Sequence[float] | None = None,
                 variant: Literal["paper", "code"] = "code"):
        super().__init__(layers, input_mean, input_std)
        if variant not in ("paper", "code"):
            raise ValueError(f"unknown ModifiedMLP variant {variant!r}; choose 'paper' or 'code'")
        widths = set(layers[1:-1])
        if len(widths) != 1:
            raise ValueError(f"the gated network needs hidden layers of one width, got {list(layers[1:-1])}")
        self.variant = variant
        d_in, width = layers[0], layers[1]
        random_bias = variant == "code"
        self.encoder_u = glorot_linear(d_in, width, random_bias)
        self.encoder_v = glorot_linear(d_in, width, random_bias)
        self.linears = nn.ModuleList(glorot_linear(a, b) for a, b in zip(layers[:-1], layers[1:]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.standardise(x)
        u = torch.tanh(self.encoder_u(x))
        v = torch.tanh(self.encoder_v(x))
        hidden = self.linears[:-1]
        if self.variant == "paper":
            h = torch.tanh(hidden[0](x))
            for linear in hidden[1:]:
                z = torch.tanh(linear(h))
                h = (1 - z) * u + z * v
        else:
            h = x
            for linear in hidden:
                z = torch.tanh(linear(h))
                h = z * u + (1 - z) * v
        return self.linears[-1](h)

    def taylor(self, x: torch.Tensor) -> Jet:
        """The output with its first and pure second input derivatives, propagated forward."""
        d = x.shape[1]
        x = self.input_jet(x)
        u = _jet_tanh(_jet_linear(x, self.encoder_u), d)
        v = _jet_tanh(_jet_linear(x, self.encoder_v), d)
        hidden = self.linears[:-1]
        if self.variant == "paper":  # H = (1 - Z) U + Z V = U + Z (V - U)
            h, base, diff = _jet_tanh(_jet_linear(x, hidden[0]), d), u, v - u
            hidden = hidden[1:]
        else:  # H = Z U + (1 - Z) V = V + Z (U - V)
            h, base, diff = x, v, u - v
        for linear in hidden:
            h = _jet_gate(base, _jet_tanh(_jet_linear(h, linear), d), diff, d)
        return _unstack(_jet_linear(h, self.linears[-1]), d)

    def weight_matrices(self) -> list[nn.Parameter]:
        """The gate and output weight matrices, without the encoders: what the original code reads."""
        return [linear.weight for linear in self.linears]


ARCHITECTURES = {"mlp": MLP, "modified_mlp": ModifiedMLP}
