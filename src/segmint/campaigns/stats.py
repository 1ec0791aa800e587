"""Statistics of a campaign report: lift with confidence intervals, p-values, the sample-ratio
check and a plain verdict.

Conversion uses the two-proportion z test (pooled) with unpooled Wald intervals; revenue per
recipient, mostly zeros with a heavy tail, uses Welch's t test when Cochran's rule says its
normal approximation holds and a seeded percentile bootstrap otherwise. Everything here is a
pure function of counts or arrays (numpy and scipy only), checked against statsmodels and scipy
in ``tests/campaigns/test_stats.py`` and by simulation in ``test_simulation.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from segmint.errors import ConfigError

#: The usual sample-ratio-mismatch threshold: a real split almost never scores below it.
SRM_THRESHOLD = 0.001
#: Cochran's rule: a mean of n values is close enough to normal when n >= 25 * skewness**2,
#: that is when the mean's own skewness (skewness / sqrt(n)) is at most 1/5.
MAX_SKEWNESS = 0.2
#: The normal approximation to a proportion needs this many successes and failures per arm.
MIN_OUTCOMES = 5
#: Fewer recipients with revenue than this in an arm, and a revenue verdict is not called: in
#: simulated A/A tests with under 20 such recipients in a holdout, 1 in 5 intervals excluded 0.
MIN_NONZERO = 30
#: Bootstrap draws held in memory at once (resamples x draws), to bound memory on large arms.
BOOTSTRAP_CHUNK = 4_000_000


@dataclass(frozen=True)
class ProportionResult:
    """Treatment against control on a rate (conversion): lift, intervals and the z test."""

    rate_t: float
    rate_c: float
    absolute_lift: float  # rate_t - rate_c
    ci_low: float
    ci_high: float
    relative_lift: float | None  # rate_t / rate_c - 1; None when rate_c is 0
    relative_ci_low: float | None
    relative_ci_high: float | None
    z: float
    p_value: float
    alpha: float
    n_t: int
    n_c: int
    normal_ok: bool  # at least MIN_OUTCOMES conversions and non-conversions in each arm
    method: str = "two-proportion z test"


@dataclass(frozen=True)
class MeanResult:
    """Treatment against control on a mean per recipient (revenue): lift, intervals, p-value."""

    method: str  # "welch" or "bootstrap"
    mean_t: float
    mean_c: float
    absolute_lift: float  # mean_t - mean_c
    ci_low: float
    ci_high: float
    relative_lift: float | None  # mean_t / mean_c - 1; None when mean_c is 0
    relative_ci_low: float | None
    relative_ci_high: float | None
    p_value: float
    alpha: float
    n_t: int
    n_c: int
    normal_ok: bool  # Cochran's rule holds for the difference in means
    reason: str  # why the method was chosen
    nonzero_t: int  # recipients with a non-zero value (revenue: who ordered)
    nonzero_c: int


@dataclass(frozen=True)
class SampleRatioResult:
    """Chi-square goodness of fit of the arm sizes to their planned shares."""

    statistic: float
    p_value: float
    mismatch: bool  # p_value < SRM_THRESHOLD
    worst_arm: str  # the arm furthest from its share (largest standardised residual)
    observed: dict[str, int]
    expected: dict[str, float]  # expected counts
    message: str


def proportion_test(
    conversions_t: int, n_t: int, conversions_c: int, n_c: int, alpha: float = 0.05
) -> ProportionResult:
    """Compare the conversion rate of a treated arm (``_t``) with a control arm (``_c``).

    The p-value is the pooled two-proportion z test's (statsmodels ``proportions_ztest``); the
    absolute interval is the unpooled Wald interval and the relative one the delta method on
    the log of the rate ratio (statsmodels ``confint_proportions_2indep`` with ``wald`` and
    ``log``). When both arms have the same all-or-nothing rate, z is 0 and the p-value 1.
    """
    _check_alpha(alpha)
    _check_counts("treatment", conversions_t, n_t)
    _check_counts("control", conversions_c, n_c)
    rate_t, rate_c = conversions_t / n_t, conversions_c / n_c
    lift = rate_t - rate_c
    crit = _critical(alpha)
    spread = crit * math.sqrt(rate_t * (1 - rate_t) / n_t + rate_c * (1 - rate_c) / n_c)
    pooled = (conversions_t + conversions_c) / (n_t + n_c)
    pooled_se = math.sqrt(pooled * (1 - pooled) * (1 / n_t + 1 / n_c))
    z = lift / pooled_se if pooled_se > 0 else 0.0
    relative = _relative_rate_ci(conversions_t, n_t, conversions_c, n_c, crit)
    return ProportionResult(
        rate_t=rate_t,
        rate_c=rate_c,
        absolute_lift=lift,
        ci_low=lift - spread,
        ci_high=lift + spread,
        relative_lift=rate_t / rate_c - 1 if rate_c > 0 else None,
        relative_ci_low=relative[0],
        relative_ci_high=relative[1],
        z=z,
        p_value=float(2 * sps.norm.sf(abs(z))),
        alpha=alpha,
        n_t=n_t,
        n_c=n_c,
        normal_ok=min(conversions_t, n_t - conversions_t, conversions_c, n_c - conversions_c)
        >= MIN_OUTCOMES,
    )


def mean_test(
    values_t: np.ndarray,
    values_c: np.ndarray,
    alpha: float = 0.05,
    seed: int = 0,
    resamples: int = 2000,
) -> MeanResult:
    """Compare the mean per recipient (revenue, zeros included) of a treated and a control arm.

    Welch's t test (scipy ``ttest_ind(equal_var=False)``) gives the interval and p-value when
    Cochran's rule holds for the difference in means (see :func:`_cochran`), with the relative
    interval by the delta method on the log of the ratio of means. Otherwise a percentile
    bootstrap of the difference (and of the ratio) of means, seeded and reproducible, gives the
    intervals, and the p-value is the bootstrap's two-sided one (twice the smaller share of
    resampled differences on either side of 0), which agrees with whether the interval holds 0.
    """
    _check_alpha(alpha)
    values_t = _checked_values("treatment", values_t)
    values_c = _checked_values("control", values_c)
    if resamples < 100:
        raise ConfigError(f"a bootstrap needs at least 100 resamples, not {resamples}")
    mean_t, mean_c = float(values_t.mean()), float(values_c.mean())
    normal_ok, reason = _cochran(values_t, values_c)
    if normal_ok:
        low, high, p_value, rel_low, rel_high = _welch(values_t, values_c, alpha)
    else:
        low, high, p_value, rel_low, rel_high = _bootstrap(
            values_t, values_c, alpha, np.random.default_rng(seed), resamples
        )
    return MeanResult(
        method="welch" if normal_ok else "bootstrap",
        mean_t=mean_t,
        mean_c=mean_c,
        absolute_lift=mean_t - mean_c,
        ci_low=low,
        ci_high=high,
        relative_lift=mean_t / mean_c - 1 if mean_c != 0 else None,
        relative_ci_low=rel_low,
        relative_ci_high=rel_high,
        p_value=p_value,
        alpha=alpha,
        n_t=len(values_t),
        n_c=len(values_c),
        normal_ok=normal_ok,
        reason=reason,
        nonzero_t=int(np.count_nonzero(values_t)),
        nonzero_c=int(np.count_nonzero(values_c)),
    )


def sample_ratio_check(
    observed: dict[str, int], expected_shares: dict[str, float]
) -> SampleRatioResult:
    """Chi-square test that the arm sizes match their planned shares (``scipy.stats.chisquare``).

    A p-value below 0.001 flags a sample ratio mismatch: assignment, delivery or outcome
    collection lost customers unevenly, and the arms are no longer comparable.
    """
    _check_srm_inputs(observed, expected_shares)
    names = list(expected_shares)
    total = sum(observed[name] for name in names)
    share_sum = sum(expected_shares.values())
    expected = {name: total * expected_shares[name] / share_sum for name in names}
    result = sps.chisquare([observed[name] for name in names], [expected[n] for n in names])
    residuals = {n: abs(observed[n] - expected[n]) / math.sqrt(expected[n]) for n in names}
    worst = max(names, key=residuals.__getitem__)
    p_value = float(result.pvalue)
    mismatch = p_value < SRM_THRESHOLD
    share = observed[worst] / total
    planned = expected_shares[worst] / share_sum
    if mismatch:
        message = (
            f"sample ratio mismatch (p = {_p_text(p_value)}): {worst} has {share:.1%} of "
            f"{total:,} customers, planned {planned:.1%}; the arms are not comparable"
        )
    else:
        message = (
            f"arm sizes match their planned shares (p = {_p_text(p_value)}; furthest: "
            f"{worst} at {share:.1%}, planned {planned:.1%})"
        )
    return SampleRatioResult(
        statistic=float(result.statistic),
        p_value=p_value,
        mismatch=mismatch,
        worst_arm=worst,
        observed={name: int(observed[name]) for name in names},
        expected=expected,
        message=message,
    )


def verdict(
    result: ProportionResult | MeanResult,
    alpha: float | None = None,
    *,
    treatment: str = "treatment",
    control: str = "control",
    window_ended: bool = True,
    force: bool = False,
) -> str:
    """The result in plain words: a direction only when the interval excludes 0 and the arms
    hold enough outcomes for it (MIN_OUTCOMES conversions, MIN_NONZERO orders).

    ``B converts better than holdout: +1.2 points (95% CI +0.4 to +2.0)``, or ``no detectable
    difference (95% CI -0.3 to +1.1 points)``. While the window is open (``window_ended``
    False) no winner is called unless ``force``, and a forced verdict says it is interim.
    ``alpha`` must match the result's own (its interval was computed at it).
    """
    if alpha is not None and not math.isclose(alpha, result.alpha):
        raise ValueError(f"the result was computed at alpha={result.alpha:g}, not {alpha:g}")
    if not window_ended and not force:
        return "the window is still open: no winner is called until it ends"
    words = _outcome_words(result, treatment, control)
    return words if window_ended else f"interim, the window is still open: {words}"


def _outcome_words(result: ProportionResult | MeanResult, treatment: str, control: str) -> str:
    is_rate = isinstance(result, ProportionResult)
    scale, digits, unit = (100, 1, "points") if is_rate else (1, 2, "per recipient")
    low, high = _signed(result.ci_low * scale, digits), _signed(result.ci_high * scale, digits)
    interval = f"{1 - result.alpha:.0%} CI {low} to {high}"
    too_few = _too_few_outcomes(result)
    if too_few:
        return f"{too_few} ({interval} {unit})"
    if result.ci_low <= 0 <= result.ci_high:
        return f"no detectable difference ({interval} {unit})"
    better = result.ci_low > 0
    if is_rate:
        claim = "converts better than" if better else "converts worse than"
    else:
        claim = "earns more per recipient than" if better else "earns less per recipient than"
    lift = _signed(result.absolute_lift * scale, digits)
    return f"{treatment} {claim} {control}: {lift} {unit} ({interval})"


def _too_few_outcomes(result: ProportionResult | MeanResult) -> str | None:
    """Why the data are too thin for the interval's approximation, or None."""
    if isinstance(result, ProportionResult):
        if result.normal_ok:
            return None
        return (
            f"too few conversions to tell: fewer than {MIN_OUTCOMES} conversions or "
            "non-conversions in an arm"
        )
    if min(result.nonzero_t, result.nonzero_c) >= MIN_NONZERO:
        return None
    return f"too few orders to tell: fewer than {MIN_NONZERO} recipients with revenue in an arm"


