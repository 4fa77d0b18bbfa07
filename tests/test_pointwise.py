"""Pointwise weights (SA-PINN, RBA) against hand computations of their published updates; the loss weighing each
point as the batch says; the pool they draw from; and the refusals. (Every registered scheme also runs through
tests/test_weighting_conformance.py: eager equal to compiled, ensemble member equal to its single run, resumed
equal to uninterrupted.)"""

import math

import pytest
import torch

from pinn_tutorial import Helmholtz, Trainer, build
from pinn_tutorial.config import Budget, ConfigError
from pinn_tutorial.ensembles import EnsembleTrainer
from pinn_tutorial.problems import get_problem
from pinn_tutorial.problems.base import POINT_WEIGHTS
from pinn_tutorial.weighting import make_weighting
from pinn_tutorial.weighting.pointwise import FixedPool, point_squares, weigh_points
from pinn_tutorial.weighting.rba import ResidualBasedAttention
from pinn_tutorial.weighting.sa_pinn import SelfAdaptive

BUDGET = Budget("tiny", steps=6, batch_size=16, lr=1e-3, decay_rate=0.9, decay_steps=1000, log_every=1,
                eval_every=3, checkpoint_every=3, grid_size=8)
LAYERS = [2, 8, 8, 1]


def with_state(weighting, size, index, generator=None):
    """``weighting`` holding a residual set of ``size`` pool points, with this step's points at ``index``."""
    weighting.state = {"residual": weighting.start(size, generator)}
    weighting.index = {"residual": torch.tensor(index)}
    return weighting


# -- RBA (Anagnostopoulos et al. 2024): lambda_n <- gamma lambda_n + eta |r_n| / max |r| ------------------------
def test_rba_by_hand():
    rba = with_state(ResidualBasedAttention(["boundary"], eta=0.1, gamma=0.5), 4, [0, 1, 3])
    # |r| = 2, 1, 0 at pool points 0, 1, 3: lambda = 0.1 * (1, 1/2, 0); the loss weighs them by lambda^2.
    weights = rba.weigh({"residual": torch.tensor([4.0, 1.0, 0.0])})
    assert weights["residual"].tolist() == pytest.approx([0.01, 0.0025, 0.0])
    assert rba.state["residual"]["tau"].tolist() == pytest.approx([0.1, 0.05, 0.0, 0.0])
    # Next step, points 3 and 0 with |r| = 2 and 1: lambda_3 = 0 / 2 + 0.1 * 1, lambda_0 = 0.1 / 2 + 0.1 * 1/2.
    rba.index = {"residual": torch.tensor([3, 0])}
    weights = rba.weigh({"residual": torch.tensor([4.0, 1.0])})
    assert rba.state["residual"]["tau"].tolist() == pytest.approx([0.1, 0.05, 0.0, 0.1])
    assert weights["residual"].tolist() == pytest.approx([0.01, 0.01])
    assert set(weights) == {"residual"}  # the conditions keep their plain means


def test_rba_weights_stay_below_their_bound_and_a_zero_residual_gives_zero():
    rba = with_state(ResidualBasedAttention(["boundary"]), 3, [0, 1, 2])
    for _ in range(3000):
        weights = rba.weigh({"residual": torch.tensor([9.0, 1.0, 0.0])})
    bound = (0.001 / (1 - 0.999)) ** 2
    assert weights["residual"].max().item() <= bound
    assert weights["residual"][0] == pytest.approx(bound * (1 - 0.999**3000) ** 2, rel=1e-6)
    assert rba.weigh({"residual": torch.zeros(3)})["residual"].isfinite().all()


