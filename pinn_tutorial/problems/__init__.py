"""The benchmark PDEs, each behind the same ``Problem`` interface."""

from __future__ import annotations

from ..config import choose
from .base import Problem
from .causal import CausalKleinGordon, CausalTraining
from .cavity import CavityStreamFunction, CavityVelocityPressure
from .helmholtz import Helmholtz
from .klein_gordon import KleinGordon
from .poisson1d import Poisson1D

PROBLEMS: dict[str, type[Problem]] = {
    "helmholtz": Helmholtz,
    "klein_gordon": KleinGordon,
    "cavity_stream": CavityStreamFunction,
    "cavity_velocity": CavityVelocityPressure,
    "poisson1d": Poisson1D,
    "klein_gordon_causal": CausalKleinGordon,  # causal training (later work) on Klein-Gordon
}


def get_problem(name: str, **params: float) -> Problem:
    """The problem called ``name`` (see ``PROBLEMS``), built with its parameters."""
    return PROBLEMS[choose("problem", name, PROBLEMS)](**params)


__all__ = [
    "PROBLEMS", "CausalKleinGordon", "CausalTraining", "CavityStreamFunction", "CavityVelocityPressure",
    "Helmholtz", "KleinGordon", "Poisson1D", "Problem", "get_problem",
]
