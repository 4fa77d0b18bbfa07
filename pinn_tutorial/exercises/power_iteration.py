"""Chapter 6's exercise: sigma_max of a symmetric matrix by power iteration, from Hessian-vector products alone.

The learner writes ``sigma_max(hvp, xi, iterations)``: ``hvp(xi)`` returns H xi for a symmetric matrix H that is
never formed (a Hessian, in the chapter), ``xi`` is the start vector (a 1-D tensor) and ``iterations`` the number of
products to take. It returns

    sigma_max(H) = max_i |sigma_i(H)|      (the largest absolute eigenvalue: the spectral norm of the symmetric H)

by repeating xi <- H xi / |H xi| and reading the Rayleigh quotient xi . H xi of the unit vector xi: that quotient
carries the sign of the eigenvalue it converges to, and sigma_max is its magnitude.

The check compares with ``torch.linalg.eigvalsh`` on four matrices: a diagonal one; a rotated one whose eigenvalue
of largest magnitude is negative (a saddle, as the chapter's small network has at initialisation); one whose largest
eigenvalue is so large that an iteration that never normalises overflows; and the Hessian of a small Helmholtz
network's residual loss with respect to its weight matrices.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..networks import MLP
from ..problems import Helmholtz
from . import CaseFailed, CheckResult, expect_close, run_cases

NAME = "ch06-power-iteration"


def _rotated(eigenvalues: list[float], seed: int) -> torch.Tensor:
    """Q diag(eigenvalues) Q^T for a random orthogonal Q (float64): a symmetric matrix with these eigenvalues."""
    generator = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(len(eigenvalues), len(eigenvalues), generator=generator, dtype=torch.float64))
    return q @ torch.diag(torch.tensor(eigenvalues, dtype=torch.float64)) @ q.T


def _start(n: int, seed: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.randn(n, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _network_hessian() -> tuple[Callable[[torch.Tensor], torch.Tensor], torch.Tensor]:
    """The Hessian-vector product of a small Helmholtz network's residual loss over its weight matrices, as a
    function of one flat vector, and the full Hessian (one product per unit vector)."""
    problem = Helmholtz(a1=1.0, a2=4.0)
    with torch.random.fork_rng():  # the learner's own random stream is left as it was
        torch.manual_seed(4)
        net = MLP([2, 5, 5, 1], *problem.input_scaling())
    weights = net.weight_matrices()
    loss = problem.losses(net, problem.sample(32, torch.Generator().manual_seed(0)))["residual"]
    grads = torch.autograd.grad(loss, weights, create_graph=True)
    sizes = [w.numel() for w in weights]

    def hvp(v: torch.Tensor) -> torch.Tensor:
        pieces = [p.reshape(w.shape) for p, w in zip(v.detach().to(torch.float32).split(sizes), weights)]
        products = torch.autograd.grad(grads, weights, grad_outputs=pieces, retain_graph=True)
        return torch.cat([h.reshape(-1) for h in products]).to(v.dtype)

    n = sum(sizes)
    full = torch.stack([hvp(e) for e in torch.eye(n, dtype=torch.float64)])
    return hvp, (full + full.T) / 2


def check(sigma_max: Callable) -> CheckResult:
    """Pass when ``sigma_max(hvp, xi, iterations)`` gives the largest absolute eigenvalue of four symmetric matrices."""

    def compare(name: str, hvp: Callable, eigenvalues: torch.Tensor, v: torch.Tensor, iterations: int, hint: str,
                rtol: float = 1e-4) -> None:
        calls = []

        def counted(u: torch.Tensor) -> torch.Tensor:
            calls.append(1)
            return hvp(u)

        expected = eigenvalues.abs().max().to(torch.float64)
        got = sigma_max(counted, v.clone(), iterations)
        if isinstance(got, tuple | list):
            raise CaseFailed("return sigma_max alone, one number")
        if not calls:
            raise CaseFailed("your function never called hvp: sigma_max comes from the products H xi")
        expect_close(name, got, expected, hint, rtol=rtol, atol=0.0)

    def diagonal() -> None:
        d = torch.tensor([4.0, 1.0, 0.5, -0.2], dtype=torch.float64)
        compare("sigma_max of diag(4, 1, 0.5, -0.2)", lambda v: d * v, d, torch.ones(4, dtype=torch.float64), 100,
                "Repeat xi <- H xi / |H xi| (hvp gives H xi), then read the Rayleigh quotient xi . H xi of a unit xi.")

    def negative() -> None:
        eigenvalues = [-6.0, 3.0, 1.0, 0.5, -0.1]
        H = _rotated(eigenvalues, 1)
        compare("sigma_max of a matrix whose eigenvalue of largest magnitude is -6", lambda v: H @ v,
                torch.tensor(eigenvalues), _start(5, 2), 100,
                "sigma_max is the largest ABSOLUTE eigenvalue. The Rayleigh quotient xi . H xi carries the sign of the "
                "eigenvalue it finds, and here the eigenvalue of largest magnitude is negative: return its magnitude.")

    def large() -> None:
        eigenvalues = [2e5, -1e3, 10.0, 1.0]
        H = _rotated(eigenvalues, 3)
        compare("sigma_max of a matrix whose largest eigenvalue is 2e5 (200 iterations)", lambda v: H @ v,
                torch.tensor(eigenvalues), _start(4, 4), 200,
                "Normalise xi at every step: without it |H^k xi| grows like sigma_max^k and overflows to inf.")

    def network() -> None:
        hvp, H = _network_hessian()
        compare("sigma_max of a small Helmholtz network's residual Hessian (100 iterations)", hvp,
                torch.linalg.eigvalsh(H), _start(H.shape[0], 5), 100,
                "Your function agrees on the small matrices but not here: does it work for a start vector of any "
                "length, and take as many products as `iterations` allows?", rtol=1e-3)

    return run_cases(NAME, [diagonal, negative, large, network],
                     "your power iteration gives sigma_max, the largest absolute eigenvalue, of every matrix, the "
                     "Hessian of a network's residual loss included.")