# -- SA-PINN (McClenny & Braga-Neto 2023): gradient ascent on the weights, m(lambda) = lambda^2 -----------------
def test_sa_pinn_by_hand():
    sa = with_state(SelfAdaptive(["boundary"]), 3, [0, 2], torch.Generator().manual_seed(0))
    sa.state["residual"]["tau"] = torch.tensor([0.5, 0.9, 0.2], dtype=torch.float64)
    # dL/dlambda_n = 2 lambda_n s_n / N = 2 * 0.5 * 2 / 2 = 1 and 0. Adam's first step is lr * g / |g| = lr.
    weights = sa.weigh({"residual": torch.tensor([2.0, 0.0])})
    assert weights["residual"].tolist() == pytest.approx([0.25, 0.04])  # lambda^2 before the ascent step
    assert sa.state["residual"]["tau"].tolist() == pytest.approx([0.505, 0.9, 0.2])
    # Point 0 again, alone (N = 1), s = 1: g = 2 * 0.505 = 1.01, Adam's second step for this point.
    sa.index = {"residual": torch.tensor([0])}
    sa.weigh({"residual": torch.tensor([1.0])})
    m = 0.9 * 0.1 + 0.1 * 1.01                       # first moment after two visits
    v = 0.999 * 0.001 + 0.001 * 1.01**2              # second moment
    step = 0.005 * (m / (1 - 0.9**2)) / math.sqrt(v / (1 - 0.999**2))
    assert sa.state["residual"]["tau"][0].item() == pytest.approx(0.505 + step, rel=1e-9)
    assert sa.state["residual"]["visits"].tolist() == [2, 0, 1]


@pytest.mark.parametrize("name", ["helmholtz", "klein_gordon", "cavity_stream"])
def test_the_ascent_reads_the_true_derivative_of_the_loss_by_each_weight(name):
    """s_n / N (``point_squares``) is dL/dw_n of L = L_r + sum_i L_i, so 2 lambda_n s_n / N is SA-PINN's
    dL/dlambda_n."""
    problem = get_problem(name)
    net, _ = build("M1", problem, seed=0, layers=[problem.domain.dim, 8, 8, problem.default_layers[-1]])
    batch = problem.sample(6, torch.Generator().manual_seed(1))
    weights = {s: torch.rand(6, generator=torch.Generator().manual_seed(2), requires_grad=True) for s in batch}
    losses = problem.losses(net, batch | {POINT_WEIGHTS + s: w for s, w in weights.items()})
    gradients = torch.autograd.grad(sum(losses.values()), list(weights.values()))
    squares = point_squares(problem, net, batch)
    for s, g in zip(weights, gradients):
        torch.testing.assert_close(squares[s].detach() / 6, g, rtol=1e-5, atol=1e-8)


# -- the loss weighs each point as the batch says -------------------------------------------------------------------
def test_the_loss_weighs_each_point_and_unit_weights_give_the_plain_loss():
    problem = Helmholtz()
    net, _ = build("M1", problem, seed=0, layers=LAYERS)
    batch = problem.sample(5, torch.Generator().manual_seed(0))
    w = torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0])
    weighted = problem.losses(net, batch | {POINT_WEIGHTS + "residual": w, POINT_WEIGHTS + "top": w})
    plain = problem.losses(net, batch)
    r = problem.residual(net, batch["residual"]).reshape(-1)
    assert weighted["residual"].item() == pytest.approx((w * r**2).mean().item(), rel=1e-6)
    top = (net(batch["top"]) - problem.exact(batch["top"])).reshape(-1)
    others = plain["boundary"] - (top**2).mean()
    assert weighted["boundary"].item() == pytest.approx((others + (w * top**2).mean()).item(), rel=1e-6)
    ones = {POINT_WEIGHTS + s: torch.ones(5) for s in batch}
    for term, value in problem.losses(net, batch | ones).items():
        assert value.item() == pytest.approx(plain[term].item(), rel=1e-6)


