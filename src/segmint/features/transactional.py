"""Transactional features: orders, spend, dates and windows, per customer, as of a date.

Every feature here is an Ibis expression over the workspace's ``orders`` and ``refunds``
filtered by :mod:`segmint.definitions` (counted orders, refunds up to the as-of day).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import ibis
import ibis.expr.types as ir

from segmint.definitions import counted_orders, counted_refunds, customer_value, money_sum
from segmint.features.catalog import feature
from segmint.features.tables import Tables

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
    """One row per customer of ``customers``: ``customer_id`` and what RFM and the value
    segments read (orders, spend, first and last order, recency, tenure), in one pass over
    the counted orders and one over the refunds. :func:`order_activity_features` adds the
    rest."""
    value = customer_value(
        orders,
        refunds,
        as_of,
        first_order_date=ibis._.placed_date.min(),
        last_order_date=ibis._.placed_date.max(),
    )
    joined = customers.select("customer_id").left_join(value, "customer_id")
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
        },
    )


def order_activity_features(tables: Tables, as_of: date) -> ir.Table:
    """One row per customer of ``tables.customers``: days from the first order to the
    second, and orders and net spend in each trailing window."""
    counted = counted_orders(tables.orders, as_of)
    refunds = counted_refunds(tables.refunds, tables.orders, as_of)
    joined = (
        tables.customers.select("customer_id")
        .left_join(second_order_dates(counted), "customer_id")
        .drop("customer_id_right")
        .left_join(_windows(counted, refunds, as_of), "customer_id")
    )
    return joined.select(
        customer_id=joined.customer_id,
        **{
            DAYS_TO_SECOND_ORDER: joined.second_order_date.delta(
                joined.first_order_date, unit="day"
            ),
            **{ORDERS_IN[n]: joined[f"_orders_{n}"].fill_null(0) for n in WINDOWS},
            **{SPEND_IN[n]: joined[f"_spend_{n}"].fill_null(ZERO) for n in WINDOWS},
        },
    )


def second_order_dates(counted: ir.Table) -> ir.Table:
    """First and second order day per repeat buyer (second by time placed).

    No sort: days follow instants, so with two or more orders on the first day the second
    order is on that day, and otherwise on the earliest later day.
    """
    per_customer = counted.group_by("customer_id").aggregate(
        _orders=counted.count(), first_order_date=counted.placed_date.min()
    )
    repeat = per_customer.filter(per_customer._orders > 1).drop("_orders")
    dated = counted.select("customer_id", "placed_date").join(repeat, "customer_id")
    on_first = dated.placed_date == dated.first_order_date
    days = dated.group_by("customer_id", "first_order_date").aggregate(
        _on_first=dated.count(where=on_first),
        _after_first=dated.placed_date.min(where=~on_first),
    )
    return days.select(
        "customer_id",
        "first_order_date",
        second_order_date=ibis.ifelse(days._on_first > 1, days.first_order_date, days._after_first),
    )


def _windows(counted: ir.Table, refunds: ir.Table, as_of: date) -> ir.Table:
    """Orders and net spend in each trailing window ending with the as-of day."""
    starts = {n: as_of - timedelta(days=n - 1) for n in WINDOWS}
    orders = counted.group_by("customer_id").aggregate(
        **{
            f"_orders_{n}": counted.count(where=counted.placed_date >= s) for n, s in starts.items()
        },
        **{
            f"_paid_{n}": money_sum(counted.total, where=counted.placed_date >= s)
            for n, s in starts.items()
        },
    )
    back = refunds.group_by("customer_id").aggregate(
        **{
            f"_back_{n}": money_sum(refunds.amount, where=refunds.refunded_date >= s)
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
