"""What each assigned customer did in a campaign's window: from the workspace's own orders
and events, or from an imported campaign results file where it says so.

The window runs from the send day through ``window_days`` days (the send day is day 1).
Revenue is the growth of amount spent over the window (orders placed, less refunds dated,
``docs/data-model.md``); a results file's ``ordered`` and ``revenue`` take precedence for the
customers it lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import ibis
import ibis.expr.types as ir

from segmint.campaigns.registry import Campaign, assignments
from segmint.definitions import counted_orders
from segmint.features.engagement import UNSUBSCRIBED_EVENT
from segmint.movement import spent_between
from segmint.store import Store


@dataclass(frozen=True)
class Span:
    """The days a campaign's outcomes are counted in, both included."""

    first: date
    last: date

    @classmethod
    def of(cls, send_date: date, window_days: int) -> Span:
        return cls(send_date, send_date + timedelta(days=window_days - 1))


def data_through(store: Store) -> date | None:
    """The latest day the workspace has orders or events for."""
    orders, events = store.table("orders"), store.table("events")
    days = [store.scalar(orders.placed_date.max()), store.scalar(events.occurred_date.max())]
    known = [d for d in days if d is not None]
    return max(known) if known else None


def outcomes(store: Store, campaign: Campaign, span: Span) -> ir.Table:
    """``customer_id``, ``arm``, ``converted``, ``orders``, ``revenue`` (float) and
    ``unsubscribed`` of every assigned customer."""
    before = span.first - timedelta(days=1)
    orders = counted_orders(store.table("orders"), span.last)
    orders = orders.filter(orders.placed_date >= span.first)
    ordered = orders.group_by("customer_id").aggregate(orders=orders.count())
    spent = spent_between(store.table("orders"), store.table("refunds"), before, span.last)
    events = store.table("events")
    unsubscribed = (
        events.filter(
            (events.event_type == UNSUBSCRIBED_EVENT)
            & (events.occurred_date >= span.first)
            & (events.occurred_date <= span.last)
        )
        .select("customer_id")
        .distinct()
        .mutate(unsubscribed_event=ibis.literal(True))
    )
    results = store.table("campaign_results")
    results = results.filter(results.campaign_id == campaign.campaign_id).select(
        "customer_id",
        result_ordered=results.ordered,
        result_revenue=results.revenue,
        result_unsubscribed=results.unsubscribed,
    )
    joined = assignments(store, campaign.campaign_id)
    for table in (ordered, spent, unsubscribed, results):
        joined = joined.left_join(table, "customer_id").drop("customer_id_right")
    orders_n = joined.orders.fill_null(0)
    converted = ibis.coalesce(joined.result_ordered, orders_n > 0)
    revenue = ibis.coalesce(joined.result_revenue, joined.spent, 0).cast("float64")
    return joined.select(
        "customer_id",
        "arm",
        converted=converted,
        orders=orders_n,
        revenue=ibis.ifelse(converted, revenue, 0.0),
        unsubscribed=ibis.coalesce(
            joined.result_unsubscribed, joined.unsubscribed_event.fill_null(False)
        ),
    )
