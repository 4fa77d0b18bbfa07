"""Causal training for time-dependent problems (Wang, Sankaran & Perdikaris, "Respecting causality
for training physics-informed neural networks", CMAME 2024; arXiv:2203.07404).

A PINN of an evolution equation sees the residual at all times at once, and may fit late times
before the early ones they depend on. Causal training splits the time interval into M chunks,
t_1 < ... < t_M, and weights the residual loss of chunk i by how well the earlier chunks are fitted:

    L_r = (1/M) sum_i w_i L_r(t_i),    w_i = exp(-epsilon sum_{k<i} L_r(t_k)),   w_1 = 1,

with the weights w_i held constant when differentiating (no gradient flows through them). Chunk i
enters the loss in earnest only once the residual before it is small; epsilon sets how small.
"""

from __future__ import annotations

import torch

from ..config import ConfigError
from .base import Batch, Field, Problem, TimeDependent
from .klein_gordon import KleinGordon


class CausalTraining(Problem):
    """``problem`` with its residual loss replaced by the causally weighted one (module docstring).

    The residual points are drawn stratified in time, ``batch_size / chunks`` per chunk, so that
    every chunk's loss L_r(t_i) is a mean over the same number of points. Everything else (the
    residual itself, the conditions and their terms, the exact solution, the evaluation grid) is the
    wrapped problem's. ``problem`` must declare itself ``TimeDependent``; ``time_axis``, the input
    column that holds time, is the one it declares unless given.
    """

    def __init__(self, problem: Problem, epsilon: float = 1.0, chunks: int = 16, time_axis: int | None = None):
        if not isinstance(problem, TimeDependent):
            raise TypeError(f"causal training needs a time-dependent problem (one that declares TimeDependent, with "
                            f"its residual(net, x) and its conditions for data_losses); {type(problem).__name__} "
                            "is not")
        if not epsilon > 0:  # NaN too
            raise ValueError(f"epsilon must be positive, got {epsilon}")
        if chunks < 1 or int(chunks) != chunks:
            raise ValueError(f"chunks must be a positive integer, got {chunks}")
        self.problem, self.epsilon, self.chunks = problem, float(epsilon), int(chunks)
        self.time_axis = problem.time_axis if time_axis is None else time_axis
        self.name = f"{problem.name}_causal"
        self.domain, self.conditions, self.residual = problem.domain, problem.conditions, problem.residual
        self.default_layers, self.annealing_pooling = problem.default_layers, problem.annealing_pooling
        self.compilable = problem.compilable
        self.takes_point_weights = False  # its chunks weigh the residual already

    def check_batch_size(self, batch_size: int) -> None:
        """The same number of residual points in every chunk: the batch size must be a multiple of ``chunks``."""
        super().check_batch_size(batch_size)
        if batch_size % self.chunks:
            raise ConfigError(f"the batch size ({batch_size}) must be a multiple of the number of time chunks "
                              f"({self.chunks})")

    def sample(self, batch_size: int, generator: torch.Generator | None = None) -> Batch:
        self.check_batch_size(batch_size)
        batch = self.problem.sample(batch_size, generator)
        x = batch["residual"].clone()
        low, high = self.domain.low[self.time_axis], self.domain.high[self.time_axis]
        s = (x[:, self.time_axis] - low) / (high - low)  # uniform in [0, 1): its place within a chunk
        chunk = torch.arange(batch_size, dtype=x.dtype) // (batch_size // self.chunks)
        x[:, self.time_axis] = low + (chunk + s) / self.chunks * (high - low)
        batch["residual"] = x
        return batch

    def chunk_losses(self, net: Field, x: torch.Tensor) -> torch.Tensor:
        """L_r(t_i), the mean squared residual of each time chunk, for points stratified as ``sample`` draws them."""
        return self.residual(net, x).pow(2).reshape(self.chunks, -1).mean(dim=1)

    def causal_weights(self, chunk_losses: torch.Tensor) -> torch.Tensor:
        """w_i = exp(-epsilon sum_{k<i} L_r(t_k)), without gradient."""
        before = torch.cumsum(chunk_losses.detach(), dim=0) - chunk_losses.detach()
        return torch.exp(-self.epsilon * before)

    def residual_loss(self, net: Field, x: torch.Tensor, weights: None = None) -> torch.Tensor:
        """L_r = (1/M) sum_i w_i L_r(t_i); it takes no weights of points (``takes_point_weights`` is False)."""
        if weights is not None:
            raise ValueError("causal training weighs the residual by time chunks; it takes no weights of points")
        per_chunk = self.chunk_losses(net, x)
        return (self.causal_weights(per_chunk) * per_chunk).mean()

    def exact(self, x: torch.Tensor) -> torch.Tensor:
        return self.problem.exact(x)

    def predict(self, net: Field, x: torch.Tensor) -> torch.Tensor:
        return self.problem.predict(net, x)

    def input_scaling(self) -> tuple[list[float], list[float]]:
        return self.problem.input_scaling()

    def evaluation_grid(self, n: int = 100) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
        return self.problem.evaluation_grid(n)

    def __repr__(self) -> str:
        return f"CausalTraining({self.problem!r}, epsilon={self.epsilon:g}, chunks={self.chunks})"


class CausalKleinGordon(CausalTraining):
    """The paper's Klein-Gordon benchmark trained causally: ``klein_gordon_causal`` on the command line.

    epsilon = 0.01 is the first value of the schedule in the causality paper's code
    (``reproduction.paper.CAUSAL_CODE_EPSILONS``). Its size matters here because the Klein-Gordon residual loss starts
    large: a large epsilon makes w_i = exp(-epsilon sum_{k<i} L_r(t_k)) vanish for all but the first chunks,
    which then never enter the loss. (That code also puts the initial-condition loss, scaled, inside every
    weight's exponent; this class weights the residual chunks only.) The default-budget runs for epsilon = 1,
    0.1 and 0.01 are in ``results/`` (``klein_gordon_causal*``), compared in chapter 13 of the book.
    """

    # On the class too, so that the name and the paper's network are known without building the problem.
    name = "klein_gordon_causal"
    default_layers = KleinGordon.default_layers

    def __init__(self, epsilon: float = 0.01, chunks: int = 16):
        super().__init__(KleinGordon(), epsilon=epsilon, chunks=chunks, time_axis=0)
