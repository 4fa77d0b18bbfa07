r"""A finite-difference reference solution of the steady lid-driven cavity.

The flow fills the unit square :math:`(0,1)^2`. The lid :math:`y = 1` slides to the right with
velocity :math:`u = 1`; the other three walls are at rest (no slip). In stream-function-vorticity
form, with

.. math::

    u = \psi_y, \qquad v = -\psi_x, \qquad \omega = v_x - u_y,

the steady incompressible Navier-Stokes equations become

.. math::

    -\Delta\psi = \omega, \qquad
    u\,\omega_x + v\,\omega_y = \frac{1}{Re}\,\Delta\omega .

Continuity :math:`u_x + v_y = 0` holds by construction. Every wall is the streamline
:math:`\psi = 0`; the no-slip condition :math:`\partial_n\psi = u_{\mathrm{tangential}}` fixes the
wall vorticity through Thom's formula (below).

Discretisation
    A uniform grid of :math:`N \times N` cells, nodes :math:`x_i = ih`, :math:`y_j = jh`, :math:`h = 1/N`.
    Second-order central differences for every derivative: the five-point Laplacian and
    :math:`\partial_x f \approx (f_{i+1,j} - f_{i-1,j})/2h`. At a wall node, a Taylor expansion of
    :math:`\psi` towards the first interior node (where :math:`\psi_{ww} = -\omega`) gives Thom's formula,
    e.g. on the lid

    .. math::

        \omega_{i,N} = -\frac{2\,\psi_{i,N-1}}{h^2} - \frac{2U}{h},

    and :math:`\omega_w = -2\psi_{\mathrm{adj}}/h^2` on the resting walls. The corner vorticity is used by
    no interior stencil (at the lid corners it is singular); it is set to the mean of its two wall
    neighbours only so that plots look sensible.

Solver
    The discrete equations :math:`F(\psi, \omega) = 0` are solved directly for the steady state by
    Newton's method: each iteration factorises the sparse Jacobian (``scipy.sparse.linalg.splu``)
    and solves for the update. The only nonlinearity is the bilinear convection term, so the
    Jacobian is exact and cheap to assemble, and the first iterate from rest is the Stokes flow.
    At :math:`Re = 100` the residual falls to rounding in a handful of iterations, far faster than
    pseudo-time stepping. Started from rest, Newton's method converges only for moderate :math:`Re`
    (a few hundred), ample for the tutorial's :math:`Re = 100`. Convergence means the max-norm of the
    discrete residual (both equations, all nodes, unscaled) is below ``tol``; otherwise
    ``solve_cavity`` raises ``CavityConvergenceError``.

Validation data: Ghia, Ghia & Shin (1982), "High-Re solutions for incompressible flow using the
Navier-Stokes equations and a multigrid method", J. Comput. Phys. 48, 387-411, Tables I and II
(:math:`Re = 100`, centreline velocities, computed on a 129 x 129 grid).
"""

from __future__ import annotations

import os
import warnings
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.interpolate import RegularGridInterpolator
from scipy.sparse.linalg import splu

from .. import checkpoints

LID_VELOCITY = 1.0
DEFAULT_TOL = 1e-8
DEFAULT_MAX_ITER = 30
CACHE_ENV_VAR = "PINN_TUTORIAL_CACHE"


class CavityConvergenceError(RuntimeError):
    """Newton's method did not bring the residual below the tolerance."""


@dataclass(eq=False)  # fields are arrays: compare them with np.allclose, not ==
class CavitySolution:
    """The steady cavity flow on the grid nodes; 2-D arrays are indexed ``[i_x, j_y]``.

    ``u = psi_y`` and ``v = -psi_x`` by central differences at interior nodes; on the walls they hold
    the boundary values (``u = 1`` on the whole lid row, corners included, zero elsewhere).
    """

    x: np.ndarray
    y: np.ndarray
    psi: np.ndarray
    omega: np.ndarray
    u: np.ndarray
    v: np.ndarray
    re: float
    n: int
    iterations: int
    residual: float

    def interpolate(self, points: np.ndarray) -> np.ndarray:
        """Velocity at arbitrary points of the closed square by bilinear interpolation.

        ``points`` has shape ``(M, 2)`` with columns ``x, y``; the result has shape ``(M, 2)`` with
        columns ``u, v``. Points outside ``[0, 1]^2`` raise ``ValueError``.
        """
        points = np.asarray(points, dtype=float)
        if points.ndim != 2 or points.shape[1] != 2:
            raise ValueError(f"points must have shape (M, 2), got {points.shape}")
        velocity = np.stack([self.u, self.v], axis=-1)
        return RegularGridInterpolator((self.x, self.y), velocity)(points)

    def on_grid(self, n: int = 100) -> tuple[np.ndarray, np.ndarray]:
        """``(u, v)`` on the ``linspace(0, 1, n) x linspace(0, 1, n)`` grid, indexed ``[i_x, j_y]``.

        This is the evaluation grid of Wang, Teng & Perdikaris (2021) for the cavity errors.
        """
        line = np.linspace(0.0, 1.0, n)
        xx, yy = np.meshgrid(line, line, indexing="ij")
        velocity = self.interpolate(np.column_stack([xx.ravel(), yy.ravel()]))
        return velocity[:, 0].reshape(n, n), velocity[:, 1].reshape(n, n)


