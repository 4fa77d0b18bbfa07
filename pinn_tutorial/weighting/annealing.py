"""Learning-rate annealing, the paper's Algorithm 1, in every form in which it exists.

Algorithm 1 is not one formula in practice: the paper prints one, its authors' code runs another,
and each library that offers it runs its own. ``ANNEALING_FORMS`` holds them, each an
``AnnealingForm`` (which gradients enter, which statistics, the moving average, how often), and
``LearningRateAnnealing(form=...)`` runs any of them.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import torch

from ..config import choose
from .base import Grads, MovingAverageWeighting, StepContext

Pooling = Literal["all", "layer_mean", "layer_ratio_max"]
POOLINGS = ("all", "layer_mean", "layer_ratio_max")
# Statistics of a gradient g over its entries: max|g|, mean|g|, and |mean g| (the size of the signed mean).
Statistic = Literal["max", "mean", "abs_mean"]
STATISTICS = ("max", "mean", "abs_mean")


def _statistic(g: torch.Tensor, statistic: Statistic) -> torch.Tensor:
    """max|g|, mean|g| or |mean g| over the entries of one gradient tensor."""
    if statistic == "max":
        return g.abs().max()
    if statistic == "mean":
        return g.abs().mean()
    return g.mean().abs()


def _pooled(grads: Grads, statistic: Statistic) -> torch.Tensor:
    """The statistic over all entries of all tensors, as if they were one vector."""
    if statistic == "max":
        return torch.stack([g.abs().max() for g in grads]).max()
    means = torch.stack([g.abs().mean() if statistic == "mean" else g.mean() for g in grads])
    sizes = torch.tensor([g.numel() for g in grads], dtype=means.dtype, device=means.device)
    pooled = (means * sizes).sum() / sizes.sum()
    return pooled if statistic == "mean" else pooled.abs()


def annealing_estimate(residual_grads: Grads, term_grads: Grads, pooling: Pooling = "all",
                       numerator: Statistic = "max", denominator: Statistic = "mean", eps: float = 0.0) -> float:
    """The instantaneous weight  lambda_hat = max |grad L_r| / mean |grad L_i|  (paper Eq. 40).

    ``residual_grads`` and ``term_grads`` hold one gradient tensor per parameter tensor (layer).
    ``pooling`` says how the layers are combined:

    - ``"all"``: max and mean over all entries of all tensors pooled, as Eq. 40 reads;
    - ``"layer_mean"``: the global max over the mean of the per-layer means, as the original
      Helmholtz and Klein-Gordon code computes it (every layer counts equally, whatever its size);
    - ``"layer_ratio_max"``: the largest per-layer ratio max|grad_l L_r| / mean|grad_l L_i|,
      as the original cavity code computes it.

    ``numerator`` and ``denominator`` change the statistics, for the forms of other libraries
    (see ``ANNEALING_FORMS``): ``"max"`` max|g|, ``"mean"`` mean|g|, ``"abs_mean"`` |mean g|, the size of
    the signed mean. Under ``"layer_mean"`` the numerator is taken over all entries and the
    denominator is the mean of the per-layer statistics. ``eps`` is added to the denominator, as
    some libraries do: lambda_hat = numerator / (denominator + eps).
    """
    choose("pooling", pooling, POOLINGS)
    choose("statistic", numerator, STATISTICS)
    choose("statistic", denominator, STATISTICS)
    if len(residual_grads) != len(term_grads) or not residual_grads:
        raise ValueError("need one residual and one term gradient for each parameter tensor")
    if pooling == "all":
        estimate = _pooled(residual_grads, numerator) / (_pooled(term_grads, denominator) + eps)
    elif pooling == "layer_mean":
        i_stat = torch.stack([_statistic(g, denominator) for g in term_grads])
        estimate = _pooled(residual_grads, numerator) / (i_stat.mean() + eps)
    else:
        r_stat = torch.stack([_statistic(g, numerator) for g in residual_grads])
        i_stat = torch.stack([_statistic(g, denominator) for g in term_grads])
        estimate = (r_stat / (i_stat + eps)).max()
    return float(estimate)


@dataclass(frozen=True)
class AnnealingForm:
    """One form of Algorithm 1: what a source computes, in the paper's notation.

    With g_r = grad_theta L_r and g_i = grad_theta L_i over the parameters ``parameters`` names
    (``"all"`` of them, or the ``"weight_matrices"`` W_1..W_L only), every ``update_every`` steps:

        lambda_hat_i = N(g_r) / (D(lambda_i^w g_i) + eps),    lambda_i <- (1 - alpha) lambda_i + alpha lambda_hat_i

    N is the ``numerator`` statistic and D the ``denominator`` one (``annealing_estimate``), the
    layers combined by ``pooling``; w = 1 when ``weighted`` (the denominator reads the gradient of
    the weighted term lambda_i L_i, as the original code does) and w = 0 otherwise. ``alpha`` is
    always the weight of the new estimate, whatever the source calls it.

    With r = N(g_r) / (D(g_i) + eps), the update's fixed point is lambda* = r for an unweighted
    form and lambda* = sqrt(r) for a weighted one (lambda = r / lambda); ``fixed_point`` gives it.
    ``__doc__`` of each form in ``ANNEALING_FORMS`` cites its source and states its formula.
    """

    name: str
    parameters: Literal["all", "weight_matrices"]
    weighted: bool
    numerator: Statistic
    denominator: Statistic
    pooling: Pooling
    alpha: float
    update_every: int
    eps: float = 0.0
    summary: str = ""
    doc: str = field(default="", repr=False, compare=False)

    def __post_init__(self) -> None:
        choose("statistic", self.numerator, STATISTICS)
        choose("statistic", self.denominator, STATISTICS)
        choose("pooling", self.pooling, POOLINGS)
        # The form's own docstring, so that help on ANNEALING_FORMS["jinns"] reads its source.
        object.__setattr__(self, "__doc__", inspect.cleandoc(self.doc))

    def ratio(self, residual_grads: Grads, term_grads: Grads, pooling: Pooling | None = None) -> float:
        """r = N(g_r) / (D(g_i) + eps): the estimate from the unweighted term's gradients."""
        return annealing_estimate(residual_grads, term_grads, pooling or self.pooling, self.numerator,
                                  self.denominator, self.eps)

    def fixed_point(self, ratio: float) -> float:
        """The weight at which the update stands still on constant gradients: r, or sqrt(r) if weighted."""
        return math.sqrt(ratio) if self.weighted else ratio


