"""A weight that becomes infinite stops the run with NonFiniteLossError naming the term, before any step uses it."""

import math

import pytest
import torch

from pinn_tutorial.config import Budget
from pinn_tutorial.problems.base import Problem
from pinn_tutorial.sampling import BoxSampler
from pinn_tutorial.training import NonFiniteLossError, Trainer
from pinn_tutorial.weighting import FixedWeights, GradientNormWeighting, LearningRateAnnealing

BUDGET = Budget("test", steps=8, batch_size=4, log_every=1, eval_every=4, checkpoint_every=100, grid_size=5)


class Linear(torch.nn.Module):
    """u(x) = W2 (W1 x); two weight matrices."""

    def __init__(self):
        super().__init__()
        self.W1 = torch.nn.Parameter(torch.full((2, 1), 0.5))
        self.W2 = torch.nn.Parameter(torch.full((1, 2), 0.5))

    def forward(self, x):
        return x @ self.W1.T @ self.W2.T

    def parameter_groups(self):
        return {"weight_matrices": [self.W1, self.W2]}


class FlatBoundary(Problem):
    """L_r = mean (u - x)^2, and a boundary term L_b = 1 that no parameter changes: its gradient is zero."""

    name, terms, default_layers = "flat", ("residual", "boundary"), [1, 2, 1]
    domain = BoxSampler([0.0], [1.0])

    def sample(self, batch_size, generator=None):
        return {"residual": self.domain.sample(batch_size, generator)}

    def losses(self, net, batch):
        x = batch["residual"]
        return {"residual": (net(x) - x).pow(2).mean(), "boundary": 1.0 + 0.0 * net(x).sum()}

    def exact(self, x):
        return x


class Runaway(FixedWeights):
    """Fixed weights that an update at step 3 sets to infinity."""

    def updates_at(self, step):
        return step == 3

    def update(self, context):
        self.weights["boundary"] = math.inf


def run(weighting):
    net = Linear()
    trainer = Trainer(FlatBoundary(), net, weighting, budget=BUDGET, progress=False, device="cpu")
    with pytest.raises(NonFiniteLossError) as error:
        trainer.run()
    return net, str(error.value)


def test_an_infinite_weight_stops_the_run_at_its_step_naming_the_term():
    net, message = run(Runaway(["boundary"]))
    assert "weight of term 'boundary'" in message and "inf" in message and "step 3" in message
    # The step with the infinite weight was not taken: the parameters are those of three good steps.
    assert all(torch.isfinite(p).all() for p in net.parameters())
    again = Linear()
    good = Trainer(FlatBoundary(), again, FixedWeights(["boundary"]), budget=BUDGET, steps=3, progress=False,
                   device="cpu")
    good.run()
    for p, q in zip(net.parameters(), again.parameters()):
        torch.testing.assert_close(p, q)


@pytest.mark.parametrize("weighting", [
    LearningRateAnnealing(["boundary"], form="paper"),  # Eq. 40: max|grad L_r| / mean|grad L_b| = x / 0
    LearningRateAnnealing(["boundary"], form="code"),
    GradientNormWeighting(["boundary"]),  # ||grad L_r|| / ||grad L_b|| = x / 0
], ids=["annealing-paper", "annealing-code", "gradient-norm"])
def test_a_term_without_gradient_makes_an_adaptive_weight_infinite_and_the_run_stop(weighting):
    _, message = run(weighting)
    assert "weight of term 'boundary'" in message and "step 0" in message
