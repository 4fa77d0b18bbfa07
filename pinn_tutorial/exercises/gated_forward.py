"""Chapter 7's exercise: the forward pass of the gated network, as the paper's equations write it (Eqs. 43-47).

The learner writes ``gated_forward(X, encoder_u, encoder_v, first, gates, output)``; every layer is a pair (W, b)
in the paper's row convention h W + b (W of shape (fan_in, fan_out)), ``gates`` a list of such pairs:

    U = tanh(X W_u + b_u),  V = tanh(X W_v + b_v)              (the two encoders)
    H = tanh(X W_1 + b_1)                                      (the first, plain layer)
    Z = tanh(H W_z + b_z),  H <- (1 - Z) * U + Z * V           (for each gate in turn)
    f = H W + b                                                (a linear output)

The check copies the weights of the library's ``ModifiedMLP(variant="paper")`` into the pairs and compares with
its output, on a network whose gates are switched off (Z = 0) and on two random networks.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..networks import ModifiedMLP
from . import CaseFailed, CheckResult, expect_close, run_cases

NAME = "ch07-gated-forward"


def _pair(linear: torch.nn.Linear) -> tuple[torch.Tensor, torch.Tensor]:
    """(W, b) in the row convention h W + b, from a torch Linear (which stores W transposed)."""
    return linear.weight.detach().T.clone(), linear.bias.detach().clone()


def _network(layers: list[int], seed: int, gates_off: bool = False) -> ModifiedMLP:
    """A library gated network (the equations' variant) with random biases; ``gates_off`` zeroes the gates."""
    with torch.random.fork_rng():  # the learner's own random stream is left as it was
        torch.manual_seed(seed)
        net = ModifiedMLP(layers, None, None, variant="paper")
        with torch.no_grad():
            for linear in [net.encoder_u, net.encoder_v, *net.linears]:
                linear.bias.normal_(0.0, 0.5)
            if gates_off:
                for gate in net.linears[1:-1]:
                    gate.weight.zero_()
                    gate.bias.zero_()
    return net


def check(gated_forward: Callable) -> CheckResult:
    """Pass when ``gated_forward`` gives the library's ``ModifiedMLP(variant="paper")`` output on three networks."""

    def compare(name: str, layers: list[int], seed: int, hint: str, gates_off: bool = False) -> None:
        net = _network(layers, seed, gates_off)
        X = torch.linspace(-1.0, 1.0, 5 * layers[0]).reshape(5, layers[0])
        X = X + 0.3 * torch.arange(layers[0]) / layers[0]
        with torch.no_grad():
            expected = net(X)  # the library standardises first; its scaling is the identity here
        first, *gates, output = (_pair(linear) for linear in net.linears)
        got = gated_forward(X.clone(), _pair(net.encoder_u), _pair(net.encoder_v), first, gates, output)
        if not isinstance(got, torch.Tensor):
            raise CaseFailed(f"return a tensor of shape (N, {layers[-1]}), got {type(got).__name__}")
        expect_close(name, got, expected, hint, rtol=1e-5, atol=1e-6)

    def gates_off() -> None:
        compare("the output with every gate off (Z = 0)", [2, 4, 4, 4, 1], 0,
                "With a gate's W and b zero, Z = 0 and the layer must give U, the first encoder's features: "
                "the mix is (1 - Z) * U + Z * V. Also check the tanh on both encoders and the linear output.",
                gates_off=True)

    def random_network(layers: list[int], seed: int) -> Callable[[], None]:
        def case() -> None:
            compare(f"the output of a network {layers}", layers, seed,
                    "Compare each line with Eqs. 43-47: tanh on the encoders, on the first layer and on each gate "
                    "Z = tanh(H W_z + b_z), which reads the layer below; every gate in the list, in order; no tanh "
                    "on the output.")
        return case

    return run_cases(NAME, [gates_off, random_network([2, 6, 6, 6, 1], 1), random_network([3, 5, 5, 5, 5, 2], 2)],
                     "your forward pass agrees with the library's ModifiedMLP(variant=\"paper\") with the same "
                     "weights, gates off and on.")