ANNEALING_FORMS: dict[str, AnnealingForm] = {form.name: form for form in (
    AnnealingForm(
        "code", "weight_matrices", weighted=True, numerator="max", denominator="mean", pooling="layer_mean",
        alpha=0.1, update_every=10, summary="the original TensorFlow code (default)", doc="""
        Algorithm 1 as the authors' TensorFlow code runs it.

        Source: PredictiveIntelligenceLab/GradientPathologiesPINNs, commit 93e752b,
        ``Helmholtz/Helmholtz2D_model_tf.py``: l. 103 (the boundary loss carries lambda), l. 131-148
        (gradients w.r.t. ``self.weights[i]``, max over layers of max|g_r|, mean over layers of
        mean|g_b|), l. 335 and 346-347 (every 10 steps, ``beta = 0.9`` on the old value, l. 43).
        Klein-Gordon pools the same way; the cavity takes the largest per-layer ratio
        (``pooling="layer_ratio_max"``, set by the problem).

            lambda_hat = max_l max|grad_{W_l} L_r| / ((1/L) sum_l mean|grad_{W_l}(lambda L_b)|) = r / lambda
            lambda    <- 0.9 lambda + 0.1 lambda_hat

        Weight matrices only (no biases, no encoders of the gated net). Fixed point: lambda* = sqrt(r).
        """),
    AnnealingForm(
        "paper", "all", weighted=False, numerator="max", denominator="mean", pooling="all",
        alpha=0.9, update_every=10, summary="as printed, Eqs. 40-42", doc="""
        Algorithm 1 as printed.

        Source: Wang, Teng & Perdikaris, arXiv:2001.04536v1, Algorithm 1, Eqs. 40-42, with the
        recommended alpha = 0.9 on the new estimate and an update every 10 iterations (section 3).

            lambda_hat_i = max_theta |grad L_r| / mean_theta |grad L_i|      (all parameters pooled)
            lambda_i    <- 0.1 lambda_i + 0.9 lambda_hat_i

        Fixed point: lambda* = r, the ratio itself.
        """),
    AnnealingForm(
        "physicsnemo", "all", weighted=False, numerator="mean", denominator="mean", pooling="all",
        alpha=0.01, update_every=1, eps=1e-8, summary="NVIDIA PhysicsNeMo-Sym's LRAnnealing aggregator", doc="""
        Algorithm 1 as NVIDIA PhysicsNeMo-Sym (formerly Modulus-Sym) runs it, loss aggregator ``LRAnnealing``.

        Source: NVIDIA/physicsnemo-sym, commit 9dac911, ``physicsnemo/sym/loss/aggregator.py``:
        l. 317-334 (defaults ``update_freq=1``, ``alpha=0.01``, ``eps=1e-8``; the same in
        ``physicsnemo/sym/hydra/loss.py`` l. 57-63), l. 369-388 (the update). The parameters are all
        those of the optimised model (``trainer.py`` l. 513-517); every gradient is flattened and
        concatenated before its mean (l. 373-379). The losses carry only the user's fixed weights.

            lambda_hat_i = mean_theta |grad L_r| / (mean_theta |grad L_i| + 1e-8)
            lambda_i    <- 0.99 lambda_i + 0.01 lambda_hat_i              (every step)

        The numerator is a mean, not a max: the weight balances the mean gradient magnitudes.
        The reference term (``ref_key``, here the residual) gets a weight of its own there, which
        moves towards mean/(mean + eps), i.e. stays at 1 to within eps; here it is 1.
        Fixed point: lambda* = r_mean = mean|g_r| / (mean|g_i| + eps).
        """),
    AnnealingForm(
        "pinnacle", "all", weighted=True, numerator="max", denominator="mean", pooling="all",
        alpha=0.1, update_every=1, summary="PINNacle's LR_Adaptor", doc="""
        Algorithm 1 as the PINNacle benchmark runs it (``--method lra``).

        Source: i207M/PINNacle, commit 6f8d69c, ``src/optimizer/lr_adaptor.py``, ``LR_Adaptor``:
        l. 9 (``alpha=0.1``), l. 35-41 (max over all parameters of |grad| of the summed PDE
        losses), l. 44-55 (sum of |grad L_i| over all parameters / their count), l. 56-57 (the
        estimate divides by the current weight too, then the moving average), every optimiser step;
        wired in ``benchmark.py`` l. 110-111.

            lambda_hat_i = max_theta |grad L_r| / (lambda_i mean_theta |grad L_i|) = r / lambda_i
            lambda_i    <- 0.9 lambda_i + 0.1 lambda_hat_i                 (every step)

        The original code's weighted denominator, over all parameters pooled (biases included).
        Fixed point: lambda* = sqrt(r).
        """),
    AnnealingForm(
        "jinns", "all", weighted=False, numerator="max", denominator="abs_mean", pooling="layer_mean",
        alpha=0.9, update_every=1, eps=1e-6, summary="jinns' lr_annealing loss-weight update", doc="""
        Algorithm 1 as jinns (JAX) runs it, ``update_weight_method="lr_annealing"``.

        Source: mia-jinns/jinns, commit d429b9c, ``jinns/loss/_loss_weight_updates.py``,
        ``lr_annealing`` l. 177-231: l. 180-181 (``decay_factor=0.9`` on the new estimate,
        ``eps=1e-6``), l. 208-215 (max of |grad L_r| over all leaves), l. 217-221 (per leaf the
        absolute value of the *signed* mean of grad L_i, then the mean over leaves), l. 223-230.
        The formula is unchanged since commit 3fe42e1 (v1.5.0). It is called every step, before the
        gradient step, with the gradients of the unweighted terms (``jinns/solver/_utils.py``
        l. 200-214, ``jinns/loss/_abstract_loss.py`` l. 369-401).

            lambda_hat_i = max_theta |grad L_r| / ((1/n) sum_leaves |mean(grad_leaf L_i)| + 1e-6)
            lambda_i    <- 0.1 lambda_i + 0.9 lambda_hat_i                 (every step)

        A leaf is one array of jinns' parameter tree: each weight matrix and each bias vector (and
        any equation parameter, which this library has none of). |mean g| <= mean|g|: signed
        entries cancel, so the denominator is smaller than Eq. 40's and can come near 0.
        Fixed point: lambda* = r_jinns, the ratio with this denominator.
        """),
    AnnealingForm(
        "config", "all", weighted=False, numerator="max", denominator="mean", pooling="all",
        alpha=0.001, update_every=1, summary="ConFIG's LRAWeighter (PINN experiments)", doc="""
        Algorithm 1 as the ConFIG repository's PINN experiments run it, ``LRAWeighter``.

        Source: tum-pbs/ConFIG, commit 9486243, ``experiments/PINN/lib_pinns/loss_weighter.py``
        l. 11-30 (l. 24 max|g| of the first loss, the PDE residual; l. 27 mean|g_i|; l. 29
        ``weights = beta * weights + (1 - beta) * weight_now``), with ``beta_LRA = 0.999``
        from ``experiments/PINN/lib_pinns/trainer_basis.py`` l. 232 and 236 (the class's own
        default, 0.9, is not what the trainer passes), every training step before ``optimizer.step``
        (l. 238-243). The gradients are of the unweighted losses, each flattened over all parameters
        (l. 90-105; ``conflictfree/utils.py`` l. 29-67).

            lambda_hat_i = max_theta |grad L_r| / mean_theta |grad L_i|
            lambda_i    <- 0.999 lambda_i + 0.001 lambda_hat_i             (every step)

        The printed formula with a much slower average. Fixed point: lambda* = r.
        """),
    AnnealingForm(
        "neuralpde", "all", weighted=False, numerator="max", denominator="mean", pooling="all",
        alpha=0.1, update_every=100, eps=1e-7, summary="NeuralPDE.jl's GradientScaleAdaptiveLoss", doc="""
        Algorithm 1 as NeuralPDE.jl runs it, ``GradientScaleAdaptiveLoss`` (first named
        ``LossGradientsAdaptiveLoss``).

        Source: SciML/NeuralPDE.jl, commit 1932a6d, ``src/adaptive_losses.jl``,
        ``generate_adaptive_loss_function(..., ::GradientScaleAdaptiveLoss, ...)``, about l. 121-144
        (line numbers counted in a stored copy): max over the PDE losses of max|grad| w.r.t. the
        flat parameter vector theta (all parameters), mean|grad L_bc_i| w.r.t. theta,
        ``weight_change_inertia = 0.9`` on the old value. The losses are unweighted.

            lambda_hat_i = max_theta |grad L_r| / (mean_theta |grad L_i| + 1e-7)
            lambda_i    <- 0.9 lambda_i + 0.1 lambda_hat_i                 (every 100 steps)

        ``reweight_every`` has no default there; 100 is what NeuralPDE's own tests pass
        (``test/adaptive_loss_tests.jl``). The eps meant for Float64 is 1e-11, but the test
        ``adaloss_T isa Float64`` asks whether a *type* is a Float64 value, which is never true,
        so 1e-7 is what runs. The printed formula with alpha = 0.1. Fixed point: lambda* = r.
        """),
)}


