"""Seed ensembles: every member is exactly the single run with its seed, however the ensemble runs."""

import signal

import pytest
import torch

from pinn_tutorial import Helmholtz, Poisson1D, Trainer, build
from pinn_tutorial.checkpoints import CheckpointError
from pinn_tutorial.config import Budget, get_device
from pinn_tutorial.ensembles import EnsembleTrainer

BUDGET = Budget("test", steps=100, batch_size=16, log_every=1, eval_every=50, checkpoint_every=20, grid_size=10)
DEVICE = get_device()  # the CPU in CI; a GPU where PINN_TUTORIAL_DEVICE=cuda (.ci/gpu-check)
LAYERS = {"M1": [2, 12, 12, 1], "M2": [2, 12, 12, 1], "M3": [2, 10, 10, 10, 1], "M4": [2, 10, 10, 10, 1]}


def single_run(problem, method, seed, budget=BUDGET):
    net, weighting = build(method, problem, seed=seed, layers=LAYERS[method])
    trainer = Trainer(problem, net.double(), weighting, budget=budget, seed=seed, device=DEVICE, progress=False)
    trainer.x_eval, trainer.u_eval = trainer.x_eval.double(), trainer.u_eval.double()
    return trainer.run(), net


def ensemble(problem, members, budget=BUDGET, **options):
    nets, weightings = zip(*[build(m, problem, seed=s, layers=LAYERS[m]) for m, s in members])
    trainer = EnsembleTrainer(problem, [net.double() for net in nets], weightings, [s for _, s in members],
                              budget=budget, device=DEVICE, progress=False, **options)
    trainer.x_eval, trainer.u_eval = trainer.x_eval.double(), trainer.u_eval.double()
    return trainer


def assert_relative_close(a, b, rtol=1e-6):
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    assert a.shape == b.shape
    assert float(((a - b).abs() / b.abs().clamp_min(1e-30)).max()) <= rtol


@pytest.mark.parametrize("members", [
    [("M1", 0), ("M2", 0), ("M2", 1), ("M1", 2)],  # the MLP, fixed weights beside Algorithm 1
    [("M4", 3), ("M3", 3), ("M4", 5)],  # the gated network
])
def test_each_member_equals_its_single_run_in_float64(members):
    """100 steps: losses, weights, errors and parameters of member e = the single run of its seed."""
    problem = Helmholtz()
    trainer = ensemble(problem, members)
    histories = trainer.run()
    for e, (method, seed) in enumerate(members):
        reference, net = single_run(problem, method, seed)
        for term in problem.terms:
            assert_relative_close(histories[e].losses[term], reference.losses[term])
        assert_relative_close(histories[e].weights["boundary"], reference.weights["boundary"])
        assert_relative_close(histories[e].rel_l2, reference.rel_l2)
        for p, q in zip(trainer.member(e).parameters(), net.parameters()):
            torch.testing.assert_close(p.detach(), q.detach(), rtol=1e-6, atol=1e-9)
        if method in ("M2", "M4"):
            assert reference.weights["boundary"][-1] > 2  # Algorithm 1 moved this member's weight


def test_the_compiled_ensemble_equals_the_eager_one():
    budget = Budget("t", steps=12, batch_size=16, log_every=1, eval_every=12, checkpoint_every=12, grid_size=10)
    runs = {}
    for compile in ("off", "on"):
        problem = Poisson1D(C=4.0)
        nets, weightings = zip(*[build(m, problem, seed=s, layers=[1, 8, 8, 1]) for m, s in (("M2", 0), ("M2", 1))])
        trainer = EnsembleTrainer(problem, nets, weightings, [0, 1], budget=budget, device=DEVICE, progress=False,
                                  compile=compile)
        runs[compile] = trainer.run()
        assert trainer.compiled == (compile == "on")  # compiling did not fail over to eager
    for eager, compiled in zip(runs["off"], runs["on"]):
        assert compiled.weights["boundary"] == pytest.approx(eager.weights["boundary"], rel=1e-5)
        assert compiled.losses["residual"] == pytest.approx(eager.losses["residual"], rel=1e-5)
        assert eager.weights["boundary"][-1] > 2


def test_a_non_finite_member_stops_and_the_others_go_on():
    problem = Helmholtz()
    members = [("M2", 0), ("M2", 1), ("M2", 2)]

    def poison_member_1_at_12(trainer, step):
        if step == 12:
            with torch.no_grad():
                trainer.params["net.linears.2.bias"][1] = float("nan")

    trainer = ensemble(problem, members, callback=poison_member_1_at_12)
    with pytest.warns(RuntimeWarning, match=r"member 1 \(seed 1\): loss term 'residual' is nan at step 12"):
        histories = trainer.run()
    assert trainer.failures[1]["step"] == 12 and "residual" in trainer.failures[1]["what"]
    assert trainer.active == [True, False, True]
    assert histories[1].steps[-1] == 11  # its history ends at its last good step
    for e in (0, 2):  # the others are untouched by their neighbour's NaN
        reference, _ = single_run(problem, *members[e])
        assert_relative_close(histories[e].losses["residual"], reference.losses["residual"])


def test_an_interrupted_ensemble_resumes_exactly(tmp_path):
    problem = Helmholtz()
    members = [("M4", 0), ("M3", 1)]
    straight = ensemble(problem, members).run()

    def interrupt_at_37(trainer, step):
        if step == 37:
            signal.raise_signal(signal.SIGINT)  # what Ctrl-C does

    with pytest.raises(KeyboardInterrupt, match="step 37"):
        ensemble(problem, members, checkpoint=tmp_path / "run.pt", callback=interrupt_at_37).run()
    resumed = ensemble(problem, members, checkpoint=tmp_path / "run.pt")
    histories = resumed.run(resume=True)
    assert resumed.step == BUDGET.steps
    for h, s in zip(histories, straight):
        assert h.losses == s.losses and h.weights == s.weights and h.rel_l2 == s.rel_l2


def test_a_checkpoint_with_a_history_missing_for_a_member_is_refused(tmp_path):
    """Its run key matches, but one member's state is gone: refused, not resumed without that member."""
    problem = Helmholtz()
    members = [("M1", 0), ("M1", 1)]
    ensemble(problem, members, budget=BUDGET, checkpoint=tmp_path / "run.pt").run()
    state = torch.load(tmp_path / "run.pt", weights_only=True)
    state["histories"] = state["histories"][:1]
    torch.save(state, tmp_path / "run.pt")
    with pytest.raises(CheckpointError, match="its histories are not one per member of 2"):
        ensemble(problem, members, checkpoint=tmp_path / "run.pt").run(resume=True)


def test_members_must_share_one_architecture():
    problem = Helmholtz()
    nets, weightings = zip(build("M1", problem, layers=[2, 8, 1]), build("M3", problem, layers=[2, 8, 1]))
    with pytest.raises(ValueError, match="one architecture"):
        EnsembleTrainer(problem, nets, weightings, [0, 1], budget="quick", progress=False)
