"""Loss weighting: fixed weights, learning-rate annealing (the paper's Algorithm 1), and later schemes.

The loss is  L(theta) = L_r(theta) + sum_i lambda_i L_i(theta)  (paper Eq. 39). A scheme owns the
lambda_i (``base.Weighting``); the adaptive ones move each weight towards a new estimate by the
moving average of Eq. 41 (``base.MovingAverageWeighting``), where ``alpha`` is always the weight of
the new estimate. Gradient surgery (``base.GradientSurgery``: PCGrad, ConFIG) weights nothing: it
builds the step's direction from the terms' gradients itself. A pointwise scheme (``pointwise``: SA-PINN, RBA)
weights each point of a fixed pool instead of each term.

Each scheme is one module here, declared by name in ``WEIGHTINGS`` by one line below; a later
scheme's module is imported when the scheme is first asked for.
"""
# ruff: noqa: F401, E402  (every import here is a name of the package)

from ..registry import exported
from .base import (
    WEIGHTINGS,
    GradientSurgery,
    Grads,
    MovingAverageWeighting,
    StepContext,
    Weighting,
    make_weighting,
    register_weighting,
    weighting_parameters,
)

WEIGHTINGS.declare("fixed", f"{__name__}.fixed:FixedWeights")
WEIGHTINGS.declare("annealing", f"{__name__}.annealing:LearningRateAnnealing")
WEIGHTINGS.declare("gradient_norm", f"{__name__}.gradient_norm:GradientNormWeighting")
WEIGHTINGS.declare("ntk", f"{__name__}.ntk:NTKWeighting")
WEIGHTINGS.declare("relobralo", f"{__name__}.relobralo:ReLoBRaLo")
WEIGHTINGS.declare("softadapt", f"{__name__}.softadapt:SoftAdapt")
WEIGHTINGS.declare("pcgrad", f"{__name__}.pcgrad:PCGrad")
WEIGHTINGS.declare("config", f"{__name__}.conflict_free:ConFIG")
WEIGHTINGS.declare("sa_pinn", f"{__name__}.sa_pinn:SelfAdaptive")
WEIGHTINGS.declare("rba", f"{__name__}.rba:ResidualBasedAttention")
WEIGHTINGS.declare("fixed_pool", f"{__name__}.pointwise:FixedPool")

# The paper's schemes, now. So is gradient-norm weighting, because its function ``gradient_norm`` is a name of this
# package: were the module imported later, the name would come to mean the module.
from .annealing import (
    ANNEALING_FORMS,
    POOLINGS,
    STATISTICS,
    AnnealingForm,
    LearningRateAnnealing,
    Pooling,
    annealing_estimate,
)
from .fixed import FixedWeights
from .gradient_norm import GradientNormWeighting, gradient_norm


def __getattr__(name: str) -> type:
    return exported(WEIGHTINGS, __name__, name)
