r"""Chapter 11's exercise: the vorticity of the finite-difference reference, from its stream function.

The learner writes ``vorticity(psi, h)``: given the stream function on the nodes of a uniform grid of the unit
square (``psi[i, j]`` at x = i h, y = j h, ``h = 1 / n``, the lid at j = n moving at u = 1), it returns omega on
the same nodes:

- inside, omega = -Laplacian(psi) with the five-point stencil,
  omega_ij = -(psi_{i+1,j} + psi_{i-1,j} + psi_{i,j+1} + psi_{i,j-1} - 4 psi_ij) / h^2;
- on the walls, Thom's formula omega_w = -2 psi_adj / h^2 - 2 U_w / h, with psi_adj the first node inside along
  the normal and U_w the wall's tangential velocity (1 on the lid, 0 on the other three walls).

The corners are not checked (no stencil uses them). The check compares the interior with the exact -Laplacian of a
polynomial of degree three in each variable (for which the stencil is exact), then every part of the grid with the
vorticity of ``pinn_tutorial.reference.solve_cavity``, whose equations hold both formulas to its Newton tolerance.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ..reference import solve_cavity
from . import CaseFailed, CheckResult, expect_close, run_cases

NAME = "ch11-cavity-vorticity"

# Each part of the grid without the corners: (name, index into [i_x, j_y], what to look at if it is wrong).
PARTS = [
    ("the interior", (slice(1, -1), slice(1, -1)),
     "Inside, omega = -Laplacian(psi): the five-point stencil divided by h^2, with a minus sign in front."),
    ("the floor (y = 0)", (slice(1, -1), 0),
     "The floor is at rest: Thom's formula with U = 0, and psi_adj is the node just above, psi[:, 1]."),
    ("the left wall (x = 0)", (0, slice(1, -1)),
     "The left wall is at rest: Thom's formula with U = 0, and psi_adj is psi[1, :]."),
    ("the right wall (x = 1)", (-1, slice(1, -1)),
     "The right wall is at rest: Thom's formula with U = 0, and psi_adj is psi[-2, :]."),
    ("the lid (y = 1)", (slice(1, -1), -1),
     "The lid moves at U = 1: Thom's formula has the term -2U/h besides -2 psi_adj/h^2 (mind its sign), "
     "and psi_adj is psi[:, -2]."),
]


def _as_array(got: object, shape: tuple[int, ...]) -> torch.Tensor:
    if isinstance(got, torch.Tensor):
        got = got.detach().cpu().numpy()
    try:
        array = np.asarray(got, dtype=float)
    except (TypeError, ValueError) as error:
        raise CaseFailed(f"return an array of omega on the grid, got {type(got).__name__}") from error
    if array.shape != shape:
        raise CaseFailed(f"omega has shape {array.shape}; return one value per node, shape {shape} like psi")
    return torch.from_numpy(array)


def check(vorticity: Callable) -> CheckResult:
    """Pass when ``vorticity(psi, h)`` gives -Laplacian(psi) inside and Thom's formula on the walls (see the module)."""

    def on_polynomial() -> None:
        n = 8
        nodes = np.linspace(0.0, 1.0, n + 1)
        x, y = np.meshgrid(nodes, nodes, indexing="ij")
        psi = x**3 * y**2 - 2 * x * y**3 + x**2  # cubic in each variable: the stencil is exact
        minus_laplacian = -(6 * x * y**2 + 2 + 2 * x**3 - 12 * x * y)
        got = _as_array(vorticity(psi.copy(), 1.0 / n), psi.shape)
        name, where, hint = PARTS[0]
        expect_close(f"omega in {name} of psi = x^3 y^2 - 2xy^3 + x^2", got[where],
                     torch.from_numpy(minus_laplacian[where]), hint + " (psi[i, j] is at x = i h, y = j h.)",
                     rtol=1e-8, atol=1e-8)

    def on_reference(re: float, n: int) -> Callable[[], None]:
        def case() -> None:
            solution = solve_cavity(re=re, n=n)
            got = _as_array(vorticity(solution.psi.copy(), 1.0 / n), solution.psi.shape)
            expected = torch.from_numpy(solution.omega)
            for name, where, hint in PARTS:
                expect_close(f"omega on {name} of the reference (Re = {re:g}, n = {n})", got[where],
                             expected[where], hint, rtol=1e-6, atol=1e-6)
        return case

    return run_cases(NAME, [on_polynomial, on_reference(10.0, 8), on_reference(100.0, 16)],
                     "the interior and all four walls agree with the reference solver's vorticity.")
