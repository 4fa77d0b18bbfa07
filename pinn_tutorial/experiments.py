"""One experiment = one problem, one method, one budget, one seed; its result is a JSON file.

``run_experiment`` trains (resuming from a checkpoint when one exists) and writes a small
JSON file with everything a table or a figure needs: the setting, the final relative L2
error beside the paper's, the wall time, the machine, the versions and git commit, and the
thinned loss, weight and error histories.
"""

from __future__ import annotations

import inspect
import json
import math
import numbers
import platform
import subprocess
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

from . import __version__, checkpoints
from .autodiff import DERIVATIVE_METHODS
from .config import BUDGETS, MAX_STEPS, ConfigError, check_seed, choose, get_budget, is_finite, is_whole
from .ensembles import EnsembleTrainer
from .methods import INPUT_SCALINGS, LAMBDA_UPDATES, MAX_DEPTH, MAX_WIDTH, METHODS, build, get_method
from .metrics import relative_l2
from .networks import GATED_VARIANTS
from .paper import reported_for_network
from .problems import PROBLEMS, Problem, get_problem
from .training import ADAM_FORMS, History, NonFiniteLossError, Trainer, TrainingLoop
from .weighting import ANNEALING_FORMS, POOLINGS, Weighting


@dataclass
class Experiment:
    """What to run: ``form`` is Algorithm 1's (M2, M4; one of ``weighting.ANNEALING_FORMS``), ``variant``
    the gated net's (M3, M4); ``width`` and ``depth`` set the hidden layers (default: the problem's
    paper network).

    Three details in which the original code differs from the library's defaults, each to be
    set apart (see ``methods.build`` and ``training.TrainingLoop._adam_step``): ``lambda_update``
    ("after_step": Algorithm 1 updates lambda after the Adam step, M2/M4 only), ``input_scaling``
    ("sampled": the input statistics of 10^5 random points) and ``adam`` ("tf1": TensorFlow 1's
    epsilon); the book's chapter 4 measures what each changes. The defaults stay the library's: a
    detail would become a default only if it changed a conclusion the book draws (chapter 4 says why
    none does). ``pooling`` overrides how Algorithm 1 pools the layers (M2, M4; default: the
    original code's for the problem).
    """

    problem: str
    method: str
    budget: str
    seed: int = 0
    form: str = "code"
    variant: str = "code"
    steps: int | None = None
    params: dict[str, float] = field(default_factory=dict)
    derivatives: str = "auto"
    width: int | None = None
    depth: int | None = None
    lambda_update: str = "before_step"
    input_scaling: str = "exact"
    adam: str = "torch"
    pooling: str | None = None

    def __post_init__(self) -> None:
        """Every field checked here, once, for the command line and the Python API alike: a ConfigError that names
        the field (with the near miss for a name), before anything is built or written."""
        choose("problem", self.problem, PROBLEMS)
        preset = get_method(self.method)
        choose("budget", self.budget, BUDGETS)
        check_seed(self.seed)
        choose("annealing form", self.form, ANNEALING_FORMS)  # the registry names every form, and so every stem
        choose("network variant", self.variant, GATED_VARIANTS)
        choose("derivative method", self.derivatives, DERIVATIVE_METHODS)
        choose("lambda update", self.lambda_update, LAMBDA_UPDATES)
        choose("input scaling", self.input_scaling, INPUT_SCALINGS)
        choose("Adam form", self.adam, ADAM_FORMS)
        if self.pooling is not None:
            choose("pooling", self.pooling, POOLINGS)
        for name, most in (("width", MAX_WIDTH), ("depth", MAX_DEPTH)):  # bounded before a list of layers is made
            value = getattr(self, name)
            if value is not None and not (is_whole(value) and 1 <= value <= most):
                raise ConfigError(f"{name} must be a whole number from 1 to {most:,}, got {value!r}")
        if self.steps is not None and not (is_whole(self.steps) and 1 <= self.steps <= MAX_STEPS):
            raise ConfigError(f"steps must be a whole number from 1 to {MAX_STEPS:,}, got {self.steps!r}")
        for name, value in self.params.items():
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ConfigError(f"parameter {name} must be a number, got {value!r}")
        # Plain Python numbers from here on (a NumPy integer is a whole number too), for file names and JSON.
        self.seed = int(self.seed)
        for name in ("steps", "width", "depth"):
            if getattr(self, name) is not None:
                setattr(self, name, int(getattr(self, name)))
        self.params = {name: float(value) for name, value in self.params.items()}
        make_problem(self.problem, self.params)  # its parameter names and values, before any folder is made
        # A switch that does nothing for this method is refused: the run would be the default one under another name.
        switches = (("form", self.form, "code", preset.annealing),
                    ("lambda_update", self.lambda_update, "before_step", preset.annealing),
                    ("pooling", self.pooling, None, preset.annealing),
                    ("variant", self.variant, "code", preset.architecture == "modified_mlp"))
        idle = [f"{name} {value!r}" for name, value, default, applies in switches if value != default and not applies]
        if idle:
            raise ConfigError(f"{self.method} ({preset.description}) has no use for {', '.join(idle)}: "
                              "leave it at its default")

    def layers(self, problem: Problem) -> list[int]:
        """The network's sizes: the problem's paper network with ``width`` and ``depth`` applied."""
        default = problem.default_layers
        width = self.width or default[1]
        depth = self.depth or len(default) - 2
        return [default[0], *[width] * depth, default[-1]]

    def stem(self) -> str:
        """A file name that tells the runs apart, e.g. ``helmholtz_M2-code_paper_seed0``.

        A network other than the paper's adds its hidden layers, e.g. ``_100x7net`` (width x depth),
        and each of the original code's details that is set adds its name: ``_lambda-after``
        (M2, M4), ``_sampled-scaling``, ``_tf1-adam``; a pooling set for M2, M4 adds e.g. ``_pooling-all``.
        """
        preset = get_method(self.method)
        method = self.method + (f"-{self.form}" if preset.annealing else "")
        method += f"-{self.variant}net" if preset.architecture == "modified_mlp" and self.variant != "code" else ""
        extras = "".join(f"_{k}{_exact(v)}" for k, v in sorted(self.params.items()))
        problem = make_problem(self.problem, self.params)
        layers = self.layers(problem)
        net = f"_{layers[1]}x{len(layers) - 2}net" if layers != problem.default_layers else ""
        steps = f"_{self.steps}steps" if self.steps is not None else ""
        path = "_autograd" if self.derivatives == "autograd" else ""
        details = "_lambda-after" if preset.annealing and self.lambda_update == "after_step" else ""
        details += "_sampled-scaling" if self.input_scaling == "sampled" else ""
        details += "_tf1-adam" if self.adam == "tf1" else ""
        details += f"_pooling-{self.pooling.replace('_', '-')}" if preset.annealing and self.pooling else ""
        return f"{self.problem}{extras}_{method}{net}_{self.budget}{steps}{path}{details}_seed{self.seed}"


