"""The networks equal their equations."""

import pytest
import torch

from pinn_tutorial.config import ConfigError
from pinn_tutorial.networks import MLP, ModifiedMLP


def test_mlp_is_glorot_with_zero_biases_and_standardises_inputs():
    torch.manual_seed(0)
    net = MLP([2, 200, 200, 1], input_mean=[1.0, -1.0], input_std=[2.0, 0.5])
    w = net.linears[1].weight
    assert abs(w.std().item() - (2 / 400) ** 0.5) < 0.003
    assert all((lin.bias == 0).all() for lin in net.linears)
    x = torch.randn(5, 2)
    h = (x - torch.tensor([1.0, -1.0])) / torch.tensor([2.0, 0.5])
    for lin in net.linears[:-1]:
        h = torch.tanh(h @ lin.weight.T + lin.bias)
    torch.testing.assert_close(net(x), h @ net.linears[-1].weight.T + net.linears[-1].bias)


def test_modified_mlp_equals_equations_43_to_47():
    torch.manual_seed(0)
    net = ModifiedMLP([2, 20, 20, 20, 1], None, None, variant="paper").double()
    for p in net.parameters():  # non-zero biases, so that they are tested too
        torch.nn.init.normal_(p, std=0.5)
    X = torch.randn(7, 2, dtype=torch.float64)
    lin = net.linears
    U = torch.tanh(X @ net.encoder_u.weight.T + net.encoder_u.bias)
    V = torch.tanh(X @ net.encoder_v.weight.T + net.encoder_v.bias)
    H = torch.tanh(X @ lin[0].weight.T + lin[0].bias)                 # H^(1), Eq. 45
    for k in (1, 2):
        Z = torch.tanh(H @ lin[k].weight.T + lin[k].bias)             # Z^(k), Eq. 46
        H = (1 - Z) * U + Z * V                                       # H^(k+1), Eq. 46
    torch.testing.assert_close(net(X), H @ lin[3].weight.T + lin[3].bias)  # Eq. 47


def test_modified_mlp_code_variant_gates_every_layer():
    torch.manual_seed(0)
    net = ModifiedMLP([2, 20, 20, 1], None, None, variant="code").double()
    assert (net.encoder_u.bias != 0).all()  # the original code draws the encoders' biases
    X = torch.randn(7, 2, dtype=torch.float64)
    U = torch.tanh(net.encoder_u(X))
    V = torch.tanh(net.encoder_v(X))
    H = X
    for lin in net.linears[:-1]:
        Z = torch.tanh(lin(H))
        H = Z * U + (1 - Z) * V
    torch.testing.assert_close(net(X), net.linears[-1](H))


def test_both_variants_have_the_same_parameters_and_two_more_layers_than_the_mlp():
    layers = [2, 50, 50, 50, 1]
    mlp = MLP(layers, None, None)
    paper, code = ModifiedMLP(layers, None, None, variant="paper"), ModifiedMLP(layers, None, None, variant="code")
    count = lambda n: sum(p.numel() for p in n.parameters())  # noqa: E731
    assert count(paper) == count(code) == count(mlp) + 2 * (2 * 50 + 50)
    assert len(paper.weight_matrices()) == len(mlp.weight_matrices()) == 4


def test_bad_inputs_are_refused_clearly():
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        MLP([2, 10, 1], None, None)(torch.zeros(3, 3))
    with pytest.raises(ConfigError, match="variant 'keras'; choose one of: code, paper"):
        ModifiedMLP([2, 10, 1], None, None, variant="keras")
    with pytest.raises(ValueError, match="one width"):
        ModifiedMLP([2, 10, 20, 1], None, None)


@pytest.mark.parametrize("layers", [[1, 0, 1], [2, 50, -3, 1], [2, 50.0, 1], [2, True, 1]])
def test_a_layer_without_a_whole_positive_number_of_units_is_refused(layers):
    """Before, MLP([1, 0, 1]) trained: a constant output (the probe's F8)."""
    for network in (MLP, ModifiedMLP):
        with pytest.raises(ValueError, match="whole number of units"):
            network(layers, None, None)


def test_a_network_declares_its_input_scaling():
    """Leaving the scaling out used to mean none, silently: a hand-built network trained on other inputs than the
    preset's. Now it is asked for; None, None says "raw inputs" explicitly."""
    for network in (MLP, ModifiedMLP):
        with pytest.raises(TypeError, match="input_mean"):
            network([2, 8, 1])
        raw = network([2, 8, 1], None, None)
        assert raw.input_mean.tolist() == [0.0, 0.0] and raw.input_std.tolist() == [1.0, 1.0]
