"""Every figure the book shows, in one style: one function per kind of figure.

Each function draws on the axes it is given (or makes a new figure) and returns the axes, so
a chapter can place several figures side by side.
"""

from __future__ import annotations

import math
import textwrap
from collections import defaultdict
from collections.abc import Sequence
from html import escape

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch, Rectangle
from matplotlib.ticker import NullLocator

from .diagnostics import GradientMonitor
from .methods import PAPER_METHODS, method_names
from .problems import Problem
from .reference import CavitySolution, ghia_centrelines, load_or_solve
from .reproduction.paper import HELMHOLTZ_TABLE2
from .reproduction.paper_tables import group_of, row_group, table2_rows
from .reproduction.studies import PoissonScaling
from .sampling import grid
from .training import History

# One colour per loss term, the same in every chapter.
TERM_COLOURS = {"residual": "tab:red", "boundary": "tab:blue", "initial": "tab:green"}
# The symbol of each loss term in labels.
TERM_SYMBOLS = {"residual": r"\mathcal{L}_r", "boundary": r"\mathcal{L}_b", "initial": r"\mathcal{L}_0"}
STYLE = {"axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False, "axes.spines.right": False,
         "figure.dpi": 100, "savefig.dpi": 150, "font.size": 10}


def use_style() -> None:
    """Apply the book's matplotlib style."""
    plt.rcParams.update(STYLE)


def _axes(ax: Axes | None, size: tuple[float, float] = (5.0, 3.5)) -> Axes:
    if ax is None:
        use_style()
        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def _panels(axes: Sequence[Axes] | None, n: int, size: tuple[float, float] = (2.8, 2.6)) -> list[Axes]:
    """``n`` side-by-side panels, given or new (each ``size`` inches)."""
    if axes is None:
        use_style()
        _, axes = plt.subplots(1, n, figsize=(size[0] * n, size[1]), layout="constrained", squeeze=False)
        axes = axes[0]
    axes = list(axes)
    if len(axes) != n:
        raise ValueError(f"need {n} axes, got {len(axes)}")
    return axes


def _symbol(term: str) -> str:
    return TERM_SYMBOLS.get(term, rf"\mathcal{{L}}_{{\mathrm{{{term}}}}}")


def _records(source: History | GradientMonitor | Sequence[dict]) -> list[dict]:
    """Diagnostics records from a run's ``History``, a ``GradientMonitor``, or a list of records."""
    if isinstance(source, History):
        return source.diagnostics
    if isinstance(source, GradientMonitor):
        return source.records
    return list(source)


def _series(records: list[dict], quantity: str) -> tuple[list[int], dict[str, list[float]]]:
    """The steps and, per term, one recorded quantity (e.g. ``"hessian"``) over the records holding it."""
    chosen = [r for r in records if quantity in r]
    if not chosen:
        raise ValueError(f"no record holds {quantity!r}; record it with GradientMonitor")
    return [r["step"] for r in chosen], {t: [r[quantity][t] for r in chosen] for t in chosen[0][quantity]}


def plot_loss_terms(history: History, ax: Axes | None = None, title: str | None = None) -> Axes:
    """Each unweighted loss term against the training step, on a log scale."""
    ax = _axes(ax)
    for term, values in history.losses.items():
        label = {"residual": r"$\mathcal{L}_r$ (PDE residual)", "boundary": r"$\mathcal{L}_{b}$ (boundary)",
                 "initial": r"$\mathcal{L}_{0}$ (initial)"}.get(term, term)
        ax.semilogy(history.steps, values, label=label, color=TERM_COLOURS.get(term), lw=1)
    ax.set_xlabel("training step")
    ax.set_ylabel("loss (weights factored out)")
    ax.legend()
    if title:
        ax.set_title(title)
    return ax


def plot_error_history(history: History, ax: Axes | None = None, label: str | None = None) -> Axes:
    """The relative L2 error on the evaluation grid against the training step."""
    ax = _axes(ax)
    ax.semilogy(history.eval_steps, history.rel_l2, marker="o", ms=3, label=label)
    ax.set_xlabel("training step")
    ax.set_ylabel(r"relative $L^2$ error")
    if label:
        ax.legend()
    return ax


def plot_solution_1d(problem: Problem, net: torch.nn.Module, ax: Axes | None = None, n: int = 200) -> Axes:
    """A 1-D problem's exact solution and the network's prediction on n points."""
    ax = _axes(ax)
    low, high = problem.domain.low.item(), problem.domain.high.item()
    x = torch.linspace(low, high, n).reshape(-1, 1)
    device = next(net.parameters()).device
    with torch.no_grad():
        u_pred = problem.predict(net, x.to(device)).cpu()
    ax.plot(x, problem.exact(x), color="black", lw=2, label="exact")
    ax.plot(x, u_pred, color="tab:orange", ls="--", lw=2, label="PINN")
    ax.set_xlabel("$x$")
    ax.set_ylabel("$u$")
    ax.legend()
    return ax


