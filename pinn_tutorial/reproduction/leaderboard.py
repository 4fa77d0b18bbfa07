"""The later remedies beside the paper's methods, on the paper's protocol: each against M4, paired by seed.

Every method (a preset such as M2, or a network composed with a weighting, ``mlp+relobralo``) that has
paper-budget runs of 40,000 steps with the default settings is one row per problem: its geometric mean error
over its seeds with a 95% interval, and its errors over M4's of the same seeds (``comparison.paired_ratio``: the
same initialisation and stream of points for both, so the seed-to-seed spread cancels). The rows of a table are
one family of comparisons: Holm's adjustment says which still differ from M4. Each row names its remedy's
family: what it corrects, the gradients' magnitudes (a weighting), their directions (gradient surgery), the
weight of each point (a pointwise scheme), or the network. Only the final iterate counts, as for every run of this
library. A pointwise scheme's runs draw their points from a fixed pool (``weighting.pointwise``), not fresh at every
step: a departure from the protocol, which the table's note states and the ``pool`` row (the pool alone) measures.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

from ..methods import PAPER_METHODS, resolve_method
from ..weighting import WEIGHTINGS, GradientSurgery
from .comparison import PAPER_STEPS, holm, paired_ratio
from .experiments import load_results
from .paper_tables import group_of, row_group, summarise
from .tables import markdown_table

BASELINE = "M4"  # the paper's best method, what a later remedy has to beat
LEADERBOARD_PROBLEMS = ("helmholtz", "klein_gordon", "cavity_stream")


def family(method: str, optimizer: str = "adam") -> str:
    """What a method corrects: "directions" (gradient surgery), "magnitudes" (a weighting that moves the
    lambda_i), "points" (a weight per point, on a pool of points: SA-PINN, RBA), "pool" (the pool alone, all its
    weights 1), "network" (fixed weights on a network other than the plain MLP), or "none" (the plain PINN); with
    "optimizer" where it steps with another optimiser than the paper's Adam (``soap``)."""
    arch, weighting = resolve_method(method)
    scheme = WEIGHTINGS[weighting]
    if issubclass(scheme, GradientSurgery):
        parts = ["directions"]
    elif scheme.weighs_points:
        parts = ["points" if scheme.weighted_sets else "pool"] + ([] if arch == "mlp" else ["network"])
    elif weighting != "fixed":
        parts = ["magnitudes"] + ([] if arch == "mlp" else ["network"])
    else:
        parts = [] if arch == "mlp" else ["network"]
    parts += [] if optimizer == "adam" else ["optimizer"]
    return " + ".join(parts) or "none"


def optimizer_of(row: dict) -> str:
    """The optimiser of a row of ``paper_tables.summarise`` (files older than the setting ran Adam)."""
    return row["identity"].get("optimizer") or "adam"


def leaderboard(results: list[dict], baseline: str = BASELINE) -> list[dict]:
    """One row per problem of ``LEADERBOARD_PROBLEMS`` and method with paper-budget, default-setting runs: the
    row of ``paper_tables.summarise`` with ``family``, and against ``baseline`` over the seeds both have,
    ``paired_seeds``, ``vs_baseline`` with its 95% interval (``vs_low``, ``vs_high``) and p-value
    (``vs_p_value``), ``reading`` ("lower", "higher", "no detectable change", "-" with fewer than two paired seeds)
    and ``vs_differs_holm``, whether it still differs after Holm's adjustment over the table's comparisons.
    A row whose only departure from the default settings is its optimiser (SOAP) is a method of its own: its
    ``method`` is the preset's with the optimiser's name, ``M1+soap``. Sorted by problem, then geometric mean."""
    chosen = [r for r in results if r["problem"] in LEADERBOARD_PROBLEMS and r["budget"] == "paper"
              and r["steps"] == PAPER_STEPS]
    rows = [r for r in summarise(chosen) if set(r["departs"]) <= {"optimizer"}]
    errors: dict[tuple, dict[int, float]] = defaultdict(dict)
    for r in chosen:
        errors[group_of(r)][r["seed"]] = r["rel_l2"]
    board = []
    for row in rows:
        ours = errors[row_group(row)]
        base = errors.get((row["problem"], baseline, "", "paper", PAPER_STEPS), {})
        seeds = sorted(set(ours) & set(base))
        ratio = paired_ratio([ours[s] for s in seeds], [base[s] for s in seeds]) if seeds else None
        optimizer = optimizer_of(row)
        board.append({**row, "method": row["method"] + ("" if optimizer == "adam" else f"+{optimizer}"),
                      "family": family(row["method"], optimizer), "paired_seeds": seeds,
                      "vs_baseline": ratio.ratio if ratio else math.nan,
                      "vs_low": ratio.low if ratio else math.nan, "vs_high": ratio.high if ratio else math.nan,
                      "vs_p_value": ratio.p_value if ratio else math.nan,
                      "reading": ratio.reading("no detectable change") if ratio else "-", "vs_differs_holm": False})
    tested = [r for r in board if not math.isnan(r["vs_p_value"]) and r["method"] != baseline]
    for row, differs in zip(tested, holm([r["vs_p_value"] for r in tested]), strict=True):
        row["vs_differs_holm"] = differs
    board.sort(key=lambda r: (LEADERBOARD_PROBLEMS.index(r["problem"]), r["gmean"]))
    return board


