"""The paper's four methods as presets: which network, which weighting (section 3).

- M1: the standard PINN, a tanh MLP with fixed weights lambda_i = 1;
- M2: the MLP with learning-rate annealing (Algorithm 1);
- M3: the gated ``ModifiedMLP`` with fixed weights;
- M4: the gated network with learning-rate annealing.

Two presets from later work, for comparison (chapter 13, magnitudes):

- GN2: the MLP with gradient-norm weighting (``GradientNormWeighting``), to set beside M2;
- GN4: the gated network with gradient-norm weighting, to set beside M4.

A preset is an alias: any architecture of ``networks.ARCHITECTURES`` composes with any scheme of
``weighting.WEIGHTINGS`` (``build(None, problem, arch=..., weighting=...)``), and a composition without a
preset is named ``arch+weighting`` (``method_name``).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from .config import ConfigError, choose
from .networks import ARCHITECTURES
from .problems import Problem
from .weighting import WEIGHTINGS, Pooling, Weighting, make_weighting, weighting_parameters


@dataclass(frozen=True)
class Method:
    """A preset: a name for one architecture (``networks.ARCHITECTURES``) with one weighting scheme
    (``weighting.WEIGHTINGS``)."""

    name: str
    architecture: str
    weighting: str
    description: str

    @property
    def annealing(self) -> bool:
        """Whether the weights follow Algorithm 1 (whose form is a setting of the run)."""
        return self.weighting == "annealing"


METHODS: dict[str, Method] = {
    "M1": Method("M1", "mlp", "fixed", "standard PINN: MLP, fixed weights"),
    "M2": Method("M2", "mlp", "annealing", "MLP with learning-rate annealing (Algorithm 1)"),
    "M3": Method("M3", "modified_mlp", "fixed", "gated network, fixed weights"),
    "M4": Method("M4", "modified_mlp", "annealing", "gated network with learning-rate annealing"),
    "GN2": Method("GN2", "mlp", "gradient_norm", "MLP with gradient-norm weighting (later work)"),
    "GN4": Method("GN4", "modified_mlp", "gradient_norm", "gated network with gradient-norm weighting (later work)"),
}

# What `reproduce` runs unless told otherwise: the paper's four methods.
PAPER_METHODS = ("M1", "M2", "M3", "M4")

# When Algorithm 1 updates lambda, and how the inputs are standardised (the first of each is the default).
LAMBDA_UPDATES = ("before_step", "after_step")
INPUT_SCALINGS = ("exact", "sampled")


def get_method(name: str) -> Method:
    """The preset called ``name`` (M1..M4, GN2, GN4)."""
    return METHODS[choose("method", name, METHODS)]


def method_name(arch: str, weighting: str) -> str:
    """The name of ``arch`` with ``weighting``: the preset's where one matches (``M4``), else ``arch+weighting``."""
    return next((m.name for m in METHODS.values() if (m.architecture, m.weighting) == (arch, weighting)),
                f"{arch}+{weighting}")


def method_names() -> list[str]:
    """Every method's name: the presets, then each composition of a registered architecture and weighting that
    is not one."""
    composed = [method_name(a, w) for a in ARCHITECTURES for w in WEIGHTINGS]
    return list(METHODS) + [name for name in composed if name not in METHODS]


def resolve_method(name: str) -> tuple[str, str]:
    """The architecture and weighting a method's name stands for: a preset's, or those of ``arch+weighting``."""
    arch, plus, weighting = name.partition("+")
    if not plus:
        preset = get_method(name)
        return preset.architecture, preset.weighting
    return choose("architecture", arch, ARCHITECTURES), choose("weighting", weighting, WEIGHTINGS)


def is_method_name(name: object) -> bool:
    """Whether ``name`` names a method: a preset, or a registered ``arch+weighting``."""
    try:
        return isinstance(name, str) and bool(resolve_method(name))
    except ConfigError:
        return False


def describe(arch: str, weighting: str) -> str:
    """A method in words: the preset's description, else the architecture with the scheme's ``label``."""
    name = method_name(arch, weighting)
    return METHODS[name].description if name in METHODS else f"{arch} with {WEIGHTINGS[weighting].label}"


MAX_WEIGHTS = 10**8  # 400 MB of float32 weights, before Adam's moments and the gated network's encoders
MAX_DEPTH = 100  # hidden layers; the paper's deepest network has 7, and a step's cost grows with each layer
# Units per hidden layer; the paper's widest has 100. A step keeps every layer's activations for each point and each
# derivative it propagates: 10^5 units is about half a gigabyte per layer at the paper's batch, 10^7 would be 50.
MAX_WIDTH = 10**5


