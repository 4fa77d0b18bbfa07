"""Forward-mode (Taylor-mode) input derivatives equal nested autograd, the reference."""

import pytest
import torch

from pinn_tutorial import Helmholtz, KleinGordon, Poisson1D, Trainer, build
from pinn_tutorial.autodiff import jet
from pinn_tutorial.compiled_step import LossTerms, term_gradients
from pinn_tutorial.config import Budget
from pinn_tutorial.networks import MLP, ModifiedMLP
from pinn_tutorial.problems import CavityStreamFunction
from pinn_tutorial.problems.cavity import taylor3

NETS = {
    "mlp": lambda: MLP([2, 16, 16, 16, 1], [0.1, -0.2], [0.6, 0.5]),
    "gated-paper": lambda: ModifiedMLP([2, 16, 16, 16, 1], [0.1, -0.2], [0.6, 0.5], variant="paper"),
    "gated-code": lambda: ModifiedMLP([2, 16, 16, 16, 1], [0.1, -0.2], [0.6, 0.5], variant="code"),
    "mlp-3-in-2-out": lambda: MLP([3, 12, 12, 2], None, None),
}


def random_net(name):
    torch.manual_seed(1)
    net = NETS[name]().double()
    for p in net.parameters():  # away from initialisation, with biases, so every term matters
        torch.nn.init.normal_(p, std=0.6)
    return net


