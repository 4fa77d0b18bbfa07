"""The training loop: resuming is exact, a non-finite loss stops clearly, the CLI behaves."""

import json
import signal
import subprocess
import sys

import pytest
import torch

from pinn_tutorial import Helmholtz, NonFiniteLossError, Poisson1D, Trainer, build, train
from pinn_tutorial.checkpoints import CheckpointError
from pinn_tutorial.config import Budget
from pinn_tutorial.problems import PROBLEMS

BUDGET = Budget("test", steps=40, batch_size=16, log_every=5, eval_every=10, checkpoint_every=10, grid_size=10)


def make_trainer(checkpoint=None, callback=None):
    problem = Helmholtz()
    net, weighting = build("M2", problem, seed=3, layers=[2, 8, 8, 1])
    return Trainer(problem, net, weighting, budget=BUDGET, seed=3, device="cpu", checkpoint=checkpoint,
                   progress=False, callback=callback)


def test_an_interrupted_run_resumes_exactly(tmp_path):
    straight = make_trainer()
    reference = straight.run()

    def interrupt_at_17(trainer, step):
        if step == 17:
            signal.raise_signal(signal.SIGINT)  # what Ctrl-C does

    first = make_trainer(tmp_path / "run.pt", interrupt_at_17)
    with pytest.raises(KeyboardInterrupt, match="step 17"):
        first.run()
    resumed = make_trainer(tmp_path / "run.pt")
    history = resumed.run(resume=True)

    assert resumed.step == 40
    for p, q in zip(straight.net.parameters(), resumed.net.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
    assert history.losses == reference.losses and history.weights == reference.weights
    assert history.rel_l2 == reference.rel_l2 and history.eval_steps == [10, 20, 30, 40]
    assert reference.weights["boundary"][-1] != 1.0  # annealing state was part of what resumed


def test_a_checkpoint_of_another_run_is_refused(tmp_path):
    make_trainer(tmp_path / "run.pt").run()
    problem = Poisson1D()
    net, weighting = build("M1", problem, layers=[1, 8, 1])
    other = Trainer(problem, net, weighting, budget=BUDGET, checkpoint=tmp_path / "run.pt", progress=False)
    with pytest.raises(ValueError, match="another run") as refused:
        other.run(resume=True)
    assert "problem 'Helmholtz(a1=1.0, a2=4.0, k=1.0)' there, 'Poisson1D(C=2.0)' here" in str(refused.value)


def test_a_checkpoint_written_by_other_code_is_refused_saying_so(tmp_path):
    """The run identity holds the code's fingerprint: after a change to the library, a checkpoint is not silently
    taken up (its run would claim code that did not train it), and the message says that the code is what differs."""
    problem = Helmholtz()
    net, weighting = build("M2", problem, seed=3, layers=[2, 8, 8, 1])
    Trainer(problem, net, weighting, budget=BUDGET, seed=3, checkpoint=tmp_path / "run.pt", progress=False,
            identity={"code": "a" * 64}).run()
    net, weighting = build("M2", problem, seed=3, layers=[2, 8, 8, 1])
    later = Trainer(problem, net, weighting, budget=BUDGET, seed=3, checkpoint=tmp_path / "run.pt", progress=False,
                    identity={"code": "b" * 64})
    with pytest.raises(CheckpointError, match="written by other code of the library.*aaaaaaaaaaaa.*bbbbbbbbbbbb"):
        later.run(resume=True)


@pytest.mark.parametrize("other", [{"variant": "paper"}, {"input_scaling": "sampled"}, {"layers": [2, 9, 9, 1]}],
                         ids=["gated variant", "input statistics", "network size"])
def test_a_checkpoint_of_another_network_is_refused_and_left_alone(tmp_path, other):
    """A network that differs in its variant or input statistics has parameters of the same shapes: the run key
    must tell them apart. One of another size is caught when its state is restored. Either way the file stays."""
    problem, budget = Helmholtz(), Budget("test", steps=10, batch_size=16, log_every=5, eval_every=10,
                                          checkpoint_every=10, grid_size=10)
    net, weighting = build("M3", problem, seed=3, **{"layers": [2, 8, 8, 1], **other})
    Trainer(problem, net, weighting, budget=budget, seed=3, checkpoint=tmp_path / "run.pt", progress=False).run()
    saved = (tmp_path / "run.pt").read_bytes()
    net, weighting = build("M3", problem, seed=3, layers=[2, 8, 8, 1])
    ours = Trainer(problem, net, weighting, budget=budget, seed=3, checkpoint=tmp_path / "run.pt", progress=False)
    with pytest.raises(CheckpointError, match="another run|does not fit this run"):
        ours.run(resume=True)
    assert (tmp_path / "run.pt").read_bytes() == saved


@pytest.mark.parametrize("change", [
    lambda state: state.update(step=10**30), lambda state: state.update(step=-5),
    lambda state: state.update(generator="x"), lambda state: state["histories"][0].update(wall_s=None),
    lambda state: state["histories"][0].update(rel_l2="abc"), lambda state: state["histories"][0].update(steps=5),
], ids=["step past the end", "negative step", "generator", "wall time", "errors", "logged steps"])
def test_a_checkpoint_of_this_run_whose_contents_do_not_fit_is_refused(tmp_path, change):
    """The run key matches, but an entry has the wrong type or range: one error naming the file, not a traceback
    from deep inside the loop, and not a run that silently skips or repeats steps."""
    make_trainer(tmp_path / "run.pt").run()
    state = torch.load(tmp_path / "run.pt", weights_only=True)
    change(state)
    torch.save(state, tmp_path / "run.pt")
    with pytest.raises(CheckpointError, match="run.pt does not fit this run"):
        make_trainer(tmp_path / "run.pt").run(resume=True)


def test_a_non_finite_loss_names_the_step_and_the_term(tmp_path):
    def poison_at_12(trainer, step):
        if step == 12:
            trainer.net.linears[-1].bias.data.fill_(float("nan"))

    trainer = make_trainer(tmp_path / "run.pt", poison_at_12)
    with pytest.raises(NonFiniteLossError, match=r"'residual' is nan at step 12.*run.pt \(step 10\)"):
        trainer.run()


def test_training_reduces_the_poisson_error():
    problem = Poisson1D(C=2.0)
    net, weighting = build("M1", problem, seed=0)
    history = train(problem, net, weighting, budget="quick", progress=False, device="cpu")
    assert history.losses["residual"][-1] < 0.1 * history.losses["residual"][0]
    assert history.final_error < 0.5


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "pinn_tutorial", *args], capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize("args,valid", [
    (["train", "no_such_problem"], ", ".join(PROBLEMS)),  # a reserved name: never a problem one day
    (["train", "helmholtz", "--method", "M7"], "M1, M2, M3, M4"),
    (["train", "helmholtz", "--budget", "huge"], "quick, default, paper"),
    (["train", "poisson1d", "--param", "k=2"], "its parameters are: C"),
])
def test_cli_refuses_unknown_names_in_one_line(args, valid, tmp_path):
    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and valid in done.stderr and "Traceback" not in done.stderr


def test_cli_train_writes_a_result_file(tmp_path):
    done = run_cli("train", "poisson1d", "--method", "M4", "--budget", "quick", "--steps", "30",
                   "--param", "C=4", "--out", "res", "--no-progress", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (path,) = (tmp_path / "res").glob("*.json")
    result = json.loads(path.read_text())
    assert path.name == "poisson1d_C4_M4-code_quick_30steps_seed0.json"
    for key in ("problem", "method", "budget", "seed", "steps", "rel_l2", "wall_s", "device", "torch", "history"):
        assert key in result
    assert result["steps"] == 30 and result["rel_l2"] == result["history"]["rel_l2"][-1]
    assert (result["width"], result["depth"], result["ensemble"]) == (50, 3, None)
    assert len(result["history"]["weights"]["boundary"]) == len(result["history"]["steps"])
