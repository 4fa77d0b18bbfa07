"""Chapter 12's exercise: the momentum residual of the stream-function formulation (paper section 3.5), by autograd.

The learner writes ``momentum_residual(net, xy, re)``: the network maps the N points of ``xy`` (shape (N, 2), columns
x and y) to (psi, p), shape (N, 2); with u = psi_y and v = -psi_x the function returns, shape (N, 2), the residuals
of the two momentum equations (Eq. 56),

    r_u = u u_x + v u_y + p_x - (u_xx + u_yy) / Re,     r_v = u v_x + v v_y + p_y - (v_xx + v_yy) / Re,

which hold third derivatives of psi. The check compares it with ``CavityStreamFunction.residual`` (the library's
Taylor mode to third order) on two networks: first at a Reynolds number so large that the viscous term does not
count, so that the velocity, its first derivatives and the pressure gradient are tested apart from the rest, then
at Re = 100 on a gated network; and it compares the parameter gradients of the mean squared residual with the
library's (training differentiates the residual with respect to the weights).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..networks import MLP, ModifiedMLP
from ..problems import CavityStreamFunction
from . import CaseFailed, CheckResult, expect_close, run_cases

NAME = "ch12-stream-residual"


def _points(n: int, seed: int) -> torch.Tensor:
    """n points in the unit square, double precision, drawn without touching the learner's random stream."""
    return torch.rand(n, 2, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _network(problem: CavityStreamFunction, gated: bool, seed: int) -> torch.nn.Module:
    with torch.random.fork_rng():  # the learner's own random stream is left as it was
        torch.manual_seed(seed)
        kind = ModifiedMLP if gated else MLP
        net = kind([2, 16, 16, 2], *problem.input_scaling()).double()
        for p in net.parameters():  # biases too, so that every derivative is far from zero
            torch.nn.init.normal_(p, std=0.5)
        return net


def check(momentum_residual: Callable) -> CheckResult:
    """Pass when ``momentum_residual(net, xy, re)`` gives the library's residual on two networks and the library's
    parameter gradients of the mean squared residual."""
    xy = _points(12, seed=5)

    def on_network(re: float, gated: bool, seed: int, hint: str) -> Callable[[], None]:
        def case() -> None:
            problem = CavityStreamFunction(re=re)
            net = _network(problem, gated, seed)
            expected = problem.residual(net, xy.clone()).detach()
            got = momentum_residual(net, xy.clone(), re)
            expect_close(f"(r_u, r_v) at Re = {re:g}", got, expected, hint, rtol=1e-6, atol=1e-8)
        return case

    def parameter_gradients() -> None:
        problem = CavityStreamFunction(re=100.0)
        net = _network(problem, gated=False, seed=2)
        params = list(net.parameters())
        expected = torch.autograd.grad(problem.residual(net, xy.clone()).pow(2).mean(), params, allow_unused=True,
                                       materialize_grads=True)
        got = momentum_residual(net, xy.clone(), 100.0)
        if not isinstance(got, torch.Tensor) or not got.requires_grad:
            raise CaseFailed("the residual must stay differentiable with respect to the network's weights "
                             "(training differentiates it): do not detach it, and keep create_graph=True.")
        grads = torch.autograd.grad(got.pow(2).mean(), params, allow_unused=True, materialize_grads=True)
        for name, g, e in zip([n for n, _ in net.named_parameters()], grads, expected):
            expect_close(f"d(mean r^2)/d({name})", g, e,
                         "the values are right, but their gradient with respect to the weights is not: pass "
                         "create_graph=True to every torch.autograd.grad call, so that the derivatives stay part of "
                         "the graph.", rtol=1e-6, atol=1e-8)

    return run_cases(NAME, [
        on_network(1e12, gated=False, seed=0,
                   hint="At this Reynolds number the viscous term does not count: the residual is u u_x + v u_y + "
                        "p_x (and the same for v). Are u = psi_y and v = -psi_x (mind the sign), and is the pressure "
                        "the network's second output, column 1?"),
        on_network(100.0, gated=True, seed=1,
                   hint="Without viscosity your residual was right, so look at the viscous term: it is subtracted, "
                        "(u_xx + u_yy) / Re, with u_xx the derivative of u_x along x (column 0) and u_yy that of u_y "
                        "along y (column 1), and the same for v."),
        parameter_gradients,
    ], "the residual agrees with the library's with and without viscosity, on a plain and a gated network, and "
       "trains alike.")
