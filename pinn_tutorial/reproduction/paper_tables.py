"""Reproducing the paper's tables: every method on a benchmark, several seeds, ours beside theirs.

``reproduce`` runs M1..M4 (for the cavity, both formulations) for a number of seeds and writes
one result file per run; ``table`` reads the result files and sets our mean and spread beside
the numbers the paper reports (``pinn_tutorial.reproduction.paper``). Nothing in a table is typed in.
"""

from __future__ import annotations

import json
import math
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

from ..config import Budget, choose, get_budget
from ..methods import METHODS, PAPER_METHODS, build
from ..problems import PROBLEMS, Problem
from ..training import Trainer
from .comparison import (
    PAPER_STEPS,
    NotComparable,
    Ratio,
    check_comparable,
    expected_by_chance,
    geometric_mean,
    geometric_mean_interval,
    holm,
    paired_ratio,
    ratio_to_paper,
    welch_ratio,
)
from .experiments import ORIGINAL_CODE_FOLDER, Experiment, identity_key, load_results, result_identity
from .paper import HELMHOLTZ_TABLE2, reported_for_network
from .sweeps import ENSEMBLE_SIZE, check_seed_count, run_sweep, with_settings

# What `reproduce NAME` runs: one problem, or the cavity's two formulations.
BENCHMARKS: dict[str, tuple[str, ...]] = {name: (name,) for name in PROBLEMS}
BENCHMARKS["cavity"] = ("cavity_stream", "cavity_velocity")


def reproduce(benchmark: str, budget: str | None = None, seeds: int | list[int] = 1, *, out: str | Path,
              methods: tuple[str, ...] = PAPER_METHODS, progress: bool = True, device: str | None = None,
              jobs: int | None = None, use_ray: bool = False, ray_address: str | None = None,
              ensemble_size: int = ENSEMBLE_SIZE, steps: int | None = None, settings: dict | None = None,
              ) -> list[dict]:
    """Train every method on the benchmark for ``seeds`` (N: seeds 0..N-1, or a list) and return the results.

    ``out`` has no default: a library call writes where it is told, never into whatever folder Python runs in
    (the command line's ``--out`` defaults to ``results``). ``settings`` (``Experiment``'s keyword arguments, e.g.
    ``{"adam": "tf1"}``) apply to every run they concern (``sweeps.with_settings``); ``steps`` is one of them.

    The runs go to ``sweeps.run_sweep``: runs that can share an ensemble train as one (M1 with
    M2, M3 with M4), ``jobs`` worker processes or Ray tasks at a time; finished runs are skipped
    and interrupted ones resume from their checkpoints.
    """
    problems = BENCHMARKS[choose("benchmark", benchmark, BENCHMARKS)]
    for method in methods:
        choose("method", method, METHODS)
    if isinstance(seeds, int):
        seeds = list(range(check_seed_count(seeds)))
    budget_name = get_budget(budget).name
    experiments = with_settings([Experiment(problem, method, budget_name, seed)
                                 for seed in seeds for problem in problems for method in methods],
                                {**(settings or {}), **({"steps": steps} if steps is not None else {})})
    return run_sweep(experiments, out, jobs, ray_address, use_ray, ensemble_size, progress, device)


# The original code's details at the library's defaults, as ``Experiment`` declares them.
CODE_DETAIL_DEFAULTS = {f.name: f.default for f in fields(Experiment)
                        if f.name in ("lambda_update", "input_scaling", "adam")}


def _setting(result: dict) -> str:
    """How a run departs from the defaults, in words (empty for the default setting): each setting's label
    (``experiments.Setting.label``), after the authors' code where a run is theirs."""
    parts = []
    if result.get("implementation") == "original":  # reproduction.original_code: the authors' TensorFlow code
        gate = ", the first public version's gate" if result.get("gate") == "first" else ""
        parts.append(f"the authors' code (TensorFlow {result.get('tensorflow', '?')}){gate}")
    label = Experiment.from_result(result).label()
    return "; ".join(parts + ([label] if label else []))


def is_default_setting(result: dict) -> bool:
    """Whether a run is in its method's default setting: no switch departs from the library's defaults
    (``_setting`` is empty), the problem's own network included (for Helmholtz, 3 hidden layers of 50)."""
    return not _setting(result)


