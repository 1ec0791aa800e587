"""Sizing agrees with statsmodels' NormalIndPower on Cohen's h, and inverts itself."""

from __future__ import annotations

import math

import pytest
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from segmint.campaigns.sizing import cohens_h, detectable_lift, sample_size_per_arm
from segmint.errors import ConfigError

DESIGNS = [
    # baseline, relative lift, alpha, power, ratio (control / treated)
    (0.05, 0.10, 0.05, 0.8, 1.0),
    (0.06, 0.20, 0.05, 0.8, 1.0),
    (0.30, -0.10, 0.01, 0.9, 0.25),
    (0.02, 0.50, 0.10, 0.5, 1 / 9),
    (0.50, 0.01, 0.05, 0.8, 3.0),
    (0.10, 1.00, 0.05, 0.95, 0.5),
    (0.08, 0.15, 0.05, 0.2, 1.0),
]


@pytest.mark.parametrize(("baseline", "lift", "alpha", "power", "ratio"), DESIGNS)
def test_sample_size_matches_statsmodels(
    baseline: float, lift: float, alpha: float, power: float, ratio: float
) -> None:
    effect = proportion_effectsize(baseline * (1 + lift), baseline)
    expected = NormalIndPower().solve_power(
        effect_size=effect, alpha=alpha, power=power, ratio=ratio, alternative="two-sided"
    )
    assert sample_size_per_arm(baseline, lift, alpha, power, ratio) == math.ceil(expected)
    assert cohens_h(baseline * (1 + lift), baseline) == pytest.approx(effect)


@pytest.mark.parametrize(("baseline", "lift", "alpha", "power", "ratio"), DESIGNS)
def test_detectable_lift_inverts_sample_size(
    baseline: float, lift: float, alpha: float, power: float, ratio: float
) -> None:
    n = sample_size_per_arm(baseline, abs(lift), alpha, power, ratio)
    detectable = detectable_lift(baseline, n, alpha, power, ratio)
    assert 0 < detectable <= abs(lift) * (1 + 1e-9)
    assert abs(sample_size_per_arm(baseline, detectable, alpha, power, ratio) - n) <= 1
    achieved = NormalIndPower().power(
        proportion_effectsize(baseline * (1 + detectable), baseline), n, alpha, ratio=ratio
    )
    assert achieved == pytest.approx(power, abs=1e-6)


def test_bigger_arms_detect_smaller_lifts() -> None:
    lifts = [detectable_lift(0.05, n) for n in (500, 5_000, 50_000)]
    assert lifts == sorted(lifts, reverse=True)
    assert detectable_lift(0.05, 1) == math.inf  # not even a 100% rate is detectable


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: sample_size_per_arm(0, 0.1), "baseline_rate"),
        (lambda: sample_size_per_arm(1.0, 0.1), "baseline_rate"),
        (lambda: sample_size_per_arm(0.6, 1.0), "lie in"),
        (lambda: sample_size_per_arm(0.05, 0), "differ from the baseline"),
        (lambda: sample_size_per_arm(0.05, 0.1, alpha=0), "alpha"),
        (lambda: sample_size_per_arm(0.05, 0.1, power=1), "power"),
        (lambda: sample_size_per_arm(0.05, 0.1, ratio=0), "ratio"),
        (lambda: detectable_lift(0.05, 0), "at least 1"),
        (lambda: detectable_lift(-0.1, 100), "baseline_rate"),
    ],
)
def test_invalid_designs_raise_config_error(call: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        call()  # type: ignore[operator]
