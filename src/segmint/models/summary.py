"""The per-customer summary buy-till-you-die models are fitted on, computed in the engine.

A *transaction* is a customer's purchases on one local day: all counted orders
(:func:`segmint.definitions.counted_orders`) a customer placed on the same ``placed_date``
are one transaction, whose spend is their net sales (``product_sales`` less the merchandise
part of their refunds, ``product_amount``; see docs/data-model.md). A refund belongs to the
transaction of its order; a refund attached to no order (a UCI ``C`` invoice) to the
customer's latest transaction on or before its date, else to their first. Only orders and
refunds up to the end of the calibration day count (the *as of* rule), so a refund dated
later does not change the calibration summary. A fully refunded order is still a
transaction, with nothing spent.

With the calibration end ``E`` (inclusive) and days converted to the time unit (``day``: 1,
``week``: 7 days), per customer with at least one counted order up to ``E``:

- ``frequency`` = number of transactions - 1 (repeat transactions);
- ``recency`` = last transaction day - first transaction day;
- ``T`` = ``E`` - first transaction day;
- ``monetary_value`` = mean spend of the repeat transactions (the first excluded), 0 for a
  customer without repeat transactions (as in Fader & Hardie's CDNOW files and lifetimes).

These are the inputs of Fader, Hardie & Lee (2005), "Counting your customers the easy way",
Marketing Science 24(2), and of the Gamma-Gamma spend model (Fader & Hardie 2013). Values
are exact floats (the published CDNOW file rounds them to 2 decimals). Everything is plain
Ibis (group-by, union, join, arrays collected per customer with their lambdas), so it runs on
the workspace's DuckDB and on Spark.
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir

from segmint.definitions import counted_orders, counted_refunds, money_sum
from segmint.errors import SegmintError
from segmint.features import default_as_of

#: Days per time unit.
TIME_UNITS: dict[str, int] = {"day": 1, "week": 7}


def transactions(orders: ir.Table, refunds: ir.Table, as_of: date | None = None) -> ir.Table:
    """Per customer and local day with a counted order: ``customer_id, day, spend`` (net
    sales of that day's orders, as ``decimal``), counting orders and refunds up to ``as_of``."""
    both = _sales_and_refunds(orders, refunds, as_of)
    return both.group_by(["customer_id", "day"]).aggregate(spend=money_sum(both.amount))


def customer_summary(
    orders: ir.Table,
    refunds: ir.Table,
    calibration_end: date | None = None,
    time_unit: str = "week",
) -> ir.Table:
    """``customer_id, frequency, recency, T, monetary_value, first_order_date`` per customer
    with a counted order up to ``calibration_end`` (inclusive; default: the latest day with
    a counted order), times in ``time_unit`` (``day`` or ``week``).

    One group-by by customer, which also collects each customer's ``(day, amount)``
    entries: the number of distinct days and the first day's spend are then found within
    each customer's short list. Grouping by customer and day first (:func:`transactions`)
    gives the same, but its hash table holds a group per customer-day (7.7 million for ten
    million orders) and took half as long again."""
    days_per_unit = _days_per_unit(time_unit)
    if calibration_end is None:
        calibration_end = latest_order_date(orders)
    both = _sales_and_refunds(orders, refunds, calibration_end)
    per_customer = both.group_by("customer_id").aggregate(
        first_order_date=both.day.min(),
        _last=both.day.max(),
        _spend=money_sum(both.amount),
        _entries=ibis.struct({"day": both.day, "amount": both.amount}).collect(),
    )
    entries = per_customer._entries
    one_day = per_customer.first_order_date == per_customer._last  # most customers: no list work
    counted = per_customer.select(
        "customer_id",
        "first_order_date",
        "_last",
        _repeats=ibis.ifelse(one_day, 0, entries.map(lambda e: e.day).unique().length() - 1).cast(
            "int64"
        ),
        _repeat_spend=ibis.ifelse(
            one_day,
            0,
            per_customer._spend
            - entries.filter(lambda e: e.day == per_customer.first_order_date)
            .map(lambda e: e.amount)
            .sums(),
        ),
    )
    first, repeats = counted.first_order_date, counted._repeats
    end = ibis.literal(calibration_end)
    return counted.select(
        "customer_id",
        frequency=repeats,
        recency=_in_units(counted._last.delta(first, unit="day"), days_per_unit),
        T=_in_units(end.delta(first, unit="day"), days_per_unit),
        monetary_value=ibis.ifelse(
            repeats > 0,
            counted._repeat_spend.cast("float64") / repeats.cast("float64"),
            ibis.literal(0.0),
        ),
        first_order_date=first,
    )


def holdout_summary(
    orders: ir.Table, refunds: ir.Table, calibration_end: date, holdout_end: date
) -> ir.Table:
    """``customer_id, holdout_transactions, holdout_spend, first_holdout_day`` for every
    customer with a counted order up to ``calibration_end``: transactions (distinct days) and
    their net sales after ``calibration_end`` up to ``holdout_end`` inclusive (0 for none), and
    the day of the first of them (none without one). Customers whose first
    order falls in the holdout are left out: the models predict only calibration customers."""
    if holdout_end <= calibration_end:
        raise SegmintError(
            f"the holdout end ({holdout_end}) must be after the calibration end ({calibration_end})"
        )
    days = transactions(orders, refunds, holdout_end)
    later = days.day > calibration_end
    per_customer = days.group_by("customer_id").aggregate(
        _first=days.day.min(),
        holdout_transactions=days.count(where=later),
        _spend=money_sum(days.spend, where=later),
        first_holdout_day=days.day.min(where=later),
    )
    return per_customer.filter(per_customer._first <= calibration_end).select(
        "customer_id",
        holdout_transactions=per_customer.holdout_transactions.cast("int64"),
        holdout_spend=per_customer._spend.cast("float64").fill_null(0.0),
        first_holdout_day=per_customer.first_holdout_day,
    )


def latest_order_date(orders: ir.Table) -> date:
    """The latest day with a counted order (the default as-of day)."""
    latest = default_as_of(orders)
    if latest is None:
        raise SegmintError("no counted orders: nothing to summarize", hint="import orders first")
    return latest


def _days_per_unit(time_unit: str) -> int:
    if time_unit not in TIME_UNITS:
        raise SegmintError(
            f"unknown time unit {time_unit!r}", hint="use " + " or ".join(TIME_UNITS)
        )
    return TIME_UNITS[time_unit]


def _in_units(days: ir.IntegerValue, days_per_unit: int) -> ir.FloatingValue:
    return days.cast("float64") / days_per_unit


def _sales_and_refunds(orders: ir.Table, refunds: ir.Table, as_of: date | None) -> ir.Table:
    """``customer_id, day, amount``: each counted order's net sales (positive) and each
    counted refund's merchandise (negative) on the day of the transaction it belongs to."""
    counted = counted_orders(orders, as_of)
    sales = counted.select("customer_id", day=counted.placed_date, amount=counted.product_sales)
    refunded = _refunds_by_day(orders, counted, refunds, as_of)
    return sales.union(refunded.select("customer_id", "day", amount=-refunded.amount))


def _refunds_by_day(
    orders: ir.Table, counted: ir.Table, refunds: ir.Table, as_of: date | None
) -> ir.Table:
    """``customer_id, day, amount``: the merchandise refunded up to ``as_of``, on the day of
    the transaction it reduces. A refund of an order counts when its order does (the
    refunds of :func:`segmint.definitions.counted_refunds`) and goes to its order's day,
    which it carries (``order_date``: no join with the orders); one with no order goes to
    the customer's latest order day on or before its date, else to their first."""
    if as_of is not None:
        refunds = refunds.filter(refunds.refunded_date <= as_of)
    # order_date is null only for a refund whose order was never imported, which the workspace
    # does not hold (refunds are imported with their orders); such a refund counts nowhere
    with_order = refunds.filter(refunds.order_id.notnull() & refunds.order_date.notnull())
    of_orders = counted_refunds(with_order, orders, as_of).select(
        "customer_id", day="order_date", amount="product_amount"
    )
    loose = refunds.filter(refunds.order_id.isnull()).select(
        "refund_id", "customer_id", "refunded_date", "product_amount"
    )
    pairs = loose.join(counted.select("customer_id", day="placed_date"), "customer_id")
    per_refund = pairs.group_by(["refund_id", "customer_id", "product_amount"]).aggregate(
        _before=pairs.day.max(where=pairs.day <= pairs.refunded_date), _first=pairs.day.min()
    )
    of_customers = per_refund.select(
        "customer_id",
        day=ibis.coalesce(per_refund._before, per_refund._first),
        amount=per_refund.product_amount,
    )
    return of_orders.union(of_customers)
