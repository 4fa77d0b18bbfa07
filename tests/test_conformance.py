"""What every registered problem must do, and the training protocol pinned against the paper's numbers.

Each test of the first part runs over ``PROBLEMS``: a new problem is tested by registering it. A problem's
declarations (its terms, conditions and parameters) must agree with what it samples and computes; its exact
solution must satisfy its PDE; and a run on it must come out the same eager and compiled, alone and as an
ensemble member, straight through and interrupted and resumed. The networks are tiny and the runs a few steps
long: these check that the paths agree, not that they train well.

The second part pins the protocol of the paper (arXiv:2001.04536 v1, section 3 and its code): 40,000 Adam steps,
the learning rate 1e-3 * 0.9^(step / 1000), 128 fresh points for each loss term at every step, and Algorithm 1's
weights updated every 10 steps.
"""

import dataclasses
import math
import signal

import pytest
import torch

from pinn_tutorial import Trainer, build
from pinn_tutorial.config import BUDGETS, Budget
from pinn_tutorial.ensembles import EnsembleTrainer
from pinn_tutorial.problems import PROBLEMS, get_problem, problem_parameters
from pinn_tutorial.problems.causal import CausalTraining
from pinn_tutorial.tangent_kernel import pointwise

BUDGET = Budget("test", steps=12, batch_size=16, log_every=1, eval_every=6, checkpoint_every=4, grid_size=8)
# torch.compile took 20 to 55 s per problem here (2 cores, a cold compile cache; 2 to 8 s warm), too long for every
# problem in every run. One problem stands for the compiled path, which every declarative problem shares (the base
# class's losses from the residual and the conditions); tests/test_fast_paths.py compiles poisson1d and the stream
# function's third derivatives. Add a problem here to check it compiled.
COMPILED = ("klein_gordon_causal",)


def tiny(problem, seed=0, method="M2"):
    """A network of two hidden layers of 8 for ``problem``, and the weighting of ``method`` (Algorithm 1 for M2)."""
    d, m = problem.default_layers[0], problem.default_layers[-1]
    return build(method, problem, seed=seed, layers=[d, 8, 8, m])


def trainer(problem, seed=0, **options):
    net, weighting = tiny(problem, seed)
    return Trainer(problem, net, weighting, budget=BUDGET, seed=seed, device="cpu", progress=False, **options)


