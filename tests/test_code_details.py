"""The original code's details that the library can switch on: when lambda is updated, how the
inputs are standardised, and where Adam adds its epsilon. Each against a hand computation."""

import copy
import math

import pytest
import torch

from pinn_tutorial import Helmholtz, Poisson1D, Trainer, build
from pinn_tutorial.config import Budget, ConfigError, sampler_generator
from pinn_tutorial.ensembles import EnsembleTrainer
from pinn_tutorial.reproduction.experiments import Experiment, ensemble_key
from pinn_tutorial.reproduction.paper_tables import summarise
from pinn_tutorial.reproduction.sweeps import CODE_DETAILS, named_sweep
from pinn_tutorial.weighting import LearningRateAnnealing, StepContext

BUDGET = Budget("test", steps=30, batch_size=16, log_every=1, eval_every=30, checkpoint_every=30, grid_size=10)
LAYERS = [2, 10, 10, 1]


def term_gradients(problem, net, batch, params):
    losses = problem.losses(net, batch)
    return {t: torch.autograd.grad(losses[t], params, retain_graph=True, allow_unused=True) for t in problem.terms}


def test_lambda_after_the_step_comes_from_the_new_parameters_on_the_same_batch():
    """Step 0 with after_step: Adam steps with lambda = 1, then Algorithm 1 reads the gradients at
    theta_1 on step 0's batch. Replayed by hand on a copy of the network."""
    problem = Helmholtz()
    net, weighting = build("M2", problem, seed=3, layers=LAYERS, lambda_update="after_step")
    net = net.double()
    by_hand, reference = copy.deepcopy(net), LearningRateAnnealing(problem.weighted_terms, pooling=weighting.pooling)
    trainer = Trainer(problem, net, weighting, budget=BUDGET, seed=3, steps=1, progress=False, device="cpu")
    trainer.run()

    batch = problem.sample(BUDGET.batch_size, sampler_generator(3))  # float32 points, as the trainer draws them
    params = list(by_hand.parameters())
    optimizer = torch.optim.Adam(params, lr=BUDGET.lr)
    losses = problem.losses(by_hand, batch)
    (losses["residual"] + losses["boundary"]).backward()  # lambda = 1 on the first step
    optimizer.step()
    grads = term_gradients(problem, by_hand, batch, params)
    chosen = [i for i, p in enumerate(params) if any(p is w for w in by_hand.weight_matrices())]
    reference.update(StepContext(gradients={t: [grads[t][i] for i in chosen] for t in ("residual", "boundary")}))

    assert weighting.weights["boundary"] == pytest.approx(reference.weights["boundary"], rel=1e-9)
    assert weighting.weights["boundary"] > 2  # the update happened, and moved lambda off 1
    for p, q in zip(net.parameters(), by_hand.parameters()):
        torch.testing.assert_close(p.detach(), q.detach(), rtol=1e-9, atol=1e-12)
    # The default reads theta_0 and its step at n = 0 already uses the new lambda: another step
    default_net, default = build("M2", problem, seed=3, layers=LAYERS)
    default_net = default_net.double()
    Trainer(problem, default_net, default, budget=BUDGET, seed=3, steps=1, progress=False, device="cpu").run()
    assert default.weights["boundary"] != pytest.approx(weighting.weights["boundary"], rel=1e-5)
    moved = [(p - q).abs().max() for p, q in zip(default_net.parameters(), net.parameters())]
    assert max(moved) > 1e-5


