"""The diagnostics and figures of the book's last chapter: the NTK trace and the error over time."""

import matplotlib
import pytest
import torch
from torch import nn

from pinn_tutorial import KleinGordon
from pinn_tutorial.diagnostics import ntk_trace
from pinn_tutorial.plotting import plot_error_over_time

matplotlib.use("Agg")


def test_ntk_trace_of_a_linear_net_equals_the_hand_computation():
    # v_i = w . x_i + b has dv_i/dtheta = (x_i, 1), so tr K = sum_i (|x_i|^2 + 1).
    torch.manual_seed(0)
    net, x = nn.Linear(2, 1), torch.randn(7, 2)
    assert ntk_trace(net, lambda n, x: n(x), x) == pytest.approx(float((x.pow(2).sum(1) + 1).sum()), rel=1e-6)
    # Values scaled by 3 scale the kernel, and its trace, by 9.
    assert ntk_trace(net, lambda n, x: 3 * n(x), x) == pytest.approx(9 * ntk_trace(net, lambda n, x: n(x), x))


class ScaledExact(nn.Module):
    """1.1 times the exact Klein-Gordon solution: a relative error of 0.1 at every time."""

    def __init__(self, problem):
        super().__init__()
        self.problem, self.scale = problem, nn.Parameter(torch.tensor(1.1))

    def forward(self, x):
        return self.scale * self.problem.exact(x)


def test_error_over_time_of_a_scaled_solution_is_its_scale():
    problem = KleinGordon()
    ax = plot_error_over_time(problem, ScaledExact(problem), n=21, label="1.1 u")
    t, error = ax.get_lines()[0].get_data()
    assert len(t) == 21 and t[0] == 0.0 and t[-1] == 1.0
    assert error == pytest.approx([0.1] * 21, rel=1e-3)  # float32 prediction
