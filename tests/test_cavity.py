"""The two cavity formulations: continuity by construction, residuals that agree with each other."""

import math

import numpy as np
import pytest
import torch

from pinn_tutorial import build, train
from pinn_tutorial.autodiff import gradient
from pinn_tutorial.networks import MLP
from pinn_tutorial.problems import CavityStreamFunction, CavityVelocityPressure
from pinn_tutorial.reference import ghia_centrelines


def stream_net():
    torch.manual_seed(0)
    net = MLP([2, 16, 16, 2], None, None).double()
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.7)
    return net


def interior(n=64):
    return torch.rand(n, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(4)).requires_grad_(True)


def test_stream_function_velocity_is_divergence_free_to_rounding():
    problem, net, x = CavityStreamFunction(), stream_net(), interior()
    uv = problem.velocity(lambda z: net(z), x)
    div = gradient(uv[:, 0], x)[:, 0] + gradient(uv[:, 1], x)[:, 1]
    assert uv.abs().max() > 0.1 and div.abs().max() < 1e-12


def nested_stream_residual(problem, net, x):
    """The momentum residuals by nested reverse-mode autograd alone, third derivatives included."""
    x = x.detach().requires_grad_(True)
    out = net(x)
    psi_x, psi_y = gradient(out[:, 0], x).unbind(1)
    p_x, p_y = gradient(out[:, 1], x).unbind(1)
    u, v = psi_y, -psi_x
    (u_x, u_y), (v_x, v_y) = gradient(u, x).unbind(1), gradient(v, x).unbind(1)
    u_xx, u_yy = gradient(u_x, x)[:, 0], gradient(u_y, x)[:, 1]
    v_xx, v_yy = gradient(v_x, x)[:, 0], gradient(v_y, x)[:, 1]
    return torch.stack([u * u_x + v * u_y + p_x - (u_xx + u_yy) / problem.re,
                        u * v_x + v * v_y + p_y - (v_xx + v_yy) / problem.re], dim=1)


@pytest.mark.parametrize("method", ["M1", "M4"])
def test_stream_residual_and_its_parameter_gradients_equal_nested_autograd(method):
    """The fast path (forward-propagated jet, then one reverse derivative) against nested autograd, float64."""
    problem = CavityStreamFunction()
    net = build(method, problem, seed=0)[0].double()
    x = interior(32)
    expected = nested_stream_residual(problem, net, x)
    for field in (net, lambda z: net(z)):  # the Taylor-mode path, and the autograd fallback of jet
        r = problem.residual(field, x)
        assert torch.allclose(r, expected, rtol=1e-9, atol=1e-9)
        params = list(net.parameters())  # the output biases do not enter the residual: allow_unused
        grads = torch.autograd.grad(r.pow(2).mean(), params, allow_unused=True, materialize_grads=True)
        ref = torch.autograd.grad(expected.pow(2).mean(), params, retain_graph=True, allow_unused=True,
                                  materialize_grads=True)
        assert all(torch.allclose(g, h, rtol=1e-8, atol=1e-10) for g, h in zip(grads, ref))


def test_both_formulations_give_the_same_momentum_residual_for_the_same_flow():
    """(u, v, p) = (psi_y, -psi_x, p) fed to the velocity-pressure residual equals the stream-function one."""
    stream, velocity, net = CavityStreamFunction(), CavityVelocityPressure(), stream_net()

    def as_velocity_pressure(x):
        out = net(x)
        psi_x, psi_y = gradient(out[:, 0], x).unbind(1)
        return torch.stack([psi_y, -psi_x, out[:, 1]], dim=1)

    x = interior()
    r_stream = stream.residual(net, x)
    r_velocity = velocity.residual(as_velocity_pressure, x)
    torch.testing.assert_close(r_velocity[:, :2], r_stream, rtol=1e-10, atol=1e-10)
    assert r_velocity[:, 2].abs().max() < 1e-12  # continuity holds by construction


