"""Reproducing the paper's tables: every method on a benchmark, several seeds, ours beside theirs.

``reproduce`` runs M1..M4 (for the cavity, both formulations) for a number of seeds and writes
one result file per run; ``table`` reads the result files and sets our mean and spread beside
the numbers the paper reports (``pinn_tutorial.paper``). Nothing in a table is typed in.
"""

from __future__ import annotations

import math
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

from scipy import stats

from .config import Budget, choose, get_budget
from .experiments import ORIGINAL_CODE_FOLDER, Experiment, load_results
from .methods import METHODS, PAPER_METHODS, build
from .paper import HELMHOLTZ_TABLE2, reported_for_network
from .problems import PROBLEMS, Problem
from .sweeps import ENSEMBLE_SIZE, check_seed_count, run_sweep
from .training import Trainer

# What `reproduce NAME` runs: one problem, or the cavity's two formulations.
BENCHMARKS: dict[str, tuple[str, ...]] = {name: (name,) for name in PROBLEMS}
BENCHMARKS["cavity"] = ("cavity_stream", "cavity_velocity")


def reproduce(benchmark: str, budget: str | None = None, seeds: int | list[int] = 1, out: str | Path = "results",
              methods: tuple[str, ...] = PAPER_METHODS, progress: bool = True, device: str | None = None,
              jobs: int | None = None, use_ray: bool = False, ray_address: str | None = None,
              ensemble_size: int = ENSEMBLE_SIZE, steps: int | None = None) -> list[dict]:
    """Train every method on the benchmark for ``seeds`` (N: seeds 0..N-1, or a list) and return the results.

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
    experiments = [Experiment(problem, method, budget_name, seed, steps=steps)
                   for seed in seeds for problem in problems for method in methods]
    return run_sweep(experiments, out, jobs, ray_address, use_ray, ensemble_size, progress, device)


# The original code's details at the library's defaults, as ``Experiment`` declares them.
CODE_DETAIL_DEFAULTS = {f.name: f.default for f in fields(Experiment)
                        if f.name in ("lambda_update", "input_scaling", "adam")}


def _changed(result: dict, detail: str) -> bool:
    """Whether a run sets one of the code details away from its default (older files lack the field)."""
    return result.get(detail, CODE_DETAIL_DEFAULTS[detail]) != CODE_DETAIL_DEFAULTS[detail]


def _setting(result: dict) -> str:
    """How a run departs from the defaults (empty for the default setting)."""
    parts = []
    if result.get("implementation") == "original":  # pinn_tutorial.original_code: the authors' TensorFlow code
        gate = ", the first public version's gate" if result.get("gate") == "first" else ""
        parts.append(f"the authors' code (TensorFlow {result.get('tensorflow', '?')}){gate}")
    if METHODS[result["method"]].annealing and result.get("form", "code") != "code":
        parts.append(f"Algorithm 1 as {result['form']}")
    if METHODS[result["method"]].architecture == "modified_mlp" and result.get("variant", "code") != "code":
        parts.append(f"{result['variant']} gated net")
    if result.get("derivatives", "auto") != "auto":
        parts.append(f"{result['derivatives']} derivatives")
    if METHODS[result["method"]].annealing and _changed(result, "lambda_update"):
        parts.append("lambda after the Adam step")
    if _changed(result, "input_scaling"):
        parts.append("inputs scaled by 10^5 samples")
    if _changed(result, "adam"):
        parts.append("TF1 Adam epsilon")
    if METHODS[result["method"]].annealing and result.get("pooling"):
        parts.append(f"Algorithm 1 pooled by {result['pooling']}")
    if result.get("params"):
        parts.append(", ".join(f"{k}={v:g}" for k, v in result["params"].items()))
    layers, default = result.get("layers"), getattr(PROBLEMS.get(result["problem"]), "default_layers", None)
    if layers and default and layers != default:
        parts.append(f"{len(layers) - 2} hidden layers of {layers[1]}")
    return "; ".join(parts)


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
    """The row of ``summarise`` a result file belongs to: its problem, method, setting, budget and steps."""
    return result["problem"], result["method"], _setting(result), result["budget"], result["steps"]


def row_group(row: dict, setting: str | None = None) -> tuple:
    """The group of a row of ``summarise`` (``group_of`` its runs), or of ``setting`` beside it."""
    return (row["problem"], row["method"], row["setting"] if setting is None else setting, row["budget"],
            row["steps"])


def summarise(results: list[dict]) -> list[dict]:
    """One row per problem, method, setting, budget and steps: mean and spread over seeds, and
    ``wall_s``, the mean of the runs' shares of their wall times (``run_share_s``)."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in results:
        groups[group_of(r)].append(r)
    rows = []
    for (problem, method, setting, budget, steps), runs in sorted(groups.items()):
        errors = [r["rel_l2"] for r in runs]
        width, depth = runs[0].get("width"), runs[0].get("depth")
        paper = reported_for_network(problem, method, depth, width)
        spectral = [r["rel_l2_spectral"] for r in runs if "rel_l2_spectral" in r]
        low, high = mean_interval(errors)
        rows.append({
            "problem": problem, "method": method, "setting": setting, "budget": budget, "steps": steps,
            "seeds": sorted(r["seed"] for r in runs), "mean": statistics.fmean(errors),
            "std": statistics.stdev(errors) if len(errors) > 1 else math.nan,
            "ci_low": low, "ci_high": high,
            "width": width, "depth": depth,
            "paper_inside": (low <= paper.rel_l2 <= high) if paper and len(errors) > 1 else None,
            "min": min(errors), "max": max(errors),
            "spectral_mean": statistics.fmean(spectral) if spectral else None,
            "paper": paper.rel_l2 if paper else None, "paper_source": paper.source if paper else None,
            "wall_s": statistics.fmean(run_share_s(r) for r in runs),
            "hardware": sorted({r["hardware"] for r in runs}),
        })
    return rows


