"""Transactional features: orders, spend, dates and windows, per customer, as of a date.

Every feature here is an Ibis expression over the workspace's ``orders`` and ``refunds``
filtered by :mod:`segmint.definitions` (counted orders, refunds up to the as-of day).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import ibis
import ibis.expr.types as ir

from segmint.definitions import counted_orders, counted_refunds, customer_value
from segmint.features.catalog import feature

GROUP = "Orders and spend"
WINDOWS = (30, 90, 180, 365)
ZERO = ibis.literal(0).cast("decimal(18, 2)")

NUMBER_OF_ORDERS = feature(
    "number_of_orders", "integer", GROUP, "Counted orders placed up to the as-of day."
)
AMOUNT_SPENT = feature(
    "amount_spent",
    "money",
    GROUP,
    "What the customer paid across counted orders, net of refunds, shipping and taxes "
    "included (Shopify's `amount_spent`).",
)
NET_SALES = feature(
    "net_sales",
    "money",
    GROUP,
    "Merchandise after discounts and refunds, without shipping, taxes and non-product lines "
    "(the monetary value of RFM and the value models).",
)
AOV = feature(
    "aov",
    "money",
    GROUP,
    "`amount_spent / number_of_orders`, rounded half away from zero to the cent; empty "
    "without orders.",
)
FIRST_ORDER_DATE = feature(
    "first_order_date", "date", GROUP, "Local day of the first counted order."
)
LAST_ORDER_DATE = feature(
    "last_order_date", "date", GROUP, "Local day of the latest counted order."
)
DAYS_SINCE_LAST_ORDER = feature(
    "days_since_last_order", "integer", GROUP, "As-of day minus `last_order_date`, in days."
)
TENURE_DAYS = feature(
    "tenure_days", "integer", GROUP, "As-of day minus `first_order_date`, in days."
)
DAYS_TO_SECOND_ORDER = feature(
    "days_first_to_second_order",
    "integer",
    GROUP,
    "Days from the first counted order to the second (by time placed); empty with one order.",
)
MEAN_DAYS_BETWEEN = feature(
    "mean_days_between_orders",
    "number",
    GROUP,
    "`(last_order_date - first_order_date) / (number_of_orders - 1)`; empty with one order.",
)
REFUNDS_SHARE = feature(
    "refunds_share",
    "number",
    GROUP,
    "Refunded amount over the amount paid before refunds (0 to 1); empty without orders.",
)
ORDERS_IN = {
    n: feature(f"orders_{n}d", "integer", GROUP, f"Counted orders placed in the last {n} days.")
    for n in WINDOWS
}
SPEND_IN = {
    n: feature(
        f"spend_{n}d",
        "money",
        GROUP,
        f"Amount paid for orders placed in the last {n} days, net of refunds dated in the "
        f"same {n} days.",
    )
    for n in WINDOWS
}


def transactional_features(
    customers: ir.Table, orders: ir.Table, refunds: ir.Table, as_of: date
) -> ir.Table:
    """One row per customer of ``customers``: ``customer_id`` and the features above."""
    counted = counted_orders(orders, as_of)
    value = customer_value(orders, refunds, as_of)
    per_order = _order_dates(counted)
    windows = _windows(counted, counted_refunds(refunds, orders, as_of), as_of)
    base = customers.select("customer_id")
    joined = (
        base.left_join(value, "customer_id")
        .drop("customer_id_right")
        .left_join(per_order, "customer_id")
        .drop("customer_id_right")
        .left_join(windows, "customer_id")
        .drop("customer_id_right")
    )
    orders_n = joined.number_of_orders.fill_null(0)
    as_of_day = ibis.literal(as_of)
    return joined.select(
        customer_id=joined.customer_id,
        **{
            NUMBER_OF_ORDERS: orders_n,
            AMOUNT_SPENT: joined.amount_spent.fill_null(ZERO),
            NET_SALES: joined.net_sales.fill_null(ZERO),
            AOV: ibis.ifelse(
                orders_n > 0, money_per_order(joined.amount_spent, orders_n), ibis.null()
            ).cast("decimal(18, 2)"),
            FIRST_ORDER_DATE: joined.first_order_date,
            LAST_ORDER_DATE: joined.last_order_date,
            DAYS_SINCE_LAST_ORDER: as_of_day.delta(joined.last_order_date, unit="day"),
            TENURE_DAYS: as_of_day.delta(joined.first_order_date, unit="day"),
            DAYS_TO_SECOND_ORDER: joined.second_order_date.delta(
                joined.first_order_date, unit="day"
            ),
            MEAN_DAYS_BETWEEN: ibis.ifelse(
                orders_n > 1,
                joined.last_order_date.delta(joined.first_order_date, unit="day") / (orders_n - 1),
                ibis.null(),
            ).cast("float64"),
            REFUNDS_SHARE: ibis.ifelse(
                joined.gross_spent > 0,
                joined.refunded.cast("float64") / joined.gross_spent.cast("float64"),
                ibis.null("float64"),
            ),
            **{ORDERS_IN[n]: joined[f"_orders_{n}"].fill_null(0) for n in WINDOWS},
            **{SPEND_IN[n]: joined[f"_spend_{n}"].fill_null(ZERO) for n in WINDOWS},
        },
    )


def _order_dates(counted: ir.Table) -> ir.Table:
    """First, second and last order day per customer (second by time placed).

    No sort: the second order is on the first order's day when two orders share the first
    instant, else on the earliest day of the orders placed after it (days follow instants).
    """
    firsts = counted.group_by("customer_id").aggregate(_first_at=counted.placed_at.min())
    timed = counted.select("customer_id", "placed_at", "placed_date").join(firsts, "customer_id")
    at_first = timed.placed_at == timed._first_at
    dates = timed.group_by("customer_id").aggregate(
        first_order_date=timed.placed_date.min(),
        last_order_date=timed.placed_date.max(),
        _at_first=timed.count(where=at_first),
        _after_first=timed.placed_date.min(where=timed.placed_at > timed._first_at),
    )
    return dates.select(
        "customer_id",
        "first_order_date",
        "last_order_date",
        second_order_date=ibis.ifelse(
            dates._at_first > 1, dates.first_order_date, dates._after_first
        ),
    )


def _windows(counted: ir.Table, refunds: ir.Table, as_of: date) -> ir.Table:
    """Orders and net spend in each trailing window ending with the as-of day."""
    starts = {n: as_of - timedelta(days=n - 1) for n in WINDOWS}
    orders = counted.group_by("customer_id").aggregate(
        **{
            f"_orders_{n}": counted.count(where=counted.placed_date >= s) for n, s in starts.items()
        },
        **{
            f"_paid_{n}": counted.total.sum(where=counted.placed_date >= s)
            for n, s in starts.items()
        },
    )
    back = refunds.group_by("customer_id").aggregate(
        **{
            f"_back_{n}": refunds.amount.sum(where=refunds.refunded_date >= s)
            for n, s in starts.items()
        }
    )
    joined = orders.outer_join(back, "customer_id")
    customer_id = ibis.coalesce(joined.customer_id, joined.customer_id_right)
    return joined.select(
        customer_id=customer_id,
        **{f"_orders_{n}": joined[f"_orders_{n}"] for n in WINDOWS},
        **{
            f"_spend_{n}": (
                joined[f"_paid_{n}"].fill_null(ZERO) - joined[f"_back_{n}"].fill_null(ZERO)
            ).cast("decimal(18, 2)")
            for n in WINDOWS
        },
    )


def money_per_order(amount: ir.DecimalValue, orders: ir.IntegerValue) -> ir.DecimalValue:
    """``amount / orders`` rounded half away from zero to the cent, in integer cents, so that
    every engine gives the same cent (DuckDB divides decimals as doubles, Spark exactly)."""
    cents = (amount * 100).cast("int64")
    rounded = (cents.abs() * 2 + orders) // (orders * 2)
    signed = ibis.ifelse(cents < 0, -rounded, rounded)
    cent = ibis.literal(Decimal("0.01"), type="decimal(18, 2)")
    return (signed.cast("decimal(18, 2)") * cent).cast("decimal(18, 2)")
