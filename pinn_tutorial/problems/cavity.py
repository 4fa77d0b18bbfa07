"""The lid-driven cavity at Re = 100 in its two formulations (paper sections 3.3-3.5)."""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections import Counter
from dataclasses import dataclass

import torch
from torch import nn

from ..autodiff import gradient, jet
from ..metrics import relative_spectral
from ..networks import MLP, ModifiedMLP
from ..reference import load_or_solve
from ..sampling import BoxSampler, box_edges
from .base import Condition, Field, Problem

# -- the stream function's third derivatives by Taylor mode -------------------------------------------------------
# The networks' own ``taylor`` carries first and pure second derivatives; the stream function's residual also needs
# psi_xy and the four third derivatives. ``taylor3`` carries every partial derivative up to third order through the
# layers, by the same rules one order further (Faa di Bruno for tanh, Leibniz for the gate), as plain tensor
# operations: one forward pass, no nested autograd, so ``torch.compile`` takes the step whole. A jet maps a
# multi-index, the sorted input axes of a derivative (() the value, (0,) d/dx, (0, 1) d2/dxdy, (0, 0, 1) d3/dx2dy),
# to its values at the N points; None stands for a derivative that is identically zero (the input layer's).
Jet3 = dict[tuple[int, ...], torch.Tensor | None]
_ORDER = 3
_KEYS = [k for n in range(1, _ORDER + 1) for k in itertools.combinations_with_replacement(range(2), n)]


def _partitions(items: list[int]) -> list[list[list[int]]]:
    """Every set partition of ``items`` (lists of positions)."""
    if not items:
        return [[]]
    first, rest = items[0], items[1:]
    out = []
    for partition in _partitions(rest):
        out.append([[first], *partition])
        for k in range(len(partition)):
            out.append(partition[:k] + [[first, *partition[k]]] + partition[k + 1:])
    return out


def _chain_terms(key: tuple[int, ...]) -> list[tuple[int, tuple[tuple[int, ...], ...], int]]:
    """Faa di Bruno for d^key g(h): (g's order, the factors' multi-indices, how many partitions give them)."""
    count = Counter()
    for partition in _partitions(list(range(len(key)))):
        factors = tuple(sorted(tuple(sorted(key[i] for i in block)) for block in partition))
        count[len(partition), factors] += 1
    return [(order, factors, c) for (order, factors), c in count.items()]


def _product_terms(key: tuple[int, ...]) -> list[tuple[tuple[int, ...], tuple[int, ...], int]]:
    """Leibniz for d^key (z q): (z's multi-index, q's multi-index, how many subsets give them)."""
    count = Counter()
    for size in range(len(key) + 1):
        for chosen in itertools.combinations(range(len(key)), size):
            left = tuple(sorted(key[i] for i in chosen))
            right = tuple(sorted(key[i] for i in range(len(key)) if i not in chosen))
            count[left, right] += 1
    return [(left, right, c) for (left, right), c in count.items()]


_CHAIN = {key: _chain_terms(key) for key in _KEYS}
_PRODUCT = {key: _product_terms(key) for key in _KEYS}


def _sum(terms: list) -> torch.Tensor | None:
    terms = [t for t in terms if t is not None]
    return None if not terms else functools.reduce(torch.add, terms)


def _times(c: int, factors: list) -> torch.Tensor | None:
    if any(f is None for f in factors):
        return None
    product = functools.reduce(torch.mul, factors)
    return product if c == 1 else c * product


def _tanh3(h: Jet3) -> Jet3:
    """a = tanh(h) with its derivatives to third order; tanh' = s, tanh'' = -2 a s, tanh''' = -2 s (s - 2 a^2)."""
    a = torch.tanh(h[()])
    s = 1 - a * a
    g = {1: s, 2: -2 * a * s, 3: -2 * s * (s - 2 * a * a)}
    out = {(): a}
    for key in _KEYS:
        out[key] = _sum([_times(c, [g[order], *(h[f] for f in factors)]) for order, factors, c in _CHAIN[key]])
    return out


