"""Loss weighting: fixed weights, learning-rate annealing (the paper's Algorithm 1), and later schemes.

The loss is  L(theta) = L_r(theta) + sum_i lambda_i L_i(theta)  (paper Eq. 39). A scheme owns the
lambda_i (``base.Weighting``); the adaptive ones move each weight towards a new estimate by the
moving average of Eq. 41 (``base.MovingAverageWeighting``), where ``alpha`` is always the weight of
the new estimate. Gradient surgery (``base.GradientSurgery``: PCGrad, ConFIG) weights nothing: it
builds the step's direction from the terms' gradients itself. Each scheme is one module here, registered by
name in ``WEIGHTINGS``; the one line per scheme below is its registration.
"""
# ruff: noqa: F401  (every import here is a name of the package, or the registration of a scheme)

from .annealing import (
    ANNEALING_FORMS,
    POOLINGS,
    STATISTICS,
    AnnealingForm,
    LearningRateAnnealing,
    Pooling,
    annealing_estimate,
)
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
from .conflict_free import ConFIG
from .fixed import FixedWeights
from .gradient_norm import GradientNormWeighting, gradient_norm
from .pcgrad import PCGrad
from .relobralo import ReLoBRaLo, balanced_weights
from .softadapt import SoftAdapt, softadapt_weights
