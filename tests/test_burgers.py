"""Burgers: the Cole-Hopf reference against Basdevant et al. (1986), its data and PDE, and how the terms are wired."""

import math

import pytest
import torch

from pinn_tutorial.problems import PROBLEMS, Burgers, get_problem
from pinn_tutorial.problems.causal import CausalTraining


def points(n, low, high, seed=0):
    g = torch.Generator().manual_seed(seed)
    low, high = torch.tensor(low, dtype=torch.float64), torch.tensor(high, dtype=torch.float64)
    return low + (high - low) * torch.rand(n, len(low), generator=g, dtype=torch.float64)


def test_the_steepest_slope_is_basdevants():
    # Basdevant et al. (1986), Table 1: at t = 1.6037 / pi, du/dx at x = 0 is -152.00516 (nu = 0.01 / pi).
    x = torch.tensor([[1.6037 / math.pi, 0.0]], dtype=torch.float64, requires_grad=True)
    (slope,) = torch.autograd.grad(Burgers().exact(x).sum(), x)
    assert slope[0, 1].item() == pytest.approx(-152.00516, rel=1e-3)


def test_the_reference_meets_the_initial_and_wall_data():
    problem = Burgers()
    x = points(200, [0.0, -1.0], [0.0, 1.0])  # t = 0
    torch.testing.assert_close(problem.exact(x), -torch.sin(math.pi * x[:, 1:2]), rtol=0, atol=1e-12)
    for wall in (-1.0, 1.0):
        t = points(200, [0.0, wall], [1.0, wall], seed=1)
        assert problem.exact(t).abs().max() < 1e-12


def test_the_reference_satisfies_the_pde_by_finite_differences():
    problem, h = Burgers(), 1e-5
    x = points(400, [0.05, -0.9], [1.0, 0.9])  # the shock at x = 0 included

    def u(dt, dx):
        return problem.exact(x + torch.tensor([dt, dx], dtype=torch.float64)).reshape(-1)

    u_t, u_x = (u(h, 0) - u(-h, 0)) / (2 * h), (u(0, h) - u(0, -h)) / (2 * h)
    u_xx = (u(0, h) - 2 * u(0, 0) + u(0, -h)) / h**2
    r = u_t + u(0, 0) * u_x - problem.nu * u_xx
    scale = u_t.abs() + (u(0, 0) * u_x).abs() + (problem.nu * u_xx).abs()
    assert (r.abs() / scale).max() < 1e-5  # central differences: O(h^2) and rounding


def test_terms_on_a_hand_computable_field():
    # u = t x: u_t = x, u_x = t, u_xx = 0, so r = x + t^2 x; u(t, -+1) = -+t; u(0, x) + sin(pi x) = sin(pi x).
    problem = Burgers()
    batch = {k: v.double() for k, v in problem.sample(64, torch.Generator().manual_seed(0)).items()}
    assert list(batch) == ["residual", "left", "right", "initial"]
    assert problem.terms == ("residual", "boundary", "initial")

    def field(x):
        return x[:, 0:1] * x[:, 1:2]

    t, s = batch["residual"][:, 0], batch["residual"][:, 1]
    torch.testing.assert_close(problem.residual(field, batch["residual"].clone()), s + t**2 * s)
    losses = problem.losses(field, batch)
    torch.testing.assert_close(losses["residual"], (s + t**2 * s).pow(2).mean())
    walls = batch["left"][:, 0].pow(2).mean() + batch["right"][:, 0].pow(2).mean()
    torch.testing.assert_close(losses["boundary"], walls)
    torch.testing.assert_close(losses["initial"], torch.sin(math.pi * batch["initial"][:, 1]).pow(2).mean())


def test_it_is_registered_time_dependent_and_refuses_a_bad_viscosity():
    assert PROBLEMS["burgers"] is Burgers and repr(get_problem("burgers", nu=0.01)) == "Burgers(nu=0.01)"
    assert CausalTraining(Burgers(), chunks=4).name == "burgers_causal"
    with pytest.raises(ValueError, match="nu"):
        Burgers(nu=0.0)
