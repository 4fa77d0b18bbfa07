"""Causal training: stratified times, the weights w_i against their formula, and the training it drives."""

import math

import pytest
import torch

from pinn_tutorial import Helmholtz, KleinGordon, build
from pinn_tutorial.config import Budget
from pinn_tutorial.problems import get_problem
from pinn_tutorial.problems.causal import CausalKleinGordon, CausalTraining
from pinn_tutorial.training import Trainer


def test_residual_points_are_stratified_in_time():
    problem = CausalKleinGordon(chunks=8)
    t = problem.sample(64, torch.Generator().manual_seed(0))["residual"][:, 0].reshape(8, 8)
    for i, row in enumerate(t):
        assert ((row >= i / 8) & (row < (i + 1) / 8)).all()
    with pytest.raises(ValueError, match="multiple of the number of time chunks"):
        problem.sample(60)


def test_weights_follow_the_formula_and_carry_no_gradient():
    problem = CausalKleinGordon(epsilon=2.0, chunks=4)
    losses = torch.tensor([0.5, 0.25, 1.0, 3.0], requires_grad=True)
    w = problem.causal_weights(losses)
    expected = [1.0, math.exp(-2 * 0.5), math.exp(-2 * 0.75), math.exp(-2 * 1.75)]
    assert w.tolist() == pytest.approx(expected, rel=1e-6)
    assert not w.requires_grad


def test_tiny_epsilon_gives_back_the_plain_residual_loss():
    plain, causal = KleinGordon(), CausalKleinGordon(epsilon=1e-12, chunks=4)
    net, _ = build("M1", plain, seed=0)
    batch = causal.sample(32, torch.Generator().manual_seed(1))
    ours, theirs = causal.losses(net, batch), plain.losses(net, batch)
    for term in plain.terms:
        assert ours[term].item() == pytest.approx(theirs[term].item(), rel=1e-5)


def test_late_chunks_are_held_back_until_the_early_ones_fit():
    # A net far from the solution: the residual is large, so every chunk after the first has w ~ 0.
    problem = CausalKleinGordon(epsilon=1.0, chunks=4)
    net, _ = build("M1", problem, seed=0)
    x = problem.sample(32, torch.Generator().manual_seed(2))["residual"]
    w = problem.causal_weights(problem.chunk_losses(net, x))
    assert w[0] == 1.0 and (w[1:] < 1e-3).all()


def test_causal_training_runs_through_the_trainer_and_registry():
    problem = get_problem("klein_gordon_causal", epsilon=1.0, chunks=4)
    assert isinstance(problem, CausalKleinGordon) and (problem.epsilon, problem.chunks) == (1.0, 4)
    net, weighting = build("M2", problem, seed=0)
    batch = problem.sample(64, torch.Generator().manual_seed(5))
    before = problem.losses(net, batch)
    budget = Budget("test", steps=12, batch_size=16, log_every=1, eval_every=6, checkpoint_every=100, grid_size=10)
    Trainer(problem, net, weighting, budget=budget, progress=False, device="cpu").run()
    after = problem.losses(net, batch)
    # Twelve steps lower the causal residual and the initial-condition loss on points they never saw
    # (by 1.5 to 4% and 8 to 75% over seeds 0-5), and Algorithm 1 has raised both weights (to 25 or more).
    assert after["residual"] < before["residual"] and after["initial"] < before["initial"]
    assert weighting.weights["boundary"] > 10 and weighting.weights["initial"] > 10


def test_a_problem_without_data_losses_gets_a_clear_error():
    with pytest.raises(TypeError, match="data_losses"):
        CausalTraining(Helmholtz())
    with pytest.raises(ValueError, match="epsilon"):
        CausalKleinGordon(epsilon=0.0)
