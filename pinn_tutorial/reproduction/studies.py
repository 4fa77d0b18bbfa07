"""The paper's two diagnostic experiments (section 2), each a few training runs measured with ``diagnostics``.

- **Gradient scaling on 1-D Poisson** (section 2.3, Eqs. 14-15, Fig. 3): ``poisson_gradient_scaling``
  trains M1 on u = sin(C x) for several frequencies C and fits how ||grad L_r|| and ||grad L_b||
  grow with C; its result is a ``PoissonScaling``.
- **Stiffness on Helmholtz** (section 2.4, Figs. 4, 5, 11): ``stiffness_history`` records sigma_max of
  each loss term's Hessian over one training run (a ``StiffnessHistory``); ``stiffness_study`` runs it
  for the paper's case (a1, a2) = (1, 4) and the milder (1, 1), under M1 and the gated M3
  (``STIFFNESS_CASES`` x ``STIFFNESS_METHODS``), into a ``StiffnessStudy``.
- **Conflicts on the three benchmarks** (later work): ``conflict_history`` records, over one plain-PINN run,
  the ratio of the terms' gradient norms and their cosines with the residual's (``diagnostics.gradient_conflicts``);
  ``conflict_study`` runs it on Helmholtz, Klein-Gordon and the stream-function cavity (``CONFLICT_PROBLEMS``),
  into a ``ConflictStudy``: which of the two, magnitudes or directions, a remedy would have to correct.

``STUDIES`` names them as ``python -m pinn_tutorial diagnose NAME`` does. ``run_study`` runs one and
writes its JSON file (``study_path``), ``load_study`` reads that file back, and each result has
``to_dict`` / ``from_dict`` and ``format_table`` (Markdown), so the command line and chapter 3 print
the same table from the same file. The stored results are in ``results/diagnostics/``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import ClassVar, NamedTuple

import numpy as np
import torch

from .. import __version__
from ..config import Budget, ConfigError, choose, get_budget, get_device, threads
from ..diagnostics import GradientMonitor
from ..methods import build
from ..problems import Helmholtz, Poisson1D, Problem, get_problem
from ..training import Trainer
from .experiments import check_targets, git_commit, machine, write_json
from .tables import markdown_table


def _loglog_slope(x: Sequence[float], y: Sequence[float]) -> float:
    """The least-squares slope of log y against log x."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def _train_monitored(problem: Problem, method: str, monitor: GradientMonitor, budget: str | Budget | None,
                     seed: int, steps: int | None, layers: list[int] | None, progress: bool,
                     device: str | torch.device | None) -> Trainer:
    """Train ``method`` on ``problem`` with ``monitor`` as the callback, recording step 0 and the last step too."""
    net, weighting = build(method, problem, seed=seed, layers=layers)
    trainer = Trainer(problem, net, weighting, budget=budget, seed=seed, steps=steps, device=device,
                      progress=progress, callback=monitor)
    monitor.record(trainer, 0)
    trainer.run()
    if trainer.steps % monitor.every:  # the last step is not a multiple of every: record the end of training
        monitor.record(trainer, trainer.steps)
    return trainer


# -- gradient scaling on 1-D Poisson -----------------------------------------------------------

POISSON_BOUNDS = {"residual": 4.0, "boundary": 0.0}  # exponents of C in Eqs. 15 and 14
POISSON_FREQUENCIES = (1.0, 2.0, 4.0, 8.0)
POISSON_EVERY = 100


