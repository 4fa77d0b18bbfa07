"""How fast a training step is, on each derivative path: ``python -m pinn_tutorial bench``.

Three paths compute the same loss:

- **nested autograd**: input derivatives by reverse mode twice over (the reference);
- **fast eager**: the networks propagate u, its first and pure second derivatives forward
  (Taylor mode, ``autodiff.jet``), so the residual costs one forward and one backward pass;
- **fast compiled**: the same, with the loss terms and their gradients compiled into one graph
  by ``torch.compile``.

A first row times ``PlainPyTorchHelmholtz``, the step as one would write it in plain PyTorch with
nested autograd: a scale independent of the library. When DeepXDE is installed, a second row times
the same problem written as DeepXDE's documentation writes it (``deepxde_helmholtz``). The three
paths take the same optimiser step (PyTorch's fused Adam). Each is timed with fixed weights and
with Algorithm 1 (its per-term gradients are the ones the step uses, so it costs no extra backward
pass), on the same trainer, interleaved over several repeats after a warm-up. The table gives the
median milliseconds per step and the ratio to nested autograd measured in the same run; the
machine may be noisy, so the ratios are the claim.

``bench --cavity`` times a step of the lid-driven cavity's two formulations (velocity-pressure, and the stream
function with its third derivatives), M1 and M4, on each path (``cavity_step_times``), with the ratio of the two
formulations on the same path.

``bench --original`` times whole Helmholtz runs of M1, M2 and M4 by the authors' TensorFlow code (through
``original_code``) and by the library, interleaved, one thread each (``original_times``), and writes its report.

``read_report`` reads a report back (every format ``bench`` has printed), ``read_ensemble_report`` one of
``bench --ensemble``, ``read_cavity_report`` one of ``bench --cavity`` and ``read_original_report`` one of
``bench --original``, so that the book's tables come from
the stored files under ``results/bench/``.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib.util
import io
import json
import math
import multiprocessing
import os
import queue as queues
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from ..config import Budget, ConfigError, get_budget, get_device, set_threads
from ..ensembles import EnsembleTrainer
from ..methods import METHODS, build
from ..problems import get_problem
from ..training import Trainer
from ..weighting import FixedWeights, LearningRateAnnealing, Weighting
from .experiments import Experiment, git_commit, machine
from .paper import KLEIN_GORDON_TRAIN_TIME_S

PATH_SETTINGS = {  # each derivative path as the Trainer's settings
    "nested autograd": {"derivatives": "autograd", "compile": "off"},
    "fast eager": {"derivatives": "auto", "compile": "off"},
    "fast compiled": {"derivatives": "auto", "compile": "on"},
}
NETWORKS = {"MLP": "M1", "ModifiedMLP": "M3"}
WEIGHTINGS = ("fixed", "Algorithm 1")
OUTSIDE_PATHS = ("plain PyTorch", "DeepXDE")  # the rows that use no library code (Helmholtz only)
# The project's aim for a complete paper-budget run of Helmholtz M4 as a user starts it: at most this
# many times 40,000 steps of the reference (nested autograd, gated network, Algorithm 1) timed in the same run.
FULL_RUN_TARGET = 0.35


def _exact(x: torch.Tensor) -> torch.Tensor:
    """u = sin(pi x) sin(4 pi y), written out for the two scripts that use no library code."""
    return torch.sin(math.pi * x[:, 0:1]) * torch.sin(4 * math.pi * x[:, 1:2])


def _forcing(x: torch.Tensor) -> torch.Tensor:
    """q = (k^2 - (a1 pi)^2 - (a2 pi)^2) u for a1 = 1, a2 = 4, k = 1."""
    return (1 - 17 * math.pi**2) * _exact(x)


class PlainPyTorchHelmholtz:
    """The Helmholtz step as anyone would first write it in plain PyTorch: no library code.

    A ``nn.Sequential`` MLP (3 hidden layers of 50, tanh), nested autograd for u_xx and u_yy,
    128 residual and 4 x 128 boundary points drawn every step, fixed weights, PyTorch's default
    Adam. It gives the table a scale that does not depend on this library: what a step costs on
    this machine before any of its optimisations (or its overheads: input scaling, per-edge
    losses, checks).
    """

    def __init__(self, batch_size: int = 128, device: str | torch.device = "cpu"):
        self.n, self.device = batch_size, torch.device(device)
        self.net = nn.Sequential(nn.Linear(2, 50), nn.Tanh(), nn.Linear(50, 50), nn.Tanh(),
                                 nn.Linear(50, 50), nn.Tanh(), nn.Linear(50, 1)).to(self.device)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=1e-3)

    def train_step(self) -> None:
        n, dev = self.n, self.device
        x = (torch.rand(n, 2, device=dev) * 2 - 1).requires_grad_(True)
        u = self.net(x)
        (du,) = torch.autograd.grad(u.sum(), x, create_graph=True)
        u_xx = torch.autograd.grad(du[:, 0].sum(), x, create_graph=True)[0][:, 0:1]
        u_yy = torch.autograd.grad(du[:, 1].sum(), x, create_graph=True)[0][:, 1:2]
        residual = u_xx + u_yy + u - _forcing(x)
        side, free = torch.tensor([-1.0, 1.0], device=dev).repeat_interleave(n), torch.rand(2 * n, device=dev) * 2 - 1
        x_b = torch.cat([torch.stack([side, free], dim=1), torch.stack([free, side], dim=1)])
        boundary = 4 * (self.net(x_b) - _exact(x_b)).pow(2).mean()  # the sum of the four edges' MSE
        self.optimizer.zero_grad()
        (residual.pow(2).mean() + boundary).backward()
        self.optimizer.step()


def deepxde_helmholtz(batch_size: int = 128) -> Callable[[int], None]:
    """The same Helmholtz problem as DeepXDE's documentation writes it (PyTorch backend); returns train(n).

    ``dde.data.PDE`` with 128 residual and 4 x 128 boundary points, redrawn every step by
    ``PDEPointResampler(period=1)`` as in the paper's protocol; ``FNN([2, 50, 50, 50, 1])`` with
    tanh and Glorot-normal weights; Adam at 1e-3; second derivatives by ``dde.grad.hessian``.
    Needs ``deepxde`` (not a dependency of this library).
    """
    os.environ.setdefault("DDE_BACKEND", "pytorch")
    import deepxde as dde

    if dde.backend.backend_name != "pytorch":
        raise RuntimeError(f"deepxde uses the {dde.backend.backend_name} backend; set DDE_BACKEND=pytorch")
    dde.config.set_random_seed(0)

    def pde(x, u):
        u_xx = dde.grad.hessian(u, x, i=0, j=0)
        u_yy = dde.grad.hessian(u, x, i=1, j=1)
        return u_xx + u_yy + u - _forcing(x)

    geometry = dde.geometry.Rectangle([-1, -1], [1, 1])
    boundary = dde.icbc.DirichletBC(geometry, lambda x: 0, lambda _, on_boundary: on_boundary)
    data = dde.data.PDE(geometry, pde, boundary, num_domain=batch_size, num_boundary=4 * batch_size)
    model = dde.Model(data, dde.nn.FNN([2, 50, 50, 50, 1], "tanh", "Glorot normal"))
    with contextlib.redirect_stdout(io.StringIO()):  # DeepXDE prints a line per compile; the table is the output
        model.compile("adam", lr=1e-3)
    resampler = dde.callbacks.PDEPointResampler(period=1)

    def train(steps: int) -> None:
        model.train(iterations=steps, callbacks=[resampler], display_every=steps, verbose=0)
    return train


def _time_steps(train: Callable[[int], object], steps: int, device: torch.device) -> float:
    """Milliseconds per step over ``steps`` training steps, ``train(steps)`` taking them."""
    start = time.perf_counter()
    train(steps)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps * 1000


def _one_by_one(train_step: Callable[[], object]) -> Callable[[int], None]:
    def train(steps: int) -> None:
        for _ in range(steps):
            train_step()
    return train


def _time_interleaved(timed: dict, rows: dict, repeats: int, steps: int, device: torch.device) -> None:
    """Time each ``timed[key]`` (``train(steps)``) ``repeats`` times into ``rows[key]["times"]``, interleaved, so that
    a slow spell of the machine hits every row alike, and set each row's ``ms_per_step`` to its median."""
    for _ in range(repeats):
        for key, train in timed.items():
            rows[key]["times"].append(_time_steps(train, steps, device))
    for row in rows.values():
        row["ms_per_step"] = statistics.median(row["times"])


