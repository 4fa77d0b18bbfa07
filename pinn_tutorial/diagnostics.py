"""Why a PINN trains badly, measured: per-term gradients, their statistics, and Hessian stiffness.

The paper's diagnosis (Wang, Teng & Perdikaris 2021, section 2) rests on two measurements:

- **gradient imbalance** (Figs. 2, 3, 12): histograms, per weight matrix, of the gradients of the
  residual loss L_r and of the boundary/initial losses L_i. The residual's gradients are spread
  far wider; for the 1-D Poisson problem the bounds of Eqs. 14-15 say they grow like C^4 with
  the solution's frequency C, while the boundary's do not. The ratio
  max|grad L_r| / mean|grad L_i| of Eq. 40 is what Algorithm 1 turns into a weight;
- **stiffness** (Figs. 4, 5, 11): the largest eigenvalue of the Hessian of each loss term.
  Gradient descent with learning rate eta is stable only while eta < 2 / sigma_max (section 2.4),
  so a large sigma_max(grad^2 L_r) makes L_r oscillate while L_b decreases.

This module computes both, for any problem and any network with ``weight_matrices()``:

1. ``term_gradients``: the gradient of each unweighted loss term w.r.t. each weight matrix;
2. ``gradient_statistics``: per term and layer, max and mean |grad|, and the Eq. 40 ratios;
3. ``gradient_histograms``: per layer, histogram counts of each term on shared bin edges;
4. ``hessian_max_eigenvalue`` / ``term_hessian_eigenvalues``: the eigenvalue of largest magnitude (sigma_max is
   its absolute value) by power iteration on Hessian-vector products, never forming the Hessian;
5. ``ntk_trace``: the trace of a loss term's empirical neural tangent kernel (later work);
6. ``gradient_conflicts``: the terms' gradients as directions: each term's cosine with the residual's, and the
   alignment score of all of them (later work);
7. ``GradientMonitor``: a ``Trainer`` callback that records all of this during training, into
   the run's ``History.diagnostics``.

The paper's two experiments built from these instruments, the Poisson gradient scaling and the
stiffness study, are in ``studies``.

As in the original code, only the weight matrices enter (no biases, no encoders of the gated
net). Nothing here touches the parameters' ``.grad``, the optimiser, or the global random
stream, so every function can run in the middle of training without changing it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from .problems import Problem
from .problems.base import Batch
from .weighting import Pooling, annealing_estimate

TermGrads = dict[str, list[torch.Tensor]]


# -- 1. per-term gradients -------------------------------------------------------------------

def weight_matrices(net: nn.Module) -> list[torch.Tensor]:
    """The net's weight matrices W_1..W_L (``net.weight_matrices()``), checked to be usable."""
    method = getattr(net, "weight_matrices", None)
    if not callable(method):
        raise ValueError(f"{type(net).__name__} has no weight_matrices() method; the diagnostics need "
                         "the per-layer weight matrices (MLP and ModifiedMLP provide them)")
    weights = list(method())
    if not weights:
        raise ValueError(f"{type(net).__name__}.weight_matrices() returned no tensors")
    if not all(w.requires_grad for w in weights):
        raise ValueError("every weight matrix must require grad to be differentiated")
    return weights


@torch.enable_grad()  # works under no_grad too, e.g. inside an evaluation loop
def term_gradients(problem: Problem, net: nn.Module, batch: Batch) -> TermGrads:
    """grad_{W_l} L_i for every loss term L_i and every weight matrix W_l (paper Figs. 2, 3, 12).

    The terms are the *unweighted* losses of ``problem.losses(net, batch)``, in the order of
    ``problem.terms`` (``"residual"`` first). Returns ``{term: [dL/dW_1, ..., dL/dW_L]}``, one
    detached tensor per weight matrix, shaped like it; a matrix a term does not depend on
    gets zeros. ``torch.autograd.grad`` is used, so the parameters' ``.grad`` and any
    optimiser state are left untouched. ``batch`` must already be on the net's device.
    """
    weights = weight_matrices(net)
    losses = problem.losses(net, batch)
    missing = [t for t in problem.terms if t not in losses]
    if missing:
        raise ValueError(f"problem.losses returned no term(s) {missing}; it returned {list(losses)}")
    grads: TermGrads = {}
    for k, term in enumerate(problem.terms):
        last = k == len(problem.terms) - 1
        g = torch.autograd.grad(losses[term], weights, retain_graph=not last, allow_unused=True)
        grads[term] = [torch.zeros_like(w) if gi is None else gi.detach() for gi, w in zip(g, weights)]
    return grads


