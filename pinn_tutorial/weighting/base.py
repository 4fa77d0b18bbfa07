"""What every weighting scheme is: weights lambda_i, a schedule, and an update from what a step offers.

The loss is  L(theta) = L_r(theta) + sum_i lambda_i L_i(theta)  (paper Eq. 39): the PDE residual
L_r always has weight 1, and each boundary or initial term L_i has a weight lambda_i. A weighting
owns the lambda_i. At every step where ``updates_at(step)`` holds, the trainer hands it a
``StepContext`` (the step, the loss values, the per-term gradients on demand, its own random
generator), before the optimiser step, or after it (``after_step``, as the original code does).

A new scheme is one class, registered by name with ``@register_weighting``; its constructor's
keyword parameters are its settings (``weighting_parameters``), which the command line and the run
spec read from there.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import torch

from ..config import ConfigError, choose
from ..problems.base import Batch, Problem
from ..registry import Registry

Grads = Sequence[torch.Tensor]


@dataclass
class StepContext:
    """What a weighting sees at a step where it updates.

    ``losses`` holds the unweighted loss values of every term, the residual's included.
    ``term_gradients()`` gives dL_t/dtheta for every term t, one tensor per parameter tensor of the
    scheme's ``parameter_group``; the trainer computes them only when a scheme asks (a scheme that
    reads loss values alone costs no backward pass). ``kernel_diagonal_means()`` gives each term's
    mean diagonal of its neural tangent kernel over the same parameters (``tangent_kernel``), also
    only when asked. ``generator`` is the scheme's own random generator, seeded from the run's seed
    and saved in its checkpoints.
    """

    step: int = 0
    losses: Mapping[str, float] = field(default_factory=dict)
    gradients: Callable[[], Mapping[str, Grads]] | Mapping[str, Grads] | None = None
    generator: torch.Generator | None = None
    kernel: Callable[[], Mapping[str, float]] | Mapping[str, float] | None = None
    _cache: Mapping[str, Grads] | None = field(default=None, init=False, repr=False)

    def term_gradients(self) -> Mapping[str, Grads]:
        """dL_t/dtheta for every term t (``"residual"`` and each weighted term), computed at the first call."""
        if self._cache is None:
            if self.gradients is None:
                raise RuntimeError("this step offers no gradients")
            self._cache = self.gradients() if callable(self.gradients) else self.gradients
        return self._cache

    def kernel_diagonal_means(self) -> Mapping[str, float]:
        """k_t = tr K_t / (N_t c_t) for every term t (``"residual"`` and each weighted term) on this step's batch."""
        if self.kernel is None:
            raise RuntimeError("this step offers no tangent kernel")
        return self.kernel() if callable(self.kernel) else self.kernel


# Every scheme by its name, so that the command line, file names and tables know it: ``weighting/__init__.py``
# declares the library's own; ``@register_weighting`` adds another.
WEIGHTINGS = Registry("weighting")
register_weighting = WEIGHTINGS.register


def weighting_parameters(name: str) -> dict[str, inspect.Parameter]:
    """The settings of scheme ``name``: its constructor's parameters other than ``terms``, with their defaults."""
    cls = WEIGHTINGS[choose("weighting", name, WEIGHTINGS)]
    return {p: v for p, v in inspect.signature(cls).parameters.items() if p != "terms"}


def make_weighting(name: str, terms: Iterable[str], **params) -> Weighting:
    """Scheme ``name`` for the weighted ``terms``; an unknown scheme or setting is a ConfigError naming the valid
    ones."""
    valid = weighting_parameters(name)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ConfigError(f"weighting {name!r} has no setting {unknown[0]!r}; its settings are: "
                          f"{', '.join(valid) or 'none'}")
    try:
        return WEIGHTINGS[name](terms, **params)
    except (TypeError, ValueError) as error:  # a value the scheme refuses, e.g. alpha = 2
        raise ConfigError(f"weighting {name!r}: {error}") from None


