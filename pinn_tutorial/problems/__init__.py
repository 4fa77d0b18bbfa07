"""The benchmark PDEs, each behind the same ``Problem`` interface.

Every problem is declared below by its name and its class, in the order of ``PROBLEMS``: the paper's
problems, then later work. A module is imported when one of its problems is first asked for
(``get_problem``, ``PROBLEMS[name]``, or ``from pinn_tutorial.problems import Burgers``). A new problem is
one module and one line here.
"""
# ruff: noqa: F401  (every import here is a name of the package)

from __future__ import annotations

from ..registry import exported
from .base import PROBLEMS, Condition, Problem, TimeDependent, get_problem, problem_parameters, register_problem

PROBLEMS.declare("helmholtz", f"{__name__}.helmholtz:Helmholtz")
PROBLEMS.declare("klein_gordon", f"{__name__}.klein_gordon:KleinGordon")
PROBLEMS.declare("cavity_stream", f"{__name__}.cavity:CavityStreamFunction")
PROBLEMS.declare("cavity_velocity", f"{__name__}.cavity:CavityVelocityPressure")
PROBLEMS.declare("poisson1d", f"{__name__}.poisson1d:Poisson1D")
PROBLEMS.declare("klein_gordon_causal", f"{__name__}.causal:CausalKleinGordon")
PROBLEMS.declare("burgers", f"{__name__}.burgers:Burgers")


def __getattr__(name: str) -> type:
    return exported(PROBLEMS, __name__, name)
