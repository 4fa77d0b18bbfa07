"""One experiment = one problem, one method, one budget, one seed; its result is a JSON file.

``run_experiment`` trains (resuming from a checkpoint when one exists) and writes a small
JSON file with everything a table or a figure needs: the setting, the final relative L2
error beside the paper's, the wall time, the machine, the versions and git commit, and the
thinned loss, weight and error histories.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import math
import numbers
import platform
import subprocess
import tempfile
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import KW_ONLY, MISSING, Field, asdict, dataclass, field, fields
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch
from torch import nn

from .. import __version__, checkpoints
from ..autodiff import DERIVATIVE_METHODS
from ..config import BUDGETS, MAX_STEPS, ConfigError, check_seed, choose, get_budget, is_finite, is_whole
from ..ensembles import EnsembleTrainer
from ..methods import (
    INPUT_SCALINGS,
    LAMBDA_UPDATES,
    MAX_DEPTH,
    MAX_WIDTH,
    METHODS,
    build,
    describe,
    is_method_name,
    method_name,
    method_names,
    resolve_method,
)
from ..metrics import relative_l2
from ..networks import ARCHITECTURES, GATED_VARIANTS
from ..problems import PROBLEMS, Problem, get_problem
from ..training import (
    ADAM_FORMS,
    OPTIMIZERS,
    History,
    NonFiniteLossError,
    Trainer,
    TrainingLoop,
    check_optimizer,
)
from ..weighting import ANNEALING_FORMS, POOLINGS, WEIGHTINGS, Weighting, weighting_parameters
from .paper import reported_for_network

# -- the run spec ----------------------------------------------------------------------------------------------------

def parameter_value(weighting: str, parameter: inspect.Parameter, value: Any) -> Any:
    """``value`` for the scheme's ``parameter``, typed by its default or else its annotation: text (from the
    command line) becomes a bool, int, float or str; a value of another type is a ConfigError."""
    kind = _parameter_type(parameter)
    if kind is None:
        raise ConfigError(f"weighting {weighting!r}: its setting {parameter.name!r} cannot be given as NAME=VALUE")
    if isinstance(value, str) and kind is not str:
        text = value.strip().lower()
        try:
            if kind is bool:
                if text not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError
                return text in ("true", "1", "yes")
            return kind(text)
        except ValueError:
            raise ConfigError(f"weighting {weighting!r}: {parameter.name} takes a {kind.__name__}, got {value!r}"
                              ) from None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"weighting {weighting!r}: {parameter.name} takes a {kind.__name__}, got {value!r}")
    return value


def _parameter_type(parameter: inspect.Parameter) -> type | None:
    """bool, int, float or str: the type of the parameter's default, else the first its annotation names."""
    if parameter.default is not inspect.Parameter.empty and parameter.default is not None:
        kind = type(parameter.default)
        return kind if kind in (bool, int, float, str) else None
    annotation = str(parameter.annotation)
    if any(container in annotation for container in ("dict", "list", "tuple", "Sequence", "Mapping")):
        return None
    return next((kind for name, kind in (("bool", bool), ("int", int), ("float", float)) if name in annotation), str)


@dataclass(frozen=True)
class Setting:
    """How one field of ``Experiment`` shows outside the spec: the one declaration from which the command line's
    flag, the validation, the file name, the table's label and the run's identity follow.

    ``help``: the flag's help text; ``choices``: the registry of valid values (read when asked, so that a scheme
    registered later counts); ``parse``: the flag's type; ``flag``: its name when not ``--<field-name>``, None for
    none; ``repeat``: the flag may be given several times (``NAME=VALUE`` pairs, a dict); ``slot``: where its part
    of the file name goes ("problem": after the problem's name, "method": after the method's, "network": before
    the budget, "run": after it); ``stem`` and ``label``: its part of the file name and its text in the table when it
    departs from its default; ``applies``: whether it changes this run (a setting that does not is refused away from
    its default); ``weighting_parameter``/``network_parameter``: the constructor parameter it sets (and how its
    value maps to that parameter's); ``identity``: whether it tells runs apart, always (True), never (False), or
    only away from its default ("departing": a setting added after runs were recorded, so that every earlier run
    keeps its identity, as a problem's later parameter keeps its ``repr``); ``named``: its part of the file name
    shows even at its default (Algorithm 1's form: ``M2-code``); ``kind``: its name in an error message.
    """

    help: str
    choices: Callable[[], Iterable[str]] | None = None
    parse: Callable[[str], Any] = str
    flag: str | None = ""
    repeat: bool = False
    slot: str = "run"
    stem: Callable[[Any, Experiment], str] | None = None
    label: Callable[[Any, Experiment], str] | None = None
    applies: Callable[[Experiment], bool] | None = None
    weighting_parameter: tuple[str, Callable[[Any], Any]] | None = None
    network_parameter: str | None = None
    identity: bool | str = True
    named: bool = False
    kind: str = ""


