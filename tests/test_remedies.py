"""The later remedies against hand computations of their published update rules, and the engine stepping along a
gradient-surgery scheme's own direction. (Every registered scheme also runs through the conformance suite,
tests/test_weighting_conformance.py: eager equal to compiled, ensemble member equal to its single run, resumed
equal to uninterrupted.)"""

import copy
import math

import pytest
import torch

from pinn_tutorial import Helmholtz, Trainer, build
from pinn_tutorial.config import Budget, ConfigError
from pinn_tutorial.diagnostics import ntk_trace
from pinn_tutorial.problems import get_problem
from pinn_tutorial.soap import soap
from pinn_tutorial.tangent_kernel import PointValues, diagonal_means, pointwise
from pinn_tutorial.weighting import (
    WEIGHTINGS,
    ConFIG,
    NTKWeighting,
    PCGrad,
    SoftAdapt,
    StepContext,
    make_weighting,
)
from pinn_tutorial.weighting.softadapt import softadapt_weights

BUDGET = Budget("tiny", steps=4, batch_size=16, lr=1e-3, decay_rate=0.9, decay_steps=1000, log_every=1,
                eval_every=2, checkpoint_every=2, grid_size=8)
LAYERS = [2, 8, 8, 1]


# -- SoftAdapt (arXiv:1912.12355, section 3.1.1: the loss-weighted variant) ------------------------------------
def test_softadapt_by_hand():
    # Residual 2 -> 1 (change -1), boundary 1 -> 1.5 (change 0.5): normalised by 1.5, the slopes are -2/3 and 1/3.
    # With beta = 3: alpha_r : alpha_b = 1 e^{-2} : 1.5 e^{1}, so lambda_b = alpha_b / alpha_r = 1.5 e^3.
    weighting = SoftAdapt(["boundary"], beta=3.0)
    weighting.update(StepContext(0, {"residual": 2.0, "boundary": 1.0}))
    assert weighting.weights == {"boundary": 1.0}  # no slope yet
    weighting.update(StepContext(1, {"residual": 1.0, "boundary": 1.5}))
    assert weighting.weights["boundary"] == pytest.approx(1.5 * math.e**3, rel=1e-7)
    alpha = softadapt_weights({"r": 1.0, "b": 1.5}, {"r": 2.0, "b": 1.0}, 3.0)
    assert sum(alpha.values()) == pytest.approx(1.0)
    assert alpha["b"] == pytest.approx(1.5 * math.e / (math.e**-2 + 1.5 * math.e), rel=1e-7)


def test_softadapt_weights_do_not_scale_with_the_loss_and_bad_settings_are_refused():
    # Slopes of thousands (Helmholtz's residual early on) give the weights that slopes of one give, times the
    # losses' ratio: the normalised slopes are the same.
    small = softadapt_weights({"r": 1.0, "b": 1.0}, {"r": 2.0, "b": 1.5}, 0.1)
    large = softadapt_weights({"r": 1000.0, "b": 1000.0}, {"r": 2000.0, "b": 1500.0}, 0.1)
    assert large == pytest.approx(small, rel=1e-9)
    for bad in ({"beta": math.inf}, {"update_every": 0}, {"update_every": 1.5}):
        with pytest.raises(ConfigError, match=next(iter(bad))):
            make_weighting("softadapt", ["boundary"], **bad)


# -- NTK weighting (Wang, Yu & Perdikaris 2022, Algorithm 1) -----------------------------------------------------
def test_ntk_weighting_by_hand():
    # k_r = 40, k_b = 8: lambda_hat = 5; from 1 with alpha = 0.1, 0.9 * 1 + 0.1 * 5 = 1.4, then 0.9 * 1.4 + 0.5 = 1.76.
    weighting = NTKWeighting(["boundary"])
    assert weighting.updates_at(0) and not weighting.updates_at(10) and weighting.updates_at(100)
    for expected in (1.4, 1.76):
        weighting.update(StepContext(0, kernel={"residual": 40.0, "boundary": 8.0}))
        assert weighting.weights["boundary"] == pytest.approx(expected, rel=1e-12)
    weighting.update(StepContext(0, kernel={"residual": 40.0, "boundary": 0.0}))
    assert weighting.weights["boundary"] == math.inf  # a term the parameters do not move: the trainer reports it


