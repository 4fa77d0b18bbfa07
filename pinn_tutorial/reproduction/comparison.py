"""Comparing errors over seeds: ours with the paper's figures, and one setting with another, on log errors.

A relative L2 error e is positive, and over seeds its spread is skewed: a few runs land far above the rest.
So every comparison here is made on log e, where the spread is close to symmetric, and reported back on the
error's own scale as a ratio of geometric means, GM = exp(mean_k log e_k). An interval of a ratio is never
negative, and "ours is 1.5 times the paper" is the statement people make anyway. (Symbols as on the book's
notation page: n_s our seeds, n_p the paper's trials, m comparisons, t_{q,nu} Student's t quantile.)

Ours against the paper (``ratio_to_paper``). The paper prints one number per cell: a mean of n_p trials
(Table 2: n_p = 10) or a single run (a figure's caption: n_p = 1). That number has its own sampling error. We
assume the paper's runs spread as ours do: log e ~ N(mu_p, s^2), with s our seeds' standard deviation of
log e. A mean of n_p such runs is then close to lognormal (Fenton-Wilkinson) with

    s_p^2 = log(1 + (exp(s^2) - 1) / n_p),        log(paper) ~ N(mu_p + s^2/2 - s_p^2/2, s_p^2),

so mu_p is estimated by log(paper) - s^2/2 + s_p^2/2, with standard error s_p (for n_p = 1: log(paper) itself,
standard error s). With the mean log error ybar of our n_s seeds, the log ratio and its interval are

    d = ybar - mu_p_hat,        d -+ t_{(1+c)/2, n_s-1} sqrt(s^2/n_s + s_p^2),

reported as exp(d) with (exp(low), exp(high)). "consistent" when the interval holds 1, else "higher" or
"lower" (ours against the paper's). Where the paper does not say how many trials a figure is (Table 3),
it is taken as one run: the widest interval, the claim bounded accordingly.

Two settings (``paired_ratio``, ``welch_ratio``): on the same seeds, the runs are pairs (one
initialisation, one stream of points), and the interval is that of the mean of d_k = log e^A_k - log e^B_k,
t_{q, n_s-1}; otherwise Welch's interval for the difference of the mean log errors.

Several comparisons at once (``holm``): of m true agreements, about 0.05 m "differ" by chance at the 95%
level; Holm's step-down procedure keeps the chance of any false "differs" across the family below 5%.

Only runs of the paper's protocol compare with the paper: the library refuses other budgets
(``NotComparable``).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

from ..config import BUDGETS

PAPER_BUDGET = "paper"
PAPER_STEPS = BUDGETS[PAPER_BUDGET].steps  # the paper's 40,000 Adam steps


class NotComparable(ValueError):
    """Runs that cannot be compared with the paper's figure: another budget, or another number of steps."""


def check_comparable(budget: str, steps: int) -> None:
    """Refuse to compare runs of ``budget`` and ``steps`` with the paper's figures (40,000 steps)."""
    if budget != PAPER_BUDGET or steps != PAPER_STEPS:
        raise NotComparable(f"the paper's figures are after {PAPER_STEPS:,} steps (the paper budget); these runs are "
                            f"{budget}-budget runs of {steps:,} steps: not comparable")


def log_errors(errors: Sequence[float]) -> list[float]:
    """log e of each error; every error must be a positive, finite number."""
    if any(not (isinstance(e, (int, float)) and math.isfinite(e) and e > 0) for e in errors):
        raise ValueError(f"errors must be positive, finite numbers, got {list(errors)}")
    return [math.log(e) for e in errors]


def geometric_mean(errors: Sequence[float]) -> float:
    """GM = exp(mean_k log e_k)."""
    return math.exp(statistics.fmean(log_errors(errors)))


