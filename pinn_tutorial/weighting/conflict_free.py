"""ConFIG, the conflict-free update (Liu, Chu & Thuerey 2025), through its authors' ``conflictfree`` package."""

from __future__ import annotations

from conflictfree.grad_operator import ConFIGOperator

from .base import GradientSurgery


class ConFIG(GradientSurgery):
    """ConFIG (Liu, Chu & Thuerey 2025, "ConFIG: towards conflict-free training of physics informed neural
    networks", ICLR, arXiv:2408.11104, the ConFIG update), with the loss terms as the objectives: the direction
    is the one that makes the same positive angle with every term's gradient, rescaled by the sum of the
    gradients' projections on it,

        g_u = U[ [U(g_1), ..., U(g_m)]^{-T} 1_m ],      d = (sum_i g_i . g_u) g_u,      U(v) = v / ||v||,

    with ^{-T} the pseudo-inverse of the transpose,
    so that no term's loss grows to first order (g_i . d > 0 for every i). Computed by the authors' maintained
    package, ``conflictfree``'s ``ConFIGOperator`` with its defaults (equal weights, projection length, least
    squares; for two terms its closed form).
    """

    name = "config"
    label = "ConFIG, conflict-free update (later work)"
    operator = ConFIGOperator()
