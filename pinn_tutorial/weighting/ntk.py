"""NTK weighting: the weights that equalise the traces of the terms' neural tangent kernels."""

from __future__ import annotations

import math
from collections.abc import Iterable

from .base import MovingAverageWeighting, StepContext


class NTKWeighting(MovingAverageWeighting):
    """Weights from the neural tangent kernel (Wang, Yu & Perdikaris, "When and why PINNs fail to train:
    a neural tangent kernel perspective", J. Comput. Phys. 449, 2022, Algorithm 1 and Eq. 6.5).

    Every ``update_every`` steps, on the step's batch, with k_t the mean of the diagonal of term t's
    kernel over its points (``tangent_kernel.diagonal_means``: tr K_t / N_t),

        lambda_hat_i = k_r / k_i
        lambda_i    <- (1 - alpha) lambda_i + alpha lambda_hat_i

    the moving average of Eq. 41 of the gradient-pathology paper, ``alpha`` the weight of the new
    estimate as in every scheme here.

    The published weights are lambda_t = (sum_s tr K_s) / tr K_t for every term, residual included;
    dividing all of them by the residual's gives the ratio above with the residual's weight held at 1,
    as in this library's loss (Eq. 39), a common factor that Adam's step ignores. The paper writes
    traces; the authors' later code (jaxpi's ``ntk`` scheme) takes the mean of the diagonal, which is
    the trace divided by the number of points, so that a term sampled on four edges (Helmholtz's
    boundary, 4 x 128 points) is not weighted down four times for it. This class takes the mean.

    Against gradient-norm weighting: both equalise a measure of how fast each term moves, the norm of
    the loss's gradient there, the kernel's trace here. The kernel does not involve the term's error,
    so lambda_hat does not shrink as a term is fitted. ``alpha = 0.1`` is the coded Algorithm 1's.
    An update takes every point's own gradient of every term, several steps' worth of work, so it
    runs every 100 steps by default, between Algorithm 1's 10 and jaxpi's 1,000.
    """

    name = "ntk"
    label = "NTK weighting (Wang, Yu & Perdikaris 2022)"
    reads_tangent_kernel = True

    def __init__(self, terms: Iterable[str], alpha: float = 0.1, update_every: int = 100):
        super().__init__(terms, alpha, update_every)

    def estimate(self, context: StepContext) -> dict[str, float]:
        k = context.kernel_diagonal_means()
        # A term whose values do not depend on the parameters gets an infinite estimate, which the trainer reports.
        return {term: k["residual"] / k[term] if k[term] > 0 else math.inf for term in self.terms}