class LearningRateAnnealing(MovingAverageWeighting):
    """Learning-rate annealing, the paper's Algorithm 1, in any of the forms in which it exists.

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

    The other forms are those that libraries run (``ANNEALING_FORMS``; each form's ``__doc__``
    cites its source):

    ============  =========  ========  =================  ===========  =====  =====  ========
    form          params     weighted  statistic          pooling      alpha  every  lambda*
    ============  =========  ========  =================  ===========  =====  =====  ========
    paper         all        no        max / mean         all          0.9    10     r
    code          weights    yes       max / mean         layer mean   0.1    10     sqrt(r)
    physicsnemo   all        no        mean / mean        all          0.01   1      r_mean
    pinnacle      all        yes       max / mean         all          0.1    1      sqrt(r)
    jinns         all        no        max / |mean|       layer mean   0.9    1      r_jinns
    config        all        no        max / mean         all          0.001  1      r
    neuralpde     all        no        max / mean         all          0.1    100    r
    ============  =========  ========  =================  ===========  =====  =====  ========

    ``alpha`` and ``update_every`` override the form's.

    When lambda is updated differs too. By default it is updated just before the optimiser
    step, from the gradients that the step then uses, as Algorithm 1 is written: the step at
    n = 0, 10, 20, ... already uses the new lambda. ``after_step=True`` does what the original
    code does: the step uses the old lambda, and lambda is then updated from the gradients at
    the new parameters theta_{n+1} on the same batch (one extra backward pass every
    ``update_every`` steps). The libraries' forms all update before the step.
    """

    name = "annealing"
    label = "learning-rate annealing (Algorithm 1)"

    def __init__(self, terms: Iterable[str], form: str = "code", alpha: float | None = None,
                 update_every: int | None = None, pooling: Pooling | None = None, after_step: bool = False):
        self.form = choose("annealing form", form, ANNEALING_FORMS)
        self.spec = ANNEALING_FORMS[form]
        super().__init__(terms, alpha if alpha is not None else self.spec.alpha,
                         update_every if update_every is not None else self.spec.update_every)
        self.after_step = bool(after_step)
        self.pooling = choose("pooling", pooling, POOLINGS) if pooling else self.spec.pooling
        self.parameter_group = self.spec.parameters

    def estimate(self, context: StepContext) -> dict[str, float]:
        spec, grads = self.spec, context.term_gradients()
        estimates = {}
        for term in self.terms:
            term_grads = grads[term]
            if spec.weighted:  # the gradients of the weighted term lambda_i L_i, as the original code takes them
                term_grads = [self.weights[term] * g for g in term_grads]
            estimates[term] = annealing_estimate(grads["residual"], term_grads, self.pooling, spec.numerator,
                                                 spec.denominator, spec.eps)
        return estimates

    def __repr__(self) -> str:
        # after_step only when set, so that the repr (a checkpoint's run key) of the default is unchanged
        after = ", after_step=True" if self.after_step else ""
        return (f"LearningRateAnnealing(form={self.form!r}, alpha={self.alpha}, "
                f"update_every={self.update_every}, pooling={self.pooling!r}{after})")