def same_run(a, b):
    """Two runs' histories and networks are bit for bit the same."""
    assert a.history.losses == b.history.losses and a.history.weights == b.history.weights
    assert a.history.rel_l2 == b.history.rel_l2
    for p, q in zip(a.net.parameters(), b.net.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


# -- the declarations agree with what a problem does ------------------------------------------------------------------

@pytest.mark.parametrize("name", PROBLEMS)
def test_terms_match_the_losses_and_the_points_stay_in_the_domain(name):
    problem = get_problem(name)
    assert problem.name == name and problem.terms[0] == "residual" and problem.weighted_terms == problem.terms[1:]
    batch = problem.sample(BUDGET.batch_size, torch.Generator().manual_seed(0))
    low, high = problem.domain.low.float(), problem.domain.high.float()
    for key, x in batch.items():
        assert x.dtype == torch.float32 and x.shape[1] == problem.domain.dim, key
        assert ((x >= low) & (x <= high)).all(), f"{key} leaves the domain"
    assert len(batch["residual"]) == BUDGET.batch_size
    net, _ = tiny(problem)
    losses = problem.losses(net, batch)
    assert tuple(losses) == problem.terms
    assert all(v.dim() == 0 and math.isfinite(v.item()) for v in losses.values())


@pytest.mark.parametrize("name", PROBLEMS)
def test_the_pointwise_values_square_to_the_losses(name):
    # Each term is a mean of squares over each point set's rows, summed over the sets and the columns (or averaged
    # over the columns): rebuilt here from ``pointwise``, set by set, against ``losses``.
    problem = get_problem(name)
    batch = problem.sample(BUDGET.batch_size, torch.Generator().manual_seed(0))
    net, _ = tiny(problem)
    values, losses = pointwise(problem, net, batch), problem.losses(net, batch)
    assert tuple(values) == problem.terms
    columns = {term: c.columns for c in problem.conditions for term in c.terms}
    causal = isinstance(problem, CausalTraining)  # its residual term weights the chunks: not a plain mean
    for term, v in values.items():
        if term == "residual" and causal:
            continue
        per_set = torch.stack([s.pow(2).mean(0) for s in v.split(BUDGET.batch_size)])  # (sets, c)
        rebuilt = (per_set.mean(1) if columns.get(term) == "mean" else per_set.sum(1)).sum()
        torch.testing.assert_close(rebuilt, losses[term], rtol=1e-6, atol=0), term


@pytest.mark.parametrize("name", PROBLEMS)
def test_parameters_are_declared_once_with_their_types_and_repr_rebuilds_the_problem(name):
    parameters = problem_parameters(name)
    assert all(p.annotation in (int, float) and isinstance(p.default, p.annotation) for p in parameters.values())
    problem = get_problem(name, **{p: q.default for p, q in parameters.items()})
    assert repr(problem) == repr(PROBLEMS[name]())
    namespace = {cls.__name__: cls for cls in PROBLEMS.values()} | {"CausalTraining": CausalTraining}
    assert repr(eval(repr(problem), namespace)) == repr(problem)  # the run key names every parameter
    # The network is known without building the problem (the results table reads it from the class).
    layers = PROBLEMS[name].default_layers
    assert layers[0] == problem.domain.dim and layers == problem.default_layers


@pytest.mark.parametrize("name", PROBLEMS)
def test_the_exact_solution_satisfies_the_pde(name):
    problem = get_problem(name)
    x = problem.domain.sample(64, torch.Generator().manual_seed(1), dtype=torch.float64)
    if problem.exact(x).shape[1] != problem.default_layers[-1]:
        pytest.skip(f"{name}'s reference is |u| from a finite-difference solution, not a field of the network's "
                    "outputs (tests/test_cavity.py checks it against Ghia et al.)")
    r = problem.residual(problem.exact, x.clone())
    scale = problem.residual(lambda z: problem.exact(z) / 2, x.clone()).abs().max()  # a field that is not a solution
    assert r.abs().max() <= 1e-6 * scale


# -- the paths of a run agree ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", PROBLEMS)
def test_eager_equals_compiled(name):
    problem = get_problem(name)
    if not problem.compilable:
        pytest.skip(f"{name} has nested autograd in its loss: it always runs eagerly")
    if name not in COMPILED:
        pytest.skip("compiling takes 20-55 s per problem on a CPU: see COMPILED")
    eager, compiled = trainer(problem, compile="off"), trainer(problem, compile="on")
    eager.run()
    compiled.run()
    assert compiled.compiled  # it did not fall back to eager
    for term in problem.terms:
        assert compiled.history.losses[term] == pytest.approx(eager.history.losses[term], rel=1e-4), term
    for p, q in zip(compiled.net.parameters(), eager.net.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", PROBLEMS)
def test_an_ensemble_member_equals_its_single_run(name):
    """In float64, so that the batched and the single computation agree to far below what a step changes."""
    problem, seeds = get_problem(name), [0, 1]
    nets, weightings = zip(*[tiny(problem, seed) for seed in seeds])
    ensemble = EnsembleTrainer(problem, [net.double() for net in nets], weightings, seeds, budget=BUDGET,
                               device="cpu", progress=False)
    ensemble.x_eval, ensemble.u_eval = ensemble.x_eval.double(), ensemble.u_eval.double()
    histories = ensemble.run()
    for e, seed in enumerate(seeds):
        net, weighting = tiny(problem, seed)
        single = Trainer(problem, net.double(), weighting, budget=BUDGET, seed=seed, device="cpu", progress=False)
        single.x_eval, single.u_eval = single.x_eval.double(), single.u_eval.double()
        single.run()
        for term in problem.terms:
            assert histories[e].losses[term] == pytest.approx(single.history.losses[term], rel=1e-9), term
        for term in problem.weighted_terms:
            assert histories[e].weights[term] == pytest.approx(single.history.weights[term], rel=1e-9), term
        assert histories[e].rel_l2 == pytest.approx(single.history.rel_l2, rel=1e-9)
        for p, q in zip(ensemble.member(e).parameters(), single.net.parameters()):
            torch.testing.assert_close(p.detach(), q.detach(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", PROBLEMS)
def test_a_resumed_run_is_bit_identical(name, tmp_path):
    problem = get_problem(name)
    straight = trainer(problem)
    straight.run()

    def interrupt_at_7(run, step):
        if step == 7:  # between two checkpoints (every 4 steps): the run saves at 7 as it stops
            signal.raise_signal(signal.SIGINT)  # what Ctrl-C does

    with pytest.raises(KeyboardInterrupt):
        trainer(problem, checkpoint=tmp_path / "run.pt", callback=interrupt_at_7).run()
    resumed = trainer(problem, checkpoint=tmp_path / "run.pt")
    resumed.run(resume=True)
    assert resumed.step == BUDGET.steps
    same_run(straight, resumed)
    assert straight.history.weights[problem.weighted_terms[0]][-1] != 1.0  # Algorithm 1's state was resumed too


# -- the paper's protocol ----------------------------------------------------------------------------------------------

def test_the_paper_budget_is_40000_steps_of_128_points_per_term():
    # The paper's runs (section 3; `model.train(nIter=40001, batch_size=128)` in its code) and the two shorter budgets.
    steps = {name: (b.steps, b.batch_size) for name, b in BUDGETS.items()}
    assert steps == {"quick": (300, 64), "default": (6000, 128), "paper": (40000, 128)}


@pytest.mark.parametrize("name", ["helmholtz", "klein_gordon"])
def test_every_term_gets_its_own_128_points(name):
    # The original code draws 128 fresh points for the residual, for each boundary edge and for the initial slice.
    problem = get_problem(name)
    batch = problem.sample(BUDGETS["paper"].batch_size, torch.Generator().manual_seed(0))
    assert len(batch) > len(problem.terms) and all(len(x) == 128 for x in batch.values())


def test_the_learning_rate_follows_the_papers_schedule_as_the_trainer_runs_it():
    # lr = 1e-3 * 0.9^(step / 1000), a continuous curve (TensorFlow's exponential_decay, staircase=False).
    paper = BUDGETS["paper"]
    assert (paper.lr, paper.decay_rate, paper.decay_steps) == (1e-3, 0.9, 1000)
    budget = dataclasses.replace(paper, steps=2001, log_every=500, eval_every=2001, grid_size=4)
    problem = get_problem("poisson1d")
    net, weighting = build("M1", problem, seed=0, layers=[1, 2, 1])
    history = Trainer(problem, net, weighting, budget=budget, device="cpu", progress=False, compile="off").run()
    assert history.steps == [0, 500, 1000, 1500, 2000]
    assert history.lr == pytest.approx([1e-3 * 0.9 ** (s / 1000) for s in history.steps], rel=1e-9)
    assert history.lr[2] == pytest.approx(9e-4, rel=1e-9) and history.lr[4] == pytest.approx(8.1e-4, rel=1e-9)


@pytest.mark.parametrize("method", ["M2", "M4"])
def test_algorithm_1_updates_its_weights_every_10_steps(method):
    # "update lambda_i every 10 iterations" (Algorithm 1); test_methods pins update_every = 10 on the objects,
    # this that the trainer applies it: the logged weight changes at steps 0, 10 and 20 only.
    problem = get_problem("helmholtz")
    net, weighting = build(method, problem, seed=0, layers=[2, 8, 8, 1])
    budget = dataclasses.replace(BUDGET, steps=25)
    weights = Trainer(problem, net, weighting, budget=budget, device="cpu", progress=False).run().weights["boundary"]
    changed = [s for s in range(1, 25) if weights[s] != weights[s - 1]]
    assert weights[0] != 1.0 and changed == [10, 20]
