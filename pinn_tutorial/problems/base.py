"""The one interface every PDE problem offers the trainer.

A problem knows its domain, how to draw a batch of points for each loss term, the loss terms
themselves (``residual`` first, then the boundary or initial terms that Algorithm 1 weights),
its exact or reference solution, and an evaluation grid. The trainer knows nothing else.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable

import torch

from ..config import ConfigError
from ..sampling import BoxSampler, grid

Field = Callable[[torch.Tensor], torch.Tensor]
Batch = dict[str, torch.Tensor]
MAX_FREQUENCY = 1e3  # a bound on a problem's frequencies: far past what a network here resolves, far below overflow


def mse(r: torch.Tensor) -> torch.Tensor:
    """Mean squared value of a residual, (1/N) sum_n r_n^2."""
    return r.pow(2).mean()


def check_finite(**parameters: float) -> None:
    """A ValueError naming the first parameter that is not a finite number (NaN passes every comparison)."""
    for name, value in parameters.items():
        if not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value}")


class Problem(ABC):
    """A PDE on a box with its loss terms.

    Subclasses set ``name``, ``terms`` (loss term names, ``"residual"`` first), ``domain``
    (a BoxSampler for the interior), ``default_layers`` (the network the paper uses) and
    implement ``sample``, ``losses`` and ``exact``.
    """

    name: str
    terms: tuple[str, ...]
    domain: BoxSampler
    default_layers: list[int]
    # Algorithm 1's pooling in the original code for this problem (None: the form's own).
    annealing_pooling: str | None = None
    # Whether torch.compile can take the loss terms whole (False where nested autograd is inside).
    compilable = True

    @property
    def weighted_terms(self) -> tuple[str, ...]:
        """The terms that carry a weight lambda_i; the residual's weight is always 1."""
        return self.terms[1:]

    @abstractmethod
    def sample(self, batch_size: int, generator: torch.Generator | None = None) -> Batch:
        """A fresh batch: for each named point set, ``batch_size`` points on the CPU."""

    @abstractmethod
    def losses(self, net: Field, batch: Batch) -> dict[str, torch.Tensor]:
        """The unweighted loss terms, a scalar for each name in ``terms``."""

    @abstractmethod
    def exact(self, x: torch.Tensor) -> torch.Tensor:
        """The exact (or reference) solution at points x, shape (N, outputs)."""

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
        return f"{type(self).__name__}()"