def is_code_details_run(result: dict) -> bool:
    """Whether a run is its method's default setting apart from the original code's details (the
    default setting itself included): the runs of ``sweep helmholtz-code-details`` and their baseline."""
    return is_default_setting({**result, **CODE_DETAIL_DEFAULTS})


def _run_together(result: dict) -> int:
    """How many runs trained together with this one, itself included: 1 for a single run."""
    return (result.get("ensemble") or {}).get("size", 1)


def run_share_s(result: dict) -> float:
    """A run's share of the wall time that trained it: an ensemble's time divided among its members."""
    return result["wall_s"] / _run_together(result)


def runs_made_alike(results: list[dict]) -> list[dict]:
    """The runs whose wall times compare: those of one machine and one layout (single runs, or ensembles of one
    size) that has runs of every method in ``results``; where several layouts do, the one with the most runs.
    Empty when none does."""
    layouts: dict[tuple, list[dict]] = defaultdict(list)
    for r in results:
        layouts[r["hardware"], _run_together(r)].append(r)
    methods = {r["method"] for r in results}
    return max((runs for runs in layouts.values() if {r["method"] for r in runs} == methods), key=len, default=[])


def describe_layout(result: dict) -> str:
    """How a run was trained, in words: its machine, the threads per run (CPU) and single runs or ensembles of
    its size, e.g. "Intel(R) Xeon(R) Processor, 1 thread per run, 2-member ensembles"."""
    machine = result["hardware"]
    if m := re.fullmatch(r"(.+) \((\d+) threads\)", machine):
        machine = f"{m[1]}, {m[2]} thread{'s' if m[2] != '1' else ''} per run"
    size = _run_together(result)
    return f"{machine}, {'single runs' if size == 1 else f'{size}-member ensembles'}"


def group_of(result: dict) -> tuple:
    """The label of the row of ``summarise`` a result file belongs to: its problem, method, setting, budget and
    steps (the row itself is the run's identity less its seed)."""
    return result["problem"], result["method"], _setting(result), result["budget"], result["steps"]


def _row_identity(result: dict) -> dict:
    """What a row of ``summarise`` holds fixed: the run's identity (``experiments.result_identity``) but its seed."""
    return {k: v for k, v in result_identity(result).items() if k != "seed"}


def row_group(row: dict, setting: str | None = None) -> tuple:
    """The group of a row of ``summarise`` (``group_of`` its runs), or of ``setting`` beside it."""
    return (row["problem"], row["method"], row["setting"] if setting is None else setting, row["budget"],
            row["steps"])


def summarise(results: list[dict]) -> list[dict]:
    """One row per run identity less its seed (labelled by its problem, method, setting, budget and steps), over
    its seeds.

    Each row holds the errors' arithmetic ``mean``, ``std``, ``min`` and ``max``; their geometric mean ``gmean``
    with its 95% interval (``gm_low``, ``gm_high``; ``comparison.geometric_mean_interval``); ``wall_s``, the mean
    of the runs' shares of their wall times (``run_share_s``); and, for runs of the paper's protocol, the
    comparison with the paper's figure (``paper``, ``paper_source``, ``paper_trials``): our geometric mean over
    the paper's, with its 95% interval and p-value (``ratio``, ``ratio_low``, ``ratio_high``, ``p_value``;
    ``comparison.ratio_to_paper``), its ``verdict`` ("consistent", "higher", "lower", "-" with one seed) and,
    the rows taken as one family of comparisons, whether it still differs after Holm's adjustment
    (``differs_holm``). Rows of other budgets have ``paper`` None: they are not compared.
    """
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in results:
        groups[identity_key(_row_identity(r))].append(r)
    rows = []
    labelled = sorted(((group_of(runs[0]), runs) for runs in groups.values()), key=lambda item: item[0])
    for (problem, method, setting, budget, steps), runs in labelled:
        errors = [r["rel_l2"] for r in runs]
        width, depth = runs[0].get("width"), runs[0].get("depth")
        low, high = geometric_mean_interval(errors)
        spectral = [r["rel_l2_spectral"] for r in runs if "rel_l2_spectral" in r]
        row = {
            "problem": problem, "method": method, "setting": setting, "budget": budget, "steps": steps,
            "seeds": sorted(r["seed"] for r in runs), "errors": errors, "mean": statistics.fmean(errors),
            "std": statistics.stdev(errors) if len(errors) > 1 else math.nan,
            "gmean": geometric_mean(errors), "gm_low": low, "gm_high": high,
            "width": width, "depth": depth, "params": runs[0].get("params") or {},
            "min": min(errors), "max": max(errors),
            "spectral_mean": statistics.fmean(spectral) if spectral else None,
            "wall_s": statistics.fmean(run_share_s(r) for r in runs),
            "hardware": sorted({r["hardware"] for r in runs}),
            "departs": [name for name, _ in Experiment.from_result(runs[0]).departures()],
            "identity": _row_identity(runs[0]),
        }
        rows.append({**row, **_paper_comparison(row)})
    adjusted = holm([r["p_value"] for r in rows])
    for row, differs in zip(rows, adjusted, strict=True):
        row["differs_holm"] = differs
    return rows