def _trainer_steps(trainer: Trainer, weighting: Weighting) -> Callable[[int], None]:
    """train(n): n steps of ``trainer`` under ``weighting`` (one trainer serves both weightings)."""
    def train(steps: int) -> None:
        trainer.weighting = weighting
        for _ in range(steps):
            trainer.train_step()
            trainer.step += 1
    return train


def step_times(problem_name: str = "helmholtz", repeats: int = 9, steps: int = 50, warmup: int = 20,
               paths: tuple[str, ...] = tuple(PATH_SETTINGS), device: str | None = None,
               deepxde: bool | None = None) -> list[dict]:
    """Median ms per step for every network x path x weighting, with ratios to nested autograd.

    On Helmholtz the first row is ``PlainPyTorchHelmholtz``, and, when ``deepxde`` is installed
    (or ``deepxde=True``), the second is ``deepxde_helmholtz``; both are compared with the
    library's MLP on its nested-autograd path. ``steps`` should be a multiple of 10 so that
    Algorithm 1 updates as often as in training.
    """
    set_threads()  # trainers set threads only inside run(); these steps are timed outside it
    problem = get_problem(problem_name)
    budget = get_budget("paper")
    dev = get_device(device)
    weightings = {"fixed": FixedWeights(problem.weighted_terms),
                  "Algorithm 1": LearningRateAnnealing(problem.weighted_terms)}
    timed, rows = {}, {}
    if problem_name == "helmholtz":
        torch.manual_seed(0)
        plain = PlainPyTorchHelmholtz(budget.batch_size, dev)
        timed["MLP", "plain PyTorch", "fixed"] = _one_by_one(plain.train_step)
        use_deepxde = deepxde_available() if deepxde is None else deepxde
        if use_deepxde:
            timed["MLP", "DeepXDE", "fixed"] = deepxde_helmholtz(budget.batch_size)
        for train in timed.values():
            _time_steps(train, warmup, dev)
    for net_name, method in NETWORKS.items():
        for path in paths:
            net, _ = build(method, problem, seed=0)
            trainer = Trainer(problem, net, weightings["fixed"], budget=budget, steps=10**9, progress=False,
                              device=dev, **PATH_SETTINGS[path])
            for w, weighting in weightings.items():
                timed[net_name, path, w] = _trainer_steps(trainer, weighting)
                _time_steps(timed[net_name, path, w], warmup, dev)  # the first steps compile
    for key in timed:
        rows[key] = {"network": key[0], "path": key[1], "weighting": key[2], "times": []}
    _time_interleaved(timed, rows, repeats, steps, dev)
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


def full_run(problem: str, method: str, budget: str | Budget = "paper", device: str | None = None,
             warm_cache: bool = False) -> dict:
    """Wall time of one complete run as a user starts it, on the automatic (fastest) path.

    The run is ``python -m pinn_tutorial train`` in a fresh process, so the time includes starting
    Python and importing torch. With an empty compile cache it includes compiling from scratch,
    as on a new machine; with ``warm_cache`` the same run is started twice on one cache, as a
    user's second run (or a sweep's next job) finds it, and the second is timed. Its files go to
    a temporary folder: a timing must not replace a reproduction's result.
    """
    budget_name = get_budget(budget).name
    with tempfile.TemporaryDirectory() as out, tempfile.TemporaryDirectory() as cache:
        command = [sys.executable, "-m", "pinn_tutorial", "train", problem, "--method", method,
                   "--budget", budget_name, "--out", out, "--no-progress", "--fresh"]
        if device:
            command += ["--device", device]
        env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": cache}
        if warm_cache:  # a few compiled steps of the same network and batch fill the cache with its graph
            fill = (f"from pinn_tutorial import Trainer, build, get_problem; p = get_problem({problem!r}); "
                    f"t = Trainer(p, *build({method!r}, p), budget={budget_name!r}, compile='on', "
                    f"progress=False, device={device!r}); t.train_step(); t.train_step()")
            subprocess.run([sys.executable, "-c", fill], check=True, capture_output=True, env=env)
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=env)
        wall_s = time.perf_counter() - start
        result = json.loads((Path(out) / f"{Experiment(problem, method, budget_name).stem()}.json").read_text())
    return {"problem": problem, "method": method, "budget": budget_name, "cache": "warm" if warm_cache else "empty",
            "steps": result["steps"], "wall_s": wall_s, "train_s": result["wall_s"], "rel_l2": result["rel_l2"]}


def deepxde_available() -> bool:
    return importlib.util.find_spec("deepxde") is not None


def report_heading(device: torch.device) -> str:
    """The first line of a report: date, commit, machine and torch version."""
    return f"{datetime.date.today()}, pinn_tutorial commit {git_commit()}, {machine(device)}, torch {torch.__version__}"