@pytest.mark.parametrize("name", NETS)
def test_values_and_derivatives_equal_autograd(name):
    net = random_net(name)
    x = torch.rand(33, net.layers[0], dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    fast, reference = jet(net, x.clone()), jet(net, x.clone(), method="autograd")
    for part in ("value", "d1", "d2"):
        torch.testing.assert_close(getattr(fast, part), getattr(reference, part), rtol=1e-6, atol=1e-6)
    assert fast.d2.abs().max() > 1e-2  # a non-trivial test


@pytest.mark.parametrize("name", ["mlp", "gated-paper", "gated-code"])
def test_parameter_gradients_of_the_residual_loss_equal_autograd(name):
    problem = Helmholtz()
    net = random_net(name)
    x = torch.rand(40, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(3)) * 2 - 1
    fast = torch.autograd.grad(problem.residual(net, x.clone()).pow(2).mean(), list(net.parameters()))
    slow = torch.autograd.grad(problem.residual(lambda z: net(z), x.clone()).pow(2).mean(), list(net.parameters()))
    for f, s in zip(fast, slow):
        torch.testing.assert_close(f, s, rtol=1e-6, atol=1e-8)


def test_fast_and_reference_training_paths_agree():
    budget = Budget("t", steps=20, batch_size=16, log_every=1, eval_every=10, checkpoint_every=10, grid_size=10)
    runs = {}
    for derivatives in ("auto", "autograd"):
        problem = Poisson1D(C=4.0)
        net, weighting = build("M4", problem, seed=0, layers=[1, 10, 10, 1])
        trainer = Trainer(problem, net.double(), weighting, budget=budget, device="cpu", progress=False,
                          derivatives=derivatives)
        trainer.x_eval, trainer.u_eval = trainer.x_eval.double(), trainer.u_eval.double()
        runs[derivatives] = (trainer.run(), net)
    (h_fast, net_fast), (h_ref, net_ref) = runs["auto"], runs["autograd"]
    # The samplers draw float32 points, so autograd's input derivatives are float32: agreement to ~1e-7.
    assert h_fast.losses["residual"] == pytest.approx(h_ref.losses["residual"], rel=1e-5)
    assert h_fast.weights["boundary"] == pytest.approx(h_ref.weights["boundary"], rel=1e-5)
    for p, q in zip(net_fast.parameters(), net_ref.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-7)


def test_unknown_derivative_method_is_refused():
    with pytest.raises(ValueError, match="'auto' or 'autograd'"):
        jet(lambda x: x, torch.zeros(2, 1), method="finite-differences")


def test_functional_term_gradients_equal_autograd():
    """The graph that the trainer compiles: each term's loss and gradient, as functions of the parameters."""
    problem = KleinGordon()
    net = ModifiedMLP([2, 12, 12, 12, 1], [0.5, 0.0], [0.3, 0.6]).double()
    batch = {k: v.double() for k, v in problem.sample(24, torch.Generator().manual_seed(4)).items()}
    loss_terms = LossTerms(problem, net)
    params = {k: v.detach() for k, v in loss_terms.named_parameters()}
    functional = term_gradients(loss_terms)(params, dict(loss_terms.named_buffers()), batch)
    losses = problem.losses(net, batch)
    for term in problem.terms:
        reference = torch.autograd.grad(losses[term], list(net.parameters()), retain_graph=True)
        grads, value = functional[term]
        torch.testing.assert_close(value, losses[term], rtol=1e-12, atol=0)
        for g, r in zip(grads.values(), reference):
            torch.testing.assert_close(g, r, rtol=1e-10, atol=1e-12)
        assert max(float(r.abs().max()) for r in reference) > 1e-3  # a non-trivial gradient


@pytest.mark.parametrize("method", ["M2", "M4"])
def test_compiled_step_gives_the_eager_gradients_with_algorithm_1(method):
    """Losses and per-term gradients come from one compiled graph: the weights and steps equal eager."""
    budget = Budget("t", steps=12, batch_size=16, log_every=1, eval_every=12, checkpoint_every=12, grid_size=10)
    runs = {}
    for compile in ("off", "on"):
        problem = Poisson1D(C=4.0)
        net, weighting = build(method, problem, seed=0, layers=[1, 8, 8, 1])
        trainer = Trainer(problem, net, weighting, budget=budget, device="cpu", progress=False, compile=compile)
        runs[compile] = (trainer.run(), net)
        assert trainer.compiled == (compile == "on")  # compiling did not fail over to eager
    (eager, net_eager), (compiled, net_compiled) = runs["off"], runs["on"]
    assert compiled.weights["boundary"] == pytest.approx(eager.weights["boundary"], rel=1e-5)
    assert compiled.weights["boundary"][-1] > 2  # Algorithm 1 did move the weight
    for p, q in zip(net_eager.parameters(), net_compiled.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


def test_compiled_step_is_not_reused_for_another_problem():
    """Trainers share the compiled function's code: a different PDE parameter must get its own graph."""
    batch = Poisson1D().sample(16, torch.Generator().manual_seed(5))
    for C in (4.0, 1.0):
        problem = Poisson1D(C=C)
        net, weighting = build("M1", problem, seed=0, layers=[1, 8, 8, 1])
        trainer = Trainer(problem, net, weighting, budget="quick", device="cpu", progress=False, compile="on")
        losses, gradients = trainer._losses_and_gradients(batch)
        assert gradients is not None  # the compiled graph's
        eager = problem.losses(net, batch)
        for term in problem.terms:
            torch.testing.assert_close(losses[term], eager[term], rtol=1e-5, atol=1e-7)


def test_the_reference_path_is_never_compiled():
    """compile="on" compiles the Taylor-mode path only: asking for it with nested autograd is refused,
    and compile="auto" leaves the reference path eager even for a long run."""
    problem = Poisson1D(C=4.0)
    net, weighting = build("M1", problem, seed=0, layers=[1, 8, 8, 1])
    with pytest.raises(ValueError, match="nested autograd"):
        Trainer(problem, net, weighting, budget="quick", progress=False, derivatives="autograd", compile="on")
    assert not Trainer(problem, net, weighting, budget="paper", progress=False, derivatives="autograd").compiled
    assert Trainer(problem, net, weighting, budget="paper", progress=False).compiled


THIRD_ORDER_NETS = {
    "mlp": lambda: MLP([2, 12, 12, 12, 2], [0.5, 0.5], [0.3, 0.3]),
    "gated-paper": lambda: ModifiedMLP([2, 12, 12, 12, 2], [0.5, 0.5], [0.3, 0.3], variant="paper"),
    "gated-code": lambda: ModifiedMLP([2, 12, 12, 12, 2], [0.5, 0.5], [0.3, 0.3], variant="code"),
}


def nested_derivatives(net, x):
    """Every partial derivative of the outputs up to third order, by nested reverse-mode autograd."""
    x = x.detach().requires_grad_(True)
    out = {(): net(x)}
    for key in ((0,), (1,), (0, 0), (0, 1), (1, 1), (0, 0, 0), (0, 0, 1), (0, 1, 1), (1, 1, 1)):
        lower = out[key[:-1]]
        out[key] = torch.stack([torch.autograd.grad(lower[:, j].sum(), x, create_graph=True)[0][:, key[-1]]
                                for j in range(lower.shape[1])], dim=1)
    return out


@pytest.mark.parametrize("name", THIRD_ORDER_NETS)
def test_third_order_taylor_mode_equals_nested_autograd(name):
    """The stream function's jet: every derivative to third order, mixed ones included, and a loss's gradients."""
    torch.manual_seed(1)
    net = THIRD_ORDER_NETS[name]().double()
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.6)
    x = torch.rand(29, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    fast, reference = taylor3(net, x), nested_derivatives(net, x)
    assert set(fast) == set(reference)
    for key in reference:
        torch.testing.assert_close(fast[key], reference[key], rtol=1e-9, atol=1e-9)
    assert min(float(fast[key].detach().abs().max()) for key in fast) > 1e-2  # every derivative non-trivial
    loss, ref_loss = (sum(d[k].pow(2).mean() for k in d) for d in (fast, reference))
    for g, r in zip(torch.autograd.grad(loss, list(net.parameters())),
                    torch.autograd.grad(ref_loss, list(net.parameters()))):
        torch.testing.assert_close(g, r, rtol=1e-8, atol=1e-10)


def test_stream_function_step_compiles_and_gives_the_eager_gradients():
    """The cavity's stream function (third derivatives) compiles whole: weights and steps equal eager."""
    budget = Budget("t", steps=12, batch_size=16, log_every=1, eval_every=12, checkpoint_every=12, grid_size=10)
    runs = {}
    for compile in ("off", "on"):
        problem = CavityStreamFunction()
        net, weighting = build("M2", problem, seed=0, layers=[2, 8, 8, 2])
        trainer = Trainer(problem, net, weighting, budget=budget, device="cpu", progress=False, compile=compile)
        runs[compile] = (trainer.run(), net)
        assert trainer.compiled == (compile == "on")  # compiling did not fail over to eager
    (eager, net_eager), (compiled, net_compiled) = runs["off"], runs["on"]
    assert compiled.losses["residual"] == pytest.approx(eager.losses["residual"], rel=1e-4)
    assert compiled.weights["boundary"] == pytest.approx(eager.weights["boundary"], rel=1e-4)
    assert compiled.weights["boundary"][-1] != 1  # Algorithm 1 did move the weight
    for p, q in zip(net_eager.parameters(), net_compiled.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-6)
