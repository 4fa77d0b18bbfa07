"""The presets through ``build``: each the network and weighting it names, on any problem."""

import pytest
import torch

from pinn_tutorial import MLP, ModifiedMLP, build
from pinn_tutorial.config import ConfigError
from pinn_tutorial.methods import METHODS, PAPER_METHODS
from pinn_tutorial.networks import ARCHITECTURES
from pinn_tutorial.problems import get_problem
from pinn_tutorial.weighting import WEIGHTINGS, GradientNormWeighting, LearningRateAnnealing

# Each preset's network and scheme, read from the registries the preset names.
PRESETS = {m.name: (ARCHITECTURES[m.architecture], WEIGHTINGS[m.weighting]) for m in METHODS.values()}


def test_the_presets_are_the_papers_four_and_two_of_later_work_and_reproduce_runs_the_papers_four():
    assert PRESETS["M4"] == (ModifiedMLP, LearningRateAnnealing) and PRESETS["GN2"] == (MLP, GradientNormWeighting)
    assert PAPER_METHODS == ("M1", "M2", "M3", "M4")


@pytest.mark.parametrize("problem_name", ["helmholtz", "klein_gordon", "cavity_velocity"])
@pytest.mark.parametrize("method", list(PRESETS))
def test_build_gives_the_presets_network_and_weighting_over_the_problems_weighted_terms(method, problem_name):
    problem = get_problem(problem_name)
    net, weighting = build(method, problem, seed=0)
    network, scheme = PRESETS[method]
    assert type(net) is network and type(weighting) is scheme
    assert net.layers == problem.default_layers
    assert weighting.terms == problem.weighted_terms and weighting.weights == dict.fromkeys(problem.weighted_terms, 1.0)


def test_gradient_norm_presets_update_as_the_coded_algorithm_1_does():
    # GN2 and GN4 differ from M2 and M4 only in the statistic: same schedule, same moving average, same net.
    problem = get_problem("helmholtz")
    for gn, m in (("GN2", "M2"), ("GN4", "M4")):
        (gn_net, gn_weighting), (m_net, m_weighting) = build(gn, problem, seed=3), build(m, problem, seed=3)
        assert (gn_weighting.alpha, gn_weighting.update_every) == (m_weighting.alpha, m_weighting.update_every)
        assert (gn_weighting.alpha, gn_weighting.update_every) == (0.1, 10)
        for p, q in zip(gn_net.parameters(), m_net.parameters(), strict=True):
            assert torch.equal(p, q)


def test_an_unknown_method_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="M1, M2, M3, M4, GN2, GN4"):
        build("GN3", get_problem("helmholtz"))
