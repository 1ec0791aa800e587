"""Price sensitivity: discounts and sale items, per customer, as of a date.

Computed from counted orders up to the as-of day and their product lines; a line's
compare-at price is its own (``Lineitem compare at price``), else that of the exact variant
it matches in the products export (:func:`segmint.products.enriched_order_lines`).
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir

from segmint.definitions import counted_orders, money_sum
from segmint.features.catalog import feature
from segmint.features.products import counted_product_lines
from segmint.features.tables import Tables

GROUP = "Price sensitivity"
ZERO = ibis.literal(0).cast("decimal(18, 2)")

DISCOUNT_ORDER_SHARE = feature(
    "discount_order_share",
    "number",
    GROUP,
    "Share of counted orders with a discount (`discount_amount > 0` or a discount code), "
    "0 to 1; empty without orders.",
)
AVG_DISCOUNT_RATE = feature(
    "avg_discount_rate",
    "number",
    GROUP,
    "`sum(discount_amount) / (sum(subtotal) + sum(discount_amount))` over counted orders: the "
    "part of the undiscounted merchandise price given away; empty when that sum is 0.",
)
SALE_ITEM_SHARE = feature(
    "sale_item_share",
    "number",
    GROUP,
    "Share of the units of product lines of counted orders bought below their compare-at price "
    "(`compare_at_price > unit_price`, the line's own compare-at price else the catalog "
    "variant's); empty without units.",
)


def price_features(tables: Tables, as_of: date) -> ir.Table:
    """One row per customer of ``tables.customers``: ``customer_id`` and the features above."""
    orders = counted_orders(tables.orders, as_of)
    discount = orders.discount_amount.fill_null(ZERO)
    has_code = orders.discount_code.notnull() & (orders.discount_code.strip() != "")
    per_order = orders.group_by("customer_id").aggregate(
        _orders=orders.count(),
        _discounted=orders.count(where=(discount > 0) | has_code),
        _discount=money_sum(discount),
        _subtotal=money_sum(orders.subtotal.fill_null(ZERO)),
    )
    lines = counted_product_lines(tables, as_of)
    units = lines.quantity.fill_null(0)
    on_sale = (lines.compare_at_price > lines.unit_price).fill_null(False)
    per_line = lines.group_by("customer_id").aggregate(
        _units=units.sum(), _sale_units=units.sum(where=on_sale)
    )
    joined = (
        tables.customers.select("customer_id")
        .left_join(per_order, "customer_id")
        .drop("customer_id_right")
        .left_join(per_line, "customer_id")
        .drop("customer_id_right")
    )
    undiscounted = joined._subtotal + joined._discount
    return joined.select(
        customer_id=joined.customer_id,
        **{
            DISCOUNT_ORDER_SHARE: _ratio(joined._discounted, joined._orders),
            AVG_DISCOUNT_RATE: _ratio(joined._discount, undiscounted),
            SALE_ITEM_SHARE: _ratio(joined._sale_units.fill_null(0), joined._units),
        },
    )


def _ratio(part: ir.NumericValue, whole: ir.NumericValue) -> ir.FloatingValue:
    """``part / whole`` as a float; empty when ``whole`` is empty or not positive."""
    return ibis.ifelse(
        whole > 0, part.cast("float64") / whole.cast("float64"), ibis.null("float64")
    )