def format_full_run(run: dict, nested_ms: float) -> str:
    """One complete run of ``bench --full`` (``run`` as ``full_run`` returns it) as a line of the report.

    Helmholtz's wall is also given as a ratio to ``run["steps"]`` steps of ``nested_ms`` milliseconds;
    Klein-Gordon's beside the paper's wall time (Table 3).
    """
    paper = (f"; the paper's laptop CPU: {KLEIN_GORDON_TRAIN_TIME_S[run['method']]:,.0f} s (Table 3)"
             if run["problem"] == "klein_gordon" else "")
    ratio = (f", x nested {run['wall_s'] / (run['steps'] * nested_ms / 1000):.2f}"
             if run["problem"] == "helmholtz" else "")
    return (f"  {run['problem']} {run['method']}, {run['cache']} cache: wall {run['wall_s']:.0f} s, "
            f"train {run['train_s']:.0f} s ({run['train_s'] / run['steps'] * 1000:.2f} ms/step)"
            f"{ratio}, relative L2 error {run['rel_l2']:.2e}{paper}")


def format_report(rows: list[dict], repeats: int, heading: str, runs: list[dict] | None = None,
                  deepxde_installed: bool = True) -> str:
    """The text of ``bench`` from what it measured: the step table's ``rows`` and, for ``--full``, the ``runs``."""
    text = [heading, "Helmholtz, 128 points per term, 3 hidden layers x 50",
            f"median of {repeats} repeats of 50 steps after warm-up", "", format_step_table(rows)]
    if not deepxde_installed:
        text += ["", "deepxde is not installed: its Helmholtz script was not timed (pip install deepxde to add it)."]
    if runs:
        nested = next(r for r in rows if (r["network"], r["path"], r["weighting"])
                      == ("ModifiedMLP", "nested autograd", "Algorithm 1"))["ms_per_step"]
        text += ["", "complete runs at the paper budget (40,000 steps) as `python -m pinn_tutorial train` starts them,",
                 "each in a fresh process: wall = start to exit, train = the training loop (compile included);",
                 "empty cache = compiled from scratch, warm cache = a second run on the same compile cache;",
                 f"x nested = wall / (40,000 steps x {nested:.2f} ms, the nested-autograd ModifiedMLP step above)"]
        text += [format_full_run(run, nested) for run in runs]
    return "\n".join(text)


def report(repeats: int = 9, full: bool = False, device: str | None = None, compile: bool = True) -> str:
    """The whole benchmark as printable text (``compile=False`` leaves out the compiled path)."""
    paths = tuple(PATH_SETTINGS) if compile else tuple(p for p in PATH_SETTINGS if PATH_SETTINGS[p]["compile"] == "off")
    rows = step_times(repeats=repeats, paths=paths, device=device)
    runs = [full_run(problem, "M4", device=device, warm_cache=warm)
            for problem in ("helmholtz", "klein_gordon") for warm in (False, True)] if full else []
    return format_report(rows, repeats, report_heading(get_device(device)), runs, deepxde_available())


# -- reading a report back -----------------------------------------------------------------------

_HEADING = re.compile(r"^(\d{4}-\d\d-\d\d), pinn_tutorial commit (\S+), (.+), torch (\S+)$")
_STEP_ROW = re.compile(rf"^({'|'.join(sorted(NETWORKS, key=len, reverse=True))})\s+"
                       rf"({'|'.join(OUTSIDE_PATHS + tuple(PATH_SETTINGS))})\s+({'|'.join(WEIGHTINGS)})"
                       r"\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$")
_METHOD = "|".join(map(re.escape, METHODS))  # a preset's name, from the registry
_RUN = re.compile(rf"^\s+(?P<problem>\w+) (?P<method>{_METHOD})(?:, (?P<cache>empty|warm) cache)?: "
                  r"(?:wall )?(?P<wall>[\d.]+) s"
                  r"(?:, train (?P<train>[\d.]+) s)? \((?P<ms>[\d.]+) ms/step\)(?:, x nested (?P<x_nested>[\d.]+))?"
                  r", relative L2 error (?P<rel_l2>[\d.e+-]+)"
                  r"(?:; the paper's laptop CPU: (?P<paper>[\d,]+) s \(Table 3\))?\s*$")


def parse_report(text: str) -> dict:
    """What a ``bench`` report says, from its text; see ``read_report`` (here the errors are ``ValueError``)."""
    out = {"comment": [], "date": None, "commit": None, "machine": None, "torch": None, "repeats": None,
           "rows": {}, "steps": None, "nested_ms": None, "runs": []}
    section, runs_heading = None, []
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("#"):
            out["comment"].append(line.lstrip("# ").rstrip())
        elif not line.strip():
            section = None
        elif section == "table":
            if not (m := _STEP_ROW.match(line)):
                raise ValueError(f"line {number} of the step table is not a row: {line!r}")
            out["rows"][m[1], m[2], m[3]] = {"network": m[1], "path": m[2], "weighting": m[3],
                                             "ms_per_step": float(m[4]), "vs_nested": float(m[5]),
                                             "vs_fixed": float(m[6])}
        elif section == "runs" and line.startswith(" "):
            if not (m := _RUN.match(line)):
                raise ValueError(f"line {number} is not a complete run: {line!r}")
            out["runs"].append({
                "problem": m["problem"], "method": m["method"], "cache": m["cache"], "wall_s": float(m["wall"]),
                "train_s": float(m["train"]) if m["train"] else None, "ms_per_step": float(m["ms"]),
                "x_nested": float(m["x_nested"]) if m["x_nested"] else None, "rel_l2": float(m["rel_l2"]),
                "paper_s": float(m["paper"].replace(",", "")) if m["paper"] else None})
        elif section == "runs":
            runs_heading.append(line)
        elif m := _HEADING.match(line):
            out["date"], out["commit"], out["machine"], out["torch"] = m.groups()
        elif line.startswith("network ") and "ms/step" in line:
            section = "table"
        elif line.startswith("complete runs at"):
            section = "runs"
            runs_heading.append(line)
        elif m := re.match(r"median of (\d+) repeats", line):
            out["repeats"] = int(m[1])
    if not out["rows"]:
        raise ValueError("no step table headed 'network  path  weighting  ms/step ...'")
    if out["torch"] is None and (m := re.search(r"torch (\d[\w.+]*)", text)):  # a hand-written heading (h100_*)
        out["torch"] = m[1]
    heading = " ".join(runs_heading)
    if m := re.search(r"\(([\d,]+) steps\)", heading):
        out["steps"] = int(m[1].replace(",", ""))
    if m := re.search(r"x nested = wall / \([\d,]+ steps x ([\d.]+) ms", heading):
        out["nested_ms"] = float(m[1])
    fresh = "fresh process" in heading
    for run in out["runs"]:
        # The oldest format timed its runs inside the bench process, after the step table had compiled;
        # the next started each in a fresh process with an empty compile cache; the newest says which.
        run["cache"] = run["cache"] or ("empty" if fresh else "in process")
        run["steps"] = out["steps"]
    return out


