r"""Chapter 15's exercise on random weight factorisation: one factorised layer's forward pass.

The learner writes ``factorised_linear(x, s, v, bias)``: for inputs ``x`` (N, fan_in), the log-scales ``s``
(fan_out,), the direction matrix ``v`` (fan_out, fan_in) and the bias (fan_out,), it returns

    y = x W^T + b,      W = diag(exp(s)) V,

the layer of random weight factorisation (Wang, Wang, Seidman & Perdikaris 2022, arXiv:2210.01274): output unit j
has its own trained scale exp(s_j). The check compares with a hand computation and with the library's
``rwf_fourier.FactorisedLinear``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..rwf_fourier import FactorisedLinear
from . import CaseFailed, CheckResult, expect_close, run_cases

NAME = "ch15-factorised-layer"


def check(factorised_linear: Callable) -> CheckResult:
    """Pass when ``factorised_linear`` gives the factorised layer's output (module docstring) on three cases."""

    def output(x: torch.Tensor, s: torch.Tensor, v: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        got = factorised_linear(x.clone(), s.clone(), v.clone(), bias.clone())
        if not isinstance(got, torch.Tensor):
            raise CaseFailed(f"return one tensor, the layer's output; got {type(got).__name__}")
        return got

    def by_hand() -> None:
        # s = (0, log 2): W = [[1, 2], [2*3, 2*4]] = [[1, 2], [6, 8]]; x = (1, 1): y = (3, 14) + b.
        x = torch.tensor([[1.0, 1.0]], dtype=torch.float64)
        s = torch.tensor([0.0, torch.log(torch.tensor(2.0)).item()], dtype=torch.float64)
        v = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64)
        bias = torch.tensor([0.5, -1.0], dtype=torch.float64)
        expect_close("y for x = (1, 1), s = (0, log 2), V = [[1, 2], [3, 4]], b = (0.5, -1)", output(x, s, v, bias),
                     torch.tensor([[3.5, 13.0]], dtype=torch.float64),
                     "W = diag(exp(s)) V scales ROW j of V (output unit j) by exp(s_j); s is the log of the scale.")

    def against_library(fan_in: int, fan_out: int, seed: int) -> Callable[[], None]:
        def case() -> None:
            with torch.random.fork_rng():
                torch.manual_seed(seed)
                layer = FactorisedLinear(fan_in, fan_out, mu=1.0, sigma=0.1).double()
            x = torch.randn(7, fan_in, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
            expected = layer(x).detach()
            expect_close(f"y of a {fan_in} -> {fan_out} layer (seed {seed})",
                         output(x, layer.s.detach(), layer.v.detach(), layer.bias.detach()), expected,
                         "y = x W^T + b with W = diag(exp(s)) V, of shape (fan_out, fan_in).", rtol=1e-6, atol=1e-9)
        return case

    return run_cases(NAME, [by_hand, against_library(5, 3, 0), against_library(4, 6, 1)],
                     "your layer agrees with a hand computation and with the library's FactorisedLinear.")
