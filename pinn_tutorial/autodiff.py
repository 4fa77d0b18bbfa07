"""Derivatives of a network's output with respect to its inputs.

``gradient``, ``derivative`` and ``laplacian`` use nested reverse-mode autograd: general, and the
reference. Each keeps the graph (``create_graph=True``) so that a loss built from the derivatives
can itself be differentiated with respect to the network's parameters; the input ``x`` must have
``requires_grad=True`` and ``u`` must be computed from it.

``jet`` returns u with its first and pure second derivatives at once, taking the networks'
forward-mode (Taylor-mode) propagation when they offer it: the fast path of the training loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

# How input derivatives are taken: forward propagation where the network offers it, or nested reverse mode.
DERIVATIVE_METHODS = ("auto", "autograd")


def gradient(u: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The gradient du/dx of a scalar field u (shape (N,) or (N, 1)) at N points x of shape (N, d).

    Row n of the result is du/dx at x[n]; this holds because each output u[n] depends only on
    its own input row x[n], so d(sum_n u[n])/dx[n] = du[n]/dx[n].
    """
    if u.dim() == 2 and u.shape[1] != 1:
        raise ValueError(f"gradient expects one output per point, got u of shape {tuple(u.shape)}")
    if not u.requires_grad:  # u does not depend on x (e.g. the derivative of a linear field)
        return torch.zeros_like(x)
    (du,) = torch.autograd.grad(u.sum(), x, create_graph=True, materialize_grads=True)
    return du


def derivative(u: torch.Tensor, x: torch.Tensor, dim: int, order: int = 1) -> torch.Tensor:
    """The partial derivative d^order u / dx_dim^order, shape (N,)."""
    if order < 1:
        raise ValueError(f"order must be at least 1, got {order}")
    du = u.reshape(-1)
    for _ in range(order):
        du = gradient(du, x)[:, dim]
    return du


def laplacian(u: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The Laplacian sum_i d^2 u / dx_i^2, shape (N,)."""
    du = gradient(u, x)
    return sum(gradient(du[:, i], x)[:, i] for i in range(x.shape[1]))


@dataclass
class Jet:
    """A field and its input derivatives at N points: what a second-order PDE residual needs.

    ``value`` is u, shape (N, m); ``d1[k]`` is du/dx_k and ``d2[k]`` is d^2u/dx_k^2, each of
    shape (d, N, m). Mixed second derivatives are not carried: the Laplacian, u_tt and u_xx need
    only the pure ones.
    """

    value: torch.Tensor
    d1: torch.Tensor
    d2: torch.Tensor

    def laplacian(self) -> torch.Tensor:
        """sum_k d^2u/dx_k^2, shape (N, m)."""
        return self.d2.sum(dim=0)


def jet(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, method: str = "auto") -> Jet:
    """u = f(x) with its first and pure second derivatives.

    With ``method="auto"`` a network that offers ``taylor`` (the library's MLP and ModifiedMLP)
    propagates the derivatives forward through its layers: one forward pass, and one backward
    pass for the parameter gradients. Any other callable, or ``method="autograd"``, takes nested
    reverse-mode autograd, the reference path (x must then require grad).
    """
    if method not in DERIVATIVE_METHODS:
        raise ValueError(f"unknown derivative method {method!r}; choose 'auto' or 'autograd'")
    if method == "auto" and hasattr(f, "taylor"):
        return f.taylor(x)
    if not x.requires_grad:
        x.requires_grad_(True)
    u = f(x)
    # One reverse pass per output gives all its first derivatives; one more per output and input
    # direction gives a pure second derivative.
    grads = [gradient(u[:, j], x) for j in range(u.shape[1])]  # grads[j][:, k] = du_j/dx_k
    d1 = torch.stack([torch.stack([g[:, k] for g in grads], dim=1) for k in range(x.shape[1])])
    d2 = torch.stack([torch.stack([gradient(g[:, k], x)[:, k] for g in grads], dim=1) for k in range(x.shape[1])])
    return Jet(u, d1, d2)
