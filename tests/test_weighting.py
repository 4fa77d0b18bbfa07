"""Algorithm 1 in both forms against hand computations."""

import pytest
import torch
from torch import nn

from pinn_tutorial.config import Budget, ConfigError
from pinn_tutorial.problems.base import Problem
from pinn_tutorial.sampling import BoxSampler
from pinn_tutorial.training import Trainer
from pinn_tutorial.weighting import (
    FixedWeights,
    GradientNormWeighting,
    LearningRateAnnealing,
    StepContext,
    annealing_estimate,
    gradient_norm,
)

# Gradients of L_r and L_b for the parameters (W1, b1, W2, b2) of the tiny net below.
C = {"W1": [[1.0], [-4.0]], "b1": [8.0, 0.0], "W2": [[2.0, 0.5]], "b2": [1.0]}
D = {"W1": [[0.5], [0.5]], "b1": [0.1, 0.1], "W2": [[2.0, 0.0]], "b2": [0.3]}


class Tiny(nn.Module):
    """u(x) = W2 (W1 x + b1) + b2, with parameters set so the gradients are easy to read."""

    def __init__(self):
        super().__init__()
        self.W1, self.b1 = nn.Parameter(torch.zeros(2, 1)), nn.Parameter(torch.zeros(2))
        self.W2, self.b2 = nn.Parameter(torch.zeros(1, 2)), nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return (x @ self.W1.T + self.b1) @ self.W2.T + self.b2

    def parameter_groups(self):  # what the code form of Algorithm 1 reads: the weight matrices
        return {"weight_matrices": [self.W1, self.W2]}


class LinearInParameters(Problem):
    """L_r = sum C * theta and L_b = sum D * theta: their gradients are exactly C and D (these by default)."""

    name, terms, default_layers = "linear", ("residual", "boundary"), [1, 2, 1]
    domain = BoxSampler([0.0], [1.0])

    def __init__(self, residual: dict = C, boundary: dict = D):
        self.residual_coeffs, self.boundary_coeffs = residual, boundary

    def sample(self, batch_size, generator=None):
        return {"residual": self.domain.sample(batch_size, generator)}

    def losses(self, net, batch):
        params = dict(net.named_parameters())
        dot = lambda coeffs: sum((params[k] * torch.tensor(v)).sum() for k, v in coeffs.items())  # noqa: E731
        return {"residual": dot(self.residual_coeffs), "boundary": dot(self.boundary_coeffs)}

    def exact(self, x):
        return x


def first_update(form):
    net, weighting = Tiny(), LearningRateAnnealing(["boundary"], form=form)
    budget = Budget("test", steps=1, batch_size=4, log_every=1, eval_every=1, checkpoint_every=1, grid_size=5)
    Trainer(LinearInParameters(), net, weighting, budget=budget, progress=False, device="cpu").run()
    return net, weighting


def test_paper_form_equals_hand_computation():
    # Eq. 40 over all parameters: max|C| = 8 (a bias), mean|D| = 3.5 / 7 = 0.5, lambda_hat = 16;
    # Eq. 41 with alpha = 0.9: lambda = 0.1 * 1 + 0.9 * 16 = 14.5.
    net, weighting = first_update("paper")
    assert weighting.weights["boundary"] == pytest.approx(14.5)
    # The step used grad = C + lambda D with the new lambda.
    torch.testing.assert_close(net.W2.grad, torch.tensor(C["W2"]) + 14.5 * torch.tensor(D["W2"]))


def test_code_form_equals_hand_computation():
    # Weights only: max(|1|, |-4|, |2|, |0.5|) = 4; per-layer means of |1 * D|: 0.5 and 1.0, mean 0.75;
    # lambda_hat = 4 / 0.75; lambda = 0.9 * 1 + 0.1 * 16 / 3.
    net, weighting = first_update("code")
    expected = 0.9 + 0.1 * 4 / 0.75
    assert weighting.weights["boundary"] == pytest.approx(expected)
    torch.testing.assert_close(net.b1.grad, torch.tensor(C["b1"]) + expected * torch.tensor(D["b1"]))


def test_fixed_points_are_the_ratio_and_its_square_root():
    grads_r = [torch.tensor(C["W1"]), torch.tensor(C["W2"])]
    grads_b = [torch.tensor(D["W1"]), torch.tensor(D["W2"])]
    ratio = 4 / 0.75
    code, paper = (LearningRateAnnealing(["boundary"], form=f, pooling="layer_mean") for f in ("code", "paper"))
    for _ in range(300):
        for w in (code, paper):
            w.update(StepContext(gradients={"residual": grads_r, "boundary": grads_b}))
    assert code.weights["boundary"] == pytest.approx(ratio**0.5, rel=1e-6)
    assert paper.weights["boundary"] == pytest.approx(ratio, rel=1e-6)


