"""Goal KPIs of the campaign plan, each with its current baseline measured from the data.

Every baseline is measured as of the latest refresh's as-of day, over windows that have
fully happened (a 90-day rate looks at customers whose 90 days are over), so a campaign's
result can be compared with it. Each function returns the rate and the customers (or
carts) it was measured on; ``None`` when nothing qualifies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import ibis
import ibis.expr.types as ir

from segmint.definitions import counted_orders
from segmint.features.intent import CART_EVENTS
from segmint.store import Store

WINDOW = 90
LAPSED = 180
CART_DAYS = 7


@dataclass(frozen=True)
class Baseline:
    kpi: str
    value: float | None
    base: int  # how many customers (or carts) it was measured on
    definition: str

    def shown(self) -> str:
        if self.value is None:
            return f"not measurable yet ({self.base} qualifying)"
        return f"{self.value:.1%} (of {self.base:,})"


def _rate(table: ir.Table, hit: ir.BooleanValue) -> tuple[float | None, int]:
    row = table.aggregate(n=table.count(), hits=hit.sum()).to_pyarrow().to_pylist()[0]
    n = int(row["n"] or 0)
    return ((int(row["hits"] or 0) / n) if n else None), n


def repeat_rate(store: Store, features: ir.Table, members: ir.Table, as_of: date) -> Baseline:
    """Store-wide: first-time buyers whose first order is 90+ days old, share with a second
    order within 90 days of the first."""
    old_enough = features.filter(
        features.first_order_date <= ibis.literal(as_of - timedelta(days=WINDOW))
    )
    second = old_enough.days_first_to_second_order
    value, n = _rate(old_enough, (second <= WINDOW).fill_null(False).cast("int64"))
    return Baseline("repeat_rate_90d", value, n, repeat_rate.__doc__ or "")


def winback_rate(store: Store, features: ir.Table, members: ir.Table, as_of: date) -> Baseline:
    """Store-wide: customers who, 90 days before the as-of day, had not ordered for 180 days
    or more; share who ordered in the 90 days since."""
    cutoff = as_of - timedelta(days=WINDOW)
    orders = counted_orders(store.table("orders"), as_of)
    per_customer = orders.group_by("customer_id").aggregate(
        _last_before=orders.placed_date.max(where=orders.placed_date <= cutoff),
        _after=orders.count(where=orders.placed_date > cutoff),
    )
    lapsed = per_customer.filter(
        per_customer._last_before <= ibis.literal(cutoff - timedelta(days=LAPSED))
    )
    value, n = _rate(lapsed, (lapsed._after > 0).cast("int64"))
    return Baseline("winback_rate_90d", value, n, winback_rate.__doc__ or "")


def cart_recovery_rate(
    store: Store, features: ir.Table, members: ir.Table, as_of: date
) -> Baseline:
    """Store-wide: carts (added to cart or started checkout) of the 90 days ending 7 days
    before the as-of day; share followed by an order of the same customer within 7 days."""
    end = as_of - timedelta(days=CART_DAYS)
    events = store.table("events")
    carts = events.filter(
        events.event_type.isin(CART_EVENTS)
        & events.customer_id.notnull()
        & (events.occurred_date > end - timedelta(days=WINDOW))
        & (events.occurred_date <= end)
    ).select("customer_id", cart_at=events.occurred_at, cart_day=events.occurred_date)
    carts = carts.mutate(_cart=ibis.row_number().over(order_by=["customer_id", "cart_at"]))
    orders = counted_orders(store.table("orders"), as_of).select("customer_id", "placed_at")
    joined = carts.join(
        orders,
        (carts.customer_id == orders.customer_id)
        & (orders.placed_at >= carts.cart_at)
        & (orders.placed_at <= carts.cart_at + ibis.interval(days=CART_DAYS)),
    )
    recovered = joined.select("_cart").distinct().mutate(_recovered=ibis.literal(1))
    flagged = carts.left_join(recovered, "_cart")
    value, n = _rate(flagged, flagged._recovered.fill_null(0))
    return Baseline("cart_recovery_rate_7d", value, n, cart_recovery_rate.__doc__ or "")


def click_rate(store: Store, features: ir.Table, members: ir.Table, as_of: date) -> Baseline:
    """The segment's members who received email in the last 90 days: share who clicked."""
    mine = features.semi_join(members, "customer_id")
    received = mine.filter(mine.emails_received_90d > 0)
    value, n = _rate(received, (received.emails_clicked_90d > 0).cast("int64"))
    return Baseline("click_rate_90d", value, n, click_rate.__doc__ or "")


def order_rate(store: Store, features: ir.Table, members: ir.Table, as_of: date) -> Baseline:
    """The segment's members: share who ordered in the last 90 days (a retention goal keeps
    it up)."""
    mine = features.semi_join(members, "customer_id")
    value, n = _rate(mine, (mine.orders_90d > 0).cast("int64"))
    return Baseline("order_rate_90d", value, n, order_rate.__doc__ or "")


Measure = Callable[[Store, ir.Table, ir.Table, date], Baseline]
KPIS: dict[str, Measure] = {
    "repeat_rate_90d": repeat_rate,
    "winback_rate_90d": winback_rate,
    "cart_recovery_rate_7d": cart_recovery_rate,
    "click_rate_90d": click_rate,
    "order_rate_90d": order_rate,
}
