"""One experiment = one problem, one method, one budget, one seed; its result is a JSON file.

``run_experiment`` trains (resuming from a checkpoint when one exists) and writes a small
JSON file with everything a table or a figure needs: the setting, the final relative L2
error beside the paper's, the wall time, the machine, the versions and git commit, and the
thinned loss, weight and error histories.
"""

from __future__ import annotations

import inspect
import json
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from . import __version__
from .config import ConfigError, get_budget
from .methods import build, get_method
from .paper import reported
from .problems import PROBLEMS, get_problem
from .training import Trainer


@dataclass
class Experiment:
    """What to run: ``form`` is Algorithm 1's (M2, M4), ``variant`` the gated net's (M3, M4)."""

    problem: str
    method: str
    budget: str
    seed: int = 0
    form: str = "code"
    variant: str = "code"
    steps: int | None = None
    params: dict[str, float] = field(default_factory=dict)
    derivatives: str = "auto"

    def stem(self) -> str:
        """A file name that tells the runs apart, e.g. ``helmholtz_M2-code_paper_seed0``."""
        preset = get_method(self.method)
        method = self.method + (f"-{self.form}" if preset.annealing else "")
        method += f"-{self.variant}net" if preset.architecture == "modified_mlp" and self.variant != "code" else ""
        extras = "".join(f"_{k}{v:g}" for k, v in sorted(self.params.items()))
        steps = f"_{self.steps}steps" if self.steps is not None else ""
        path = "_autograd" if self.derivatives == "autograd" else ""
        return f"{self.problem}{extras}_{method}_{self.budget}{steps}{path}_seed{self.seed}"


def make_problem(name: str, params: dict[str, float]):
    """The problem ``name`` with ``params``; an unknown parameter gets an error listing the valid ones."""
    cls = PROBLEMS.get(name)
    if cls is not None:
        valid = [p for p in inspect.signature(cls).parameters]
        unknown = sorted(set(params) - set(valid))
        if unknown:
            raise ConfigError(f"problem {name!r} has no parameter {unknown[0]!r}; "
                              f"its parameters are: {', '.join(valid) or 'none'}")
    return get_problem(name, **params)


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


def run_experiment(exp: Experiment, out: str | Path = "results", resume: bool = True,
                   progress: bool = True, device: str | None = None) -> dict:
    """Train ``exp``, write ``out/<stem>.json`` and return its contents.

    The checkpoint lives in ``out/checkpoints/<stem>.pt``; with ``resume`` an interrupted run
    continues from it (a finished one returns at once).
    """
    budget = get_budget(exp.budget)
    preset = get_method(exp.method)
    problem = make_problem(exp.problem, exp.params)
    net, weighting = build(exp.method, problem, seed=exp.seed, form=exp.form, variant=exp.variant)
    out = Path(out)
    trainer = Trainer(problem, net, weighting, budget=budget, seed=exp.seed, steps=exp.steps, device=device,
                      checkpoint=out / "checkpoints" / f"{exp.stem()}.pt", progress=progress,
                      derivatives=exp.derivatives)
    history = trainer.run(resume=resume)
    paper = reported(exp.problem, exp.method)
    result = {
        **asdict(exp),
        "steps": trainer.steps,
        "method_description": preset.description,
        "problem_repr": repr(problem),
        "layers": net.layers,
        "weighting": repr(weighting),
        "batch_size": budget.batch_size,
        "rel_l2": history.final_error,
        **problem.metrics(trainer.predict(trainer.x_eval), trainer.u_eval, trainer.grid_shape),
        "paper_rel_l2": paper.rel_l2 if paper else None,
        "paper_source": paper.source if paper else None,
        "final_weights": dict(weighting.weights),
        "wall_s": history.wall_s,
        "device": str(trainer.device),
        "hardware": machine(trainer.device),
        "torch": torch.__version__,
        "pinn_tutorial": __version__,
        "git_commit": git_commit(),
        "history": history.to_dict(),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{exp.stem()}.json").write_text(json.dumps(result, indent=1))
    return result


def load_results(folder: str | Path = "results") -> list[dict]:
    """Every result file in ``folder``, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no results folder {folder}; run `python -m pinn_tutorial train ...` first")
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
