"""The benchmark PDEs, each behind the same ``Problem`` interface.

Each problem module registers its classes (``@register_problem``) as it is imported; the order of the
imports below is the order of ``PROBLEMS``: the paper's problems, then later work. A new problem is one
module and one import line here.
"""
# ruff: noqa: F401  (every import here is a name of the package, or the registration of a problem)

from __future__ import annotations

from .base import PROBLEMS, Condition, Problem, TimeDependent, get_problem, problem_parameters, register_problem

# isort: off
from .helmholtz import Helmholtz
from .klein_gordon import KleinGordon
from .cavity import CavityStreamFunction, CavityVelocityPressure
from .poisson1d import Poisson1D
from .causal import CausalKleinGordon, CausalTraining
from .burgers import Burgers
# isort: on
