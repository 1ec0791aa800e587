"""Campaign statistics agree with statsmodels and scipy on the same numbers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from segmint.campaigns.stats import (
    MeanResult,
    ProportionResult,
    bootstrap_means,
    mean_test,
    proportion_test,
    sample_ratio_check,
    verdict,
)
from segmint.errors import ConfigError

COUNTS = [
    (72, 1_000, 60, 1_000),
    (130, 2_250, 18, 500),
    (5, 40, 11, 35),
    (0, 300, 4, 280),
    (450, 9_000, 500, 9_100),
]


@pytest.mark.parametrize(("x_t", "n_t", "x_c", "n_c"), COUNTS)
@pytest.mark.parametrize("alpha", [0.05, 0.01])
def test_proportion_test_matches_statsmodels(
    x_t: int, n_t: int, x_c: int, n_c: int, alpha: float
) -> None:
    result = proportion_test(x_t, n_t, x_c, n_c, alpha=alpha)
    z, p_value = proportions_ztest([x_t, x_c], [n_t, n_c])
    assert result.z == pytest.approx(z, rel=1e-10)
    assert result.p_value == pytest.approx(p_value, rel=1e-10)
    diff = confint_proportions_2indep(
        x_t, n_t, x_c, n_c, method="wald", compare="diff", alpha=alpha
    )
    assert (result.ci_low, result.ci_high) == pytest.approx(diff, rel=1e-10)
    assert result.rate_t == x_t / n_t and result.rate_c == x_c / n_c
    assert result.absolute_lift == pytest.approx(x_t / n_t - x_c / n_c)
    if x_t and x_c:
        ratio = confint_proportions_2indep(
            x_t, n_t, x_c, n_c, method="log", compare="ratio", alpha=alpha
        )
        assert (result.relative_ci_low, result.relative_ci_high) == pytest.approx(
            (ratio[0] - 1, ratio[1] - 1), rel=1e-10
        )
        assert result.relative_lift == pytest.approx((x_t / n_t) / (x_c / n_c) - 1)
    else:
        assert result.relative_ci_low is None and result.relative_ci_high is None


def test_proportion_test_edge_cases() -> None:
    none = proportion_test(0, 100, 0, 100)
    assert (none.z, none.p_value, none.ci_low, none.ci_high) == (0.0, 1.0, 0.0, 0.0)
    assert none.relative_lift is None and not none.normal_ok
    for args in [(1, 0, 1, 10), (11, 10, 1, 10), (-1, 10, 1, 10)]:
        with pytest.raises(ConfigError):
            proportion_test(*args)
    with pytest.raises(ConfigError, match="alpha"):
        proportion_test(1, 10, 1, 10, alpha=1.5)


def _revenue(rng: np.random.Generator, n: int, rate: float, sigma: float = 1.2) -> np.ndarray:
    """Revenue per recipient: zero unless the recipient ordered, then lognormal."""
    return np.where(rng.random(n) < rate, rng.lognormal(3.5, sigma, n), 0.0)


def test_mean_test_uses_welch_on_well_behaved_data_and_matches_scipy() -> None:
    rng = np.random.default_rng(1)
    values_t, values_c = rng.normal(52, 10, 400), rng.gamma(9, 5.5, 350)
    result = mean_test(values_t, values_c, alpha=0.10)
    scipy_result = sps.ttest_ind(values_t, values_c, equal_var=False)
    interval = scipy_result.confidence_interval(confidence_level=0.90)
    assert result.method == "welch" and result.normal_ok
    assert result.p_value == pytest.approx(scipy_result.pvalue, rel=1e-10)
    assert (result.ci_low, result.ci_high) == pytest.approx((interval.low, interval.high))
    assert result.absolute_lift == pytest.approx(values_t.mean() - values_c.mean())
    assert result.relative_ci_low < result.relative_lift < result.relative_ci_high


def test_mean_test_bootstraps_zero_inflated_revenue() -> None:
    rng = np.random.default_rng(2)
    values_t, values_c = _revenue(rng, 2_700, 0.07), _revenue(rng, 300, 0.06)
    result = mean_test(values_t, values_c)
    assert result.method == "bootstrap" and not result.normal_ok
    assert "exceeds ±0.2 (Cochran's rule)" in result.reason
    assert (result.nonzero_t, result.nonzero_c) == (
        np.count_nonzero(values_t),
        np.count_nonzero(values_c),
    )
    assert result.ci_low < result.absolute_lift < result.ci_high
    assert result.relative_ci_low < result.relative_lift < result.relative_ci_high
    assert 0 <= result.p_value <= 1
    # The percentile interval is close to the textbook (resample every value) bootstrap's.
    draws = np.random.default_rng(3)
    diffs = values_t[draws.integers(0, 2_700, (4_000, 2_700))].mean(axis=1) - values_c[
        draws.integers(0, 300, (4_000, 300))
    ].mean(axis=1)
    textbook = np.quantile(diffs, [0.025, 0.975])
    width = textbook[1] - textbook[0]
    assert result.ci_low == pytest.approx(textbook[0], abs=0.1 * width)
    assert result.ci_high == pytest.approx(textbook[1], abs=0.1 * width)


def test_cochrans_rule_on_the_difference_in_means() -> None:
    rng = np.random.default_rng(8)
    skewed = rng.lognormal(0, 1.5, 200)  # skewness far above sqrt(200) / 5
    # Against an exact control the rule is Cochran's rule for one mean.
    assert mean_test(skewed, np.full(200, 1.0)).method == "bootstrap"
    assert mean_test(skewed, np.full(200, 1.0) + rng.normal(0, 1e-9, 200)).method == "bootstrap"
    # Two equal arms drawn alike: their skewness cancels in the difference.
    result = mean_test(rng.gamma(0.5, 2.0, 5_000), rng.gamma(0.5, 2.0, 5_000))
    assert result.method == "welch" and "within ±0.2" in result.reason


def test_mean_test_is_reproducible_and_seeded() -> None:
    rng = np.random.default_rng(4)
    values_t, values_c = _revenue(rng, 800, 0.07), _revenue(rng, 200, 0.06)
    first = mean_test(values_t, values_c, seed=11)
    assert first == mean_test(values_t, values_c, seed=11)
    assert first.ci_low != mean_test(values_t, values_c, seed=12).ci_low


def test_bootstrap_means_matches_the_ordinary_bootstrap_in_distribution() -> None:
    values = _revenue(np.random.default_rng(5), 500, 0.1)
    sparse = bootstrap_means(values, np.random.default_rng(6), 20_000)
    ordinary = values[np.random.default_rng(7).integers(0, 500, (20_000, 500))].mean(axis=1)
    assert sparse.mean() == pytest.approx(values.mean(), rel=0.01)
    assert sparse.std() == pytest.approx(values.std() / np.sqrt(500), rel=0.03)
    assert sps.ks_2samp(sparse, ordinary).pvalue > 0.001
    assert bootstrap_means(np.zeros(10), np.random.default_rng(0), 5).tolist() == [0.0] * 5


def test_bootstrap_means_bounds_memory_on_large_arms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("segmint.campaigns.stats.BOOTSTRAP_CHUNK", 1_000)
    values = np.arange(1.0, 201.0)
    means = bootstrap_means(values, np.random.default_rng(0), 300)
    assert means.shape == (300,) and abs(means.mean() - values.mean()) < 2


def test_mean_test_with_no_revenue_in_either_arm() -> None:
    result = mean_test(np.zeros(50), np.zeros(60))
    assert result.method == "bootstrap"
    assert (result.ci_low, result.ci_high, result.p_value) == (0.0, 0.0, 1.0)
    assert result.relative_lift is None and result.relative_ci_low is None


def test_mean_test_rejects_bad_input() -> None:
    with pytest.raises(ConfigError, match="at least 2"):
        mean_test(np.array([1.0]), np.zeros(5))
    with pytest.raises(ConfigError, match="missing"):
        mean_test(np.array([1.0, np.nan]), np.zeros(5))


def test_sample_ratio_check_matches_scipy() -> None:
    observed = {"A": 4_480, "B": 4_530, "holdout": 990}
    shares = {"A": 0.45, "B": 0.45, "holdout": 0.10}
    result = sample_ratio_check(observed, shares)
    expected = sps.chisquare([4_480, 4_530, 990], [4_500, 4_500, 1_000])
    assert result.statistic == pytest.approx(expected.statistic)
    assert result.p_value == pytest.approx(expected.pvalue)
    assert not result.mismatch and result.message.startswith("arm sizes match")


def test_sample_ratio_mismatch_names_the_arm_furthest_from_its_share() -> None:
    result = sample_ratio_check({"A": 4_500, "B": 4_620, "holdout": 880}, {
        "A": 0.45, "B": 0.45, "holdout": 0.10,
    })  # fmt: skip
    assert result.mismatch and result.p_value < 0.001 and result.worst_arm == "holdout"
    assert "sample ratio mismatch" in result.message
    assert "holdout has 8.8% of 10,000 customers, planned 10.0%" in result.message


def test_sample_ratio_check_rejects_mismatched_arms() -> None:
    with pytest.raises(ConfigError, match="differ"):
        sample_ratio_check({"A": 5, "B": 5}, {"A": 0.5, "C": 0.5})
    with pytest.raises(ConfigError, match="customers"):
        sample_ratio_check({"A": 0, "B": 0}, {"A": 0.5, "B": 0.5})


def test_verdict_calls_a_direction_only_when_the_interval_excludes_zero() -> None:
    better = proportion_test(720, 10_000, 600, 10_000)
    assert verdict(better, treatment="B", control="holdout") == (
        "B converts better than holdout: +1.2 points (95% CI +0.5 to +1.9)"
    )
    worse = proportion_test(600, 10_000, 720, 10_000)
    assert verdict(worse, treatment="B", control="holdout").startswith(
        "B converts worse than holdout: -1.2 points"
    )
    unclear = proportion_test(72, 1_000, 60, 1_000)
    assert verdict(unclear) == "no detectable difference (95% CI -1.0 to +3.4 points)"


def test_verdict_on_revenue_and_on_few_conversions() -> None:
    revenue = _mean_result(ci_low=0.2, ci_high=1.5, lift=0.85)
    assert verdict(revenue, treatment="A", control="holdout") == (
        "A earns more per recipient than holdout: +0.85 per recipient (95% CI +0.20 to +1.50)"
    )
    assert verdict(_mean_result(ci_low=-0.3, ci_high=1.1, lift=0.4)) == (
        "no detectable difference (95% CI -0.30 to +1.10 per recipient)"
    )
    assert verdict(_mean_result(ci_low=0.2, ci_high=1.5, lift=0.85, orders=29)) == (
        "too few orders to tell: fewer than 30 recipients with revenue in an arm "
        "(95% CI +0.20 to +1.50 per recipient)"
    )
    few = proportion_test(3, 100, 0, 100)
    assert verdict(few).startswith("too few conversions to tell")


def test_verdict_waits_for_the_window_unless_forced() -> None:
    result = proportion_test(720, 10_000, 600, 10_000)
    assert verdict(result, window_ended=False) == (
        "the window is still open: no winner is called until it ends"
    )
    forced = verdict(result, window_ended=False, force=True, treatment="B", control="holdout")
    assert forced.startswith("interim, the window is still open: B converts better")
    with pytest.raises(ValueError, match="alpha"):
        verdict(result, alpha=0.01)
    assert verdict(result, 0.05).startswith("treatment converts better than control")


def _mean_result(*, ci_low: float, ci_high: float, lift: float, orders: int = 30) -> MeanResult:
    return MeanResult(
        method="welch", mean_t=1.0 + lift, mean_c=1.0, absolute_lift=lift, ci_low=ci_low,
        ci_high=ci_high, relative_lift=lift, relative_ci_low=None, relative_ci_high=None,
        p_value=0.01, alpha=0.05, n_t=100, n_c=100, normal_ok=True, reason="", nonzero_t=40,
        nonzero_c=orders,
    )  # fmt: skip


def test_results_are_frozen() -> None:
    result: ProportionResult = proportion_test(1, 10, 1, 10)
    with pytest.raises(AttributeError):
        result.p_value = 0.0  # type: ignore[misc]
