r"""Chapter 15's exercise on causal training: the weights of the time chunks.

The learner writes ``causal_weights(chunk_losses, epsilon)``: from the residual losses L_r(t_1), ..., L_r(t_M) of
the M time chunks, in time order, it returns

    w_i = exp(-epsilon sum_{k<i} L_r(t_k)),   so that w_1 = 1,

held constant in the gradient (no gradient flows through the weights). The check compares it with a hand
computation, with ``CausalTraining.causal_weights`` of the library, and asks that the result carries no gradient.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..problems import KleinGordon
from ..problems.causal import CausalTraining
from . import CaseFailed, CheckResult, expect_close, run_cases

NAME = "ch15-causal-weights"

FORMULA = "w_i = exp(-epsilon * (L_1 + ... + L_{i-1})): the losses of the chunks before chunk i, times -epsilon."


def _weights(causal_weights: Callable, losses: torch.Tensor, epsilon: float) -> torch.Tensor:
    got = causal_weights(losses, epsilon)
    if not isinstance(got, torch.Tensor):
        raise CaseFailed(f"return a tensor of weights, one per chunk; got {type(got).__name__}")
    if got.shape != losses.shape:
        raise CaseFailed(f"the weights have shape {tuple(got.shape)}; return one per chunk, "
                         f"shape {tuple(losses.shape)}")
    return got


def check(causal_weights: Callable) -> CheckResult:
    """Pass when ``causal_weights(chunk_losses, epsilon)`` gives w_i = exp(-epsilon sum_{k<i} L_k), without gradient."""

    def by_hand() -> None:
        losses = torch.tensor([1.0, 2.0, 3.0, 4.0])
        got = _weights(causal_weights, losses, 0.5)
        expected = torch.exp(-0.5 * torch.tensor([0.0, 1.0, 3.0, 6.0]))  # the sums before each chunk: 0, 1, 1+2, 1+2+3
        if abs(float(got[0]) - 1.0) > 1e-6:
            raise CaseFailed(f"w_1 is {float(got[0]):.4g}, but the first chunk has no chunk before it, so w_1 = 1: "
                             "the sum runs over k < i, not k <= i.")
        expect_close("w for L = (1, 2, 3, 4), epsilon = 0.5", got, expected, FORMULA)

    def without_gradient() -> None:
        losses = torch.tensor([0.5, 0.2, 0.1], requires_grad=True)
        got = _weights(causal_weights, losses, 1.0)
        if got.requires_grad:
            raise CaseFailed("the weights carry a gradient: they must be held constant when the loss is "
                             "differentiated (compute them from chunk_losses.detach()).")

    def against_library(epsilon: float, seed: int) -> Callable[[], None]:
        def case() -> None:
            generator = torch.Generator().manual_seed(seed)
            losses = 10 * torch.rand(16, generator=generator, dtype=torch.float64)
            expected = CausalTraining(KleinGordon(), epsilon=epsilon, chunks=16).causal_weights(losses)
            got = _weights(causal_weights, losses, epsilon)
            expect_close(f"w for 16 chunks, epsilon = {epsilon:g}", got, expected, FORMULA, rtol=1e-6, atol=1e-12)
        return case

    return run_cases(NAME, [by_hand, without_gradient, against_library(0.01, 0), against_library(1.0, 1)],
                     "the weights agree with a hand computation and with the library's CausalTraining, "
                     "and carry no gradient.")