# -- the pool -------------------------------------------------------------------------------------------------------
def test_each_step_draws_distinct_points_of_one_pool_drawn_once():
    problem, generator = Helmholtz(), torch.Generator().manual_seed(0)
    scheme = FixedPool(problem.weighted_terms, pool=40)
    first = scheme.sample(problem, 16, generator)
    pool = {s: x.clone() for s, x in scheme.points.items()}
    for _ in range(5):
        batch = scheme.sample(problem, 16, generator)
        for s, x in batch.items():
            assert len(scheme.index[s].unique()) == 16 and torch.equal(x, pool[s][scheme.index[s]])
    assert all(torch.equal(scheme.points[s], pool[s]) for s in pool) and len(pool["residual"]) == 40
    assert not torch.equal(first["residual"], batch["residual"])


def trainer(weighting, seed=0, problem=None, **options):
    problem = problem or Helmholtz()
    net, _ = build("M1", problem, seed=seed, layers=LAYERS)
    return Trainer(problem, net, weighting, budget=BUDGET, seed=seed, progress=False, device="cpu", **options)


def test_the_trainer_steps_on_the_weighted_loss():
    """RBA's first weights are (eta |r| / max |r|)^2, a millionth: the residual all but leaves the first step's
    loss, which is then the boundary's alone (against M1's loss of both)."""
    problem = Helmholtz()
    run = trainer(ResidualBasedAttention(problem.weighted_terms, pool=64), steps=1)
    points = run._sample()
    batch = weigh_points(run.weightings, points, run._point_squares(points), run._member_slice, run._stack)
    assert batch[POINT_WEIGHTS + "residual"].max().item() == pytest.approx(1e-6, rel=1e-5)
    points = {s: x for s, x in batch.items() if not s.startswith(POINT_WEIGHTS)}
    weighted, plain = run.losses(batch), problem.losses(run.net, points)
    assert 0 < weighted["residual"].item() <= 1e-6 * plain["residual"].item() * (1 + 1e-5)
    assert weighted["boundary"].item() == plain["boundary"].item()


def test_an_ensemble_member_holds_the_point_weights_of_its_single_run():
    problem = Helmholtz()
    single = SelfAdaptive(problem.weighted_terms, pool=64)
    trainer(single, seed=1, compile="off").run()
    members = [SelfAdaptive(problem.weighted_terms, pool=64) for _ in range(2)]
    nets = [build("M1", problem, seed=s, layers=LAYERS)[0] for s in (0, 1)]
    EnsembleTrainer(problem, nets, members, [0, 1], budget=BUDGET, progress=False, device="cpu",
                    compile="off").run()
    for s, state in single.state.items():
        torch.testing.assert_close(members[1].state[s]["tau"], state["tau"], rtol=1e-5, atol=1e-7)
        assert torch.equal(members[1].state[s]["visits"], state["visits"])


# -- refusals ---------------------------------------------------------------------------------------------------------
def test_bad_settings_and_unfit_runs_are_refused():
    for name, bad in (("rba", {"gamma": 1.0}), ("rba", {"eta": -1.0}), ("sa_pinn", {"lr": 0.0}),
                      ("sa_pinn", {"pool": 0}), ("fixed_pool", {"pool": 2.5})):
        with pytest.raises(ConfigError, match=next(iter(bad))):
            make_weighting(name, ["boundary"], **bad)
    with pytest.raises(ConfigError, match="pool .* smaller than the batch"):
        trainer(ResidualBasedAttention(["boundary"], pool=8)).run()
    causal = get_problem("klein_gordon_causal")
    with pytest.raises(ConfigError, match="does not take"):
        Trainer(causal, build("M1", causal, seed=0, layers=LAYERS)[0],
                ResidualBasedAttention(causal.weighted_terms), budget=BUDGET, progress=False).run()
    problem = Helmholtz()
    nets = [build("M1", problem, seed=s, layers=LAYERS)[0] for s in (0, 1)]
    with pytest.raises(ValueError, match="all weigh points .* or none"):
        EnsembleTrainer(problem, nets, [make_weighting("fixed", problem.weighted_terms),
                                        ResidualBasedAttention(problem.weighted_terms)], [0, 1], budget=BUDGET)
