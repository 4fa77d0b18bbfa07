"""ReLoBRaLo, relative loss balancing with random lookback (Bischof & Kraus 2021): weights from loss values alone."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import torch

from .base import StepContext, Weighting, check_alpha

BALANCE_EPS = 1e-12


def balanced_weights(losses: Mapping[str, float], reference: Mapping[str, float], temperature: float
                     ) -> dict[str, float]:
    """lambda_bal_j = m exp(z_j) / sum_k exp(z_k), z_j = L_j / (T L'_j + eps), for the m terms j: a softmax of each
    term's loss relative to a reference value of it (its value at an earlier step), scaled so that the weights sum
    to m. A term whose loss has fallen least, relative to its reference, gets the largest weight. eps = 1e-12, as
    in the source's code, keeps a reference of 0 (a term already exact) finite."""
    z = {j: losses[j] / (temperature * reference[j] + BALANCE_EPS) for j in losses}
    top = max(z.values())  # subtracted before exp: the softmax is unchanged, and nothing overflows
    e = {j: math.exp(v - top) for j, v in z.items()}
    total = sum(e.values())
    return {j: len(e) * v / total for j, v in e.items()}


class ReLoBRaLo(Weighting):
    """Relative Loss Balancing with Random Lookback (Bischof & Kraus 2021, "Multi-objective loss balancing for
    physics-informed deep learning", arXiv:2110.09813): every term j, the residual included, gets a weight from
    the loss values alone, at every step:

        lambda_j(t) = (1 - alpha) [rho lambda_j(t-1) + (1 - rho) lambda_bal_j(t, 0)] + alpha lambda_bal_j(t, t-1)

    where lambda_bal_j(t, t') is ``balanced_weights`` of the losses at t relative to those at t', and rho is a
    Bernoulli draw with mean ``rho`` (the "random lookback": with probability 1 - rho the history is replaced by
    the balance against the first step's losses). ``alpha`` is the weight of the new estimate, as everywhere in
    this library: the source's alpha is 1 - ``alpha`` (its 0.999 is 0.001 here). ``temperature`` is T. The
    defaults are the source's recommended ones (alpha 0.999 there, E[rho] 0.999, T 0.1), as in its code
    (rbischof/relative_balancing, ``src/update_rules.py``, ``relobralo``).

    This library's loss keeps the residual's weight at 1 (Eq. 39), so ``weights`` holds lambda_i / lambda_r for the
    other terms: the same loss divided by lambda_r, whose Adam step is the same up to Adam's epsilon. At the first
    update both references are that step's losses, and every weight is 1. The draws come from the trainer's
    generator for the scheme (``StepContext.generator``), so a resumed run draws what an uninterrupted one would.
    """

    name = "relobralo"
    label = "ReLoBRaLo (later work)"

    def __init__(self, terms: Iterable[str], alpha: float = 0.001, rho: float = 0.999, temperature: float = 0.1):
        super().__init__(terms)
        check_alpha(alpha)
        if not 0 <= rho <= 1:
            raise ValueError(f"rho (the probability of keeping the history) must be in [0, 1], got {rho}")
        if not (math.isfinite(temperature) and temperature > 0):
            raise ValueError(f"the temperature must be a positive number, got {temperature}")
        self.alpha, self.rho, self.temperature = alpha, rho, temperature
        self.all_weights: dict[str, float] = {}  # lambda_j of every term, the residual's included
        self.first_losses: dict[str, float] = {}
        self.last_losses: dict[str, float] = {}

    def updates_at(self, step: int) -> bool:
        return True

    def update(self, context: StepContext) -> None:
        losses = {j: float(context.losses[j]) for j in ("residual", *self.terms)}
        if not self.first_losses:
            self.first_losses, self.last_losses = dict(losses), dict(losses)
            self.all_weights = {j: 1.0 for j in losses}
        keep_history = bool(torch.rand((), generator=context.generator, dtype=torch.float64) < self.rho)
        recent = balanced_weights(losses, self.last_losses, self.temperature)
        history = self.all_weights if keep_history else balanced_weights(losses, self.first_losses, self.temperature)
        self.all_weights = {j: (1 - self.alpha) * history[j] + self.alpha * recent[j] for j in losses}
        self.last_losses = losses
        self.weights = {t: self.all_weights[t] / self.all_weights["residual"] for t in self.terms}

    def state_dict(self) -> dict:
        return {"weights": dict(self.weights), "all_weights": dict(self.all_weights),
                "first_losses": dict(self.first_losses), "last_losses": dict(self.last_losses)}

    def load_state_dict(self, state: dict) -> None:
        self.weights = dict(state["weights"])
        self.all_weights = dict(state["all_weights"])
        self.first_losses, self.last_losses = dict(state["first_losses"]), dict(state["last_losses"])

    def __repr__(self) -> str:
        return f"ReLoBRaLo(alpha={self.alpha}, rho={self.rho}, temperature={self.temperature})"