def _paper_comparison(row: dict) -> dict:
    """The row's comparison with the paper's figure (``summarise``); ``paper`` None where there is no figure for
    its problem, method and network, or where its runs are not of the paper's protocol."""
    paper = reported_for_network(row["problem"], row["method"], row["depth"], row["width"], row["params"])
    try:
        check_comparable(row["budget"], row["steps"])
    except NotComparable:
        paper = None
    if paper is None:
        return {"paper": None, "paper_source": None, "paper_trials": None, "ratio": None, "ratio_low": math.nan,
                "ratio_high": math.nan, "p_value": math.nan, "verdict": "-"}
    ratio = ratio_to_paper(row["errors"], paper.rel_l2, paper.trials)
    return {"paper": paper.rel_l2, "paper_source": paper.source, "paper_trials": paper.trials,
            "ratio": ratio.ratio, "ratio_low": ratio.low, "ratio_high": ratio.high, "p_value": ratio.p_value,
            "verdict": ratio.reading()}


def compare_with_paper(row: dict) -> Ratio:
    """The comparison of a row of ``summarise`` with the paper's figure; ``NotComparable`` for runs of another
    budget or number of steps (the paper's figures are after 40,000 steps), ``KeyError`` where the paper gives
    no figure for the row."""
    check_comparable(row["budget"], row["steps"])
    paper = reported_for_network(row["problem"], row["method"], row["depth"], row["width"], row["params"])
    if paper is None:
        raise KeyError(f"the paper reports no figure for {row['problem']} {row['method']}")
    return ratio_to_paper(row["errors"], paper.rel_l2, paper.trials)


def setting_effects(results: list[dict], baseline: str = "") -> list[dict]:
    """Each setting's runs set against the ``baseline`` setting's ("" is the default), per problem and method.

    One dict per other setting: the row of ``summarise`` plus ``baseline_gmean`` (over the same seeds, when
    paired), the ratio of geometric means, setting over baseline, with its 95% interval (``change``,
    ``change_low``, ``change_high``), how it was paired (``pairing``: "same seeds" when every seed of the
    setting has a baseline run, ``comparison.paired_ratio``; otherwise "Welch", two independent groups,
    ``comparison.welch_ratio``) and ``effect``: "lower", "higher", "no detectable change", or "-" when a group
    has one seed.
    """
    rows = summarise(results)
    errors: dict[tuple, dict[int, float]] = defaultdict(dict)
    for r in results:
        errors[group_of(r)][r["seed"]] = r["rel_l2"]
    effects = []
    for row in rows:
        key, base = row_group(row), row_group(row, baseline)
        if row["setting"] == baseline or base not in errors:
            continue
        ours, theirs = errors[key], errors[base]
        paired = set(ours) <= set(theirs)
        if paired:
            seeds = sorted(ours)
            change = paired_ratio([ours[s] for s in seeds], [theirs[s] for s in seeds])
            baseline_gmean = geometric_mean([theirs[s] for s in seeds])
        else:
            change = welch_ratio(list(ours.values()), list(theirs.values()))
            baseline_gmean = geometric_mean(list(theirs.values()))
        effects.append({**row, "baseline_gmean": baseline_gmean, "change": change.ratio, "change_low": change.low,
                        "change_high": change.high, "pairing": "same seeds" if paired else "Welch",
                        "effect": change.reading("no detectable change")})
    return effects


