"""Browsing and cart intent: product views, repeated views without buying, open carts, visits.

Events count up to the as-of day (:func:`segmint.definitions.events_as_of`); a window of N
days is the N days ending with the as-of day, that day included. A *purchase* is a counted
order (:func:`segmint.definitions.counted_orders`, as of the same day) or a ``placed_order``
event up to the as-of day; "after" compares instants (``placed_at`` / ``occurred_at``, both
UTC), and a purchase at the very instant of a view or cart event counts as after it.
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import ibis.expr.types as ir

from segmint.definitions import counted_orders, events_as_of
from segmint.features.catalog import feature
from segmint.features.tables import Tables

GROUP = "Browsing and cart intent"
VIEW_WINDOWS = (3, 30)
VIEWED = "viewed_product"
PLACED_ORDER = "placed_order"
CART_EVENTS = ("added_to_cart", "started_checkout")
SITE_EVENTS = ("active_on_site", "viewed_product", "viewed_collection", *CART_EVENTS)
#: ``viewed_product_repeatedly``: this many views of one product ...
REPEAT_VIEWS = 2
#: ... within this many days ending with the as-of day.
REPEAT_WINDOW_DAYS = 3
#: ``browsed_category``: this many views of one category's products ...
BROWSE_VIEWS = 3
#: ... within this many days ending with the as-of day.
BROWSE_WINDOW_DAYS = 30

PRODUCT_VIEWS_IN = {
    n: feature(
        f"product_views_{n}d",
        "integer",
        GROUP,
        f"Number of `viewed_product` events (`Viewed Product`, `view_item`) that occurred in "
        f"the last {n} days.",
    )
    for n in VIEW_WINDOWS
}
VIEWED_REPEATEDLY = feature(
    "viewed_product_repeatedly",
    "boolean",
    GROUP,
    f"True when, in the last {REPEAT_WINDOW_DAYS} days, the customer has at least "
    f"{REPEAT_VIEWS} `viewed_product` events for the same product (same `product_id`, or "
    "same `product_name` for views without an id) and no purchase (counted order or "
    "`placed_order` event, up to the as-of day) at or after the first of those views; views "
    "naming no product are ignored.",
)
OPEN_CART = feature(
    "open_cart",
    "boolean",
    GROUP,
    "True when the customer has an `added_to_cart` or `started_checkout` event up to the "
    "as-of day with no purchase (counted order or `placed_order` event, up to the as-of day) "
    "at or after it, i.e. their latest cart event is later than their latest purchase.",
)
BROWSED_CATEGORY = feature(
    "browsed_category",
    "string",
    GROUP,
    f"The category with the most `viewed_product` events (the event's `category`) in the last "
    f"{BROWSE_WINDOW_DAYS} days, among categories viewed at least {BROWSE_VIEWS} times in "
    "those days and not bought in them (no product line of that category, compared ignoring "
    "case, in a counted order placed in those days); ties: alphabetical. Empty otherwise.",
)
DAYS_SINCE_LAST_SITE_VISIT = feature(
    "days_since_last_site_visit",
    "integer",
    GROUP,
    "As-of day minus the day of the latest site event (`active_on_site`, `viewed_product`, "
    "`viewed_collection`, `added_to_cart`, `started_checkout`) up to it, in days; empty when "
    "the customer has none.",
)


def intent_features(tables: Tables, as_of: date) -> ir.Table:
    """One row per customer of ``tables.customers``: ``customer_id`` and the features above."""
    events = events_as_of(tables.events, as_of)
    purchases = _last_purchase(tables.orders, events, as_of)
    starts = {n: as_of - timedelta(days=n - 1) for n in VIEW_WINDOWS}
    kind = events.event_type
    per_customer = events.group_by("customer_id").aggregate(
        **{
            f"_views_{n}": events.count(where=(kind == VIEWED) & (events.occurred_date >= s))
            for n, s in starts.items()
        },
        _last_cart_at=events.occurred_at.max(where=kind.isin(CART_EVENTS)),
        _last_visit=events.occurred_date.max(where=kind.isin(SITE_EVENTS)),
    )
    repeated = _repeated_views(events, purchases, as_of)
    browsed = _browsed_category(events, tables, as_of)
    joined = (
        tables.customers.select("customer_id")
        .left_join(per_customer, "customer_id")
        .drop("customer_id_right")
        .left_join(purchases, "customer_id")
        .drop("customer_id_right")
        .left_join(repeated, "customer_id")
        .drop("customer_id_right")
        .left_join(browsed, "customer_id")
        .drop("customer_id_right")
    )
    cart_open = joined._last_cart_at.notnull() & (
        joined._last_purchase_at.isnull() | (joined._last_purchase_at < joined._last_cart_at)
    )
    return joined.select(
        customer_id=joined.customer_id,
        **{
            name: joined[f"_views_{n}"].fill_null(0).cast("int64")
            for n, name in PRODUCT_VIEWS_IN.items()
        },
        **{
            VIEWED_REPEATEDLY: joined._repeated.fill_null(False),
            OPEN_CART: cart_open.fill_null(False),
            BROWSED_CATEGORY: joined._browsed,
            DAYS_SINCE_LAST_SITE_VISIT: ibis.literal(as_of).delta(joined._last_visit, unit="day"),
        },
    )


def _last_purchase(orders: ir.Table, events: ir.Table, as_of: date) -> ir.Table:
    """``customer_id, _last_purchase_at``: the latest counted order or ``placed_order`` event."""
    counted = counted_orders(orders, as_of)
    placed = events.filter(events.event_type == PLACED_ORDER)
    instants = counted.select("customer_id", at=counted.placed_at).union(
        placed.select("customer_id", at=placed.occurred_at)
    )
    return instants.group_by("customer_id").aggregate(_last_purchase_at=instants.at.max())


def _repeated_views(events: ir.Table, purchases: ir.Table, as_of: date) -> ir.Table:
    """``customer_id, _repeated``: customers with a product viewed repeatedly, not bought since."""
    start = as_of - timedelta(days=REPEAT_WINDOW_DAYS - 1)
    views = events.filter((events.event_type == VIEWED) & (events.occurred_date >= start))
    product = ibis.coalesce("id:" + views.product_id, "name:" + views.product_name)
    keyed = views.mutate(_product=product).filter(ibis._._product.notnull())
    per_product = keyed.group_by(["customer_id", "_product"]).aggregate(
        _views=keyed.count(), _first_view_at=keyed.occurred_at.min()
    )
    often = per_product.filter(per_product._views >= REPEAT_VIEWS)
    joined = often.left_join(purchases, "customer_id").drop("customer_id_right")
    unbought = joined.filter(
        joined._last_purchase_at.isnull() | (joined._last_purchase_at < joined._first_view_at)
    )
    return unbought.select("customer_id").distinct().mutate(_repeated=ibis.literal(True))


def _browsed_category(events: ir.Table, tables: Tables, as_of: date) -> ir.Table:
    """``customer_id, _browsed``: the most viewed category not bought, over the window."""
    start = as_of - timedelta(days=BROWSE_WINDOW_DAYS - 1)
    views = events.filter(
        (events.event_type == VIEWED) & (events.occurred_date >= start) & events.category.notnull()
    )
    per_category = views.group_by(["customer_id", "category"]).aggregate(_views=views.count())
    often = per_category.filter(per_category._views >= BROWSE_VIEWS)
    lines = tables.product_lines()
    orders = counted_orders(tables.orders, as_of)
    recent = orders.filter(orders.placed_date >= start).select("order_id", "customer_id")
    bought = lines.filter(lines.category.notnull()).join(recent, "order_id")
    bought = bought.select("customer_id", _bought=bought.category.lower()).distinct()
    unbought = often.anti_join(
        bought,
        [
            often.customer_id == bought.customer_id,
            often.category.lower() == bought._bought,
        ],
    )
    rank = ibis.row_number().over(
        group_by=unbought.customer_id, order_by=[unbought._views.desc(), unbought.category]
    )
    top = unbought.mutate(_rank=rank).filter(ibis._._rank == 0)
    return top.select("customer_id", _browsed=top.category)
