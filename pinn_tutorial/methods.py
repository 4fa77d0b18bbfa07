"""The paper's four methods as presets: which network, which weighting (section 3).

- M1: the standard PINN, a tanh MLP with fixed weights lambda_i = 1;
- M2: the MLP with learning-rate annealing (Algorithm 1);
- M3: the gated ``ModifiedMLP`` with fixed weights;
- M4: the gated network with learning-rate annealing.

Two presets from later work, for comparison (the book's last chapter):

- GN2: the MLP with gradient-norm weighting (``GradientNormWeighting``), to set beside M2;
- GN4: the gated network with gradient-norm weighting, to set beside M4.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from .config import ConfigError, choose
from .networks import ARCHITECTURES
from .problems import Problem
from .weighting import FixedWeights, GradientNormWeighting, LearningRateAnnealing, Pooling, Weighting


@dataclass(frozen=True)
class Method:
    name: str
    architecture: str
    weighting: Literal["fixed", "annealing", "gradient_norm"]
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


MAX_WEIGHTS = 10**8  # 400 MB of float32 weights, before Adam's moments and the gated network's encoders
MAX_DEPTH = 100  # hidden layers; the paper's deepest network has 7, and a step's cost grows with each layer
# Units per hidden layer; the paper's widest has 100. A step keeps every layer's activations for each point and each
# derivative it propagates: 10^5 units is about half a gigabyte per layer at the paper's batch, 10^7 would be 50.
MAX_WIDTH = 10**5


def build(method: str, problem: Problem, seed: int = 0, layers: list[int] | None = None,
          form: str = "code", variant: Literal["paper", "code"] = "code",
          lambda_update: Literal["before_step", "after_step"] = "before_step",
          input_scaling: Literal["exact", "sampled"] = "exact", pooling: Pooling | None = None,
          ) -> tuple[nn.Module, Weighting]:
    """A freshly initialised network (seeded) and its weighting for ``method`` on ``problem``.

    ``layers`` defaults to the problem's paper network; ``form`` picks the form of Algorithm 1
    for M2/M4, one of ``weighting.ANNEALING_FORMS`` (see ``LearningRateAnnealing``), and
    ``lambda_update`` when it updates, before the Adam step or after it as the original code
    does; ``variant`` the form of the gated network for M3/M4 (see ``ModifiedMLP``).
    ``input_scaling`` standardises the inputs with the exact mean and standard deviation of a
    uniform point, or with those of 10^5 points drawn with ``seed``, as the original code does.
    ``pooling`` overrides how Algorithm 1 pools the layers (default: the original code's for the
    problem; see ``weighting.annealing_estimate``).
    """
    preset = get_method(method)
    choose("lambda update", lambda_update, LAMBDA_UPDATES)
    choose("input scaling", input_scaling, INPUT_SCALINGS)
    torch.manual_seed(seed)
    if input_scaling == "sampled":  # its own generator, so that the initialisation stays that of the seed
        mean, std = problem.sampled_input_scaling(torch.Generator().manual_seed(seed))
    else:
        mean, std = problem.input_scaling()
    layers = layers or problem.default_layers
    if max(layers[1:-1], default=0) > MAX_WIDTH:
        raise ConfigError(f"a network with a hidden layer of {max(layers[1:-1]):,} units; this library trains "
                          f"networks of up to {MAX_WIDTH:,} units per layer (the memory a step needs grows with it)")
    if len(layers) - 2 > MAX_DEPTH:
        raise ConfigError(f"a network of {len(layers) - 2} hidden layers; this library trains networks of up to "
                          f"{MAX_DEPTH}")
    weights = sum(a * b for a, b in zip(layers, layers[1:]))
    if weights > MAX_WEIGHTS:  # before allocating: such a network would fail in memory, with a traceback
        raise ConfigError(f"a network of layers {layers} has {weights:,} weights; this library trains networks of "
                          f"up to {MAX_WEIGHTS:,}")
    kwargs = {"variant": variant} if preset.architecture == "modified_mlp" else {}
    net = ARCHITECTURES[preset.architecture](layers, mean, std, **kwargs)
    if preset.annealing:
        pooling = pooling or (problem.annealing_pooling if form == "code" else None)
        weighting: Weighting = LearningRateAnnealing(problem.weighted_terms, form=form, pooling=pooling,
                                                     after_step=lambda_update == "after_step")
    elif preset.weighting == "gradient_norm":
        weighting = GradientNormWeighting(problem.weighted_terms)
    else:
        weighting = FixedWeights(problem.weighted_terms)
    return net, weighting