@pytest.mark.parametrize("problem_name", ["helmholtz", "klein_gordon"])
def test_the_kernel_diagonal_is_each_points_squared_gradient_norm(problem_name):
    # One backward pass per value, point by point: ||d f_t(x_n) / d theta||^2, averaged over the rows and columns.
    problem = get_problem(problem_name)
    net, _ = build("M1", problem, seed=0, layers=[problem.default_layers[0], 8, 8, problem.default_layers[-1]])
    batch = problem.sample(6, torch.Generator().manual_seed(0))
    params = {f"net.{n}": p.detach() for n, p in net.named_parameters()}
    means = diagonal_means(PointValues(problem, net), params, {}, batch, list(params))
    for term, values in pointwise(problem, net, batch).items():
        squares = [sum(g.pow(2).sum() for g in torch.autograd.grad(v, list(net.parameters()), retain_graph=True,
                                                                   allow_unused=True) if g is not None)
                   for v in values.reshape(-1)]
        torch.testing.assert_close(means[term], torch.stack(squares).mean(), rtol=1e-5, atol=0)
    # The book's point-by-point trace of the residual's kernel is N times its mean diagonal.
    trace = ntk_trace(net, problem.residual, batch["residual"])
    assert trace == pytest.approx(len(batch["residual"]) * float(means["residual"]), rel=1e-5)
    # Over the weight matrices alone, the biases' share is left out.
    weights_only = diagonal_means(PointValues(problem, net), params, {}, batch, [n for n in params if "weight" in n])
    assert all(weights_only[t] < means[t] for t in means)


def test_ntk_weighting_is_refused_before_any_work_where_the_loss_cannot_be_mapped():
    problem = Helmholtz()
    net, weighting = build("mlp+ntk", problem, layers=LAYERS)
    with pytest.raises(ConfigError, match="derivatives='auto'"):
        Trainer(problem, net, weighting, budget=BUDGET, derivatives="autograd", progress=False)