def _linear3(z: Jet3, linear: nn.Linear) -> Jet3:
    """W z + b: the bias enters the value only; every derivative present goes through one matrix product."""
    w = linear.weight.T
    present = [k for k in _KEYS if z[k] is not None]
    out = dict.fromkeys(_KEYS)
    out[()] = torch.addmm(linear.bias, z[()], w)
    if present:
        stacked = torch.stack([z[k] for k in present]) @ w
        out.update(zip(present, stacked.unbind(0)))
    return out


def _input3(x: torch.Tensor, net: nn.Module, linear: nn.Linear) -> Jet3:
    """W x~ + b of the standardised input x~ = (x - mean) / std: d/dx_k = W e_k / std_k, the rest zero."""
    out = dict.fromkeys(_KEYS)
    out[()] = torch.addmm(linear.bias, net.standardise(x), linear.weight.T)
    for k in range(2):
        out[(k,)] = (linear.weight[:, k] / net.input_std[k]).unsqueeze(0)
    return out


def _gate3(p: Jet3, z: Jet3, q: Jet3) -> Jet3:
    """p + z q by the product rule."""
    out = {(): torch.addcmul(p[()], z[()], q[()])}
    for key in _KEYS:
        out[key] = _sum([p[key], *(_times(c, [z[left], q[right]]) for left, right, c in _PRODUCT[key])])
    return out


def _minus(a: Jet3, b: Jet3) -> Jet3:
    return {k: a[k] if b[k] is None else (-b[k] if a[k] is None else a[k] - b[k]) for k in a}


def taylor3(net: MLP | ModifiedMLP, x: torch.Tensor) -> Jet3:
    """The network's outputs at x, shape (N, m), with every partial derivative up to third order in (x, y)."""
    if isinstance(net, ModifiedMLP):
        u = _tanh3(_input3(x, net, net.encoder_u))
        v = _tanh3(_input3(x, net, net.encoder_v))
        first, *gates = net.linears[:-1]
        if net.variant == "paper":
            base, diff, h = u, _minus(v, u), _tanh3(_input3(x, net, first))
        else:
            base, diff = v, _minus(u, v)
            h = _gate3(base, _tanh3(_input3(x, net, first)), diff)
        for linear in gates:
            h = _gate3(base, _tanh3(_linear3(h, linear)), diff)
    else:
        h = _tanh3(_input3(x, net, net.linears[0]))
        for linear in net.linears[1:-1]:
            h = _tanh3(_linear3(h, linear))
    return _linear3(h, net.linears[-1])


