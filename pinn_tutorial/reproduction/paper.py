"""The numbers Wang, Teng & Perdikaris report, each with where it is printed.

Source: arXiv:2001.04536 v1 (15 January 2020); relative L2 errors after 40,000 Adam steps.
Tables and figures are v1's; the SIAM J. Sci. Comput. version may differ. Results files and
tables read the paper's figure from here, never from a number typed elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reported:
    """A reported relative L2 error, its source, and how many runs it is the mean of (``trials``: 1 for a
    single run, None where the paper does not say)."""

    rel_l2: float
    source: str
    trials: int | None = 1


PAPER_RESULTS: dict[tuple[str, str], Reported] = {
    ("helmholtz", "M1"): Reported(1.81e-1, "Fig. 1 caption (single run, 4 hidden layers x 50)"),
    ("helmholtz", "M2"): Reported(1.27e-2, "Fig. 6 caption (single run)"),
    ("helmholtz", "M4"): Reported(3.69e-3, "Fig. 10 caption (single run)"),
    ("klein_gordon", "M1"): Reported(1.79e-1, "Table 3", None),
    ("klein_gordon", "M2"): Reported(1.06e-2, "Table 3", None),
    ("klein_gordon", "M3"): Reported(1.97e-2, "Table 3", None),
    ("klein_gordon", "M4"): Reported(2.81e-3, "Table 3", None),
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
TABLE2_TRIALS = 10
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

# The Klein-Gordon initial data u(0, x) = g1(x), u_t(0, x) = g2(x) as the paper's text states them: g1 = g2 = 0.
# g1 = 0 contradicts the exact solution (u(0, x) = x); the authors' code, and the library, use g1(x) = x, g2 = 0.
KLEIN_GORDON_TEXT_INITIAL_DATA: dict[str, float] = {"g1": 0.0, "g2": 0.0}
KLEIN_GORDON_TEXT_INITIAL_DATA_SOURCE = "section 3.2, the text of the Klein-Gordon benchmark"

# Later work (chapter 15), not this paper: the causality paper's authors' code (Wang, Sankaran &
# Perdikaris, repository PredictiveIntelligenceLab/CausalPINNs, KS/Causal_PINNs_KS.py) trains with causal weights
# w_i = exp(-epsilon sum_{j<i} L_r(t_j)) for each epsilon of this list in turn (``tol_list``; its chaotic-regime
# script KS/chaotic_KS.py starts at 1e-3 instead), and ends a stage once every w_i exceeds 0.99
# (``W_value.min() > 0.99``). How the paper itself states the schedule is not checked here.
CAUSAL_CODE_EPSILONS: tuple[float, ...] = (1e-2, 1e-1, 1.0, 1e1, 1e2)
CAUSAL_CODE_MIN_WEIGHT = 0.99
CAUSAL_CODE_SOURCE = "PredictiveIntelligenceLab/CausalPINNs, KS/Causal_PINNs_KS.py (tol_list; W_value.min() > 0.99)"

# The cavity's reference solution as the paper describes it (Appendix 5.2), in words. The library's reference
# (pinn_tutorial.reference, chapter 11) solves the same equations with Thom's wall formula, by Newton's method.
CAVITY_REFERENCE_METHOD = ("a second-order stream-function-vorticity finite-difference solution on 128 cells a side, "
                           "with Woods' formula for the wall vorticity, stepped in time to a steady state")
CAVITY_REFERENCE_SOURCE = "Appendix 5.2"

# The cavity's networks as the text describes them (sections 3.4 and 3.5, both formulations). The authors' stream-
# function code builds 3 hidden layers of 50 ([2, 50, 50, 50, 2]), the network of the library's cavity runs.
CAVITY_NETWORK_TEXT = "5-layer deep, 50 neurons"
CAVITY_NETWORK_TEXT_SOURCE = "sections 3.4 and 3.5, the text of both cavity formulations"

# The network of the single-run Helmholtz figures, (hidden layers, units per layer): the captions of Figs. 1, 6 and
# 10 say 4 hidden layers of 50 (the text says "4-layer deep"; the authors' code builds 3 hidden layers of 50, the
# network of Table 2's 3 x 50 row and of the book's runs).
HELMHOLTZ_FIGURE_NETWORK: tuple[int, int] = (4, 50)

# Section 2.3's assumption on a trained network, behind the Poisson bounds (Eqs. 14-15, Appendix 5.1): the network
# is u * eps_theta with |eps_theta - 1| <= eps, and ||d^k eps_theta / dx^k||_Linf < eps "for all k >= 0". The
# smallest order k that the printed condition on the derivatives names:
POISSON_ASSUMPTION_LOWEST_ORDER = 0

# Fig. 8: the boundary weight lambda of Helmholtz M2 over its 40,000 steps, plotted on a lambda axis of about 50 to
# 350 (the range of the axis, read off the figure; the paper prints no number for the weight).
HELMHOLTZ_FIG8_LAMBDA_AXIS: tuple[float, float] = (50.0, 350.0)
HELMHOLTZ_FIG8_SOURCE = "Fig. 8 (Helmholtz, M2): the axis of lambda, read off the figure"

# Section 2.4's stiffness experiment, Fig. 4 (Helmholtz (a1, a2) = (1, 4), the standard PINN): the eigenvalues of
# the residual loss's Hessian reach about 1e5 in Fig. 4a (an order of magnitude, read off the figure), for the
# network and batch the text states before the figure; the book's runs use 3 hidden layers of 50 and draw 128
# points per term.
HELMHOLTZ_FIG4_SIGMA_MAX: float = 1e5
HELMHOLTZ_FIG4_SOURCE = "Fig. 4a (Helmholtz, M1): the residual loss's Hessian eigenvalues, read off the figure"
HELMHOLTZ_FIG4_SETTING = 'a "five layer" network of 50 units, trained on the full batch'
HELMHOLTZ_FIG4_SETTING_SOURCE = "section 2.4, the text before Fig. 4"

# Fig. 11 (Helmholtz (1, 4)): the largest eigenvalue of the residual loss's Hessian during training, the plain
# network's (M1) about three times the gated network's (M3): a factor read off the figure's log axis.
HELMHOLTZ_FIG11_SIGMA_RATIO: float = 3.0
HELMHOLTZ_FIG11_SOURCE = "Fig. 11 (Helmholtz, M1 against M3): sigma_max of the residual loss's Hessian, read off"


def reported(problem: str, method: str) -> Reported | None:
    """The paper's single figure for this problem and method, or None where it gives none.

    For Helmholtz M3, which the paper quotes only in Table 2, this is the 3 x 50 entry.
    """
    if (problem, method) == ("helmholtz", "M3"):
        return Reported(HELMHOLTZ_TABLE2[(3, 50)]["M3"], "Table 2, 3 hidden layers x 50, mean of 10 trials",
                        TABLE2_TRIALS)
    return PAPER_RESULTS.get((problem, method))


# The PDE of each benchmark as the paper sets it (section 3; the library's defaults): a run of another PDE has no
# figure in the paper to be held against.
PAPER_PDES: dict[str, dict[str, float]] = {
    "helmholtz": {"a1": 1.0, "a2": 4.0, "k": 1.0},
    "klein_gordon": {"alpha": -1.0, "beta": 0.0, "gamma": 1.0, "k": 3},
    "cavity_stream": {"re": 100.0},
    "cavity_velocity": {"re": 100.0},
}

# The networks (hidden layers, units) each benchmark's figures may be of. Helmholtz: the code's 3 x 50 and the
# captions' "4 hidden layers"; Klein-Gordon: 5 x 50, paper and code agree; the cavity: the paper's "5-layer deep,
# 50 neurons" and the code's 3 x 50 (paper_setup, "Depth ambiguity").
FIGURE_NETWORKS: dict[str, set[tuple[int, int]]] = {
    "helmholtz": {(3, 50), (4, 50)},
    "klein_gordon": {(5, 50)},
    "cavity_stream": {(3, 50), (5, 50)},
    "cavity_velocity": {(3, 50), (5, 50)},
}


def reported_for_network(problem: str, method: str, depth: int | None, width: int | None,
                         params: dict[str, float] | None = None) -> Reported | None:
    """The paper's figure to hold runs on ``depth`` hidden layers of ``width`` units, with the problem's
    ``params``, against: for Helmholtz M1-M4 on one of Table 2's networks, 3 x 50 included, that cell, a mean of
    10 trials; otherwise ``reported``, where the network is one the figures may be of (``FIGURE_NETWORKS``; any,
    where the network is not given). None for another PDE (``params`` away from ``PAPER_PDES``) or another
    network: the paper has no figure for it.

    (For 3 x 50 the captions of Figs. 1, 6 and 10 give single runs too; a mean over seeds is compared with a
    mean over trials.)
    """
    pde = PAPER_PDES.get(problem, {})
    if any(name in pde and value != pde[name] for name, value in (params or {}).items()):
        return None
    cell = HELMHOLTZ_TABLE2.get((depth, width))
    if problem == "helmholtz" and cell and method in cell:
        return Reported(cell[method], f"Table 2, {depth} hidden layers x {width}, mean of 10 trials", TABLE2_TRIALS)
    if depth is not None and (depth, width) not in FIGURE_NETWORKS.get(problem, set()):
        return None
    return reported(problem, method)
