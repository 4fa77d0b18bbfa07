"""Chapter 4's exercise: one update of the boundary weight by Algorithm 1 as printed (paper Eqs. 40-41).

The learner writes ``annealing_update(lam, grads_r, grads_b, alpha)``: given the current weight lambda, the
gradients of L_r and of the unweighted L_b (one tensor per layer) and the moving-average factor alpha, it returns

    lambda_hat = max |grad L_r| / mean |grad L_b|        (Eq. 40: the max and the mean over all entries of all layers)
    lambda_new = (1 - alpha) lambda + alpha lambda_hat    (Eq. 41: alpha is the weight of the new estimate)

The check compares it with the library's ``LearningRateAnnealing(form="paper")`` on hand-made gradients and on the
gradients of a small Helmholtz network.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from ..weighting import LearningRateAnnealing, StepContext
from . import CaseFailed, CheckResult, expect_close, helmholtz_gradients, run_cases

NAME = "ch04-annealing-update"


def _library(lam: float, grads_r: Sequence[torch.Tensor], grads_b: Sequence[torch.Tensor], alpha: float) -> float:
    """The weight after one update of the library's printed form of Algorithm 1, from ``lam``."""
    annealing = LearningRateAnnealing(["boundary"], form="paper", alpha=alpha)
    annealing.weights["boundary"] = lam
    annealing.update(StepContext(gradients={"residual": grads_r, "boundary": grads_b}))
    return annealing.weights["boundary"]


def check(annealing_update: Callable) -> CheckResult:
    """Pass when ``annealing_update(lam, grads_r, grads_b, alpha)`` gives the library's new weight in four cases."""

    def compare(name: str, lam: float, grads_r: list, grads_b: list, alpha: float, hint: str) -> None:
        expected = torch.tensor(_library(lam, grads_r, grads_b, alpha), dtype=torch.float64)
        got = annealing_update(lam, [g.clone() for g in grads_r], [g.clone() for g in grads_b], alpha)
        if isinstance(got, tuple | list):
            raise CaseFailed("return the new weight alone, one number")
        expect_close(name, got, expected, hint, rtol=1e-5)

    def estimate() -> None:
        # alpha = 1/2 weighs old and new alike, so only the estimate lambda_hat is tested here.
        grads_r = [torch.tensor([[1.0, -3.0], [2.0, 0.0]])]
        grads_b = [torch.tensor([[0.5, -0.5], [1.0, -2.0]])]
        compare("the new weight (one layer, alpha = 0.5)", 1.0, grads_r, grads_b, 0.5,
                "Check lambda_hat first: the LARGEST absolute entry of the residual's gradient over the MEAN "
                "absolute entry of the boundary's (absolute values in both).")

    def pooled() -> None:
        grads_r = [torch.tensor([[0.2, -0.1, 0.4]]), torch.tensor([[1.0], [-5.0]]), torch.zeros(1, 6)]
        grads_b = [torch.tensor([[0.1, 0.1, 0.1]]), torch.tensor([[-2.0], [4.0]]),
                   torch.tensor([[0.3, -0.3, 0.3, -0.3, 0.3, -0.3]])]
        compare("the new weight (three layers of different sizes, alpha = 0.5)", 2.0, grads_r, grads_b, 0.5,
                "Take the max over the entries of every layer, and the mean over all entries of all layers "
                "together, as Eq. 40 reads (not the mean of the per-layer means).")

    def moving_average() -> None:
        grads_r = [torch.tensor([[4.0, -8.0]]), torch.tensor([[1.0]])]
        grads_b = [torch.tensor([[0.5, -1.5]]), torch.tensor([[1.0]])]
        for alpha in (0.9, 0.1):
            compare(f"the new weight (alpha = {alpha})", 3.0, grads_r, grads_b, alpha,
                    "alpha is the weight of the NEW estimate: lambda <- (1 - alpha) lambda + alpha lambda_hat "
                    "(Eq. 41); with alpha = 0.9 the new weight lies close to lambda_hat.")

    def on_network() -> None:
        grads = helmholtz_gradients()
        compare("the new weight (a Helmholtz network's gradients, alpha = 0.9)", 5.0, grads["residual"],
                grads["boundary"], 0.9, "Your function agrees on the small cases but not here: does it handle "
                "gradients of any shape, and every layer of the list?")

    return run_cases(NAME, [estimate, pooled, moving_average, on_network],
                     "your update agrees with the library's printed form of Algorithm 1 on hand-made gradients and "
                     "on a network's.")