def mean_interval(values: list[float], confidence: float = 0.95) -> tuple[float, float]:
    """Student's t interval for the mean: mean -+ t_{(1+c)/2, n-1} s / sqrt(n) (NaNs for one value).

    It assumes the n errors are independent draws from one distribution (seeds), and is
    approximate for the skewed distributions errors have; with n = 10 that is the usual reading.
    """
    n = len(values)
    if n < 2:
        return math.nan, math.nan
    mean, half = statistics.fmean(values), stats.t.ppf((1 + confidence) / 2, n - 1) * statistics.stdev(values)
    return mean - half / math.sqrt(n), mean + half / math.sqrt(n)


def verdict(row: dict) -> str:
    """'consistent' if the paper's figure lies in our 95% interval, 'differs' if not, '-' if untested."""
    return {True: "consistent", False: "differs", None: "-"}[row["paper_inside"]]


def difference_interval(values: list[float], baseline: list[float], confidence: float = 0.95,
                        paired: bool = False) -> tuple[float, float]:
    """A t interval for mean(values) - mean(baseline); NaNs with fewer than two values on either side.

    Two independent groups (``paired=False``): Welch's interval, half-width t_{(1+c)/2, nu} sqrt(s_a^2 / n_a +
    s_b^2 / n_b) with nu from the Welch-Satterthwaite formula. Matched pairs (``paired=True``: value k and
    baseline k are runs of one seed, with one initialisation and one stream of points): the interval of the
    mean difference d_k = a_k - b_k, mean(d) -+ t_{(1+c)/2, n-1} s_d / sqrt(n), which sees a small, consistent
    effect through a spread of seeds far larger than it.
    """
    if len(values) < 2 or len(baseline) < 2:
        return math.nan, math.nan
    if paired:
        if len(values) != len(baseline):
            raise ValueError(f"paired values need one baseline each, got {len(values)} and {len(baseline)}")
        result = stats.ttest_rel(values, baseline)
    else:
        result = stats.ttest_ind(values, baseline, equal_var=False)
    interval = result.confidence_interval(confidence)
    return float(interval.low), float(interval.high)


def interval_change(low: float, high: float) -> str:
    """What an interval of a difference (ours minus a baseline) says: "lower" when it lies below zero, "higher"
    when it lies above, "no detectable change" when it holds zero and "-" when there is none (NaNs)."""
    if math.isnan(low) or math.isnan(high):
        return "-"
    return "lower" if high < 0 else "higher" if low > 0 else "no detectable change"


