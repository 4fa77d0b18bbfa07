"""How fast a training step is, on each derivative path: ``python -m pinn_tutorial bench``.

Three paths compute the same loss:

- **nested autograd**: input derivatives by reverse mode twice over (the reference);
- **fast eager**: the networks propagate u, its first and pure second derivatives forward
  (Taylor mode, ``autodiff.jet``), so the residual costs one forward and one backward pass;
- **fast compiled**: the same, with the loss terms and their gradients compiled into one graph
  by ``torch.compile``.

All three take the same optimiser step (PyTorch's fused Adam). Each is timed with fixed weights
and with Algorithm 1 (its per-term gradients are the ones the step uses, so it costs no extra
backward pass), on the same trainer, interleaved over several repeats after a warm-up. The table
gives the median milliseconds per step and the ratio to nested autograd measured in the same run;
the machine may be noisy, so the ratios are the claim.
"""

from __future__ import annotations

import importlib.util
import statistics
import tempfile
import time

import torch

from .config import Budget, get_budget
from .experiments import Experiment, machine, run_experiment
from .methods import build
from .paper import KLEIN_GORDON_TRAIN_TIME_S
from .problems import get_problem
from .training import Trainer
from .weighting import FixedWeights, LearningRateAnnealing

PATHS = {
    "nested autograd": {"derivatives": "autograd", "compile": "off"},
    "fast eager": {"derivatives": "auto", "compile": "off"},
    "fast compiled": {"derivatives": "auto", "compile": "on"},
}
NETWORKS = {"MLP": "M1", "ModifiedMLP": "M3"}


def _time_steps(trainer: Trainer, steps: int) -> float:
    """Milliseconds per step over ``steps`` training steps."""
    start = time.perf_counter()
    for _ in range(steps):
        trainer.train_step()
        trainer.step += 1
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps * 1000


def step_times(problem_name: str = "helmholtz", repeats: int = 5, steps: int = 50, warmup: int = 20,
               paths: tuple[str, ...] = tuple(PATHS), device: str | None = None) -> list[dict]:
    """Median ms per step for every network x path x weighting, with ratios to nested autograd.

    ``steps`` should be a multiple of 10 so that Algorithm 1 updates as often as in training.
    """
    problem = get_problem(problem_name)
    budget = get_budget("paper")
    weightings = {"fixed": FixedWeights(problem.weighted_terms),
                  "Algorithm 1": LearningRateAnnealing(problem.weighted_terms)}
    trainers, rows = {}, {}
    for net_name, method in NETWORKS.items():
        for path in paths:
            net, _ = build(method, problem, seed=0)
            trainer = Trainer(problem, net, weightings["fixed"], budget=budget, steps=10**9, progress=False,
                              device=device, **PATHS[path])
            start = time.perf_counter()
            for weighting in weightings.values():  # the first steps compile, forward and backward
                trainer.weighting = weighting
                _time_steps(trainer, warmup)
            trainers[net_name, path] = trainer
            for w in weightings:
                rows[net_name, path, w] = {"network": net_name, "path": path, "weighting": w, "times": [],
                                           "warmup_s": time.perf_counter() - start}
    for _ in range(repeats):  # interleaved, so that a slow spell of the machine hits every row alike
        for (net_name, path), trainer in trainers.items():
            for w, weighting in weightings.items():
                trainer.weighting = weighting
                rows[net_name, path, w]["times"].append(_time_steps(trainer, steps))
    for row in rows.values():
        row["ms_per_step"] = statistics.median(row["times"])
    for (net_name, path, w), row in rows.items():
        row["vs_nested"] = row["ms_per_step"] / rows[net_name, paths[0], w]["ms_per_step"]
        row["vs_fixed"] = row["ms_per_step"] / rows[net_name, path, "fixed"]["ms_per_step"]
    return list(rows.values())


def format_step_table(rows: list[dict]) -> str:
    lines = [f"{'network':<12} {'path':<16} {'weighting':<12} {'ms/step':>8} {'x nested':>9} {'x fixed':>8}"]
    for r in rows:
        lines.append(f"{r['network']:<12} {r['path']:<16} {r['weighting']:<12} {r['ms_per_step']:8.2f} "
                     f"{r['vs_nested']:9.2f} {r['vs_fixed']:8.2f}")
    return "\n".join(lines)


def full_run(problem: str, method: str, budget: str | Budget = "paper", device: str | None = None) -> dict:
    """Wall time of one complete run on the automatic (fastest) path, compile included.

    The run's files go to a temporary folder: a timing must not replace a reproduction's result.
    """
    exp = Experiment(problem, method, get_budget(budget).name)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        result = run_experiment(exp, out, resume=False, progress=False, device=device)
    return {"problem": problem, "method": method, "budget": exp.budget, "steps": result["steps"],
            "wall_s": time.perf_counter() - start, "rel_l2": result["rel_l2"]}


def deepxde_available() -> bool:
    return importlib.util.find_spec("deepxde") is not None


def report(repeats: int = 5, full: bool = False, device: str | None = None, compile: bool = True) -> str:
    """The whole benchmark as printable text (``compile=False`` leaves out the compiled path)."""
    paths = tuple(PATHS) if compile else tuple(p for p in PATHS if PATHS[p]["compile"] == "off")
    rows = step_times(repeats=repeats, paths=paths, device=device)
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    text = [f"Helmholtz, 128 points per term, 3 hidden layers x 50; {machine(dev)}; torch {torch.__version__}",
            f"median of {repeats} repeats of 50 steps after warm-up", "", format_step_table(rows)]
    if not deepxde_available():
        text += ["", "deepxde is not installed: its Helmholtz script was not timed."]
    if full:
        text += ["", "complete runs at the paper budget (40,000 steps), automatic path, compile included:"]
        for problem in ("helmholtz", "klein_gordon"):
            run = full_run(problem, "M4", device=device)
            paper = (f"; the paper's laptop CPU: {KLEIN_GORDON_TRAIN_TIME_S['M4']:,.0f} s (Table 3)"
                     if problem == "klein_gordon" else "")
            text.append(f"  {problem} M4: {run['wall_s']:.0f} s ({run['wall_s'] / run['steps'] * 1000:.2f} ms/step), "
                        f"relative L2 error {run['rel_l2']:.2e}{paper}")
    return "\n".join(text)
