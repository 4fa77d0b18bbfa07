r"""Chapter 13's exercise on SoftAdapt: the weights from two steps' loss values.

The learner writes ``softadapt_weights(losses, previous, beta)``: from the loss values of every term now
(``losses``, a dict term -> float, the residual's included) and at the last update (``previous``) it returns the
weights of every term,

    s_k     = (L_k - L'_k) / (sum_l |L_l - L'_l| + eps),          eps = 1e-8,
    alpha_k = L_k exp(beta s_k) / sum_l L_l exp(beta s_l),

SoftAdapt's loss-weighted variant with normalised slopes (Heydari, Thompson & Mehmood 2019, sections 3.1.1 and
3.1.2), as the library's ``weighting.softadapt.softadapt_weights`` computes them: the weights sum to 1. The check
compares with a hand computation and with the library.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ..weighting.softadapt import softadapt_weights as library_weights
from . import CaseFailed, CheckResult, expect_close, run_cases

NAME = "ch13-softadapt"


def check(softadapt_weights: Callable) -> CheckResult:
    """Pass when ``softadapt_weights`` gives the weights of the module docstring on three cases."""

    def weights_of(losses: dict, previous: dict, beta: float) -> dict:
        got = softadapt_weights(dict(losses), dict(previous), beta)
        if not isinstance(got, dict) or set(got) != set(losses):
            raise CaseFailed(f"return a dict with one weight per term, {sorted(losses)}; got {got!r:.80}")
        return {k: float(v) for k, v in got.items()}

    def compare(case: str, got: dict, expected: dict, hint: str) -> None:
        terms = sorted(expected)
        expect_close(case, torch.tensor([got[t] for t in terms], dtype=torch.float64),
                     torch.tensor([expected[t] for t in terms], dtype=torch.float64), hint, rtol=1e-6, atol=1e-12)

    def by_hand() -> None:
        # Residual 100 -> 90 (change -10), boundary 1 -> 1.5 (change +0.5): slopes -10/10.5 and 0.5/10.5.
        losses, previous, beta = {"residual": 90.0, "boundary": 1.5}, {"residual": 100.0, "boundary": 1.0}, 2.0
        total = 10.5 + 1e-8
        scaled = {"residual": 90.0 * math.exp(beta * -10.0 / total), "boundary": 1.5 * math.exp(beta * 0.5 / total)}
        expected = {k: v / sum(scaled.values()) for k, v in scaled.items()}
        got = weights_of(losses, previous, beta)
        if abs(sum(got.values()) - 1) > 1e-6:
            raise CaseFailed(f"your weights sum to {sum(got.values()):.4g}: divide by the sum over the terms, so "
                             "that they sum to 1.")
        compare("the weights (residual 100 -> 90, boundary 1 -> 1.5, beta = 2)", got, expected,
                "each term's weight is its loss L_k times exp(beta s_k), with the slope s_k = its change divided by "
                "the sum of the absolute changes of all terms; then divide by the sum over the terms.")

    def against_library(beta: float, seed: int) -> Callable[[], None]:
        def case() -> None:
            generator = torch.Generator().manual_seed(seed)
            terms = ("residual", "boundary", "initial")
            previous = {t: float(v) for t, v in zip(terms, 10 ** (4 * torch.rand(3, generator=generator) - 2))}
            losses = {t: v * float(0.5 + torch.rand((), generator=generator)) for t, v in previous.items()}
            compare(f"the weights of three terms (beta = {beta:g})", weights_of(losses, previous, beta),
                    library_weights(losses, previous, beta),
                    "the slopes are normalised by the sum of the absolute changes of ALL terms, and every term's "
                    "exponential is multiplied by its own loss value.")
        return case

    return run_cases(NAME, [by_hand, against_library(0.1, 0), against_library(5.0, 1)],
                     "your weights agree with a hand computation and with the library's softadapt_weights.")
