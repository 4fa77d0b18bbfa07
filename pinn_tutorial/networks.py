"""The two networks of the paper: a plain tanh MLP and the gated ``ModifiedMLP`` (section 2.6), by name in
``ARCHITECTURES`` with the later ones (``rwf_fourier``).

Both standardise their inputs first, ``x -> (x - mean) / std``, as the original code does (the paper
does not mention it); ``methods.build`` passes the exact mean and standard deviation of a uniform point
in the domain, or, as the original code has them, those of 10^5 sampled points.
Autograd differentiates through this scaling, so input derivatives need no correction.

Both also offer ``taylor(x)``: the output with its first and pure second input derivatives,
propagated forward layer by layer (Taylor mode) instead of by nested autograd. Each layer carries
a triple (value, d1, d2), where d1[k] and d2[k] are the first and second derivatives along input
k, stacked so that one matrix product serves all directions. The rules, for each direction k
(' = d/dx_k):

    linear  h = W z + b        h' = W z'                h'' = W z''
    tanh    a = tanh(h)        a' = s h'                a'' = s (h'' - 2 a h'^2),   s = 1 - a^2
    gate    h = p + z q        h' = p' + z' q + z q'    h'' = p'' + z'' q + 2 z' q' + z q''

On the first layer z' is the constant e_k / std_k and z'' = 0, which saves two products.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral
from typing import Literal

import torch
from torch import nn

from .autodiff import Jet
from .config import choose
from .registry import Registry


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


Triple = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def _tanh_jet(h: torch.Tensor, h1: torch.Tensor, h2: torch.Tensor | None) -> Triple:
    """a = tanh(h): a' = s h' and a'' = s (h'' - 2 a h'^2), with s = 1 - a^2 (h'' = 0 if None)."""
    a = torch.tanh(h)
    s = 1 - a * a
    d1 = s * h1
    d2 = -2 * a * d1 * h1 if h2 is None else s * torch.addcmul(h2, a * h1, h1, value=-2)
    return a, d1, d2


def _first_layer_jet(x: torch.Tensor, std: torch.Tensor, linear: nn.Linear) -> Triple:
    """tanh(W x + b) of the standardised input x, whose derivatives are e_k / std_k and 0."""
    h1 = (linear.weight / std).T.unsqueeze(1)  # direction k: W e_k / std_k, the same at every point
    return _tanh_jet(torch.addmm(linear.bias, x, linear.weight.T), h1, None)


def layer_jet(z: Triple, linear: nn.Linear) -> Triple:
    """tanh(W z + b) of a triple."""
    w = linear.weight.T
    return _tanh_jet(torch.addmm(linear.bias, z[0], w), z[1] @ w, z[2] @ w)


def _gate_jet(p: Triple, z: Triple, q: Triple) -> Triple:
    """h = p + z q by the product rule."""
    return (torch.addcmul(p[0], z[0], q[0]),
            p[1] + z[1] * q[0] + z[0] * q[1],
            p[2] + z[2] * q[0] + 2 * z[1] * q[1] + z[0] * q[2])


def output_jet(z: Triple, linear: nn.Linear) -> Jet:
    """The linear output layer: the bias enters the value only."""
    w = linear.weight.T
    return Jet(torch.addmm(linear.bias, z[0], w), z[1] @ w, z[2] @ w)

# The gated network as the original code builds it, or as the paper's Eqs. 43-47 write it (``ModifiedMLP``).
GATED_VARIANTS = ("code", "paper")


class Standardised(nn.Module):
    """Shared input scaling; ``mean`` and ``std`` are buffers, saved with the state dict.

    A network declares its scaling: ``MLP(layers, *problem.input_scaling())``, or ``MLP(layers, None, None)`` for
    raw inputs. Leaving it out is an error, not a silent default: a network built by hand without the problem's
    scaling trains on other inputs than the preset's."""

    def __init__(self, layers: Sequence[int], input_mean: Sequence[float] | None,
                 input_std: Sequence[float] | None):
        super().__init__()
        if len(layers) < 3:
            raise ValueError(f"layers must list input, at least one hidden and output size, got {list(layers)}")
        if not all(isinstance(n, Integral) and not isinstance(n, bool) and n >= 1 for n in layers):
            raise ValueError(f"every layer needs a whole number of units, at least 1, got {list(layers)}")
        d_in = layers[0]
        mean = torch.zeros(d_in) if input_mean is None else torch.as_tensor(input_mean, dtype=torch.float32)
        std = torch.ones(d_in) if input_std is None else torch.as_tensor(input_std, dtype=torch.float32)
        if mean.shape != (d_in,) or std.shape != (d_in,):
            raise ValueError(f"input_mean and input_std need {d_in} entries, one per input")
        if not (torch.isfinite(mean).all() and torch.isfinite(std).all() and (std > 0).all()):
            raise ValueError(f"input_mean must be finite and input_std positive and finite (the inputs are divided by "
                             f"it), got {mean.tolist()} and {std.tolist()}")
        self.register_buffer("input_mean", mean)
        self.register_buffer("input_std", std)
        self.layers = list(layers)

    def weight_matrices(self) -> list[nn.Parameter]:
        """The weight matrices W_1..W_L of the layers (no biases, and no encoders of the gated network): what the
        original code's Algorithm 1 reads."""
        return [linear.weight for linear in self.linears]

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        """The groups of parameters, beyond all of them, whose gradients a weighting may read."""
        return {"weight_matrices": self.weight_matrices()}

    def standardise(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2 or x.shape[1] != self.layers[0]:
            raise ValueError(f"expected inputs of shape (N, {self.layers[0]}), got {tuple(x.shape)}")
        return (x - self.input_mean) / self.input_std


class MLP(Standardised):
    """The standard fully-connected network f(x) = W_L tanh(... tanh(W_1 x + b_1) ...) + b_L.

    ``layers`` lists the widths, e.g. ``[2, 50, 50, 50, 1]``: 2 inputs, 3 hidden layers of 50
    tanh units (the original code's Helmholtz net), one linear output.
    """

    name = "mlp"

    def __init__(self, layers: Sequence[int], input_mean: Sequence[float] | None,
                 input_std: Sequence[float] | None):
        super().__init__(layers, input_mean, input_std)
        self.linears = nn.ModuleList(glorot_linear(a, b) for a, b in zip(layers[:-1], layers[1:]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.standardise(x)
        for linear in self.linears[:-1]:
            h = torch.tanh(linear(h))
        return self.linears[-1](h)

    def taylor(self, x: torch.Tensor) -> Jet:
        """The output with its first and pure second input derivatives, propagated forward."""
        h = _first_layer_jet(self.standardise(x), self.input_std, self.linears[0])
        for linear in self.linears[1:-1]:
            h = layer_jet(h, linear)
        return output_jet(h, self.linears[-1])

class ModifiedMLP(Standardised):
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

    The code form is the default because it is the one that reproduces the paper's Helmholtz
    errors for M3 (Table 2); the runs of both forms at the paper budget are in ``results/``
    (``helmholtz_M3_...`` and ``helmholtz_M3-papernet_...``), compared in chapter 5 of the book.
    """

    name = "modified_mlp"

    def __init__(self, layers: Sequence[int], input_mean: Sequence[float] | None,
                 input_std: Sequence[float] | None, variant: Literal["paper", "code"] = "code"):
        super().__init__(layers, input_mean, input_std)
        choose("network variant", variant, GATED_VARIANTS)  # a ConfigError listing both
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
        x, std = self.standardise(x), self.input_std
        u = _first_layer_jet(x, std, self.encoder_u)
        v = _first_layer_jet(x, std, self.encoder_v)
        first, *gates = self.linears[:-1]
        if self.variant == "paper":  # H = (1 - Z) U + Z V = U + Z (V - U), after a plain H^(1)
            base, diff = u, tuple(b - a for a, b in zip(u, v))
            h = _first_layer_jet(x, std, first)
        else:  # H = Z U + (1 - Z) V = V + Z (U - V), the first gate reading X itself
            base, diff = v, tuple(a - b for a, b in zip(u, v))
            h = _gate_jet(base, _first_layer_jet(x, std, first), diff)
        for linear in gates:
            h = _gate_jet(base, layer_jet(h, linear), diff)
        return output_jet(h, self.linears[-1])

# Every network by its name, one line each; a later architecture's module is imported when it is first asked for.
ARCHITECTURES = Registry("architecture")
ARCHITECTURES.declare("mlp", f"{__name__}:MLP")
ARCHITECTURES.declare("modified_mlp", f"{__name__}:ModifiedMLP")
ARCHITECTURES.declare("rwf_fourier", "pinn_tutorial.rwf_fourier:FourierRWF")


def parameter_groups(net: nn.Module) -> dict[str, list[nn.Parameter]]:
    """The parameter groups of ``net`` that a weighting may read (``Weighting.parameter_group``): ``"all"`` the
    trainable parameters of any network, and whatever the network declares with a ``parameter_groups()`` method
    (this library's: ``"weight_matrices"``)."""
    groups = {"all": [p for p in net.parameters() if p.requires_grad]}
    declared = getattr(net, "parameter_groups", None)
    return groups | (declared() if callable(declared) else {})
