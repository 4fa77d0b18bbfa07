"""Each figure draws the panels and lines it promises, from small real runs (no image comparison)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from pinn_tutorial import Helmholtz, Trainer, build  # noqa: E402
from pinn_tutorial.config import Budget  # noqa: E402
from pinn_tutorial.diagnostics import GradientMonitor, gradient_histograms, term_gradients  # noqa: E402
from pinn_tutorial.plotting import (  # noqa: E402
    plot_gated_network,
    plot_gradient_histograms,
    plot_gradient_ratio,
    plot_hessian_eigenvalues,
    plot_poisson_scaling,
    plot_solution_2d,
    plot_weights,
)
from pinn_tutorial.studies import poisson_gradient_scaling  # noqa: E402

BUDGET = Budget("t", steps=20, batch_size=16, log_every=5, eval_every=10, checkpoint_every=10, grid_size=10)


@pytest.fixture(scope="module")
def run():
    """Helmholtz under M2 (so the weight moves), 3 weight matrices, monitored every 10 steps."""
    problem = Helmholtz()
    net, weighting = build("M2", problem, seed=0, layers=[2, 8, 8, 1])
    monitor = GradientMonitor(every=10, histograms=True, hessian=True, hessian_iterations=3, bins=12)
    trainer = Trainer(problem, net, weighting, budget=BUDGET, device="cpu", progress=False, callback=monitor)
    trainer.run()
    return trainer, monitor


def test_gradient_histograms_one_panel_per_layer_one_histogram_per_term(run):
    trainer, monitor = run
    axes = plot_gradient_histograms(monitor.records[-1])
    assert len(axes) == 3 and [ax.get_title() for ax in axes] == ["Layer 1", "Layer 2", "Layer 3"]
    assert all(len(ax.patches) == 2 and ax.get_yscale() == "log" for ax in axes)
    assert axes[0].figure._suptitle.get_text() == "step 20"

    batch = trainer.problem.sample(16, torch.Generator().manual_seed(0))
    axes = plot_gradient_histograms(gradient_histograms(term_gradients(trainer.problem, trainer.net, batch)))
    assert len(axes) == 3 and all(len(ax.patches) == 2 for ax in axes)
    with pytest.raises(ValueError, match="histograms"):
        plot_gradient_histograms({"step": 10, "max_abs": {}})


def test_weights_one_line_per_weighted_term(run):
    trainer, _ = run
    ax = plot_weights(trainer.history)
    (line,) = ax.get_lines()
    assert list(line.get_xdata()) == trainer.history.steps
    assert list(line.get_ydata()) == trainer.history.weights["boundary"]


def test_gradient_ratio_one_line_per_weighted_term_from_history_or_monitor(run):
    trainer, monitor = run
    for source in (trainer.history, monitor, monitor.records):
        ax = plot_gradient_ratio(source)
        (line,) = ax.get_lines()
        assert list(line.get_xdata()) == [10, 20]
        assert list(line.get_ydata()) == [r["ratio_overall"]["boundary"] for r in monitor.records]


def test_hessian_eigenvalues_one_line_per_term_and_runs_overlay(run):
    trainer, monitor = run
    ax = plot_hessian_eigenvalues(monitor, label="M2")
    assert len(ax.get_lines()) == 2
    plot_hessian_eigenvalues(trainer.history, ax=ax, label="again", linestyle="--")
    lines = ax.get_lines()
    assert len(lines) == 4 and [line.get_linestyle() for line in lines] == ["-", "-", "--", "--"]
    assert all(y > 0 for line in lines for y in line.get_ydata())
    with pytest.raises(ValueError, match="hessian"):
        plot_hessian_eigenvalues([{"step": 0, "max_abs": {}}])


def test_solution_2d_three_maps_on_the_evaluation_grid(run):
    trainer, _ = run
    axes = plot_solution_2d(trainer.problem, trainer.net, n=20)
    assert [ax.get_title() for ax in axes] == ["exact $u$", "PINN prediction", "absolute error"]
    for ax in axes:
        (image,) = ax.get_images()
        assert image.get_array().shape == (20, 20)
    # Rows are y, columns x (origin lower): u = sin(pi x) sin(4 pi y) at row j, column i.
    t = np.linspace(-1, 1, 20)
    expected = np.sin(4 * np.pi * t)[:, None] * np.sin(np.pi * t)[None, :]
    np.testing.assert_allclose(np.asarray(axes[0].get_images()[0].get_array()), expected, atol=1e-12)
    assert axes[0].get_images()[0].get_extent() == [-1.0, 1.0, -1.0, 1.0]


def test_poisson_scaling_two_measured_lines_and_the_bound(run):
    result = poisson_gradient_scaling((1, 2), budget=BUDGET, every=10, layers=[1, 6, 1], device="cpu")
    ax = plot_poisson_scaling(result)
    lines = ax.get_lines()
    assert len(lines) == 3 and ax.get_xscale() == ax.get_yscale() == "log"
    assert list(lines[0].get_ydata()) == result.grad_residual and list(lines[1].get_ydata()) == result.grad_boundary
    assert len(plot_poisson_scaling(result.to_dict()).get_lines()) == 3


def test_gated_network_one_box_per_layer_and_each_gate_reads_both_encoders():
    def texts(ax):
        return [t.get_text() for t in ax.texts]

    paper = plot_gated_network("paper", gates=2)
    # input, U, V, H^(1), two gates, output; each gate gets one arrow from U and one from V
    assert len(paper.patches) == 7
    assert sum("Z^{(" in t for t in texts(paper)) == 2 and any(t.startswith("$H^{(1)} = \\phi") for t in texts(paper))
    assert any("(1 - Z^{(2)})\\odot U + Z^{(2)}\\odot V" in t for t in texts(paper))
    assert sum(1 for child in paper.get_children() if type(child).__name__ == "Annotation") == 3 + 1 + 2 + 2 * 2

    code = plot_gated_network("code", gates=3)
    assert len(code.patches) == 7  # no plain H^(1) layer: the first gate reads X
    assert "$H^{(1)} = X$" in texts(code)
    assert any("Z^{(3)}\\odot U + (1 - Z^{(3)})\\odot V" in t for t in texts(code))
    with pytest.raises(ValueError, match="variant"):
        plot_gated_network("tf")
    with pytest.raises(ValueError, match="gates"):
        plot_gated_network("paper", gates=0)