@dataclass
class PoissonScaling:
    """The 1-D Poisson gradient analysis measured (paper section 2.3, Eqs. 14-15, Fig. 3).

    One entry per frequency in ``Cs``: ``grad_residual`` and ``grad_boundary`` are
    ||grad_theta L_r||_inf and ||grad_theta L_b||_inf (max |entry| over all weight matrices),
    each the median of the records taken at steps >= ``steps / 2``; ``ratio`` is their quotient;
    ``rel_l2`` the final relative L2 error. ``slopes`` are the least-squares slopes of
    log(grad_residual), log(grad_boundary) and log(ratio) against log C, beside ``bounds``,
    the exponents of Eqs. 15 and 14 (residual O(C^4), boundary bounded: 0). ``initial_slopes``
    are the same slopes at initialisation (step 0). ``series`` holds, per C, the recorded steps
    and both norms, and ``histories`` the runs' ``History.to_dict()``.
    """

    Cs: list[float]
    grad_residual: list[float]
    grad_boundary: list[float]
    ratio: list[float]
    rel_l2: list[float]
    slopes: dict[str, float]
    initial_slopes: dict[str, float]
    bounds: dict[str, float]
    budget: str
    seed: int
    steps: int
    every: int
    series: list[dict]
    histories: list[dict]

    def rows(self) -> list[dict]:
        """The table, one dict per C: C, grad_residual, grad_boundary, ratio, rel_l2."""
        return [{"C": c, "grad_residual": r, "grad_boundary": b, "ratio": q, "rel_l2": e}
                for c, r, b, q, e in zip(self.Cs, self.grad_residual, self.grad_boundary, self.ratio, self.rel_l2)]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> PoissonScaling:
        """The result from ``to_dict`` or a ``diagnose poisson`` file (other keys are ignored); a ``ValueError``
        if the per-frequency lists differ in length."""
        result = cls(**{f.name: data[f.name] for f in fields(cls)})
        per_frequency = (result.Cs, result.grad_residual, result.grad_boundary, result.ratio, result.rel_l2)
        if len({len(entry) for entry in per_frequency}) != 1:
            raise ValueError("its per-frequency lists (Cs, gradients, ratio, rel_l2) differ in length")
        return result

    def format_table(self) -> str:
        """Two Markdown tables: ||grad L_r||_inf, ||grad L_b||_inf and their ratio per C, and their log-log
        slopes against C beside the bounds' exponents."""
        title = (f"1-D Poisson u = sin(C x), M1, {self.budget} budget ({self.steps} steps), seed {self.seed}: "
                 f"||grad L||_inf over all weight matrices, median over steps >= {self.steps // 2}")
        norms = markdown_table(
            ["C", "grad L_r", "grad L_b", "ratio", "rel. L2"],
            [[f"{r['C']:g}", f"{r['grad_residual']:.3e}", f"{r['grad_boundary']:.3e}", f"{r['ratio']:.3e}",
              f"{r['rel_l2']:.2e}"] for r in self.rows()])
        slopes = markdown_table(
            ["log-log slope against C", "trained", "at init", "bound", "from"],
            [[name, f"{self.slopes[term]:.2f}", f"{self.initial_slopes[term]:.2f}", f"{self.bounds[term]:g}", eq]
             for term, name, eq in (("residual", "grad L_r", "Eq. 15"), ("boundary", "grad L_b", "Eq. 14"),
                                    ("ratio", "ratio", "Eqs. 14-15"))])
        return f"{title}\n\n{norms}\n\n{slopes}"