# -- 2. statistics -----------------------------------------------------------------------------

@dataclass
class GradientStatistics:
    """Per-term, per-layer gradient magnitudes and the ratios of Algorithm 1 (paper Eq. 40).

    ``max_abs[term][l]`` = max |grad_{W_l} L_term| and ``mean_abs[term][l]`` = mean |grad_{W_l}
    L_term| (layer l = 0 is W_1). For each term i after the residual:

    - ``ratio[i][l]`` = max |grad_{W_l} L_r| / mean |grad_{W_l} L_i|, the ratio within layer l;
    - ``ratio_overall[i]`` = lambda_hat_i of Eq. 40 over all weight matrices, pooled as
      ``pooling`` says (see ``weighting.annealing_estimate``: ``"all"`` as Eq. 40 reads,
      ``"layer_mean"`` as the original Helmholtz code, ``"layer_ratio_max"`` as its cavity code).
    """

    terms: list[str]
    max_abs: dict[str, list[float]]
    mean_abs: dict[str, list[float]]
    ratio: dict[str, list[float]]
    ratio_overall: dict[str, float]
    pooling: str

    @property
    def layers(self) -> int:
        return len(self.max_abs[self.terms[0]])

    def rows(self) -> list[dict]:
        """The table as one dict per (term, layer): term, layer (1-based), max_abs, mean_abs, ratio."""
        return [{"term": t, "layer": k + 1, "max_abs": self.max_abs[t][k], "mean_abs": self.mean_abs[t][k],
                 "ratio": self.ratio[t][k] if t in self.ratio else None}
                for t in self.terms for k in range(self.layers)]

    def to_dict(self) -> dict:
        return asdict(self)


def _check_grads(grads: TermGrads) -> int:
    """The number of layers; raises ValueError unless ``grads`` has a residual and equal layer counts."""
    if "residual" not in grads:
        raise ValueError(f"the gradients need a 'residual' term, got terms {list(grads)}")
    counts = {term: len(g) for term, g in grads.items()}
    if len(set(counts.values())) != 1 or not counts["residual"]:
        raise ValueError(f"every term needs one gradient per weight matrix (at least one), got {counts}")
    return counts["residual"]


def gradient_statistics(grads: TermGrads, pooling: Pooling = "all") -> GradientStatistics:
    """max and mean |grad| per term and layer, and the ratios max|grad L_r| / mean|grad L_i| (Eq. 40).

    ``grads`` is what ``term_gradients`` returns. See ``GradientStatistics`` for the fields.
    """
    _check_grads(grads)
    max_abs = {t: torch.stack([gi.abs().max() for gi in g]).tolist() for t, g in grads.items()}
    mean_abs = {t: torch.stack([gi.abs().mean() for gi in g]).tolist() for t, g in grads.items()}
    others = [t for t in grads if t != "residual"]
    ratio = {t: [r / m for r, m in zip(max_abs["residual"], mean_abs[t])] for t in others}
    overall = {t: annealing_estimate(grads["residual"], grads[t], pooling) for t in others}
    return GradientStatistics(list(grads), max_abs, mean_abs, ratio, overall, pooling)


# -- 3. histograms -----------------------------------------------------------------------------

