"""Loss weighting: fixed weights, and learning-rate annealing (the paper's Algorithm 1).

The loss is  L(theta) = L_r(theta) + sum_i lambda_i L_i(theta)  (paper Eq. 39): the PDE
residual L_r always has weight 1, and each boundary or initial term L_i has a weight lambda_i.
A weighting object owns the lambda_i. The trainer asks it, every step, whether it wants the
per-term gradients (``needs_gradients``); if so it hands them over (``update``) before the
optimiser step, so the same gradients serve the estimate and the update, or, for a weighting
with ``after_step`` (as the original code does it), after the step, from gradients at the new
parameters on the same batch.

The adaptive schemes move each weight towards a new estimate lambda_hat_i by the moving average
of Eq. 41, lambda_i <- (1 - alpha) lambda_i + alpha lambda_hat_i: in every class here ``alpha``
is the weight of the new estimate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Literal

import torch
from torch import nn

from .config import choose

Grads = Sequence[torch.Tensor]
Pooling = Literal["all", "layer_mean", "layer_ratio_max"]
POOLINGS = ("all", "layer_mean", "layer_ratio_max")


class Weighting:
    """Weights lambda_i for the terms after the residual; the base class keeps them fixed."""

    # Whether ``update`` reads the gradients after the optimiser step (at the new parameters).
    after_step = False

    def __init__(self, terms: Iterable[str], weights: dict[str, float] | None = None):
        self.terms = tuple(terms)
        self.weights = {term: 1.0 for term in self.terms}
        for term, value in (weights or {}).items():
            self.weights[choose("loss term", term, self.terms)] = float(value)

    def total_loss(self, losses: dict[str, torch.Tensor]) -> torch.Tensor:
        """L = L_r + sum_i lambda_i L_i  (paper Eq. 39)."""
        return losses["residual"] + sum(self.weights[t] * losses[t] for t in self.terms)

    def needs_gradients(self, step: int) -> bool:
        """Whether ``update`` wants the per-term gradients at this step."""
        return False

    def statistic_parameters(self, net: nn.Module) -> list[nn.Parameter]:
        """The parameters whose gradients ``update`` reads."""
        return []

    def update(self, residual_grads: Grads, term_grads: dict[str, Grads]) -> None:
        """Adjust the weights from the gradients of L_r and of each unweighted L_i."""

    def state_dict(self) -> dict:
        return {"weights": dict(self.weights)}

    def load_state_dict(self, state: dict) -> None:
        self.weights = dict(state["weights"])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.weights})"


class FixedWeights(Weighting):
    """Constant weights lambda_i (1 unless given): the standard PINN of methods M1 and M3."""


def annealing_estimate(residual_grads: Grads, term_grads: Grads, pooling: Pooling = "all") -> float:
    """The instantaneous weight  lambda_hat = max |grad L_r| / mean |grad L_i|  (paper Eq. 40).

    ``residual_grads`` and ``term_grads`` hold one gradient tensor per parameter tensor (layer).
    ``pooling`` says how the layers are combined:

    - ``"all"``: max and mean over all entries of all tensors pooled, as Eq. 40 reads;
    - ``"layer_mean"``: the global max over the mean of the per-layer means, as the original
      Helmholtz and Klein-Gordon code computes it (every layer counts equally, whatever its size);
    - ``"layer_ratio_max"``: the largest per-layer ratio max|grad_l L_r| / mean|grad_l L_i|,
      as the original cavity code computes it.
    """
    choose("pooling", pooling, POOLINGS)
    if len(residual_grads) != len(term_grads) or not residual_grads:
        raise ValueError("need one residual and one term gradient for each parameter tensor")
    r_max = torch.stack([g.abs().max() for g in residual_grads])
    i_mean = torch.stack([g.abs().mean() for g in term_grads])
    if pooling == "all":
        sizes = torch.tensor([g.numel() for g in term_grads], dtype=i_mean.dtype, device=i_mean.device)
        estimate = r_max.max() / ((i_mean * sizes).sum() / sizes.sum())
    elif pooling == "layer_mean":
        estimate = r_max.max() / i_mean.mean()
    else:
        estimate = (r_max / i_mean).max()
    return float(estimate)


class LearningRateAnnealing(Weighting):
    """Learning-rate annealing, the paper's Algorithm 1, in the two forms in which it exists.

    Every ``update_every`` steps (10 in the paper), for each weighted term i:

        lambda_hat_i = max_theta |grad L_r| / mean_theta |grad L_i|          (Eq. 40)
        lambda_i    <- (1 - alpha) lambda_i + alpha lambda_hat_i             (Eq. 41)

    ``form="paper"``, as printed: the gradients of the unweighted L_i, over all parameters
    pooled, with alpha = 0.9 on the new estimate. The weight then tracks the gradient ratio r
    itself, which on Helmholtz grows by orders of magnitude during training.

    ``form="code"``, as the original TensorFlow code runs it: the gradients are those of the
    *weighted* term lambda_i L_i, so lambda_hat_i = r / lambda_i; only the weight matrices enter
    (no biases, no encoders of the gated net), pooled as the mean of per-layer means; and 0.9 is
    kept on the old value (alpha = 0.1). The fixed point lambda = r / lambda is lambda = sqrt(r).

    The code form is the default because it is the one that reproduces the paper's numbers:
    on Helmholtz the paper form drives lambda so high that the network collapses to u = 0
    (see ``results/`` and the book's annealing chapter for the runs). ``pooling`` overrides the
    form's pooling (see ``annealing_estimate``); the cavity code uses ``"layer_ratio_max"``.

    When lambda is updated differs too. By default it is updated just before the optimiser
    step, from the gradients that the step then uses, as Algorithm 1 is written: the step at
    n = 0, 10, 20, ... already uses the new lambda. ``after_step=True`` does what the original
    code does: the step uses the old lambda, and lambda is then updated from the gradients at
    the new parameters theta_{n+1} on the same batch (one extra backward pass every
    ``update_every`` steps).
    """

    def __init__(self, terms: Iterable[str], form: Literal["code", "paper"] = "code",
                 alpha: float | None = None, update_every: int = 10, pooling: Pooling | None = None,
                 after_step: bool = False):
        super().__init__(terms)
        self.after_step = bool(after_step)
        self.form = choose("annealing form", form, ("code", "paper"))
        self.alpha = alpha if alpha is not None else (0.1 if form == "code" else 0.9)
        if not 0 < self.alpha <= 1:
            raise ValueError(f"alpha (the weight of the new estimate) must be in (0, 1], got {self.alpha}")
        if update_every < 1:
            raise ValueError(f"update_every must be at least 1, got {update_every}")
        self.update_every = update_every
        self.pooling = pooling or ("layer_mean" if form == "code" else "all")

    def needs_gradients(self, step: int) -> bool:
        return step % self.update_every == 0

    def statistic_parameters(self, net: nn.Module) -> list[nn.Parameter]:
        if self.form == "code":
            return net.weight_matrices()
        return [p for p in net.parameters() if p.requires_grad]

    def update(self, residual_grads: Grads, term_grads: dict[str, Grads]) -> None:
        for term in self.terms:
            grads = term_grads[term]
            if self.form == "code":  # the code differentiates the weighted term lambda_i L_i
                grads = [self.weights[term] * g for g in grads]
            estimate = annealing_estimate(residual_grads, grads, self.pooling)
            self.weights[term] = (1 - self.alpha) * self.weights[term] + self.alpha * estimate

    def __repr__(self) -> str:
        # after_step only when set, so that the repr (a checkpoint's run key) of the default is unchanged
        after = ", after_step=True" if self.after_step else ""
        return (f"LearningRateAnnealing(form={self.form!r}, alpha={self.alpha}, "
                f"update_every={self.update_every}, pooling={self.pooling!r}{after})")


class GradientNormWeighting(Weighting):
    """Gradient-norm weighting, from later work by the same group (Wang, Sankaran, Wang & Perdikaris
    2023, "An expert's guide to training physics-informed neural networks", arXiv:2308.08468; the
    ``grad_norm`` scheme of their jaxpi library).

    Every ``update_every`` steps, for each weighted term i, from the L2 norms of the gradients
    with respect to all parameters:

        lambda_hat_i = ||grad L_r||_2 / ||grad L_i||_2
        lambda_i    <- (1 - alpha) lambda_i + alpha lambda_hat_i

    the moving average of Eq. 41, ``alpha`` the weight of the new estimate as in
    ``LearningRateAnnealing``.

    The published form weights every term, residual included, with
    lambda_hat_i = (sum_j ||grad L_j||) / ||grad L_i||; dividing all of them by the residual's
    gives the ratio above with the residual's weight held at 1, as in this library's loss
    (Eq. 39). The two differ by one common factor, which Adam's step ignores.

    Against Algorithm 1 (``LearningRateAnnealing``): the statistic is a ratio of norms of whole
    gradients instead of the residual's largest entry over the term's mean entry, and the
    weighted gradient norms end up equal (the fixed point is lambda = r, not sqrt(r) as for
    the coded Algorithm 1). The defaults (every 10 steps, alpha = 0.1, so 0.9 on the old value)
    are those of the coded Algorithm 1, so that a comparison differs only in the statistic;
    jaxpi updates every 1,000 steps.
    """

    def __init__(self, terms: Iterable[str], alpha: float = 0.1, update_every: int = 10):
        super().__init__(terms)
        if not 0 < alpha <= 1:
            raise ValueError(f"alpha (the weight of the new estimate) must be in (0, 1], got {alpha}")
        if update_every < 1:
            raise ValueError(f"update_every must be at least 1, got {update_every}")
        self.alpha, self.update_every = alpha, update_every

    def needs_gradients(self, step: int) -> bool:
        return step % self.update_every == 0

    def statistic_parameters(self, net: nn.Module) -> list[nn.Parameter]:
        return [p for p in net.parameters() if p.requires_grad]

    def update(self, residual_grads: Grads, term_grads: dict[str, Grads]) -> None:
        residual_norm = gradient_norm(residual_grads)
        for term in self.terms:
            term_norm = gradient_norm(term_grads[term])
            # A term with no gradient at all gets an infinite estimate, which the trainer reports.
            estimate = residual_norm / term_norm if term_norm > 0 else math.inf
            self.weights[term] = (1 - self.alpha) * self.weights[term] + self.alpha * estimate

    def __repr__(self) -> str:
        return f"GradientNormWeighting(alpha={self.alpha}, update_every={self.update_every})"


def gradient_norm(grads: Grads) -> float:
    """The L2 norm of a gradient given as one tensor per parameter tensor, ||g||_2 = sqrt(sum g^2)."""
    if not grads:
        raise ValueError("need at least one gradient tensor")
    return float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])))