def poisson_gradient_scaling(Cs: Sequence[float] = POISSON_FREQUENCIES, budget: str | Budget | None = None,
                             seed: int = 0, every: int = POISSON_EVERY, steps: int | None = None,
                             layers: list[int] | None = None, progress: bool = False,
                             device: str | torch.device | None = None) -> PoissonScaling:
    """How the gradients of L_r and L_b scale with the frequency C of u = sin(C x) (paper Eqs. 14-15).

    Trains a standard PINN (M1: ``build("M1", Poisson1D(C), seed=seed)``, the 4-weight-matrix
    tanh MLP, fixed weights) for each C at ``budget`` (``steps`` overrides its length) with a
    ``GradientMonitor(every)``, and summarises ||grad_theta L||_inf (the largest |entry| over
    all weight matrices) of each term by the **median over the records of the second half of
    training** (steps >= steps / 2), which smooths out the noise of the fresh batches. The
    log-log slopes against C are fitted by least squares and set beside the bounds

        ||grad L_b||_inf <= 2 eps ||grad eps_theta||_inf            (Eq. 14: no power of C),
        ||grad L_r||_inf <= O(C^4) eps ||grad eps_theta||_inf       (Eq. 15).

    The fitted slopes need not equal the bounds' exponents:

    - the bounds hold for a network that already fits the solution, u_theta = u eps_theta with
      eps_theta within eps of 1 and all its x-derivatives below eps, and their right-hand sides
      are proportional to eps. Training does not hold eps fixed across C: each run ends with
      its own misfit, which scales its point, so a slope over several C mixes C^4 with how far
      each run converged;
    - C^4 is the leading order only. Writing r = (u eps_theta)'' - u'' and grad_theta of
      (u eps_theta)'' out gives terms in C^0 up to C^4 whose coefficients are eps_theta's
      x-derivatives; at small C the lower ones dominate;
    - Eq. 14 has no explicit C, but its eps again depends on C through the boundary misfit left
      after training.

    At initialisation the network is nowhere near u eps_theta: the residual is about
    -g = C^2 sin(C x), and the residual's gradient grows about like C^2 (``initial_slopes``).
    The measured slopes are in ``results/diagnostics/`` and discussed in chapter 3 of the book.
    """
    Cs = [float(c) for c in Cs]
    if len(Cs) < 2 or any(c <= 0 for c in Cs):
        raise ValueError(f"need at least two positive frequencies C to fit a slope, got {Cs}")
    monitor = GradientMonitor(every=every, seed=seed)
    table: dict[str, list[float]] = {"residual": [], "boundary": [], "rel_l2": []}
    initial: dict[str, list[float]] = {"residual": [], "boundary": []}
    series, histories = [], []
    for c in Cs:
        trainer = _train_monitored(Poisson1D(c), "M1", monitor, budget, seed, steps, layers, progress, device)
        records = monitor.records
        norms = {t: [max(r["max_abs"][t]) for r in records] for t in ("residual", "boundary")}
        late = [k for k, r in enumerate(records) if r["step"] >= trainer.steps / 2]
        for t, values in norms.items():
            table[t].append(float(np.median([values[k] for k in late])))
            initial[t].append(values[0])
        table["rel_l2"].append(trainer.history.final_error)
        series.append({"C": c, "steps": [r["step"] for r in records], **norms})
        histories.append(trainer.history.to_dict())
    ratio = [r / b for r, b in zip(table["residual"], table["boundary"])]
    slopes = {t: _loglog_slope(Cs, table[t]) for t in ("residual", "boundary")}
    slopes["ratio"] = _loglog_slope(Cs, ratio)
    initial_slopes = {t: _loglog_slope(Cs, initial[t]) for t in ("residual", "boundary")}
    initial_slopes["ratio"] = _loglog_slope(Cs, [r / b for r, b in zip(initial["residual"], initial["boundary"])])
    bounds = {**POISSON_BOUNDS, "ratio": POISSON_BOUNDS["residual"] - POISSON_BOUNDS["boundary"]}
    return PoissonScaling(Cs, table["residual"], table["boundary"], ratio, table["rel_l2"], slopes, initial_slopes,
                          bounds, trainer.budget.name, seed, trainer.steps, every, series, histories)


# -- stiffness on Helmholtz --------------------------------------------------------------------

STIFFNESS_CASES = ((1.0, 4.0), (1.0, 1.0))  # Helmholtz (a1, a2): the paper's case and its milder one (Fig. 5)
STIFFNESS_METHODS = ("M1", "M3")  # Fig. 11: the gated network is less stiff
STIFFNESS_EVERY, STIFFNESS_ITERATIONS = 1000, 20  # as the original code: every 1,000 steps


@dataclass
class StiffnessHistory:
    """sigma_max of the Hessian of each loss term over one training run (paper Figs. 4, 5, 11).

    ``sigma_max[term][k]`` is |lambda_max(grad^2_W L_term)|, the spectral radius of the
    Hessian w.r.t. the weight matrices, at ``steps[k]``; the signed eigenvalues are in
    ``history["diagnostics"]``. ``rel_l2`` is the final relative L2 error.
    """

    problem: str
    method: str
    budget: str
    seed: int
    iterations: int
    steps: list[int]
    sigma_max: dict[str, list[float]]
    rel_l2: float
    history: dict

    @property
    def final(self) -> dict[str, float]:
        """sigma_max of each term at the end of training."""
        return {t: v[-1] for t, v in self.sigma_max.items()}

    @property
    def peak(self) -> dict[str, float]:
        """The largest sigma_max of each term over training."""
        return {t: max(v) for t, v in self.sigma_max.items()}

    def to_dict(self) -> dict:
        return {**asdict(self), "final": self.final, "peak": self.peak}

    @classmethod
    def from_dict(cls, data: dict) -> StiffnessHistory:
        """The run from ``to_dict`` (``final`` and ``peak`` are recomputed, not read)."""
        return cls(**{f.name: data[f.name] for f in fields(cls)})