def gradient_histograms(grads: TermGrads, bins: int = 50) -> dict:
    """Histograms of the gradient entries of each term, per weight matrix (paper Figs. 2, 3, 12).

    For layer l the ``bins`` equal-width edges span the smallest to the largest entry of
    grad_{W_l} L over *all* terms, so the terms can be overlaid on one axis (the paper plots
    residual and boundary together, with log-scale counts). Returns::

        {"edges": [edges of layer 1 (bins + 1,), ...],
         "counts": {term: [counts of layer 1 (bins,), ...]}}

    as NumPy arrays. A layer whose gradients are all one value gets edges value -/+ 1.
    """
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    layers = _check_grads(grads)
    edges, counts = [], {term: [] for term in grads}
    for k in range(layers):
        values = {t: g[k].detach().reshape(-1).double().cpu().numpy() for t, g in grads.items()}
        low = min(v.min() for v in values.values())
        high = max(v.max() for v in values.values())
        if not (np.isfinite(low) and np.isfinite(high)):
            raise ValueError(f"layer {k + 1} has non-finite gradients")
        if low == high:
            low, high = low - 1.0, high + 1.0
        layer_edges = np.linspace(low, high, bins + 1)
        edges.append(layer_edges)
        for t, v in values.items():
            counts[t].append(np.histogram(v, bins=layer_edges)[0])
    return {"edges": edges, "counts": counts}


# -- 4. Hessian stiffness ----------------------------------------------------------------------

def _dot(a: Sequence[torch.Tensor], b: Sequence[torch.Tensor]) -> torch.Tensor:
    return sum((x * y).sum() for x, y in zip(a, b))


def hessian_max_eigenvalue(loss_fn: Callable[[], torch.Tensor], params: Sequence[torch.Tensor],
                           iterations: int = 100, tol: float = 1e-4,
                           generator: torch.Generator | None = None) -> float:
    """The eigenvalue of largest magnitude of the Hessian grad^2_theta L, with its sign (paper Figs. 4, 5, 11);
    sigma_max, the spectral norm of the symmetric Hessian, is its absolute value.

    Power iteration on Hessian-vector products: with g = grad_theta L built once with
    ``create_graph=True``, each product H v = grad_theta (g . v) is one more backward pass
    through g's graph (double backward). The dense Hessian is never formed. Starting from a
    random unit vector v (over all of ``params`` together), repeat v <- H v / |H v|; the
    estimate is the Rayleigh quotient v . H v, which carries the eigenvalue's sign. It stops
    when the estimate changes by less than ``tol`` relative to itself, or after ``iterations``
    products. Convergence is geometric in |sigma_2 / sigma_1|, so near-equal top eigenvalues
    need more iterations, and the change per iteration then understates the error. Each
    iteration costs about one backward pass through the gradient's graph.

    ``loss_fn`` is called once, with no arguments, and must return the scalar loss as a
    function of ``params``; it may return a loss computed beforehand, as long as its graph
    was not freed. ``generator`` draws the start vector (on the CPU); None uses a fresh
    generator seeded 0, so the result is reproducible and the global random stream untouched.
    Returns 0.0 when the loss is linear in ``params`` (zero Hessian).
    """
    if iterations < 1:
        raise ValueError(f"iterations must be at least 1, got {iterations}")
    if tol < 0:
        raise ValueError(f"tol must be non-negative, got {tol}")
    params = list(params)
    if not params or not all(p.requires_grad for p in params):
        raise ValueError("params must be a non-empty list of tensors that require grad")
    loss = loss_fn()
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        raise ValueError("loss_fn must return a scalar tensor")
    grads = torch.autograd.grad(loss.reshape(()), params, create_graph=True, allow_unused=True)
    # Only gradient entries that still depend on the parameters have a non-zero Hessian row.
    live = [i for i, g in enumerate(grads) if g is not None and g.requires_grad]
    if not live:
        return 0.0

    if generator is None:
        generator = torch.Generator().manual_seed(0)
    v = [torch.randn(p.shape, generator=generator, dtype=p.dtype).to(p.device) for p in params]

    def hvp(v: list[torch.Tensor]) -> list[torch.Tensor]:
        out = torch.autograd.grad([grads[i] for i in live], params, grad_outputs=[v[i] for i in live],
                                  retain_graph=True, allow_unused=True)
        return [torch.zeros_like(p) if h is None else h for h, p in zip(out, params)]

    norm = _dot(v, v).sqrt()
    v = [x / norm for x in v]
    estimate = None
    for _ in range(iterations):
        hv = hvp(v)
        new = float(_dot(v, hv))  # Rayleigh quotient v . H v, |v| = 1
        norm = _dot(hv, hv).sqrt()
        if float(norm) == 0.0:
            return 0.0
        v = [h / norm for h in hv]
        if estimate is not None and abs(new - estimate) <= tol * abs(new):
            return new
        estimate = new
    return estimate


