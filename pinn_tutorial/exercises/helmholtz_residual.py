"""Chapter 9's exercise: the Helmholtz residual (paper section 2.2), written with autograd.

The learner writes ``helmholtz_residual(net, xy, a1, a2, k)`` returning, at each of the N points of ``xy`` (shape
(N, 2), columns x and y), r_theta = u_xx + u_yy + k^2 u - q with u = u_theta the network's output, and the forcing
q = (k^2 - (a1 pi)^2 - (a2 pi)^2) sin(a1 pi x) sin(a2 pi y) of the exact solution u = sin(a1 pi x) sin(a2 pi y).
The check compares it with ``Helmholtz.residual`` on two networks (k = 0 first, so that the k^2 u term is tested
apart from the rest), with zero on the exact solution, and compares the parameter gradients of the mean squared
residual with the library's (training differentiates the residual with respect to the weights).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..networks import MLP, ModifiedMLP
from ..problems import Helmholtz
from . import CaseFailed, CheckResult, expect_close, run_cases

NAME = "ch09-helmholtz-residual"


def _points(n: int, seed: int) -> torch.Tensor:
    """n points in [-1, 1]^2, double precision, drawn without touching the learner's random stream."""
    generator = torch.Generator().manual_seed(seed)
    return 2 * torch.rand(n, 2, generator=generator, dtype=torch.float64) - 1


def _network(problem: Helmholtz, gated: bool, seed: int) -> torch.nn.Module:
    with torch.random.fork_rng():  # the learner's own random stream is left as it was
        torch.manual_seed(seed)
        kind = ModifiedMLP if gated else MLP
        return kind([2, 20, 20, 1], *problem.input_scaling()).double()


def check(helmholtz_residual: Callable) -> CheckResult:
    """Pass when ``helmholtz_residual(net, xy, a1, a2, k)`` gives the library's residual on two networks, 0 on the
    exact solution, and the library's parameter gradients of the mean squared residual."""
    xy = _points(12, seed=3)

    def on_network(a1: float, a2: float, k: float, gated: bool, seed: int, hint: str) -> Callable[[], None]:
        def case() -> None:
            problem = Helmholtz(a1=a1, a2=a2, k=k)
            net = _network(problem, gated, seed)
            expected = problem.residual(net, xy.clone()).detach()
            got = helmholtz_residual(net, xy.clone(), a1, a2, k)
            if isinstance(got, torch.Tensor) and got.dim() == 2 and got.shape[0] == got.shape[1] == len(xy) > 1:
                raise CaseFailed(f"r has shape {tuple(got.shape)}, a table: the network's output u has shape (N, 1) "
                                 "and the derivatives (N,); reshape u to (N,) before adding them.")
            expect_close(f"r for (a1, a2, k) = ({a1:g}, {a2:g}, {k:g})", got, expected, hint, rtol=1e-6, atol=1e-8)
        return case

    def on_exact_solution() -> None:
        a1, a2, k = 2.0, 1.0, 3.0
        problem = Helmholtz(a1=a1, a2=a2, k=k)
        got = helmholtz_residual(problem.exact, xy.clone(), a1, a2, k)
        expect_close("r of the exact solution", got, torch.zeros(len(xy), dtype=torch.float64),
                     "u = sin(a1 pi x) sin(a2 pi y) solves the equation, so its residual must vanish: is q the "
                     "forcing of the exact solution, with the same a1, a2 and k?", atol=1e-8)

    def parameter_gradients() -> None:
        problem = Helmholtz(a1=1.0, a2=4.0, k=1.0)
        net = _network(problem, gated=False, seed=2)
        params = list(net.parameters())
        expected = torch.autograd.grad(problem.residual(net, xy.clone()).pow(2).mean(), params)
        got = helmholtz_residual(net, xy.clone(), 1.0, 4.0, 1.0)
        if not isinstance(got, torch.Tensor) or not got.requires_grad:
            raise CaseFailed("the residual must stay differentiable with respect to the network's weights "
                             "(training differentiates it): do not detach it, and keep create_graph=True.")
        grads = torch.autograd.grad(got.pow(2).mean(), params, allow_unused=True)
        for name, g, e in zip([n for n, _ in net.named_parameters()], grads, expected):
            expect_close(f"d(mean r^2)/d({name})", torch.zeros_like(e) if g is None else g, e,
                         "the values are right, but their gradient with respect to the weights is not: pass "
                         "create_graph=True to both torch.autograd.grad calls, so that the second derivatives "
                         "stay part of the graph.", rtol=1e-6, atol=1e-8)

    return run_cases(NAME, [
        on_network(1.0, 4.0, 0.0, gated=False, seed=0,
                   hint="With k = 0 the residual is u_xx + u_yy - q: are u_xx and u_yy the pure second derivatives "
                        "(column 0 of the derivative of u_x, column 1 of that of u_y), and is q = "
                        "(k^2 - (a1 pi)^2 - (a2 pi)^2) sin(a1 pi x) sin(a2 pi y)?"),
        on_network(1.0, 4.0, 2.0, gated=True, seed=1,
                   hint="With k = 0 your residual was right, so look at the k^2 u term: it is added, +k^2 u, and "
                        "k is squared (in q too)."),
        on_exact_solution,
        parameter_gradients,
    ], "the residual agrees with the library's on two networks, vanishes on the exact solution, and trains alike.")