def _exact(value: float) -> str:
    """A parameter's value for a file name: short (``0.1``, ``1``), and exact, so that no two values share a name."""
    short = f"{value:g}"
    return short if float(short) == value else repr(float(value))


def make_problem(name: str, params: dict[str, float]):
    """The problem ``name`` with ``params``; an unknown parameter gets an error listing the valid ones."""
    cls = PROBLEMS.get(name)
    if cls is not None:
        valid = [p for p in inspect.signature(cls).parameters]
        unknown = sorted(set(params) - set(valid))
        if unknown:
            raise ConfigError(f"problem {name!r} has no parameter {unknown[0]!r}; "
                              f"its parameters are: {', '.join(valid) or 'none'}")
    bad = [k for k, v in params.items() if not math.isfinite(v)]
    if bad:
        raise ConfigError(f"problem {name!r}: parameter {bad[0]} must be a finite number, got {params[bad[0]]}")
    try:
        return get_problem(name, **params)
    except ConfigError:
        raise
    except (ValueError, TypeError) as error:  # a value the problem refuses, e.g. a negative Reynolds number
        raise ConfigError(f"problem {name!r}: {error}") from None


def machine(device: torch.device) -> str:
    """The hardware in words: the GPU's name, or the CPU's with the thread count."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu} ({torch.get_num_threads()} threads)"


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).parent,
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


def _result(exp: Experiment, problem: Problem, net: nn.Module, weighting: Weighting, history: History,
            prediction: torch.Tensor, trainer: TrainingLoop, ensemble: dict | None) -> dict:
    """Everything a table or a figure needs about one finished run, as it goes into its JSON file.

    The final error is evaluated here, from the trained network against the reference, not read from the history:
    a run finished earlier and reported again (its checkpoint reused) is measured against today's reference. A
    final error that is not finite is a ``NonFiniteLossError``: no result file holds it.
    """
    preset = get_method(exp.method)
    rel_l2 = relative_l2(prediction, trainer.u_eval)
    if not math.isfinite(rel_l2):
        raise NonFiniteLossError(
            f"{exp.stem()}: the final relative L2 error is {rel_l2}, so no result file is written; the prediction or "
            f"the reference solution on the evaluation grid is not finite (for the cavity, delete the cached reference "
            f"under $PINN_TUTORIAL_CACHE or ~/.cache/pinn_tutorial to solve it again)")
    depth, width = len(net.layers) - 2, net.layers[1]
    paper = reported_for_network(exp.problem, exp.method, depth, width, exp.params)
    return {
        **asdict(exp),
        "steps": trainer.steps,
        "width": width,
        "depth": depth,
        "method_description": preset.description,
        "problem_repr": repr(problem),
        "layers": net.layers,
        "weighting": repr(weighting),
        "batch_size": trainer.budget.batch_size,
        "rel_l2": rel_l2,
        **problem.metrics(prediction, trainer.u_eval, trainer.grid_shape),
        "paper_rel_l2": paper.rel_l2 if paper else None,
        "paper_source": paper.source if paper else None,
        "final_weights": dict(weighting.weights),
        "wall_s": history.wall_s,
        "ensemble": ensemble,
        "device": str(trainer.device),
        "hardware": machine(trainer.device),
        "torch": torch.__version__,
        "pinn_tutorial": __version__,
        "git_commit": git_commit(),
        "history": history.to_dict(),
    }


def check_writable(folder: str | Path) -> None:
    """A ConfigError, before any training, if ``folder`` cannot hold result files and checkpoints (``checkpoints/``
    in it); both are made if missing. An empty name is refused (it would write into the working folder under a
    name that reads as the root, "/run.json")."""
    if not str(folder).strip():
        raise ConfigError("the output folder is empty: name one, e.g. --out results (or --out . for this folder)")
    if Path(folder).is_symlink() and not Path(folder).exists():
        raise ConfigError(f"cannot write result files to {folder}: {_what_is(Path(folder))}")
    for path in (Path(folder), Path(folder) / "checkpoints"):
        try:
            path.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path, prefix=".write-check-"):
                pass
        except OSError as error:
            raise ConfigError(f"cannot write result files and checkpoints to {path}: {error.strerror or error}"
                              ) from None


def _what_is(path: Path) -> str:
    """What stands at ``path`` in words, for an error message."""
    if path.is_symlink() and not path.exists():
        return "a symbolic link that leads nowhere (a loop, or a missing target)"
    return "a file" if path.is_file() else "not a regular file or folder"


def check_targets(*paths: Path) -> None:
    """A ConfigError, before any training, if a file the run will write (result, checkpoint) is a folder."""
    for path in paths:
        if path.is_dir():
            raise ConfigError(f"cannot write {path}: a folder of that name is in the way; move it away and run again")


# What reading a JSON file can raise: missing or unreadable, not UTF-8, not JSON, or nested past the parser's depth.
UNREADABLE_JSON = (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError)


def read_result(path: Path) -> dict:
    """The result file at ``path``; a ConfigError naming it if it is not one (it is left as it is)."""
    try:
        data = json.loads(path.read_text())
    except UNREADABLE_JSON as error:
        raise ConfigError(f"{path} is not a readable result file ({error}); move it away and run again") from None
    reason = _not_a_result(data)
    if reason:
        raise ConfigError(f"{path} is not a result file of pinn_tutorial ({reason}); move it away and run again")
    return data


def write_json(path: Path, data: dict) -> None:
    """Write ``data`` to ``path`` atomically (its folder made if missing): a reader never sees half a file, and a
    failed write leaves the previous file as it was."""
    text = json.dumps(data, indent=1).encode()
    checkpoints.atomic_write(path, lambda handle: handle.write(text))


def write_result(out: Path, exp: Experiment, result: dict) -> None:
    """Write ``out/<stem>.json`` atomically."""
    write_json(out / f"{exp.stem()}.json", result)


def _build(exp: Experiment, problem: Problem) -> tuple[nn.Module, Weighting]:
    return build(exp.method, problem, seed=exp.seed, layers=exp.layers(problem), form=exp.form,
                 variant=exp.variant, lambda_update=exp.lambda_update, input_scaling=exp.input_scaling,
                 pooling=exp.pooling)


def run_experiment(exp: Experiment, out: str | Path = "results", resume: bool = True,
                   progress: bool = True, device: str | None = None,
                   callback: Callable[[Trainer, int], None] | None = None) -> dict:
    """Train ``exp``, write ``out/<stem>.json`` and return its contents.

    The checkpoint lives in ``out/checkpoints/<stem>.pt``; with ``resume`` an interrupted run
    continues from it (a finished one returns at once). ``callback`` goes to the ``Trainer``.
    """
    budget = get_budget(exp.budget)
    problem = make_problem(exp.problem, exp.params)
    net, weighting = _build(exp, problem)
    out = Path(out)
    check_targets(out / f"{exp.stem()}.json", out / "checkpoints" / f"{exp.stem()}.pt")
    trainer = Trainer(problem, net, weighting, budget=budget, seed=exp.seed, steps=exp.steps, device=device,
                      checkpoint=out / "checkpoints" / f"{exp.stem()}.pt", progress=progress,
                      derivatives=exp.derivatives, callback=callback, adam=exp.adam)
    history = trainer.run(resume=resume)
    result = _result(exp, problem, net, weighting, history, trainer.predict(trainer.x_eval), trainer, None)
    write_result(out, exp, result)
    return result


def ensemble_key(exp: Experiment) -> tuple | None:
    """Runs with one key can train as one ensemble: one problem, network, budget, path and Adam;
    they differ in seed, weighting (M1 with M2, M3 with M4) and input scaling only. None: the
    run trains alone (the reference path, or a problem with nested autograd in its loss)."""
    problem = make_problem(exp.problem, exp.params)
    if exp.derivatives != "auto" or not problem.compilable:
        return None
    preset = get_method(exp.method)
    variant = exp.variant if preset.architecture == "modified_mlp" else None
    return (exp.problem, tuple(sorted(exp.params.items())), preset.architecture, variant,
            tuple(exp.layers(problem)), exp.budget, exp.steps, exp.adam)


def ensemble_name(exps: list[Experiment]) -> str:
    """The default name of an ensemble's checkpoint: its first run's stem and its size."""
    return f"{exps[0].stem()}_ensemble{len(exps)}"


def run_ensemble(exps: list[Experiment], out: str | Path = "results", resume: bool = True,
                 progress: bool = True, device: str | None = None, name: str | None = None,
                 callback: Callable[[EnsembleTrainer, int], None] | None = None) -> list[dict]:
    """Train ``exps`` as one ensemble and write each run's result file, as ``run_experiment`` would.

    All must share one ``ensemble_key``. The checkpoint is ``out/checkpoints/<name>.pt`` (by default
    named after the first run and the size). A member whose loss goes non-finite writes no result
    file; its failure is returned as ``{"failed": ...}`` in its place. ``callback`` goes to the
    ``EnsembleTrainer``.
    """
    if not exps:
        return []
    keys = {ensemble_key(exp) for exp in exps}
    if len(keys) != 1 or None in keys:
        raise ValueError("these runs cannot share an ensemble: they differ in problem, network, budget or path")
    if len({exp.stem() for exp in exps}) != len(exps):
        raise ValueError("an ensemble cannot hold one run twice")
    first = exps[0]
    budget = get_budget(first.budget)
    problem = make_problem(first.problem, first.params)
    nets, weightings = zip(*[_build(exp, problem) for exp in exps])
    out = Path(out)
    name = name or ensemble_name(exps)
    check_targets(out / "checkpoints" / f"{name}.pt", *(out / f"{exp.stem()}.json" for exp in exps))
    trainer = EnsembleTrainer(problem, nets, weightings, [exp.seed for exp in exps], budget=budget,
                              steps=first.steps, device=device, checkpoint=out / "checkpoints" / f"{name}.pt",
                              progress=progress, callback=callback, adam=first.adam)
    histories = trainer.run(resume=resume)
    ensemble = {"size": len(exps), "members": [exp.stem() for exp in exps]}
    results = []
    for e, (exp, history) in enumerate(zip(exps, histories)):
        if e in trainer.failures:
            results.append({"failed": {"run": exp.stem(), **trainer.failures[e]}})
            continue
        result = _result(exp, problem, trainer.member(e), weightings[e], history,
                         trainer.predict(e, trainer.x_eval), trainer, ensemble)
        write_result(out, exp, result)
        results.append(result)
    return results


REQUIRED_KEYS = ("problem", "method", "budget", "seed", "steps", "rel_l2", "wall_s", "hardware")


def _not_a_result(data: object) -> str | None:
    """Why ``data`` is not a result file of this library, or None if it is one: the keys that summaries read, each
    of its kind (known problem and method names, whole-number seed and steps, finite error and wall time)."""
    if not isinstance(data, dict):
        return f"it holds a {type(data).__name__}, not an object"
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        return f"it lacks {', '.join(missing)}"
    if not (isinstance(data["problem"], str) and data["problem"] in PROBLEMS
            and isinstance(data["method"], str) and data["method"] in METHODS):
        return f"unknown problem or method {data['problem']!r}, {data['method']!r}"
    whole = [k for k in ("seed", "steps") if not _is_count(data[k])]
    finite = [k for k in ("rel_l2", "wall_s") if not (is_finite(data[k]) and data[k] >= 0)]
    if not finite and data["rel_l2"] == 0:  # an error is relative to a non-zero solution: never exactly 0
        finite = ["rel_l2"]
    text = [k for k in ("budget", "hardware") if not isinstance(data[k], str)]
    if whole or finite or text:
        return (f"{', '.join(whole + finite + text)} not of its kind (whole numbers: seed, steps; finite numbers: "
                "rel_l2 above 0, wall_s at least 0; text: budget, hardware)")
    if data["budget"] not in BUDGETS:
        return f"unknown budget {data['budget']!r}"
    # The entries a summary reads when present (files of earlier versions lack some).
    optional = {
        "width": _is_count, "depth": _is_count, "rel_l2_spectral": is_finite,
        "form": _is_text, "variant": _is_text, "derivatives": _is_text, "lambda_update": _is_text,
        "input_scaling": _is_text, "adam": _is_text, "pooling": _is_text,
        "params": lambda v: isinstance(v, dict) and all(isinstance(k, str) and is_finite(x) for k, x in v.items()),
        "layers": lambda v: isinstance(v, list) and len(v) >= 2 and all(_is_count(n) for n in v),
        "ensemble": lambda v: isinstance(v, dict) and _is_count(v.get("size")) and v["size"] >= 1
        and isinstance(v.get("members"), list),
    }
    wrong = [k for k, fits in optional.items() if data.get(k) is not None and not fits(data[k])]
    if wrong:
        return f"{', '.join(wrong)} not of its kind"
    return None


def _is_count(value: object) -> bool:
    return is_whole(value) and value >= 0


def _is_text(value: object) -> bool:
    return isinstance(value, str)


# Where the runs of the authors' own code go, under a results folder (``original_code``, ``table``).
ORIGINAL_CODE_FOLDER = "original_code"


def load_results(folder: str | Path = "results") -> list[dict]:
    """Every result file in ``folder``, sorted by name.

    A file that is not valid JSON, or not a result file of this library, is skipped with a
    warning that names it, so that one bad file does not hide the others.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is {_what_is(folder)}, not a folder of result files"
                                if folder.exists() or folder.is_symlink() else
                                f"no results folder {folder}; run `python -m pinn_tutorial train ...` first")
    results = []
    for path in sorted(folder.glob("*.json")):
        if not path.is_file():  # a FIFO or a device would block or never end; a folder is not a file
            warnings.warn(f"skipped {path}: not a regular file", stacklevel=2)
            continue
        try:
            data = json.loads(path.read_text())
        except UNREADABLE_JSON as error:
            warnings.warn(f"skipped {path}: not a readable JSON file ({error})", stacklevel=2)
            continue
        reason = _not_a_result(data)
        if reason:
            warnings.warn(f"skipped {path}: not a result file of pinn_tutorial ({reason})", stacklevel=2)
            continue
        results.append(data)
    return results
