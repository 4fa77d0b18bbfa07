"""The diagonal of each loss term's neural tangent kernel, on a batch.

A term's values at its points are f_t(x_n; theta) (``pointwise``: the residual r, or B[u] - g of a
condition, one column per component). Its neural tangent kernel is

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
backward pass of the whole batch per value.) ``diagnostics.ntk_trace`` computes the same trace one point
at a time, the way the book first builds it.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn
from torch.func import functional_call, jacrev, vmap

from .problems import Problem
from .problems.base import Batch, Field

Params = dict[str, torch.Tensor]


def pointwise(problem: Problem, net: Field, batch: Batch) -> dict[str, torch.Tensor]:
    """Every term's values before squaring, one row per point and one column per component, shape (N_t, c_t):
    the residual r(x_n), and B[u](x_n) - g(x_n) of each condition over all its point sets (a condition whose
    columns are terms of their own gives each its column). Each term is a mean of their squares over the rows,
    summed over the sets and the columns (``Problem.losses``)."""
    x = batch["residual"]
    values = {"residual": problem.residual(net, x).reshape(len(x), -1)}
    for condition in problem.conditions:
        differences = torch.cat(condition.differences(net, batch))
        if isinstance(condition.term, tuple):
            values.update({term: differences[:, k:k + 1] for k, term in enumerate(condition.term)})
        else:
            values[condition.term] = differences
    return values


class PointValues(nn.Module):
    """``pointwise(problem, net, batch)`` flattened per term, as a module, so that ``torch.func`` can call it with
    given parameters; its parameter names are the network's, prefixed ``net.`` (as ``compiled_step.LossTerms``)."""

    def __init__(self, problem: Problem, net: nn.Module):
        super().__init__()
        self.problem, self.net = problem, net

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {t: v.reshape(-1) for t, v in pointwise(self.problem, self.net, batch).items()}


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


def members_diagonal_means(problem: Problem, net: nn.Module, params: Params, buffers: Params,
                           batch: dict[str, torch.Tensor], names: Iterable[str],
                           members: int | None = None) -> dict[str, torch.Tensor]:
    """k_t of every member, shape (E,) per term: of one network (``members=None``, E = 1), or of E members stacked
    along a leading axis of ``params``, ``buffers`` and ``batch`` (``net`` then only holds the structure), member by
    member: the per-point gradients are already mapped over the points, and mapping them over members is slower."""
    values = PointValues(problem, net)
    params = {n: p.detach() for n, p in params.items()}
    if members is None:
        return {t: m.reshape(1) for t, m in diagonal_means(values, params, buffers, batch, names).items()}
    means = [diagonal_means(values, {n: p[e] for n, p in params.items()}, {n: b[e] for n, b in buffers.items()},
                            {k: x[e] for k, x in batch.items()}, names) for e in range(members)]
    return {t: torch.stack([m[t] for m in means]) for t in means[0]}
