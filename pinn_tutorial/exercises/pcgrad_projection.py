r"""Chapter 14's exercise on PCGrad: the direction of one step for two gradients.

The learner writes ``pcgrad_direction(g_r, g_b)``: for the gradients of the residual loss and of the boundary
loss, each one flat tensor, it returns PCGrad's direction (Yu et al. 2020, Algorithm 1) for two tasks,

    if g_r . g_b < 0:   g_r' = g_r - (g_r . g_b / ||g_b||^2) g_b,   g_b' = g_b - (g_b . g_r / ||g_r||^2) g_r
    else:               g_r' = g_r,                                  g_b' = g_b
    d = g_r' + g_b',

each gradient projected onto the plane normal to the OTHER's original gradient. The check compares with a hand
computation and with the library's ``PCGrad`` (through the ``conflictfree`` package).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..weighting.pcgrad import PCGrad
from . import CaseFailed, CheckResult, expect_close, run_cases

NAME = "ch14-pcgrad"


def check(pcgrad_direction: Callable) -> CheckResult:
    """Pass when ``pcgrad_direction`` gives PCGrad's direction (module docstring) on four cases."""

    def direction(g_r: torch.Tensor, g_b: torch.Tensor) -> torch.Tensor:
        got = pcgrad_direction(g_r.clone(), g_b.clone())
        if not isinstance(got, torch.Tensor):
            raise CaseFailed(f"return one tensor, the direction d; got {type(got).__name__}")
        return got

    def in_conflict() -> None:
        # g_r = (1, 0), g_b = (-1, 1): g_r . g_b = -1. g_r' = (1, 0) + (1/2)(-1, 1) = (1/2, 1/2),
        # g_b' = (-1, 1) + (1, 0) = (0, 1); d = (1/2, 3/2).
        g_r, g_b = torch.tensor([1.0, 0.0], dtype=torch.float64), torch.tensor([-1.0, 1.0], dtype=torch.float64)
        expect_close("d for g_r = (1, 0), g_b = (-1, 1)", direction(g_r, g_b),
                     torch.tensor([0.5, 1.5], dtype=torch.float64),
                     "in conflict (g_r . g_b < 0) EACH gradient loses its component along the other's ORIGINAL "
                     "gradient, and d is the sum of the two projected gradients (not their mean).")

    def in_agreement() -> None:
        g_r, g_b = torch.tensor([1.0, 0.0], dtype=torch.float64), torch.tensor([1.0, 1.0], dtype=torch.float64)
        expect_close("d for g_r = (1, 0), g_b = (1, 1), which agree", direction(g_r, g_b),
                     torch.tensor([2.0, 1.0], dtype=torch.float64),
                     "when g_r . g_b >= 0 nothing is projected: d = g_r + g_b.")

    def against_library(seed: int) -> Callable[[], None]:
        def case() -> None:
            generator = torch.Generator().manual_seed(seed)
            g_r = 50 * torch.randn(40, generator=generator, dtype=torch.float64)
            g_b = torch.randn(40, generator=generator, dtype=torch.float64) - 0.1 * g_r  # in conflict with g_r
            expected = PCGrad(["boundary"]).direction(torch.stack([g_r, g_b]))
            expect_close(f"d for two gradients of 40 entries (seed {seed})", direction(g_r, g_b), expected,
                         "project each gradient onto the plane normal to the other's original gradient, then add.",
                         rtol=1e-6, atol=1e-9)
        return case

    return run_cases(NAME, [in_conflict, in_agreement, against_library(0), against_library(1)],
                     "your direction agrees with a hand computation and with the library's PCGrad.")