def build(method: str | None, problem: Problem, seed: int = 0, layers: list[int] | None = None,
          form: str = "code", variant: Literal["paper", "code"] = "code",
          lambda_update: Literal["before_step", "after_step"] = "before_step",
          input_scaling: Literal["exact", "sampled"] = "exact", pooling: Pooling | None = None,
          *, arch: str | None = None, weighting: str | None = None, weighting_params: dict | None = None,
          network_params: dict | None = None) -> tuple[nn.Module, Weighting]:
    """A freshly initialised network (seeded) and its weighting for ``method`` on ``problem``.

    ``method`` is a preset (M1..M4, GN2, GN4) or ``arch+weighting``; with ``method`` None, ``arch`` (one of
    ``networks.ARCHITECTURES``, default ``mlp``) and ``weighting`` (one of ``weighting.WEIGHTINGS``, default
    ``fixed``) compose. ``layers`` defaults to the problem's paper network; ``form`` picks the form of Algorithm 1
    (one of ``weighting.ANNEALING_FORMS``, see ``LearningRateAnnealing``), and ``lambda_update`` when it updates,
    before the Adam step or after it as the original code does; ``variant`` the form of the gated network (see
    ``ModifiedMLP``). ``input_scaling`` standardises the inputs with the exact mean and standard deviation of a
    uniform point, or with those of 10^5 points drawn with ``seed``, as the original code does. ``pooling``
    overrides how Algorithm 1 pools the layers (default: the original code's for the problem; see
    ``weighting.annealing_estimate``). ``weighting_params`` go to the scheme's constructor (over ``form``,
    ``pooling`` and ``lambda_update``), ``network_params`` to the network's (over ``variant``). Each reaches only
    a network or scheme that takes it.

    The network is initialised from ``torch.manual_seed(seed)`` inside ``torch.random.fork_rng``: the caller's
    random state is left as it was.
    """
    if method is not None:
        arch, weighting = resolve_method(method)
    arch = choose("architecture", arch or "mlp", ARCHITECTURES)
    weighting = choose("weighting", weighting or "fixed", WEIGHTINGS)
    choose("lambda update", lambda_update, LAMBDA_UPDATES)
    choose("input scaling", input_scaling, INPUT_SCALINGS)
    if input_scaling == "sampled":  # its own generator, so that the initialisation stays that of the seed
        mean, std = problem.sampled_input_scaling(torch.Generator().manual_seed(seed))
    else:
        mean, std = problem.input_scaling()
    layers = layers or problem.default_layers
    _check_size(layers)
    network = ARCHITECTURES[arch]
    kwargs = {"variant": variant, **(network_params or {})}
    kwargs = {name: value for name, value in kwargs.items() if name in inspect.signature(network).parameters}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = network(layers, mean, std, **kwargs)
    params = {"form": form, "pooling": pooling, "after_step": lambda_update == "after_step",
              **(weighting_params or {})}
    if params["pooling"] is None and params["form"] == "code":  # the original code's pooling for the problem
        params["pooling"] = problem.annealing_pooling
    accepts = weighting_parameters(weighting)
    params = {name: value for name, value in params.items() if name in accepts or name in (weighting_params or {})}
    return net, make_weighting(weighting, problem.weighted_terms, **params)


def _check_size(layers: list[int]) -> None:
    """A ConfigError, before allocating, for a network too wide, too deep or too large to train here."""
    if max(layers[1:-1], default=0) > MAX_WIDTH:
        raise ConfigError(f"a network with a hidden layer of {max(layers[1:-1]):,} units; this library trains "
                          f"networks of up to {MAX_WIDTH:,} units per layer (the memory a step needs grows with it)")
    if len(layers) - 2 > MAX_DEPTH:
        raise ConfigError(f"a network of {len(layers) - 2} hidden layers; this library trains networks of up to "
                          f"{MAX_DEPTH}")
    weights = sum(a * b for a, b in zip(layers, layers[1:]))
    if weights > MAX_WEIGHTS:  # such a network would fail in memory, with a traceback
        raise ConfigError(f"a network of layers {layers} has {weights:,} weights; this library trains networks of "
                          f"up to {MAX_WEIGHTS:,}")
