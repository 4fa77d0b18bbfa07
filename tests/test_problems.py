"""The PDEs: exact solutions satisfy them, derivatives match closed forms."""

import math

import pytest
import torch

from pinn_tutorial.autodiff import derivative, gradient, laplacian
from pinn_tutorial.config import ConfigError
from pinn_tutorial.problems import PROBLEMS, Helmholtz, KleinGordon, Poisson1D, get_problem


def points(n, low, high, seed=0):
    g = torch.Generator().manual_seed(seed)
    low, high = torch.tensor(low, dtype=torch.float64), torch.tensor(high, dtype=torch.float64)
    return (low + (high - low) * torch.rand(n, len(low), generator=g, dtype=torch.float64)).requires_grad_(True)


def test_laplacian_matches_closed_form():
    x = points(200, [-1, -1], [1, 1])
    u = torch.exp(x[:, 0]) * torch.sin(2 * x[:, 1]) + x[:, 0] ** 3 * x[:, 1] ** 2
    # Δu = e^x sin 2y - 4 e^x sin 2y + 6 x y^2 + 2 x^3
    expected = -3 * torch.exp(x[:, 0]) * torch.sin(2 * x[:, 1]) + 6 * x[:, 0] * x[:, 1] ** 2 + 2 * x[:, 0] ** 3
    torch.testing.assert_close(laplacian(u, x), expected, rtol=1e-12, atol=1e-12)


def test_gradient_and_derivative_match_closed_form():
    x = points(50, [0, 0], [1, 2])
    u = torch.sin(x[:, 0]) * x[:, 1] ** 3
    torch.testing.assert_close(gradient(u, x)[:, 1], 3 * torch.sin(x[:, 0]) * x[:, 1] ** 2)
    torch.testing.assert_close(derivative(u, x, dim=0, order=3), -torch.cos(x[:, 0]) * x[:, 1] ** 3)
    with pytest.raises(ValueError, match="order"):
        derivative(u, x, dim=0, order=0)


@pytest.mark.parametrize("a1,a2,k", [(1, 4, 1), (1, 1, 1), (2, 3, 0.5)])
def test_helmholtz_exact_solution_has_zero_residual(a1, a2, k):
    problem = Helmholtz(a1, a2, k)
    x = points(500, [-1, -1], [1, 1])
    r = problem.residual(problem.exact, x)
    scale = (a1 * math.pi) ** 2 + (a2 * math.pi) ** 2
    assert r.abs().max() < 1e-12 * scale


def test_helmholtz_boundary_data_vanish_and_forcing_is_not_trivial():
    problem = Helmholtz()
    batch = problem.sample(64, torch.Generator().manual_seed(0))
    for edge in ("bottom", "right", "top", "left"):
        assert problem.exact(batch[edge].double()).abs().max() < 1e-6
    assert problem.forcing(batch["residual"].double()).abs().max() > 10


@pytest.mark.parametrize("C", [1.0, 2.0, 4.0, 8.0])
def test_poisson_exact_solution_has_zero_residual_and_loss(C):
    problem = Poisson1D(C)
    x = points(300, [0], [1])
    assert problem.residual(problem.exact, x).abs().max() < 1e-10 * C**2
    losses = problem.losses(problem.exact, {"residual": x.detach(), "boundary": problem.x_b.double()})
    assert losses["residual"] < 1e-20 and losses["boundary"] < 1e-30


def test_losses_of_a_wrong_field_are_what_hand_computation_gives():
    problem = Poisson1D(C=2.0)
    # For u = 0: u_xx - g = C^2 sin(Cx), boundary errors 0 and -sin(C).
    x = points(100, [0], [1])
    losses = problem.losses(lambda z: 0 * z, {"residual": x.detach(), "boundary": problem.x_b.double()})
    torch.testing.assert_close(losses["residual"], (16 * torch.sin(2 * x.detach()) ** 2).mean())
    torch.testing.assert_close(losses["boundary"], torch.tensor(math.sin(2.0) ** 2 / 2, dtype=torch.float64))


def test_samplers_stay_in_their_sets():
    problem = Helmholtz()
    batch = problem.sample(128, torch.Generator().manual_seed(1))
    assert batch["residual"].shape == (128, 2)
    assert (batch["residual"].abs() <= 1).all()
    assert (batch["top"][:, 1] == 1).all() and (batch["left"][:, 0] == -1).all()
    assert batch["top"][:, 0].std() > 0.3


def test_unknown_problem_lists_the_valid_ones():
    with pytest.raises(ConfigError, match=", ".join(PROBLEMS)):
        get_problem("no_such_problem")  # a reserved name: never a problem one day


def test_klein_gordon_exact_solution_has_zero_residual_and_meets_its_data():
    problem = KleinGordon()
    x = points(400, [0, 0], [1, 1])
    assert problem.residual(problem.exact, x).abs().max() < 1e-10
    batch = {k: v.double() for k, v in problem.sample(64, torch.Generator().manual_seed(0)).items()}
    losses = problem.losses(problem.exact, batch)
    assert losses["residual"] < 1e-20 and losses["boundary"] < 1e-28 and losses["initial"] < 1e-28
    # The initial data as the exact solution gives them: u(0, x) = x, u_t(0, x) = 0.
    x0 = batch["initial"]
    assert (x0[:, 0] == 0).all()
    torch.testing.assert_close(problem.exact(x0).reshape(-1), x0[:, 1])
    # At x = 1 the boundary value is cos(5 pi t) + t^3, not zero.
    x1 = batch["x1"]
    torch.testing.assert_close(problem.exact(x1).reshape(-1), torch.cos(5 * math.pi * x1[:, 0]) + x1[:, 0] ** 3)


def test_klein_gordon_forcing_matches_autograd_of_the_exact_solution():
    problem = KleinGordon()
    x = points(50, [0, 0], [1, 1])
    u = problem.exact(x)
    u_tt, u_xx = derivative(u, x, 0, 2), derivative(u, x, 1, 2)
    torch.testing.assert_close(problem.forcing(x), u_tt - u_xx + u.reshape(-1) ** 3)