def setting(default: Any = None, **declaration) -> Any:
    """A field of ``Experiment`` with its ``Setting``."""
    factory = {"default_factory": dict} if default == {} else {"default": default}
    return field(**factory, metadata={"setting": Setting(**declaration)})


def _has_weighting_parameter(name: str) -> Callable[[Experiment], bool]:
    return lambda exp: name in weighting_parameters(exp.weighting)


def _has_network_parameter(name: str) -> Callable[[Experiment], bool]:
    return lambda exp: name in inspect.signature(ARCHITECTURES[exp.arch]).parameters


def _pairs(values: dict) -> str:
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())


@dataclass
class Experiment:
    """What to run: one problem, one network (``arch``) and weighting scheme (``weighting``), one budget, one seed.

    ``method`` names a preset of ``methods.METHODS`` (M1..M4, GN2, GN4), an alias for its ``arch`` and
    ``weighting``; a run given by ``arch`` and ``weighting`` that matches a preset is that preset's run. ``form``
    is Algorithm 1's (one of ``weighting.ANNEALING_FORMS``), ``variant`` the gated net's; ``width`` and ``depth``
    set the hidden layers (default: the problem's paper network); ``weighting_params`` any other setting of the
    scheme (its constructor's keyword parameters, ``weighting.weighting_parameters``).

    Three details in which the original code differs from the library's defaults, each to be set apart (see
    ``methods.build`` and ``training.TrainingLoop._adam_step``): ``lambda_update`` ("after_step": Algorithm 1
    updates lambda after the Adam step), ``input_scaling`` ("sampled": the input statistics of 10^5 random points)
    and ``adam`` ("tf1": TensorFlow 1's epsilon); the book's chapter 4 measures what each changes. ``pooling``
    overrides how Algorithm 1 pools the layers (default: the original code's for the problem).

    Each field's ``Setting`` (its metadata) declares its flag, its values, its part of the file name, its label
    in the table and whether it tells runs apart: a new setting is one field here.
    """

    problem: str = setting(help="the problem", choices=lambda: PROBLEMS, flag=None)
    method: str | None = setting(
        help="a preset of a network and a weighting: " + "; ".join(f"{m.name}: {m.description}"
                                                                   for m in METHODS.values()),
        choices=method_names, identity=False)
    budget: str | None = setting(help=f"one of: {', '.join(BUDGETS)} (default: $PINN_TUTORIAL_BUDGET or 'default')",
                                 choices=lambda: BUDGETS, flag=None)
    seed: int = setting(0, help="the seed", flag=None)
    _: KW_ONLY
    form: str = setting(
        "code", kind="annealing form", choices=lambda: ANNEALING_FORMS, slot="method", stem=lambda v, exp: f"-{v}",
        named=True,
        label=lambda v, exp: f"Algorithm 1 as {v}", applies=_has_weighting_parameter("form"),
        weighting_parameter=("form", lambda v: v),
        help="the form of Algorithm 1: " + "; ".join(f"'{n}', {f.summary}" for n, f in ANNEALING_FORMS.items()))
    variant: str = setting(
        "code", kind="network variant", choices=lambda: GATED_VARIANTS, slot="method",
        label=lambda v, exp: f"{v} gated net",
        stem=lambda v, exp: f"-{v}net", applies=_has_network_parameter("variant"), network_parameter="variant",
        help="gated network as the original code builds it ('code', default) or as Eqs. 43-47 ('paper')")
    steps: int | None = setting(
        parse=lambda text: parse_count(text), stem=lambda v, exp: f"_{v}steps", label=lambda v, exp: f"{v:,} steps",
        help="override the budget's number of steps")
    derivatives: str = setting(
        "auto", kind="derivative method", choices=lambda: DERIVATIVE_METHODS, stem=lambda v, exp: f"_{v}",
        label=lambda v, exp: f"{v} derivatives",
        help="input derivatives by forward propagation where the net allows ('auto', default) or by nested "
             "autograd, the reference path ('autograd')")
    lambda_update: str = setting(
        "before_step", kind="lambda update", choices=lambda: LAMBDA_UPDATES, stem=lambda v, exp: "_lambda-after",
        label=lambda v, exp: "lambda after the Adam step", applies=_has_weighting_parameter("after_step"),
        weighting_parameter=("after_step", lambda v: v == "after_step"),
        help="Algorithm 1 updates lambda before the Adam step ('before_step', default) or after it, from the new "
             "parameters, as the original code does ('after_step')")
    input_scaling: str = setting(
        "exact", kind="input scaling", choices=lambda: INPUT_SCALINGS, stem=lambda v, exp: "_sampled-scaling",
        label=lambda v, exp: "inputs scaled by 10^5 samples",
        help="standardise the inputs with the exact statistics of the domain ('exact', default) or with those of "
             "10^5 random points, as the original code does ('sampled')")
    adam: str = setting(
        "torch", kind="Adam form", choices=lambda: ADAM_FORMS, stem=lambda v, exp: "_tf1-adam",
        label=lambda v, exp: "TF1 Adam epsilon",
        help="Adam's epsilon as PyTorch adds it ('torch', default) or as TensorFlow 1 does ('tf1')")
    optimizer: str = setting(
        "adam", kind="optimizer", choices=lambda: OPTIMIZERS, stem=lambda v, exp: f"_{v}",
        label=lambda v, exp: f"{v.upper()} optimizer", identity="departing",
        help="the optimiser: Adam, as the paper ('adam', default), or SOAP ('soap', Vyas et al. 2024), Adam in "
             "Shampoo's eigenbasis; SOAP runs train one at a time, never as an ensemble")
    pooling: str | None = setting(
        choices=lambda: POOLINGS, stem=lambda v, exp: f"_pooling-{v.replace('_', '-')}",
        label=lambda v, exp: f"Algorithm 1 pooled by {v}", applies=_has_weighting_parameter("pooling"),
        weighting_parameter=("pooling", lambda v: v),
        help="how Algorithm 1 pools the layers (default: the original code's for the problem)")
    params: dict[str, float] = setting(
        {}, flag="--param", repeat=True, slot="problem", label=lambda v, exp: _pairs(v),
        stem=lambda v, exp: "".join(f"_{k}{_exact(x)}" for k, x in sorted(v.items())),
        help="a problem parameter, NAME=VALUE, e.g. C=4 for poisson1d or a2=1 for helmholtz")
    width: int | None = setting(
        parse=lambda text: parse_count(text), slot="network",
        help="units per hidden layer (default: the paper's network; Table 2: 30, 50, 100)")
    depth: int | None = setting(
        parse=lambda text: parse_count(text), slot="network",
        help="hidden layers (default: the paper's network; Table 2: 3, 5, 7)")
    arch: str | None = setting(
        kind="architecture", choices=lambda: ARCHITECTURES,
        help="the network, one of networks.ARCHITECTURES (with --weighting instead of --method)")
    weighting: str | None = setting(
        choices=lambda: WEIGHTINGS,
        help="the weighting scheme, one of weighting.WEIGHTINGS (with --arch instead of --method)")
    weighting_params: dict[str, Any] = setting(
        {}, flag="--weighting-param", repeat=True, label=lambda v, exp: _pairs(v),
        stem=lambda v, exp: "".join(f"_{k}-{_exact(x) if isinstance(x, float) else str(x).lower()}"
                                    for k, x in sorted(v.items())),
        help="a setting of the weighting scheme, NAME=VALUE (its constructor's keyword parameters, e.g. alpha=0.5)")

    def __post_init__(self) -> None:
        """Every field checked here, once, for the command line and the Python API alike: a ConfigError that names
        the field (with the near miss for a name), before anything is built or written."""
        self.budget = get_budget(self.budget).name
        self._compose()
        check_seed(self.seed)
        self.seed = int(self.seed)  # plain Python numbers from here on (a NumPy integer is a whole number too)
        for f, declared in settings(type(self)):
            value = getattr(self, f.name)
            if declared.choices is not None and value is not None:
                choose(declared.kind or f.name.replace("_", " "), value, declared.choices())
        check_optimizer(self.optimizer, self.adam)
        for name, most in (("width", MAX_WIDTH), ("depth", MAX_DEPTH), ("steps", MAX_STEPS)):
            value = getattr(self, name)  # bounded before a list of layers is made
            if value is not None and not (is_whole(value) and 1 <= value <= most):
                raise ConfigError(f"{name} must be a whole number from 1 to {most:,}, got {value!r}")
            setattr(self, name, None if value is None else int(value))
        for name, value in self.params.items():
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ConfigError(f"parameter {name} must be a number, got {value!r}")
        self.params = {name: float(value) for name, value in self.params.items()}
        self.weighting_params = self._typed_weighting_params()
        _problem(self.problem, tuple(sorted(self.params.items())))  # its parameters, before any folder is made
        if self.steps == get_budget(self.budget).steps:  # the budget's own count: the same run as without --steps
            self.steps = None
        idle = [f"{f.name} {getattr(self, f.name)!r}" for f, declared in settings(type(self))
                if declared.applies is not None and self._departs(f) and not declared.applies(self)]
        if idle:
            raise ConfigError(f"{self.method} ({describe(self.arch, self.weighting)}) has no use for "
                              f"{', '.join(idle)}: leave it at its default")

    def _compose(self) -> None:
        """``arch`` and ``weighting`` from the preset ``method``, or ``method`` named after them (a preset's name
        where one matches)."""
        if self.method is not None:
            arch, weighting = resolve_method(self.method)
            clash = [f"--{name} {given}" for name, given, value in (("arch", self.arch, arch),
                                                                     ("weighting", self.weighting, weighting))
                     if given is not None and given != value]
            if clash:
                raise ConfigError(f"{self.method} is {arch} with {weighting}, not {' '.join(clash)}: give a method, "
                                  "or an architecture and a weighting")
            self.arch, self.weighting = arch, weighting
        self.arch = choose("architecture", self.arch or "mlp", ARCHITECTURES)
        self.weighting = choose("weighting", self.weighting or "fixed", WEIGHTINGS)
        self.method = method_name(self.arch, self.weighting)

    def _typed_weighting_params(self) -> dict[str, Any]:
        """``weighting_params`` checked against the scheme's parameters and typed by each one's default or
        annotation (text from the command line becomes a bool, int, float or str)."""
        valid = weighting_parameters(self.weighting)
        claimed = {d.weighting_parameter[0]: f.name for f, d in settings(type(self)) if d.weighting_parameter}
        typed = {}
        for name, value in self.weighting_params.items():
            if name in claimed:
                raise ConfigError(f"the weighting's {name} is a setting of its own: give "
                                  f"--{claimed[name].replace('_', '-')}, not --weighting-param {name}")
            if name not in valid:
                raise ConfigError(f"weighting {self.weighting!r} has no setting {name!r}; its settings are: "
                                  f"{', '.join(p for p in valid if p not in claimed) or 'none'}")
            typed[name] = parameter_value(self.weighting, valid[name], value)
        return dict(sorted(typed.items()))

    def _departs(self, f: Field) -> bool:
        """Whether field ``f`` is away from its default."""
        default = f.default_factory() if f.default is MISSING else f.default
        return getattr(self, f.name) != default

    def layers(self, problem: Problem | None = None) -> list[int]:
        """The network's sizes: the problem's paper network with ``width`` and ``depth`` applied."""
        default = (problem.default_layers if problem is not None
                   else _problem(self.problem, tuple(sorted(self.params.items()))).default_layers)
        width = self.width or default[1]
        depth = self.depth or len(default) - 2
        return [default[0], *[width] * depth, default[-1]]

    @property
    def total_steps(self) -> int:
        """The steps the run takes: ``steps``, or its budget's."""
        return self.steps or get_budget(self.budget).steps

    def _default_layers(self) -> list[int]:
        return _problem(self.problem, tuple(sorted(self.params.items()))).default_layers

    def stem(self) -> str:
        """A file name that tells the runs apart, e.g. ``helmholtz_M2-code_paper_seed0``.

        Each setting away from its default adds its part (``Setting.stem``): a problem parameter after the
        problem's name (``poisson1d_C4``), Algorithm 1's form and the gated net's variant after the method's
        (``M2-code``, ``M3-papernet``), a network other than the paper's its hidden layers (``_100x7net``, width x
        depth), and after the budget e.g. ``_300steps``, ``_autograd``, ``_lambda-after``, ``_sampled-scaling``,
        ``_tf1-adam``, ``_pooling-all``, ``_alpha-0.5``.
        """
        parts: dict[str, list[str]] = defaultdict(list)
        for f, declared in settings(type(self)):
            value = getattr(self, f.name)
            if declared.stem is not None and (declared.named or self._departs(f)) and (
                    declared.applies is None or declared.applies(self)):
                parts[declared.slot].append(declared.stem(value, self))
        layers = self.layers()
        if layers != self._default_layers():
            parts["network"].append(f"_{layers[1]}x{len(layers) - 2}net")
        return (f"{self.problem}{''.join(parts['problem'])}_{self.method}{''.join(parts['method'])}"
                f"{''.join(parts['network'])}_{self.budget}{''.join(parts['run'])}_seed{self.seed}")

    def departures(self) -> list[tuple[str, str]]:
        """The settings away from their defaults, each with its text for the table (``Setting.label``), in the
        order of the fields: ``[("pooling", "Algorithm 1 pooled by all"), ("layers", "5 hidden layers of 30")]``."""
        found = []
        for f, declared in settings(type(self)):
            if f.name == "width":
                layers = self.layers()
                if layers != self._default_layers():
                    found.append(("layers", f"{len(layers) - 2} hidden layers of {layers[1]}"))
            elif declared.label is not None and self._departs(f):
                found.append((f.name, declared.label(getattr(self, f.name), self)))
        return found

    def label(self) -> str:
        """How the run departs from the defaults, in words (empty for the default setting): the table's
        "setting" column."""
        return "; ".join(text for _, text in self.departures())

    def identity(self) -> dict:
        """Which run this is, in full: every setting that tells runs apart (``Setting.identity``), with the
        network as its layers and the steps as the run takes them (the budget's when not given). Two specs
        with one identity are one run, whatever their file names; the file name, the checkpoint's key, the
        table's groups and ``reproduce``'s check of a finished run all read it from here."""
        found: dict[str, Any] = {}
        for f, declared in settings(type(self)):
            if not declared.identity or (declared.identity == "departing" and not self._departs(f)):
                continue
            if f.name in ("width", "depth"):
                found["layers"] = self.layers()
            elif f.name == "steps":
                found["steps"] = self.total_steps
            else:
                value = getattr(self, f.name)
                found[f.name] = dict(sorted(value.items())) if isinstance(value, dict) else value
        return found

    @classmethod
    def from_result(cls, result: dict) -> Experiment:
        """The spec of the run a result file holds (files of earlier versions lack some settings: theirs are the
        defaults, and some hold a setting that did nothing for their method, e.g. an MLP's variant: it is left
        out). The method's name gives the architecture and weighting (a preset's, or ``arch+weighting``); the
        network is the file's ``layers``."""
        arch, weighting = resolve_method(result["method"])
        composed = SimpleNamespace(arch=arch, weighting=weighting)  # what a setting's ``applies`` reads
        idle = {f.name for f, declared in settings(cls) if declared.applies and not declared.applies(composed)}
        names = {f.name for f in fields(cls)} - {"arch", "weighting", "width", "depth"} - idle
        values = {name: result[name] for name in names if name in result and result[name] is not None}
        if result.get("layers"):
            values["width"], values["depth"] = result["layers"][1], len(result["layers"]) - 2
        else:
            values.update({k: result[k] for k in ("width", "depth") if result.get(k) is not None})
        return cls(**values)


