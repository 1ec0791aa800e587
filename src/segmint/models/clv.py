"""Customer lifetime value over a horizon, and churn risk, from the fitted models.

CLV over ``months`` months is the expected orders in each month (BG/NBD's conditional
expectation at the month's end minus at its start) times the expected spend per order
(Gamma-Gamma), discounted monthly::

    CLV = sum_{m=1..months} (E[Y(m)] - E[Y(m-1)]) * spend / (1 + d)^m

with months of 365.25 / 12 days. Churn risk is ``1 - P(alive)`` in three tiers.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from segmint.models.base import ArrayLike
from segmint.models.bgnbd import BetaGeoModel
from segmint.models.summary import TIME_UNITS

DAYS_PER_MONTH = 365.25 / 12
#: Churn risk (1 - P(alive)) tiers: ``low`` under 0.33, ``medium`` to 0.66, ``high`` above,
#: compared on P(alive) (above 0.67, from 0.34) so that decimal bounds stay exact.
LOW_RISK_ALIVE_ABOVE = 0.67
HIGH_RISK_ALIVE_BELOW = 0.34
RISK_TIERS = pa.array(["low", "medium", "high"])


def units_per_month(time_unit: str) -> float:
    """How many of the model's time units make a month."""
    if time_unit not in TIME_UNITS:
        raise ValueError(f"time unit must be one of {', '.join(TIME_UNITS)}, not {time_unit!r}")
    return DAYS_PER_MONTH / TIME_UNITS[time_unit]


def customer_lifetime_value(
    orders_model: BetaGeoModel,
    spend_per_order: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 - the papers' name
    months: int = 12,
    monthly_discount: float = 0.01,
) -> np.ndarray:
    """Discounted expected spend over the next ``months`` months, per customer."""
    if months < 1:
        raise ValueError("the CLV horizon must be at least one month")
    if monthly_discount < 0:
        raise ValueError("the monthly discount rate cannot be negative")
    ends = month_ends(orders_model.time_unit, months)
    by_month_end = orders_model.expected_purchases_by_horizon(ends, frequency, recency, T)
    return discounted_value(by_month_end, spend_per_order, monthly_discount)


def month_ends(time_unit: str, months: int) -> np.ndarray:
    """The end of each of the next ``months`` months, in the model's time units."""
    return units_per_month(time_unit) * np.arange(1, months + 1)


def discounted_value(
    by_month_end: np.ndarray, spend_per_order: ArrayLike, monthly_discount: float
) -> np.ndarray:
    """CLV from the expected orders by each month's end (one row per month): each month's
    orders times the spend per order, discounted monthly."""
    months = len(by_month_end)
    discounts = (1 + monthly_discount) ** -np.arange(1.0, months + 2)
    discounts[-1] = 0.0
    # sum_m d_m (E_m - E_{m-1}) = sum_m (d_m - d_{m+1}) E_m, with E_0 = 0 and d_{months+1} = 0
    weights = discounts[:-1] - discounts[1:]
    # einsum, not BLAS: scoring threads each calling a multi-threaded BLAS fight for cores
    by_customer = np.einsum("m,m...->...", weights, by_month_end)
    return by_customer * np.asarray(spend_per_order, dtype=float)


def churn_risk_tier(probability_alive: ArrayLike) -> pa.Array:
    """``low`` (risk under 0.33), ``medium`` (0.33 to 0.66) or ``high`` (above 0.66) for each
    customer, as Arrow strings; null where P(alive) is unknown."""
    alive = np.asarray(probability_alive, dtype=float)
    codes = np.where(
        alive > LOW_RISK_ALIVE_ABOVE, 0, np.where(alive >= HIGH_RISK_ALIVE_BELOW, 1, 2)
    ).astype(np.int8)
    tiers = pa.DictionaryArray.from_arrays(pa.array(codes, mask=np.isnan(alive)), RISK_TIERS)
    return tiers.cast(pa.string())