def _check_inputs(re: float, n: int) -> None:
    if not (np.isfinite(re) and re > 0):
        raise ValueError(f"Reynolds number re must be positive and finite, got {re!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 8:
        raise ValueError(f"n (cells per side) must be an integer >= 8, got {n!r}")


class _CavityEquations:
    r"""The discrete equations :math:`F(z) = A z + C(z) + b = 0` for :math:`z = (\psi, \omega)`.

    ``A`` holds every linear term (Laplacians, Thom's formula, boundary rows), ``C`` the convection
    term :math:`\psi_y\omega_x - \psi_x\omega_y` at interior nodes and ``b`` the lid velocity in
    Thom's formula. Nodes are flattened in C order, node ``(i, j)`` at ``i * (N + 1) + j``.
    """

    def __init__(self, re: float, n: int):
        self.shape = (n + 1, n + 1)
        h = 1.0 / n
        nodes = (n + 1) ** 2

        first = sp.diags([-1.0, 1.0], [-1, 1], shape=self.shape) / (2 * h)
        second = sp.diags([1.0, -2.0, 1.0], [-1, 0, 1], shape=self.shape) / h**2
        eye = sp.identity(n + 1)
        self.dx = sp.kron(first, eye, format="csr")
        self.dy = sp.kron(eye, first, format="csr")
        laplacian = sp.kron(second, eye) + sp.kron(eye, second)

        interior = np.zeros(self.shape, dtype=bool)
        interior[1:-1, 1:-1] = True
        self.interior = sp.diags(interior.ravel().astype(float))
        boundary = sp.diags((~interior).ravel().astype(float))

        thom, wall_rows, lid_term = self._wall_vorticity(n, h)
        self.a = sp.bmat(
            [
                [self.interior @ laplacian + boundary, self.interior],
                [thom, wall_rows - self.interior @ laplacian / re],
            ],
            format="csr",
        )
        self.b = np.concatenate([np.zeros(nodes), lid_term])

    @staticmethod
    def _wall_vorticity(n: int, h: float) -> tuple[sp.csr_matrix, sp.csr_matrix, np.ndarray]:
        """Rows ``omega_w + 2 psi_adj / h^2 + 2 U_w / h = 0`` of Thom's formula, one per wall node.

        Returns the ``psi`` coefficients, the ``omega`` coefficients (including the corner rows
        ``omega_c - (omega_a + omega_b) / 2 = 0``) and the constant lid term.
        """
        index = np.arange((n + 1) ** 2).reshape(n + 1, n + 1)
        along = np.arange(1, n)  # wall nodes without the corners
        walls = [  # (wall nodes, their interior neighbours, tangential wall velocity)
            (index[along, 0], index[along, 1], 0.0),  # bottom
            (index[along, n], index[along, n - 1], LID_VELOCITY),  # lid, u = psi_y = U
            (index[0, along], index[1, along], 0.0),  # left
            (index[n, along], index[n - 1, along], 0.0),  # right
        ]
        shape = ((n + 1) ** 2, (n + 1) ** 2)
        psi_coef = sp.lil_matrix(shape)
        omega_coef = sp.lil_matrix(shape)
        lid_term = np.zeros((n + 1) ** 2)
        for wall, adjacent, velocity in walls:
            psi_coef[wall, adjacent] = 2.0 / h**2
            omega_coef[wall, wall] = 1.0
            lid_term[wall] = 2.0 * velocity / h
        for (ic, jc), (ia, ja), (ib, jb) in [
            ((0, 0), (1, 0), (0, 1)),
            ((n, 0), (n - 1, 0), (n, 1)),
            ((0, n), (1, n), (0, n - 1)),
            ((n, n), (n - 1, n), (n, n - 1)),
        ]:
            omega_coef[index[ic, jc], index[ic, jc]] = 1.0
            omega_coef[index[ic, jc], index[ia, ja]] = -0.5
            omega_coef[index[ic, jc], index[ib, jb]] = -0.5
        return psi_coef.tocsr(), omega_coef.tocsr(), lid_term

    def split(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return z[: z.size // 2], z[z.size // 2 :]

    def residual(self, z: np.ndarray) -> np.ndarray:
        psi, omega = self.split(z)
        convection = self.interior @ ((self.dy @ psi) * (self.dx @ omega) - (self.dx @ psi) * (self.dy @ omega))
        return self.a @ z + np.concatenate([np.zeros_like(psi), convection]) + self.b

    def jacobian(self, z: np.ndarray) -> sp.csc_matrix:
        psi, omega = self.split(z)
        # C is bilinear: dC/dpsi = diag(omega_x) D_y - diag(omega_y) D_x, and likewise for omega.
        d_psi = sp.diags(self.dx @ omega) @ self.dy - sp.diags(self.dy @ omega) @ self.dx
        d_omega = sp.diags(self.dy @ psi) @ self.dx - sp.diags(self.dx @ psi) @ self.dy
        no_convection = sp.csr_matrix((psi.size, psi.size))  # the psi equation is linear
        convection = sp.bmat([[no_convection, None], [self.interior @ d_psi, self.interior @ d_omega]])
        return (self.a + convection).tocsc()


def _velocity_from_stream_function(psi: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray]:
    """``u = psi_y``, ``v = -psi_x`` by central differences inside, the no-slip values on the walls."""
    u = np.zeros_like(psi)
    v = np.zeros_like(psi)
    u[1:-1, 1:-1] = (psi[1:-1, 2:] - psi[1:-1, :-2]) / (2 * h)
    v[1:-1, 1:-1] = -(psi[2:, 1:-1] - psi[:-2, 1:-1]) / (2 * h)
    u[:, -1] = LID_VELOCITY
    return u, v


def solve_cavity(
    re: float = 100.0, n: int = 128, tol: float = DEFAULT_TOL, max_iter: int = DEFAULT_MAX_ITER
) -> CavitySolution:
    r"""Solve the steady lid-driven cavity on an ``n x n``-cell grid by Newton's method.

    Solves :math:`-\Delta\psi = \omega` and :math:`\psi_y\omega_x - \psi_x\omega_y = \Delta\omega / Re`
    with :math:`\psi = 0` and Thom's wall vorticity on the walls (see the module docstring), starting
    from rest. Stops when the max-norm of the discrete residual is below ``tol``; raises
    ``CavityConvergenceError`` if that takes more than ``max_iter`` Newton iterations and
    ``ValueError`` for ``re <= 0`` or ``n < 8``.
    """
    _check_inputs(re, n)
    if tol <= 0 or max_iter < 1:
        raise ValueError(f"need tol > 0 and max_iter >= 1, got tol={tol!r}, max_iter={max_iter!r}")

    equations = _CavityEquations(float(re), int(n))
    z = np.zeros(2 * (n + 1) ** 2)
    residual = equations.residual(z)
    for iteration in range(1, max_iter + 1):
        z -= splu(equations.jacobian(z)).solve(residual)
        residual = equations.residual(z)
        residual_norm = float(np.max(np.abs(residual)))
        if not np.isfinite(residual_norm):
            break
        if residual_norm < tol:
            psi, omega = (field.reshape(equations.shape) for field in equations.split(z))
            u, v = _velocity_from_stream_function(psi, 1.0 / n)
            nodes = np.linspace(0.0, 1.0, n + 1)
            return CavitySolution(nodes, nodes.copy(), psi, omega, u, v, float(re), int(n), iteration, residual_norm)
    raise CavityConvergenceError(
        f"Newton's method for the cavity at Re={re}, N={n} did not reach residual {tol:g} in {max_iter} "
        f"iterations (last residual {residual_norm:.3g}). Started from rest, Newton's method converges for Re up "
        "to a few hundred; beyond that it diverges and needs a better initial guess"
    )


def _cache_path(re: float, n: int, cache_dir: str | os.PathLike | None) -> Path:
    if cache_dir is None:
        cache_dir = os.environ.get(CACHE_ENV_VAR) or Path.home() / ".cache" / "pinn_tutorial"
    return Path(cache_dir) / f"cavity_re{re:g}_n{n}.npz"


# How far a solved Re = 100 cavity may sit from Ghia et al.'s centreline velocities: a few thousandths on the 128 x
# 128 grid, five hundredths on a 16 x 16 one; a zeroed or stale solution is off by tenths (the lid's flow near the
# top reaches u = 0.84). More than this, and a cached solution is not the solution.
GHIA_TOLERANCE = 0.1
GHIA_MIN_CELLS = 16  # on coarser grids a solved cavity itself may be that far off


def _read_cache(path: Path, re: float, n: int) -> CavitySolution | None:
    """The cached solution, or ``None`` if the file is missing, unreadable or for other parameters."""
    try:
        with np.load(path, allow_pickle=False) as data:
            solution = CavitySolution(
                x=data["x"], y=data["y"], psi=data["psi"], omega=data["omega"], u=data["u"], v=data["v"],
                re=float(data["re"]), n=int(data["n"]), iterations=int(data["iterations"]),
                residual=float(data["residual"]),
            )
    except (OSError, ValueError, TypeError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    grids = (solution.psi, solution.omega, solution.u, solution.v)
    if (solution.re != re or solution.n != n or any(a.shape != (n + 1, n + 1) for a in grids)
            or solution.x.shape != (n + 1,) or solution.y.shape != (n + 1,)):
        return None
    # Right metadata is not a right solution (a stale, zeroed or tampered file): it must be finite and, at Re = 100,
    # agree with Ghia et al. as a solved one does (a few milliseconds).
    if not all(np.isfinite(a).all() for a in (solution.x, solution.y, *grids)):
        warnings.warn(f"the cached cavity solution {path} holds values that are not finite; solving it again",
                      stacklevel=3)
        return None
    if re == 100.0 and n >= GHIA_MIN_CELLS and max(compare_with_ghia(solution).values()) > GHIA_TOLERANCE:
        warnings.warn(f"the cached cavity solution {path} does not agree with Ghia et al. (1982); solving it again",
                      stacklevel=3)
        return None
    return solution


def _write_cache(path: Path, solution: CavitySolution) -> None:
    # Through a temporary file of its own, then renamed: an interrupted or failed write (a full disk) never leaves
    # a half-written cache file, nor a temporary one.
    checkpoints.atomic_write(path, lambda handle: np.savez(
        handle, x=solution.x, y=solution.y, psi=solution.psi, omega=solution.omega, u=solution.u, v=solution.v,
        re=solution.re, n=solution.n, iterations=solution.iterations, residual=solution.residual))


def load_or_solve(re: float = 100.0, n: int = 128, cache_dir: str | os.PathLike | None = None) -> CavitySolution:
    """The cavity solution from the ``.npz`` cache, solving and caching it on a miss.

    The cache directory is ``cache_dir``, else ``$PINN_TUTORIAL_CACHE``, else ``~/.cache/pinn_tutorial``;
    the file is ``cavity_re{re}_n{n}.npz``. A corrupt or mismatched file is re-solved and overwritten.
    """
    _check_inputs(re, n)
    path = _cache_path(float(re), int(n), cache_dir)
    solution = _read_cache(path, float(re), int(n))
    if solution is None:
        solution = solve_cavity(re, n)
        try:
            _write_cache(path, solution)
        except OSError as error:  # the solution is good; only the next run pays for the missing cache
            warnings.warn(f"could not cache the cavity solution in {path} ({error}); it will be solved again next "
                          "time", stacklevel=2)
    return solution


class GhiaCentrelines(NamedTuple):
    """Ghia, Ghia & Shin (1982) at Re = 100: ``u(0.5, y)`` at heights ``y``, ``v(x, 0.5)`` at abscissae ``x``."""

    y: np.ndarray
    u: np.ndarray
    x: np.ndarray
    v: np.ndarray


def ghia_centrelines(path: str | os.PathLike | None = None) -> GhiaCentrelines:
    """Load the Re = 100 centreline velocities of Ghia, Ghia & Shin (1982), 17 points each.

    ``path`` is a directory holding ``ghia1982_re100_u.csv`` (columns ``y, u`` on ``x = 0.5``) and
    ``ghia1982_re100_v.csv`` (columns ``x, v`` on ``y = 0.5``); by default the copies shipped with
    this package. Each file starts with a comment line citing the source and a header line.
    """
    folder = resources.files(__package__) / "data" if path is None else Path(path)
    with (folder / "ghia1982_re100_u.csv").open() as file:
        y, u = np.loadtxt(file, delimiter=",", skiprows=2, unpack=True)
    with (folder / "ghia1982_re100_v.csv").open() as file:
        x, v = np.loadtxt(file, delimiter=",", skiprows=2, unpack=True)
    return GhiaCentrelines(y=y, u=u, x=x, v=v)


def compare_with_ghia(solution: CavitySolution) -> dict[str, float]:
    """Max absolute differences from Ghia et al. at Re = 100 along the two centrelines.

    Returns ``{"max_abs_du": max |u(0.5, y_k) - u_k|, "max_abs_dv": max |v(x_k, 0.5) - v_k|}`` over
    Ghia's 17 + 17 points, interpolating the solution bilinearly.
    """
    ghia = ghia_centrelines()
    u = solution.interpolate(np.column_stack([np.full_like(ghia.y, 0.5), ghia.y]))[:, 0]
    v = solution.interpolate(np.column_stack([ghia.x, np.full_like(ghia.x, 0.5)]))[:, 1]
    return {"max_abs_du": float(np.max(np.abs(u - ghia.u))), "max_abs_dv": float(np.max(np.abs(v - ghia.v)))}