def alike_rows(rows: list[dict]) -> list[str]:
    """One warning per label that several rows of ``summarise`` share: rows of different run identities that the
    table's columns (problem, method, budget, setting) do not tell apart, e.g. where a setting's label rounds
    (``a2=4`` for 4.0 and for 4.0000001). Each names the label and the settings of the identity that differ, with
    their values row by row; empty when every label is its own."""
    by_label: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        by_label[r["problem"], r["method"], r["budget"], r["setting"]].append(r)
    found = []
    for (problem, method, budget, setting), alike in by_label.items():
        if len(alike) < 2:
            continue
        names = sorted({name for r in alike for name in r["identity"]})
        differ = [name for name in names if len({identity_key({name: r["identity"].get(name)}) for r in alike}) > 1]
        values = "; ".join(f"{name}: " + " / ".join(json.dumps(r["identity"].get(name), sort_keys=True) for r in alike)
                           for name in differ)
        found.append(f"warning: {len(alike)} rows read {problem} {method} {budget} {setting or '(default setting)'}, "
                     f"but hold different runs; they differ in {values}")
    return found


def _interval(low: float, high: float, digits: str = ".2e") -> str:
    """An interval as "low to high", or "-" where there is none (NaNs)."""
    return "-" if math.isnan(low) else f"{low:{digits}} to {high:{digits}}"


def _ratio_cell(ratio: float | None, low: float, high: float) -> str:
    """A ratio with its interval, e.g. "1.48 (1.21 to 1.81)"; "-" without a ratio."""
    if ratio is None:
        return "-"
    return f"{ratio:.2f}" + ("" if math.isnan(low) else f" ({low:.2f} to {high:.2f})")


def multiplicity_note(rows: list[dict]) -> str:
    """One sentence on the family of comparisons with the paper in ``rows``: how many, how many "differ", how
    many chance alone would give if all agreed, and how many still differ after Holm's adjustment."""
    tested = [r for r in rows if not math.isnan(r["p_value"])]
    if not tested:
        return ""
    differ = sum(r["verdict"] in ("higher", "lower") for r in tested)
    adjusted = sum(holm([r["p_value"] for r in tested]))  # these rows as the family, whatever was summarised with them
    return (f"{len(tested)} comparisons with the paper, {differ} outside their 95% interval; chance alone would put "
            f"about {expected_by_chance(len(tested)):.1f} outside if all agreed; after Holm's adjustment for the "
            f"{len(tested)}, {adjusted} still {'differs' if adjusted == 1 else 'differ'}.")