def geometric_mean_interval(errors: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """The t interval of the geometric mean: exp(ybar -+ t_{(1+c)/2, n-1} s / sqrt(n)), ybar and s the mean and
    standard deviation of log e; NaNs for fewer than two errors. Both ends are positive."""
    logs = log_errors(errors)
    if len(logs) < 2:
        return math.nan, math.nan
    half = stats.t.ppf((1 + confidence) / 2, len(logs) - 1) * statistics.stdev(logs) / math.sqrt(len(logs))
    return math.exp(statistics.fmean(logs) - half), math.exp(statistics.fmean(logs) + half)


@dataclass(frozen=True)
class Ratio:
    """A ratio of geometric means (ours over theirs), its confidence interval and the two-sided p-value of
    "the ratio is 1"; NaNs where there is no interval (fewer than two seeds)."""

    ratio: float
    low: float
    high: float
    p_value: float

    @property
    def tested(self) -> bool:
        return not math.isnan(self.low)

    def reading(self, same: str = "consistent") -> str:
        """"lower" when the interval lies below 1, "higher" above it, ``same`` when it holds 1, "-" untested."""
        if not self.tested:
            return "-"
        return "lower" if self.high < 1 else "higher" if self.low > 1 else same


def _ratio(d: float, se: float, df: float, confidence: float) -> Ratio:
    """exp(d) with the interval exp(d -+ t_{(1+c)/2, df} se) and the p-value of d = 0."""
    if not (se > 0 and df > 0):
        return Ratio(math.exp(d), math.nan, math.nan, math.nan)
    half = stats.t.ppf((1 + confidence) / 2, df) * se
    p_value = 2 * stats.t.sf(abs(d) / se, df)
    return Ratio(math.exp(d), math.exp(d - half), math.exp(d + half), float(p_value))


def paper_log_mean(paper: float, s: float, trials: int) -> tuple[float, float]:
    """The paper's runs' mean log error mu_p, estimated from its figure, a mean of ``trials`` (n_p) runs that
    spread with standard deviation ``s`` of log e, and its standard error: (log(paper) - s^2/2 + s_p^2/2, s_p)
    with s_p^2 = log(1 + (exp(s^2) - 1) / n_p) (module docstring)."""
    if trials < 1:
        raise ValueError(f"trials must be at least 1, got {trials}")
    s_p2 = math.log1p(math.expm1(s * s) / trials)
    return math.log(paper) - s * s / 2 + s_p2 / 2, math.sqrt(s_p2)


def ratio_to_paper(errors: Sequence[float], paper: float, trials: int | None,
                   confidence: float = 0.95) -> Ratio:
    """Our errors (n_s seeds) against the paper's figure, a mean of ``trials`` runs (None: unknown, taken as one
    run), assuming the paper's runs spread as ours do: GM(ours) / exp(mu_p_hat) with its interval (module
    docstring). Check the budgets first (``check_comparable``)."""
    logs = log_errors(errors)
    if len(logs) < 2:
        return Ratio(math.exp(statistics.fmean(logs)) / paper, math.nan, math.nan, math.nan)
    log_errors([paper])  # the paper's figure is an error too
    s = statistics.stdev(logs)
    mu_paper, se_paper = paper_log_mean(paper, s, trials or 1)
    d = statistics.fmean(logs) - mu_paper
    return _ratio(d, math.sqrt(s * s / len(logs) + se_paper ** 2), len(logs) - 1, confidence)


def paired_ratio(values: Sequence[float], baseline: Sequence[float], confidence: float = 0.95) -> Ratio:
    """Runs paired by seed (value k and baseline k share an initialisation and a stream of points): the
    geometric mean of e^A_k / e^B_k, with the t interval of the mean of d_k = log e^A_k - log e^B_k (n_s - 1
    degrees of freedom), which sees a small, consistent effect through a spread of seeds far larger than it."""
    if len(values) != len(baseline):
        raise ValueError(f"paired values need one baseline each, got {len(values)} and {len(baseline)}")
    d = [a - b for a, b in zip(log_errors(values), log_errors(baseline), strict=True)]
    if len(d) < 2:
        return Ratio(math.exp(statistics.fmean(d)), math.nan, math.nan, math.nan)
    return _ratio(statistics.fmean(d), statistics.stdev(d) / math.sqrt(len(d)), len(d) - 1, confidence)


def welch_ratio(values: Sequence[float], baseline: Sequence[float], confidence: float = 0.95) -> Ratio:
    """Two independent groups: GM(values) / GM(baseline), with Welch's interval for the difference of the mean
    log errors (standard error sqrt(s_A^2/n_A + s_B^2/n_B), Welch-Satterthwaite degrees of freedom)."""
    a, b = log_errors(values), log_errors(baseline)
    d = statistics.fmean(a) - statistics.fmean(b)
    if len(a) < 2 or len(b) < 2:
        return Ratio(math.exp(d), math.nan, math.nan, math.nan)
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1)) if se > 0 else 0.0
    return _ratio(d, se, df, confidence)


def holm(p_values: Sequence[float], level: float = 0.05) -> list[bool]:
    """Holm's step-down procedure: which of m hypotheses to reject so that the chance of any false rejection
    stays below ``level``. Sort the p-values, p_(1) <= ... <= p_(m); reject while p_(j) <= level / (m - j + 1),
    and stop at the first that is not. NaN p-values (untested) are never rejected and do not count in m."""
    tested = sorted((p, i) for i, p in enumerate(p_values) if not math.isnan(p))
    rejected = [False] * len(p_values)
    for j, (p, i) in enumerate(tested):
        if p > level / (len(tested) - j):
            break
        rejected[i] = True
    return rejected


def expected_by_chance(comparisons: int, level: float = 0.05) -> float:
    """How many of ``comparisons`` (m) true agreements a test at ``level`` calls "differs" on average: m x level."""
    return comparisons * level
