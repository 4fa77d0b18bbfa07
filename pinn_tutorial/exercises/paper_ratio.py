"""Chapter 8's exercise: our errors against one of the paper's figures, as a ratio with its 95% interval, by hand.

The learner writes ``paper_ratio_interval(errors, paper, trials)``: ``errors`` are our n_s seeds' relative L2 errors,
``paper`` the paper's figure and ``trials`` the number n_p of the paper's runs it is the mean of (None: unknown,
taken as one run). Assuming the paper's runs spread as ours, with s the standard deviation of our log errors,

    s_p^2 = log(1 + (exp(s^2) - 1) / n_p)                  (the spread of the log of a mean of n_p runs)
    mu_p  = log(paper) - s^2 / 2 + s_p^2 / 2               (the paper's runs' mean log error, estimated)
    d     = mean(log e) - mu_p,    se = sqrt(s^2 / n_s + s_p^2)

it returns (exp(d), exp(d - t se), exp(d + t se)) with t the 0.975 quantile of Student's t with n_s - 1 degrees of
freedom. The check compares it with the library's ``comparison.ratio_to_paper`` on a few sets of errors: one run,
ten runs and an unknown number behind the paper's figure, three seeds and twenty.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from ..reproduction.comparison import ratio_to_paper
from . import CaseFailed, CheckResult, run_cases

NAME = "ch08-paper-ratio"

# Five seeds' errors, skewed as errors are, and three (where Student's t with 2 degrees of freedom is far from 1.96).
FIVE = [5.1e-3, 6.3e-3, 5.4e-3, 9.8e-3, 4.6e-3]
THREE = [7.9e-2, 1.66e-1, 9.1e-2]


def _twenty() -> list[float]:
    """Twenty lognormal errors from a fixed stream (the learner's own random state is left as it was)."""
    stream = random.Random(8)
    return [math.exp(stream.gauss(math.log(5e-3), 0.5)) for _ in range(20)]


def check(paper_ratio_interval: Callable) -> CheckResult:
    """Pass when ``paper_ratio_interval(errors, paper, trials)`` gives the library's ratio and interval (five cases)."""

    def compare(case: str, errors: list[float], paper: float, trials: int | None, ratio_hint: str,
                interval_hint: str) -> None:
        got = paper_ratio_interval(list(errors), paper, trials)
        if not isinstance(got, tuple | list) or len(got) != 3:
            raise CaseFailed("return three numbers, (ratio, low, high): the ratio ours / paper and its interval")
        try:
            ratio, low, high = (float(v) for v in got)
        except (TypeError, ValueError) as error:
            raise CaseFailed("return three numbers, (ratio, low, high)") from error
        expected = ratio_to_paper(errors, paper, trials)
        if not math.isclose(ratio, expected.ratio, rel_tol=1e-6):
            raise CaseFailed(f"{case}: the ratio is {ratio:.6g}, expected {expected.ratio:.6g}. {ratio_hint}")
        if not (math.isclose(low, expected.low, rel_tol=1e-6) and math.isclose(high, expected.high, rel_tol=1e-6)):
            raise CaseFailed(f"{case}: the interval is {low:.6g} to {high:.6g}, expected {expected.low:.6g} to "
                             f"{expected.high:.6g}. {interval_hint}")

    t_hint = ("Take the 0.975 quantile of Student's t with n_s - 1 degrees of freedom "
              "(scipy.stats.t.ppf(0.975, n_s - 1)), not 1.96.")

    def one_run() -> None:
        compare("five seeds against a single run (trials = 1)", FIVE, 4.2e-3, 1,
                "With one run, log(paper) itself estimates the paper's mean log error: the ratio is "
                "exp(mean log e - log paper), the geometric mean over the paper's figure.",
                "The paper's single run scatters as one of ours: the standard error holds s^2 / n_s for our mean "
                "AND s^2 for the paper's run, s the standard deviation of the log errors (statistics.stdev). "
                + t_hint)

    def ten_trials() -> None:
        compare("five seeds against a mean of ten trials (trials = 10)", FIVE, 4.2e-3, 10,
                "A mean of n_p runs sits above their typical run: estimate the paper's mean log error as "
                "log(paper) - s^2/2 + s_p^2/2, with s_p^2 = log(1 + (exp(s^2) - 1) / n_p).",
                "The paper's part of the standard error is s_p, with s_p^2 = log(1 + (exp(s^2) - 1) / n_p) "
                "(not zero, as if the figure were exact): se = sqrt(s^2 / n_s + s_p^2).")

    def unknown() -> None:
        compare("five seeds against a figure of unknown trials (trials = None)", FIVE, 4.2e-3, None,
                "Where the paper does not say how many runs a figure is, take it as one run (trials = 1).",
                "Where the paper does not say how many runs a figure is, take it as one run (trials = 1).")

    def three_seeds() -> None:
        compare("three seeds against a mean of ten trials", THREE, 7.53e-1, 10,
                "Compute the mean and the standard deviation of the LOG errors (statistics.stdev: n - 1 in the "
                "denominator).", t_hint)

    def twenty_seeds() -> None:
        compare("twenty seeds against a mean of ten trials", _twenty(), 3.87e-3, 10,
                "Your function agrees on the small cases but not here: does it use every error it is given?",
                "Your function agrees on the small cases but not here: does it use every error it is given?")

    return run_cases(NAME, [one_run, ten_trials, unknown, three_seeds, twenty_seeds],
                     "your ratio and its interval agree with the library's comparison.ratio_to_paper: a single run, a "
                     "mean of ten trials, an unknown number of trials, three seeds and twenty.")