def format_effects(effects: list[dict]) -> str:
    """``setting_effects`` as a Markdown table: each setting's geometric mean over its seeds, the baseline's over
    the same seeds, the ratio setting / baseline with its 95% interval (paired by seed, or Welch's) and what the
    interval says. A method column leads where the effects hold several methods."""
    several = len({e["method"] for e in effects}) > 1
    head = (["method"] if several else []) + ["setting", "seeds", "geometric mean", "baseline", "ratio (95% interval)",
                                               "paired by", "change"]
    text_columns = {"method", "setting", "seeds", "paired by", "change"}
    lines = _table_head(head, text_columns)
    for e in effects:
        cells = ([e["method"]] if several else []) + [
            _cell(e["setting"]), str(len(e["seeds"])), f"{e['gmean']:.2e}", f"{e['baseline_gmean']:.2e}",
            _ratio_cell(e["change"], e["change_low"], e["change_high"]), e["pairing"], e["effect"]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_table(rows: list[dict]) -> str:
    """The summary as text: ours (geometric mean over n seeds, its 95% interval) beside the paper's figure, the
    ratio with its 95% interval and the verdict."""
    head = (f"{'problem':<16} {'method':<6} {'budget':<8} {'ours: GM':>9} {'n':>2} {'95% interval of GM':>20} "
            f"{'paper':>9} {'ours/paper (95% interval)':>26} {'verdict':>10} {'s/run':>7}  setting")
    lines = [head, "-" * len(head)]
    for r in rows:
        paper = f"{r['paper']:9.2e}" if r["paper"] else f"{'-':>9}"
        extra = f"spectral {r['spectral_mean']:.2e}" if r["spectral_mean"] is not None else ""
        setting = "; ".join(s for s in (r["setting"], extra) if s)
        lines.append(f"{r['problem']:<16} {r['method']:<6} {r['budget']:<8} {r['gmean']:9.2e} {len(r['seeds']):>2} "
                     f"{_interval(r['gm_low'], r['gm_high']):>20} {paper} "
                     f"{_ratio_cell(r['ratio'], r['ratio_low'], r['ratio_high']):>26} {r['verdict']:>10} "
                     f"{r['wall_s']:7.0f}  {setting}")
    lines += alike_rows(rows)
    lines += ["", "GM: geometric mean of the relative L2 errors over the seeds, with the t interval of the mean log "
              "error; ours/paper: the ratio to the paper's figure on log errors, the paper's own spread taken as ours "
              "(pinn_tutorial.reproduction.comparison); verdict: consistent if the interval holds 1, else higher or "
              "lower. Only paper-budget runs of 40,000 steps are compared. s/run: a run's share of the wall time that "
              "trained it (an ensemble's divided among its members).", multiplicity_note(rows),
              "paper: arXiv:2001.04536 v1; " + _sources(rows) if any(r["paper"] for r in rows) else ""]
    return "\n".join(lines).rstrip()


def _sources(rows: list[dict]) -> str:
    """Where the paper's figures come from, one entry per source: Table 2's cells read as one source (the cell
    of each row's own network), e.g. "Table 3: klein_gordon M1/M2/M3/M4"."""
    methods: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for r in rows:
        if r["paper_source"]:
            table2 = r["paper_source"].startswith("Table 2, ")
            source = "Table 2, the row's network, mean of 10 trials" if table2 else r["paper_source"]
            methods[source][r["problem"]].add(r["method"])
    return "; ".join(f"{source}: " + ", ".join(f"{problem} {'/'.join(sorted(found))}"
                                               for problem, found in by_problem.items())
                     for source, by_problem in sorted(methods.items()))


def table(folder: str | Path = "results", budget: str | None = None) -> str:
    """The table of every result file in ``folder`` (optionally of one budget only)."""
    if budget is not None:
        choose("budget", budget, ("quick", "default", "paper"))
    results = load_results(folder)
    original = Path(folder) / ORIGINAL_CODE_FOLDER
    if original.is_dir():  # the authors' code's runs (pinn_tutorial.reproduction.original_code), rows of their own
        results += load_results(original)
    if budget is not None:
        held = sorted({r["budget"] for r in results})
        results = [r for r in results if r["budget"] == budget]
        if not results and held:
            raise FileNotFoundError(f"no {budget}-budget result files in {folder} (it holds {', '.join(held)}-budget "
                                    "ones)")
    if not results:
        raise FileNotFoundError(f"no result files in {folder}; run `python -m pinn_tutorial reproduce ...` first")
    rows = summarise(results)
    grid = format_table2(rows)
    return format_table(rows) + (f"\n\n{grid}" if grid else "")


def table2_rows(rows: list[dict]) -> dict[tuple[int, int], dict[str, dict]]:
    """Table 2's cells among the summary rows: Helmholtz at the paper budget, the default setting
    apart from the network, by (hidden layers, width) and method (the paper's four)."""
    cells: dict[tuple[int, int], dict[str, dict]] = defaultdict(dict)
    for r in rows:
        if r["problem"] != "helmholtz" or r["budget"] != "paper" or r["steps"] != PAPER_STEPS \
                or r["method"] not in PAPER_METHODS:
            continue
        depth, width = r["depth"], r["width"]
        default = set(r["departs"]) <= {"layers"} and not r["setting"].startswith("the authors' code")
        if default and (depth, width) in HELMHOLTZ_TABLE2:
            cells[depth, width][r["method"]] = r
    return dict(cells)


def format_table2(rows: list[dict]) -> str:
    """Table 2 as a grid: per cell, ours (geometric mean, n seeds) / the paper's mean of 10 trials, and the ratio's
    verdict; '' without such runs."""
    cells = table2_rows(rows)
    if not any(key != (3, 50) for key in cells):
        return ""
    methods = PAPER_METHODS
    lines = ["Table 2, Helmholtz at the paper budget: ours (geometric mean, n seeds) / the paper's mean of 10 trials, "
             "verdict", f"{'layers':>6} {'width':>5}  " + "  ".join(f"{m:^36}" for m in methods)]
    for depth, width in HELMHOLTZ_TABLE2:
        parts = []
        for m in methods:
            r, paper = cells.get((depth, width), {}).get(m), HELMHOLTZ_TABLE2[depth, width][m]
            ours = f"{r['gmean']:.2e} ({len(r['seeds'])})" if r else "-"
            parts.append(f"{ours:>14} / {paper:.2e} {r['verdict'] if r else '':<10}")
        lines.append(f"{depth:>6} {width:>5}  " + "  ".join(f"{p:>36}" for p in parts))
    note = multiplicity_note([r for by_method in cells.values() for r in by_method.values()])
    return "\n".join(lines + ([note] if note else []))


# -- helpers for the book's chapters -----------------------------------------------------------------


def _table_head(head: list[str], text_columns: set[str]) -> list[str]:
    """A Markdown table's header and alignment lines: text columns to the left, numbers to the right."""
    return ["| " + " | ".join(head) + " |", "|" + "|".join(":--" if h in text_columns else "--:" for h in head) + "|"]


def _cell(text: str) -> str:
    """A table cell: no pipe characters (they would split the cell)."""
    return str(text).replace("|", "/")


@dataclass
class PaperTable:
    """Our runs beside the paper's figures: the rows of ``summarise``, shown as a Markdown table.

    In a notebook the table renders itself (``_repr_markdown_``); ``rows`` keeps the numbers for the
    text around it, and ``row(method)`` finds one row.
    """

    rows: list[dict]
    title: str = ""

    def row(self, method: str, setting: str = "", problem: str | None = None) -> dict:
        """The row of ``method`` in ``setting`` ("" is the default setting), of ``problem`` if given."""
        for r in self.rows:
            if r["method"] == method and r["setting"] == setting and problem in (None, r["problem"]):
                return r
        raise KeyError(f"no row for {method!r} with setting {setting!r}; the table has "
                       f"{[(r['problem'], r['method'], r['setting']) for r in self.rows]}")

    def means(self, problem: str | None = None) -> dict[str, float]:
        """Our mean error per method, default setting only."""
        return {r["method"]: r["mean"] for r in self.rows if not r["setting"] and problem in (None, r["problem"])}

    @staticmethod
    def _seeds(seeds: list[int]) -> str:
        """The seeds as short runs: [0, 1, 2, 3, 7] reads "0-3, 7"."""
        runs: list[list[int]] = []
        for s in sorted(seeds):
            if runs and s == runs[-1][-1] + 1:
                runs[-1].append(s)
            else:
                runs.append([s])
        return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 2 else ", ".join(map(str, r)) for r in runs)

    def markdown(self) -> str:
        """The rows as a Markdown table: ours (geometric mean over the seeds with its 95% interval, the range over
        seeds) and, for runs of the paper's protocol, the paper's figure, the ratio ours / paper with its 95%
        interval and its verdict (``summarise``), with a note on the number of comparisons."""
        compared = any(r["paper"] for r in self.rows)
        spectral = any(r["spectral_mean"] is not None for r in self.rows)
        several = len({r["problem"] for r in self.rows}) > 1
        head = (["problem"] if several else []) + ["method", "setting", "seeds", "ours: geometric mean",
                                                    "95% interval", "range over seeds"]
        if compared:
            head += ["paper", "ours / paper (95% interval)", "verdict"]
        head += (["spectral (code's norm)"] if spectral else []) + ["minutes per run"]
        head += ["paper's source"] if compared else []
        text_columns = {"problem", "method", "setting", "seeds", "verdict", "paper's source"}
        lines = _table_head(head, text_columns)
        for r in self.rows:
            cells = ([r["problem"]] if several else []) + [
                r["method"], r["setting"] or "default", self._seeds(r["seeds"]), f"{r['gmean']:.2e}",
                _interval(r["gm_low"], r["gm_high"]),
                f"{r['min']:.2e} to {r['max']:.2e}" if len(r["seeds"]) > 1 else "-"]
            if compared:
                cells += [f"{r['paper']:.2e}" if r["paper"] else "-",
                          _ratio_cell(r["ratio"], r["ratio_low"], r["ratio_high"]), r["verdict"]]
            if spectral:
                cells.append(f"{r['spectral_mean']:.2e}" if r["spectral_mean"] is not None else "-")
            cells.append(f"{r['wall_s'] / 60:.0f}")
            cells += [r["paper_source"] or "-"] if compared else []
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        # One entry per machine: a run that moved says so in its file; here the machines are enough.
        hardware = sorted({m.replace("(1 threads)", "(1 thread)") for r in self.rows for h in r["hardware"]
                           for m in re.split(r" to step \d+, then ", h)})
        notes = [f"*{self.title}*"] if self.title else []
        notes.append("95% interval: the t interval of the mean log error over the seeds, as a geometric mean.")
        if compared:
            notes.append("Ours / paper: on log errors, the paper's own spread taken as ours; consistent if its "
                         "interval holds 1, else higher or lower (chapter 8). " + multiplicity_note(self.rows))
        else:
            notes.append(f"Not compared with the paper: its figures are after {PAPER_STEPS:,} steps.")
        notes.append("Paper: arXiv:2001.04536 v1. Ran on: " + "; ".join(hardware) + ".")
        notes += [f"**{line}**" for line in alike_rows(self.rows)]
        return "\n".join(lines) + "\n\n" + " ".join(notes)

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def __str__(self) -> str:
        return self.markdown()


