"""Each problem draws the same points and computes the same losses as before problems became declarations.

A checkpoint resumes the samplers' generator and a result file names its problem by ``repr``: a change in the
order of the draws, in a batch's point sets, in a loss or in a repr would silently change a resumed run or a
run key. The numbers below were computed with the code as it was before the declarative rewrite (commit
9258382): for each case, two batches of 16 points drawn from ``torch.Generator().manual_seed(0)`` (each point
set's sum and position-weighted sum, and the same of the second batch, all sets together), and the losses of a
seeded [d, 8, 8, m] network on a batch drawn from seed 1.
"""

import pytest
import torch

from pinn_tutorial.networks import MLP
from pinn_tutorial.problems import PROBLEMS, CavityVelocityPressure, Helmholtz, Poisson1D

PINNED = {'helmholtz': {'repr': 'Helmholtz(a1=1.0, a2=4.0, k=1.0)',
               'batch': {'residual': [0.9468657895922661, 1.0194310024380684],
                         'bottom': [-14.998862896114588, -268.1762583963573],
                         'right': [13.37454978376627, 179.53914691507816],
                         'top': [14.906559427501634, 236.80248776753433],
                         'left': [-14.605887085199356, -199.05794429779053]},
               'second': [6.414076105225831, 599.5291845463216],
               'losses': {'residual': 5556.41015625, 'boundary': 0.20337873697280884}},
 'klein_gordon': {'repr': 'KleinGordon(alpha=-1.0, beta=0.0, gamma=1.0, k=3)',
                  'batch': {'residual': [16.473432831466198, 264.5097128674388],
                            'x0': [8.500568586401641, 129.91187125537544],
                            'x1': [23.206007914617658, 400.6147791352123],
                            'initial': [9.021082185208797, 155.92007520794868]},
                  'second': [55.945203471463174, 3535.9221461694688],
                  'losses': {'residual': 6840.03857421875,
                             'boundary': 1.0028560161590576,
                             'initial': 0.33968570828437805}},
 'cavity_stream': {'repr': 'CavityStreamFunction(re=100.0)',
                   'batch': {'residual': [16.473432831466198, 264.5097128674388],
                             'bottom': [8.500568586401641, 129.91187125537544],
                             'right': [22.687274992465973, 353.7695761024952],
                             'top': [23.45327975228429, 382.4012450762093],
                             'left': [8.697056494653225, 164.47102789580822]},
                   'second': [83.20703772781417, 6739.764574987814],
                   'losses': {'residual': 2.4696712493896484, 'boundary': 2.8437881469726562}},
 'cavity_velocity': {'repr': 'CavityVelocityPressure(re=100.0)',
                     'batch': {'residual': [16.473432831466198, 264.5097128674388],
                               'bottom': [8.500568586401641, 129.91187125537544],
                               'right': [22.687274992465973, 353.7695761024952],
                               'top': [23.45327975228429, 382.4012450762093],
                               'left': [8.697056494653225, 164.47102789580822]},
                     'second': [83.20703772781417, 6739.764574987814],
                     'losses': {'residual': 3.0884523391723633,
                                'boundary_u': 2.6291863918304443,
                                'boundary_v': 0.0061324238777160645}},
 'poisson1d': {'repr': 'Poisson1D(C=2.0)',
               'batch': {'residual': [8.422955438494682, 62.301198571920395], 'boundary': [1.0, 2.0]},
               'second': [9.050477392971516, 91.40087600797415],
               'losses': {'residual': 8.248910903930664, 'boundary': 0.9724358916282654}},
 'klein_gordon_causal': {'repr': 'CausalTraining(KleinGordon(alpha=-1.0, beta=0.0, gamma=1.0, k=3), epsilon=0.01, '
                                 'chunks=16)',
                         'batch': {'residual': [16.580654565244913, 311.11515944078565],
                                   'x0': [8.500568586401641, 129.91187125537544],
                                   'x1': [23.206007914617658, 400.6147791352123],
                                   'initial': [9.021082185208797, 155.92007520794868]},
                         'second': [57.04189933906309, 3581.7255471155513],
                         'losses': {'residual': 193.6978302001953,
                                    'boundary': 1.0028560161590576,
                                    'initial': 0.33968570828437805}},
 'cavity_velocity_one_weight': {'repr': 'CavityVelocityPressure(re=100.0, wall_weights=1)',
                                'batch': {'residual': [16.473432831466198, 264.5097128674388],
                                          'bottom': [8.500568586401641, 129.91187125537544],
                                          'right': [22.687274992465973, 353.7695761024952],
                                          'top': [23.45327975228429, 382.4012450762093],
                                          'left': [8.697056494653225, 164.47102789580822]},
                                'second': [83.20703772781417, 6739.764574987814],
                                'losses': {'residual': 3.0884523391723633, 'boundary': 2.6353187561035156}},
 'poisson1d_C4': {'repr': 'Poisson1D(C=4.0)',
                  'batch': {'residual': [8.422955438494682, 62.301198571920395], 'boundary': [1.0, 2.0]},
                  'second': [9.050477392971516, 91.40087600797415],
                  'losses': {'residual': 118.1419448852539, 'boundary': 0.14495237171649933}},
 'helmholtz_11': {'repr': 'Helmholtz(a1=1.0, a2=1.0, k=1.0)',
                  'batch': {'residual': [0.9468657895922661, 1.0194310024380684],
                            'bottom': [-14.998862896114588, -268.1762583963573],
                            'right': [13.37454978376627, 179.53914691507816],
                            'top': [14.906559427501634, 236.80248776753433],
                            'left': [-14.605887085199356, -199.05794429779053]},
                  'second': [6.414076105225831, 599.5291845463216],
                  'losses': {'residual': 63.91832733154297, 'boundary': 0.20337876677513123}}}

CASES = dict(PROBLEMS)
CASES["cavity_velocity_one_weight"] = lambda: CavityVelocityPressure(wall_weights=1)
CASES["poisson1d_C4"] = lambda: Poisson1D(C=4.0)
CASES["helmholtz_11"] = lambda: Helmholtz(a1=1.0, a2=1.0, k=1.0)


def checksum(x: torch.Tensor) -> list[float]:
    """The sum of a point set and its sum weighted by position (1, 2, ...), which a reordering changes."""
    x = x.double().reshape(-1)
    return [x.sum().item(), (x * torch.arange(1, len(x) + 1, dtype=torch.float64)).sum().item()]


@pytest.mark.parametrize("name", PINNED)
def test_the_same_repr_and_draws_as_before(name):
    problem, pinned = CASES[name](), PINNED[name]
    assert repr(problem) == pinned["repr"]
    generator = torch.Generator().manual_seed(0)
    first, second = problem.sample(16, generator), problem.sample(16, generator)
    assert list(first) == list(pinned["batch"])  # the point sets, in the same order
    for key, values in pinned["batch"].items():
        assert checksum(first[key]) == pytest.approx(values, rel=1e-12, abs=1e-12), key
    assert checksum(torch.cat(list(second.values()))) == pytest.approx(pinned["second"], rel=1e-12)


@pytest.mark.parametrize("name", PINNED)
def test_the_same_losses_as_before(name):
    problem, pinned = CASES[name](), PINNED[name]
    mean, std = problem.input_scaling()
    torch.manual_seed(0)
    net = MLP([len(mean), 8, 8, problem.default_layers[-1]], mean, std)
    losses = problem.losses(net, problem.sample(16, torch.Generator().manual_seed(1)))
    assert {k: v.item() for k, v in losses.items()} == pytest.approx(pinned["losses"], rel=1e-6)
