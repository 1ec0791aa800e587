"""The workspace's definitions as Ibis expressions: the single source later features use.

See ``docs/data-model.md``. In short:

- an *order* is a placed order: cancelled and voided orders are kept with their status but
  count neither as orders nor as spend;
- *amount spent* is what the customer paid across counted orders, net of refunds, shipping
  and taxes included (Shopify's ``amount_spent``);
- *net sales* is merchandise after discounts and refunds, without shipping, taxes and
  non-product lines: it is what the value models use;
- *as of* a date means only orders, refunds and events up to the end of that day (a day in
  the workspace time zone) count.
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir
from ibis.common.deferred import Deferred

from segmint.schema import MONEY

COUNTED_STATUS = "placed"


def counted_orders(orders: ir.Table, as_of: date | None = None) -> ir.Table:
    """Orders that count: placed (not cancelled or voided), on or before ``as_of``.

    Plain comparisons, one predicate each (an unknown status compares as null, which a
    filter drops): an engine checks them inside its scan, against each column's dictionary
    and zone maps, where a null-safe ``COALESCE`` around one would be evaluated row by row.
    """
    counted = orders.filter(orders.status == COUNTED_STATUS)
    return counted if as_of is None else counted.filter(counted.placed_date <= as_of)


def counted_refunds(refunds: ir.Table, orders: ir.Table, as_of: date | None = None) -> ir.Table:
    """Refunds up to ``as_of`` against counted orders, or against a customer with no order
    (UCI ``C``).

    Every refund's order is in ``orders`` (refunds are imported with their orders), so these
    are the refunds whose order is not among the few that do not count: a join with those
    few rather than with every counted order.
    """
    if as_of is not None:
        refunds = refunds.filter(refunds.refunded_date <= as_of)
    return refunds.anti_join(uncounted_order_ids(orders, as_of), "order_id")


def uncounted_order_ids(orders: ir.Table, as_of: date | None = None) -> ir.Table:
    """``order_id`` of the orders :func:`counts` rejects (an id may appear twice): one
    simple filter per reason, which an engine checks inside its scan, reading the ids of
    those few orders only (a negated conjunction would read every order's id)."""
    reasons = [orders.status != COUNTED_STATUS, orders.status.isnull()]
    if as_of is not None:
        reasons.append(orders.placed_date > as_of)
    return ibis.union(*(orders.filter(reason).select("order_id") for reason in reasons))


def events_as_of(events: ir.Table, as_of: date | None = None) -> ir.Table:
    """Events up to the end of ``as_of`` in the workspace zone."""
    return events if as_of is None else events.filter(events.occurred_date <= as_of)


def known_customers(customers: ir.Table, orders: ir.Table, events: ir.Table, day: date) -> ir.Table:
    """The customers the store knew on ``day``: those with an order placed or an event by
    then, and those no export dates (known only from a customers export)."""
    active = (
        orders.filter(orders.placed_date <= day)
        .select("customer_id")
        .union(events.filter(events.occurred_date <= day).select("customer_id"))
    )
    dated = orders.select("customer_id").union(events.select("customer_id"))
    known = customers.customer_id.isin(active.customer_id) | ~customers.customer_id.isin(
        dated.customer_id
    )
    return customers.filter(known)


def money_sum(amounts: ir.DecimalColumn, where: ir.BooleanValue | None = None) -> ir.DecimalScalar:
    """The sum of money amounts as money (``decimal(18, 2)``).

    Engines widen a sum of decimals to 38 digits, which DuckDB computes with 128-bit
    integers; every later step over such a value (a difference, a cast, a comparison) then
    costs several times more. One customer's or one period's total fits in 18 digits.
    """
    return amounts.sum(where=where).cast(MONEY)


def customer_value(
    orders: ir.Table,
    refunds: ir.Table,
    as_of: date | None = None,
    **more: Deferred,
) -> ir.Table:
    """Per customer: number of orders, amount spent and net sales, as of a date.

    Returns ``customer_id, number_of_orders, gross_spent, refunded, amount_spent,
    product_sales, product_refunded, net_sales`` for every customer with a counted order or
    a refund, plus ``more``: further aggregates over the same counted orders, computed in the
    same pass (``first_order_date=ibis._.placed_date.min()``; empty for refund-only
    customers).
    """
    counted = counted_orders(orders, as_of)
    per_order = counted.group_by("customer_id").aggregate(
        number_of_orders=counted.count(),
        gross_spent=money_sum(counted.total),
        product_sales=money_sum(counted.product_sales),
        **more,
    )
    refunded = counted_refunds(refunds, orders, as_of)
    per_refund = refunded.group_by("customer_id").aggregate(
        refunded=money_sum(refunded.amount), product_refunded=money_sum(refunded.product_amount)
    )
    joined = per_order.outer_join(per_refund, "customer_id")
    customer_id = ibis.coalesce(joined.customer_id, joined.customer_id_right)
    zero = ibis.literal(0).cast(MONEY)
    gross = joined.gross_spent.fill_null(zero)
    refund = joined.refunded.fill_null(zero)
    sales = joined.product_sales.fill_null(zero)
    product_refund = joined.product_refunded.fill_null(zero)
    return joined.select(
        customer_id=customer_id,
        number_of_orders=joined.number_of_orders.fill_null(0),
        gross_spent=gross,
        refunded=refund,
        amount_spent=(gross - refund).cast(MONEY),
        product_sales=sales,
        product_refunded=product_refund,
        net_sales=(sales - product_refund).cast(MONEY),
        **{name: joined[name] for name in more},
    )