def paper_table(problems: str | tuple[str, ...], folder: str | Path = "results", budget: str = "paper",
                methods: tuple[str, ...] | None = PAPER_METHODS, settings: str = "default",
                where: Callable[[dict], bool] | None = None, title: str = "") -> PaperTable:
    """The table of one problem's (or several problems') result files, ours beside the paper's figures.

    Reads every file in ``folder`` of the given problem(s) and ``budget``; keeps ``methods`` (the paper's M1..M4
    unless given; all if None: the later remedies have a table of their own, ``leaderboard``),
    only the default setting of each method unless ``settings="all"``, and only the results for which
    ``where(result)`` holds if given; and summarises them over seeds (``summarise``).
    """
    names = (problems,) if isinstance(problems, str) else tuple(problems)
    choose("settings", settings, ("default", "all"))
    results = [r for r in load_results(folder) if r["problem"] in names and r["budget"] == budget]
    if methods is not None:
        results = [r for r in results if r["method"] in methods]
    if settings == "default":
        results = [r for r in results if not _setting(r)]
    if where is not None:
        results = [r for r in results if where(r)]
    if not results:
        raise FileNotFoundError(f"no {budget}-budget result files of {', '.join(names)} in {folder}; run "
                                f"`python -m pinn_tutorial reproduce ... --budget {budget}` first")
    return PaperTable(summarise(results), title)


