"""Each figure draws the panels and lines it promises, from small real runs (no image comparison)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from pinn_tutorial import Helmholtz, History, Poisson1D, Trainer, build  # noqa: E402
from pinn_tutorial.config import Budget  # noqa: E402
from pinn_tutorial.diagnostics import GradientMonitor, gradient_histograms, term_gradients  # noqa: E402
from pinn_tutorial.plotting import (  # noqa: E402
    STYLE,
    TERM_COLOURS,
    VERDICT_COLOURS,
    method_colour,
    plot_error_history,
    plot_gated_network,
    plot_gradient_histograms,
    plot_gradient_ratio,
    plot_hessian_eigenvalues,
    plot_loss_terms,
    plot_paper_comparison,
    plot_poisson_scaling,
    plot_solution_1d,
    plot_solution_2d,
    plot_table2,
    plot_weights,
    use_style,
)
from pinn_tutorial.reproduction.paper import HELMHOLTZ_TABLE2  # noqa: E402
from pinn_tutorial.reproduction.paper_tables import summarise  # noqa: E402
from pinn_tutorial.reproduction.studies import poisson_gradient_scaling  # noqa: E402

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


# -- figures only the chapters draw: from small synthetic inputs ------------------------------

HISTORY = History(steps=[0, 10, 20], losses={"residual": [1.0, 0.1, 0.01], "boundary": [2.0, 1.0, 0.5],
                                              "initial": [3.0, 0.3, 0.03]},
                  eval_steps=[0, 20], rel_l2=[1.0, 0.05])


def test_use_style_sets_the_books_style():
    with matplotlib.rc_context({"axes.grid": False, "axes.spines.top": True, "font.size": 7}):
        use_style()
        assert all(matplotlib.rcParams[key] == value for key, value in STYLE.items())


def test_loss_terms_one_log_line_per_term_in_its_colour():
    ax = plot_loss_terms(HISTORY, title="three terms")
    lines = ax.get_lines()
    assert ax.get_yscale() == "log" and ax.get_title() == "three terms" and len(lines) == 3
    for line, (term, values) in zip(lines, HISTORY.losses.items()):
        assert list(line.get_xdata()) == HISTORY.steps and list(line.get_ydata()) == values
        assert line.get_color() == TERM_COLOURS[term]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        r"$\mathcal{L}_r$ (PDE residual)", r"$\mathcal{L}_{b}$ (boundary)", r"$\mathcal{L}_{0}$ (initial)"]


def test_error_history_one_line_at_the_evaluation_steps_and_a_legend_only_when_labelled():
    ax = plot_error_history(HISTORY)
    (line,) = ax.get_lines()
    assert list(line.get_xdata()) == [0, 20] and list(line.get_ydata()) == [1.0, 0.05]
    assert ax.get_yscale() == "log" and ax.get_legend() is None
    ax = plot_error_history(HISTORY, ax, label="M1")
    assert len(ax.get_lines()) == 2 and [t.get_text() for t in ax.get_legend().get_texts()] == ["M1"]


class Exact(torch.nn.Module):
    """The exact solution sin(C x) itself, as a network."""

    def __init__(self, c):
        super().__init__()
        self.c = torch.nn.Parameter(torch.tensor(c))

    def forward(self, x):
        return torch.sin(self.c * x)


def test_solution_1d_the_exact_solution_and_the_prediction_on_n_points():
    problem = Poisson1D(C=3.0)
    ax = plot_solution_1d(problem, Exact(3.0), n=17)
    exact, pinn = ax.get_lines()
    assert [exact.get_label(), pinn.get_label()] == ["exact", "PINN"]
    x = np.asarray(exact.get_xdata()).reshape(-1)
    np.testing.assert_allclose(x, np.linspace(0.0, 1.0, 17), atol=1e-7)
    np.testing.assert_allclose(np.asarray(exact.get_ydata()).reshape(-1), np.sin(3 * x), atol=1e-6)
    np.testing.assert_allclose(np.asarray(pinn.get_ydata()).reshape(-1), np.sin(3 * x), atol=1e-6)


def _result(method, seed, rel_l2, depth=3, width=50, problem="helmholtz", **setting):
    """A paper-budget result file's content with only what summarise reads."""
    return {"problem": problem, "method": method, "seed": seed, "budget": "paper", "steps": 40000, "rel_l2": rel_l2,
            "wall_s": 60.0, "hardware": "cpu", "layers": [2, *[width] * depth, 1], "width": width, "depth": depth,
            **setting}


