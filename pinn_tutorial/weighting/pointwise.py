"""Pointwise weights: a weight for every collocation point, kept from step to step on a fixed pool of points.

The schemes of Eq. 39 weight whole loss terms. A pointwise scheme weights each point's squared value by the
square of the point's weight tau_j,

    L_t = sum_sets sum_c (1/N) sum_j tau_j^2 (B[u](x_j) - g(x_j))_c^2,     L_r = sum_c (1/N) sum_j tau_j^2 r_c(x_j)^2,

with tau_j = 1 on the point sets it leaves alone. A point's weight is a memory of that point, so the points must
come back: the paper draws a fresh batch every step, where a weight would have nowhere to live. A run of a
pointwise scheme therefore draws, once and from its seed, a **pool** of ``pool`` points of every point set, and at
each step ``batch_size`` distinct points of each pool (``PointwiseWeighting.sample``). That departs from the
paper's protocol (fresh points at every step), and the leaderboard says so; the scheme ``fixed_pool`` (every
tau_j = 1 on the same pool) measures what the pool alone changes.

A scheme (``PointwiseWeighting``) keeps its own state per point, and at every step turns the squared values at
the step's points (``point_squares``, at the parameters before the step) into the factors tau_j^2 that the step's
loss uses (``weigh``). The trainer puts them in the batch (``problems.base.POINT_WEIGHTS``), where the problem's
loss reads them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import ClassVar

import torch
from torch import nn
from torch.func import functional_call, vmap

from ..config import ConfigError
from ..problems import Problem
from ..problems.base import POINT_WEIGHTS, Batch, Field
from .base import Weighting, check_count, settings_repr


def point_squares(problem: Problem, net: Field, batch: Batch) -> dict[str, torch.Tensor]:
    """The squared value at every point of every set of ``batch``, shape (N,) per set: the squared residual
    r(x_j)^2 (summed over its columns) on ``"residual"``, and on a condition's set the squared B[u](x_j) - g(x_j),
    over its columns as the condition's term takes them (summed, or their mean), summed over the conditions on that
    set. Divided by N, the number of points of the set, it is the derivative of L_r + sum_i L_i by the factor
    tau_j^2 of point j."""
    x = batch["residual"]
    squares = {"residual": problem.residual(net, x).reshape(len(x), -1).pow(2).sum(1)}
    for condition in problem.conditions:
        for name, d in zip(condition.points, condition.differences(net, batch)):
            d2 = d.pow(2)
            squares[name] = squares.get(name, 0) + (d2.mean(1) if condition.columns == "mean" else d2.sum(1))
    return squares


class PointSquares(nn.Module):
    """``point_squares(problem, net, batch)`` as a module, so that ``torch.func`` can map it over members."""

    def __init__(self, problem: Problem, net: nn.Module):
        super().__init__()
        self.problem, self.net = problem, net

    def forward(self, batch: Batch) -> dict[str, torch.Tensor]:
        points = {name: x for name, x in batch.items() if not name.startswith(POINT_WEIGHTS)}
        return point_squares(self.problem, self.net, points)


def members_point_squares(problem: Problem, net: nn.Module, params: dict[str, torch.Tensor],
                          buffers: dict[str, torch.Tensor], batch: Batch, members: int) -> dict[str, torch.Tensor]:
    """``point_squares`` of E members stacked along a leading axis of ``params``, ``buffers`` and ``batch`` (``net``
    only holds the structure, its names prefixed ``net.``), without gradient: shape (E, N) per set."""
    module = PointSquares(problem, net)
    with torch.no_grad():
        return vmap(lambda p, b, x: functional_call(module, (p, b), (x,)))(params, buffers, batch)


def weigh_points(weightings: list[Weighting], batch: Batch, squares: dict[str, torch.Tensor],
                 member_slice: Callable[[torch.Tensor, int], torch.Tensor],
                 stack: Callable[[list[Batch]], Batch]) -> Batch:
    """``batch`` with each member's factors tau_j^2 of its points (``POINT_WEIGHTS``): member e's scheme
    (``weightings[e]``) weighs the squared values at its points (``squares``, the step engine's ``_point_squares``
    at the parameters before the step: ``member_slice(q, e)`` is member e's); ``stack`` makes the members' factors
    one batch, as the engine stacks their points."""
    squares = {s: q.cpu() for s, q in squares.items()}
    weights = [w.weigh({s: member_slice(q, e) for s, q in squares.items()}) for e, w in enumerate(weightings)]
    dtype = batch["residual"].dtype
    return batch | stack([{POINT_WEIGHTS + s: v.to(dtype) for s, v in w.items()} for w in weights])


class PointwiseWeighting(Weighting):
    """A scheme with a weight tau_j for every point of its pool (module docstring); its term weights lambda_i stay 1.

    ``pool``: the number of points of each point set drawn once (a set of fixed points, such as the ends of an
    interval, keeps its own). ``weighted_sets``: the point sets it weights, ``"all"`` or a tuple of names; the
    others keep tau_j = 1. A subclass keeps its state per point in ``self.state[set][name]`` (the weights under
    ``"tau"``), tensors of the pool's length that ``start`` fills, and turns the step's squared values into the
    step's factors tau_j^2 in ``weigh``.
    """

    weighs_points = True
    weighted_sets: ClassVar[str | tuple[str, ...]] = "all"

    def __init__(self, terms: Iterable[str], pool: int = 1280):
        super().__init__(terms)
        self.pool = check_count("pool", pool)
        self.points: Batch = {}  # the pool, drawn at the first step
        self.state: dict[str, dict[str, torch.Tensor]] = {}
        self.index: dict[str, torch.Tensor] = {}  # the step's points: their places in the pool

    def check(self, problem: Problem, batch_size: int) -> None:
        """Also a ConfigError if the problem's loss takes no weights of points, or the pool is smaller than a batch."""
        super().check(problem, batch_size)
        if not problem.takes_point_weights:
            raise ConfigError(f"{self.label} weighs points, which the loss of {problem!r} does not take")
        if batch_size > self.pool:
            raise ConfigError(f"{self.label}: the pool ({self.pool} points) is smaller than the batch "
                              f"({batch_size}): give pool={batch_size} or more")

    def sample(self, problem: Problem, batch_size: int, generator: torch.Generator | None = None) -> Batch:
        """``batch_size`` distinct points of every set's pool (a pool drawn from ``generator`` at the first call);
        a set smaller than the batch (fixed points) gives all its points."""
        if not self.points:
            self.points = problem.sample(self.pool, generator)
            sets = self.points if self.weighted_sets == "all" else self.weighted_sets
            self.state = {s: self.start(len(self.points[s]), generator) for s in sets}
        self.index = {s: torch.randperm(len(x), generator=generator)[:batch_size] for s, x in self.points.items()}
        return {s: x[self.index[s]] for s, x in self.points.items()}

    def start(self, size: int, generator: torch.Generator | None) -> dict[str, torch.Tensor]:
        """The state of a set of ``size`` pool points before the first step."""
        raise NotImplementedError

    def weigh(self, squares: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The factors tau_j^2 of this step's points of every weighted set (shape (N,) each), from their squared
        values (``point_squares``, on the CPU); the scheme updates its state for these points."""
        raise NotImplementedError

    def state_dict(self) -> dict:
        return {"weights": dict(self.weights), "points": dict(self.points),
                "state": {s: dict(v) for s, v in self.state.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.weights, self.points = dict(state["weights"]), {s: x.cpu() for s, x in state["points"].items()}
        self.state = {s: {k: v.cpu() for k, v in values.items()} for s, values in state["state"].items()}

    def __repr__(self) -> str:
        return settings_repr(self)


class FixedPool(PointwiseWeighting):
    """tau_j = 1 at every point, on the pool: plain M1 but for its points, drawn from a fixed pool. It measures what
    the pool alone changes, against which a pointwise scheme's weights are judged."""

    name = "fixed_pool"
    label = "fixed weights on a pool of points"
    weighted_sets = ()

    def weigh(self, squares: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {}
