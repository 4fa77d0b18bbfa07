"""Reproducing the paper's tables: every method on a benchmark, several seeds, ours beside theirs.

``reproduce`` runs M1..M4 (for the cavity, both formulations) for a number of seeds and writes
one result file per run; ``table`` reads the result files and sets our mean and spread beside
the numbers the paper reports (``pinn_tutorial.paper``). Nothing in a table is typed in.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from pathlib import Path

from .config import choose, get_budget
from .experiments import Experiment, load_results, run_experiment
from .methods import METHODS, PAPER_METHODS
from .paper import reported
from .problems import PROBLEMS

# What `reproduce NAME` runs: one problem, or the cavity's two formulations.
BENCHMARKS: dict[str, tuple[str, ...]] = {name: (name,) for name in PROBLEMS}
BENCHMARKS["cavity"] = ("cavity_stream", "cavity_velocity")


def reproduce(benchmark: str, budget: str | None = None, seeds: int = 1, out: str | Path = "results",
              methods: tuple[str, ...] = PAPER_METHODS, progress: bool = True,
              device: str | None = None) -> list[dict]:
    """Train every method on the benchmark for seeds 0..seeds-1 (resuming finished or interrupted
    runs from their checkpoints) and return the results."""
    problems = BENCHMARKS[choose("benchmark", benchmark, BENCHMARKS)]
    for method in methods:
        choose("method", method, METHODS)
    if seeds < 1:
        raise ValueError(f"seeds must be at least 1, got {seeds}")
    budget_name = get_budget(budget).name
    results = []
    for seed in range(seeds):  # seed by seed, so that a complete table of seed 0 comes first
        for problem in problems:
            for method in methods:
                exp = Experiment(problem, method, budget_name, seed)
                result = run_experiment(exp, out, resume=True, progress=progress, device=device)
                print(f"{problem} {method} seed {seed}: relative L2 error {result['rel_l2']:.2e} "
                      f"in {result['wall_s']:.0f} s")
                results.append(result)
    return results


def _setting(result: dict) -> str:
    """How a run departs from the defaults (empty for the default setting)."""
    parts = []
    if METHODS[result["method"]].annealing and result.get("form", "code") != "code":
        parts.append(f"Algorithm 1 as {result['form']}")
    if METHODS[result["method"]].architecture == "modified_mlp" and result.get("variant", "code") != "code":
        parts.append(f"{result['variant']} gated net")
    if result.get("derivatives", "auto") != "auto":
        parts.append(f"{result['derivatives']} derivatives")
    if result.get("params"):
        parts.append(", ".join(f"{k}={v:g}" for k, v in result["params"].items()))
    return "; ".join(parts)


def summarise(results: list[dict]) -> list[dict]:
    """One row per problem, method, setting, budget and steps: mean and spread over seeds."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in results:
        groups[r["problem"], r["method"], _setting(r), r["budget"], r["steps"]].append(r)
    rows = []
    for (problem, method, setting, budget, steps), runs in sorted(groups.items()):
        errors = [r["rel_l2"] for r in runs]
        paper = reported(problem, method)
        spectral = [r["rel_l2_spectral"] for r in runs if "rel_l2_spectral" in r]
        rows.append({
            "problem": problem, "method": method, "setting": setting, "budget": budget, "steps": steps,
            "seeds": sorted(r["seed"] for r in runs), "mean": statistics.fmean(errors),
            "std": statistics.stdev(errors) if len(errors) > 1 else math.nan,
            "min": min(errors), "max": max(errors),
            "spectral_mean": statistics.fmean(spectral) if spectral else None,
            "paper": paper.rel_l2 if paper else None, "paper_source": paper.source if paper else None,
            "wall_s": statistics.fmean(r["wall_s"] for r in runs),
            "hardware": sorted({r["hardware"] for r in runs}),
        })
    return rows


def format_table(rows: list[dict]) -> str:
    """The summary as text: ours (mean +- std over n seeds) beside the paper's figure."""
    head = (f"{'problem':<16} {'method':<6} {'budget':<8} {'ours: mean':>10} {'+- std':>9} {'n':>2} "
            f"{'paper':>9} {'x paper':>8} {'wall s':>7}  setting")
    lines = [head, "-" * len(head)]
    for r in rows:
        paper = f"{r['paper']:9.2e}" if r["paper"] else f"{'-':>9}"
        ratio = f"{r['mean'] / r['paper']:8.2f}" if r["paper"] else f"{'-':>8}"
        std = f"{r['std']:9.1e}" if not math.isnan(r["std"]) else f"{'-':>9}"
        extra = f"spectral {r['spectral_mean']:.2e}" if r["spectral_mean"] is not None else ""
        setting = "; ".join(s for s in (r["setting"], extra) if s)
        lines.append(f"{r['problem']:<16} {r['method']:<6} {r['budget']:<8} {r['mean']:10.2e} {std} "
                     f"{len(r['seeds']):>2} {paper} {ratio} {r['wall_s']:7.0f}  {setting}")
    sources = sorted({(r["problem"], r["method"], r["paper_source"]) for r in rows if r["paper_source"]})
    lines += ["", "paper: arXiv:2001.04536 v1; " + "; ".join(f"{p} {m}: {s}" for p, m, s in sources)]
    return "\n".join(lines)


def table(folder: str | Path = "results", budget: str | None = None) -> str:
    """The table of every result file in ``folder`` (optionally of one budget only)."""
    results = load_results(folder)
    if budget is not None:
        results = [r for r in results if r["budget"] == choose("budget", budget, ("quick", "default", "paper"))]
    if not results:
        raise FileNotFoundError(f"no result files in {folder}; run `python -m pinn_tutorial reproduce ...` first")
    return format_table(summarise(results))