def plot_solution_2d(problem: Problem, net: torch.nn.Module, n: int = 100,
                     axes: Sequence[Axes] | None = None) -> list[Axes]:
    """Three maps on the problem's n x n evaluation grid: exact solution, prediction, absolute error."""
    x, u, shape = problem.evaluation_grid(n)
    device = next(net.parameters()).device
    with torch.no_grad():
        u_pred = problem.predict(net, x.float().to(device)).double().cpu()
    low, high = problem.domain.low.tolist(), problem.domain.high.tolist()
    extent = [low[0], high[0], low[1], high[1]]
    axes = _panels(axes, 3, (3.4, 2.9))
    maps = [("exact $u$", u, "viridis"), ("PINN prediction", u_pred, "viridis"),
            ("absolute error", (u - u_pred).abs(), "magma")]
    for ax, (title, values, cmap) in zip(axes, maps):
        # The grid is indexed [i_x, i_y] (sampling.grid); imshow wants rows = y.
        image = ax.imshow(values.reshape(shape).T.numpy(), origin="lower", extent=extent, cmap=cmap, aspect="auto")
        ax.figure.colorbar(image, ax=ax)
        ax.set_title(title)
        ax.set_xlabel("$x$")
        ax.set_ylabel("$y$")
        ax.grid(False)
    return axes


def plot_weights(history: History, ax: Axes | None = None, label: str | None = None) -> Axes:
    """The weight lambda_i of each boundary/initial term against the training step (Algorithm 1; Figs. 8, 16)."""
    ax = _axes(ax)
    for term, values in history.weights.items():
        name = {"boundary": r"$\lambda_b$", "initial": r"$\lambda_0$"}.get(term, rf"$\lambda$ ({term})")
        ax.semilogy(history.steps, values, color=TERM_COLOURS.get(term), lw=1,
                    label=f"{name} ({label})" if label else name)
    ax.set_xlabel("training step")
    ax.set_ylabel(r"weight $\lambda_i$")
    ax.legend()
    return ax


def plot_gradient_histograms(source: dict, axes: Sequence[Axes] | None = None,
                             title: str | None = None) -> list[Axes]:
    """Histograms of grad_W L_r and of each boundary/initial term's gradient, one panel per layer
    (paper Figs. 2, 3, 12), with log-scale counts.

    ``source`` is a ``GradientMonitor`` record taken with ``histograms=True`` (its step goes in
    the title) or what ``gradient_histograms`` returns.
    """
    data = source.get("histograms", source)
    if "edges" not in data:
        raise ValueError("no histograms here: record with GradientMonitor(histograms=True) or use gradient_histograms")
    edges, counts = data["edges"], data["counts"]
    axes = _panels(axes, len(edges))
    for k, ax in enumerate(axes):
        for term, per_layer in counts.items():
            # Filled from 0.5 so that empty bins vanish on the log axis instead of breaking it.
            ax.stairs(np.asarray(per_layer[k], dtype=float), np.asarray(edges[k]), baseline=0.5, fill=True,
                      alpha=0.45, color=TERM_COLOURS.get(term), label=rf"$\nabla_\theta {_symbol(term)}$")
        ax.set_yscale("log")
        ax.set_ylim(bottom=0.5)
        ax.set_title(f"Layer {k + 1}")
        ax.set_xlabel("gradient entry")
    axes[0].set_ylabel("count")
    axes[0].legend()
    if title or "step" in source:
        axes[0].figure.suptitle(title or f"step {source['step']}")
    return axes


def plot_gradient_ratio(source: History | GradientMonitor | Sequence[dict], ax: Axes | None = None,
                        label: str | None = None) -> Axes:
    """max|grad L_r| / mean|grad L_i| (Eq. 40, pooled as the monitor's ``pooling``) for each term over training."""
    ax = _axes(ax)
    steps, ratios = _series(_records(source), "ratio_overall")
    for term, values in ratios.items():
        name = rf"$\max|\nabla_\theta \mathcal{{L}}_r| \,/\, \overline{{|\nabla_\theta {_symbol(term)}|}}$"
        ax.semilogy(steps, values, color=TERM_COLOURS.get(term), marker="o", ms=3, lw=1,
                    label=f"{name} ({label})" if label else name)
    ax.set_xlabel("training step")
    ax.set_ylabel("gradient ratio (Eq. 40)")
    ax.legend()
    return ax


def plot_hessian_eigenvalues(source: History | GradientMonitor | Sequence[dict], ax: Axes | None = None,
                             label: str | None = None, linestyle: str = "-") -> Axes:
    """|sigma_max| of the Hessian of each loss term over training (paper Figs. 4, 5, 11).

    Call it again on the same axes with another ``label`` and ``linestyle`` to compare runs,
    e.g. (a1, a2) = (1, 1) against (1, 4) (Fig. 5) or M1 against M3 (Fig. 11).
    """
    ax = _axes(ax)
    steps, sigma = _series(_records(source), "hessian")
    for term, values in sigma.items():
        name = rf"$\sigma_{{\max}}(\nabla^2_\theta {_symbol(term)})$"
        ax.semilogy(steps, np.abs(values), color=TERM_COLOURS.get(term), ls=linestyle, marker="o", ms=3, lw=1,
                    label=f"{name} ({label})" if label else name)
    ax.set_xlabel("training step")
    ax.set_ylabel("largest Hessian eigenvalue")
    ax.legend()
    return ax


