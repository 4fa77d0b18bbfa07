"""Gradient-norm weighting: the weights that equalise the norms of the weighted terms' gradients."""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from .base import Grads, MovingAverageWeighting, StepContext


class GradientNormWeighting(MovingAverageWeighting):
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

    name = "gradient_norm"
    label = "gradient-norm weighting (later work)"

    def __init__(self, terms: Iterable[str], alpha: float = 0.1, update_every: int = 10):
        super().__init__(terms, alpha, update_every)

    def estimate(self, context: StepContext) -> dict[str, float]:
        grads = context.term_gradients()
        residual_norm = gradient_norm(grads["residual"])
        estimates = {}
        for term in self.terms:
            term_norm = gradient_norm(grads[term])
            # A term with no gradient at all gets an infinite estimate, which the trainer reports.
            estimates[term] = residual_norm / term_norm if term_norm > 0 else math.inf
        return estimates


def gradient_norm(grads: Grads) -> float:
    """The L2 norm of a gradient given as one tensor per parameter tensor, ||g||_2 = sqrt(sum g^2)."""
    if not grads:
        raise ValueError("need at least one gradient tensor")
    return float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])))
