"""PCGrad, projecting conflicting gradients (Yu et al. 2020), through the maintained ``conflictfree`` package."""

from __future__ import annotations

from conflictfree.grad_operator import PCGradOperator

from .base import GradientSurgery


class PCGrad(GradientSurgery):
    """PCGrad (Yu, Kumar, Gupta, Levine, Hausman & Finn 2020, "Gradient surgery for multi-task learning",
    NeurIPS, Algorithm 1), with the loss terms as the tasks: each term's gradient g_i loses its component along
    every other term's gradient g_j that it conflicts with,

        g_i <- g_i - (g_i . g_j / ||g_j||^2) g_j      where g_i . g_j < 0,

    and the step follows the sum of the projected gradients, d = sum_i g_i. The projections are those of
    ``conflictfree``'s ``PCGradOperator``, which visits the other terms in a fixed order (the source shuffles
    them; with the two terms of Helmholtz the order does not matter).
    """

    name = "pcgrad"
    label = "PCGrad, gradient surgery (later work)"
    operator = PCGradOperator()