def _signed(value: float, digits: int) -> str:
    """``+1.2`` / ``-0.3``; a value that rounds to zero shows as ``0.0``, with no sign."""
    text = f"{value:+.{digits}f}"
    return text[1:] if float(text) == 0 else text


def _p_text(p_value: float) -> str:
    return f"{p_value:.2g}" if p_value >= 1e-4 else "< 0.0001"


def _critical(alpha: float) -> float:
    return float(sps.norm.isf(alpha / 2))


def _relative_rate_ci(
    conversions_t: int, n_t: int, conversions_c: int, n_c: int, crit: float
) -> tuple[float | None, float | None]:
    """Delta-method interval of rate_t / rate_c - 1 on the log scale (None with no
    conversions in an arm, where the log ratio is undefined)."""
    if conversions_t == 0 or conversions_c == 0:
        return None, None
    log_ratio = math.log((conversions_t / n_t) / (conversions_c / n_c))
    se = math.sqrt(1 / conversions_t - 1 / n_t + 1 / conversions_c - 1 / n_c)
    return math.exp(log_ratio - crit * se) - 1, math.exp(log_ratio + crit * se) - 1


def _cochran(values_t: np.ndarray, values_c: np.ndarray) -> tuple[bool, str]:
    """Whether Welch's normal approximation can be trusted, and the reason in words.

    Cochran's rule for one mean, n >= 25 * skewness**2, says the mean's own skewness
    (skewness / sqrt(n)) is at most 0.2. The same bound is applied to the estimate that is
    tested, the difference in means, whose skewness is
    ``(k3_t / n_t**2 - k3_c / n_c**2) / se**3`` (k3: an arm's third central moment). It
    reduces to Cochran's rule when one arm is exact, and lets equal arms, whose skewness
    cancels, use Welch's test.
    """
    n_t, n_c = len(values_t), len(values_c)
    se = math.sqrt(values_t.var(ddof=1) / n_t + values_c.var(ddof=1) / n_c)
    if se == 0:
        return False, "no arm's values vary, so Welch's test does not apply: percentile bootstrap"
    k3_t = float(np.mean((values_t - values_t.mean()) ** 3))
    k3_c = float(np.mean((values_c - values_c.mean()) ** 3))
    skewness = (k3_t / n_t**2 - k3_c / n_c**2) / se**3
    rule = f"skewness of the difference in means {skewness:+.2f}"
    if abs(skewness) > MAX_SKEWNESS:
        return False, f"{rule} exceeds ±{MAX_SKEWNESS} (Cochran's rule): percentile bootstrap"
    return True, f"{rule} within ±{MAX_SKEWNESS} (Cochran's rule): Welch's t test"


