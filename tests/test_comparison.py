"""Comparisons on log errors: against hand computations, and the refusals (another budget, bad errors)."""

import math
import statistics

import pytest
from scipy import stats

from pinn_tutorial.reproduction.comparison import (
    NotComparable,
    check_comparable,
    expected_by_chance,
    geometric_mean,
    geometric_mean_interval,
    holm,
    paired_ratio,
    paper_log_mean,
    ratio_to_paper,
    welch_ratio,
)


def test_the_geometric_mean_and_its_interval_by_hand_are_positive_even_where_a_t_interval_is_not():
    errors = [1e-3, 2e-3, 4e-2]  # skewed: the arithmetic t interval's lower end is negative here
    logs = [math.log(e) for e in errors]
    assert geometric_mean(errors) == pytest.approx((1e-3 * 2e-3 * 4e-2) ** (1 / 3))
    half = stats.t.ppf(0.975, 2) * statistics.stdev(logs) / math.sqrt(3)
    low, high = geometric_mean_interval(errors)
    assert (low, high) == (pytest.approx(math.exp(statistics.fmean(logs) - half)),
                           pytest.approx(math.exp(statistics.fmean(logs) + half)))
    arithmetic_low = statistics.fmean(errors) - stats.t.ppf(0.975, 2) * statistics.stdev(errors) / math.sqrt(3)
    assert arithmetic_low < 0 < low
    assert all(math.isnan(v) for v in geometric_mean_interval([1e-3]))


def test_the_papers_mean_of_m_trials_by_fenton_wilkinson():
    s = 0.4
    # One run: its log is an unbiased draw, with our spread.
    assert paper_log_mean(2e-3, s, 1) == (pytest.approx(math.log(2e-3)), pytest.approx(s))
    # Ten runs: the log of their mean sits s^2/2 - s_p^2/2 above the mean log, with a smaller spread s_p.
    s_p = math.sqrt(math.log(1 + (math.exp(s * s) - 1) / 10))
    mu, se = paper_log_mean(2e-3, s, 10)
    assert (mu, se) == (pytest.approx(math.log(2e-3) - s * s / 2 + s_p * s_p / 2), pytest.approx(s_p))
    assert s_p < s / math.sqrt(10) * 1.1  # close to s / sqrt(n_p) for a small spread
    with pytest.raises(ValueError, match="at least 1"):
        paper_log_mean(2e-3, s, 0)


def test_the_ratio_to_the_paper_by_hand_with_the_papers_own_spread():
    errors, paper = [5e-3, 6e-3, 5.5e-3, 7e-3, 4.5e-3], 3.87e-3
    logs = [math.log(e) for e in errors]
    s, n = statistics.stdev(logs), len(logs)
    mu_paper, se_paper = paper_log_mean(paper, s, 10)
    d = statistics.fmean(logs) - mu_paper
    se = math.sqrt(s * s / n + se_paper ** 2)
    half = stats.t.ppf(0.975, n - 1) * se
    ratio = ratio_to_paper(errors, paper, trials=10)
    assert (ratio.ratio, ratio.low, ratio.high) == (pytest.approx(math.exp(d)), pytest.approx(math.exp(d - half)),
                                                   pytest.approx(math.exp(d + half)))
    assert ratio.p_value == pytest.approx(2 * stats.t.sf(abs(d) / se, n - 1))
    assert ratio.reading() == "higher"
    # The paper's own spread widens the interval: with its figure taken as exact, the interval is narrower.
    exact_half = stats.t.ppf(0.975, n - 1) * s / math.sqrt(n)
    assert math.log(ratio.high / ratio.low) > 2 * exact_half
    # A figure of unknown trials counts as one run: the widest interval.
    unknown, ten = ratio_to_paper(errors, paper, None), ratio_to_paper(errors, paper, 10)
    assert unknown.high / unknown.low > ten.high / ten.low
    assert ratio_to_paper(errors, 5.5e-3, 10).reading() == "consistent"
    assert ratio_to_paper(errors, 5e-2, 10).reading() == "lower"
    one = ratio_to_paper([4e-3], paper, 10)
    assert one.ratio == pytest.approx(4e-3 / paper) and not one.tested and one.reading() == "-"