# -- SOAP (Vyas et al. 2024, Algorithm 3), the optimiser --------------------------------------------------------
def test_soap_steps_along_the_gradient_with_its_singular_values_set_to_one():
    # A constant gradient G = U S V^T: Adam in G's eigenbasis steps W by -lr U V^T (Adam's -lr sign(G) rotated), after
    # a first step that only builds the basis; a bias (a vector) takes Adam's own step, -lr sign(g).
    g_w = torch.tensor([[1.0, 2.0], [0.5, -1.0], [3.0, 0.0]], dtype=torch.float64)
    g_b = torch.tensor([0.5, -2.0], dtype=torch.float64)
    w = torch.zeros(3, 2, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    optimizer, lr = soap([w, b], lr=0.1), 0.1
    u, _, v_t = torch.linalg.svd(g_w, full_matrices=False)
    moves = []
    for _ in range(3):
        before = (w.detach().clone(), b.detach().clone())
        w.grad, b.grad = g_w.clone(), g_b.clone()
        optimizer.step()
        moves.append((w.detach() - before[0], b.detach() - before[1]))
    assert moves[0][0].abs().max() == 0 and moves[0][1].abs().max() == 0
    for move_w, move_b in moves[1:]:
        torch.testing.assert_close(move_w, -lr * u @ v_t, rtol=0, atol=1e-6)
        torch.testing.assert_close(move_b, -lr * torch.sign(g_b), rtol=0, atol=1e-6)


def test_a_soap_run_resumes_as_if_uninterrupted_and_refuses_an_adam_form(tmp_path):
    def run(**options):
        problem = Helmholtz()
        net, weighting = build("M1", problem, seed=0, layers=LAYERS)
        return Trainer(problem, net, weighting, budget=BUDGET, progress=False, device="cpu", compile="off",
                       optimizer="soap", **options)

    whole = run().run()

    def interrupt(trainer, step):
        if step == 2:
            trainer._interrupted = True

    with pytest.raises(KeyboardInterrupt):
        run(checkpoint=tmp_path / "run.pt", callback=interrupt).run()
    resumed = run(checkpoint=tmp_path / "run.pt").run(resume=True)
    assert resumed.losses == whole.losses and resumed.rel_l2 == whole.rel_l2
    with pytest.raises(ConfigError, match="takes none"):
        run(adam="tf1")


# -- PCGrad (Yu et al. 2020, Algorithm 1) ------------------------------------------------------------------------
def test_pcgrad_projects_conflicting_gradients_by_hand():
    # g1 = (1, 0), g2 = (-1, 1): g1.g2 = -1 < 0, so g1 <- g1 + g2 / 2 = (0.5, 0.5) and g2 <- g2 + g1 = (0, 1).
    d = PCGrad(["boundary"]).direction(torch.tensor([[1.0, 0.0], [-1.0, 1.0]]))
    torch.testing.assert_close(d, torch.tensor([0.5, 1.5]))
    agreeing = torch.tensor([[1.0, 0.0], [1.0, 1.0]])  # no conflict: the plain sum
    torch.testing.assert_close(PCGrad(["boundary"]).direction(agreeing), agreeing.sum(0))


# -- ConFIG (Liu, Chu & Thuerey 2025) ----------------------------------------------------------------------------
def test_config_by_hand():
    # Orthogonal g1 = (1, 0), g2 = (0, 2): g_u = (1, 1) / sqrt 2, d = (g1.g_u + g2.g_u) g_u = (3 / sqrt 2) g_u.
    d = ConFIG(["boundary"]).direction(torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
    torch.testing.assert_close(d, torch.tensor([1.5, 1.5]))


def test_config_makes_equal_positive_angles_with_three_conflicting_gradients():
    g = torch.tensor([[1.0, 0.0, 0.0], [-0.9, 1.0, 0.0], [0.2, -0.5, 1.0]])
    d = ConFIG(["a", "b"]).direction(g)
    cosines = (g / g.norm(dim=1, keepdim=True)) @ (d / d.norm())
    assert bool((cosines > 0).all())
    torch.testing.assert_close(cosines, cosines[0].expand(3))
    torch.testing.assert_close(d.norm(), (g @ (d / d.norm())).sum())  # its length: the sum of the projections


def test_the_surgery_schemes_are_registered_without_settings():
    assert WEIGHTINGS["pcgrad"] is PCGrad and WEIGHTINGS["config"] is ConFIG and WEIGHTINGS["softadapt"] is SoftAdapt
    with pytest.raises(ConfigError, match="no setting 'alpha'"):
        make_weighting("pcgrad", ["boundary"], alpha=0.5)


# -- the engine steps along the scheme's direction ----------------------------------------------------------------
@pytest.mark.parametrize("name", ["pcgrad", "config"])
def test_a_surgery_scheme_sets_the_step_direction(name):
    problem = Helmholtz()
    net, _ = build("M1", problem, seed=0, layers=LAYERS)
    before = copy.deepcopy(net)
    trainer = Trainer(problem, net, make_weighting(name, problem.weighted_terms), budget=BUDGET, progress=False,
                      device="cpu", compile="off")
    generator = torch.Generator().manual_seed(0)
    generator.set_state(trainer.generators[0].get_state())
    batch = problem.sample(BUDGET.batch_size, generator)  # the batch the step will draw
    losses = problem.losses(before, batch)
    params = list(before.parameters())
    vectors = torch.stack([torch.cat([g.reshape(-1) for g in torch.autograd.grad(losses[t], params,
                                                                                 retain_graph=True)])
                           for t in problem.terms])
    expected = trainer.weighting.direction(vectors)
    plain = vectors.sum(0)
    trainer.train_step()
    stepped = torch.cat([p.grad.reshape(-1) for p in trainer.params])
    torch.testing.assert_close(stepped, expected, rtol=1e-4, atol=1e-6)
    assert not torch.allclose(stepped, plain, rtol=1e-3), "the terms did not conflict here, so nothing was tested"