def settings(spec: type[Experiment] | None = None) -> list[tuple[Field, Setting]]:
    """The fields of the run spec ``spec`` (``Experiment``, or a subclass that adds settings) with their
    ``Setting``s, in order."""
    return [(f, f.metadata["setting"]) for f in fields(spec or Experiment) if "setting" in f.metadata]


def _exact(value: float) -> str:
    """A parameter's value for a file name: short (``0.1``, ``1``), and exact, so that no two values share a name."""
    short = f"{value:g}"
    return short if float(short) == value else repr(float(value))


def parse_count(text: str) -> int:
    """A whole number of at least 1 from the command line (steps, width, depth, seeds, jobs, repeats)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"expected a whole number of at least 1, got {text!r}")
    return value


@functools.lru_cache(maxsize=256)
def _problem(name: str, params: tuple[tuple[str, float], ...]) -> Problem:
    """The problem a spec names, checked and built once per name and parameters (a spec's file name, layers and
    identity read its paper network). Not to train: a run builds its own (``make_problem``)."""
    return make_problem(name, dict(params))


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


def machine(device: torch.device, threads: int | None = None) -> str:
    """The hardware in words: the GPU's name, or the CPU's with the thread count (``threads``, the count a run
    trained with; by default the process's now)."""
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
    return f"{cpu} ({threads or torch.get_num_threads()} threads)"


def git_commit() -> str | None:
    """The short hash of the commit the package's folder is at, or None outside a git checkout."""
    return _git("rev-parse", "--short", "HEAD") or None


def _git(*args: str) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=PACKAGE, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


PACKAGE = Path(__file__).resolve().parents[1]  # the package root, not this subpackage: the fingerprint hashes all of it


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A fingerprint of the code that runs: the SHA-256 (first 16 hex digits) of every source file of the package,
    its path and its bytes, in order. Any edit to the package changes it, committed or not."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(str(path.relative_to(PACKAGE)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def code_provenance() -> dict:
    """The code that ran a run, for its result file: its ``fingerprint`` (``code_fingerprint``), the git
    ``commit`` and whether the package's files differed from it (``dirty``; None outside a git checkout)."""
    commit = git_commit()
    dirty = bool(_git("status", "--porcelain", "--", ".")) if commit else None
    return {"fingerprint": code_fingerprint(), "commit": commit, "dirty": dirty}


def trainer_identity(identity: dict) -> dict:
    """A run's identity as the trainer's checkpoint key holds it: with the code's fingerprint, so that a
    checkpoint trained by other code is refused (``checkpoints.load`` names ``--fresh``), not silently resumed."""
    return {**identity, "code": code_fingerprint()}


def _result(exp: Experiment, problem: Problem, net: nn.Module, weighting: Weighting, history: History,
            prediction: torch.Tensor, trainer: TrainingLoop, ensemble: dict | None) -> dict:
    """Everything a table or a figure needs about one finished run, as it goes into its JSON file.

    The final error is evaluated here, from the trained network against the reference, not read from the history:
    a run finished earlier and reported again (its checkpoint reused) is measured against today's reference. A
    final error that is not finite is a ``NonFiniteLossError``: no result file holds it.
    """
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
        "identity": exp.identity(),
        "steps": trainer.steps,
        "width": width,
        "depth": depth,
        "method_description": describe(exp.arch, exp.weighting),
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
        "hardware": machine(trainer.device, trainer.threads),
        "torch": torch.__version__,
        "pinn_tutorial": __version__,
        "git_commit": git_commit(),
        "code": code_provenance(),
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


def read_result_of(exp: Experiment, path: Path) -> dict:
    """The result file at ``path`` if it holds the run ``exp`` (its problem, method, settings, seed and steps:
    ``Experiment.identity``); a ConfigError naming what differs if it holds another run (a file renamed or
    copied), or if it is not a result file."""
    data = read_result(path)
    theirs, ours = _run_part(result_identity(data)), exp.identity()
    differ = [f"{k} {theirs.get(k)!r}, not {ours.get(k)!r}" for k in ours if theirs.get(k) != ours.get(k)]
    if differ or set(result_identity(data)) != set(ours):
        raise ConfigError(f"{path} holds another run than {exp.stem()} ({'; '.join(differ) or 'the authors code'}); "
                          "move it away and run again")
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
    """The run's network and weighting: each setting that is a constructor's parameter
    (``Setting.weighting_parameter``, ``Setting.network_parameter``) goes to it where it applies."""
    weighting_params, network_params = dict(exp.weighting_params), {}
    for f, declared in settings(type(exp)):
        value = getattr(exp, f.name)
        if value is None or not (declared.applies is None or declared.applies(exp)):
            continue
        if declared.weighting_parameter:
            name, to_parameter = declared.weighting_parameter
            weighting_params[name] = to_parameter(value)
        if declared.network_parameter:
            network_params[declared.network_parameter] = value
    return build(None, problem, seed=exp.seed, layers=exp.layers(problem), input_scaling=exp.input_scaling,
                 arch=exp.arch, weighting=exp.weighting, weighting_params=weighting_params,
                 network_params=network_params)


def run_experiment(exp: Experiment, out: str | Path, resume: bool = True,
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
                      derivatives=exp.derivatives, callback=callback, adam=exp.adam, optimizer=exp.optimizer,
                      identity=trainer_identity(exp.identity()))
    history = trainer.run(resume=resume)
    result = _result(exp, problem, net, weighting, history, trainer.predict(trainer.x_eval), trainer, None)
    write_result(out, exp, result)
    return result


def ensemble_key(exp: Experiment) -> tuple | None:
    """Runs with one key can train as one ensemble: one problem, network, budget, path and Adam;
    they differ in seed, weighting (M1 with M2, M3 with M4) and input scaling only. None: the
    run trains alone (the reference path, a problem with nested autograd in its loss, or SOAP, whose
    preconditioner of a stacked tensor would mix the members)."""
    problem = make_problem(exp.problem, exp.params)
    if exp.derivatives != "auto" or not problem.compilable or exp.optimizer != "adam":
        return None
    return (exp.problem, tuple(sorted(exp.params.items())), exp.arch, exp.variant,
            tuple(exp.layers(problem)), exp.budget, exp.steps, exp.adam)


def ensemble_name(exps: list[Experiment]) -> str:
    """The default name of an ensemble's checkpoint: its first run's stem and its size."""
    return f"{exps[0].stem()}_ensemble{len(exps)}"


def run_ensemble(exps: list[Experiment], out: str | Path, resume: bool = True,
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
    if len({json.dumps(exp.identity(), sort_keys=True) for exp in exps}) != len(exps):
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
                              progress=progress, callback=callback, adam=first.adam,
                              identity=trainer_identity({"runs": [exp.identity() for exp in exps]}))
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
    if not (isinstance(data["problem"], str) and data["problem"] in PROBLEMS and is_method_name(data["method"])):
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
        "input_scaling": _is_text, "adam": _is_text, "optimizer": _is_text, "pooling": _is_text,
        "params": lambda v: isinstance(v, dict) and all(isinstance(k, str) and is_finite(x) for k, x in v.items()),
        "layers": lambda v: isinstance(v, list) and len(v) >= 2 and all(_is_count(n) for n in v),
        "ensemble": lambda v: isinstance(v, dict) and _is_count(v.get("size")) and v["size"] >= 1
        and isinstance(v.get("members"), list),
    }
    wrong = [k for k, fits in optional.items() if data.get(k) is not None and not fits(data[k])]
    if wrong:
        return f"{', '.join(wrong)} not of its kind"
    try:
        identity = result_identity(data)
    except ConfigError as error:
        return f"its settings are not a run's: {error}"
    if data.get("identity") is not None and data["identity"] != _run_part(identity):
        return "its identity does not match its settings"
    return None