def read_report(path: str | os.PathLike) -> dict:
    """What a file written from ``python -m pinn_tutorial bench`` says, in any format it has had.

    Returns a dict with
    ``rows``: the step table, ``{(network, path, weighting): row}`` with the keys of ``step_times``
    (``ms_per_step``, ``vs_nested``, ``vs_fixed``, ...);
    ``runs``: the complete runs of ``--full``, each a dict with ``problem``, ``method``, ``cache``
    (``"empty"``: a fresh process compiling from scratch, ``"warm"``: a fresh process on the compile cache
    of an earlier run, ``"in process"``: the oldest format, run inside the bench process after its step
    table had compiled), ``wall_s``, ``train_s`` (None where not printed), ``ms_per_step``, ``x_nested``
    (the wall over ``steps`` nested-autograd gated steps; None where not printed), ``rel_l2``, ``paper_s``
    (the paper's time, Klein-Gordon) and ``steps``;
    ``nested_ms``: the nested-autograd ModifiedMLP step with Algorithm 1 that ``x_nested`` divides by;
    ``date``, ``commit``, ``machine``, ``torch``, ``repeats`` from the heading, and ``comment``: the
    lines starting with ``#`` (the command and the conditions, added by hand). A field that a file does not
    state is None. A file that is not text, has no step table, or has a line in the step table or among the
    runs that does not parse raises ``ConfigError`` (a ``ValueError``): "<path> is not a bench report (<reason>)".
    """
    return _read(path, parse_report, "bench report")


def gated_step_cost(report: dict) -> dict[str, float]:
    """What a gated step (``ModifiedMLP``) costs over a plain one (``MLP``) in a bench report (``read_report``):
    the ratio of their milliseconds per step, fixed weights, one machine and one thread, per derivative path.
    The book's one figure for this quantity: step times, not the wall times of result files, which mix
    versions of PyTorch, machines and ensembles."""
    rows = report["rows"]
    return {path: rows["ModifiedMLP", path, "fixed"]["ms_per_step"] / rows["MLP", path, "fixed"]["ms_per_step"]
            for network, path, weighting in rows if network == "MLP" and weighting == "fixed"
            and ("ModifiedMLP", path, "fixed") in rows}


