"""SoftAdapt (Heydari, Thompson & Mehmood 2019): weights from how fast each loss term is falling."""

from __future__ import annotations

import math
from collections.abc import Iterable

from .base import StepContext, Weighting, check_count

SLOPE_EPS = 1e-8


def softadapt_weights(losses: dict[str, float], previous: dict[str, float], beta: float) -> dict[str, float]:
    """alpha_k = L_k exp(beta s_k) / sum_l L_l exp(beta s_l) for every term k, with the slopes normalised,
    s_k = (L_k(i) - L_k(i-1)) / (sum_l |L_l(i) - L_l(i-1)| + eps), eps = 1e-8: the source's loss-weighted
    variant (its section 3.1.1) with its normalised slopes (3.1.2). The largest beta s_l is subtracted inside the
    exponentials first, which leaves the ratios as they are."""
    change = {k: losses[k] - previous[k] for k in losses}
    total_change = sum(abs(c) for c in change.values()) + SLOPE_EPS
    slopes = {k: c / total_change for k, c in change.items()}
    top = max(beta * s for s in slopes.values())
    scaled = {k: losses[k] * math.exp(beta * s - top) for k, s in slopes.items()}
    total = sum(scaled.values())
    return {k: v / total for k, v in scaled.items()}


class SoftAdapt(Weighting):
    """SoftAdapt (Heydari, Thompson & Mehmood 2019, "SoftAdapt: techniques for adaptive loss weighting of neural
    networks with multi-part loss functions", arXiv:1912.12355), its loss-weighted variant with normalised
    slopes: every ``update_every`` steps, from the loss values alone (``softadapt_weights``),

        s_k     = (L_k(i) - L_k(i')) / sum_l |L_l(i) - L_l(i')|     (first-order slopes since the last update i')
        alpha_k = L_k exp(beta s_k) / sum_l L_l exp(beta s_l)

    for every term k, the residual's included. A term whose loss is large, or falling slowest, gets the largest
    weight. The slopes are normalised because the raw ones scale with the loss: Helmholtz's residual loss moves
    by thousands per step early on, and exp(beta s) with raw slopes overflows the weights within three steps.
    This library's loss keeps the residual's weight at 1 (Eq. 39), so ``weights`` holds alpha_i / alpha_r,
    which leaves Adam's step as it is up to Adam's epsilon. At the first update there is no slope yet, and the
    weights stay 1. ``beta`` = 0.1 is the source's default.

    The source's maintained package (``softadapt`` on PyPI) is built on Keras; this library uses PyTorch alone,
    so the rule is written here, and tested against a hand computation.
    """

    name = "softadapt"
    label = "SoftAdapt (later work)"

    def __init__(self, terms: Iterable[str], beta: float = 0.1, update_every: int = 1):
        super().__init__(terms)
        if not math.isfinite(beta):
            raise ValueError(f"beta must be a finite number, got {beta}")
        self.beta, self.update_every = beta, check_count("update_every", update_every)
        self.previous: dict[str, float] = {}

    def updates_at(self, step: int) -> bool:
        return step % self.update_every == 0

    def update(self, context: StepContext) -> None:
        losses = {k: float(context.losses[k]) for k in ("residual", *self.terms)}
        if self.previous:
            alpha = softadapt_weights(losses, self.previous, self.beta)
            self.weights = {t: alpha[t] / alpha["residual"] for t in self.terms}
        self.previous = losses

    def state_dict(self) -> dict:
        return {"weights": dict(self.weights), "previous": dict(self.previous)}

    def load_state_dict(self, state: dict) -> None:
        self.weights, self.previous = dict(state["weights"]), dict(state["previous"])

    def __repr__(self) -> str:
        return f"SoftAdapt(beta={self.beta}, update_every={self.update_every})"
