"""Random weight factorisation with Fourier features: each piece against its definition, its forward derivatives
against autograd, and the network through the library's interfaces (registered, ensembled, read by Algorithm 1)."""

import pytest
import torch

from pinn_tutorial import Helmholtz, Trainer, build
from pinn_tutorial.autodiff import jet
from pinn_tutorial.config import Budget
from pinn_tutorial.ensembles import EnsembleTrainer
from pinn_tutorial.networks import ARCHITECTURES, glorot_linear
from pinn_tutorial.rwf_fourier import FactorisedLinear, FourierRWF

BUDGET = Budget("tiny", steps=12, batch_size=16, lr=1e-3, decay_rate=0.9, decay_steps=1000, log_every=1,
                eval_every=6, checkpoint_every=6, grid_size=8)
LAYERS = [2, 8, 8, 1]


def test_a_factorised_layer_starts_as_its_glorot_layer():
    torch.manual_seed(3)
    glorot = glorot_linear(3, 4)
    torch.manual_seed(3)
    layer = FactorisedLinear(3, 4, mu=1.0, sigma=0.1)
    torch.testing.assert_close(layer.weight, glorot.weight)
    torch.testing.assert_close(layer.weight, torch.exp(layer.s)[:, None] * layer.v)
    assert layer.s.std() > 0 and (layer.s - 1.0).abs().max() < 0.6  # s ~ N(1, 0.1^2): one scale per output unit
    x = torch.randn(5, 3)
    torch.testing.assert_close(layer(x), x @ glorot.weight.T + glorot.bias)


def test_the_forward_pass_is_the_definition():
    torch.manual_seed(0)
    net = FourierRWF([2, 6, 6, 1], [0.5, 0.0], [2.0, 1.0], scale=2.0)
    assert net.B.shape == (3, 2) and not net.B.requires_grad  # m = 6 // 2 features, drawn once, never trained
    x = torch.randn(7, 2)
    z = (x - torch.tensor([0.5, 0.0])) / torch.tensor([2.0, 1.0])
    h = torch.cat([torch.cos(z @ net.B.T), torch.sin(z @ net.B.T)], dim=1)
    for k, layer in enumerate(net.linears):
        h = h @ (torch.exp(layer.s)[:, None] * layer.v).T + layer.bias
        h = torch.tanh(h) if k < len(net.linears) - 1 else h
    torch.testing.assert_close(net(x), h)
    assert net.weight_matrices() == [layer.v for layer in net.linears]  # what Algorithm 1 reads


def test_the_forward_derivatives_are_autograds():
    torch.manual_seed(1)
    net = FourierRWF([2, 10, 10, 1], [0.1, -0.2], [0.6, 0.5], scale=1.5)
    x = torch.rand(9, 2) * 2 - 1
    forward, nested = jet(net, x, method="auto"), jet(net, x, method="autograd")
    for a, b in ((forward.value, nested.value), (forward.d1, nested.d1), (forward.d2, nested.d2)):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="features must be a whole number"):
        FourierRWF(LAYERS, None, None, features=0)
    with pytest.raises(ValueError, match="scale must be positive"):
        FourierRWF(LAYERS, None, None, scale=-1.0)


def test_it_is_registered_and_an_ensemble_member_is_its_single_run():
    assert ARCHITECTURES["rwf_fourier"] is FourierRWF
    problem = Helmholtz()

    def net(seed):
        return build(None, problem, seed=seed, layers=LAYERS, arch="rwf_fourier", weighting="annealing",
                     weighting_params={"update_every": 3})

    single_net, single_weighting = net(1)
    assert isinstance(single_net, FourierRWF)
    single = Trainer(problem, single_net, single_weighting, budget=BUDGET, seed=1, progress=False, device="cpu",
                     compile="off").run()
    members = [net(s) for s in (0, 1)]
    histories = EnsembleTrainer(problem, [n for n, _ in members], [w for _, w in members], [0, 1], budget=BUDGET,
                                progress=False, device="cpu", compile="off").run()
    assert histories[1].weights["boundary"] == pytest.approx(single.weights["boundary"], rel=1e-4)
    assert histories[1].rel_l2 == pytest.approx(single.rel_l2, rel=1e-4)