def format_leaderboard(board: list[dict], baseline: str = BASELINE) -> str:
    """``leaderboard`` as a Markdown table, with a line on how to read it."""
    def against(r: dict) -> list[str]:
        if r["method"] == baseline:
            return ["-", "-", "baseline"]
        interval = "" if math.isnan(r["vs_low"]) else f" ({r['vs_low']:.2f} to {r['vs_high']:.2f})"
        ratio = "-" if math.isnan(r["vs_baseline"]) else f"{r['vs_baseline']:.2f}{interval}"
        return [ratio, str(len(r["paired_seeds"])), r["reading"] + (" (Holm)" if r["vs_differs_holm"] else "")]

    rows = [[r["problem"], r["method"], r["family"], str(len(r["seeds"])), f"{r['gmean']:.2e}",
             "-" if math.isnan(r["gm_low"]) else f"{r['gm_low']:.2e} to {r['gm_high']:.2e}", *against(r),
             f"{r['wall_s']:.0f}"] for r in board]
    header = ["problem", "method", "corrects", "seeds", "GM error", "95% interval of GM",
              f"over {baseline} (95% interval)", "paired seeds", f"against {baseline}", "s/run"]
    tested = sum(not math.isnan(r["vs_p_value"]) and r["method"] != baseline for r in board)
    note = (f"Paper budget (40,000 steps), default settings (a method +soap: SOAP in place of Adam, nothing else "
            f"changed), final iterate. GM: geometric mean of the relative L2 "
            f"errors over the seeds. over {baseline}: the geometric mean of error / {baseline}'s error over the seeds "
            f"both ran (the same initialisation and points), with its t interval; lower or higher where the interval "
            f"excludes 1, (Holm) where that survives Holm's adjustment for the {tested} comparisons. s/run: a run's "
            f"share of the wall time that trained it.")
    if any(r["family"].startswith(("points", "pool")) for r in board):
        note += (" points, pool: each step's points are drawn from a pool of points drawn once per run, not fresh "
                 "(a departure from the protocol, which pointwise weights need); pool: that pool with every weight "
                 "1, plain M1 otherwise.")
    return markdown_table(header, rows, left=3) + "\n\n" + note


RANKED_ON = ("helmholtz", "klein_gordon")  # the problems every method runs on at ten seeds; the cavity takes the best


def best_methods(board: list[dict], count: int = 5) -> list[str]:
    """The ``count`` methods of ``board`` with the lowest geometric mean, over ``RANKED_ON``, of their geometric-mean
    errors there (a method needs a row on each): those the cavity is run for."""
    errors: dict[str, dict[str, float]] = defaultdict(dict)
    for r in board:
        if r["problem"] in RANKED_ON:
            errors[r["method"]][r["problem"]] = r["gmean"]
    score = {m: sum(math.log(e[p]) for p in RANKED_ON) for m, e in errors.items() if set(e) == set(RANKED_ON)}
    return sorted(score, key=score.get)[:count]


def leaderboard_table(folder: str | Path = "results") -> str:
    """The leaderboard of the result files in ``folder`` as text, headed, with the five best methods on
    Helmholtz and Klein-Gordon and their seeds on the cavity; "" when the files hold no paper-budget run of a
    method beyond the paper's four (``table`` then prints only the paper's tables)."""
    board = leaderboard(load_results(folder))
    if not any(r["method"] not in PAPER_METHODS for r in board):
        return ""
    heading = f"The paper's methods and the later remedies against {BASELINE}, paired by seed"
    cavity = {r["method"]: len(r["seeds"]) for r in board if r["problem"] == "cavity_stream"}
    best = ", ".join(f"{m} ({cavity.get(m, 0)})" for m in best_methods(board))
    return (f"{heading}\n\n{format_leaderboard(board)}\n\nThe five best on {' and '.join(RANKED_ON)} (the geometric "
            f"mean of their two GM errors), with their seeds on cavity_stream: {best}.")
