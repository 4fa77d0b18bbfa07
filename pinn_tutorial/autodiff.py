"""Derivatives of a network's output with respect to its inputs, by reverse-mode autograd.

Every function keeps the graph (``create_graph=True``) so that a loss built from these
derivatives can itself be differentiated with respect to the network's parameters.
The input ``x`` must have ``requires_grad=True`` and ``u`` must be computed from it.
"""

from __future__ import annotations

import torch


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
