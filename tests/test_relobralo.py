"""ReLoBRaLo: its update against a hand computation, its random lookback, and its runs (loss values alone, no
gradient pass; resumed and batched runs identical to the plain one)."""

import math

import pytest
import torch

from pinn_tutorial import Helmholtz, Trainer, build
from pinn_tutorial.config import Budget, ConfigError
from pinn_tutorial.ensembles import EnsembleTrainer
from pinn_tutorial.weighting import WEIGHTINGS, ReLoBRaLo, StepContext, make_weighting
from pinn_tutorial.weighting.relobralo import balanced_weights

BUDGET = Budget("tiny", steps=30, batch_size=16, lr=1e-3, decay_rate=0.9, decay_steps=1000, log_every=1,
                eval_every=10, checkpoint_every=10, grid_size=8)
LAYERS = [2, 8, 8, 1]


def feed(weighting, losses, generator=None):
    for step, (r, b) in enumerate(losses):
        weighting.update(StepContext(step, {"residual": r, "boundary": b}, generator=generator))


def test_one_update_by_hand_keeping_the_history():
    # rho = 1: the history is always kept. At step 1 the residual has halved and the boundary loss has not moved:
    # relative to step 0, z = (0.5 / 0.1, 1 / 0.1) = (5, 10), so lambda_bal = 2 (1, e^5) / (1 + e^5).
    weighting = ReLoBRaLo(["boundary"], alpha=0.5, rho=1.0, temperature=0.1)
    feed(weighting, [(1.0, 1.0), (0.5, 1.0)])
    residual = 0.5 * 1 + 0.5 * 2 / (1 + math.e**5)
    boundary = 0.5 * 1 + 0.5 * 2 * math.e**5 / (1 + math.e**5)
    assert weighting.all_weights == pytest.approx({"residual": residual, "boundary": boundary}, rel=1e-9)
    assert weighting.weights["boundary"] == pytest.approx(boundary / residual, rel=1e-9)  # relative to the residual's


def test_the_lookback_replaces_the_history_with_the_balance_against_the_first_losses():
    # rho = 0: always look back. Step 2 against step 1 is balanced (both halved: z = (5, 5)), against step 0 it is
    # z = (0.25 / 0.1, 0.5 / 0.1) = (2.5, 5).
    weighting = ReLoBRaLo(["boundary"], alpha=0.5, rho=0.0, temperature=0.1)
    feed(weighting, [(1.0, 1.0), (0.5, 1.0), (0.25, 0.5)])
    lookback = {"residual": 2 / (1 + math.e**2.5), "boundary": 2 * math.e**2.5 / (1 + math.e**2.5)}
    expected = {j: 0.5 * lookback[j] + 0.5 * 1.0 for j in lookback}
    assert weighting.all_weights == pytest.approx(expected, rel=1e-9)


def test_balanced_weights_sum_to_the_number_of_terms_and_survive_a_zero_reference():
    weights = balanced_weights({"a": 3.0, "b": 1.0, "c": 2.0}, {"a": 1.0, "b": 1.0, "c": 1.0}, 1.0)
    assert sum(weights.values()) == pytest.approx(3.0) and weights["a"] > weights["c"] > weights["b"]
    exact = balanced_weights({"a": 0.0, "b": 1.0}, {"a": 0.0, "b": 1.0}, 0.1)  # a term already exact
    assert all(math.isfinite(w) for w in exact.values()) and sum(exact.values()) == pytest.approx(2.0)


def test_the_draws_come_from_the_generator_so_a_restored_state_continues_alike():
    losses = [(1.0 / (s + 1), 1.0 / (s + 1) ** 0.5) for s in range(40)]
    whole = ReLoBRaLo(["boundary"], rho=0.5)
    feed(whole, losses, torch.Generator().manual_seed(3))
    generator = torch.Generator().manual_seed(3)
    first = ReLoBRaLo(["boundary"], rho=0.5)
    feed(first, losses[:20], generator)
    second = ReLoBRaLo(["boundary"], rho=0.5)
    second.load_state_dict(first.state_dict())
    for step, (r, b) in enumerate(losses[20:], start=20):
        second.update(StepContext(step, {"residual": r, "boundary": b}, generator=generator))
    assert second.state_dict() == whole.state_dict()


def test_registered_with_its_settings_and_bad_values_refused():
    assert WEIGHTINGS["relobralo"] is ReLoBRaLo
    weighting = make_weighting("relobralo", ["boundary"], rho=0.9)
    assert repr(weighting) == "ReLoBRaLo(alpha=0.001, rho=0.9, temperature=0.1)"
    for bad in ({"alpha": 0.0}, {"rho": 1.5}, {"temperature": -1.0}, {"temperature": math.nan}):
        with pytest.raises(ConfigError, match=next(iter(bad))):
            make_weighting("relobralo", ["boundary"], **bad)


def _run(checkpoint=None, resume=False, stop_at=None):
    """Seed 0 with ReLoBRaLo for BUDGET's 30 steps; ``stop_at``: interrupted there as Ctrl-C would (saved, stopped)."""
    problem = Helmholtz()
    net, _ = build("M1", problem, seed=0, layers=LAYERS)
    weighting = ReLoBRaLo(problem.weighted_terms, alpha=0.1, rho=0.5)

    def interrupt(trainer, step):
        if step == stop_at:
            trainer._interrupted = True

    trainer = Trainer(problem, net, weighting, budget=BUDGET, seed=0, checkpoint=checkpoint, progress=False,
                      device="cpu", compile="off", callback=interrupt)
    return trainer, trainer.run(resume=resume)


def test_a_run_reads_loss_values_only(monkeypatch):
    """A scheme that never asks for gradients costs no per-term backward pass."""
    def no_gradients(self, losses):
        raise AssertionError("per-term gradients were computed")

    monkeypatch.setattr(Trainer, "_term_gradients", no_gradients)
    trainer, history = _run()
    weights = history.weights["boundary"]
    assert len(set(weights)) > 10 and all(math.isfinite(w) for w in weights)  # it moved at every step


def test_a_resumed_run_is_the_uninterrupted_one(tmp_path):
    _, whole = _run()
    with pytest.raises(KeyboardInterrupt):
        _run(checkpoint=tmp_path / "run.pt", stop_at=13)
    _, resumed = _run(checkpoint=tmp_path / "run.pt", resume=True)
    assert resumed.weights == whole.weights and resumed.rel_l2 == whole.rel_l2


def test_an_ensemble_member_is_its_single_run():
    problem = Helmholtz()
    _, single = _run()
    nets = [build("M1", problem, seed=s, layers=LAYERS)[0] for s in (0, 1)]
    weightings = [ReLoBRaLo(problem.weighted_terms, alpha=0.1, rho=0.5) for _ in nets]
    histories = EnsembleTrainer(problem, nets, weightings, [0, 1], budget=BUDGET, progress=False, device="cpu",
                                compile="off").run()
    assert histories[0].weights["boundary"] == pytest.approx(single.weights["boundary"], rel=1e-5)
    assert histories[0].rel_l2 == pytest.approx(single.rel_l2, rel=1e-4)
