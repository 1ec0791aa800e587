"""Overview (``/``): the base in numbers, revenue and orders by month, the health of the base
over time, and what changed since the refresh before the latest."""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse

from segmint.dashboard import charts
from segmint.dashboard.session import Session
from segmint.dashboard.web import (
    TWIN_PREFIX,
    cached_view,
    refreshed,
    render,
    signed_in,
    twin,
    twin_key,
)
from segmint.definitions import counted_orders, counted_refunds
from segmint.history import INTERVALS, OBSERVATIONS, observed_days, on_each_day, sizes_on
from segmint.segments import latest_refresh, latest_versions
from segmint.store import Store
from segmint.summary import workspace_summary

router = APIRouter()
TWIN = f"{TWIN_PREFIX}/overview"
#: The health of the base: the best RFM groups against those slipping away.
HEALTHY = ("rfm_champions", "rfm_loyal")
SLIPPING = ("rfm_at_risk", "rfm_lost")
TOTALS = ("customers", "customers_with_orders", "orders", "amount_spent", "currency")


def overview(store: Store) -> dict[str, Any]:
    """Everything the overview shows (the totals alone before the first refresh)."""
    summary = workspace_summary(store)
    totals = {k: summary.get(k) for k in TOTALS}
    if not refreshed(store):
        empty = {"from": None, "to": None, "segments": []}
        return {"as_of": None, "totals": totals, "monthly": [], "health": [], "changes": empty}
    return {
        "as_of": latest_refresh(store)["as_of"],
        "totals": totals,
        "monthly": monthly(store),
        "health": health(store),
        "changes": changes(store),
    }


def monthly(store: Store) -> list[dict[str, Any]]:
    """Per calendar month: orders, revenue (amount spent: orders placed less refunds dated),
    new customers (first order) and customers who ordered."""
    orders = counted_orders(store.table("orders"))
    month = _month(orders.placed_date).name("month")
    placed = orders.group_by(month).aggregate(
        orders=orders.count(),
        customers_ordering=orders.customer_id.nunique(),
        gross=orders.total.sum(),
    )
    refunds = counted_refunds(store.table("refunds"), store.table("orders"))
    refunded = refunds.group_by(month=_month(refunds.refunded_date)).aggregate(
        refunded=refunds.amount.sum()
    )
    firsts = orders.group_by("customer_id").aggregate(first=orders.placed_date.min())
    new = firsts.group_by(month=_month(firsts.first)).aggregate(new_customers=firsts.count())
    joined = placed.left_join(refunded, "month").left_join(new, "month")
    rows = store.run(
        joined.select(
            "month",
            "orders",
            "customers_ordering",
            new_customers=joined.new_customers.fill_null(0),
            revenue=(joined.gross - joined.refunded.fill_null(0)).cast("float64"),
        ).order_by("month")
    ).to_pylist()
    return rows


def _month(day: ir.DateValue) -> ir.DateValue:
    """The first day of ``day``'s month (a date: DuckDB's date_trunc gives a timestamp)."""
    return ibis.date(day.year(), day.month(), 1)


def health(store: Store) -> list[dict[str, Any]]:
    """On every observed day: the share of customers and of amount spent to date held by
    Champions and Loyal, and by At Risk and Lost."""
    days = store.table(OBSERVATIONS).select(day="as_of", known="customers")
    intervals = store.table(INTERVALS)
    wanted = intervals.filter(intervals.segment.isin(HEALTHY + SLIPPING))
    covering = on_each_day(wanted, days)
    member = covering.select("customer_id", "day", healthy=covering.segment.isin(HEALTHY))
    spent = _spent_to_date(store, days)
    valued = member.left_join(spent, ["customer_id", "day"]).select(
        "day", "healthy", spent=ibis._.spent.fill_null(0)
    )
    groups = valued.group_by("day").aggregate(
        healthy_customers=valued.healthy.sum(),
        slipping_customers=(~valued.healthy).sum(),
        healthy_spent=valued.spent.sum(where=valued.healthy),
        slipping_spent=valued.spent.sum(where=~valued.healthy),
    )
    totals = spent.group_by("day").aggregate(total_spent=spent.spent.sum())
    joined = days.left_join(groups, "day").left_join(totals, "day")
    rows = store.run(
        joined.select(
            "day",
            "known",
            healthy_customers=joined.healthy_customers.fill_null(0),
            slipping_customers=joined.slipping_customers.fill_null(0),
            healthy_spent=joined.healthy_spent.fill_null(0).cast("float64"),
            slipping_spent=joined.slipping_spent.fill_null(0).cast("float64"),
            total_spent=joined.total_spent.fill_null(0).cast("float64"),
        ).order_by("day")
    ).to_pylist()
    return [_health_row(r) for r in rows]


