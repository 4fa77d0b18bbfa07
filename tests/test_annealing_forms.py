"""Algorithm 1 as each library runs it: every form of ``LearningRateAnnealing`` against a hand computation
of its source's formula, and against its stated fixed point.

The gradients are written out below; every expected number is the source's formula evaluated by hand on
them (the arithmetic is left in the test so that it can be checked against each form's docstring).
"""

import json
import math

import pytest
import torch
from test_weighting import LinearInParameters, Tiny

from pinn_tutorial.__main__ import main
from pinn_tutorial.config import Budget, ConfigError
from pinn_tutorial.methods import build
from pinn_tutorial.problems import get_problem
from pinn_tutorial.reproduction.experiments import Experiment
from pinn_tutorial.reproduction.paper_tables import _setting
from pinn_tutorial.training import Trainer
from pinn_tutorial.weighting import ANNEALING_FORMS, LearningRateAnnealing, StepContext

# Gradients of L_r (C) and L_b (D) for the parameters (W1, b1, W2, b2) of a two-layer net: four leaves of sizes
# 2, 2, 2, 1. Over all 7 entries: max|C| = 8 (a bias), sum|C| = 1+4+8+0+2+0.5+1 = 16.5, sum|D| = 0.5+0.5+0.1+0.3+2+0+0.4
# = 3.8. Over the weight matrices only: max|C| = 4, mean|D| per matrix 0.5 and 1.0. Signed means of D per leaf:
# W1 (0.5 - 0.5) / 2 = 0, b1 (0.1 + 0.3) / 2 = 0.2, W2 (2 + 0) / 2 = 1, b2 -0.4.
C = {"W1": [[1.0], [-4.0]], "b1": [8.0, 0.0], "W2": [[2.0, 0.5]], "b2": [1.0]}
D = {"W1": [[0.5], [-0.5]], "b1": [0.1, 0.3], "W2": [[2.0, 0.0]], "b2": [-0.4]}
FORMS = ("code", "paper", "physicsnemo", "pinnacle", "jinns", "config", "neuralpde")
LAMBDA0 = 2.0  # a start other than 1, so that a weighted denominator (lambda * grad L_b) shows

# One update from lambda = 2, each source's formula by hand.
ONE_UPDATE = {
    # Eq. 40-41: max|C| / mean|D| over all entries, 0.9 on the new estimate.
    "paper": 0.1 * 2 + 0.9 * 8 / (3.8 / 7),
    # TF code: weights only, max 4 over the mean of the per-matrix means of |2 D| = (1 + 2) / 2, 0.9 on the old.
    "code": 0.9 * 2 + 0.1 * 4 / ((2 * 0.5 + 2 * 1.0) / 2),
    # PhysicsNeMo-Sym: mean|C| / (mean|D| + 1e-8), all entries pooled, alpha 0.01.
    "physicsnemo": 0.99 * 2 + 0.01 * (16.5 / 7) / (3.8 / 7 + 1e-8),
    # PINNacle: max|C| / (lambda * mean|D|), all entries pooled, alpha 0.1.
    "pinnacle": 0.9 * 2 + 0.1 * 8 / (2 * 3.8 / 7),
    # jinns: max|C| / (mean over leaves of |signed mean of D| + 1e-6) = 8 / ((0 + 0.2 + 1 + 0.4) / 4 + 1e-6), 0.9 new.
    "jinns": 0.1 * 2 + 0.9 * 8 / ((0 + 0.2 + 1.0 + 0.4) / 4 + 1e-6),
    # ConFIG: max|C| / mean|D|, beta 0.999 on the old.
    "config": 0.999 * 2 + 0.001 * 8 / (3.8 / 7),
    # NeuralPDE.jl: max|C| / (mean|D| + 1e-7), inertia 0.9 on the old.
    "neuralpde": 0.9 * 2 + 0.1 * 8 / (3.8 / 7 + 1e-7),
}

