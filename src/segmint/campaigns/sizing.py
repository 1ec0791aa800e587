"""Sizing a campaign before launch: customers per arm for a lift, or the lift a size can detect.

Both use the normal approximation of a two-sided two-proportion test on Cohen's effect size
``h = 2 asin(sqrt(p2)) - 2 asin(sqrt(p1))``, the same power function as statsmodels
``NormalIndPower`` (both rejection tails counted), so the answers agree with
``NormalIndPower().solve_power(effect_size=proportion_effectsize(p2, p1), ...)``.

``ratio`` is the control arm's size over the treated arm's (statsmodels' ``nobs2 / nobs1``):
1 for a 50/50 split, ``0.10 / 0.90`` for one variant against a 10% holdout.
"""

from __future__ import annotations

import math

from scipy import optimize
from scipy import stats as sps

from segmint.errors import ConfigError


def sample_size_per_arm(
    baseline_rate: float,
    relative_lift: float,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
) -> int:
    """Customers the treated arm needs to detect ``baseline_rate * (1 + relative_lift)``
    against ``baseline_rate`` (rounded up); the control arm needs ``ratio`` times as many."""
    _check_rate(baseline_rate, "baseline_rate")
    _check_design(alpha, power, ratio)
    target = baseline_rate * (1 + relative_lift)
    if relative_lift == 0 or not 0 < target < 1:
        raise ConfigError(
            f"a relative lift of {relative_lift:+.1%} on a {baseline_rate:.2%} baseline gives "
            f"a rate of {target:.2%}; it must differ from the baseline and lie in (0%, 100%)",
            option="lift",
        )
    h = abs(cohens_h(target, baseline_rate))
    one_tail = _effective_n(h, alpha, power)  # power(0) = alpha < power <= power(one_tail)
    effective = optimize.brentq(
        lambda n: _power(h, n, alpha) - power, 0.0, one_tail, xtol=1e-10, rtol=1e-14
    )
    return math.ceil(effective * (1 + 1 / ratio) - 1e-9)


def detectable_lift(
    baseline_rate: float,
    n_per_arm: int,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
) -> float:
    """Smallest upward relative lift on ``baseline_rate`` that a treated arm of ``n_per_arm``
    (and a control arm of ``ratio`` times as many) detects with ``power``.

    ``math.inf`` when no rate up to 100% is detectable at that size.
    """
    _check_rate(baseline_rate, "baseline_rate")
    _check_design(alpha, power, ratio)
    if n_per_arm < 1:
        raise ConfigError(f"an arm needs at least 1 customer, not {n_per_arm}", option="size")
    effective = n_per_arm / (1 + 1 / ratio)
    base_angle = 2 * math.asin(math.sqrt(baseline_rate))
    largest = math.pi - base_angle  # h of a 100% rate
    if _power(largest, effective, alpha) < power:
        return math.inf
    h = optimize.brentq(lambda h: _power(h, effective, alpha) - power, 1e-12, largest, xtol=1e-14)
    return math.sin((base_angle + h) / 2) ** 2 / baseline_rate - 1


def cohens_h(p2: float, p1: float) -> float:
    """Cohen's effect size between two proportions (statsmodels ``proportion_effectsize``)."""
    return 2 * math.asin(math.sqrt(p2)) - 2 * math.asin(math.sqrt(p1))


def _power(h: float, effective_n: float, alpha: float) -> float:
    """Power of the two-sided z test at effect ``h``, both rejection tails counted."""
    crit = sps.norm.isf(alpha / 2)
    shift = h * math.sqrt(effective_n)
    return float(sps.norm.sf(crit - shift) + sps.norm.cdf(-crit - shift))


def _effective_n(h: float, alpha: float, power: float) -> float:
    """Closed form ignoring the far tail: an upper bound on the effective sample size."""
    return ((sps.norm.isf(alpha / 2) + sps.norm.ppf(power)) / h) ** 2


def _check_rate(rate: float, name: str) -> None:
    if not 0 < rate < 1:
        raise ConfigError(f"{name} must be a rate between 0 and 1 (exclusive), not {rate:g}")


def _check_design(alpha: float, power: float, ratio: float) -> None:
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha must be between 0 and 1, not {alpha:g}", option="alpha")
    if not alpha < power < 1:
        raise ConfigError(
            f"power must be between alpha ({alpha:g}) and 1, not {power:g}", option="power"
        )
    if not ratio > 0:
        raise ConfigError(f"ratio of arm sizes must be above 0, not {ratio:g}", option="ratio")