def _read(path: str | os.PathLike, parse: Callable[[str], dict], what: str) -> dict:
    """``parse`` of the text in ``path``; a file that is not UTF-8 text, or a ``ValueError`` of ``parse``, raises
    ``ConfigError`` naming the file (a missing file raises ``FileNotFoundError``)."""
    try:
        return parse(Path(path).read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not a {what} (not a text file)") from None
    except ValueError as error:
        raise ConfigError(f"{path} is not a {what} ({error})") from None


# -- many runs at once: `bench --ensemble` -------------------------------------------------------

LAYOUTS = {
    "sequential": "E single runs one after another, 1 process",
    "jobs 2": "the same E single runs in 2 worker processes",
    "ensemble": "one E-member ensemble, 1 process",
    "ensemble, 2 threads": "one E-member ensemble, 1 process with 2 threads",
    "ensemble x 2 jobs": "two ensembles of E/2 members in 2 worker processes",
}


def _layout_worker(members: int, ensemble: bool, threads: int, method: str, steps: int, repeats: int,
                   compile: bool, device: str | None, barrier, queue) -> None:
    """One worker process of a layout: build its runs, warm up (and compile), then time ``repeats``
    rounds of ``steps`` steps of each run, every round started together with the other workers."""
    os.environ["PINN_TUTORIAL_THREADS"] = str(threads)  # what every trainer then sets
    problem = get_problem("helmholtz")
    setting = "on" if compile else "off"
    if ensemble:
        nets, weightings = zip(*[build(method, problem, seed=s) for s in range(members)])
        trainers = [EnsembleTrainer(problem, nets, weightings, list(range(members)), budget="paper",
                                    steps=10**9, progress=False, device=device, compile=setting)]
    else:
        trainers = [Trainer(problem, *build(method, problem, seed=s), budget="paper", seed=s, steps=10**9,
                            progress=False, device=device, compile=setting) for s in range(members)]
    dev = trainers[0].device

    def train(n: int) -> None:
        for trainer in trainers:
            for _ in range(n):
                trainer.train_step()
                trainer.step += 1

    _time_steps(train, 20, dev)  # warm-up: the first steps compile
    times = []
    for _ in range(repeats):
        barrier.wait()
        times.append(_time_steps(train, steps, dev) * steps / 1000)  # seconds for the round
    queue.put(times)


def _time_layout(layout: str, size: int, method: str, steps: int, repeats: int, compile: bool,
                 device: str | None) -> float:
    """Milliseconds per member-step of ``size`` runs in ``layout``: the slowest worker's round, median over rounds."""
    shares = [size] if layout in ("sequential", "ensemble", "ensemble, 2 threads") else [size - size // 2, size // 2]
    shares = [s for s in shares if s > 0]
    context = multiprocessing.get_context("spawn")
    barrier, queue = context.Barrier(len(shares)), context.Queue()
    threads = 2 if layout.endswith("2 threads") else 1
    workers = [context.Process(target=_layout_worker, args=(share, layout.startswith("ensemble"), threads, method,
                                                            steps, repeats, compile, device, barrier, queue))
               for share in shares]
    for w in workers:
        w.start()
    rounds = _results(workers, queue, layout)
    for w in workers:
        w.join()
    return statistics.median(max(r[k] for r in rounds) for k in range(repeats)) / (size * steps) * 1000


def _results(workers: list, queue, layout: str, poll_s: float = 1.0) -> list:
    """One result from each of ``workers`` off ``queue``, checking every ``poll_s`` seconds that none has died.

    A worker that exits with a non-zero code (its error printed on stderr) stops the others, which would
    otherwise wait for it at their barrier, and raises ``RuntimeError`` naming its exit code.
    """
    results = []
    while len(results) < len(workers):
        try:
            results.append(queue.get(timeout=poll_s))
        except queues.Empty:
            dead = next((w for w in workers if w.exitcode not in (None, 0)), None)
            if dead is not None:
                for w in workers:
                    w.terminate()
                    w.join()
                raise RuntimeError(f"a worker of the bench layout {layout!r} exited with code {dead.exitcode} "
                                   "(its error, if any, is printed above); the layout was not timed") from None
    return results


def ensemble_times(sizes: tuple[int, ...] | None = None, method: str = "M4", steps: int = 50, repeats: int = 5,
                   compile: bool = True, device: str | None = None) -> list[dict]:
    """ms per member-step of Helmholtz ``method`` (paper budget, 3 x 50) in every layout, for each E.

    Each layout runs in fresh worker processes (one thread each), so that no layout inherits
    another's compiled graphs or caches. ``sizes`` defaults to 1, 4, 10 (and 64 on a GPU).
    """
    dev = get_device(device)
    sizes = sizes or ((1, 4, 10, 64) if dev.type == "cuda" else (1, 4, 10))
    rows = []
    for size in sizes:
        times = {layout: _time_layout(layout, size, method, steps, repeats, compile, device) for layout in LAYOUTS
                 if not (layout == "ensemble x 2 jobs" and size < 2)}
        for layout, ms in times.items():
            rows.append({"members": size, "layout": layout, "ms_per_member_step": ms,
                         "vs_sequential": ms / times["sequential"], "vs_jobs2": ms / times["jobs 2"]})
    return rows


def format_ensemble_table(rows: list[dict]) -> str:
    lines = [f"{'E':>3}  {'layout':<20} {'ms per member-step':>18} {'x sequential':>13} {'x jobs 2':>9}"]
    for r in rows:
        lines.append(f"{r['members']:>3}  {r['layout']:<20} {r['ms_per_member_step']:>18.3f} "
                     f"{r['vs_sequential']:>13.2f} {r['vs_jobs2']:>9.2f}")
    return "\n".join(lines)


def format_ensemble_report(rows: list[dict], repeats: int, heading: str, compile: bool = True) -> str:
    """The text of ``bench --ensemble`` from what it measured: the ``rows`` of ``ensemble_times``."""
    path = "compiled" if compile else "eager"
    return "\n".join([
        heading,
        f"Helmholtz M4 (gated 3 x 50, Algorithm 1), 128 points per term, fast {path} path, 1 thread per process "
        "unless the layout says otherwise",
        f"median of {repeats} rounds of 50 steps after warm-up; a round of 2 processes ends with the slower one",
        *[f"  {name}: {what}" for name, what in LAYOUTS.items()], "", format_ensemble_table(rows)])


def ensemble_report(repeats: int = 5, device: str | None = None, compile: bool = True) -> str:
    """``bench --ensemble`` as printable text."""
    set_threads()  # so that the report's first line names the workers' thread count, not this process's
    rows = ensemble_times(repeats=repeats, compile=compile, device=device)
    return format_ensemble_report(rows, repeats, report_heading(get_device(device)), compile)


_LAYOUT_LINE = re.compile(rf"^  ({'|'.join(map(re.escape, LAYOUTS))}): (.+)$")
_ENSEMBLE_ROW = re.compile(rf"^\s*(\d+)\s+({'|'.join(map(re.escape, sorted(LAYOUTS, key=len, reverse=True)))})"
                           r"\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$")


def _parse_one_table(text: str, out: dict, starts_table: Callable[[str], bool],
                     parse_row: Callable[[str], bool], other: Callable[[str], None], table: str = "table") -> None:
    """The skeleton of a one-table report: lines starting with "#" go to ``out["comment"]``, the heading fills
    ``date``, ``commit``, ``machine`` and ``torch``, the line where ``starts_table`` holds opens the table and a
    blank line closes it; each line of the ``table`` goes to ``parse_row`` (false: a ``ValueError`` naming the line),
    every other line to ``other``."""
    in_table = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("#"):
            out["comment"].append(line.lstrip("# ").rstrip())
        elif not line.strip():
            in_table = False
        elif in_table:
            if not parse_row(line):
                raise ValueError(f"line {number} of the {table} is not a row: {line!r}")
        elif m := _HEADING.match(line):
            out["date"], out["commit"], out["machine"], out["torch"] = m.groups()
        elif starts_table(line):
            in_table = True
        else:
            other(line)


def parse_ensemble_report(text: str) -> dict:
    """What a ``bench --ensemble`` report says, from its text; see ``read_ensemble_report`` (here the errors are
    ``ValueError``)."""
    out = {"comment": [], "date": None, "commit": None, "machine": None, "torch": None, "path": None,
           "repeats": None, "steps": None, "layouts": {}, "rows": {}}

    def row(line: str) -> bool:
        if not (m := _ENSEMBLE_ROW.match(line)):
            return False
        out["rows"][int(m[1]), m[2]] = {"members": int(m[1]), "layout": m[2], "ms_per_member_step": float(m[3]),
                                        "vs_sequential": float(m[4]), "vs_jobs2": float(m[5])}
        return True

    def other(line: str) -> None:
        if m := _LAYOUT_LINE.match(line):
            out["layouts"][m[1]] = m[2]
        elif m := re.match(r"median of (\d+) rounds of (\d+) steps", line):
            out["repeats"], out["steps"] = int(m[1]), int(m[2])
        elif m := re.search(r", fast (compiled|eager) path,", line):
            out["path"] = m[1]

    _parse_one_table(text, out, lambda line: line.split()[:2] == ["E", "layout"], row, other, "ensemble table")
    if not out["rows"]:
        raise ValueError("no table headed 'E  layout  ms per member-step ...'")
    return out


def read_ensemble_report(path: str | os.PathLike) -> dict:
    """What a file written from ``python -m pinn_tutorial bench --ensemble`` says.

    Returns a dict with
    ``rows``: the table, ``{(members, layout): row}`` in the order printed, each row with the keys of
    ``ensemble_times`` (``members``, ``layout``, ``ms_per_member_step``, and the ratios ``vs_sequential``
    and ``vs_jobs2`` to the same E's sequential and ``jobs 2`` layouts, as printed);
    ``layouts``: each layout's description, as the report gives it;
    ``path``: ``"compiled"`` or ``"eager"``; ``repeats`` and ``steps``: rounds of so many steps;
    ``date``, ``commit``, ``machine``, ``torch`` from the heading, and ``comment``: the lines starting with
    ``#`` (the command and the conditions, added by hand). A field that a file does not state is None.
    A file that is not text, has no table, or has a line in the table that does not parse raises
    ``ConfigError`` (a ``ValueError``): "<path> is not a bench --ensemble report (<reason>)".
    """
    return _read(path, parse_ensemble_report, "bench --ensemble report")


# -- the cavity's two formulations: `bench --cavity` ----------------------------------------------

FORMULATIONS = {"velocity-pressure": "cavity_velocity", "stream function": "cavity_stream"}
CAVITY_METHODS = {"M1": "plain 3 x 50, fixed weights", "M4": "gated 3 x 50, Algorithm 1"}


def cavity_step_times(repeats: int = 5, steps: int = 50, warmup: int = 20,
                      paths: tuple[str, ...] = tuple(PATH_SETTINGS), device: str | None = None) -> list[dict]:
    """Median ms per step of both cavity formulations, for M1 and M4, on every path, with two ratios.

    Each row is one run as ``build`` makes it (seed 0, the paper budget's 128 points per term and wall), timed
    on ``Trainer.train_step``, interleaved over ``repeats`` repeats of ``steps`` steps after ``warmup`` steps (which
    compile). ``vs_nested``: to the same formulation and method on nested autograd; ``vs_velocity``: the stream
    function's step to the velocity-pressure step of the same method and path (1 for the velocity-pressure rows).
    """
    set_threads()
    budget = get_budget("paper")
    dev = get_device(device)
    timed, rows = {}, {}
    for formulation, name in FORMULATIONS.items():
        for method in CAVITY_METHODS:
            for path in paths:
                problem = get_problem(name)
                net, weighting = build(method, problem, seed=0)
                trainer = Trainer(problem, net, weighting, budget=budget, steps=10**9, progress=False, device=dev,
                                  **PATH_SETTINGS[path])
                timed[formulation, method, path] = _trainer_steps(trainer, weighting)
                _time_steps(timed[formulation, method, path], warmup, dev)  # the first steps compile
                if PATH_SETTINGS[path]["compile"] == "on" and not trainer.compiled:
                    raise RuntimeError(f"the {formulation} {method} step did not compile; its row would be eager")
                rows[formulation, method, path] = {"formulation": formulation, "method": method, "path": path,
                                                   "times": []}
    _time_interleaved(timed, rows, repeats, steps, dev)
    for (formulation, method, path), row in rows.items():
        row["vs_nested"] = row["ms_per_step"] / rows[formulation, method, paths[0]]["ms_per_step"]
        row["vs_velocity"] = row["ms_per_step"] / rows["velocity-pressure", method, path]["ms_per_step"]
    return list(rows.values())


def format_cavity_table(rows: list[dict]) -> str:
    lines = [f"{'formulation':<18} {'method':<6} {'path':<16} {'ms/step':>8} {'x nested':>9} "
             f"{'x velocity-pressure':>20}"]
    for r in rows:
        lines.append(f"{r['formulation']:<18} {r['method']:<6} {r['path']:<16} {r['ms_per_step']:8.2f} "
                     f"{r['vs_nested']:9.2f} {r['vs_velocity']:20.2f}")
    return "\n".join(lines)


def format_cavity_report(rows: list[dict], repeats: int, heading: str, steps: int = 50) -> str:
    """The text of ``bench --cavity`` from what it measured: the ``rows`` of ``cavity_step_times``."""
    return "\n".join([
        heading,
        "lid-driven cavity (Re = 100), 128 points per term and wall; "
        + "; ".join(f"{m}: {what}" for m, what in CAVITY_METHODS.items()),
        f"median of {repeats} repeats of {steps} steps after warm-up",
        "x nested: to the same formulation and method on nested autograd; "
        "x velocity-pressure: to the velocity-pressure step of the same method and path",
        "", format_cavity_table(rows)])


def cavity_report(repeats: int = 5, device: str | None = None, compile: bool = True, steps: int = 50) -> str:
    """``bench --cavity`` as printable text (``compile=False`` leaves out the compiled path)."""
    paths = tuple(PATH_SETTINGS) if compile else tuple(p for p in PATH_SETTINGS if PATH_SETTINGS[p]["compile"] == "off")
    rows = cavity_step_times(repeats=repeats, steps=steps, paths=paths, device=device)
    return format_cavity_report(rows, repeats, report_heading(get_device(device)), steps)


_CAVITY_ROW = re.compile(rf"^({'|'.join(map(re.escape, FORMULATIONS))})\s+({'|'.join(CAVITY_METHODS)})\s+"
                         rf"({'|'.join(map(re.escape, PATH_SETTINGS))})\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$")


def parse_cavity_report(text: str) -> dict:
    """What a ``bench --cavity`` report says, from its text; see ``read_cavity_report`` (here the errors are
    ``ValueError``)."""
    out = {"comment": [], "date": None, "commit": None, "machine": None, "torch": None, "repeats": None,
           "steps": None, "rows": {}}

    def row(line: str) -> bool:
        if not (m := _CAVITY_ROW.match(line)):
            return False
        out["rows"][m[1], m[2], m[3]] = {"formulation": m[1], "method": m[2], "path": m[3],
                                         "ms_per_step": float(m[4]), "vs_nested": float(m[5]),
                                         "vs_velocity": float(m[6])}
        return True

    def other(line: str) -> None:
        if m := re.match(r"median of (\d+) repeats of (\d+) steps", line):
            out["repeats"], out["steps"] = int(m[1]), int(m[2])

    _parse_one_table(text, out, lambda line: line.split()[:3] == ["formulation", "method", "path"], row, other,
                     "cavity table")
    if not out["rows"]:
        raise ValueError("no table headed 'formulation  method  path  ms/step ...'")
    return out


def read_cavity_report(path: str | os.PathLike) -> dict:
    """What a file written from ``python -m pinn_tutorial bench --cavity`` says.

    Returns a dict with
    ``rows``: the table, ``{(formulation, method, path): row}`` in the order printed, each row with the keys of
    ``cavity_step_times`` (``formulation``: "velocity-pressure" or "stream function", ``method``: "M1" or "M4",
    ``path``, ``ms_per_step``, and the ratios ``vs_nested`` and ``vs_velocity``, as printed);
    ``repeats`` and ``steps``: repeats of so many steps; ``date``, ``commit``, ``machine``, ``torch`` from the
    heading, and ``comment``: the lines starting with ``#`` (the command and the conditions, added by hand). A field
    that a file does not state is None. A file that is not text, has no table, or has a line in the table that does
    not parse raises ``ConfigError`` (a ``ValueError``): "<path> is not a bench --cavity report (<reason>)".
    """
    return _read(path, parse_cavity_report, "bench --cavity report")


# -- beside the authors' code: `bench --original` ------------------------------------------------

ORIGINAL_METHODS = ("M1", "M2", "M4")  # the methods of the Helmholtz driver that `bench --original` times
ORIGINAL_EVERY = 1000  # original_code's runner passes on the original's progress line every this many iterations
MIN_ORIGINAL_STEPS = ORIGINAL_EVERY  # fewer, and theirs would have one progress line: no steady step to time


class TimedRunError(RuntimeError):
    """A whole run of ``bench --original`` (ours or theirs) failed; the message ends with its last lines."""


def _library_run_child(method: str, steps: int, out: str) -> None:
    """In the fresh process of ``library_run``: the run ``train helmholtz --method METHOD --budget paper --steps
    STEPS`` makes (``run_experiment``), compiled as the paper budget's 40,000 steps are (``compile="auto"``
    compiles from ``COMPILE_FROM_STEPS`` steps; a shorter run here takes the same compiled path), with a callback
    that notes when each step ends. Prints one JSON line: the result's error and training time, and the time from
    the end of the first step to the end of the last."""
    from .. import training
    from .experiments import run_experiment

    training.COMPILE_FROM_STEPS = min(training.COMPILE_FROM_STEPS, steps)
    marks: list[float] = []
    compiled: list[bool] = []

    def mark(trainer: Trainer, step: int) -> None:
        marks.append(time.perf_counter())
        if step == trainer.steps:
            compiled.append(trainer.compiled)  # False where compiling failed and the run went on eagerly

    result = run_experiment(Experiment("helmholtz", method, "paper", 0, steps=steps), out, progress=False,
                            device="cpu", callback=mark)
    print(json.dumps({"train_s": result["wall_s"], "rel_l2": result["rel_l2"], "compiled": bool(compiled[:1] == [True]),
                      "steady_ms": (marks[-1] - marks[0]) / (len(marks) - 1) * 1000}))


def library_run(method: str, steps: int) -> dict:
    """Our whole Helmholtz run of ``method`` for ``steps`` steps, seed 0, as ``bench --full`` starts one.

    A fresh process with one thread and an empty compile cache (as on a new machine), on the CPU, compiled as a
    paper-budget run is. Returns ``train_s`` (the training loop, compile included: the result file's ``wall_s``),
    ``steady_ms`` (ms per step from the end of the first step to the end of the last), ``compile_s`` (what the
    training took beyond ``steps`` steady steps: compiling, in the first step), ``less_compile_s`` (the one less the
    other), ``wall_s`` (the process, start to exit), ``rel_l2`` and ``compiled``.
    """
    with tempfile.TemporaryDirectory() as out, tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": cache, "PINN_TUTORIAL_THREADS": "1", "OMP_NUM_THREADS": "1"}
        code = ("from pinn_tutorial.reproduction.bench import _library_run_child; "
                f"_library_run_child({method!r}, {steps}, {out!r})")
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        wall_s = time.perf_counter() - start
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-10:])
        raise TimedRunError(f"our helmholtz {method} run failed (exit status {done.returncode}); its last lines:\n"
                            f"{tail}")
    run = json.loads(done.stdout.strip().splitlines()[-1])
    less_compile_s = run["steady_ms"] * steps / 1000
    return {**run, "compile_s": run["train_s"] - less_compile_s, "less_compile_s": less_compile_s, "wall_s": wall_s}