# The fixed point lambda* of each form on the gradients above: the ratio r, or sqrt(r) for a weighted denominator.
FIXED_POINT = {
    "paper": 8 / (3.8 / 7),
    "code": math.sqrt(4 / ((0.5 + 1.0) / 2)),
    "physicsnemo": (16.5 / 7) / (3.8 / 7 + 1e-8),
    "pinnacle": math.sqrt(8 / (3.8 / 7)),
    "jinns": 8 / ((0 + 0.2 + 1.0 + 0.4) / 4 + 1e-6),
    "config": 8 / (3.8 / 7),
    "neuralpde": 8 / (3.8 / 7 + 1e-7),
}

# A boundary gradient that vanishes: the forms with an eps give numerator / eps, the others an infinite estimate.
VANISHING = {
    "physicsnemo": 0.99 * 2 + 0.01 * (16.5 / 7) / 1e-8,
    "jinns": 0.1 * 2 + 0.9 * 8 / 1e-6,
    "neuralpde": 0.9 * 2 + 0.1 * 8 / 1e-7,
}


def grads(coeffs, names=("W1", "b1", "W2", "b2")):
    return [torch.tensor(coeffs[k], dtype=torch.float64) for k in names]


def test_the_registry_holds_every_form_with_its_fixed_point_in_its_docstring():
    assert tuple(ANNEALING_FORMS) == FORMS  # code first: the default; then the others in the order of this file
    for name, form in ANNEALING_FORMS.items():
        assert form.name == name and "Source:" in form.__doc__ and "Fixed point" in form.__doc__
        assert ("sqrt(r)" in form.__doc__) == form.weighted


@pytest.mark.parametrize("form", FORMS)
def test_one_update_through_the_trainer_equals_the_sources_formula(form):
    # One step: the update at step 0 reads the gradients of the form's parameters, then the step uses the new lambda.
    net, weighting = Tiny(), LearningRateAnnealing(["boundary"], form=form)
    weighting.load_state_dict({"weights": {"boundary": LAMBDA0}})
    budget = Budget("test", steps=1, batch_size=4, log_every=1, eval_every=1, checkpoint_every=1, grid_size=5)
    Trainer(LinearInParameters(C, D), net, weighting, budget=budget, progress=False, device="cpu").run()
    expected = ONE_UPDATE[form]
    assert weighting.weights["boundary"] == pytest.approx(expected, rel=1e-5)
    torch.testing.assert_close(net.b2.grad, torch.tensor(C["b2"]) + expected * torch.tensor(D["b2"]), rtol=1e-5,
                               atol=0)


@pytest.mark.parametrize("form", FORMS)
def test_iterating_on_constant_gradients_reaches_the_stated_fixed_point(form):
    spec = ANNEALING_FORMS[form]
    names = ("W1", "W2") if spec.parameters == "weight_matrices" else ("W1", "b1", "W2", "b2")
    g_r, g_b = grads(C, names), grads(D, names)
    weighting = LearningRateAnnealing(["boundary"], form=form)
    # Enough updates to come within 1e-9 of lambda*: a weighted form contracts by 1 - 2 alpha per update near it.
    rate = 1 - (2 if spec.weighted else 1) * spec.alpha
    for _ in range(math.ceil(math.log(1e-9) / math.log(rate)) + 1):
        weighting.update(StepContext(gradients={"residual": g_r, "boundary": g_b}))
    assert weighting.weights["boundary"] == pytest.approx(FIXED_POINT[form], rel=1e-7)
    # The form's own statement of it: r from its statistics, then r or sqrt(r).
    assert spec.fixed_point(spec.ratio(g_r, g_b)) == pytest.approx(FIXED_POINT[form], rel=1e-9)
    # And it stands still there.
    weighting.load_state_dict({"weights": {"boundary": FIXED_POINT[form]}})
    weighting.update(StepContext(gradients={"residual": g_r, "boundary": g_b}))
    assert weighting.weights["boundary"] == pytest.approx(FIXED_POINT[form], rel=1e-12)