def _welch(
    values_t: np.ndarray, values_c: np.ndarray, alpha: float
) -> tuple[float, float, float, float | None, float | None]:
    result = sps.ttest_ind(values_t, values_c, equal_var=False)
    interval = result.confidence_interval(confidence_level=1 - alpha)
    rel_low, rel_high = _relative_mean_ci(values_t, values_c, alpha)
    return float(interval.low), float(interval.high), float(result.pvalue), rel_low, rel_high


def _relative_mean_ci(
    values_t: np.ndarray, values_c: np.ndarray, alpha: float
) -> tuple[float | None, float | None]:
    """Delta-method interval of mean_t / mean_c - 1 on the log scale (positive means only)."""
    mean_t, mean_c = values_t.mean(), values_c.mean()
    if mean_t <= 0 or mean_c <= 0:
        return None, None
    var_log = values_t.var(ddof=1) / (len(values_t) * mean_t**2) + values_c.var(ddof=1) / (
        len(values_c) * mean_c**2
    )
    spread = _critical(alpha) * math.sqrt(var_log)
    log_ratio = math.log(mean_t / mean_c)
    return math.exp(log_ratio - spread) - 1, math.exp(log_ratio + spread) - 1


def _bootstrap(
    values_t: np.ndarray,
    values_c: np.ndarray,
    alpha: float,
    rng: np.random.Generator,
    resamples: int,
) -> tuple[float, float, float, float | None, float | None]:
    means_t = bootstrap_means(values_t, rng, resamples)
    means_c = bootstrap_means(values_c, rng, resamples)
    diffs = means_t - means_c
    low, high = np.quantile(diffs, [alpha / 2, 1 - alpha / 2])
    p_value = min(1.0, 2 * min(np.mean(diffs <= 0), np.mean(diffs >= 0)))
    rel_low = rel_high = None
    if values_c.mean() > 0 and np.all(means_c > 0):
        rel_low, rel_high = np.quantile(means_t / means_c - 1, [alpha / 2, 1 - alpha / 2])
        rel_low, rel_high = float(rel_low), float(rel_high)
    return float(low), float(high), float(p_value), rel_low, rel_high