def train_methods(problem: Problem, methods: tuple[str, ...] = PAPER_METHODS, seed: int = 0,
                  budget: str | Budget | None = None, steps: int | None = None,
                  callbacks: dict[str, Callable] | None = None, progress: bool = True,
                  **options) -> dict[str, dict]:
    """Train each method from its preset on ``problem`` (the same seed for all) and print one line per run.

    Returns ``{method: {"net", "weighting", "history", "wall_s"}}``. ``callbacks`` gives a method its
    ``Trainer`` callback (e.g. a ``GradientMonitor``); ``options`` go to ``Trainer``.
    """
    runs = {}
    for method in methods:
        net, weighting = build(method, problem, seed=seed)
        callback = (callbacks or {}).get(method)
        start = time.perf_counter()
        trainer = Trainer(problem, net, weighting, budget=budget, seed=seed, steps=steps, callback=callback,
                          progress=progress, **options)
        history = trainer.run()
        wall_s = time.perf_counter() - start
        runs[method] = {"net": net, "weighting": weighting, "history": history, "wall_s": wall_s}
        weights = ", ".join(f"lambda_{term} {w:.3g}" for term, w in weighting.weights.items())
        print(f"{method}: {trainer.steps} steps in {wall_s:.0f} s, relative L2 error {history.final_error:.2e}"
              + (f", {weights}" if weights else ""))
    return runs
