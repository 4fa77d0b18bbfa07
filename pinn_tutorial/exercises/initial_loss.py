"""Chapter 10's exercise: the initial term of the Klein-Gordon loss (paper Eq. 54), written with autograd.

The learner writes ``initial_loss(net, x)``: for positions ``x`` of shape (N, 1) on the initial line t = 0, the
network takes the inputs (t, x) = (0, x), in that order, and
L_0 = mean_i (u(0, x_i) - g1(x_i))^2 + mean_i u_t(0, x_i)^2, with the initial data of the exact solution
u = x cos(5 pi t) + (x t)^3: g1(x) = u(0, x) = x and g2(x) = u_t(0, x) = 0 (the paper's text says g1 = 0, which
contradicts its exact solution). The check uses two fields whose L_0 is known by hand (u = x, and
u = x + t sin(pi x)), compares with ``KleinGordon.data_losses`` on a network, and compares the parameter gradients
of L_0 with the library's (training differentiates it with respect to the weights).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ..networks import MLP
from ..problems import KleinGordon
from . import CaseFailed, CheckResult, expect_close, run_cases

NAME = "ch10-initial-loss"


def _positions(n: int) -> torch.Tensor:
    return torch.linspace(0.0, 1.0, n, dtype=torch.float64).reshape(-1, 1)


def _library_loss(problem: KleinGordon, net: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The library's L_0 at the points (0, x) (the boundary terms it also returns are not used)."""
    start = torch.cat([torch.zeros_like(x), x], dim=1)
    edge = torch.tensor([[0.5, 0.0], [0.5, 1.0]], dtype=x.dtype)
    return problem.data_losses(net, {"x0": edge[:1], "x1": edge[1:], "initial": start})["initial"]


def check(initial_loss: Callable) -> CheckResult:
    """Pass when ``initial_loss(net, x)`` gives L_0 by hand on two fields, the library's L_0 on a network, and the
    library's parameter gradients of L_0."""
    x = _positions(11)
    problem = KleinGordon()

    def meets_the_data() -> None:
        got = initial_loss(lambda tx: tx[:, 1:2], x.clone())  # u = x: u(0, x) = x and u_t = 0
        expect_close("L_0 of u(t, x) = x", got, torch.tensor(0.0, dtype=torch.float64),
                     "u = x meets both initial conditions, so its L_0 is 0: is g1(x) = u(0, x) = x, from the exact "
                     "solution (not 0, as the paper's text has it)? Does the network get (t, x) = (0, x), t first, "
                     "and is u_t the derivative along t (column 0 of the gradient), not along x?", atol=1e-10)

    def moving_start() -> None:
        def field(tx: torch.Tensor) -> torch.Tensor:
            return tx[:, 1:2] + tx[:, 0:1] * torch.sin(math.pi * tx[:, 1:2])

        expected = torch.sin(math.pi * x).pow(2).mean()  # u(0, x) = x, and u_t(0, x) = sin(pi x)
        got = initial_loss(field, x.clone())
        expect_close("L_0 of u(t, x) = x + t sin(pi x)", got, expected,
                     "here u(0, x) = x and u_t(0, x) = sin(pi x), so L_0 = mean sin^2(pi x): is u_t the derivative "
                     "along the first input, t (column 0)? And is L_0 the sum of two means, each over the N points "
                     "(not one mean over 2N entries)?", atol=1e-10)

    def on_network() -> None:
        with torch.random.fork_rng():  # the learner's own random stream is left as it was
            torch.manual_seed(0)
            net = MLP([2, 20, 20, 1], *problem.input_scaling()).double()
        expected = _library_loss(problem, net, x.clone()).detach()
        got = initial_loss(net, x.clone())
        expect_close("L_0 of a network", got, expected,
                     "L_0 = mean (u(0, x) - x)^2 + mean u_t(0, x)^2, with u_t from torch.autograd.grad of the "
                     "network's output at the points (0, x).", rtol=1e-6, atol=1e-10)

    def parameter_gradients() -> None:
        with torch.random.fork_rng():
            torch.manual_seed(1)
            net = MLP([2, 20, 20, 1], *problem.input_scaling()).double()
        params = list(net.parameters())
        expected = torch.autograd.grad(_library_loss(problem, net, x.clone()), params)
        got = initial_loss(net, x.clone())
        if not isinstance(got, torch.Tensor) or not got.requires_grad:
            raise CaseFailed("L_0 must stay differentiable with respect to the network's weights (training "
                             "differentiates it): do not detach it, and keep create_graph=True.")
        grads = torch.autograd.grad(got, params, allow_unused=True)
        for name, g, e in zip([n for n, _ in net.named_parameters()], grads, expected):
            expect_close(f"dL_0/d({name})", torch.zeros_like(e) if g is None else g, e,
                         "the value is right, but its gradient with respect to the weights is not: pass "
                         "create_graph=True to torch.autograd.grad when you take u_t, so that the derivative stays "
                         "part of the graph.", rtol=1e-6, atol=1e-10)

    return run_cases(NAME, [meets_the_data, moving_start, on_network, parameter_gradients],
                     "L_0 is right on two fields known by hand, agrees with the library's on a network, and trains "
                     "alike.")