def test_paper_comparison_draws_each_rows_ratio_interval_and_seeds():
    errors = {"M1": [0.15, 0.2, 0.25], "M4": [3e-3, 4e-3, 5e-3], "M2": [0.02]}
    results = [_result(m, s, e) for m, es in errors.items() for s, e in enumerate(es)]
    results.append(_result("M4", 0, 0.5, form="paper"))  # another setting: neither a row here nor a seed of M4's
    rows = [r for r in summarise(results) if not r["setting"]]
    ax = plot_paper_comparison(rows, results=results)
    assert ax.get_yscale() == "log"
    (bars,) = ax.containers
    np.testing.assert_allclose(bars.lines[0].get_ydata(), [r["ratio"] for r in rows])
    segments = bars.lines[2][0].get_segments()
    for row, segment in zip(rows, segments):
        if np.isnan(row["ratio_low"]):  # one seed: no bar
            assert np.isnan(segment).all()
        else:
            np.testing.assert_allclose([segment[0][1], segment[1][1]], [row["ratio_low"], row["ratio_high"]])
            assert segment[0][1] > 0
    (seeds,) = [c for c in ax.collections if c.get_label() == "one seed: its error / paper"]
    plotted = sorted(seeds.get_offsets()[:, 1])
    expected = sorted(e / HELMHOLTZ_TABLE2[3, 50][m] for m, es in errors.items() for e in es)
    assert plotted == pytest.approx(expected)  # not the other setting's 0.5
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks == [f"{r['method']}\nn = {len(r['seeds'])}\n{r['verdict']}" for r in rows]
    assert ticks[1].endswith("n = 1\n-")  # M2, one seed: untested


def test_paper_comparison_names_the_setting_and_refuses_rows_not_compared():
    results = [_result("M1", s, e) for s, e in enumerate((0.01, 0.01, 0.9))]
    results += [_result("M1", s, 0.2 + s / 100, derivatives="autograd") for s in range(2)]
    rows = summarise(results)
    ax = plot_paper_comparison(rows)
    assert not [c for c in ax.collections if c.get_label() == "one seed: its error / paper"]  # no results given
    ticks = [t.get_text().split("\n") for t in ax.get_xticklabels()]
    # Method, then the setting wrapped onto short lines (so that neighbours do not overlap), seeds, verdict.
    assert ticks[0] == ["M1", "default", "n = 3", rows[0]["verdict"]]
    assert ticks[1] == ["M1", "autograd", "derivatives", "n = 2", rows[1]["verdict"]]
    with pytest.raises(ValueError, match="summarise"):
        plot_paper_comparison([])
    default = summarise([{**r, "budget": "default", "steps": 6000} for r in results])
    with pytest.raises(ValueError, match="not compared with the paper"):
        plot_paper_comparison(default)


def test_table2_one_point_per_measured_cell_and_the_grid_with_absent_cells():
    results = [_result(m, s, e * (1 + 0.1 * s)) for m, e in (("M1", 0.2), ("M2", 0.02), ("M3", 0.03), ("M4", 0.005))
               for s in range(3)]
    results += [_result("M4", 0, 0.004, depth=7, width=100)]  # one seed: a point without a bar
    results += [_result("M4", s, 0.9, form="paper") for s in range(2)]  # another setting: not a Table 2 cell
    rows = summarise(results)
    left, right = plot_table2(rows)
    points = {c.get_label(): c for c in left.containers}
    assert set(points) == {"3x50 M1", "3x50 M2", "3x50 M3", "3x50 M4", "7x100 M4"}
    row_of = {(r["depth"], r["width"], r["method"]): r for r in rows
              if not r["setting"] or "hidden layers of" in r["setting"]}
    for label, container in points.items():
        depth, width = map(int, label.split()[0].split("x"))
        row = row_of[depth, width, label.split()[1]]
        assert container.lines[0].get_xdata()[0] == HELMHOLTZ_TABLE2[depth, width][row["method"]]
        assert container.lines[0].get_ydata()[0] == pytest.approx(row["gmean"])
        assert container.lines[0].get_color() == method_colour(row["method"])
        if len(row["seeds"]) > 1:
            segment = container.lines[2][0].get_segments()[0]
            np.testing.assert_allclose([segment[0][1], segment[1][1]], [row["gm_low"], row["gm_high"]])
        else:
            assert container.has_yerr is False
    assert left.get_xscale() == left.get_yscale() == "log"
    diagonal = [line for line in left.get_lines() if line.get_linestyle() == "--"]
    assert len(diagonal) == 1 and list(diagonal[0].get_xdata()) == list(diagonal[0].get_ydata())  # ours = paper
    # The grid: every one of the 36 cells, the paper's figure in each, ours (with n) where measured, else "no runs".
    texts = {t.get_gid(): t.get_text() for t in right.texts}
    assert len(texts) == 4 * len(HELMHOLTZ_TABLE2)
    for (depth, width), cell in HELMHOLTZ_TABLE2.items():
        for method, paper in cell.items():
            assert texts[f"{depth}x{width} {method}"].startswith(f"paper {paper:.2e}\n")
    assert texts["3x50 M1"].endswith(f"ours {row_of[3, 50, 'M1']['gmean']:.2e}\nn = 3")
    assert texts["7x100 M4"].endswith("n = 1") and texts["5x30 M2"].endswith("no runs")
    colours = [matplotlib.colors.to_hex(p.get_facecolor()) for p in right.patches]
    assert colours.count("#ffffff") == 4 * len(HELMHOLTZ_TABLE2) - 5  # the cells without runs, drawn absent
    assert colours[4 * 1 + 0] == VERDICT_COLOURS[row_of[3, 50, "M1"]["verdict"]]  # 3 x 50 is Table 2's second row
    assert colours[4 * 8 + 3] == VERDICT_COLOURS["-"]  # 7 x 100 M4, one seed: untested


