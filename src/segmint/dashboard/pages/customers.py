"""Customers (``/customers``): find a customer by segmint id, source id, email or phone (the
way ``segmint customer`` and the API resolve keys) or by part of an id, email, phone or name;
and one customer (``/customers/{id}``): profile, key features, predictions, segments with the
values that put them there (``segmint explain``), and a timeline of orders and events."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any
from urllib.parse import quote

import ibis
import ibis.expr.types as ir
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from segmint import identity
from segmint.api.errors import ApiError
from segmint.dashboard import charts
from segmint.dashboard.session import Session
from segmint.dashboard.web import (
    TWIN_PREFIX,
    PageNotFound,
    read_view,
    refreshed,
    render,
    signed_in,
    twin,
    twin_key,
)
from segmint.features.tables import latest_run_as_of, stored_features
from segmint.segments.explain import explain
from segmint.settings import Settings
from segmint.store import Store

router = APIRouter()
TWIN = f"{TWIN_PREFIX}/customers"
#: Partial matches listed at most (the count says how many there are).
MATCH_LIMIT = 50
TIMELINE_PAGE = 25
#: Orders listed at most, and timeline entries drawn at most (the latest).
ORDER_LIMIT = 500
CHART_POINTS = 1000
#: A partial search looks in phone numbers from this many digits.
PHONE_DIGITS = 4
CONTACT = ("email", "phone", "first_name", "last_name", "company", "email_consent", "sms_consent")
LOCATION = ("address1", "city", "region", "zip", "country")
DECLARED = (
    "gender",
    "birth_year",
    "tags",
    "note",
    "reported_total_orders",
    "reported_total_spent",
    "first_seen_at",
)
KEY_FEATURES = (
    "number_of_orders",
    "amount_spent",
    "aov",
    "first_order_date",
    "last_order_date",
    "days_since_last_order",
    "preferred_channel",
    "top_category",
    "r_score",
    "f_score",
    "m_score",
    "rfm_cell",
    "rfm_group",
    "cluster",
)
ENGAGEMENT = (
    "emails_received_90d",
    "emails_opened_90d",
    "emails_clicked_90d",
    "email_open_rate_90d",
    "email_click_rate_90d",
    "days_since_last_open",
    "days_since_last_click",
    "days_since_last_site_visit",
    "unsubscribed",
    "bounced",
    "marked_spam",
)
PREDICTIONS = (
    "p_alive",
    "predicted_clv_12m",
    "expected_orders_90d",
    "next_order_date",
    "churn_risk",
)
ORDER_COLUMNS = (
    "order_id",
    "order_number",
    "placed_at",
    "total",
    "currency",
    "status",
    "financial_status",
    "fulfillment_status",
    "channel",
    "refunded_amount",
)
SEARCH_HELP = "A segmint id, source id, email or phone; or part of an id, email, phone or name"
MATCH_COLUMNS = ("customer_id", "email", "phone", "first_name", "last_name", "city", "country")


# -- finding a customer -----------------------------------------------------------------------
def find_customer_id(store: Store, key: str) -> str | None:
    """The customer ``key`` names (:func:`segmint.identity.find_customer_id`), with the
    workspace's default phone country."""
    country = Settings(store.settings())["default_phone_country"]
    return identity.find_customer_id(store, key, country)


def search(store: Store, q: str) -> dict[str, Any]:
    """The customer ``q`` names, else those whose id, email, phone or name contain it;
    ``customer_id`` is set when exactly one customer matches."""
    q = q.strip()
    if not q:
        return {"q": q, "customer_id": None, "exact": False, "total": 0, "matches": []}
    customers = store.table("customers")
    exact = find_customer_id(store, q)
    if exact is not None:
        found = customers.filter(customers.customer_id == exact)
    else:
        found = customers.filter(_contains(customers, q))
    total = store.scalar(found.count())
    rows = store.run(_with_value(store, found.select(*MATCH_COLUMNS)).limit(MATCH_LIMIT))
    matches = rows.to_pylist()
    only = matches[0]["customer_id"] if total == 1 else None
    return {
        "q": q,
        "customer_id": only,
        "exact": exact is not None,
        "total": total,
        "matches": matches,
    }