def test_pooling_choices():
    grads_r = [torch.tensor(C["W1"]), torch.tensor(C["W2"])]
    grads_b = [torch.tensor(D["W1"]), torch.tensor(D["W2"])]
    assert annealing_estimate(grads_r, grads_b, "all") == pytest.approx(4 / (3.0 / 4))
    assert annealing_estimate(grads_r, grads_b, "layer_mean") == pytest.approx(4 / 0.75)
    assert annealing_estimate(grads_r, grads_b, "layer_ratio_max") == pytest.approx(max(4 / 0.5, 2 / 1.0))
    with pytest.raises(ConfigError, match="layer_mean"):
        annealing_estimate(grads_r, grads_b, "median")


def test_update_schedule_and_fixed_weights():
    weighting = LearningRateAnnealing(["boundary", "initial"])
    assert [s for s in range(35) if weighting.updates_at(s)] == [0, 10, 20, 30]
    fixed = FixedWeights(["boundary"], {"boundary": 10.0})
    losses = {"residual": torch.tensor(2.0), "boundary": torch.tensor(3.0)}
    assert fixed.total_loss(losses).item() == 32.0 and not fixed.updates_at(0)
    with pytest.raises(ConfigError, match="boundary"):
        FixedWeights(["boundary"], {"bondary": 1.0})
    with pytest.raises(ConfigError, match="code, paper"):
        LearningRateAnnealing(["boundary"], form="adam")


def test_gradient_norm_weighting_equals_hand_computation():
    # Through one training step on the linear problem: the gradients over all parameters are C and D.
    net, weighting = Tiny(), GradientNormWeighting(["boundary"])
    budget = Budget("test", steps=1, batch_size=4, log_every=1, eval_every=1, checkpoint_every=1, grid_size=5)
    Trainer(LinearInParameters(), net, weighting, budget=budget, progress=False, device="cpu").run()
    norm_c = (1 + 16 + 64 + 0 + 4 + 0.25 + 1) ** 0.5
    norm_d = (0.25 + 0.25 + 0.01 + 0.01 + 4 + 0 + 0.09) ** 0.5
    assert weighting.weights["boundary"] == pytest.approx(0.9 * 1.0 + 0.1 * norm_c / norm_d, rel=1e-6)
    assert gradient_norm([torch.tensor([3.0]), torch.tensor([[4.0]])]) == pytest.approx(5.0)


def test_gradient_norm_weighting_settles_at_the_ratio_of_norms():
    weighting = GradientNormWeighting(["boundary"], update_every=5)
    assert [s for s in range(12) if weighting.updates_at(s)] == [0, 5, 10]
    for _ in range(300):  # the same gradients again and again: lambda -> ||g_r|| / ||g_b|| = 5 / 0.5
        weighting.update(StepContext(gradients={"residual": [torch.tensor([3.0, 4.0])],
                                                "boundary": [torch.tensor([0.0, 0.5])]}))
    assert weighting.weights["boundary"] == pytest.approx(10.0, rel=1e-6)
    for alpha in (0.0, 1.5):
        with pytest.raises(ValueError, match="alpha"):
            GradientNormWeighting(["boundary"], alpha=alpha)


@pytest.mark.parametrize("alpha", [1.0, 0.25])
def test_alpha_is_the_weight_of_the_new_estimate_in_every_scheme(alpha):
    # One update from lambda = 2 towards an estimate of 10, by Eq. 41: lambda = (1 - alpha) * 2 + alpha * 10.
    g_r = [torch.tensor([3.0, 4.0])]
    annealing = LearningRateAnnealing(["boundary"], form="paper", alpha=alpha)  # Eq. 40: max|g_r| / mean|g_b|
    norms = GradientNormWeighting(["boundary"], alpha=alpha)  # ||g_r|| / ||g_b||
    for weighting, g_b in ((annealing, [0.4, 0.4]), (norms, [0.3, 0.4])):  # 4 / 0.4 and 5 / 0.5
        weighting.load_state_dict({"weights": {"boundary": 2.0}})
        weighting.update(StepContext(gradients={"residual": g_r, "boundary": [torch.tensor(g_b)]}))
        assert weighting.weights["boundary"] == pytest.approx((1 - alpha) * 2.0 + alpha * 10.0, rel=1e-6)