def _spent_to_date(store: Store, days: ir.Table) -> ir.Table:
    """``customer_id, day, spent``: amount spent by the end of each observed day."""
    orders = counted_orders(store.table("orders"))
    placed = orders.join(days, orders.placed_date <= days.day)
    gross = placed.group_by(["customer_id", "day"]).aggregate(gross=placed.total.sum())
    refunds = counted_refunds(store.table("refunds"), store.table("orders"))
    refunds = refunds.filter(refunds.customer_id.notnull())
    dated = refunds.join(days, refunds.refunded_date <= days.day)
    refunded = dated.group_by(["customer_id", "day"]).aggregate(refunded=dated.amount.sum())
    joined = gross.outer_join(refunded, ["customer_id", "day"])
    return joined.select(
        customer_id=ibis.coalesce(joined.customer_id, joined.customer_id_right),
        day=ibis.coalesce(joined.day, joined.day_right),
        spent=joined.gross.fill_null(0) - joined.refunded.fill_null(0),
    )


def _health_row(row: dict[str, Any]) -> dict[str, Any]:
    known, total = row["known"] or 0, row["total_spent"] or 0.0
    return {
        "day": row["day"],
        "customers": known,
        "healthy_customer_share": row["healthy_customers"] / known if known else None,
        "slipping_customer_share": row["slipping_customers"] / known if known else None,
        "healthy_revenue_share": row["healthy_spent"] / total if total else None,
        "slipping_revenue_share": row["slipping_spent"] / total if total else None,
    }


def changes(store: Store) -> dict[str, Any]:
    """Each segment's size at the latest observation and at the one before, and how many
    customers entered and left in between."""
    days = observed_days(store)
    if not days:
        return {"from": None, "to": None, "segments": []}
    latest, previous = days[-1], (days[-2] if len(days) > 1 else None)
    now = sizes_on(store, latest)
    intervals = store.table(INTERVALS)
    after = previous or date.min
    entered = intervals.filter((intervals.entered > after) & (intervals.entered <= latest))
    exited = intervals.filter((intervals.exited > after) & (intervals.exited <= latest))
    moves = [
        entered.group_by("segment").aggregate(entered=entered.count()),
        exited.group_by("segment").aggregate(exited=exited.count()),
    ]
    if previous is not None:
        moves.append(sizes_on(store, previous).rename(before="customers"))
    names = latest_versions(store).select("segment", "name")
    joined = names.left_join(now, "segment").drop("segment_right")
    for table in moves:
        joined = joined.left_join(table, "segment").drop("segment_right")
    rows = [_change_row(r) for r in store.run(joined).to_pylist()]
    rows.sort(key=lambda r: (r["change"] is None, -abs(r["change"] or 0), -r["customers"]))
    return {"from": previous, "to": latest, "segments": rows}


def _change_row(row: dict[str, Any]) -> dict[str, Any]:
    size, before = row.get("customers") or 0, row.get("before")
    return {
        "segment": row["segment"],
        "name": row["name"],
        "customers": size,
        "before": before,
        "change": size - before if before is not None else None,
        "entered": row.get("entered") or 0,
        "exited": row.get("exited") or 0,
    }


def figures(view: dict[str, Any]) -> dict[str, charts.Figure]:
    months = [r["month"] for r in view["monthly"]]
    days = [r["day"] for r in view["health"]]
    return {
        "revenue": charts.bars(months, [r["revenue"] for r in view["monthly"]], "Revenue"),
        "orders": charts.lines(
            months,
            {
                "Orders": [r["orders"] for r in view["monthly"]],
                "Customers who ordered": [r["customers_ordering"] for r in view["monthly"]],
                "New customers": [r["new_customers"] for r in view["monthly"]],
            },
        ),
        "health": charts.lines(
            days,
            {
                "Customers in Champions + Loyal": _col(view, "healthy_customer_share"),
                "Customers in At Risk + Lost": _col(view, "slipping_customer_share"),
                "Revenue from Champions + Loyal": _col(view, "healthy_revenue_share"),
                "Revenue from At Risk + Lost": _col(view, "slipping_revenue_share"),
            },
            percent=True,
        ),
    }


def _col(view: dict[str, Any], key: str) -> list[Any]:
    return [r[key] for r in view["health"]]


@router.get("/", include_in_schema=False)
def overview_page(request: Request, session: Session = Depends(signed_in)) -> HTMLResponse:
    view = cached_view(request, overview)
    return render(request, "overview.html", session, view, TWIN, "Overview", figures=figures(view))


@router.get(TWIN, dependencies=[twin_key], tags=["views"], summary="The overview page's data")
def overview_twin(request: Request) -> JSONResponse:
    return twin(cached_view(request, overview))