def test_velocity_pressure_residual_matches_a_hand_built_one():
    problem = CavityVelocityPressure(re=50.0)
    torch.manual_seed(1)
    net = MLP([2, 12, 12, 3], None, None).double()
    x = interior()
    out = net(x)
    grads = [gradient(out[:, i], x) for i in range(3)]
    lap = [gradient(grads[i][:, 0], x)[:, 0] + gradient(grads[i][:, 1], x)[:, 1] for i in range(2)]
    u, v = out[:, 0], out[:, 1]
    r_u = u * grads[0][:, 0] + v * grads[0][:, 1] + grads[2][:, 0] - lap[0] / 50
    r_c = grads[0][:, 0] + grads[1][:, 1]
    r = problem.residual(net, x.detach())  # the Taylor-mode path
    torch.testing.assert_close(r[:, 0], r_u, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(r[:, 2], r_c, rtol=1e-10, atol=1e-10)


def test_walls_and_reference_magnitude():
    problem = CavityVelocityPressure()
    batch = problem.sample(32, torch.Generator().manual_seed(0))
    assert (problem.wall_velocity("top", batch["top"]) == torch.tensor([1.0, 0.0])).all()
    assert (problem.wall_velocity("left", batch["left"]) == 0).all()
    exact = problem.exact(torch.tensor([[0.5, 0.999], [0.5, 0.5], [0.0, 0.3]]))
    # At the centre, Ghia et al.'s u(0.5, 0.5) and v(0.5, 0.5); the reference's grid is coarser than theirs.
    ghia = ghia_centrelines()
    centre = math.hypot(ghia.u[ghia.y == 0.5][0], ghia.v[ghia.x == 0.5][0])
    assert exact[0] > 0.9 and exact[1].item() == pytest.approx(centre, abs=5e-3) and exact[2] == 0


@pytest.mark.parametrize("problem", [CavityStreamFunction(), CavityVelocityPressure()], ids=lambda p: p.name)
def test_a_short_run_reports_the_errors_of_the_velocity_magnitude_on_the_grid(problem):
    net, weighting = build("M2", problem, seed=0, layers=[2, 16, 16, problem.default_layers[-1]])
    assert weighting.pooling == "layer_ratio_max"
    history = train(problem, net, weighting, budget="quick", steps=20, progress=False, device="cpu")
    # By hand, from the trained net's velocity (u, v) on the quick budget's 50 x 50 grid.
    x, exact, shape = problem.evaluation_grid(50)
    x, exact = x.float(), exact.float()  # as the trainer evaluates (float32 net)
    with torch.enable_grad():
        speed = problem.velocity(net, x).detach().double().norm(dim=1).numpy()
    reference = exact.double().reshape(-1).numpy()
    assert shape == [50, 50] and history.eval_steps[-1] == 20
    assert history.final_error == pytest.approx(np.linalg.norm(speed - reference) / np.linalg.norm(reference), rel=1e-4)
    spectral = np.linalg.norm((speed - reference).reshape(50, 50), 2) / np.linalg.norm(reference.reshape(50, 50), 2)
    reported = problem.metrics(problem.predict(net, x), exact, shape)
    assert reported == {"rel_l2_spectral": pytest.approx(spectral, rel=1e-4)}


def test_one_wall_weight_is_the_sum_of_the_two_wall_terms():
    separate, shared = CavityVelocityPressure(), CavityVelocityPressure(wall_weights=1)
    assert shared.terms == ("residual", "boundary") and separate.terms == ("residual", "boundary_u", "boundary_v")
    torch.manual_seed(2)
    net = MLP([2, 12, 12, 3], None, None).double()
    batch = {k: v.double() for k, v in separate.sample(32, torch.Generator().manual_seed(3)).items()}
    two, one = separate.losses(net, batch), shared.losses(net, batch)
    assert one["boundary"].item() == pytest.approx((two["boundary_u"] + two["boundary_v"]).item(), rel=1e-12)
    assert one["residual"].item() == two["residual"].item()
    # by hand: the lid's target is (1, 0), the other walls' (0, 0); each wall a mean over its points
    by_hand = sum((net(batch[e])[:, :2] - torch.tensor([1.0 if e == "top" else 0.0, 0.0], dtype=torch.float64))
                  .pow(2).mean(dim=0).sum() for e in ("top", "bottom", "left", "right"))
    assert one["boundary"].item() == pytest.approx(by_hand.item(), rel=1e-12)
    with pytest.raises(ValueError, match="wall_weights"):
        CavityVelocityPressure(wall_weights=3)


def test_the_velocity_study_sweeps_only_what_changes_each_methods_training():
    from pinn_tutorial.reproduction.sweeps import named_sweep

    runs = named_sweep("cavity-velocity-study", "paper", [0])
    m3 = [r for r in runs if r.method == "M3"]
    assert [(r.depth, r.params, r.pooling) for r in m3] == [(5, {}, None)]  # fixed weights: only the deeper net
    m4 = {(r.depth, tuple(r.params.items()), r.pooling) for r in runs if r.method == "M4"}
    assert m4 == {(5, (), None), (None, (("wall_weights", 1.0),), None), (None, (), "layer_mean"),
                  (5, (("wall_weights", 1.0),), "layer_mean")}
    net, weighting = build("M4", CavityVelocityPressure(wall_weights=1), pooling="layer_mean",
                           layers=[2, 8, 8, 8, 8, 8, 3])
    assert weighting.pooling == "layer_mean" and weighting.terms == ("boundary",) and net.layers[1:-1] == [8] * 5