def bootstrap_means(values: np.ndarray, rng: np.random.Generator, resamples: int) -> np.ndarray:
    """Means of ``resamples`` bootstrap resamples of ``values`` (vectorised, memory-bounded).

    Zeros add nothing to a resample's sum, so only the non-zero values are drawn: how many of
    the n draws land on one is Binomial(n, k/n), and those draws are uniform over the k non-zero
    values. This is the ordinary bootstrap, exactly, at a cost proportional to the non-zeros.
    """
    n = len(values)
    nonzero = values[values != 0]
    if len(nonzero) == 0:
        return np.zeros(resamples)
    hits = rng.binomial(n, len(nonzero) / n, size=resamples)
    sums = np.empty(resamples)
    rows = max(1, BOOTSTRAP_CHUNK // max(1, int(hits.max())))
    for start in range(0, resamples, rows):
        chunk = hits[start : start + rows]
        width = int(chunk.max())
        draws = nonzero[rng.integers(0, len(nonzero), size=(len(chunk), width))]
        draws[np.arange(width) >= chunk[:, None]] = 0
        sums[start : start + rows] = draws.sum(axis=1)
    return sums / n


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha must be between 0 and 1, not {alpha:g}")


def _check_counts(arm: str, conversions: int, n: int) -> None:
    if n < 1:
        raise ConfigError(f"the {arm} arm has no recipients")
    if not 0 <= conversions <= n:
        raise ConfigError(f"the {arm} arm has {conversions:,} conversions among {n:,} recipients")


def _checked_values(arm: str, values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or len(values) < 2:
        raise ConfigError(f"the {arm} arm needs at least 2 recipients, has {values.size}")
    if not np.all(np.isfinite(values)):
        raise ConfigError(f"the {arm} arm has missing or infinite values")
    return values


def _check_srm_inputs(observed: dict[str, int], expected_shares: dict[str, float]) -> None:
    if set(observed) != set(expected_shares):
        raise ConfigError(
            f"arms observed ({', '.join(sorted(observed))}) differ from the planned arms "
            f"({', '.join(sorted(expected_shares))})"
        )
    if len(expected_shares) < 2:
        raise ConfigError("a sample-ratio check needs at least 2 arms")
    if any(share <= 0 for share in expected_shares.values()):
        raise ConfigError("every planned arm share must be above 0")
    if any(count < 0 for count in observed.values()) or sum(observed.values()) == 0:
        raise ConfigError("a sample-ratio check needs customers in the arms")
