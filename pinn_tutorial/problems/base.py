"""The one interface every PDE problem offers the trainer, and the declarations it is built from.

A problem states two things: its PDE residual r = N[u] - f at interior points, and a list of
conditions B[u] = g, each on some named point sets of the boundary or of the initial slice. From
these the base class derives the rest: ``sample`` draws a fresh batch of every point set, and
``losses`` gives one loss term for the residual and one for each condition (or for each column of one),

    L_r = sum_c mean_n r_c(x_n)^2,      L_i = sum_sets sum_c mean_n (B[u](x_n) - g(x_n))_c^2,

a mean squared error over the points of each set, summed over the sets and over the columns of a
vector-valued residual or condition. Where the batch carries factors tau_j^2 for a set's points (a pointwise
scheme, ``weighting.pointwise``), each mean is (1/N) sum_j tau_j^2 (...)^2. The trainer knows nothing else: its
weights lambda_i multiply the condition terms, never the residual.

A problem's parameters are a dataclass's fields, so its ``repr`` (the run key a checkpoint keeps),
its constructor and the types its parameters take on the command line (``problem_parameters``) come
from one declaration. Capabilities are declared too: ``TimeDependent`` for a time axis (what causal
training needs), ``compilable = False`` where nested autograd is inside the loss.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import typing
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol

import torch

from ..config import ConfigError, choose
from ..registry import Registry
from ..sampling import BoxSampler, grid

Field = Callable[[torch.Tensor], torch.Tensor]
Batch = dict[str, torch.Tensor]
MAX_FREQUENCY = 1e3  # a bound on a problem's frequencies: far past what a network here resolves, far below overflow
# A batch's key for the factors tau_j^2 of the points of set ``name``, POINT_WEIGHTS + name, where a pointwise scheme
# (``weighting.pointwise``) puts them.
POINT_WEIGHTS = "weights of "


def mean_squares(d: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    """(1/N) sum_j tau_j^2 d_{j,c}^2 for each column c of d, shape (N, c), with the factors tau_j^2 given as
    ``weights``; (1/N) sum_j d_{j,c}^2 without them."""
    squares = d.pow(2)
    return (squares if weights is None else weights.unsqueeze(-1) * squares).mean(dim=0)


def check_finite(**parameters: float) -> None:
    """A ValueError naming the first parameter that is not a finite number (NaN passes every comparison)."""
    for name, value in parameters.items():
        if not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value}")


class Sampler(Protocol):
    """Draws ``n`` points of a set, shape (n, d), from ``generator`` (``BoxSampler``, ``FixedPoints``)."""

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor: ...


@dataclass(frozen=True)
class Condition:
    """A condition B[u] = g on some point sets, and the loss term it enters.

    ``points`` names the point sets (the batch's keys) and their samplers; point sets of the same
    name in several conditions are drawn once. ``operator(net, x)`` is B[u] at the points x, shape
    (N, c): u itself for Dirichlet data, or u with its derivatives stacked. ``target`` is the data g,
    a field of x, or one field per point set. The term is

        L = sum_sets sum_c mean_n (B[u] - g)_c^2     (``columns="sum"``),

    or with the mean over the c columns instead of their sum (``columns="mean"``). With a tuple of c
    names for ``term``, each column is a term of its own, sum_sets mean_n (B[u] - g)_c^2, with its own
    weight. One pass of ``operator`` over all the condition's points gives every term.
    """

    term: str | tuple[str, ...]
    points: Mapping[str, Sampler]
    operator: Callable[[Field, torch.Tensor], torch.Tensor]
    target: Field | Mapping[str, Field]
    columns: Literal["sum", "mean"] = "sum"

    @property
    def terms(self) -> tuple[str, ...]:
        """The names of the terms it gives."""
        return self.term if isinstance(self.term, tuple) else (self.term,)

    def differences(self, net: Field, batch: Batch) -> tuple[torch.Tensor, ...]:
        """B[u] - g on each of the condition's point sets of ``batch``, shape (N_set, c) each."""
        x = [batch[name] for name in self.points]
        points = torch.cat(x)
        if isinstance(self.target, Mapping):
            data = torch.cat([self.target[name](p) for name, p in zip(self.points, x)])
        else:
            data = self.target(points)
        return (self.operator(net, points) - data).split([len(p) for p in x])

    def losses(self, net: Field, batch: Batch) -> dict[str, torch.Tensor]:
        """Its term (or terms) L on the condition's point sets of ``batch``."""
        per_set = torch.stack([mean_squares(d, batch.get(POINT_WEIGHTS + name))
                               for name, d in zip(self.points, self.differences(net, batch))])  # (sets, c)
        if isinstance(self.term, tuple):
            return dict(zip(self.term, per_set.sum(dim=0)))
        return {self.term: (per_set.sum(dim=1) if self.columns == "sum" else per_set.mean(dim=1)).sum()}


def value(net: Field, x: torch.Tensor) -> torch.Tensor:
    """B[u] = u: the operator of Dirichlet data."""
    return net(x)


class TimeDependent:
    """A problem whose input column ``time_axis`` is time t, from ``domain.low`` to ``domain.high`` there.

    Causal training (``CausalTraining``) wraps any problem that declares this.
    """

    time_axis: ClassVar[int] = 0


class Problem(ABC):
    """A PDE on a box with its loss terms.

    A subclass sets ``name``, ``domain`` (a BoxSampler for the interior), ``default_layers`` (the
    network the paper uses, on the class, so that it is known without building the problem),
    ``conditions`` (a list of ``Condition``), and implements ``residual`` and ``exact``. Its
    parameters are fields of ``@dataclass(repr=False, eq=False)`` (the repr below; problems compare
    by identity), checked in ``__post_init__``, which also builds the domain and the conditions;
    ``@register_problem`` makes it known by name. A problem that cannot be put this way may
    override ``sample`` and ``losses`` (and ``terms``) instead.
    """

    name: str
    domain: BoxSampler
    default_layers: list[int]
    conditions: list[Condition]
    # Algorithm 1's pooling in the original code for this problem (None: the form's own).
    annealing_pooling: str | None = None
    # Whether torch.compile can take the loss terms whole (False where nested autograd is inside).
    compilable = True
    # Whether its loss weighs points as the batch says (POINT_WEIGHTS): the loss terms of this class do.
    takes_point_weights = True

    @property
    def terms(self) -> tuple[str, ...]:
        """The loss terms' names: ``"residual"``, then the conditions' terms in their order."""
        return ("residual", *(term for condition in self.conditions for term in condition.terms))

    @property
    def weighted_terms(self) -> tuple[str, ...]:
        """The terms that carry a weight lambda_i; the residual's weight is always 1."""
        return self.terms[1:]

    def residual(self, net: Field, x: torch.Tensor) -> torch.Tensor:
        """The PDE residual r = N[u] - f at points x, shape (N,) or (N, c)."""
        raise NotImplementedError(f"{type(self).__name__} states no residual")

    @abstractmethod
    def exact(self, x: torch.Tensor) -> torch.Tensor:
        """The exact (or reference) solution at points x, shape (N, outputs)."""

    def sample(self, batch_size: int, generator: torch.Generator | None = None) -> Batch:
        """A fresh batch: ``batch_size`` points on the CPU for ``"residual"`` (the domain), then for each
        conditions' point set, in the order the conditions name them."""
        batch = {"residual": self.domain.sample(batch_size, generator)}
        for condition in self.conditions:
            for name, sampler in condition.points.items():
                if name not in batch:
                    batch[name] = sampler.sample(batch_size, generator)
        return batch

    def losses(self, net: Field, batch: Batch) -> dict[str, torch.Tensor]:
        """The unweighted loss terms, a scalar for each name in ``terms``."""
        return {"residual": self.residual_loss(net, batch["residual"], batch.get(POINT_WEIGHTS + "residual")),
                **self.data_losses(net, batch)}

    def residual_loss(self, net: Field, x: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
        """L_r = sum_c mean_j tau_j^2 r_c(x_j)^2, with the factors tau_j^2 given as ``weights`` (else 1)."""
        return mean_squares(self.residual(net, x).reshape(len(x), -1), weights).sum()

    def data_losses(self, net: Field, batch: Batch) -> dict[str, torch.Tensor]:
        """The conditions' terms (everything but the residual)."""
        return {term: loss for condition in self.conditions for term, loss in condition.losses(net, batch).items()}

    def predict(self, net: Field, x: torch.Tensor) -> torch.Tensor:
        """The field that is compared with ``exact``: the network's output itself here."""
        return net(x)

    def check_batch_size(self, batch_size: int) -> None:
        """A ConfigError if ``sample`` cannot draw ``batch_size`` points per term (any size of at least 1, here)."""
        if batch_size < 1:
            raise ConfigError(f"the batch size must be at least 1, got {batch_size}")

    def metrics(self, prediction: torch.Tensor, exact: torch.Tensor, shape: list[int]) -> dict[str, float]:
        """Figures reported beside the relative L2 error (none by default)."""
        return {}

    def input_scaling(self) -> tuple[list[float], list[float]]:
        """Mean and standard deviation of a uniform point in the domain, per input.

        The original code standardises inputs with the statistics of 10^5 random residual
        points; these are the exact values they estimate: (a + b) / 2 and (b - a) / sqrt(12).
        """
        low, high = self.domain.low, self.domain.high
        return ((low + high) / 2).tolist(), ((high - low) / 12**0.5).tolist()

    def sampled_input_scaling(self, generator: torch.Generator, n: int = 100_000) -> tuple[list[float], list[float]]:
        """Mean and standard deviation (divided by n, as NumPy's) of n uniform points in the domain.

        What the original code computes; ``input_scaling`` gives the values these estimate.
        """
        x = self.domain.sample(n, generator, dtype=torch.float64)
        return x.mean(0).tolist(), x.std(0, correction=0).tolist()

    def evaluation_grid(self, n: int = 100) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
        """Points of an n x n (or n) linspace grid, the exact solution there, and the grid's shape."""
        x, shape = grid(self.domain.low.tolist(), self.domain.high.tolist(), n)
        return x, self.exact(x), shape

    def __repr__(self) -> str:
        """``Name(p=value, ...)`` of the parameters (the dataclass fields); a field declared ``repr=False`` is shown
        only where it departs from its default, so that adding a parameter keeps every earlier run's key."""
        if not dataclasses.is_dataclass(self):
            return f"{type(self).__name__}()"
        shown = [f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self)
                 if f.repr or getattr(self, f.name) != f.default]
        return f"{type(self).__name__}({', '.join(shown)})"


# Every problem by its name: the command line, ``get_problem`` and the conformance tests (tests/test_conformance.py)
# know a problem from here. ``problems/__init__.py`` declares the library's own; ``@register_problem`` adds another.
PROBLEMS = Registry("problem")
register_problem = PROBLEMS.register


def get_problem(name: str, **params: float) -> Problem:
    """The problem called ``name`` (see ``PROBLEMS``), built with its parameters."""
    return PROBLEMS[choose("problem", name, PROBLEMS)](**params)


def problem_parameters(name: str) -> dict[str, inspect.Parameter]:
    """The parameters of problem ``name``, each with its default and its type (``int`` or ``float``) as annotation."""
    cls = PROBLEMS[choose("problem", name, PROBLEMS)]
    types = typing.get_type_hints(cls.__init__)
    return {p.name: p.replace(annotation=types[p.name]) for p in inspect.signature(cls).parameters.values()}