@torch.enable_grad()
def term_hessian_eigenvalues(problem: Problem, net: nn.Module, batch: Batch, iterations: int = 100,
                             tol: float = 1e-4, generator: torch.Generator | None = None) -> dict[str, float]:
    """The eigenvalue of largest magnitude, signed, of the Hessian of each unweighted loss term w.r.t. the weight
    matrices (Figs. 4, 5, 11); sigma_max is its absolute value.

    As in the original code (``get_H_op``), the Hessian is taken w.r.t. the weight matrices
    only. The loss terms are computed once and each term's graph is reused; see
    ``hessian_max_eigenvalue`` for ``iterations``, ``tol`` and ``generator``.
    """
    weights = weight_matrices(net)
    losses = problem.losses(net, batch)
    return {term: hessian_max_eigenvalue(lambda term=term: losses[term], weights, iterations, tol, generator)
            for term in problem.terms}


# -- 5. the neural tangent kernel --------------------------------------------------------------

@torch.enable_grad()
def ntk_trace(net: nn.Module, values: Callable[[nn.Module, torch.Tensor], torch.Tensor], x: torch.Tensor) -> float:
    """Trace of the empirical neural tangent kernel of one loss term (Wang, Yu & Perdikaris 2022).

    For per-point values v_i = values(net, x)[i] (the residual r(x_i), or the network's output on the
    boundary), K_ij = <dv_i/dtheta, dv_j/dtheta> over all parameters, and

        tr K = sum_i ||dv_i/dtheta||^2 .

    Under gradient flow on sum_i v_i^2 / 2 the values evolve as dv/dt = -K v, so the trace, the sum of
    K's eigenvalues, measures how fast the term is fitted; the ratio tr K_rr / tr K_bb is the NTK view
    of the imbalance of the gradients (Eq. 40). One backward pass per point: keep x to a few dozen points.
    """
    params = [p for p in net.parameters() if p.requires_grad]
    v = values(net, x).reshape(-1)
    total = 0.0
    for i in range(len(v)):
        grads = torch.autograd.grad(v[i], params, retain_graph=i < len(v) - 1, allow_unused=True)
        total += sum(float(g.pow(2).sum()) for g in grads if g is not None)
    return total


# -- 6. directions: conflicts between the terms' gradients --------------------------------------

@dataclass
class GradientConflicts:
    """The terms' gradients as vectors: g_t = grad L_t over every weight matrix, flattened into one.

    For each term i after the residual:

    - ``norm_ratio[i]`` = ||g_r|| / ||g_i||: the imbalance of magnitudes, what Algorithm 1 and gradient-norm
      weighting correct;
    - ``cosine[i]`` = <g_r, g_i> / (||g_r|| ||g_i||): their direction. Below 0 the two conflict: to first order,
      a step along -g_r raises L_i. Gradient surgery (PCGrad, ConFIG) corrects this, not weights.

    ``alignment`` = 2 ||(1/n) sum_t g_t / ||g_t|| ||^2 - 1 over all n terms, the gradient alignment score of
    Wang, Bhartari, Li & Perdikaris (NeurIPS 2025, arXiv:2502.00604): 1 when every gradient points the same way,
    and for two terms their cosine. A term with a zero gradient has no direction: its entries are NaN.
    """

    terms: list[str]
    norm_ratio: dict[str, float]
    cosine: dict[str, float]
    alignment: float

    def to_dict(self) -> dict:
        return asdict(self)