def _contains(customers: ir.Table, q: str) -> ir.BooleanValue:
    needle = q.lower()
    name = customers.first_name.fill_null("") + " " + customers.last_name.fill_null("")
    found = (
        customers.customer_id.lower().contains(needle)
        | customers.email.fill_null("").lower().contains(needle)
        | name.lower().contains(needle)
    )
    digits = re.sub(r"\D", "", q)
    if len(digits) >= PHONE_DIGITS:
        found = found | customers.phone.fill_null("").re_replace(r"\D", "").contains(digits)
    return found


def _with_value(store: Store, found: ir.Table) -> ir.Table:
    """Matches with their orders and amount spent (when refreshed), the best customers first."""
    if not refreshed(store):
        return found.order_by("customer_id")
    features = stored_features(store).select(
        "customer_id", "number_of_orders", "amount_spent", "last_order_date"
    )
    joined = found.left_join(features, "customer_id").drop("customer_id_right")
    return joined.order_by([ibis.desc("amount_spent"), "customer_id"])


def canonical_id(store: Store, key: str) -> str | None:
    """``key`` when it is a current customer id, else the customer it names."""
    customers = store.table("customers")
    if store.scalar(customers.filter(customers.customer_id == key).count()):
        return key
    return find_customer_id(store, key)


# -- one customer ---------------------------------------------------------------------------
def customer(store: Store, customer_id: str, page: int = 1) -> dict[str, Any] | None:
    """Everything the customer page shows (None for an unknown id)."""
    customers = store.table("customers")
    rows = store.run(customers.filter(customers.customer_id == customer_id)).to_pylist()
    if not rows:
        return None
    row = rows[0]
    as_of = refreshed_as_of(store)
    return {
        "customer_id": customer_id,
        "name": " ".join(filter(None, (row["first_name"], row["last_name"]))) or None,
        "contact": _pick(row, CONTACT),
        "location": _pick(row, LOCATION),
        "declared": {**_pick(row, DECLARED), "attributes": _attributes(row["attributes"])},
        "identities": identities(store, customer_id),
        "as_of": as_of,
        **scored(store, customer_id, as_of),
        "predictions": predictions(store, customer_id, as_of),
        "orders": orders(store, customer_id),
        "timeline": timeline(store, customer_id, page),
    }


def refreshed_as_of(store: Store) -> date | None:
    """The as-of day of the latest refresh (None before the first)."""
    refreshes = store.table("refreshes")
    latest = refreshes.filter(refreshes.refresh_id == refreshes.refresh_id.max())
    return store.scalar(latest.as_of.max())


