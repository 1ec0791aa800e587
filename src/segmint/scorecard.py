"""KPIs per segment against the whole customer base, over a window or trended by period.

A segment's customers are those the history (:mod:`segmint.history`) has in it on the
window's first day (the *start*); their outcomes are measured after that day up to the end
of the last (the *end*), so a segment is judged on what its members did next. The baseline
is every customer the store knew on the start day, measured the same way; *lift* is the
segment's value over the baseline's, less one. ``docs/measure.md`` defines each KPI.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import ibis
import ibis.expr.types as ir

from segmint.definitions import counted_orders, known_customers
from segmint.errors import ConfigError
from segmint.features.engagement import CLICKED, OPENED, RECEIVED, UNSUBSCRIBED_EVENT
from segmint.features.tables import latest_run_as_of
from segmint.features.transactional import second_order_dates
from segmint.history import members_on
from segmint.movement import spent_between
from segmint.periods import check_period, months_before, period_end, period_start
from segmint.store import Store

BASELINE = "(all customers)"
REPEAT_DAYS = 90
DEFAULT_WINDOW_DAYS = 90
#: The lifecycle stages a churned customer is in at the end of a period.
CHURNED_STAGES = ("lifecycle_dormant", "lifecycle_lost")
#: The KPIs, in the order they are shown.
KPIS = (
    "customers",
    "share_of_customers",
    "share_of_revenue",
    "conversion_rate",
    "repeat_rate_90d",
    "aov",
    "revenue_per_customer",
    "historic_clv",
    "predicted_clv_12m",
    "churn_rate",
    "email_open_rate",
    "email_click_rate",
    "unsubscribe_rate",
)
#: KPIs compared with the baseline as lift (the others are counts or shares of it).
LIFTED = KPIS[3:]


@dataclass(frozen=True)
class Window:
    """Customers in their segments on ``start``; outcomes after it up to ``end``."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ConfigError(f"--from ({self.start}) must be before --to ({self.end})")


def kpi_windows(
    end: date, start: date | None = None, every: str | None = None, since: date | None = None
) -> list[Window]:
    """The window from ``start`` (default: :data:`DEFAULT_WINDOW_DAYS` before) to ``end``; or,
    with ``every`` (month, quarter), one per period since ``since`` (default: a year before)."""
    if every is None:
        return [Window(start or end - timedelta(days=DEFAULT_WINDOW_DAYS), end)]
    check_period(every, ("month", "quarter"))
    return trend_windows(since or months_before(end, 12), end, every)


def trend_windows(since: date, end: date, every: str) -> list[Window]:
    """One window per calendar period (``month`` or ``quarter``) from the one containing
    ``since`` to the one containing ``end``; the last ends on ``end``."""
    windows = []
    first = period_start(since, every)
    while first <= end:
        last = min(period_end(first, every), end)
        windows.append(Window(first - timedelta(days=1), last))
        first = last + timedelta(days=1)
    return windows


def segment_kpis(store: Store, segments: Iterable[str], window: Window) -> list[dict]:
    """One record per segment and one for the baseline: ``segment``, ``start``, ``end``,
    every KPI of :data:`KPIS` and ``lift_<kpi>`` for those of :data:`LIFTED`."""
    segments = list(segments)
    cohorts = _cohorts(store, segments, window)
    totals = store.run(_totals(cohorts, _outcomes(store, window), window)).to_pylist()
    by_segment = {row["segment"]: row for row in totals}
    empty = {key: 0 for key in next(iter(by_segment.values()), {})}
    base = _kpis(by_segment.get(BASELINE, empty), by_segment.get(BASELINE, empty))
    records = []
    for segment in [*segments, BASELINE]:
        values = _kpis(by_segment.get(segment, empty), by_segment.get(BASELINE, empty))
        lifts = {f"lift_{k}": _lift(values[k], base[k]) for k in LIFTED}
        records.append(
            {"segment": segment, "start": window.start, "end": window.end, **values, **lifts}
        )
    return records


def _cohorts(store: Store, segments: list[str], window: Window) -> ir.Table:
    """``customer_id``, ``segment``: each segment's customers on the start day, and every
    customer known that day as the baseline."""
    members = members_on(store, window.start)
    members = members.filter(members.segment.isin(segments)).select("customer_id", "segment")
    known = known_customers(
        store.table("customers"), store.table("orders"), store.table("events"), window.start
    )
    everyone = known.select("customer_id", segment=ibis.literal(BASELINE))
    return store.stage("_kpi_cohorts", members.union(everyone, distinct=False))