@dataclass(repr=False, eq=False)
class _Cavity(Problem):
    """Steady incompressible flow in the unit square, driven by the lid y = 1 moving at u = 1.

    Navier-Stokes (Eqs. 56-57):  u . grad u + grad p - (1/Re) Δu = 0,  div u = 0, with u = (1, 0)
    on the lid (corners included, as the original code samples it) and u = 0 on the other walls.
    The solution is judged by its velocity magnitude |u| on a 100 x 100 grid against the
    finite-difference reference (``pinn_tutorial.reference``, validated against Ghia et al.).
    """

    re: float = 100.0

    # The original cavity code pools Algorithm 1 as the largest per-layer ratio.
    annealing_pooling = "layer_ratio_max"

    def __post_init__(self):
        if not self.re > 0:
            raise ValueError(f"the Reynolds number must be positive, got {self.re}")
        self.domain = BoxSampler([0.0, 0.0], [1.0, 1.0])
        self.walls = box_edges([0.0, 0.0], [1.0, 1.0])
        self._reference = None

    def wall_condition(self, term: str | tuple[str, ...], columns: str = "sum") -> Condition:
        """(u, v) = (1, 0) on the lid and (0, 0) on the other walls: one mean squared error per wall and
        component, summed over the walls, in one term (or one term per component with ``term=(name_u, name_v)``)."""
        data = {edge: functools.partial(self.wall_velocity, edge) for edge in self.walls}
        return Condition(term, self.walls, self.velocity, data, columns)

    def wall_velocity(self, edge: str, x: torch.Tensor) -> torch.Tensor:
        """The prescribed (u, v) on a wall: (1, 0) on the lid, (0, 0) elsewhere; shape (N, 2)."""
        target = torch.zeros(len(x), 2, dtype=x.dtype, device=x.device)
        if edge == "top":
            target[:, 0] = 1.0
        return target

    def exact(self, x: torch.Tensor) -> torch.Tensor:
        """The reference |u| at points x, shape (N, 1), interpolated from the finite-difference solution."""
        if self._reference is None:
            self._reference = load_or_solve(self.re)
        uv = torch.as_tensor(self._reference.interpolate(x.detach().cpu().double().numpy()))
        return uv.norm(dim=1, keepdim=True).to(x.dtype)

    def velocity(self, net: Field, x: torch.Tensor) -> torch.Tensor:
        """The network's velocity (u, v) at x, shape (N, 2)."""
        raise NotImplementedError

    def predict(self, net: Field, x: torch.Tensor) -> torch.Tensor:
        """The velocity magnitude |u|, shape (N, 1) (gradients are enabled: u may be a derivative)."""
        with torch.enable_grad():
            return self.velocity(net, x.detach()).norm(dim=1, keepdim=True).detach()

    def metrics(self, prediction: torch.Tensor, exact: torch.Tensor, shape: list[int]) -> dict[str, float]:
        """The original code's figure too: the relative error in the spectral norm of the 100 x 100 arrays."""
        return {"rel_l2_spectral": relative_spectral(prediction.reshape(shape), exact.reshape(shape))}