def setting_effects(results: list[dict], baseline: str = "") -> list[dict]:
    """Each setting's runs set against the ``baseline`` setting's ("" is the default), per problem and method.

    One dict per other setting: the row of ``summarise`` plus ``baseline_mean`` (over the same seeds, when
    paired), the interval of the difference of means (``diff_low``, ``diff_high``), how it was paired
    (``pairing``: "same seeds" when every seed of the setting has a baseline run, a paired t interval; otherwise
    "Welch", two independent groups) and ``effect``, the interval read by ``interval_change`` ("-" when a group
    has one seed).
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
            low, high = difference_interval([ours[s] for s in seeds], [theirs[s] for s in seeds], paired=True)
            baseline_mean = statistics.fmean(theirs[s] for s in seeds)
        else:
            low, high = difference_interval(list(ours.values()), list(theirs.values()))
            baseline_mean = statistics.fmean(theirs.values())
        effects.append({**row, "baseline_mean": baseline_mean, "diff_low": low, "diff_high": high,
                        "pairing": "same seeds" if paired else "Welch", "effect": interval_change(low, high)})
    return effects


def format_effects(effects: list[dict]) -> str:
    """``setting_effects`` as a Markdown table: each setting's mean and interval, the baseline's mean over the
    same seeds, the difference with its 95% interval (paired by seed, or Welch's), and the paper's figure with
    the interval test. A method column leads where the effects hold several methods."""
    several = len({e["method"] for e in effects}) > 1
    head = (["method"] if several else []) + ["setting", "seeds", "ours: mean", "95% interval", "baseline: mean",
                                               "minus baseline (95% interval)", "paired by", "change", "paper",
                                               "paper in it?"]
    text_columns = {"method", "setting", "seeds", "paired by", "change", "paper in it?"}
    lines = _table_head(head, text_columns)
    for e in effects:
        diff = e["mean"] - e["baseline_mean"]
        interval = (f"{diff:+.1e} ({e['diff_low']:+.1e} to {e['diff_high']:+.1e})" if not math.isnan(e["diff_low"])
                    else f"{diff:+.1e}")
        ours = f"{e['ci_low']:.2e} to {e['ci_high']:.2e}" if not math.isnan(e["ci_low"]) else "-"
        paper = f"{e['paper']:.2e}" if e["paper"] else "-"
        cells = ([e["method"]] if several else []) + [
            _cell(e["setting"]), str(len(e["seeds"])), f"{e['mean']:.2e}", ours, f"{e['baseline_mean']:.2e}",
            interval, e["pairing"], e["effect"], paper, verdict(e)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_table(rows: list[dict]) -> str:
    """The summary as text: ours (mean +- std over n seeds, 95% t interval) beside the paper's figure."""
    head = (f"{'problem':<16} {'method':<6} {'budget':<8} {'ours: mean':>10} {'+- std':>9} {'n':>2} "
            f"{'95% t interval':>20} {'paper':>9} {'x paper':>8} {'paper in it':>11} {'s/run':>7}  setting")
    lines = [head, "-" * len(head)]
    for r in rows:
        paper = f"{r['paper']:9.2e}" if r["paper"] else f"{'-':>9}"
        ratio = f"{r['mean'] / r['paper']:8.2f}" if r["paper"] else f"{'-':>8}"
        std = f"{r['std']:9.1e}" if not math.isnan(r["std"]) else f"{'-':>9}"
        interval = f"[{r['ci_low']:.2e}, {r['ci_high']:.2e}]" if not math.isnan(r["ci_low"]) else "-"
        extra = f"spectral {r['spectral_mean']:.2e}" if r["spectral_mean"] is not None else ""
        setting = "; ".join(s for s in (r["setting"], extra) if s)
        lines.append(f"{r['problem']:<16} {r['method']:<6} {r['budget']:<8} {r['mean']:10.2e} {std} "
                     f"{len(r['seeds']):>2} {interval:>20} {paper} {ratio} {verdict(r):>11} {r['wall_s']:7.0f}  "
                     f"{setting}")
    lines += ["", "95% t interval: Student's t interval of our mean over seeds; 'paper in it': whether the paper's "
              "figure lies inside it (consistent) or not (differs); s/run: a run's share of the wall time that "
              "trained it (an ensemble's divided among its members).",
              "paper: arXiv:2001.04536 v1; " + _sources(rows)]
    return "\n".join(lines)


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
    if original.is_dir():  # the authors' code's runs (pinn_tutorial.original_code), rows of their own
        results += load_results(original)
    if budget is not None:
        results = [r for r in results if r["budget"] == budget]
    if not results:
        raise FileNotFoundError(f"no result files in {folder}; run `python -m pinn_tutorial reproduce ...` first")
    rows = summarise(results)
    grid = format_table2(rows)
    return format_table(rows) + (f"\n\n{grid}" if grid else "")


def table2_rows(rows: list[dict]) -> dict[tuple[int, int], dict[str, dict]]:
    """Table 2's cells among the summary rows: Helmholtz at the paper budget, the default setting
    apart from the network, by (hidden layers, width) and method."""
    cells: dict[tuple[int, int], dict[str, dict]] = defaultdict(dict)
    for r in rows:
        if r["problem"] != "helmholtz" or r["budget"] != "paper" or r["steps"] != 40000:
            continue
        depth, width = r["depth"], r["width"]
        default = r["setting"] in ("", f"{depth} hidden layers of {width}")  # nothing but the network departs from it
        if default and (depth, width) in HELMHOLTZ_TABLE2:
            cells[depth, width][r["method"]] = r
    return dict(cells)


def format_table2(rows: list[dict]) -> str:
    """Table 2 as a grid, ours (mean +- std, n) beside the paper's mean of 10 trials; '' without such runs."""
    cells = table2_rows(rows)
    if not any(key != (3, 50) for key in cells):
        return ""
    methods = PAPER_METHODS
    lines = ["Table 2, Helmholtz at the paper budget: ours (mean +- std, n seeds) / the paper's mean of 10 trials",
             f"{'layers':>6} {'width':>5}  " + "  ".join(f"{m:^30}" for m in methods)]
    for depth, width in HELMHOLTZ_TABLE2:
        parts = []
        for m in methods:
            r, paper = cells.get((depth, width), {}).get(m), HELMHOLTZ_TABLE2[depth, width][m]
            std = f"{r['std']:.1e}" if r and len(r["seeds"]) > 1 else "-"
            ours = f"{r['mean']:.2e} +- {std} ({len(r['seeds'])})" if r else "-"
            parts.append(f"{ours:>21} / {paper:.2e}")
        lines.append(f"{depth:>6} {width:>5}  " + "  ".join(f"{p:>30}" for p in parts))
    return "\n".join(lines)


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
        """The rows as a Markdown table: ours (mean +- std, the 95% t interval of the mean, the range over seeds)
        beside the paper's figure, and whether that figure lies in our interval (``verdict``)."""
        spectral = any(r["spectral_mean"] is not None for r in self.rows)
        several = len({r["problem"] for r in self.rows}) > 1
        head = (["problem"] if several else []) + ["method", "setting", "seeds", "ours: mean ± std",
                                                    "95% interval of our mean", "paper", "paper in it?",
                                                    "ours / paper", "range over seeds"]
        head += (["spectral (code's norm)"] if spectral else []) + ["minutes per run", "paper's source"]
        text_columns = {"problem", "method", "setting", "seeds", "paper in it?", "paper's source"}
        lines = _table_head(head, text_columns)
        for r in self.rows:
            std = f" ± {r['std']:.1e}" if not math.isnan(r["std"]) else ""
            tested = not math.isnan(r["ci_low"])
            cells = ([r["problem"]] if several else []) + [
                r["method"], r["setting"] or "default", self._seeds(r["seeds"]), f"{r['mean']:.2e}{std}",
                f"{r['ci_low']:.2e} to {r['ci_high']:.2e}" if tested else "-",
                f"{r['paper']:.2e}" if r["paper"] else "-", verdict(r),
                f"{r['mean'] / r['paper']:.2f}" if r["paper"] else "-",
                f"{r['min']:.2e} to {r['max']:.2e}" if len(r["seeds"]) > 1 else "-"]
            if spectral:
                cells.append(f"{r['spectral_mean']:.2e}" if r["spectral_mean"] is not None else "-")
            cells += [f"{r['wall_s'] / 60:.0f}", r["paper_source"] or "-"]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        # One entry per machine: a run that moved says so in its file; here the machines are enough.
        hardware = sorted({m for r in self.rows for h in r["hardware"] for m in re.split(r" to step \d+, then ", h)})
        notes = [f"*{self.title}*"] if self.title else []
        notes.append("95% interval: Student's t interval of our mean over the seeds; paper in it?: consistent if the "
                     "paper's figure lies inside it, differs if not, - with one seed (no interval).")
        notes.append("Paper: arXiv:2001.04536 v1. Ran on: " + "; ".join(hardware) + ".")
        return "\n".join(lines) + "\n\n" + " ".join(notes)

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def __str__(self) -> str:
        return self.markdown()


def paper_table(problems: str | tuple[str, ...], folder: str | Path = "results", budget: str = "paper",
                methods: tuple[str, ...] | None = None, settings: str = "default",
                where: Callable[[dict], bool] | None = None, title: str = "") -> PaperTable:
    """The table of one problem's (or several problems') result files, ours beside the paper's figures.

    Reads every file in ``folder`` of the given problem(s) and ``budget``; keeps ``methods`` (all if None),
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