_PROGRESS = re.compile(r"^\s*it\s+(\d+)\s")  # original_code.run_script's progress line: "  it   1000   ..."


def original_run(method: str, steps: int, checkout: str | os.PathLike, python: str, commit: str | None = None
                 ) -> dict:
    """The authors' whole Helmholtz run of ``method`` for ``steps`` steps, seed 0, through ``original_code.run``
    (one thread, CPU: ``steps + 1`` iterations, as the original counts them).

    Returns ``train_s`` (its timer: ``model.train(...)`` alone, the graph built before it), ``steady_ms`` (ms per
    iteration between the original's progress lines of iteration 0 and of the last thousand, noted as they
    arrive), ``start_s`` (what the training took beyond ``steps + 1`` steady iterations: TensorFlow's first
    session runs), ``wall_s`` (the script's process), ``rel_l2``, ``tensorflow`` and ``original_commit``.
    """
    from . import original_code

    setting = original_code.Setting("helmholtz", method, 0, steps, "2021" if method in ("M3", "M4") else None)
    lines: list[tuple[int, float]] = []

    def note(line: str) -> None:
        if m := _PROGRESS.match(line):
            lines.append((int(m[1]), time.perf_counter()))

    with tempfile.TemporaryDirectory() as out:
        try:
            result = original_code.run(setting, checkout, out, python, commit, force=True, progress=note)
        except original_code.RunError as error:
            raise TimedRunError(f"their helmholtz {method} run: {error}") from None
    if len(lines) < 2 or lines[0][0] != 0:
        raise TimedRunError(f"their helmholtz {method} run printed {len(lines)} progress lines (from iteration 0, "
                            f"every {ORIGINAL_EVERY:,}); its steady step could not be timed")
    (first, t_first), (last, t_last) = lines[0], lines[-1]
    steady_ms = (t_last - t_first) / (last - first) * 1000
    return {"train_s": result["wall_s"], "steady_ms": steady_ms,
            "start_s": result["wall_s"] - steady_ms * (steps + 1) / 1000, "wall_s": result["total_s"],
            "rel_l2": result["rel_l2"], "tensorflow": result["tensorflow"],
            "original_commit": result["original_commit"]}


