"""The error measures against hand computations, and the cavity's extra figure."""

import numpy as np
import pytest
import torch

from pinn_tutorial.metrics import relative_l2, relative_spectral
from pinn_tutorial.problems import CavityStreamFunction, CavityVelocityPressure, Helmholtz

EXACT = torch.tensor([[3.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
# prediction - exact = [[0, 0], [0, 2]]: spectral norms 2 and 3, Frobenius norms 2 and sqrt(10).
PREDICTION = EXACT + torch.tensor([[0.0, 0.0], [0.0, 2.0]], dtype=torch.float64)


def test_relative_l2_is_the_frobenius_ratio():
    assert relative_l2(PREDICTION, EXACT) == pytest.approx(2 / 10**0.5, rel=1e-12)
    assert relative_l2(PREDICTION.reshape(-1, 1), EXACT.reshape(-1, 1)) == pytest.approx(2 / 10**0.5, rel=1e-12)


def test_relative_spectral_is_the_ratio_of_largest_singular_values():
    assert relative_spectral(PREDICTION, EXACT) == pytest.approx(2 / 3, rel=1e-12)
    # A difference that is not diagonal: against NumPy's matrix 2-norm, as the original cavity code computes it.
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    expected = np.linalg.norm(a - b, 2) / np.linalg.norm(b, 2)
    assert relative_spectral(torch.tensor(a), torch.tensor(b)) == pytest.approx(expected, rel=1e-12)
    assert relative_spectral(torch.tensor(a), torch.tensor(b)) != pytest.approx(relative_l2(torch.tensor(a),
                                                                                           torch.tensor(b)))


def test_shapes_are_checked():
    with pytest.raises(ValueError, match="shape"):
        relative_l2(PREDICTION, EXACT[:1])
    with pytest.raises(ValueError, match="two matrices"):
        relative_spectral(PREDICTION.reshape(-1), EXACT.reshape(-1))
    with pytest.raises(ValueError, match="two matrices"):
        relative_spectral(PREDICTION, EXACT.T[:1])


@pytest.mark.parametrize("problem", [CavityStreamFunction(), CavityVelocityPressure()], ids=lambda p: p.name)
def test_the_cavity_reports_the_spectral_error_of_the_grid_arrays(problem):
    # The trainer hands over the magnitudes as columns (N, 1) and the grid's shape.
    metrics = problem.metrics(PREDICTION.reshape(-1, 1), EXACT.reshape(-1, 1), [2, 2])
    assert metrics == {"rel_l2_spectral": pytest.approx(2 / 3, rel=1e-12)}


def test_other_problems_report_nothing_more():
    assert Helmholtz().metrics(PREDICTION.reshape(-1, 1), EXACT.reshape(-1, 1), [2, 2]) == {}
