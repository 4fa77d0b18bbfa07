"""The lid-driven cavity at Re = 100 in its two formulations (paper sections 3.3-3.5)."""

from __future__ import annotations

import torch

from ..autodiff import gradient, jet
from ..metrics import relative_spectral
from ..reference import load_or_solve
from ..sampling import BoxSampler, box_edges
from .base import Batch, Field, Problem, mse


class _Cavity(Problem):
    """Steady incompressible flow in the unit square, driven by the lid y = 1 moving at u = 1.

    Navier-Stokes (Eqs. 56-57):  u . grad u + grad p - (1/Re) Δu = 0,  div u = 0, with u = (1, 0)
    on the lid (corners included, as the original code samples it) and u = 0 on the other walls.
    The solution is judged by its velocity magnitude |u| on a 100 x 100 grid against the
    finite-difference reference (``pinn_tutorial.reference``, validated against Ghia et al.).
    """

    default_layers: list[int]
    # The original cavity code pools Algorithm 1 as the largest per-layer ratio.
    annealing_pooling = "layer_ratio_max"

    def __init__(self, re: float = 100.0):
        if not re > 0:
            raise ValueError(f"the Reynolds number must be positive, got {re}")
        self.re = re
        self.domain = BoxSampler([0.0, 0.0], [1.0, 1.0])
        self.walls = box_edges([0.0, 0.0], [1.0, 1.0])
        self._reference = None

    def wall_velocity(self, edge: str, x: torch.Tensor) -> torch.Tensor:
        """The prescribed (u, v) on a wall: (1, 0) on the lid, (0, 0) elsewhere; shape (N, 2)."""
        target = torch.zeros(len(x), 2, dtype=x.dtype, device=x.device)
        if edge == "top":
            target[:, 0] = 1.0
        return target

    def exact(self, x: torch.Tensor) -> torch.Tensor:
        """The reference |u| at points x, shape (N, 1), interpolated from the finite-difference solution."""
        if self._reference is None:
            self._reference = load_or_solve(self.re)
        uv = torch.as_tensor(self._reference.interpolate(x.detach().cpu().double().numpy()))
        return uv.norm(dim=1, keepdim=True).to(x.dtype)

    def velocity(self, net: Field, x: torch.Tensor) -> torch.Tensor:
        """The network's velocity (u, v) at x, shape (N, 2)."""
        raise NotImplementedError

    def predict(self, net: Field, x: torch.Tensor) -> torch.Tensor:
        """The velocity magnitude |u|, shape (N, 1) (gradients are enabled: u may be a derivative)."""
        with torch.enable_grad():
            return self.velocity(net, x.detach()).norm(dim=1, keepdim=True).detach()

    def metrics(self, prediction: torch.Tensor, exact: torch.Tensor, shape: list[int]) -> dict[str, float]:
        """The original code's figure too: the relative error in the spectral norm of the 100 x 100 arrays."""
        return {"rel_l2_spectral": relative_spectral(prediction.reshape(shape), exact.reshape(shape))}

    def sample(self, batch_size: int, generator: torch.Generator | None = None) -> Batch:
        batch = {"residual": self.domain.sample(batch_size, generator)}
        for edge, sampler in self.walls.items():
            batch[edge] = sampler.sample(batch_size, generator)
        return batch

    def wall_errors(self, net: Field, batch: Batch) -> torch.Tensor:
        """Velocity errors on the four walls, shape (4, N, 2), from one pass over all wall points."""
        x_b = torch.cat([batch[edge] for edge in self.walls])
        target = torch.cat([self.wall_velocity(edge, batch[edge]) for edge in self.walls])
        return (self.velocity(net, x_b) - target).reshape(len(self.walls), -1, 2)


