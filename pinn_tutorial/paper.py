"""The numbers Wang, Teng & Perdikaris report, each with where it is printed.

Source: arXiv:2001.04536 v1 (15 January 2020); relative L2 errors after 40,000 Adam steps.
Tables and figures are v1's; the SIAM J. Sci. Comput. version may differ. Results files and
tables read the paper's figure from here, never from a number typed elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reported:
    """A reported relative L2 error and its source."""

    rel_l2: float
    source: str


PAPER_RESULTS: dict[tuple[str, str], Reported] = {
    ("helmholtz", "M1"): Reported(1.81e-1, "Fig. 1 caption (single run, 4 layers x 50)"),
    ("helmholtz", "M2"): Reported(1.27e-2, "Fig. 6 caption (single run)"),
    ("helmholtz", "M4"): Reported(3.69e-3, "Fig. 10 caption (single run)"),
    ("klein_gordon", "M1"): Reported(1.79e-1, "Table 3"),
    ("klein_gordon", "M2"): Reported(1.06e-2, "Table 3"),
    ("klein_gordon", "M3"): Reported(1.97e-2, "Table 3"),
    ("klein_gordon", "M4"): Reported(2.81e-3, "Table 3"),
    ("cavity_stream", "M1"): Reported(2.71e-1, "Fig. 18 caption"),
    ("cavity_stream", "M2"): Reported(2.49e-1, "Fig. 18 caption"),
    ("cavity_stream", "M3"): Reported(1.21e-1, "Fig. 18 caption"),
    ("cavity_stream", "M4"): Reported(3.42e-2, "Fig. 18 caption"),
    ("cavity_velocity", "M1"): Reported(7.84e-1, "Fig. 17 caption"),
    ("cavity_velocity", "M2"): Reported(7.48e-1, "Fig. 17 caption"),
    ("cavity_velocity", "M3"): Reported(7.48e-1, "Fig. 17 caption"),
    ("cavity_velocity", "M4"): Reported(7.53e-1, "Fig. 17 caption"),
}

# Table 2: Helmholtz, mean of 10 trials, by (hidden layers, width) and method.
HELMHOLTZ_TABLE2: dict[tuple[int, int], dict[str, float]] = {
    (3, 30): {"M1": 2.44e-1, "M2": 5.39e-2, "M3": 5.31e-2, "M4": 1.07e-2},
    (3, 50): {"M1": 1.06e-1, "M2": 1.12e-2, "M3": 2.46e-2, "M4": 3.87e-3},
    (3, 100): {"M1": 9.07e-2, "M2": 4.84e-3, "M3": 1.17e-2, "M4": 2.71e-3},
    (5, 30): {"M1": 2.47e-1, "M2": 2.74e-2, "M3": 4.12e-2, "M4": 3.49e-3},
    (5, 50): {"M1": 1.40e-1, "M2": 7.43e-3, "M3": 1.97e-2, "M4": 2.54e-3},
    (5, 100): {"M1": 1.15e-1, "M2": 5.37e-3, "M3": 1.08e-2, "M4": 1.63e-3},
    (7, 30): {"M1": 3.10e-1, "M2": 2.67e-2, "M3": 3.17e-2, "M4": 3.59e-3},
    (7, 50): {"M1": 1.98e-1, "M2": 7.33e-3, "M3": 2.37e-2, "M4": 2.04e-3},
    (7, 100): {"M1": 8.14e-2, "M2": 4.52e-3, "M3": 9.36e-3, "M4": 1.49e-3},
}

# The Fig. 15 caption's figure for Klein-Gordon M4, a second single-run figure that disagrees with Table 3's.
KLEIN_GORDON_FIG15_M4 = Reported(2.22e-3, "Fig. 15 caption (single run)")

# Table 3: Klein-Gordon training time of 40,000 steps on the authors' laptop CPU, in seconds.
KLEIN_GORDON_TRAIN_TIME_S: dict[str, float] = {"M1": 200, "M2": 200, "M3": 760, "M4": 1040}


def reported(problem: str, method: str) -> Reported | None:
    """The paper's single figure for this problem and method, or None where it gives none.

    For Helmholtz M3, which the paper quotes only in Table 2, this is the 3 x 50 entry.
    """
    if (problem, method) == ("helmholtz", "M3"):
        return Reported(HELMHOLTZ_TABLE2[(3, 50)]["M3"], "Table 2, 3 hidden layers x 50, mean of 10 trials")
    return PAPER_RESULTS.get((problem, method))


def reported_for_network(problem: str, method: str, depth: int | None, width: int | None) -> Reported | None:
    """The paper's figure to hold runs on ``depth`` hidden layers of ``width`` units against: for Helmholtz
    M1-M4 on one of Table 2's networks, 3 x 50 included, that cell, a mean of 10 trials; otherwise ``reported``.

    (For 3 x 50 the captions of Figs. 1, 6 and 10 give single runs too; a mean over seeds is compared with a
    mean over trials.)
    """
    cell = HELMHOLTZ_TABLE2.get((depth, width))
    if problem == "helmholtz" and cell and method in cell:
        return Reported(cell[method], f"Table 2, {depth} hidden layers x {width}, mean of 10 trials")
    return reported(problem, method)