@pytest.mark.parametrize("compile", ["off", "on"])
def test_an_ensemble_member_with_lambda_after_the_step_equals_its_single_run(compile):
    problem = Poisson1D(C=4.0)
    budget = Budget("t", steps=21, batch_size=16, log_every=1, eval_every=21, checkpoint_every=21, grid_size=10)
    members = [("M2", 0, "after_step"), ("M2", 1, "before_step"), ("M1", 2, "after_step")]
    built = [build(m, problem, seed=s, layers=[1, 8, 8, 1], lambda_update=u) for m, s, u in members]
    dtype = torch.float64 if compile == "off" else torch.float32
    ensemble = EnsembleTrainer(problem, [net.to(dtype) for net, _ in built], [w for _, w in built],
                               [s for _, s, _ in members], budget=budget, device="cpu", progress=False,
                               compile=compile)
    histories = ensemble.run()
    assert ensemble.compiled == (compile == "on")
    for (method, seed, update), history in zip(members, histories):
        net, weighting = build(method, problem, seed=seed, layers=[1, 8, 8, 1], lambda_update=update)
        single = Trainer(problem, net.to(dtype), weighting, budget=budget, seed=seed, device="cpu",
                         progress=False, compile="off").run()
        rel = 1e-9 if dtype == torch.float64 else 1e-4
        assert history.weights["boundary"] == pytest.approx(single.weights["boundary"], rel=rel)
        assert history.losses["residual"] == pytest.approx(single.losses["residual"], rel=rel)
    assert histories[0].weights["boundary"][-1] > 2
    assert histories[0].weights["boundary"] != pytest.approx(histories[1].weights["boundary"], rel=1e-3)
    if compile == "on":  # the single run's compiled path too: its second pass at the new parameters
        net, weighting = build("M2", problem, seed=0, layers=[1, 8, 8, 1], lambda_update="after_step")
        single = Trainer(problem, net, weighting, budget=budget, seed=0, device="cpu", progress=False, compile="on")
        compiled = single.run()
        assert single.compiled
        assert compiled.weights["boundary"] == pytest.approx(histories[0].weights["boundary"], rel=1e-4)


def test_tf1_adam_puts_epsilon_on_the_uncorrected_root():
    """One step from a gradient g of the size of epsilon, where the two forms differ most:
    PyTorch moves lr g / (|g| + eps); TF1 moves lr sqrt(1 - b2) g / (sqrt(1 - b2) |g| + eps)."""
    g, lr = 1e-8, 1e-3
    moves = {}
    for adam in ("torch", "tf1"):
        problem = Poisson1D(C=1.0)
        net, weighting = build("M1", problem, seed=0, layers=[1, 4, 1])
        trainer = Trainer(problem, net.double(), weighting, budget=BUDGET, progress=False, device="cpu", adam=adam)
        before = [p.detach().clone() for p in trainer.params]
        for p in trainer.params:
            p.grad = torch.full_like(p, g)
        trainer._optimizer_step()
        moves[adam] = torch.cat([(b - p.detach()).flatten() for b, p in zip(before, trainer.params)])
    root = math.sqrt(1 - 0.999)
    torch.testing.assert_close(moves["torch"], torch.full_like(moves["torch"], lr * g / (g + 1e-8)))
    torch.testing.assert_close(moves["tf1"], torch.full_like(moves["tf1"], lr * root * g / (root * g + 1e-8)))


def test_sampled_input_scaling_is_the_statistics_of_the_seeded_draw():
    problem = Helmholtz()
    mean, std = problem.sampled_input_scaling(torch.Generator().manual_seed(5))
    points = problem.domain.sample(100_000, torch.Generator().manual_seed(5), dtype=torch.float64)
    assert mean == pytest.approx(points.mean(0).tolist(), rel=1e-12)
    assert std == pytest.approx(points.std(0, correction=0).tolist(), rel=1e-12)
    exact_mean, exact_std = problem.input_scaling()  # [0, 0] and [2 / sqrt(12)] * 2 on [-1, 1]^2
    assert mean == pytest.approx(exact_mean, abs=4 * exact_std[0] / 100_000**0.5)
    assert mean != exact_mean and std != pytest.approx(exact_std, rel=1e-6)

    sampled, _ = build("M4", problem, seed=5, layers=LAYERS, input_scaling="sampled")
    exact, _ = build("M4", problem, seed=5, layers=LAYERS)
    assert sampled.input_mean.tolist() == pytest.approx(mean, rel=1e-6)
    for p, q in zip(sampled.parameters(), exact.parameters()):  # the initialisation is that of the seed
        assert torch.equal(p, q)


