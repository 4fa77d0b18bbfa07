r"""Chapter 13's exercise on gradient-norm weighting: one update of a term's weight.

The learner writes ``gradient_norm_update(weight, residual_grads, term_grads, alpha)``: from the gradients of the
residual loss and of one other term (each a list of tensors, one per parameter tensor) it returns the new weight

    lambda_hat = ||grad L_r||_2 / ||grad L_i||_2,     lambda <- (1 - alpha) lambda + alpha lambda_hat,

each norm taken over every entry of every tensor, and ``alpha`` the weight of the NEW estimate (the convention of
Eq. 41 as chapter 4 and the library write it). The check compares it with one ``update`` of the library's
``GradientNormWeighting``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..weighting import GradientNormWeighting, StepContext
from . import CaseFailed, CheckResult, expect_close, run_cases

NAME = "ch13-gradient-norm-update"


def _library_update(weight: float, residual_grads: list, term_grads: list, alpha: float) -> float:
    weighting = GradientNormWeighting(["boundary"], alpha=alpha)
    weighting.weights["boundary"] = weight
    weighting.update(StepContext(gradients={"residual": residual_grads, "boundary": term_grads}))
    return weighting.weights["boundary"]


def _grads(generator: torch.Generator, scale: float) -> list[torch.Tensor]:
    """A gradient of a small network: one tensor per parameter tensor, of different shapes."""
    shapes = [(4, 2), (4,), (1, 4), (1,)]
    return [scale * torch.randn(shape, generator=generator, dtype=torch.float64) for shape in shapes]


def check(gradient_norm_update: Callable) -> CheckResult:
    """Pass when ``gradient_norm_update`` gives the library's new weight (module docstring) on three cases."""

    def new_weight(weight: float, residual: list, term: list, alpha: float) -> torch.Tensor:
        got = gradient_norm_update(weight, [g.clone() for g in residual], [g.clone() for g in term], alpha)
        if isinstance(got, torch.Tensor):
            got = got.detach()
            if got.numel() != 1:
                raise CaseFailed(f"return one number, the new weight; got a tensor of shape {tuple(got.shape)}")
            got = got.reshape(())
        return got

    def estimate_alone() -> None:
        # alpha = 1: the new weight is the estimate itself, whatever the old one was.
        generator = torch.Generator().manual_seed(0)
        residual, term = _grads(generator, 3.0), _grads(generator, 0.1)
        old = 7.0
        got = new_weight(old, residual, term, 1.0)
        expected = torch.tensor(_library_update(old, residual, term, 1.0), dtype=torch.float64)
        try:
            value = float(got)
        except (TypeError, ValueError) as error:
            raise CaseFailed(f"return one number, the new weight; got {type(got).__name__}") from error
        if abs(value - old) < 1e-9:
            raise CaseFailed("with alpha = 1 you returned the old weight: alpha is the weight of the NEW "
                             "estimate, lambda <- (1 - alpha) lambda + alpha lambda_hat (chapter 4's convention).")
        expect_close("the estimate (alpha = 1)", got, expected,
                     "lambda_hat = ||grad L_r|| / ||grad L_i||, each norm over every entry of every tensor of the "
                     "list (the square root of the sum of all squares, not a sum of per-tensor norms), residual "
                     "on top.", rtol=1e-6, atol=1e-9)

    def moving_average(alpha: float, seed: int) -> Callable[[], None]:
        def case() -> None:
            generator = torch.Generator().manual_seed(seed)
            residual, term = _grads(generator, 2.0), _grads(generator, 0.05)
            old = 50.0
            got = new_weight(old, residual, term, alpha)
            expected = torch.tensor(_library_update(old, residual, term, alpha), dtype=torch.float64)
            expect_close(f"the new weight (old weight {old:g}, alpha = {alpha:g})", got, expected,
                         "the moving average keeps 1 - alpha of the old weight and adds alpha times the estimate: "
                         "alpha weighs the NEW estimate.", rtol=1e-6, atol=1e-9)
        return case

    return run_cases(NAME, [estimate_alone, moving_average(0.1, 1), moving_average(0.3, 2)],
                     "your update agrees with the library's GradientNormWeighting, alpha on the new estimate.")