def _board_row(problem, method, family, ratio, low, high):
    return {"problem": problem, "method": method, "family": family, "vs_baseline": ratio, "vs_low": low,
            "vs_high": high}


def test_leaderboard_one_point_per_method_coloured_by_family_without_the_baseline():
    from pinn_tutorial.plotting import FAMILY_COLOURS, plot_leaderboard

    nan = float("nan")
    rows = [_board_row("helmholtz", "M4", "magnitudes + network", nan, nan, nan),
            _board_row("helmholtz", "mlp+config", "directions", 2.4, 1.8, 3.2),
            _board_row("helmholtz", "M2", "magnitudes", 4.0, 3.1, 5.1),
            _board_row("klein_gordon", "M2", "magnitudes", 3.5, 2.3, 5.4),
            _board_row("klein_gordon", "mlp+pcgrad", "directions", 8.9, 5.7, 14.0),
            _board_row("klein_gordon", "GN2", "magnitudes", nan, nan, nan)]  # no seed in common with M4
    ax = plot_leaderboard(rows)
    assert ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["mlp+config", "M2", "M2", "mlp+pcgrad"]
    bars = {c.get_label(): c for c in ax.containers}
    assert set(bars) == {"directions", "magnitudes"}
    np.testing.assert_allclose(bars["directions"].lines[0].get_ydata(), [2.4, 8.9])
    np.testing.assert_allclose(bars["magnitudes"].lines[0].get_ydata(), [4.0, 3.5])
    low_high = [(s[0][1], s[1][1]) for s in bars["magnitudes"].lines[2][0].get_segments()]
    np.testing.assert_allclose(low_high, [(3.1, 5.1), (2.3, 5.4)])
    assert matplotlib.colors.same_color(bars["directions"].lines[0].get_color(), FAMILY_COLOURS["directions"])
    assert any(line.get_label() == "= M4" and line.get_ydata()[0] == 1 for line in ax.get_lines())
    assert {t.get_text() for t in ax.texts} == {"helmholtz", "klein_gordon"}
    with pytest.raises(ValueError, match="ratio to M4"):
        plot_leaderboard(rows[:1])


def test_conflicts_one_line_per_problem_and_term_in_each_panel():
    from pinn_tutorial.plotting import plot_conflicts
    from pinn_tutorial.reproduction.studies import ConflictHistory, ConflictStudy

    runs = [ConflictHistory("helmholtz", "M1", "t", 0, [0, 10], {"boundary": [30.0, 20.0]},
                            {"boundary": [0.1, -0.2]}, [0.1, -0.2], 0.5),
            ConflictHistory("klein_gordon", "M1", "t", 0, [0, 10], {"boundary": [5.0, 60.0], "initial": [2.0, 9.0]},
                            {"boundary": [-0.3, 0.2], "initial": [0.4, -0.1]}, [0.0, 0.0], 0.9)]
    left, right = plot_conflicts(ConflictStudy("t", 0, runs))
    lines = [line for line in left.get_lines() if line.get_label().startswith(("helmholtz", "klein"))]
    assert [line.get_label() for line in lines] == ["helmholtz, boundary", "klein_gordon, boundary",
                                                   "klein_gordon, initial"]
    np.testing.assert_allclose(lines[2].get_ydata(), [2.0, 9.0])
    cosines = [line for line in right.get_lines() if line.get_label() == "klein_gordon, boundary"]
    np.testing.assert_allclose(cosines[0].get_ydata(), [-0.3, 0.2])
    assert left.get_yscale() == "log" and right.get_ylim() == (-1.05, 1.05)