def check_original(steps: int, checkout: str | os.PathLike, python: str, commit: str | None = None,
                   methods: tuple[str, ...] = ORIGINAL_METHODS) -> None:
    """Refuse, before anything is timed, fewer than ``MIN_ORIGINAL_STEPS`` steps, a checkout that lacks the
    Helmholtz files or an edit's text, and a ``python`` that cannot import tensorflow (a ``ConfigError`` each)."""
    from . import original_code

    if steps < MIN_ORIGINAL_STEPS:
        raise ConfigError(f"bench --original needs at least {MIN_ORIGINAL_STEPS:,} steps, got {steps:,}: theirs is "
                          f"timed per step from the progress lines the original prints every {ORIGINAL_EVERY:,}")
    for method in methods:
        gate = "2021" if method in ("M3", "M4") else None
        original_code.diff(original_code.Setting("helmholtz", method, 0, steps, gate), checkout, commit)
    if not original_code.probe(python)["tensorflow"]:
        raise ConfigError(f"{python} cannot import tensorflow; give --python a Python that can "
                          f"(or set ${original_code.PYTHON_ENV})")


def original_times(steps: int, checkout: str | os.PathLike, python: str, commit: str | None = None,
                   methods: tuple[str, ...] = ORIGINAL_METHODS,
                   progress: Callable[[str], None] | None = None) -> list[dict]:
    """Whole Helmholtz runs of each method by us and by the authors' code, interleaved (ours M1, theirs M1,
    ours M2, ...) so that the machine's drift hits both alike; one row per method (``original_row``)."""
    check_original(steps, checkout, python, commit, methods)
    rows = []
    for method in methods:
        ours = library_run(method, steps)
        if progress:
            progress(f"ours   {method}: train {ours['train_s']:.1f} s, of which compiling {ours['compile_s']:.1f} s; "
                     f"{ours['steady_ms']:.2f} ms/step after")
        theirs = original_run(method, steps, checkout, python, commit)
        if progress:
            progress(f"theirs {method}: train {theirs['train_s']:.1f} s, of which starting {theirs['start_s']:.1f} s; "
                     f"{theirs['steady_ms']:.2f} ms/step after")
        rows.append(original_row(method, ours, theirs))
    return rows


def original_row(method: str, ours: dict, theirs: dict) -> dict:
    """One method's row of ``bench --original``: both runs (as ``library_run`` and ``original_run`` return them),
    ``vs_theirs`` (our training time, compile included, over theirs) and ``steady_vs_theirs`` (our steady step
    over theirs)."""
    return {"method": method, "ours": ours, "theirs": theirs, "vs_theirs": ours["train_s"] / theirs["train_s"],
            "steady_vs_theirs": ours["steady_ms"] / theirs["steady_ms"]}


ORIGINAL_COLUMNS = ("method", "ours train s", "theirs train s", "ours/theirs", "ours compile s", "theirs start s",
                    "ours ms/step", "theirs ms/step", "per step ours/theirs", "ours error", "theirs error")