def gradient_conflicts(grads: TermGrads) -> GradientConflicts:
    """Magnitude ratios, cosines with the residual's gradient, and the alignment score of ``grads`` (what
    ``term_gradients`` returns); see ``GradientConflicts``."""
    _check_grads(grads)
    vectors = {t: torch.cat([gi.detach().reshape(-1) for gi in g]).double() for t, g in grads.items()}
    norms = {t: v.norm() for t, v in vectors.items()}
    nan = torch.tensor(float("nan"), dtype=torch.float64)
    units = [v / norms[t] if norms[t] > 0 else v * nan for t, v in vectors.items()]
    others = [t for t in grads if t != "residual"]
    residual = units[0]
    norm_ratio = {t: float(norms["residual"] / norms[t]) if norms[t] > 0 else float("nan") for t in others}
    cosine = {t: float(residual @ u) for t, u in zip(others, units[1:])}
    alignment = float(2 * torch.stack(units).mean(0).pow(2).sum() - 1)
    return GradientConflicts(list(grads), norm_ratio, cosine, alignment)


# -- 7. recording during training --------------------------------------------------------------

class GradientMonitor:
    """A ``Trainer`` callback that records gradient statistics (and optionally more) every ``every`` steps.

    Use it as ``Trainer(..., callback=GradientMonitor(every=1000))``. The trainer calls it
    with the number of completed steps; when ``step % every == 0`` it draws its own batch of
    ``trainer.budget.batch_size`` points per term from ``trainer.problem.sample`` with a
    generator seeded from (``seed``, step), so the training points are not changed and a
    resumed run measures on the same points as an uninterrupted one. It appends to the
    trainer's ``history.diagnostics`` a dict with

    - ``step``; ``max_abs`` and ``mean_abs``: ``{term: [per layer]}`` of |grad_{W_l} L_term|;
      ``ratio`` and ``ratio_overall``: Eq. 40's max|grad L_r| / mean|grad L_i| per layer and
      pooled (see ``gradient_statistics``);
    - ``norm_ratio``, ``cosine`` (``{term: value}``) and ``alignment``: the gradients' directions (see
      ``gradient_conflicts``);
    - with ``histograms=True``: ``histograms``, as ``gradient_histograms`` with ``bins`` bins;
    - with ``hessian=True``: ``hessian``, ``{term: signed eigenvalue of largest magnitude}`` by
      ``term_hessian_eigenvalues`` with ``hessian_iterations`` power iterations (the original code instead
      forms the full Hessian and takes all its eigenvalues, every 1,000 steps).

    The records live in the history, so the trainer's checkpoints save them, a resumed run
    keeps those taken before the interruption, and result files carry them. ``records`` is
    the history's list of the last trainer recorded for.

    Other steps cost one modulo. A record costs one backward pass per loss term for the
    gradients and, with the Hessians, up to ``hessian_iterations`` Hessian-vector products per
    term, each about one more backward pass. The trainer never calls it with step 0; to record
    the initial network, call ``monitor.record(trainer, 0)`` before ``trainer.run()``.
    """

    def __init__(self, every: int = 100, histograms: bool = False, hessian: bool = False,
                 hessian_iterations: int = 20, hessian_tol: float = 1e-3, bins: int = 50,
                 seed: int = 0, pooling: Pooling = "all"):
        if int(every) != every or every < 1:
            raise ValueError(f"every must be a positive integer, got {every!r}")
        if hessian_iterations < 1:
            raise ValueError(f"hessian_iterations must be at least 1, got {hessian_iterations}")
        if bins < 1:
            raise ValueError(f"bins must be at least 1, got {bins}")
        annealing_estimate([torch.ones(1)], [torch.ones(1)], pooling)  # rejects an unknown pooling now
        self.every, self.histograms, self.hessian = int(every), histograms, hessian
        self.hessian_iterations, self.hessian_tol, self.bins = hessian_iterations, hessian_tol, bins
        self.seed, self.pooling = seed, pooling
        self._trainer = None  # the trainer whose history holds the records

    def __call__(self, trainer, step: int) -> None:
        if step % self.every == 0:
            self.record(trainer, step)

    def record(self, trainer, step: int) -> dict:
        """Measure the trainer's current network on a fresh batch of the monitor's own; return the record."""
        problem, net = trainer.problem, trainer.net
        # One generator per (seed, step): the points do not depend on what was recorded before.
        seed = int(np.random.SeedSequence([self.seed, int(step)]).generate_state(1)[0])
        generator = torch.Generator().manual_seed(seed)
        batch = {k: v.to(trainer.device) for k, v in problem.sample(trainer.budget.batch_size, generator).items()}
        grads = term_gradients(problem, net, batch)
        stats = gradient_statistics(grads, self.pooling)
        conflicts = gradient_conflicts(grads)
        entry = {"step": int(step), "max_abs": stats.max_abs, "mean_abs": stats.mean_abs,
                 "ratio": stats.ratio, "ratio_overall": stats.ratio_overall, "norm_ratio": conflicts.norm_ratio,
                 "cosine": conflicts.cosine, "alignment": conflicts.alignment}
        if self.histograms:
            h = gradient_histograms(grads, self.bins)
            entry["histograms"] = {"edges": [e.tolist() for e in h["edges"]],
                                   "counts": {t: [c.tolist() for c in cs] for t, cs in h["counts"].items()}}
        if self.hessian:
            entry["hessian"] = term_hessian_eigenvalues(problem, net, batch, self.hessian_iterations,
                                                        self.hessian_tol, generator)
        trainer.history.diagnostics.append(entry)
        self._trainer = trainer
        return entry

    @property
    def records(self) -> list[dict]:
        """The records of the last trainer recorded for: its ``history.diagnostics`` (empty before any)."""
        return self._trainer.history.diagnostics if self._trainer is not None else []

    @property
    def steps(self) -> list[int]:
        """The steps recorded so far."""
        return [r["step"] for r in self.records]

    def series(self, quantity: str, term: str | None = None, layer: int | None = None) -> list[float]:
        """One quantity over the records, e.g. ``series("hessian", "residual")`` (Fig. 5),
        ``series("max_abs", "boundary", layer=0)`` or ``series("alignment")``; per-term quantities need ``term``,
        per-layer ones ``layer``."""
        values = []
        for r in self.records:
            if quantity not in r:
                raise ValueError(f"no {quantity!r} recorded; have {sorted(k for k in r if k != 'step')}")
            value = r[quantity]
            if isinstance(value, dict):
                if term is None:
                    raise ValueError(f"{quantity!r} is per term: give term (one of {', '.join(value)})")
                value = value[term]
            if isinstance(value, list):
                if layer is None:
                    raise ValueError(f"{quantity!r} is per layer: give layer (0 to {len(value) - 1})")
                value = value[layer]
            values.append(value)
        return values

    def to_dict(self) -> dict:
        """The settings and records as plain numbers and lists (JSON-serialisable)."""
        return {"every": self.every, "histograms": self.histograms, "hessian": self.hessian,
                "hessian_iterations": self.hessian_iterations, "bins": self.bins, "seed": self.seed,
                "pooling": self.pooling, "records": self.records}

    def __repr__(self) -> str:
        return (f"GradientMonitor(every={self.every}, histograms={self.histograms}, hessian={self.hessian}, "
                f"records={len(self.records)})")