def plot_poisson_scaling(result: PoissonScaling | dict, ax: Axes | None = None) -> Axes:
    """||grad L_r||_inf and ||grad L_b||_inf against the frequency C, log-log, with a C^4 guide (Eqs. 14-15)."""
    data = result.to_dict() if isinstance(result, PoissonScaling) else result
    ax = _axes(ax)
    cs = np.asarray(data["Cs"])
    for term, marker in (("residual", "o"), ("boundary", "s")):
        values = data[f"grad_{term}"]
        ax.loglog(cs, values, marker=marker, color=TERM_COLOURS[term], lw=1,
                  label=rf"$\|\nabla_\theta {_symbol(term)}\|_\infty$ (slope {data['slopes'][term]:.1f})")
    # The bound's rate, drawn through the residual's first point.
    ax.loglog(cs, data["grad_residual"][0] * (cs / cs[0]) ** 4, color="grey", ls=":", lw=1,
              label=r"$\propto C^4$ (Eq. 15)")
    ax.set_xticks(cs, [f"{c:g}" for c in cs])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("frequency $C$")
    ax.set_ylabel("gradient magnitude")
    ax.legend()
    return ax


def plot_gated_network(variant: str = "paper", gates: int = 2, ax: Axes | None = None) -> Axes:
    """A block diagram of the gated network ``ModifiedMLP`` (paper Eqs. 43-47).

    The encoders U = phi(X W^1 + b^1) and V = phi(X W^2 + b^2) read the input once and feed
    every hidden layer, where a gate Z^(k) = phi(H^(k) W^{z,k} + b^{z,k}) mixes them,
    H^(k+1) = (1 - Z^(k)) * U + Z^(k) * V; the output is linear, f = H^(L+1) W + b.
    ``variant="paper"`` draws the equations (a plain first layer H^(1), then ``gates`` gates);
    ``"code"`` the original code's form (H^(1) = X: the first gate reads the input, U and V swapped).
    """
    if variant not in ("paper", "code"):
        raise ValueError(f"unknown variant {variant!r}; choose 'paper' or 'code'")
    if gates < 1:
        raise ValueError(f"gates must be at least 1, got {gates}")
    dx, y_bus, width, height = 3.4, 1.9, 2.9, 1.0
    n_cols = gates + 3  # input, encoders (and H^(1)), the gates, output
    ax = _axes(ax, (2.3 * n_cols, 3.6))
    colours = {"io": "0.92", "encoder": "#d9ecd0", "plain": "#d6e4f0", "gate": "#fbe3c8"}

    def box(x: float, y: float, text: str, kind: str, w: float = width, h: float = height) -> tuple:
        ax.add_patch(FancyBboxPatch(
            (x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.05", fc=colours[kind], ec="0.3", lw=1))
        ax.text(x, y, text, ha="center", va="center", fontsize=9)
        return x, y, w, h

    def arrow(start: tuple[float, float], end: tuple[float, float]) -> None:
        ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "-|>", "color": "0.3", "lw": 1})

    x_in = box(0.0, 0.0, "input $X$", "io", w=1.6)
    u = box(dx, y_bus, r"$U = \phi(XW^1 + b^1)$", "encoder")
    v = box(dx, -y_bus, r"$V = \phi(XW^2 + b^2)$", "encoder")
    for enc in (u, v):
        arrow((x_in[0] + x_in[2] / 2, 0.0), (enc[0] - enc[2] / 2, enc[1]))
    if variant == "paper":
        previous = box(dx, 0.0, "$H^{(1)} = \\phi(XW^{z,1} + b^{z,1})$", "plain")
        arrow((x_in[0] + x_in[2] / 2, 0.0), (previous[0] - previous[2] / 2, 0.0))
        mix = r"$H^{(%d)} = (1 - Z^{(%d)})\odot U + Z^{(%d)}\odot V$"
    else:
        previous = x_in
        ax.text(dx, 0.12, "$H^{(1)} = X$", ha="center", va="bottom", fontsize=9)
        mix = r"$H^{(%d)} = Z^{(%d)}\odot U + (1 - Z^{(%d)})\odot V$"
    for k in range(1, gates + 1):
        # The paper writes W^{z,1} for H^(1) and for Z^(1), two different matrices: its gates are numbered from 2 here.
        index = k + 1 if variant == "paper" else k
        gate = box((k + 1) * dx, 0.0, f"$Z^{{({k})}} = \\phi(H^{{({k})}} W^{{z,{index}}} + b^{{z,{index}}})$\n"
                   + mix % (k + 1, k, k), "gate", h=1.25)
        arrow((previous[0] + previous[2] / 2, 0.0), (gate[0] - gate[2] / 2, 0.0))
        for enc, sign in ((u, 1), (v, -1)):  # each gate reads U and V from a bus line
            ax.plot([enc[0] + enc[2] / 2, gate[0]], [enc[1], enc[1]], color="0.3", lw=1)
            arrow((gate[0], enc[1]), (gate[0], sign * gate[3] / 2))
        previous = gate
    out = box((gates + 2) * dx, 0.0, f"$u_\\theta = H^{{({gates + 1})}} W + b$", "io", w=2.4)
    arrow((previous[0] + previous[2] / 2, 0.0), (out[0] - out[2] / 2, 0.0))
    ax.set_xlim(-1.0, (gates + 2) * dx + 1.4)
    ax.set_ylim(-y_bus - 0.7, y_bus + 0.7)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("the gated network as in the paper's Eqs. 43-47" if variant == "paper"
                 else "the gated network as the original code runs it")
    return ax


# -- the lid-driven cavity ----------------------------------------------------------------------


def _cavity_velocity(source: CavitySolution | torch.nn.Module, problem: Problem | None,
                     points: np.ndarray) -> np.ndarray:
    """(u, v) at points of shape (M, 2), shape (M, 2), from the finite-difference solution or a network."""
    if isinstance(source, CavitySolution):
        return source.interpolate(points)
    if problem is None or not hasattr(problem, "velocity"):
        raise ValueError("a network's velocity needs its cavity problem: CavityStreamFunction or "
                         "CavityVelocityPressure (for the stream function, u = psi_y and v = -psi_x)")
    device = next(source.parameters()).device
    x = torch.as_tensor(points, dtype=torch.float32, device=device)
    with torch.enable_grad():  # the stream function's velocity is a derivative of the output
        return problem.velocity(source, x).detach().double().cpu().numpy()


def cavity_velocity_grid(source: CavitySolution | torch.nn.Module, problem: Problem | None = None,
                         n: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """The velocity (u, v) on the n x n ``linspace`` grid of the unit square, each indexed ``[i_x, j_y]``.

    ``source`` is the finite-difference ``CavitySolution`` (interpolated bilinearly) or a network;
    a network's velocity comes from its cavity ``problem``: the outputs (u, v) themselves, or
    (psi_y, -psi_x) for the stream function.
    """
    x, shape = grid([0.0, 0.0], [1.0, 1.0], n)
    velocity = _cavity_velocity(source, problem, x.numpy())
    return velocity[:, 0].reshape(shape), velocity[:, 1].reshape(shape)


def plot_ghia_centrelines(solution: CavitySolution | None = None, axes: Sequence[Axes] | None = None,
                          net: torch.nn.Module | None = None, problem: Problem | None = None,
                          label: str = "PINN") -> list[Axes]:
    """The cavity's centreline velocities at Re = 100: u(0.5, y) (left) and v(x, 0.5) (right).

    The finite-difference ``solution`` (default: ``load_or_solve()``) is drawn as a black line,
    the 17 + 17 points of Ghia, Ghia & Shin (1982, Tables I and II) as markers and, when given,
    a network's velocity (``net`` with its cavity ``problem``) as a dashed line called ``label``.
    """
    solution = load_or_solve() if solution is None else solution
    if solution.re != 100:
        raise ValueError(f"Ghia et al.'s points are for Re = 100; this solution is for Re = {solution.re:g}")
    ghia = ghia_centrelines()
    line = np.linspace(0.0, 1.0, 201)
    vertical = np.column_stack([np.full_like(line, 0.5), line])  # x = 0.5
    horizontal = np.column_stack([line, np.full_like(line, 0.5)])  # y = 0.5
    left, right = _panels(axes, 2, (3.6, 3.4))
    sources = [(solution, None, "finite differences", {"color": "black", "lw": 1.5})]
    if net is not None:
        sources.append((net, problem, label, {"color": "tab:orange", "ls": "--", "lw": 1.5}))
    for source, source_problem, name, style in sources:
        left.plot(_cavity_velocity(source, source_problem, vertical)[:, 0], line, label=name, **style)
        right.plot(line, _cavity_velocity(source, source_problem, horizontal)[:, 1], label=name, **style)
    ghia_style = {"ls": "none", "marker": "o", "ms": 5, "mfc": "none", "color": "tab:blue",
                  "label": "Ghia et al. (1982)"}
    left.plot(ghia.u, ghia.y, **ghia_style)
    right.plot(ghia.x, ghia.v, **ghia_style)
    left.set_xlabel("$u(0.5, y)$")
    left.set_ylabel("$y$")
    right.set_xlabel("$x$")
    right.set_ylabel("$v(x, 0.5)$")
    left.set_title("vertical centreline")
    right.set_title("horizontal centreline")
    left.legend()
    return [left, right]


def plot_cavity_flow(source: CavitySolution | torch.nn.Module, problem: Problem | None = None, n: int = 100,
                     ax: Axes | None = None, title: str | None = None, vmax: float = 1.0,
                     density: float = 1.0) -> Axes:
    """The cavity flow: the speed |u| as a colour map (0 to ``vmax``) with the streamlines on top.

    ``source`` is the finite-difference ``CavitySolution`` or a network with its cavity ``problem``;
    the velocity is taken on the n x n grid (``cavity_velocity_grid``) and the streamlines are
    matplotlib's ``streamplot`` of it.
    """
    u, v = cavity_velocity_grid(source, problem, n)
    line = np.linspace(0.0, 1.0, n)
    ax = _axes(ax, (3.8, 3.2))
    # The grid is indexed [i_x, j_y]; imshow and streamplot want rows = y.
    image = ax.imshow(np.hypot(u, v).T, origin="lower", extent=[0.0, 1.0, 0.0, 1.0], cmap="viridis",
                      vmin=0.0, vmax=vmax)
    ax.figure.colorbar(image, ax=ax, label=r"speed $|\mathbf{u}|$")
    ax.streamplot(line, line, u.T, v.T, color="white", linewidth=0.6, arrowsize=0.6, density=density)
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.set_aspect("equal")
    ax.grid(False)
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    if title:
        ax.set_title(title)
    return ax


def plot_cavity_comparison(problem: Problem, net: torch.nn.Module, solution: CavitySolution | None = None,
                           n: int = 100, axes: Sequence[Axes] | None = None) -> list[Axes]:
    """Three panels: the reference flow, the network's flow (speed and streamlines, ``plot_cavity_flow``)
    and the absolute error of the speed, | |u_PINN| - |u_ref| |, with its relative L2 norm in the title.

    ``solution`` defaults to the cached reference at the problem's Reynolds number, on its 129 x 129 grid.
    """
    solution = load_or_solve(problem.re) if solution is None else solution
    axes = _panels(axes, 3, (3.8, 3.2))
    plot_cavity_flow(solution, n=n, ax=axes[0], title="reference (finite differences)")
    plot_cavity_flow(net, problem, n=n, ax=axes[1], title="PINN")
    speed_ref = np.hypot(*cavity_velocity_grid(solution, n=n))
    speed = np.hypot(*cavity_velocity_grid(net, problem, n))
    error = np.abs(speed - speed_ref)
    image = axes[2].imshow(error.T, origin="lower", extent=[0.0, 1.0, 0.0, 1.0], cmap="magma")
    axes[2].figure.colorbar(image, ax=axes[2])
    relative = np.linalg.norm(speed - speed_ref) / np.linalg.norm(speed_ref)
    axes[2].set_title(f"error in $|\\mathbf{{u}}|$ (relative $L^2$ {relative:.2e})")
    axes[2].set_aspect("equal")
    axes[2].grid(False)
    axes[2].set_xlabel("$x$")
    axes[2].set_ylabel("$y$")
    return axes


def plot_error_over_time(problem: Problem, net: torch.nn.Module, ax: Axes | None = None, label: str | None = None,
                         n: int = 100) -> Axes:
    """The error of a time-dependent problem as a function of time: for each t of an n x n grid,
    the relative L2 error over x, ||u_theta(t, .) - u(t, .)|| / ||u(t, .)|| (inputs ordered (t, x))."""
    ax = _axes(ax)
    x, u, shape = problem.evaluation_grid(n)
    device = next(net.parameters()).device
    with torch.no_grad():
        prediction = problem.predict(net, x.float().to(device)).cpu().double()
    error = (prediction - u).reshape(shape).norm(dim=1) / u.reshape(shape).norm(dim=1).clamp_min(1e-12)
    t = x[:, 0].reshape(shape)[:, 0]
    ax.semilogy(t.numpy(), error.numpy(), label=label)
    ax.set_xlabel("$t$")
    ax.set_ylabel(r"relative $L^2$ error over $x$")
    if label:
        ax.legend()
    return ax


def plot_method_maps(problem: Problem, runs: dict[str, dict], axes: np.ndarray | None = None, n: int = 100,
                     labels: tuple[str, str] | None = None) -> np.ndarray:
    """One row per trained method, as ``train_methods`` returns them: exact solution, prediction, |error|
    (``plot_solution_2d``), each row titled with its method. ``labels`` names the two inputs (default x, y)."""
    if axes is None:
        use_style()
        _, axes = plt.subplots(len(runs), 3, figsize=(10.5, 2.9 * len(runs)), layout="constrained", squeeze=False)
    axes = np.asarray(axes).reshape(len(runs), 3)
    for row, (method, run) in zip(axes, runs.items()):
        plot_solution_2d(problem, run["net"], n=n, axes=row)
        row[1].set_title(f"{method}: prediction")
        row[2].set_title(f"{method}: absolute error")
        if labels:
            for ax in row:
                ax.set_xlabel(labels[0])
                ax.set_ylabel(labels[1])
    return axes


def show_figure(fig, alt: str) -> None:
    """Show ``fig`` as a PNG image with alt text, and close it.

    For figures drawn inside a widget (an ipywidgets ``interact``): the widget manager draws the images of a
    widget's output without alt text, but keeps an HTML output as it is, so the figure goes out as an ``<img>``
    that says what it shows.
    """
    import base64
    import io

    from IPython.display import HTML, display

    if not alt.strip():
        raise ValueError("show_figure needs alt text that says what the figure shows")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    display(HTML(f'<img alt="{escape(alt, quote=True)}" src="data:image/png;base64,{data}">'))


class SliderFigure:
    """A figure with a JavaScript slider over precomputed frames: ``html`` is self-contained (the frames are
    embedded PNGs, the player is inline JavaScript), so the slider works on a static page, offline, with no
    kernel. A notebook shows it as HTML (``_repr_html_``); ``frames`` is the number of frames."""

    def __init__(self, html: str, frames: int):
        self.html, self.frames = html, frames

    def _repr_html_(self) -> str:
        return self.html


def slider_figure(draw, frames: Sequence, *, alt: str, figsize: tuple[float, float] = (8.0, 3.5),
                  interval_ms: int = 500) -> SliderFigure:
    """Draw one figure per frame and join them under a slider that works without Python.

    ``draw(fig, frame)`` draws one frame on an empty figure (give it a title that names the frame); ``alt`` says
    what the frames show, for a reader who cannot see them (the image's alt text, one for every frame). Every
    frame is rendered here, once, and embedded with matplotlib's JavaScript player
    (``FuncAnimation.to_jshtml``): in the browser the slider and the step buttons only switch images. This is
    the static-page twin of an ipywidgets exploration, whose rendered page shows only its initial state.
    """
    import re

    from matplotlib.animation import FuncAnimation

    frames = list(frames)
    if not frames:
        raise ValueError("slider_figure needs at least one frame")
    if not alt.strip():
        raise ValueError("slider_figure needs alt text that says what the frames show")
    use_style()
    fig = plt.figure(figsize=figsize, layout="constrained")

    def update(k: int) -> list:
        fig.clear()
        draw(fig, frames[k])
        return []

    animation = FuncAnimation(fig, update, frames=len(frames), interval=interval_ms, blit=False, repeat=False)
    try:
        html = animation.to_jshtml(default_mode="once")
    finally:
        plt.close(fig)
    # The player links Font Awesome 4 from a CDN for its button icons; a page must not need the network (the
    # book's theme brings its own Font Awesome, and the slider works without icons).
    html = re.sub(r"<link[^>]*font-awesome[^>]*>", "", html)
    html = re.sub(r"<img id=", lambda _: f'<img alt="{escape(alt, quote=True)}" id=', html, count=1)
    return SliderFigure(html, len(frames))


# -- ours beside the paper's figures: the ratio to the paper and Table 2 -----------------------------------------


def method_colour(method: str) -> str:
    """A method's colour: matplotlib's cycle in the order of ``methods.method_names`` (the presets first, so
    M1..M4 are C0..C3, as the chapters' error histories draw them)."""
    names = method_names()
    return f"C{names.index(method) % 10}" if method in names else "C7"


# The verdict of a comparison with the paper as a cell's colour (Table 2's grid); white is a cell without runs.
VERDICT_COLOURS = {"consistent": "#d5ecd4", "higher": "#f6d0cc", "lower": "#cfe0f3", "-": "#e6e6e6"}


def _floor(values: Sequence[float]) -> float:
    """Where a log axis of these values starts: a third of the smallest positive one (1e-3 if none is)."""
    positive = [v for v in values if v is not None and v > 0 and math.isfinite(v)]
    return min(positive) / 3 if positive else 1e-3


def _bars(centre: Sequence[float], low: Sequence[float], high: Sequence[float]) -> np.ndarray | None:
    """Error bars (below, above) for ``errorbar`` from intervals around ``centre``; None where no row has one."""
    centre, low, high = (np.array(v, dtype=float) for v in (centre, low, high))
    return None if np.isnan(low).all() else np.vstack([centre - low, high - centre])


def plot_paper_comparison(rows: Sequence[dict], ax: Axes | None = None,
                          results: Sequence[dict] | None = None) -> Axes:
    """Ours against the paper, one column per row of ``paper_tables.summarise``: the ratio of our geometric mean
    to the paper's figure with its 95% interval (the rows' ``ratio``, ``ratio_low``, ``ratio_high``, on log
    errors with the paper's own spread, ``comparison.ratio_to_paper``), on a log axis with the line ours =
    paper at 1. Given the result files (``results``), each seed's error over the paper's figure is a faint point
    beside its column. The tick labels name the method (with the setting and the problem where the rows hold
    several), the number of seeds and the verdict. Rows not compared with the paper (another budget, or no
    figure) are refused.
    """
    rows = list(rows)
    if not rows:
        raise ValueError("no rows to draw: pass the rows of paper_tables.summarise (or a PaperTable's rows)")
    if missing := [f"{r['problem']} {r['method']} ({r['budget']})" for r in rows if not r["paper"]]:
        raise ValueError(f"not compared with the paper (another budget, or no figure): {', '.join(missing)}")
    ax = _axes(ax, (max(4.5, 1.2 * len(rows) + 2.0), 3.6))
    several_settings = len({r["setting"] for r in rows}) > 1
    several_problems = len({r["problem"] for r in rows}) > 1
    seeds: dict[tuple, list[float]] = defaultdict(list)
    for result in results or ():
        seeds[group_of(result)].append(result["rel_l2"])
    per_row = [[e / r["paper"] for e in seeds.get(row_group(r), [])] for r in rows]
    x = np.arange(len(rows), dtype=float)
    if any(per_row):
        # Each seed at its own small offset left of the column, in the order of its error.
        points = [(i - 0.28 + 0.16 * k / max(len(es) - 1, 1), e) for i, es in enumerate(per_row)
                  for k, e in enumerate(sorted(es))]
        ax.scatter(*zip(*points), s=14, color="tab:blue", alpha=0.3, linewidths=0,
                   label="one seed: its error / paper", zorder=2)
    ratios = np.array([r["ratio"] for r in rows], dtype=float)
    ax.errorbar(x, ratios, yerr=_bars(ratios, [r["ratio_low"] for r in rows], [r["ratio_high"] for r in rows]),
                fmt="o", color="tab:blue", ms=6, capsize=4, lw=1.5, zorder=3,
                label="geometric mean / paper, 95% interval")
    ax.axhline(1, color="black", ls=":", lw=1, label="ours = paper", zorder=1)
    labels = []
    for r in rows:
        name = " / ".join(part for part in (r["problem"] if several_problems else "", r["method"]) if part)
        # A long setting ("...; ...; ...") wraps onto lines of its own, so that neighbouring labels do not overlap.
        setting = textwrap.fill(r["setting"] or "default", 18) if several_settings else ""
        labels.append("\n".join(part for part in (name, setting, f"n = {len(r['seeds'])}", r["verdict"]) if part))
    ax.set_xticks(x, labels, fontsize=8)
    ax.set_xlim(-0.6, len(rows) - 0.4)
    ax.set_yscale("log")
    ax.set_ylabel("ours / paper")
    ax.legend(fontsize=8)
    return ax


def plot_table2(rows: Sequence[dict], axes: Sequence[Axes] | None = None) -> list[Axes]:
    """Table 2 (Helmholtz, nine networks, M1-M4) in two panels, from the rows of ``paper_tables.summarise``
    (the cells of ``paper_tables.table2_rows``: paper budget, default setting apart from the network).

    Left: ours against the paper, log-log, one point per measured cell: the paper's mean of 10 trials across, our
    geometric mean over seeds up, with its 95% interval as the bar (none for one seed); colour the method, marker
    the depth (3, 5, 7 hidden layers: circle, square, triangle), size the width (30, 50, 100 units); the dashed
    line is ours = paper. A cell without runs has no point. Right: the grid itself, a row per network and a column
    per method: the paper's figure, and ours (geometric mean, n seeds) or "no runs"; the colour is the verdict of the
    comparison (``paper_tables.summarise``: green consistent, red ours higher, blue ours lower, grey one seed) and
    white a cell without runs.
    """
    left, right = _panels(axes, 2, size=(5.2, 4.9))
    cells = table2_rows(list(rows))
    methods = PAPER_METHODS
    markers, sizes = {3: "o", 5: "s", 7: "^"}, {30: 4.0, 50: 6.0, 100: 8.5}
    measured = [(key, m, cells[key][m]) for key in HELMHOLTZ_TABLE2 for m in methods if m in cells.get(key, {})]
    floor = _floor([v for _, _, r in measured for v in (r["gmean"], r["gm_low"])]
                   + [v for cell in HELMHOLTZ_TABLE2.values() for v in cell.values()])
    for (depth, width), method, r in measured:
        # The label names the cell (the legend below is drawn from its own handles).
        left.errorbar([HELMHOLTZ_TABLE2[depth, width][method]], [r["gmean"]],
                      yerr=_bars([r["gmean"]], [r["gm_low"]], [r["gm_high"]]), ls="none",
                      marker=markers.get(depth, "D"), ms=sizes.get(width, 6.0), color=method_colour(method),
                      alpha=0.85, capsize=2, lw=1, label=f"{depth}x{width} {method}")
    values = [v for cell in HELMHOLTZ_TABLE2.values() for v in cell.values()] + [r["gmean"] for *_, r in measured]
    span = (min(values) / 2, max(values) * 2)
    left.plot(span, span, color="grey", ls="--", lw=0.8)
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlim(span)
    left.set_ylim(min(span[0], floor), span[1])
    left.set_xlabel("paper: Table 2, mean of 10 trials")
    left.set_ylabel("ours: geometric mean over seeds, 95% interval")
    handles = [Line2D([], [], ls="none", marker="o", color=method_colour(m), label=m) for m in methods]
    handles += [Line2D([], [], ls="none", marker=mk, color="grey", label=f"{d} layers") for d, mk in markers.items()]
    handles += [Line2D([], [], ls="none", marker="o", ms=ms, color="grey", label=f"{w} units")
                for w, ms in sizes.items()]
    handles.append(Line2D([], [], color="grey", ls="--", lw=0.8, label="ours = paper"))
    left.legend(handles=handles, fontsize=7, ncol=2, loc="upper left")
    if not measured:
        left.text(0.5, 0.5, "no runs yet", transform=left.transAxes, ha="center", va="center", color="grey")
    left.set_title(f"ours against the paper ({len(measured)} of {4 * len(HELMHOLTZ_TABLE2)} cells measured)",
                   fontsize=9)

    # The grid: rows top to bottom as Table 2 lists the networks, columns M1..M4.
    for i, (depth, width) in enumerate(HELMHOLTZ_TABLE2):
        for j, method in enumerate(methods):
            r = cells.get((depth, width), {}).get(method)
            colour = VERDICT_COLOURS[r["verdict"]] if r else "white"
            right.add_patch(Rectangle((j, i), 1, 1, facecolor=colour, edgecolor="white" if r else "#dddddd",
                                      lw=1, hatch=None if r else "///", zorder=1))
            ours = f"ours {r['gmean']:.2e}\nn = {len(r['seeds'])}" if r else "no runs"
            text = right.text(j + 0.5, i + 0.5, f"paper {HELMHOLTZ_TABLE2[depth, width][method]:.2e}\n{ours}",
                              ha="center", va="center", fontsize=7, color="black" if r else "#777777", zorder=2)
            text.set_gid(f"{depth}x{width} {method}")
    right.set_xlim(0, len(methods))
    right.set_ylim(len(HELMHOLTZ_TABLE2), 0)
    right.set_xticks(np.arange(len(methods)) + 0.5, methods)
    right.xaxis.tick_top()
    right.set_yticks(np.arange(len(HELMHOLTZ_TABLE2)) + 0.5, [f"{d} x {w}" for d, w in HELMHOLTZ_TABLE2])
    right.tick_params(length=0)
    right.grid(False)
    for spine in right.spines.values():
        spine.set_visible(False)
    right.set_ylabel("hidden layers x units")
    right.set_xlabel("ours / paper: green consistent, red higher, blue lower; grey: one seed; hatched: no runs",
                     fontsize=7)
    return [left, right]


# -- Part IV: the later remedies against M4, and the gradients' directions --------------------------------------

# The colour of each family of the leaderboard (``reproduction.leaderboard.family``): what a remedy corrects.
FAMILY_COLOURS = {"none": "tab:gray", "magnitudes": "tab:blue", "magnitudes + network": "tab:purple",
                  "network": "tab:green", "directions": "tab:orange", "points": "tab:red", "pool": "tab:brown"}


def plot_leaderboard(rows: Sequence[dict], ax: Axes | None = None, baseline: str = "M4") -> Axes:
    """The leaderboard (the rows of ``reproduction.leaderboard.leaderboard``) as a figure: one column per method and
    problem, the geometric mean of its error over ``baseline``'s, paired by seed, with its 95% interval, on a log
    axis with the line "= baseline" at 1; the colour is the method's family (``FAMILY_COLOURS``). The baseline's
    own rows, and rows with no seed in common with it, have no ratio and are left out. Problems are separated by
    a dotted line and named above their columns, in the order of the rows.
    """
    drawn = [r for r in rows if r["method"] != baseline and math.isfinite(r["vs_baseline"])]
    if not drawn:
        raise ValueError(f"no row with a ratio to {baseline}: pass the rows of leaderboard.leaderboard, with runs "
                         f"paired by seed with {baseline}'s")
    problems = list(dict.fromkeys(r["problem"] for r in drawn))
    drawn.sort(key=lambda r: problems.index(r["problem"]))  # each problem's columns together, rows' order kept
    ax = _axes(ax, (max(5.0, 0.55 * len(drawn) + 2.0), 3.8))
    x, position, previous = [], -1.0, None
    for r in drawn:
        position += 1.0 if r["problem"] == previous or previous is None else 1.8
        if previous is not None and r["problem"] != previous:
            ax.axvline(position - 0.9, color="grey", ls=":", lw=0.8)
        x.append(position)
        previous = r["problem"]
    ratios = [r["vs_baseline"] for r in drawn]
    for family in dict.fromkeys(r["family"] for r in drawn):
        chosen = [i for i, r in enumerate(drawn) if r["family"] == family]
        ax.errorbar(np.array([x[i] for i in chosen]), np.array([ratios[i] for i in chosen], dtype=float),
                    yerr=_bars([ratios[i] for i in chosen], [drawn[i]["vs_low"] for i in chosen],
                               [drawn[i]["vs_high"] for i in chosen]),
                    fmt="o", ms=6, capsize=3, lw=1.5, color=FAMILY_COLOURS.get(family, "black"), label=family,
                    zorder=3)
    ax.axhline(1, color="black", ls="--", lw=1, label=f"= {baseline}", zorder=1)
    ax.set_xticks(x, [r["method"] for r in drawn], rotation=60, ha="right", fontsize=8)
    ax.set_xlim(min(x) - 0.7, max(x) + 0.7)
    ax.set_yscale("log")
    ax.set_ylabel(f"error / {baseline}'s (paired by seed)")
    for problem in problems:
        columns = [xi for xi, r in zip(x, drawn) if r["problem"] == problem]
        ax.text(sum(columns) / len(columns), 1.02, problem, transform=ax.get_xaxis_transform(), ha="center",
                va="bottom", fontsize=9)
    ax.legend(fontsize=8, loc="upper left")
    return ax


def plot_conflicts(study, axes: Sequence[Axes] | None = None) -> list[Axes]:
    """A conflict study (``reproduction.studies.ConflictStudy``: the plain PINN's gradients over training, per
    problem) in two panels. Left: the magnitudes, ||g_r|| / ||g_i|| for each weighted term i, on a log axis with
    the balance at 1. Right: the directions, cos(g_r, g_i), with 0 (orthogonal; below it the terms conflict).
    One colour per problem, one line style per term."""
    left, right = _panels(axes, 2, size=(4.6, 3.4))
    styles = ["-", "--", ":", "-."]
    for k, run in enumerate(study.runs):
        for j, term in enumerate(run.norm_ratio):
            style = {"color": f"C{k}", "ls": styles[j % len(styles)], "lw": 1.2,
                     "label": f"{run.problem}, {term}"}
            left.plot(run.steps, run.norm_ratio[term], **style)
            right.plot(run.steps, run.cosine[term], **style)
    left.axhline(1, color="black", lw=0.8)
    left.set_yscale("log")
    left.set_xlabel("step")
    left.set_ylabel(r"$\|g_r\| / \|g_i\|$")
    left.set_title("magnitudes", fontsize=10)
    right.axhline(0, color="black", lw=0.8)
    right.set_ylim(-1.05, 1.05)
    right.set_xlabel("step")
    right.set_ylabel(r"$\cos(g_r, g_i)$")
    right.set_title("directions (below 0: in conflict)", fontsize=10)
    right.legend(fontsize=7)
    return [left, right]