class Weighting:
    """Weights lambda_i for the terms after the residual; this base class keeps them as they are.

    A scheme sets ``name`` and ``label``, says when it updates (``updates_at``) and how
    (``update``), and which parameters' gradients it reads (``parameter_group``: ``"all"``, or
    ``"weight_matrices"``, the W_l of the network's layers). ``after_step``: the update reads the
    step's context at the new parameters, after the optimiser step, on the same batch.
    """

    name: ClassVar[str]
    label: ClassVar[str]
    after_step = False
    parameter_group = "all"
    # A scheme that sets the update direction itself (``combine``) instead of weighting the loss: the trainer then
    # computes the per-term gradients at every step and steps along ``combine``'s direction.
    combines = False
    # A scheme that reads each term's tangent kernel (``StepContext.kernel_diagonal_means``), which maps the loss with
    # torch.func: the trainer refuses it, before any work, where nested autograd is inside the loss.
    reads_tangent_kernel = False
    # A scheme that weighs each point (``pointwise.PointwiseWeighting``): it draws the step's points (``sample``), and
    # the trainer asks it for their weights at every step.
    weighs_points = False

    def __init__(self, terms: Iterable[str], weights: dict[str, float] | None = None):
        self.terms = tuple(terms)
        self.weights = {term: 1.0 for term in self.terms}
        for term, value in (weights or {}).items():
            self.weights[choose("loss term", term, self.terms)] = float(value)

    def total_loss(self, losses: dict[str, torch.Tensor]) -> torch.Tensor:
        """L = L_r + sum_i lambda_i L_i  (paper Eq. 39)."""
        return losses["residual"] + sum(self.weights[t] * losses[t] for t in self.terms)

    def check(self, problem: Problem, batch_size: int) -> None:
        """A ConfigError, before any work, if this scheme cannot train ``problem`` with batches of ``batch_size``:
        here, if its weights are not those of the problem's weighted terms."""
        if set(self.terms) != set(problem.weighted_terms):
            raise ConfigError(f"the weighting holds weights for {sorted(self.terms)}, but {problem!r} weights "
                              f"{sorted(problem.weighted_terms)}: build it for this problem (methods.build(method, "
                              "problem), or a weighting of problem.weighted_terms)")

    def sample(self, problem: Problem, batch_size: int, generator: torch.Generator | None = None) -> Batch:
        """The step's points: a fresh batch of the problem's (paper's protocol)."""
        return problem.sample(batch_size, generator)

    def updates_at(self, step: int) -> bool:
        """Whether ``update`` runs at this step."""
        return False

    def update(self, context: StepContext) -> None:
        """Adjust the weights from what the step offers."""

    def combine(self, gradients: Mapping[str, Grads]) -> list[torch.Tensor]:
        """The update direction from dL_t/dtheta of every term t (``"residual"`` first), for a scheme that
        ``combines``; one tensor per parameter tensor, as the gradients are given."""
        raise NotImplementedError(f"{type(self).__name__} weights the loss; it sets no direction of its own")

    def state_dict(self) -> dict:
        return {"weights": dict(self.weights)}

    def load_state_dict(self, state: dict) -> None:
        self.weights = dict(state["weights"])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.weights})"


def settings_repr(scheme: Weighting) -> str:
    """``Name(setting=value, ...)`` of every setting of ``scheme``, by its constructor's names: the repr is part of a
    run's identity (its checkpoint key)."""
    settings = [p for p in inspect.signature(type(scheme)).parameters if p != "terms"]
    return f"{type(scheme).__name__}({', '.join(f'{p}={getattr(scheme, p)!r}' for p in settings)})"


def check_count(name: str, value: float) -> int:
    """``value`` as an int; a ValueError naming ``name`` unless it is a whole number of at least 1 (a period of
    updates, a number of points)."""
    if not (float(value).is_integer() and value >= 1):
        raise ValueError(f"{name} must be a whole number of at least 1, got {value}")
    return int(value)


def check_alpha(alpha: float) -> None:
    """A ValueError unless 0 < alpha <= 1: ``alpha`` is the weight of the new estimate in every scheme here."""
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha (the weight of the new estimate) must be in (0, 1], got {alpha}")


class MovingAverageWeighting(Weighting):
    """A scheme that moves each weight towards a new estimate every ``update_every`` steps (Eq. 41):

        lambda_i <- (1 - alpha) lambda_i + alpha lambda_hat_i

    ``alpha`` is the weight of the new estimate in every scheme of this library, whatever its
    source calls it. A subclass computes the estimates, ``estimate(context)``.
    """

    def __init__(self, terms: Iterable[str], alpha: float, update_every: int):
        super().__init__(terms)
        check_alpha(alpha)
        self.alpha, self.update_every = alpha, check_count("update_every", update_every)

    def updates_at(self, step: int) -> bool:
        return step % self.update_every == 0

    def estimate(self, context: StepContext) -> dict[str, float]:
        """lambda_hat_i for every weighted term i."""
        raise NotImplementedError

    def update(self, context: StepContext) -> None:
        estimates = self.estimate(context)
        for term in self.terms:
            self.weights[term] = (1 - self.alpha) * self.weights[term] + self.alpha * estimates[term]

    def __repr__(self) -> str:
        return settings_repr(self)


class GradientSurgery(Weighting):
    """A scheme that steps along a direction made from the terms' gradients, each seen as one vector g_t (the
    entries of every parameter tensor in order): d = ``direction``(g_r, g_1, ..., g_m) instead of
    g_r + sum_i lambda_i g_i. Its weights stay 1 (they weight nothing); the trainer computes every term's
    gradient at every step for it.
    """

    combines = True
    # A gradient operator of the ``conflictfree`` package (its ``calculate_gradient``), or None for a scheme that
    # writes ``direction`` itself.
    operator: ClassVar[object | None] = None

    def direction(self, vectors: torch.Tensor) -> torch.Tensor:
        """The direction, shape (P,), from the terms' gradient vectors stacked, shape (terms, P), residual first."""
        if self.operator is None:
            raise NotImplementedError(f"{type(self).__name__} names no operator and writes no direction")
        return self.operator.calculate_gradient(vectors)

    def combine(self, gradients: Mapping[str, Grads]) -> list[torch.Tensor]:
        shapes = [g.shape for g in gradients["residual"]]
        vectors = torch.stack([torch.cat([g.reshape(-1) for g in gradients[t]]) for t in ("residual", *self.terms)])
        pieces = torch.split(self.direction(vectors), [s.numel() for s in shapes])
        return [piece.reshape(shape) for piece, shape in zip(pieces, shapes)]

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
