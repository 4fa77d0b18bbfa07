"""Reference solutions to check the PINNs against.

``cavity`` solves the steady lid-driven cavity (unit square, lid velocity 1, Re = 100 by default)
in stream-function-vorticity form with second-order finite differences and Newton's method;
``load_or_solve`` caches the result as a ``.npz`` file, and ``ghia_centrelines`` /
``compare_with_ghia`` validate it against the centreline velocities of Ghia, Ghia & Shin (1982).
"""

from .cavity import (
    CavityConvergenceError,
    CavitySolution,
    GhiaCentrelines,
    compare_with_ghia,
    ghia_centrelines,
    load_or_solve,
    solve_cavity,
)

__all__ = [
    "CavityConvergenceError", "CavitySolution", "GhiaCentrelines", "compare_with_ghia", "ghia_centrelines",
    "load_or_solve", "solve_cavity",
]
