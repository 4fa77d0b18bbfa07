"""The cavity's figures draw what they promise, from a coarse finite-difference solve and small nets."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402

from pinn_tutorial import build  # noqa: E402
from pinn_tutorial.autodiff import gradient  # noqa: E402
from pinn_tutorial.plotting import (  # noqa: E402
    cavity_velocity_grid,
    plot_cavity_comparison,
    plot_cavity_flow,
    plot_ghia_centrelines,
)
from pinn_tutorial.problems import CavityStreamFunction, CavityVelocityPressure  # noqa: E402
from pinn_tutorial.reference import ghia_centrelines, solve_cavity  # noqa: E402


@pytest.fixture(scope="module")
def solution():
    """A coarse (16 x 16 cells) but converged solve at Re = 100: a second, not a minute."""
    return solve_cavity(re=100.0, n=16)


@pytest.fixture(scope="module")
def stream():
    problem = CavityStreamFunction()
    net, _ = build("M1", problem, seed=0, layers=[2, 8, 8, 2])
    return problem, net


def test_velocity_grid_of_a_stream_function_net_is_its_curl(stream):
    """u = psi_y, v = -psi_x on the grid, indexed [i_x, j_y] like the rest of the library."""
    problem, net = stream
    n = 7
    u, v = cavity_velocity_grid(net, problem, n)
    line = torch.linspace(0, 1, n)
    xx, yy = torch.meshgrid(line, line, indexing="ij")
    x = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1).requires_grad_(True)
    psi_x, psi_y = gradient(net(x)[:, 0], x).detach().unbind(1)
    assert u.shape == v.shape == (n, n)
    np.testing.assert_allclose(u, psi_y.reshape(n, n).numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(v, -psi_x.reshape(n, n).numpy(), rtol=1e-4, atol=1e-6)


def test_velocity_grid_of_the_reference_and_of_a_net_need_a_problem_only_for_the_net(solution, stream):
    u, v = cavity_velocity_grid(solution, n=9)
    assert np.allclose(u[:, -1], 1.0) and np.allclose(u[:, 0], 0.0)  # the lid moves, the floor does not
    with pytest.raises(ValueError, match="cavity problem"):
        cavity_velocity_grid(stream[1], n=9)


def test_ghia_centrelines_lines_for_the_solution_markers_for_ghia(solution):
    left, right = plot_ghia_centrelines(solution)
    ghia = ghia_centrelines()
    for ax in (left, right):
        assert len(ax.get_lines()) == 2 and ax.get_lines()[1].get_linestyle() == "None"
    reference_u, ghia_u = left.get_lines()
    np.testing.assert_array_equal(ghia_u.get_xdata(), ghia.u)
    np.testing.assert_array_equal(ghia_u.get_ydata(), ghia.y)
    np.testing.assert_array_equal(right.get_lines()[1].get_ydata(), ghia.v)
    # The line is the solution on x = 0.5: u = 1 at the lid, 0 at the floor, and close to Ghia's points.
    u_line, y_line = reference_u.get_xdata(), reference_u.get_ydata()
    assert u_line[-1] == pytest.approx(1.0) and u_line[0] == pytest.approx(0.0)
    assert np.max(np.abs(np.interp(ghia.y, y_line, u_line) - ghia.u)) < 0.05  # 16 cells: a few per cent


def test_ghia_centrelines_with_a_net_and_only_at_re_100(solution, stream):
    problem, net = stream
    left, right = plot_ghia_centrelines(solution, net=net, problem=problem, label="M1")
    assert [line.get_label() for line in left.get_lines()] == ["finite differences", "M1", "Ghia et al. (1982)"]
    # The dashed lines are the net's u = psi_y on x = 0.5 and v = -psi_x on y = 0.5.
    y = torch.tensor(left.get_lines()[1].get_ydata(), dtype=torch.float32)
    on_vertical = torch.stack([torch.full_like(y, 0.5), y], dim=1).requires_grad_(True)
    on_horizontal = torch.stack([y, torch.full_like(y, 0.5)], dim=1).requires_grad_(True)
    psi_y = gradient(net(on_vertical)[:, 0], on_vertical)[:, 1].detach().numpy()
    psi_x = gradient(net(on_horizontal)[:, 0], on_horizontal)[:, 0].detach().numpy()
    np.testing.assert_allclose(left.get_lines()[1].get_xdata(), psi_y, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(right.get_lines()[1].get_ydata(), -psi_x, rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="Re = 100"):
        plot_ghia_centrelines(solve_cavity(re=50.0, n=8))


def test_cavity_flow_draws_the_speed_and_streamlines(solution):
    ax = plot_cavity_flow(solution, n=20, title="reference")
    (image,) = ax.get_images()
    speed = image.get_array()
    assert speed.shape == (20, 20) and ax.get_title() == "reference"
    # Rows are y: the lid (last row) moves at speed 1, the floor (first row) rests.
    assert np.allclose(speed[-1], 1.0) and np.allclose(speed[0], 0.0)
    assert any(isinstance(c, LineCollection) and len(c.get_segments()) > 10 for c in ax.collections)
    assert len(ax.patches) > 0  # the streamlines' arrows


@pytest.mark.parametrize("formulation", [CavityStreamFunction, CavityVelocityPressure])
def test_cavity_flow_of_a_net_shows_its_speed(formulation):
    problem = formulation()
    net, _ = build("M4", problem, seed=0, layers=[2, 8, 8, problem.default_layers[-1]])
    ax = plot_cavity_flow(net, problem, n=12)
    speed = ax.get_images()[0].get_array()
    line = torch.linspace(0, 1, 12)
    xx, yy = torch.meshgrid(line, line, indexing="ij")
    expected = problem.predict(net, torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)).reshape(12, 12)
    np.testing.assert_allclose(speed, expected.T.numpy(), rtol=1e-4, atol=1e-6)


def test_cavity_comparison_error_panel_is_the_difference_of_the_speeds(solution, stream):
    problem, net = stream
    axes = plot_cavity_comparison(problem, net, solution=solution, n=15)
    assert len(axes) == 3
    reference, pinn, error = (ax.get_images()[0].get_array() for ax in axes)
    np.testing.assert_allclose(error, np.abs(pinn - reference), atol=1e-12)
    relative = np.linalg.norm(pinn - reference) / np.linalg.norm(reference)
    assert f"{relative:.2e}" in axes[2].get_title()
    assert [ax.get_title() for ax in axes[:2]] == ["reference (finite differences)", "PINN"]