def format_original_table(rows: list[dict]) -> str:
    def line(cells) -> str:
        return "  ".join(f"{c:<{len(h)}}" if i == 0 else f"{c:>{len(h)}}"
                         for i, (c, h) in enumerate(zip(cells, ORIGINAL_COLUMNS))).rstrip()
    return "\n".join([line(ORIGINAL_COLUMNS)] + [line((
        r["method"], f"{r['ours']['train_s']:.1f}", f"{r['theirs']['train_s']:.1f}", f"{r['vs_theirs']:.2f}",
        f"{r['ours']['compile_s']:.1f}", f"{r['theirs']['start_s']:.1f}", f"{r['ours']['steady_ms']:.2f}",
        f"{r['theirs']['steady_ms']:.2f}", f"{r['steady_vs_theirs']:.2f}", f"{r['ours']['rel_l2']:.2e}",
        f"{r['theirs']['rel_l2']:.2e}")) for r in rows])


def format_original_report(rows: list[dict], steps: int, heading: str, comment: str | None = None) -> str:
    """The text of ``bench --original`` from what it measured: the ``rows`` of ``original_times``."""
    theirs = rows[0]["theirs"]
    commit = (theirs["original_commit"] or "(no git)")[:7]
    eager = [r["method"] for r in rows if not r["ours"]["compiled"]]
    order = ", ".join(f"ours {r['method']}, theirs {r['method']}" for r in rows)
    text = ([f"# {comment}"] if comment else []) + [
        heading,
        f"Helmholtz beside the authors' code: whole runs of {steps:,} steps, seed 0, CPU, one thread each, "
        f"interleaved ({order})",
        "ours: the run `train helmholtz --budget paper --steps N` makes, in a fresh process with an empty compile "
        "cache, compiled as a paper-budget run is",
        f"theirs: the original code at {commit} through pinn_tutorial.reproduction.original_code (its named edits), "
        f"TensorFlow {theirs['tensorflow']} in TF1 graph mode, N + 1 iterations as it counts them",
        "train s = the training loop (ours: compile included; theirs: model.train() alone, its graph built before);",
        "ms/step = steady: from the end of the first step to the end of the last (theirs: from its progress line of "
        f"iteration 0 to that of the last {ORIGINAL_EVERY:,});",
        "ours compile s, theirs start s = train s less the steps at the steady rate (our compile; TensorFlow's "
        "first session runs)",
        "", format_original_table(rows)]
    if eager:
        text += ["", f"compiling failed for {', '.join(eager)}: those runs of ours went on eagerly"]
    return "\n".join(text)


def original_report(steps: int, checkout: str | os.PathLike, python: str, out: str | os.PathLike = "results/bench",
                    commit: str | None = None, comment: str | None = None,
                    progress: Callable[[str], None] | None = None) -> tuple[str, Path]:
    """``bench --original`` as printable text, also written to ``out/original_cpu_<date>.txt`` (a letter added
    where the day has one already); returns the text and the file."""
    check_original(steps, checkout, python, commit)  # before anything is made or timed
    folder = Path(out)
    try:  # nor a folder that cannot hold the report
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
            pass
    except OSError as error:
        raise ConfigError(f"cannot write the report to {folder}: {error.strerror or error}") from None
    set_threads()  # so that the heading names one thread, as every run here has
    loads = os.getloadavg()
    started = datetime.datetime.now(datetime.timezone.utc)
    rows = original_times(steps, checkout, python, commit, progress=progress)
    ended = datetime.datetime.now(datetime.timezone.utc)
    ends = os.getloadavg()
    note = (f"{comment or 'python -m pinn_tutorial bench --original'}   ({started:%Y-%m-%d, %H:%M}-{ended:%H:%M} "
            f"UTC; load average {loads[0]:.1f} at the start, {ends[0]:.1f} at the end)")
    text = format_original_report(rows, steps, report_heading(torch.device("cpu")), note)
    stem = f"original_cpu_{datetime.date.today()}"
    path = next(folder / f"{stem}{suffix}.txt" for suffix in ("", *"bcdefghijklmnopqrstuvwxyz")
                if not (folder / f"{stem}{suffix}.txt").exists())
    path.write_text(text + "\n")
    return text, path


_NUM = r"\s+(-?[\d.]+)"
_ORIGINAL_ROW = re.compile(rf"^({_METHOD}){_NUM * 8}\s+([\d.e+-]+)\s+([\d.e+-]+)\s*$")


def parse_original_report(text: str) -> dict:
    """What a ``bench --original`` report says, from its text; see ``read_original_report`` (here the errors are
    ``ValueError``)."""
    out = {"comment": [], "date": None, "commit": None, "machine": None, "torch": None, "steps": None,
           "original_commit": None, "tensorflow": None, "rows": {}, "eager": []}

    def row(line: str) -> bool:
        if not (m := _ORIGINAL_ROW.match(line)):
            return False
        ours_s, theirs_s, ratio, compile_s, start_s, ours_ms, theirs_ms, steady = map(float, m.groups()[1:9])
        out["rows"][m[1]] = {
            "method": m[1], "vs_theirs": ratio, "steady_vs_theirs": steady,
            "ours": {"train_s": ours_s, "compile_s": compile_s, "less_compile_s": ours_s - compile_s,
                     "steady_ms": ours_ms, "rel_l2": float(m[10])},
            "theirs": {"train_s": theirs_s, "start_s": start_s, "steady_ms": theirs_ms, "rel_l2": float(m[11])}}
        return True

    def other(line: str) -> None:
        if m := re.search(r"whole runs of ([\d,]+) steps", line):
            out["steps"] = int(m[1].replace(",", ""))
        elif m := re.search(r"the original code at (\S+) .*TensorFlow (\S+) in", line):
            out["original_commit"], out["tensorflow"] = m[1], m[2]
        elif m := re.match(r"compiling failed for (.+): ", line):
            out["eager"] = m[1].split(", ")

    _parse_one_table(text, out, lambda line: line.split()[:3] == ["method", "ours", "train"], row, other)
    if not out["rows"]:
        raise ValueError("no table headed 'method  ours train s  theirs train s ...'")
    return out


def read_original_report(path: str | os.PathLike) -> dict:
    """What a file written by ``python -m pinn_tutorial bench --original`` says.

    Returns a dict with
    ``rows``: ``{method: row}`` in the order printed, each row with ``ours`` (``train_s``, compile included;
    ``compile_s``; ``less_compile_s``, the one less the other; ``steady_ms``; ``rel_l2``), ``theirs`` (``train_s``,
    the original's ``model.train()`` alone; ``start_s``; ``steady_ms``; ``rel_l2``), and the ratios as printed,
    ``vs_theirs`` (ours' training time over theirs) and ``steady_vs_theirs`` (ours' steady step over theirs);
    ``steps``: the runs' length; ``original_commit`` (short) and ``tensorflow``: what ran theirs; ``eager``: the
    methods whose compiling failed (ours then ran eagerly);
    ``date``, ``commit``, ``machine``, ``torch`` from the heading, and ``comment``: the lines starting with ``#``
    (the command, when it ran and the machine's load). A field that a file does not state is None. A file that is
    not text, has no table, or has a line in the table that does not parse raises ``ConfigError`` (a
    ``ValueError``): "<path> is not a bench --original report (<reason>)".
    """
    return _read(path, parse_original_report, "bench --original report")
