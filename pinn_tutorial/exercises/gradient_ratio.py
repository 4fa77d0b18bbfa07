"""Chapter 2's exercise: the gradient ratio of the paper's Eq. 40, from the per-layer gradients of two loss terms.

The learner writes ``gradient_ratio(grads_r, grads_b)``: given one gradient tensor per weight matrix for the residual
term and for the boundary term, it returns

    lambda_hat = max_theta |grad_theta L_r| / mean_theta |grad_theta L_b|,

the largest absolute entry of the residual's gradients over all matrices, over the mean absolute entry of the
boundary's gradients over all entries of all matrices pooled (Eq. 40 as printed, the library's ``pooling="all"``).
The check compares it with ``weighting.annealing_estimate`` on a small hand case whose layers differ in size and on
the gradients of a Helmholtz network (``diagnostics.term_gradients``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ..diagnostics import term_gradients
from ..methods import build
from ..problems import Helmholtz
from ..weighting import annealing_estimate
from . import CaseFailed, CheckResult, expect_close, run_cases

NAME = "ch02-gradient-ratio"


def _hint(got: object, grads_r: list[torch.Tensor], grads_b: list[torch.Tensor]) -> str:
    """What the learner most likely did, judged from the number returned."""
    try:
        value = float(got)
    except (TypeError, ValueError, RuntimeError):
        return "Return one number (a float or a 0-d tensor)."
    expected = annealing_estimate(grads_r, grads_b, "all")
    by_layer = annealing_estimate(grads_r, grads_b, "layer_mean")
    if math.isclose(value, by_layer, rel_tol=1e-4):
        return ("That is the mean of the per-layer means: pool every entry of every matrix first, so that a large "
                "matrix counts with all its entries (Eq. 40's mean runs over all of theta).")
    if expected and math.isclose(value, 1 / expected, rel_tol=1e-4):
        return "Upside down: the residual's largest entry goes on top, the boundary's mean entry below."
    return ("Take absolute values before the max and the mean, the max over every entry of the residual's "
            "matrices, and the mean over every entry of the boundary's matrices pooled.")


def check(gradient_ratio: Callable) -> CheckResult:
    """Pass when ``gradient_ratio(grads_r, grads_b)`` gives Eq. 40's ratio on a hand case and on a real network."""

    def compare(label: str, grads_r: list[torch.Tensor], grads_b: list[torch.Tensor]) -> None:
        got = gradient_ratio([g.clone() for g in grads_r], [g.clone() for g in grads_b])
        expected = torch.tensor(annealing_estimate(grads_r, grads_b, "all"), dtype=torch.float64)
        try:
            expect_close(label, got, expected, "", rtol=1e-4, atol=0.0)
        except CaseFailed as failure:
            raise CaseFailed(f"{str(failure).rstrip()} {_hint(got, grads_r, grads_b)}") from None

    def by_hand() -> None:
        # Two "layers" of different sizes, signed entries: the residual's largest is -6; the boundary's mean
        # absolute entry over the six entries pooled is (0.8 + 3) / 6, not the mean of the layers' 0.2 and 1.5.
        grads_r = [torch.tensor([[1.0, -2.0], [0.5, 3.0]]), torch.tensor([[-6.0, 1.0]])]
        grads_b = [torch.tensor([[0.1, -0.1], [0.3, -0.3]]), torch.tensor([[1.0, -2.0]])]
        compare("the ratio of the hand case", grads_r, grads_b)

    def on_network() -> None:
        problem = Helmholtz(a1=1.0, a2=4.0, k=1.0)
        with torch.random.fork_rng():  # the learner's own random stream is left as it was
            net, _ = build("M1", problem, seed=3)
        grads = term_gradients(problem, net, problem.sample(64, torch.Generator().manual_seed(3)))
        compare("the ratio on a Helmholtz network's gradients", grads["residual"], grads["boundary"])

    return run_cases(NAME, [by_hand, on_network],
                     "your ratio equals Eq. 40's on a hand case and on the four weight matrices of a network.")