# What sets a run of the authors' own code apart (``original_code``): not a setting of this library's runs.
IMPLEMENTATION_KEYS = ("implementation", "gate", "tensorflow")


def result_identity(result: dict) -> dict:
    """Which run a result file holds: the identity of its spec (``Experiment.from_result``, also for files of
    earlier versions), and for a run of the authors' code, which code."""
    identity = Experiment.from_result(result).identity()
    return identity | {k: result[k] for k in IMPLEMENTATION_KEYS if k in result}


def _run_part(identity: dict) -> dict:
    return {k: v for k, v in identity.items() if k not in IMPLEMENTATION_KEYS}


def identity_key(identity: dict) -> str:
    """An identity as one hashable text (its JSON, keys sorted): for grouping and for finding copies."""
    return json.dumps(identity, sort_keys=True)


def _is_count(value: object) -> bool:
    return is_whole(value) and value >= 0


def _is_text(value: object) -> bool:
    return isinstance(value, str)


# Where the runs of the authors' own code go, under a results folder (``original_code``, ``table``).
ORIGINAL_CODE_FOLDER = "original_code"


def load_results(folder: str | Path) -> list[dict]:
    """Every result file in ``folder``, sorted by name, each run once.

    A file that is not valid JSON, or not a result file of this library, is skipped with a
    warning that names it, so that one bad file does not hide the others. A file that holds a run
    an earlier file holds already (the same ``result_identity``: a copy, a link, or one run saved
    under two names) is skipped with a warning naming both.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is {_what_is(folder)}, not a folder of result files"
                                if folder.exists() or folder.is_symlink() else
                                f"no results folder {folder}; run `python -m pinn_tutorial train ...` first")
    results, seen = [], {}
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
        key = identity_key(result_identity(data))
        if key in seen:
            warnings.warn(f"skipped {path}: it holds the run of {seen[key]} (a copy, a link, or one run under two "
                          "names); each run counts once", stacklevel=2)
            continue
        seen[key] = path.name
        results.append(data)
    return results