def _pick(row: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {n: row.get(n) for n in names}


def _attributes(text: str | None) -> dict[str, Any]:
    """Declared attributes (a JSON object; anything else is shown as it is)."""
    if not text:
        return {}
    try:
        parsed = json.loads(text)
    except ValueError:
        return {"attributes": text}
    return parsed if isinstance(parsed, dict) else {"attributes": parsed}


def identities(store: Store, customer_id: str) -> list[dict[str, Any]]:
    """Every identifier that finds the customer (email, phone, source ids)."""
    known = store.table("identities")
    mine = known.filter(known.customer_id == customer_id).select("kind", "identity")
    return store.run(mine.order_by(["kind", "identity"])).to_pylist()


def scored(store: Store, customer_id: str, as_of: date | None) -> dict[str, Any]:
    """Key features, engagement, and segments with their reasons, as of the latest refresh
    (none before it, nor for a customer imported since)."""
    if as_of is None:
        return {"features": None, "engagement": None, "segments": []}
    features = stored_features(store)
    names = [n for n in (*KEY_FEATURES, *ENGAGEMENT) if n in features.columns]
    found = store.run(features.filter(features.customer_id == customer_id).select(*names))
    values = found.to_pylist()[0] if found.num_rows else None
    return {
        "features": _pick(values, KEY_FEATURES) if values else None,
        "engagement": _pick(values, ENGAGEMENT) if values else None,
        "segments": [r.as_dict() for r in explain(store, customer_id).segments],
    }


def predictions(store: Store, customer_id: str, as_of: date | None) -> dict[str, Any] | None:
    """The customer's predictions from the latest ``segmint predict`` run as of ``as_of``
    (the one the refresh's features hold; any day without a refresh), or None."""
    runs = store.table("predictions")
    if as_of is None:
        latest = runs.filter(runs.run_id == runs.run_id.max())
    else:
        latest = latest_run_as_of(runs, as_of)
    mine = latest.filter(latest.customer_id == customer_id).select("as_of", *PREDICTIONS)
    rows = store.run(mine.limit(1)).to_pylist()
    return rows[0] if rows else None


def orders(store: Store, customer_id: str) -> dict[str, Any]:
    """The customer's orders, newest first (at most :data:`ORDER_LIMIT`), and their count."""
    table = store.table("orders")
    mine = table.filter(table.customer_id == customer_id)
    newest = mine.select(*ORDER_COLUMNS).order_by([ibis.desc("placed_at"), ibis.desc("order_id")])
    rows = store.run(newest.limit(ORDER_LIMIT)).to_pylist()
    total = len(rows) if len(rows) < ORDER_LIMIT else store.scalar(mine.count())
    return {"total": total, "rows": rows}


def entries(store: Store, customer_id: str) -> ir.Table:
    """Orders and events as one table of timeline entries."""
    orders, events = store.table("orders"), store.table("events")
    o = orders.filter(orders.customer_id == customer_id)
    e = events.filter(events.customer_id == customer_id)
    text = ibis.null("string")
    placed = o.select(
        kind=ibis.literal("order"),
        at=o.placed_at,
        type=ibis.literal("order"),
        label=o.order_number,
        status=o.status,
        product=text,
        campaign=text,
        channel=o.channel,
        amount=o.total,
        currency=o.currency,
        ref=o.order_id,
    )
    happened = e.select(
        kind=ibis.literal("event"),
        at=e.occurred_at,
        type=e.event_type,
        label=e.event_name,
        status=text,
        product=e.product_name,
        campaign=e.campaign,
        channel=e.channel,
        amount=e.value,
        currency=text,
        ref=e.event_id,
    )
    return placed.union(happened)


def timeline(store: Store, customer_id: str, page: int) -> dict[str, Any]:
    """A page of the customer's orders and events, newest first, with the counts, and the
    latest :data:`CHART_POINTS` entries for the chart."""
    table = entries(store, customer_id)
    newest = table.order_by([ibis.desc("at"), "kind", "ref"])
    counts = store.run(table.group_by("kind").aggregate(n=table.count())).to_pylist()
    by_kind = {r["kind"]: r["n"] for r in counts}
    total = sum(by_kind.values())
    page = max(1, page)
    shown = newest.limit(TIMELINE_PAGE, offset=(page - 1) * TIMELINE_PAGE)
    drawn = newest.select("at", "type", "label", "product", "campaign", "amount", "currency")
    return {
        "total": total,
        "orders": by_kind.get("order", 0),
        "events": by_kind.get("event", 0),
        "page": page,
        "pages": max(1, -(-total // TIMELINE_PAGE)),
        "rows": store.run(shown).to_pylist(),
        "points": store.run(drawn.limit(CHART_POINTS)).to_pylist(),
    }


def timeline_figure(points: list[dict[str, Any]]) -> charts.Figure:
    """Orders and each kind of event on its own lane over time."""
    lanes = ["order", *sorted({p["type"] for p in points} - {"order"})]
    data = []
    for i, lane in enumerate(lanes):
        mine = [p for p in points if p["type"] == lane]
        if not mine:
            continue
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": _lane(lane),
                "x": [p["at"] for p in mine],
                "y": [_lane(lane)] * len(mine),
                "text": [_point_text(p) for p in mine],
                "hovertemplate": "%{x}<br>%{text}<extra></extra>",
                "marker": {
                    "color": charts.PALETTE[i % len(charts.PALETTE)],
                    "size": 11 if lane == "order" else 8,
                    "symbol": "diamond" if lane == "order" else "circle",
                },
            }
        )
    axis = {
        "type": "category",
        "categoryorder": "array",
        "categoryarray": [_lane(x) for x in reversed(lanes)],
        "automargin": True,
    }
    layout = {
        "yaxis": axis,
        "xaxis": {"type": "date"},
        "showlegend": False,
        "height": 90 + 34 * len(data),
    }
    return {"data": data, "layout": layout}


def _lane(kind: str) -> str:
    return "Orders" if kind == "order" else kind.replace("_", " ")


def _point_text(point: dict[str, Any]) -> str:
    if point["type"] == "order":
        amount = f"{float(point['amount']):,.2f}" if point["amount"] is not None else "–"
        return f"Order {point['label']}: {amount} {point['currency'] or ''}".strip()
    detail = point["product"] or point["campaign"]
    return f"{point['label']}: {detail}" if detail else str(point["label"])


# -- routes ---------------------------------------------------------------------------------
def customer_url(customer_id: str, page: int = 1) -> str:
    path = "/customers/" + quote(customer_id, safe="")
    return f"{path}?page={page}" if page > 1 else path


@router.get("/customers", include_in_schema=False)
def customers_page(
    request: Request, q: str | None = None, session: Session = Depends(signed_in)
) -> Response:
    view = read_view(request, search, q or "")
    if view["customer_id"]:
        return RedirectResponse(customer_url(view["customer_id"]), status_code=303)
    shown = f"{TWIN}?q={quote(view['q'])}" if view["q"] else TWIN
    return render(request, "customers.html", session, view, shown, "Customers")


@router.get(TWIN, dependencies=[twin_key], tags=["views"], summary="The customer search's data")
def customers_twin(
    request: Request,
    q: str = Query("", description=SEARCH_HELP),
) -> JSONResponse:
    return twin(read_view(request, search, q))


@router.get("/customers/{key}", include_in_schema=False)
def customer_page(
    request: Request, key: str, page: int = 1, session: Session = Depends(signed_in)
) -> Response:
    customer_id = read_view(request, canonical_id, key)
    if customer_id is None:
        raise PageNotFound(f"No customer matches {key!r}.")
    if customer_id != key:
        return RedirectResponse(customer_url(customer_id, page), status_code=303)
    view = read_view(request, customer, customer_id, max(1, page))
    if view is None:
        raise PageNotFound(f"No customer matches {key!r}.")
    points = view["timeline"]["points"]
    figures = {"timeline": timeline_figure(points)} if points else {}
    return render(
        request,
        "customer.html",
        session,
        view,
        f"{TWIN}/{quote(customer_id, safe='')}" + (f"?page={page}" if page > 1 else ""),
        view["name"] or view["contact"]["email"] or customer_id,
        figures=figures,
        page_url=lambda p: customer_url(customer_id, p),
    )


@router.get(
    f"{TWIN}/{{key}}", dependencies=[twin_key], tags=["views"], summary="A customer page's data"
)
def customer_twin(
    request: Request,
    key: str = Path(description="A segmint customer id, a source id, an email or a phone"),
    page: int = Query(1, ge=1, description="The timeline's page"),
) -> JSONResponse:
    customer_id = read_view(request, canonical_id, key)
    view = read_view(request, customer, customer_id, page) if customer_id else None
    if view is None:
        raise ApiError(404, "no customer matches this key", field="key")
    return twin(view)
