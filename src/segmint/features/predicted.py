"""Predictions: what the fitted models expect of each customer, from ``segmint predict``.

The values come from the ``predictions`` table, from the latest ``segmint predict`` run whose
as-of day is on or before the features' as-of day (a refresh of an earlier day never sees
predictions made later); customers without predictions have none. ``docs/models.md`` explains
the models behind them.
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir

from segmint.features.catalog import feature
from segmint.features.tables import Tables, latest_run_as_of

GROUP = "Predictions"

PREDICTED_CLV = feature(
    "predicted_clv_12m",
    "money",
    GROUP,
    "Predicted net sales in the 12 months after the prediction's as-of day, discounted "
    "monthly (BG/NBD orders times Gamma-Gamma spend per order; `docs/models.md`).",
)
P_ALIVE = feature(
    "p_alive",
    "number",
    GROUP,
    "Probability that the customer is still active (BG/NBD), 0-1.",
)
EXPECTED_ORDERS = feature(
    "expected_orders_90d",
    "number",
    GROUP,
    "Expected orders (order days) in the 90 days after the prediction's as-of day (BG/NBD).",
)
PREDICTED_SPEND = feature(
    "predicted_spend_per_order",
    "money",
    GROUP,
    "Expected net sales per order (Gamma-Gamma; the store's mean for customers without repeat "
    "orders).",
)
NEXT_ORDER_DATE = feature(
    "next_order_date",
    "date",
    GROUP,
    "Expected date of the next order: the prediction's as-of day plus the median time to the "
    "next order, rounded up to a day; empty when the customer is more likely gone than alive.",
)
DAYS_TO_NEXT_ORDER = feature(
    "days_to_next_order",
    "integer",
    GROUP,
    "Days from the as-of day to `next_order_date` (negative when that date has passed).",
)
CHURN_RISK = feature(
    "churn_risk",
    "enum",
    GROUP,
    "Churn risk from the probability of being active: `low` (risk 1 - p_alive under 0.33), "
    "`medium` (0.33 to 0.66), `high` (above 0.66).",
    ("low", "medium", "high"),
)


def predicted_features(tables: Tables, as_of: date) -> ir.Table:
    """``customer_id`` and the predictions of the latest run as of ``as_of``."""
    latest = latest_run_as_of(tables.predictions, as_of)
    return latest.select(
        "customer_id",
        **{
            PREDICTED_CLV: _money(latest.predicted_clv_12m),
            P_ALIVE: latest.p_alive,
            EXPECTED_ORDERS: latest.expected_orders_90d,
            PREDICTED_SPEND: _money(latest.predicted_spend_per_order),
            NEXT_ORDER_DATE: latest.next_order_date,
            DAYS_TO_NEXT_ORDER: latest.next_order_date.delta(ibis.literal(as_of), unit="day"),
            CHURN_RISK: latest.churn_risk,
        },
    )


def _money(value: ir.FloatingValue) -> ir.DecimalValue:
    return value.round(2).cast("decimal(18, 2)")