@dataclass(repr=False, eq=False)
class CavityStreamFunction(_Cavity):
    """The stream-function-pressure formulation (section 3.5): the net maps (x, y) to (psi, p).

    u = psi_y and v = -psi_x, so continuity u_x + v_y = psi_yx - psi_xy = 0 holds by construction
    and only the momentum residuals are trained:

        r_u = u u_x + v u_y + p_x - (u_xx + u_yy) / Re,   r_v = u v_x + v v_y + p_y - (v_xx + v_yy) / Re.

    Loss (original code): L_r = mean r_u^2 + mean r_v^2 and L_b = the sum over the four walls of
    the mean squared velocity error (u and v entries together). These need third derivatives of
    psi, mixed ones included. On the library's networks they come from ``taylor3``, every
    derivative to third order carried forward through the layers (Taylor mode): plain tensor
    operations, so the step compiles like the other problems'. Any other callable (and the
    reference path, ``derivatives="autograd"``) takes nested reverse-mode autograd. Net: 3 hidden
    layers of 50 (the code's; the paper says "5-layer").
    """

    name = "cavity_stream"
    default_layers = [2, 50, 50, 50, 2]

    def __post_init__(self):
        super().__post_init__()
        # The original code's mean over the u and v entries of the walls, not their sum.
        self.conditions = [self.wall_condition("boundary", columns="mean")]

    def velocity(self, net: Field, x: torch.Tensor) -> torch.Tensor:
        """(u, v) = (psi_y, -psi_x)."""
        d = jet(net, x)
        return torch.stack([d.d1[1][:, 0], -d.d1[0][:, 0]], dim=1)

    def residual(self, net: Field, x: torch.Tensor) -> torch.Tensor:
        """(r_u, r_v) of the momentum equations, shape (N, 2) (Eq. 56 with u = psi_y, v = -psi_x)."""
        psi_x, psi_y, psi_xx, psi_xy, psi_yy, psi_xxx, psi_xxy, psi_xyy, psi_yyy, p_x, p_y = self._derivatives(net, x)
        u, v = psi_y, -psi_x
        u_x, u_y, v_x, v_y = psi_xy, psi_yy, -psi_xx, -psi_xy
        u_xx, u_yy, v_xx, v_yy = psi_xxy, psi_yyy, -psi_xxx, -psi_xyy
        r_u = u * u_x + v * u_y + p_x - (u_xx + u_yy) / self.re
        r_v = u * v_x + v * v_y + p_y - (v_xx + v_yy) / self.re
        return torch.stack([r_u, r_v], dim=1)

    @staticmethod
    def _derivatives(net: Field, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """psi's derivatives to third order (x, y, xx, xy, yy, xxx, xxy, xyy, yyy), then p_x and p_y."""
        if isinstance(net, (MLP, ModifiedMLP)):  # Taylor mode, every derivative in one forward pass
            d = taylor3(net, x)
            psi = [d[k][:, 0] for k in _KEYS]
            return (*psi, d[(0,)][:, 1], d[(1,)][:, 1])
        # nested reverse mode: first and pure second derivatives from jet, then one reverse pass on top
        x = x.detach().requires_grad_(True)
        d = jet(net, x, method="autograd")
        psi_x, psi_y = d.d1[:, :, 0]
        p_x, p_y = d.d1[:, :, 1]
        psi_xx, psi_yy = d.d2[0, :, 0], d.d2[1, :, 0]
        psi_xy = gradient(psi_y, x)[:, 0]
        psi_xxx, psi_xxy = gradient(psi_xx, x).unbind(1)
        psi_xyy, psi_yyy = gradient(psi_yy, x).unbind(1)
        return psi_x, psi_y, psi_xx, psi_xy, psi_yy, psi_xxx, psi_xxy, psi_xyy, psi_yyy, p_x, p_y


@dataclass(repr=False, eq=False)
class CavityVelocityPressure(_Cavity):
    """The velocity-pressure formulation (section 3.4): the net maps (x, y) to (u, v, p).

    Residuals: the two momentum equations r_u, r_v as in ``CavityStreamFunction`` and continuity
    r_c = u_x + v_y. Loss (Eqs. 62-67): L_r = mean r_u^2 + mean r_v^2 + mean r_c^2, and the wall
    conditions on u and on v as two terms, L_ub and L_vb, each the sum over the four walls of a
    mean squared error, each with its own weight under Algorithm 1 (``wall_weights=2``). With
    ``wall_weights=1`` they are one term, L_b = L_ub + L_vb, with one weight, as the stream-function
    code weights its walls. The paper finds that every method fails on this formulation (it
    published no code for it). Net: 3 hidden layers of 50, as for the stream function.
    """

    name = "cavity_velocity"
    default_layers = [2, 50, 50, 50, 3]

    # In the repr only when not its default, so that the repr (a checkpoint's run key) of the default is unchanged.
    wall_weights: int = dataclasses.field(default=2, repr=False)

    def __post_init__(self):
        super().__post_init__()
        if self.wall_weights not in (1, 2):
            raise ValueError("wall_weights must be 1 (one weight for u and v) or 2 (one each), "
                             f"got {self.wall_weights}")
        self.wall_weights = int(self.wall_weights)
        self.conditions = [self.wall_condition("boundary" if self.wall_weights == 1 else ("boundary_u", "boundary_v"))]

    def velocity(self, net: Field, x: torch.Tensor) -> torch.Tensor:
        return net(x)[:, :2]

    def residual(self, net: Field, x: torch.Tensor) -> torch.Tensor:
        """(r_u, r_v, r_c), shape (N, 3) (Eqs. 56-57)."""
        d = jet(net, x)
        (u, v), (p_x, p_y) = d.value[:, :2].unbind(1), (d.d1[0][:, 2], d.d1[1][:, 2])
        u_x, v_x = d.d1[0][:, 0], d.d1[0][:, 1]
        u_y, v_y = d.d1[1][:, 0], d.d1[1][:, 1]
        lap_u, lap_v = d.laplacian()[:, 0], d.laplacian()[:, 1]
        r_u = u * u_x + v * u_y + p_x - lap_u / self.re
        r_v = u * v_x + v * v_y + p_y - lap_v / self.re
        return torch.stack([r_u, r_v, u_x + v_y], dim=1)