def _outcomes(store: Store, window: Window) -> list[ir.Table]:
    """Per customer with any outcome: what they did after the start day up to the end."""
    start, end = window.start, window.end
    orders = counted_orders(store.table("orders"), end)
    per_customer = orders.group_by("customer_id").aggregate(
        orders_in_window=orders.count(where=orders.placed_date > start),
        first_order=orders.placed_date.min(),
    )
    spent = spent_between(store.table("orders"), store.table("refunds"), start, end)
    second = second_order_dates(orders).select("customer_id", second_order="second_order_date")
    tables = [
        store.stage("_kpi_orders", per_customer),
        store.stage("_kpi_second", second),
        store.stage("_kpi_spent", spent),
        store.stage("_kpi_predicted", _predicted(store, end)),
        store.stage("_kpi_churned", _churned(store, end)),
        store.stage("_kpi_email", _email(store, window)),
    ]
    return tables


def _predicted(store: Store, end: date) -> ir.Table:
    predictions = latest_run_as_of(store.table("predictions"), end)
    return predictions.select("customer_id", predicted_clv_12m=predictions.predicted_clv_12m)


def _churned(store: Store, end: date) -> ir.Table:
    members = members_on(store, end)
    churned = members.filter(members.segment.isin(CHURNED_STAGES))
    return churned.select("customer_id", churned=ibis.literal(1)).distinct()


def _email(store: Store, window: Window) -> ir.Table:
    events = store.table("events")
    inside = events.filter(
        (events.occurred_date > window.start)
        & (events.occurred_date <= window.end)
        & events.customer_id.notnull()
    )
    kind = inside.event_type
    return inside.group_by("customer_id").aggregate(
        received=(kind == RECEIVED).any(),
        opened=(kind == OPENED).any(),
        clicked=(kind == CLICKED).any(),
        unsubscribed=(kind == UNSUBSCRIBED_EVENT).any(),
    )


def _totals(cohorts: ir.Table, outcomes: list[ir.Table], window: Window) -> ir.Table:
    """Per segment: the sums and counts the KPIs are ratios of."""
    joined = cohorts
    for table in outcomes:
        joined = joined.left_join(table, "customer_id").drop("customer_id_right")
    # A first order whose 90 days are over by the end: did a second follow within them?
    last_first = ibis.literal(window.end - timedelta(days=REPEAT_DAYS))
    eligible = joined.first_order.notnull() & (joined.first_order <= last_first)
    return joined.group_by("segment").aggregate(
        customers=joined.count(),
        revenue=joined.spent.sum().fill_null(0).cast("float64"),
        converted=joined.count(where=joined.orders_in_window > 0),
        orders=joined.orders_in_window.sum().fill_null(0).cast("int64"),
        repeat_eligible=joined.count(where=eligible),
        repeated=joined.count(
            where=eligible
            & (joined.second_order <= joined.first_order + ibis.interval(days=REPEAT_DAYS))
        ),
        lifetime=joined.spent_to_date.sum().fill_null(0).cast("float64"),
        predicted=joined.predicted_clv_12m.sum().cast("float64"),
        predicted_n=joined.predicted_clv_12m.count(),
        churned=joined.count(where=joined.churned == 1),
        received=joined.count(where=joined.received),
        opened=joined.count(where=joined.received & joined.opened),
        clicked=joined.count(where=joined.received & joined.clicked),
        unsubscribed=joined.count(where=joined.received & joined.unsubscribed),
    )


def _ratio(numerator: float, denominator: float) -> float | None:
    return float(numerator) / float(denominator) if denominator else None


def _kpis(totals: dict, base: dict) -> dict:
    n = totals.get("customers", 0)
    return {
        "customers": n,
        "share_of_customers": _ratio(n, base.get("customers", 0)),
        "share_of_revenue": _ratio(totals.get("revenue", 0), base.get("revenue", 0)),
        "conversion_rate": _ratio(totals.get("converted", 0), n),
        "repeat_rate_90d": _ratio(totals.get("repeated", 0), totals.get("repeat_eligible", 0)),
        "aov": _ratio(totals.get("revenue", 0), totals.get("orders", 0)),
        "revenue_per_customer": _ratio(totals.get("revenue", 0), n),
        "historic_clv": _ratio(totals.get("lifetime", 0), n),
        "predicted_clv_12m": _ratio(totals.get("predicted") or 0, totals.get("predicted_n", 0)),
        "churn_rate": _ratio(totals.get("churned", 0), n),
        "email_open_rate": _ratio(totals.get("opened", 0), totals.get("received", 0)),
        "email_click_rate": _ratio(totals.get("clicked", 0), totals.get("received", 0)),
        "unsubscribe_rate": _ratio(totals.get("unsubscribed", 0), totals.get("received", 0)),
    }


def _lift(value: float | None, baseline: float | None) -> float | None:
    if value is None or not baseline:
        return None
    return value / baseline - 1
