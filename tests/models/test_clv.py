"""CLV and churn tiers from a BG/NBD model with the CDNOW estimates of the paper."""

from __future__ import annotations

import numpy as np
import pytest

from segmint.models.bgnbd import BetaGeoModel
from segmint.models.clv import churn_risk_tier, customer_lifetime_value, units_per_month


@pytest.fixture(scope="module")
def model() -> BetaGeoModel:
    return BetaGeoModel.from_dict(
        {
            "model": "bg_nbd",
            "time_unit": "week",
            "params": {"r": 0.2425945, "alpha": 4.4136019, "a": 0.7929199, "b": 2.4258881},
        }
    )


CUSTOMERS = ([0, 2, 7, 20], [0.0, 30.43, 35.0, 10.0], [38.86, 38.86, 38.86, 38.86])


def test_undiscounted_clv_is_spend_times_expected_orders_over_the_horizon(model):
    spend = np.array([35.0, 22.35, 40.0, 15.0])
    clv = customer_lifetime_value(model, spend, *CUSTOMERS, months=12, monthly_discount=0)
    year = 12 * (365.25 / 12) / 7  # weeks
    expected = model.expected_purchases(year, *CUSTOMERS) * spend
    np.testing.assert_allclose(clv, expected, rtol=1e-12)


def test_discounting_each_month(model):
    spend = np.array([35.0, 22.35, 40.0, 15.0])
    month = units_per_month("week")
    by_month = [model.expected_purchases(m * month, *CUSTOMERS) for m in range(4)]
    by_hand = sum((by_month[m] - by_month[m - 1]) * spend / 1.02**m for m in range(1, 4))
    clv = customer_lifetime_value(model, spend, *CUSTOMERS, months=3, monthly_discount=0.02)
    np.testing.assert_allclose(clv, by_hand, rtol=1e-12)
    assert np.all(
        clv < customer_lifetime_value(model, spend, *CUSTOMERS, months=3, monthly_discount=0)
    )
    # The customer with many orders long ago is likely gone: worth less than a recent one.
    assert clv[3] < clv[2]


def test_months_in_each_time_unit():
    assert units_per_month("day") == pytest.approx(30.4375)
    assert units_per_month("week") == pytest.approx(30.4375 / 7)
    with pytest.raises(ValueError, match="time unit"):
        units_per_month("fortnight")


def test_churn_risk_tiers_at_their_bounds():
    alive = [1.0, 0.68, 0.67, 0.5, 0.34, 0.33, 0.0, float("nan")]
    assert churn_risk_tier(alive).to_pylist() == [
        "low",
        "low",
        "medium",
        "medium",
        "medium",
        "high",
        "high",
        None,
    ]