class CavityStreamFunction(_Cavity):
    """The stream-function-pressure formulation (section 3.5): the net maps (x, y) to (psi, p).

    u = psi_y and v = -psi_x, so continuity u_x + v_y = psi_yx - psi_xy = 0 holds by construction
    and only the momentum residuals are trained:

        r_u = u u_x + v u_y + p_x - (u_xx + u_yy) / Re,   r_v = u v_x + v v_y + p_y - (v_xx + v_yy) / Re.

    Loss (original code): L_r = mean r_u^2 + mean r_v^2 and L_b = the sum over the four walls of
    the mean squared velocity error (u and v entries together). These need third derivatives of
    psi, mixed ones included. The first and pure second derivatives come from ``jet`` (forward
    propagation through the library's networks, nested autograd for any other callable); the
    third-order ones are one reverse-mode derivative of those: psi_xy from psi_y, and
    (psi_xxx, psi_xxy), (psi_xyy, psi_yyy) from psi_xx and psi_yy. Net: 3 hidden layers of 50
    (the code's; the paper says "5-layer").
    """

    name = "cavity_stream"
    terms = ("residual", "boundary")
    default_layers = [2, 50, 50, 50, 2]
    compilable = False  # nested autograd inside: torch.compile would only break the graph

    def velocity(self, net: Field, x: torch.Tensor) -> torch.Tensor:
        """(u, v) = (psi_y, -psi_x)."""
        d = jet(net, x)
        return torch.stack([d.d1[1][:, 0], -d.d1[0][:, 0]], dim=1)

    def residual(self, net: Field, x: torch.Tensor) -> torch.Tensor:
        """(r_u, r_v) of the momentum equations, shape (N, 2) (Eq. 56 with u = psi_y, v = -psi_x)."""
        x = x.detach().requires_grad_(True)
        d = jet(net, x)
        psi_x, psi_y = d.d1[:, :, 0]
        p_x, p_y = d.d1[:, :, 1]
        psi_xx, psi_yy = d.d2[0, :, 0], d.d2[1, :, 0]
        psi_xy = gradient(psi_y, x)[:, 0]
        psi_xxx, psi_xxy = gradient(psi_xx, x).unbind(1)
        psi_xyy, psi_yyy = gradient(psi_yy, x).unbind(1)
        u, v = psi_y, -psi_x
        u_x, u_y, v_x, v_y = psi_xy, psi_yy, -psi_xx, -psi_xy
        u_xx, u_yy, v_xx, v_yy = psi_xxy, psi_yyy, -psi_xxx, -psi_xyy
        r_u = u * u_x + v * u_y + p_x - (u_xx + u_yy) / self.re
        r_v = u * v_x + v * v_y + p_y - (v_xx + v_yy) / self.re
        return torch.stack([r_u, r_v], dim=1)

    def losses(self, net: Field, batch: Batch) -> dict[str, torch.Tensor]:
        r = self.residual(net, batch["residual"])
        boundary = self.wall_errors(net, batch).pow(2).mean(dim=(1, 2)).sum()
        return {"residual": mse(r[:, 0]) + mse(r[:, 1]), "boundary": boundary}

    def __repr__(self) -> str:
        return f"CavityStreamFunction(re={self.re})"


class CavityVelocityPressure(_Cavity):
    """The velocity-pressure formulation (section 3.4): the net maps (x, y) to (u, v, p).

    Residuals: the two momentum equations r_u, r_v as in ``CavityStreamFunction`` and continuity
    r_c = u_x + v_y. Loss (Eqs. 62-67): L_r = mean r_u^2 + mean r_v^2 + mean r_c^2, and the wall
    conditions on u and on v as two terms, L_ub and L_vb, each the sum over the four walls of a
    mean squared error, each with its own weight under Algorithm 1 (``wall_weights=2``). With
    ``wall_weights=1`` they are one term, L_b = L_ub + L_vb, with one weight, as the stream-function
    code weights its walls. The paper finds that every method fails on this formulation (it
    published no code for it). Net: 3 hidden layers of 50, as for the stream function.
    """

    name = "cavity_velocity"
    default_layers = [2, 50, 50, 50, 3]

    def __init__(self, re: float = 100.0, wall_weights: int = 2):
        super().__init__(re)
        if wall_weights not in (1, 2):
            raise ValueError(f"wall_weights must be 1 (one weight for u and v) or 2 (one each), got {wall_weights}")
        self.wall_weights = int(wall_weights)
        self.terms = ("residual", "boundary_u", "boundary_v") if self.wall_weights == 2 else ("residual", "boundary")

    def velocity(self, net: Field, x: torch.Tensor) -> torch.Tensor:
        return net(x)[:, :2]

    def residual(self, net: Field, x: torch.Tensor) -> torch.Tensor:
        """(r_u, r_v, r_c), shape (N, 3) (Eqs. 56-57)."""
        d = jet(net, x)
        (u, v), (p_x, p_y) = d.value[:, :2].unbind(1), (d.d1[0][:, 2], d.d1[1][:, 2])
        u_x, v_x = d.d1[0][:, 0], d.d1[0][:, 1]
        u_y, v_y = d.d1[1][:, 0], d.d1[1][:, 1]
        lap_u, lap_v = d.laplacian()[:, 0], d.laplacian()[:, 1]
        r_u = u * u_x + v * u_y + p_x - lap_u / self.re
        r_v = u * v_x + v * v_y + p_y - lap_v / self.re
        return torch.stack([r_u, r_v, u_x + v_y], dim=1)

    def losses(self, net: Field, batch: Batch) -> dict[str, torch.Tensor]:
        r = self.residual(net, batch["residual"])
        walls = self.wall_errors(net, batch).pow(2).mean(dim=1).sum(dim=0)  # (u, v) summed over walls
        residual = r.pow(2).mean(dim=0).sum()
        if self.wall_weights == 1:
            return {"residual": residual, "boundary": walls.sum()}
        return {"residual": residual, "boundary_u": walls[0], "boundary_v": walls[1]}

    def __repr__(self) -> str:
        # wall_weights only when not the default, so that the repr (a checkpoint's run key) of the default is unchanged
        shared = ", wall_weights=1" if self.wall_weights == 1 else ""
        return f"CavityVelocityPressure(re={self.re}{shared})"
