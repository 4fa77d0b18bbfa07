"""The diagonal of each loss term's neural tangent kernel, on a batch.

A term's values at its points are f_t(x_n; theta) (``Problem.pointwise``: the residual r, or
B[u] - g of a condition, one column per component). Its neural tangent kernel is

    K_t(x_n, x_m) = < d f_t(x_n) / d theta , d f_t(x_m) / d theta >

(Wang, Yu & Perdikaris, "When and why PINNs fail to train: a neural tangent kernel perspective",
J. Comput. Phys. 449, 2022, Eq. 3.9), and its trace, the sum of the eigenvalues, sets how fast gradient
descent moves that term. ``diagonal_means`` gives, for every term, the mean of the diagonal over the
term's N_t points and c_t columns,

    k_t = 1 / (N_t c_t) * sum_n sum_c || d f_{t,c}(x_n) / d theta ||^2  =  tr K_t / (N_t c_t),

exactly. The batch's point sets hold the same number N of points (a fresh draw of each,
``Problem.sample``), so row n of the batch is one point of every set: the gradients of its few values
(``torch.func.jacrev``) mapped over the rows (``torch.func.vmap``) are the per-point gradients, at
the cost of a few batched backward passes. (The Jacobian of the whole batch's values would cost one
backward pass of the whole batch per value.)
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn
from torch.func import functional_call, jacrev, vmap

from .problems import Problem

Params = dict[str, torch.Tensor]


class PointValues(nn.Module):
    """``problem.pointwise(net, batch)`` as a module, so that ``torch.func`` can call it with given parameters;
    its parameter names are the network's, prefixed ``net.`` (as ``compiled_step.LossTerms``)."""

    def __init__(self, problem: Problem, net: nn.Module):
        super().__init__()
        self.problem, self.net = problem, net

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {t: v.reshape(-1) for t, v in self.problem.pointwise(self.net, batch).items()}


def diagonal_means(values: PointValues, params: Params, buffers: Params, batch: dict[str, torch.Tensor],
                   names: Iterable[str]) -> dict[str, torch.Tensor]:
    """k_t = tr K_t / (N_t c_t) for every term t, over the parameters ``names`` (the others held fixed)."""
    sizes = {len(x) for x in batch.values()}
    if len(sizes) != 1:
        raise ValueError(f"the tangent kernel's diagonal is taken row by row over point sets of one size; "
                         f"this batch's sets hold {sorted(sizes)} points")
    names = list(names)
    held = {n: p for n, p in params.items() if n not in names}

    def row_values(chosen: Params, row: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        one_point_each = {name: x.unsqueeze(0) for name, x in row.items()}
        return functional_call(values, ({**held, **chosen}, buffers), (one_point_each,))

    chosen = {n: params[n] for n in names}
    # t -> name -> (N, values of t per row, *shape): each value's gradient at each row
    jacobians = vmap(jacrev(row_values), in_dims=(None, 0))(chosen, batch)
    return {t: sum(j.pow(2).flatten(2).sum(2) for j in by_name.values()).mean() for t, by_name in jacobians.items()}