@pytest.mark.parametrize("form", FORMS)
def test_a_vanishing_term_gradient_gives_numerator_over_eps_or_infinity(form):
    weighting = LearningRateAnnealing(["boundary"], form=form)
    weighting.load_state_dict({"weights": {"boundary": LAMBDA0}})
    weighting.update(StepContext(gradients={"residual": grads(C),
                                            "boundary": [torch.zeros_like(g) for g in grads(D)]}))
    if form in VANISHING:
        assert weighting.weights["boundary"] == pytest.approx(VANISHING[form], rel=1e-9)
    else:
        assert weighting.weights["boundary"] == math.inf


def test_jinns_takes_the_size_of_the_signed_mean_which_cancels():
    # W1's entries 0.5 and -0.5 cancel: under jinns' statistic this leaf adds 0 to the denominator, under Eq. 40's 0.5.
    g_r, g_b = grads(C), grads(D)
    jinns, paper = ANNEALING_FORMS["jinns"], ANNEALING_FORMS["paper"]
    assert jinns.ratio(g_r, g_b) == pytest.approx(8 / (1.6 / 4 + 1e-6))
    assert paper.ratio(g_r, g_b, pooling="layer_mean") == pytest.approx(8 / ((0.5 + 0.2 + 1.0 + 0.4) / 4))


def test_the_paper_and_code_forms_keep_their_settings_and_run_keys():
    # The repr is a checkpoint's run key, and these are the settings of every result file written so far.
    assert repr(LearningRateAnnealing(["boundary"])) == (
        "LearningRateAnnealing(form='code', alpha=0.1, update_every=10, pooling='layer_mean')")
    assert repr(LearningRateAnnealing(["boundary"], form="paper")) == (
        "LearningRateAnnealing(form='paper', alpha=0.9, update_every=10, pooling='all')")
    _, cavity = build("M2", get_problem("cavity_stream"))
    assert cavity.pooling == "layer_ratio_max"  # the cavity code's pooling, for the code form only
    _, cavity = build("M2", get_problem("cavity_stream"), form="pinnacle")
    assert cavity.pooling == "all"


def test_overrides_and_unknown_forms():
    weighting = LearningRateAnnealing(["boundary"], form="physicsnemo", alpha=0.5, update_every=3)
    assert (weighting.alpha, weighting.update_every) == (0.5, 3)
    assert [s for s in range(7) if weighting.updates_at(s)] == [0, 3, 6]
    assert [s for s in range(201) if LearningRateAnnealing(["b"], form="neuralpde").updates_at(s)] == [0, 100, 200]
    with pytest.raises(ConfigError, match="code, paper, physicsnemo, pinnacle, jinns, config, neuralpde"):
        LearningRateAnnealing(["boundary"], form="modulus")
    with pytest.raises(ConfigError, match="neuralpde"):
        Experiment("helmholtz", "M2", "quick", form="modulus")


@pytest.mark.parametrize("form", FORMS)
def test_the_command_line_trains_every_form_and_names_its_file(form, tmp_path):
    args = ["train", "poisson1d", "--method", "M2", "--form", form, "--steps", "2", "--out", str(tmp_path),
            "--no-progress", "--device", "cpu"]
    assert main(args) in (0, None)
    stem = Experiment("poisson1d", "M2", "quick", form=form, steps=2).stem()
    assert stem == f"poisson1d_M2-{form}_quick_2steps_seed0"
    result = json.loads((tmp_path / f"{stem}.json").read_text())
    assert result["form"] == form and f"form={form!r}" in result["weighting"]
    # The table labels the form, and the steps, which are not the quick budget's: never that budget's row.
    assert _setting(result) == ("" if form == "code" else f"Algorithm 1 as {form}; ") + "2 steps"
