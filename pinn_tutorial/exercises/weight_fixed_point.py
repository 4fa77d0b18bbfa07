"""Chapter 5's exercise: where the weight of Algorithm 1 settles, by iterating its moving average on a ratio that
stands still.

The learner writes ``settle(r, weighted, alpha, updates)``: starting from lambda = 1, it applies ``updates`` updates
of Eq. 41 with a constant ratio r and returns the weight,

    lambda_hat = r / lambda   if ``weighted`` (the coded form: the denominator reads the gradient of lambda L_b)
    lambda_hat = r            otherwise (the printed form: the gradient of the unweighted L_b)
    lambda    <- (1 - alpha) lambda + alpha lambda_hat        (alpha is the weight of the new estimate)

so that many updates give the fixed point, r or sqrt(r). The check compares it with the formula over a few updates,
with the fixed points after many, and with the library's ``LearningRateAnnealing`` fed the same gradients of a small
Helmholtz network again and again.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ..weighting import ANNEALING_FORMS, LearningRateAnnealing, StepContext
from . import CaseFailed, CheckResult, expect_close, helmholtz_gradients, run_cases

NAME = "ch05-fixed-point"


def _updates(r: float, weighted: bool, alpha: float, updates: int) -> float:
    """The weight after ``updates`` updates from 1, computed here as the check's expected value."""
    lam = 1.0
    for _ in range(updates):
        lam = (1 - alpha) * lam + alpha * (r / lam if weighted else r)
    return lam


def check(settle: Callable) -> CheckResult:
    """Pass when ``settle(r, weighted, alpha, updates)`` gives the weight after ``updates`` updates in five cases."""

    def compare(name: str, got: object, expected: float, hint: str, rtol: float = 1e-6) -> None:
        if isinstance(got, tuple | list):
            raise CaseFailed("return the weight alone, one number")
        expect_close(name, got, torch.tensor(expected, dtype=torch.float64), hint, rtol=rtol, atol=0.0)

    def one_update() -> None:
        # From lambda = 1 one update gives (1 - alpha) + alpha r, weighted or not (r / 1 = r).
        compare("the weight after one update (r = 50, alpha = 0.9)", settle(50.0, False, 0.9, 1), 0.1 + 0.9 * 50,
                "alpha is the weight of the NEW estimate: lambda <- (1 - alpha) lambda + alpha lambda_hat "
                "(Eq. 41), starting from lambda = 1.")

    def a_few_updates() -> None:
        for weighted in (False, True):
            form = "weighted (the coded form)" if weighted else "unweighted (the printed form)"
            compare(f"the weight after three updates, {form}, r = 50, alpha = 0.1",
                    settle(50.0, weighted, 0.1, 3), _updates(50.0, weighted, 0.1, 3),
                    "Each update computes lambda_hat from the CURRENT weight (r / lambda when weighted, r "
                    "otherwise), then takes the moving average; start from lambda = 1.")

    def no_updates() -> None:
        compare("the weight after zero updates", settle(50.0, True, 0.1, 0), 1.0, "The weight starts at 1.")

    def fixed_points() -> None:
        r = 400.0
        compare("the unweighted weight after 300 updates (r = 400, alpha = 0.1)", settle(r, False, 0.1, 300), r,
                "Unweighted, the estimate is r itself, and the weight settles there.", rtol=1e-4)
        compare("the weighted weight after 300 updates (r = 400, alpha = 0.1)", settle(r, True, 0.1, 300),
                math.sqrt(r), "Weighted, the estimate is r / lambda; it stands still where lambda = r / lambda.",
                rtol=1e-4)

    def against_the_library() -> None:
        grads = helmholtz_gradients()
        for name in ("paper", "code"):
            spec = ANNEALING_FORMS[name]
            annealing = LearningRateAnnealing(["boundary"], form=name)
            for _ in range(20):
                annealing.update(StepContext(gradients=grads))
            r = spec.ratio(grads["residual"], grads["boundary"])
            compare(f"the weight after 20 updates of the library's {name!r} form, on a network's gradients",
                    settle(r, spec.weighted, spec.alpha, 20), annealing.weights["boundary"],
                    "Your function agrees on the small cases but not with the library: is the weight held in a "
                    "float from start to end, and does it accept any positive r?", rtol=1e-5)

    return run_cases(NAME, [one_update, a_few_updates, no_updates, fixed_points, against_the_library],
                     "your weight follows Eq. 41 update by update, settles at r (unweighted) and sqrt(r) "
                     "(weighted), and agrees with the library's two forms on a network's gradients.")
