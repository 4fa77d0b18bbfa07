"""Chapter 3's exercise: the log-log slope of a gradient norm against the frequency C, fitted by least squares.

The learner writes ``loglog_slope(Cs, values)``: with x_i = log C_i and y_i = log v_i, it returns the slope b of the
least-squares line y = a + b x through all the points,

    b = sum_i (x_i - mean x)(y_i - mean y) / sum_i (x_i - mean x)^2,

the exponent p of a power law v = A C^p (and the number ``studies.poisson_gradient_scaling`` reports as a slope).
The check compares it with the exponent of two exact power laws and with the library's fit
(``studies._loglog_slope``) on four scattered points like chapter 3's measured gradients.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..reproduction.studies import _loglog_slope
from . import CaseFailed, CheckResult, run_cases

NAME = "ch03-loglog-slope"


def _hint(value: float, Cs: list[float], values: list[float]) -> str:
    """What the learner most likely did, judged from the slope returned."""
    x, y = np.log(Cs), np.log(values)
    if math.isclose(value, (y[-1] - y[0]) / (x[-1] - x[0]), rel_tol=1e-6):
        return ("That is the slope through the first and the last point only: fit the line through all the points "
                "by least squares, so the points in between count too.")
    if math.isclose(value, float(np.polyfit(Cs, y, 1)[0]), rel_tol=1e-6):
        return "Take the logarithm of C as well: the slope is of log v against log C."
    if math.isclose(value, float(np.polyfit(y, x, 1)[0]), rel_tol=1e-6):
        return "The axes are swapped: fit log v (vertical) against log C (horizontal)."
    return ("Centre x = log C and y = log v on their means, then divide the sum of the products by the sum of the "
            "squares of x.")


def check(loglog_slope: Callable) -> CheckResult:
    """Pass when ``loglog_slope(Cs, values)`` gives the exponents of two power laws and the library's fitted slope."""

    def compare(label: str, Cs: list[float], values: list[float], expected: float) -> None:
        got = loglog_slope(list(Cs), list(values))
        try:
            value = float(got)
        except (TypeError, ValueError, RuntimeError) as error:
            raise CaseFailed(f"return the slope as one number, got {type(got).__name__}") from error
        if not math.isclose(value, expected, rel_tol=1e-6, abs_tol=1e-9):
            raise CaseFailed(f"{label}: your slope is {value:.4g}, expected {expected:.4g}. "
                             f"{_hint(value, Cs, values)}")

    def power_law() -> None:
        Cs = [1.0, 2.0, 4.0, 8.0]
        compare("v = 0.3 C^4", Cs, [0.3 * c**4 for c in Cs], 4.0)

    def falling_power_law() -> None:
        Cs = [0.5, 1.5, 3.0, 10.0]
        compare("v = 2 C^(-1.5)", Cs, [2 * c**-1.5 for c in Cs], -1.5)

    def scattered() -> None:
        # Four points that lie on no power law, of the size of chapter 3's residual gradients after training.
        Cs, values = [1.0, 2.0, 4.0, 8.0], [8.1e-3, 2.7e-2, 0.54, 5.2]
        compare("four scattered points", Cs, values, _loglog_slope(Cs, values))

    return run_cases(NAME, [power_law, falling_power_law, scattered],
                     "your slope recovers the exponent of two power laws and equals the least-squares fit on "
                     "scattered points.")