def test_paired_and_welch_ratios_by_hand():
    a, b = [1.0e-3, 1.3e-3, 0.9e-3, 1.2e-3], [1.1e-3, 1.35e-3, 1.0e-3, 1.3e-3]
    d = [math.log(x / y) for x, y in zip(a, b)]
    half = stats.t.ppf(0.975, 3) * statistics.stdev(d) / 2
    paired = paired_ratio(a, b)
    assert (paired.low, paired.high) == (pytest.approx(math.exp(statistics.fmean(d) - half)),
                                         pytest.approx(math.exp(statistics.fmean(d) + half)))
    welch = welch_ratio(a, b)
    la, lb = [math.log(x) for x in a], [math.log(x) for x in b]
    va, vb = statistics.variance(la) / 4, statistics.variance(lb) / 4
    nu = (va + vb) ** 2 / (va ** 2 / 3 + vb ** 2 / 3)
    diff = statistics.fmean(la) - statistics.fmean(lb)
    w_half = stats.t.ppf(0.975, nu) * math.sqrt(va + vb)
    assert (welch.low, welch.high) == (pytest.approx(math.exp(diff - w_half)), pytest.approx(math.exp(diff + w_half)))
    # The pairs see a small, consistent effect that two independent groups cannot.
    assert paired.reading("no detectable change") == "lower"
    assert welch.reading("no detectable change") == "no detectable change"
    with pytest.raises(ValueError, match="one baseline each"):
        paired_ratio(a, b[:3])


def test_holm_rejects_step_down_and_chance_counts_k_alpha():
    # Sorted: 0.001 <= 0.05/4, 0.012 <= 0.05/3, 0.03 > 0.05/2: stop; 0.04 is not rejected though below 0.05.
    assert holm([0.03, 0.001, 0.04, 0.012]) == [False, True, False, True]
    assert holm([0.2, math.nan, 0.01]) == [False, False, True]  # NaN untested: not counted in k
    assert holm([]) == []
    assert expected_by_chance(36) == pytest.approx(1.8)


def test_another_budget_or_other_steps_are_not_compared_with_the_paper():
    check_comparable("paper", 40000)
    with pytest.raises(NotComparable, match="default-budget runs of 6,000 steps"):
        check_comparable("default", 6000)
    with pytest.raises(NotComparable, match="50 steps"):
        check_comparable("paper", 50)  # a smoke run at the paper budget


@pytest.mark.parametrize("errors", [[0.0, 1e-3], [-1e-3, 1e-3], [math.nan, 1e-3], [math.inf, 1e-3]])
def test_an_error_that_is_not_positive_and_finite_is_refused(errors):
    with pytest.raises(ValueError, match="positive, finite"):
        geometric_mean(errors)


def test_a_single_run_of_the_paper_scatters_as_one_of_ours_and_an_unknown_count_is_one_run():
    errors, paper = [4.1e-3, 5.2e-3, 3.9e-3, 6.6e-3], 3.69e-3
    logs = [math.log(e) for e in errors]
    s, n = statistics.stdev(logs), len(logs)
    d = statistics.fmean(logs) - math.log(paper)  # one run: its log is an unbiased draw, no shift
    half = stats.t.ppf(0.975, n - 1) * s * math.sqrt(1 / n + 1)
    one = ratio_to_paper(errors, paper, trials=1)
    assert (one.ratio, one.low, one.high) == (pytest.approx(math.exp(d)), pytest.approx(math.exp(d - half)),
                                              pytest.approx(math.exp(d + half)))
    assert ratio_to_paper(errors, paper, trials=None) == one


@pytest.mark.parametrize("seed", range(5))
def test_the_verdict_and_the_p_value_say_the_same_thing(seed):
    """An interval at 95% holds 1 exactly when the two-sided p-value exceeds 0.05, for every kind of comparison."""
    import random

    stream = random.Random(seed)
    a = [math.exp(stream.gauss(math.log(5e-3), 0.4)) for _ in range(6)]
    b = [x * math.exp(stream.gauss(0.15, 0.2)) for x in a]
    for ratio in (ratio_to_paper(a, 4e-3, 10), ratio_to_paper(a, 4e-3, None), paired_ratio(a, b), welch_ratio(a, b)):
        assert (ratio.reading() == "consistent") == (ratio.p_value > 0.05)
        assert ratio.low < ratio.ratio < ratio.high


def test_too_little_to_compare_is_untested_and_a_paper_figure_must_be_an_error():
    same = ratio_to_paper([2e-3, 2e-3, 2e-3], 1e-3, 10)  # no spread at all: no interval to speak of
    assert same.ratio == pytest.approx(2.0) and not same.tested and same.reading() == "-"
    one_pair = paired_ratio([1e-3], [2e-3])
    assert one_pair.ratio == pytest.approx(0.5) and not one_pair.tested
    assert not welch_ratio([1e-3], [2e-3, 3e-3]).tested
    with pytest.raises(ValueError, match="positive, finite"):
        ratio_to_paper([1e-3, 2e-3], 0.0, 10)