def test_the_details_name_their_runs_and_rows():
    exp = Experiment("helmholtz", "M4", "paper", 1, lambda_update="after_step", input_scaling="sampled", adam="tf1")
    assert exp.stem() == "helmholtz_M4-code_paper_lambda-after_sampled-scaling_tf1-adam_seed1"
    # lambda_update means nothing without Algorithm 1: for M3 it is refused (the run would be the default one)
    with pytest.raises(ConfigError, match="M3 .* has no use for lambda_update"):
        Experiment("helmholtz", "M3", "paper", 1, lambda_update="after_step")
    # an ensemble shares one Adam, so the Adam form splits ensembles; the others do not
    default = Experiment("helmholtz", "M4", "paper", 1)
    assert ensemble_key(exp) != ensemble_key(default)
    assert ensemble_key(Experiment("helmholtz", "M4", "paper", 2, input_scaling="sampled")) == ensemble_key(default)
    rows = summarise([{"problem": "helmholtz", "method": "M4", "budget": "paper", "steps": 40000, "seed": s,
                       "rel_l2": 0.01 * (s + 1), "wall_s": 1.0, "hardware": "cpu", "lambda_update": update}
                      for s in range(2) for update in ("before_step", "after_step")])
    assert [row["setting"] for row in rows] == ["", "lambda after the Adam step"]


@pytest.mark.parametrize("field, value", [("lambda_update", "later"), ("input_scaling", "learned"),
                                          ("adam", "tf2")])
def test_an_unknown_detail_is_a_config_error_naming_the_choices(field, value):
    with pytest.raises(ConfigError, match="choose one of"):
        Experiment("helmholtz", "M4", "paper", **{field: value})


def test_the_code_details_sweep_is_m4_with_each_detail_and_all_of_them():
    runs = named_sweep("helmholtz-code-details", "paper", [0, 1])
    assert len(runs) == 2 * len(CODE_DETAILS) and {r.method for r in runs} == {"M4"}
    assert len({r.stem() for r in runs}) == len(runs)
    assert {r.method for r in named_sweep("helmholtz-code-details", "paper", [0], ("M2",))} == {"M2"}


def test_the_evaluation_grid_and_norm_are_the_original_codes():
    """The fourth candidate for the Helmholtz gap needs no run: Helmholtz2D.py evaluates on
    meshgrid(linspace(-1, 1, 100), linspace(-1, 1, 100)), and np.linalg.norm(., 2) of an (N, 1)
    column is its Euclidean norm; the library's grid holds the same points, in another order."""
    import numpy as np

    from pinn_tutorial.metrics import relative_l2

    problem = Helmholtz()
    x, exact, shape = problem.evaluation_grid(100)
    line = np.linspace(-1, 1, 100)
    x1, x2 = np.meshgrid(line, line)
    code = np.hstack((x1.flatten()[:, None], x2.flatten()[:, None]))
    assert shape == [100, 100]
    # (torch and NumPy may place a linspace point one rounding apart)
    np.testing.assert_allclose(np.unique(x.numpy(), axis=0), np.unique(code, axis=0), rtol=0, atol=1e-15)
    u_star = np.sin(np.pi * code[:, :1]) * np.sin(4 * np.pi * code[:, 1:])
    u_pred = u_star + 0.01 * np.cos(3 * code[:, :1])  # any prediction
    code_error = np.linalg.norm(u_star - u_pred, 2) / np.linalg.norm(u_star, 2)
    ours = relative_l2(torch.from_numpy(u_pred), torch.from_numpy(u_star))
    assert ours == pytest.approx(code_error, rel=1e-12)
    torch.testing.assert_close(problem.exact(torch.from_numpy(code)), torch.from_numpy(u_star))