def stiffness_history(problem: Problem, method: str, budget: str | Budget | None = None, seed: int = 0,
                      every: int = STIFFNESS_EVERY, iterations: int = STIFFNESS_ITERATIONS, steps: int | None = None,
                      layers: list[int] | None = None, progress: bool = False,
                      device: str | torch.device | None = None) -> StiffnessHistory:
    """Train ``method`` on ``problem`` and record sigma_max of each term's Hessian (Figs. 4, 5, 11).

    Gradient descent on L with learning rate eta is stable only while eta < 2 / sigma_max(grad^2 L)
    (section 2.4, Eqs. 30-32); the paper finds sigma_max(grad^2 L_r) far above
    sigma_max(grad^2 L_b) (Fig. 4), larger for the harder Helmholtz case (a1, a2) = (1, 4) than
    for (1, 1) (Fig. 5), and about 3 times lower with the gated network M3 than with M1 (Fig. 11).

    A ``GradientMonitor(every, hessian=True, hessian_iterations=iterations)`` records at step 0,
    every ``every`` steps and at the last step; each estimate is ``iterations`` power iterations
    on Hessian-vector products w.r.t. the weight matrices (the original code forms the full Hessian of the
    weights instead, every 1,000 steps), on a fresh batch of the budget's size (the paper's Fig. 4 used the full
    batch). The magnitude sigma_max is returned: it is what the stability limit involves.
    """
    monitor = GradientMonitor(every=every, hessian=True, hessian_iterations=iterations, seed=seed)
    trainer = _train_monitored(problem, method, monitor, budget, seed, steps, layers, progress, device)
    records = monitor.records
    return StiffnessHistory(repr(problem), method, trainer.budget.name, seed, iterations, [r["step"] for r in records],
                            {t: [abs(r["hessian"][t]) for r in records] for t in problem.terms},
                            trainer.history.final_error, trainer.history.to_dict())


@dataclass
class RunsStudy:
    """A study made of training runs, each recorded as a ``run_type`` (with its own ``to_dict`` and
    ``from_dict``), at one budget and seed."""

    run_type: ClassVar[type]
    budget: str
    seed: int
    runs: list

    def to_dict(self) -> dict:
        return {"budget": self.budget, "seed": self.seed, "runs": [run.to_dict() for run in self.runs]}

    @classmethod
    def from_dict(cls, data: dict) -> RunsStudy:
        """The study from ``to_dict`` or a ``diagnose`` file (other keys are ignored)."""
        return cls(data["budget"], data["seed"], [cls.run_type.from_dict(run) for run in data["runs"]])


@dataclass
class StiffnessStudy(RunsStudy):
    """The stiffness study: one ``StiffnessHistory`` per Helmholtz case and method (Figs. 4, 5, 11)."""

    run_type = StiffnessHistory

    def format_table(self) -> str:
        """A Markdown table: per run, sigma_max of L_r and L_b at the end and at their largest, the
        stability limit 2 / sigma_max(L_r) at the end beside the final learning rate, and the error."""
        recorded = sorted({len(run.steps) for run in self.runs})
        title = (f"Helmholtz, {self.budget} budget, seed {self.seed}: |sigma_max| of the Hessian of each loss term "
                 f"w.r.t. the weight matrices ({', '.join(sorted({str(r.iterations) for r in self.runs}))} power "
                 f"iterations, {', '.join(map(str, recorded))} records per run)")
        rows = [[run.problem, run.method, f"{run.final['residual']:.2e}", f"{run.peak['residual']:.2e}",
                 f"{run.final['boundary']:.2e}", f"{run.peak['boundary']:.2e}",
                 f"{2 / run.final['residual']:.1e}", f"{run.history['lr'][-1]:.1e}", f"{run.rel_l2:.2e}"]
                for run in self.runs]
        header = ["problem", "method", "L_r end", "L_r max", "L_b end", "L_b max", "2/sigma(L_r) end", "final lr",
                  "rel. L2"]
        return f"{title}\n\n{markdown_table(header, rows, left=2)}"


def stiffness_study(budget: str | Budget | None = None, seed: int = 0, steps: int | None = None,
                    progress: bool = False, device: str | torch.device | None = None) -> StiffnessStudy:
    """``stiffness_history`` for every case of ``STIFFNESS_CASES`` and method of ``STIFFNESS_METHODS``,
    recording every ``STIFFNESS_EVERY`` steps with ``STIFFNESS_ITERATIONS`` power iterations."""
    runs = [stiffness_history(Helmholtz(a1, a2), method, budget=budget, seed=seed, every=STIFFNESS_EVERY,
                              iterations=STIFFNESS_ITERATIONS, steps=steps, progress=progress, device=device)
            for a1, a2 in STIFFNESS_CASES for method in STIFFNESS_METHODS]
    return StiffnessStudy(get_budget(budget).name, seed, runs)


