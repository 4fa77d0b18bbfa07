"""Chapter 1's exercise: the two loss terms of the 1-D Poisson PINN (paper Eq. 11), written with autograd.

The learner writes ``poisson_losses(net, x_r, C)`` returning ``(loss_r, loss_b)``:
L_r = (1/N_r) sum_i r(x_i)^2 with r = u_xx - g and g = -C^2 sin(C x), and
L_b = (1/2) [(u(0) - 0)^2 + (u(1) - sin C)^2]. The check compares them with ``Poisson1D.losses`` on a network
and with zero on the exact solution.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..networks import MLP
from ..problems import Poisson1D
from . import CaseFailed, CheckResult, expect_close, run_cases

NAME = "ch01-poisson-losses"


def check(poisson_losses: Callable) -> CheckResult:
    """Pass when ``poisson_losses(net, x_r, C)`` gives the library's (L_r, L_b) on two networks and 0 on u = sin(Cx)."""
    x_r = torch.linspace(0.05, 0.95, 9).reshape(-1, 1)

    def on_network(C: float, seed: int) -> Callable[[], None]:
        def case() -> None:
            problem = Poisson1D(C=C)
            with torch.random.fork_rng():  # the learner's own random stream is left as it was
                torch.manual_seed(seed)
                net = MLP([1, 20, 20, 1], *problem.input_scaling())
            expected = problem.losses(net, {"residual": x_r, "boundary": problem.x_b})
            got = poisson_losses(net, x_r.clone(), C)
            if not isinstance(got, tuple | list) or len(got) != 2:
                raise CaseFailed("return the two terms as a pair, (loss_r, loss_b)")
            expect_close(f"L_r (C = {C:g})", got[0], expected["residual"].detach(),
                         "Is r = u'' - g with g = -C^2 sin(Cx)? Check the sign, and that you square and then average.")
            expect_close(f"L_b (C = {C:g})", got[1], expected["boundary"].detach(),
                         "L_b is the mean of (u - h)^2 over x = 0 and x = 1, with h(0) = 0 and h(1) = sin C.")
        return case

    def on_exact_solution() -> None:
        C = 3.0
        got = poisson_losses(lambda x: torch.sin(C * x), x_r.clone(), C)
        expect_close("L_r of the exact solution", got[0], torch.tensor(0.0), "u = sin(Cx) solves the equation, so its"
                     " residual must vanish: compute u'' with autograd, keeping the graph (create_graph=True).",
                     atol=1e-5)
        expect_close("L_b of the exact solution", got[1], torch.tensor(0.0), "u = sin(Cx) meets both boundary values.",
                     atol=1e-6)

    return run_cases(NAME, [on_network(4.0, 0), on_network(8.0, 1), on_exact_solution],
                     "both loss terms agree with the library's on two networks, and vanish on the exact solution.")
