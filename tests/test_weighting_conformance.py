"""Every registered weighting scheme, through the one step engine: the compiled step equals the eager one, an
ensemble member equals its single run, a resumed run equals the uninterrupted one, and the trainer leaves the
process's global state as it found it. A new scheme is tested here by registering it."""

import copy

import pytest
import torch

from pinn_tutorial import Helmholtz, Trainer, build
from pinn_tutorial.config import Budget
from pinn_tutorial.ensembles import EnsembleTrainer
from pinn_tutorial.weighting import WEIGHTINGS, make_weighting

BUDGET = Budget("tiny", steps=24, batch_size=16, lr=1e-3, decay_rate=0.9, decay_steps=1000, log_every=1,
                eval_every=8, checkpoint_every=8, grid_size=8)
LAYERS = [2, 8, 8, 1]
# Each scheme updating often enough to move within the run (the registered defaults update every 10 steps or more).
SETTINGS = {"annealing": {"update_every": 3}, "gradient_norm": {"update_every": 3}, "ntk": {"update_every": 3},
            "relobralo": {"alpha": 0.1, "rho": 0.5}}


def weighting(name, problem):
    return make_weighting(name, problem.weighted_terms, **SETTINGS.get(name, {}))


def trainer(name, seed=0, **options):
    problem = Helmholtz()
    net, _ = build("M1", problem, seed=seed, layers=LAYERS)
    return Trainer(problem, net, weighting(name, problem), budget=BUDGET, seed=seed, progress=False, device="cpu",
                   **options)


def test_every_scheme_is_here():
    assert set(WEIGHTINGS) >= {"fixed", "annealing", "gradient_norm", "ntk", "relobralo", "softadapt", "pcgrad",
                                "config"}


@pytest.mark.parametrize("name", sorted(WEIGHTINGS))
def test_an_ensemble_member_is_its_single_run(name):
    problem = Helmholtz()
    single = trainer(name, seed=1, compile="off").run()
    nets = [build("M1", problem, seed=s, layers=LAYERS)[0] for s in (0, 1)]
    histories = EnsembleTrainer(problem, nets, [weighting(name, problem) for _ in nets], [0, 1], budget=BUDGET,
                                progress=False, device="cpu", compile="off").run()
    assert histories[1].weights["boundary"] == pytest.approx(single.weights["boundary"], rel=1e-4)
    assert histories[1].rel_l2 == pytest.approx(single.rel_l2, rel=1e-4)


@pytest.mark.parametrize("name", sorted(WEIGHTINGS))
def test_a_resumed_run_is_the_uninterrupted_one(name, tmp_path):
    whole = trainer(name, compile="off").run()

    def interrupt(run, step):
        if step == 11:
            run._interrupted = True  # as Ctrl-C: finish the step, save, stop

    with pytest.raises(KeyboardInterrupt):
        trainer(name, compile="off", checkpoint=tmp_path / "run.pt", callback=interrupt).run()
    resumed = trainer(name, compile="off", checkpoint=tmp_path / "run.pt").run(resume=True)
    assert resumed.weights == whole.weights and resumed.losses == whole.losses and resumed.rel_l2 == whole.rel_l2


@pytest.mark.parametrize("name", sorted(WEIGHTINGS))
def test_the_compiled_step_is_the_eager_one(name):
    eager = trainer(name, compile="off")
    compiled = trainer(name, compile="on")
    eager_history, compiled_history = eager.run(), compiled.run()
    assert compiled.compiled, "torch.compile failed here, so nothing was compared"
    assert compiled_history.weights["boundary"] == pytest.approx(eager_history.weights["boundary"], rel=1e-4)
    for p, q in zip(eager.net.parameters(), compiled.net.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-6)


def test_a_trainer_leaves_the_global_state_as_it_found_it():
    """Constructing and running a trainer changes neither the thread count nor the global random stream."""
    problem = Helmholtz()
    net, _ = build("M1", problem, seed=0, layers=LAYERS)
    torch.manual_seed(12345)  # a stream of its own, which nothing here draws from
    threads, rng = torch.get_num_threads(), torch.random.get_rng_state()
    run = Trainer(problem, net, weighting("annealing", problem), budget=BUDGET, progress=False, device="cpu")
    assert torch.get_num_threads() == threads
    run.run()
    assert torch.get_num_threads() == threads and torch.equal(torch.random.get_rng_state(), rng)


def test_a_scheme_that_reads_a_group_the_network_does_not_declare_is_refused():
    problem = Helmholtz()
    plain = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    code_form = make_weighting("annealing", problem.weighted_terms)  # reads the weight matrices alone
    with pytest.raises(Exception, match="weight_matrices.*Sequential does not declare"):
        Trainer(problem, copy.deepcopy(plain), code_form, budget=BUDGET, progress=False, device="cpu")
    Trainer(problem, plain, make_weighting("annealing", problem.weighted_terms, form="paper"), budget=BUDGET,
            progress=False, device="cpu").run()  # the printed form reads all parameters: any network will do
