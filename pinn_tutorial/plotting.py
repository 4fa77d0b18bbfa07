"""Every figure the book shows, in one style: one function per kind of figure.

Each function draws on the axes it is given (or makes a new figure) and returns the axes, so
a chapter can place several figures side by side.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from matplotlib.axes import Axes

from .problems import Problem
from .training import History

# One colour per loss term, the same in every chapter.
TERM_COLOURS = {"residual": "tab:red", "boundary": "tab:blue", "initial": "tab:green"}
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