# -- gradient conflicts on the three benchmarks (later work) -----------------------------------

CONFLICT_PROBLEMS = ("helmholtz", "klein_gordon", "cavity_stream")
CONFLICT_METHOD = "M1"  # the plain PINN, what every remedy starts from
CONFLICT_RECORDS = 40  # records per run, evenly spaced over its steps (and one at step 0)


@dataclass
class ConflictHistory:
    """The terms' gradients over one training run, as magnitudes and as directions (``gradient_conflicts``).

    At each of ``steps``, for each weighted term i: ``norm_ratio[i]`` = ||g_r|| / ||g_i|| and ``cosine[i]`` =
    cos(g_r, g_i), over the weight matrices; ``alignment``, the alignment score of all terms. ``rel_l2`` is the
    final relative L2 error. The summaries leave out step 0, the untrained network.
    """

    problem: str
    method: str
    budget: str
    seed: int
    steps: list[int]
    norm_ratio: dict[str, list[float]]
    cosine: dict[str, list[float]]
    alignment: list[float]
    rel_l2: float

    def median_norm_ratio(self, term: str) -> float:
        return float(np.median(self.norm_ratio[term][1:]))

    def median_cosine(self, term: str) -> float:
        return float(np.median(self.cosine[term][1:]))

    def conflicted(self, term: str) -> float:
        """The share of the records (after step 0) at which g_i points against g_r: cos(g_r, g_i) < 0."""
        return float(np.mean(np.array(self.cosine[term][1:]) < 0))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ConflictHistory:
        return cls(**{f.name: data[f.name] for f in fields(cls)})


def conflict_history(problem: Problem, method: str = CONFLICT_METHOD, budget: str | Budget | None = None,
                     seed: int = 0, steps: int | None = None, progress: bool = False,
                     device: str | torch.device | None = None) -> ConflictHistory:
    """Train ``method`` on ``problem`` and record the gradients' magnitudes and directions ``CONFLICT_RECORDS``
    times, evenly over the run, each on a fresh batch of the monitor's own (``GradientMonitor``)."""
    total = steps or get_budget(budget).steps
    monitor = GradientMonitor(every=max(1, total // CONFLICT_RECORDS), seed=seed)
    trainer = _train_monitored(problem, method, monitor, budget, seed, steps, None, progress, device)
    records = monitor.records
    weighted = problem.weighted_terms
    return ConflictHistory(problem.name, method, trainer.budget.name, seed, [r["step"] for r in records],
                           {t: [r["norm_ratio"][t] for r in records] for t in weighted},
                           {t: [r["cosine"][t] for r in records] for t in weighted},
                           [r["alignment"] for r in records], trainer.history.final_error)


@dataclass
class ConflictStudy(RunsStudy):
    """The conflict study: one ``ConflictHistory`` per problem of ``CONFLICT_PROBLEMS``."""

    run_type = ConflictHistory

    def format_table(self) -> str:
        """A Markdown table: per problem and weighted term, the median norm ratio and cosine over training, the
        share of records in conflict, the median alignment score and the run's error."""
        title = (f"{self.budget} budget, seed {self.seed}: the plain PINN's gradients over training, magnitudes "
                 f"(||g_r|| / ||g_i||) and directions (cos(g_r, g_i), the alignment score), medians after step 0")
        rows = [[run.problem, term, f"{run.median_norm_ratio(term):.2e}", f"{run.median_cosine(term):+.2f}",
                 f"{run.conflicted(term):.0%}", f"{float(np.median(run.alignment[1:])):+.2f}", f"{run.rel_l2:.2e}"]
                for run in self.runs for term in run.norm_ratio]
        header = ["problem", "term", "norm ratio", "cosine", "in conflict", "alignment", "rel. L2"]
        return f"{title}\n\n{markdown_table(header, rows, left=2)}"


def conflict_study(budget: str | Budget | None = None, seed: int = 0, steps: int | None = None,
                   progress: bool = False, device: str | torch.device | None = None) -> ConflictStudy:
    """``conflict_history`` of the plain PINN on every problem of ``CONFLICT_PROBLEMS``."""
    runs = [conflict_history(get_problem(name), budget=budget, seed=seed, steps=steps, progress=progress,
                             device=device) for name in CONFLICT_PROBLEMS]
    return ConflictStudy(get_budget(budget).name, seed, runs)


# -- the studies by name, their files ----------------------------------------------------------

class Study(NamedTuple):
    """One of the paper's diagnostic experiments: ``run(budget, seed, steps, progress, device)`` and its result."""

    run: Callable[..., PoissonScaling | StiffnessStudy | ConflictStudy]
    result: type[PoissonScaling] | type[StiffnessStudy] | type[ConflictStudy]


STUDIES: dict[str, Study] = {
    "poisson": Study(poisson_gradient_scaling, PoissonScaling),
    "stiffness": Study(stiffness_study, StiffnessStudy),
    "conflicts": Study(conflict_study, ConflictStudy),
}


def study_path(name: str, budget: str, seed: int = 0, steps: int | None = None, *, folder: str | Path) -> Path:
    """Where ``run_study`` writes a study's result in ``folder``, e.g. ``poisson_default_seed0.json``."""
    choose("diagnostic", name, STUDIES)
    return Path(folder) / f"{name}_{budget}{f'_{steps}steps' if steps is not None else ''}_seed{seed}.json"


class StudyRun(NamedTuple):
    """What ``run_study`` did: the result, the file it wrote, the wall time and the machine."""

    result: PoissonScaling | StiffnessStudy | ConflictStudy
    path: Path
    wall_s: float
    hardware: str


def run_study(name: str, budget: str | Budget | None = None, seed: int = 0, steps: int | None = None, *,
              folder: str | Path, progress: bool = False, device: str | torch.device | None = None) -> StudyRun:
    """Run the study ``name`` (see ``STUDIES``) and write its result, with the run's budget, seed, wall
    time, CPU ``threads``, machine, versions and git commit, to ``study_path(...)`` in ``folder``, atomically: a
    reader never sees half a file, and a write that fails leaves an earlier file intact.

    ``folder`` has no default: as for ``reproduce``, a library call writes where it is told, never into whatever
    folder Python runs in (the command line's ``--out`` defaults to ``results/diagnostics``). The study trains with
    a run's thread count (``config.threads``: ``$PINN_TUTORIAL_THREADS``, else 1), recorded as ``threads``.
    """
    study = STUDIES[choose("diagnostic", name, STUDIES)]
    budget = get_budget(budget)
    resolved = get_device(device)
    path = study_path(name, budget.name, seed, steps, folder=folder)
    check_targets(path)  # before the study's runs, not after them
    start = time.perf_counter()
    with threads() as count:  # the whole study at one count, the one its file records
        result = study.run(budget=budget, seed=seed, steps=steps, progress=progress, device=device)
    data = {**result.to_dict(), "diagnostic": name, "budget": budget.name, "seed": seed, "steps_override": steps,
            "wall_s": time.perf_counter() - start, "device": str(resolved), "threads": count,
            "hardware": machine(resolved, count), "torch": torch.__version__, "pinn_tutorial": __version__,
            "git_commit": git_commit()}
    write_json(path, data)
    return StudyRun(result, path, data["wall_s"], data["hardware"])


def load_study(path: str | Path) -> PoissonScaling | StiffnessStudy | ConflictStudy:
    """The result in a file ``run_study`` (``python -m pinn_tutorial diagnose``) wrote.

    Raises ``ConfigError`` ("<path> is not a stored study (<reason>)") for a folder, a file that is not UTF-8
    text, not a JSON object, names no known diagnostic, lacks an entry its result needs or holds one of the
    wrong kind (one its table cannot read); a missing file raises ``FileNotFoundError``.
    """
    if Path(path).is_dir():
        raise ConfigError(f"{path} is not a stored study (a folder)")
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not a stored study (not a text file)") from None
    except (json.JSONDecodeError, RecursionError) as error:
        raise ConfigError(f"{path} is not a stored study (not JSON: {error})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} is not a stored study (a JSON {type(data).__name__}, not an object)")
    name = data.get("diagnostic")
    if not (isinstance(name, str) and name in STUDIES):
        raise ConfigError(f"{path} is not a stored study (its 'diagnostic' is {name!r}, not one of "
                          f"{', '.join(STUDIES)})")
    try:
        result = STUDIES[name].result.from_dict(data)
        result.format_table()  # reads every entry a reader of the study sees: each must be of its kind
    except KeyError as error:
        raise ConfigError(f"{path} is not a stored study (no {error} entry)") from None
    except (TypeError, ValueError, IndexError, AttributeError, ZeroDivisionError) as error:
        raise ConfigError(f"{path} is not a stored study (an entry of the wrong kind: {error})") from None
    return result
