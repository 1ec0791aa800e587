"""Segments (``/segments``): every segment with its size, shares, size history and key KPIs
against the baseline, filtered and sorted; and one segment (``/segments/{slug}``): its
definition and play, size history, KPIs, overlap, members and export buttons."""

from __future__ import annotations

from typing import Any

import ibis
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from segmint.activation.destinations import DESTINATIONS
from segmint.api.errors import ApiError
from segmint.api.routes.exports import export_response
from segmint.dashboard import charts
from segmint.dashboard.members import member_page
from segmint.dashboard.session import Session
from segmint.dashboard.web import (
    TWIN_PREFIX,
    PageNotFound,
    cached_view,
    csrf_ok,
    form_fields,
    page_url,
    refreshed,
    render,
    service_of,
    signed_in,
    twin,
    twin_key,
)
from segmint.history import INTERVALS, OBSERVATIONS, on_each_day, segment_history
from segmint.scorecard import BASELINE, kpi_windows, segment_kpis
from segmint.segments import latest_refresh, latest_versions, segment_sizes
from segmint.store import Store

router = APIRouter()
TWIN = f"{TWIN_PREFIX}/segments"
#: The KPIs the segments table shows, each with its lift over all customers.
KEY_KPIS = ("conversion_rate", "revenue_per_customer", "churn_rate")
SORTABLE = ("name", "customers", "share_of_customers", "share_of_revenue", *KEY_KPIS)


# -- the list ---------------------------------------------------------------------------------
def segments(store: Store) -> dict[str, Any]:
    """Every segment of the latest refresh with its shares, sizes over time and key KPIs."""
    if not refreshed(store):
        return {"as_of": None, "kpi_window": None, "baseline": {}, "segments": []}
    refresh = latest_refresh(store)
    rows = store.run(segment_sizes(store)).to_pylist()
    sizes = sizes_by_day(store)
    window, kpis = _kpis(store, [r["segment"] for r in rows], refresh)
    shown = []
    for row in rows:
        found = kpis.get(row["segment"], {})
        shown.append(
            {
                "segment": row["segment"],
                "name": row["name"],
                "family": row["family"],
                "customers": row["customers"],
                "share_of_customers": row["share_of_customers"],
                "share_of_revenue": row["share_of_revenue"],
                "sizes": sizes.get(row["segment"], []),
                **{k: found.get(k) for k in KEY_KPIS},
                **{f"lift_{k}": found.get(f"lift_{k}") for k in KEY_KPIS},
            }
        )
    return {
        "as_of": refresh["as_of"] if refresh else None,
        "kpi_window": window,
        "baseline": {k: kpis.get(BASELINE, {}).get(k) for k in KEY_KPIS},
        "segments": shown,
    }


def sizes_by_day(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Each segment's size on every observed day (its recorded history)."""
    days = store.table(OBSERVATIONS).select(day="as_of")
    intervals = store.table(INTERVALS)
    covering = on_each_day(intervals, days)
    counts = covering.group_by(["segment", "day"]).aggregate(customers=covering.count())
    found: dict[str, list[dict[str, Any]]] = {}
    for row in store.run(counts.order_by(["segment", "day"])).to_pylist():
        size = {"day": row["day"], "customers": row["customers"]}
        found.setdefault(row["segment"], []).append(size)
    return found


def _kpis(
    store: Store, slugs: list[str], refresh: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, dict[str, Any]]]:
    """KPIs over the default window ending at the latest refresh (none without history)."""
    if refresh is None or not store.scalar(store.table(OBSERVATIONS).count()):
        return None, {}
    window = kpi_windows(refresh["as_of"])[0]
    records = segment_kpis(store, slugs, window)
    return {"start": window.start, "end": window.end}, {r["segment"]: r for r in records}


def filtered(
    view: dict[str, Any], family: str | None, q: str | None, sort: str, order: str
) -> dict[str, Any]:
    """The list as the page shows it: one family, a name search, sorted."""
    rows = view["segments"]
    if family:
        rows = [r for r in rows if (r["family"] or "other") == family]
    if q:
        needle = q.lower()
        rows = [r for r in rows if needle in r["name"].lower() or needle in r["segment"]]
    if sort in SORTABLE:
        present = [r for r in rows if r[sort] is not None]
        missing = [r for r in rows if r[sort] is None]
        present.sort(key=lambda r: r[sort], reverse=order == "desc")
        rows = present + missing
    families = sorted({r["family"] or "other" for r in view["segments"]})
    return {**view, "segments": rows, "families": families}


@router.get("/segments", include_in_schema=False)
def segments_page(
    request: Request,
    family: str | None = None,
    q: str | None = None,
    sort: str = "customers",
    order: str = "desc",
    session: Session = Depends(signed_in),
) -> HTMLResponse:
    view = filtered(cached_view(request, segments), family, q, sort, order)
    figures = {r["segment"]: spark(r["sizes"]) for r in view["segments"]}
    params = {"family": family, "q": q, "sort": sort, "order": order}
    return render(
        request,
        "segments.html",
        session,
        view,
        page_url(TWIN, params),
        "Segments",
        figures=figures,
        params=params,
        url=lambda **changed: page_url("/segments", {**params, **changed}),
    )


@router.get(TWIN, dependencies=[twin_key], tags=["views"], summary="The segments page's data")
def segments_twin(
    request: Request,
    family: str | None = None,
    q: str | None = None,
    sort: str = "customers",
    order: str = "desc",
) -> JSONResponse:
    return twin(filtered(cached_view(request, segments), family, q, sort, order))


def spark(sizes: list[dict[str, Any]]) -> charts.Figure:
    return charts.sparkline([s["day"] for s in sizes], [s["customers"] for s in sizes])


# -- one segment -----------------------------------------------------------------------------
def segment(
    store: Store, slug: str, q: str | None, sort: str, order: str, page: int
) -> dict[str, Any] | None:
    """One segment's page, or None when the latest refresh has no such segment."""
    if not refreshed(store):
        return None
    versions = store.run(latest_versions(store)).to_pylist()
    found = next((v for v in versions if v["segment"] == slug), None)
    if found is None:
        return None
    refresh = latest_refresh(store)
    sizes = store.run(segment_sizes(store).filter(ibis._.segment == slug)).to_pylist()
    window, kpis = _kpis(store, [slug], refresh)
    return {
        "segment": slug,
        "definition": {
            k: found.get(k)
            for k in ("name", "family", "rule", "description", "action", "origin", "version")
        },
        "size": sizes[0] if sizes else None,
        "history": segment_history(store, slug) if window else [],
        "kpi_window": window,
        "kpis": [kpis[k] for k in (slug, BASELINE) if k in kpis],
        "overlap": overlap_with_others(store, slug),
        "members": members(store, slug, q, sort, order, page),
        "destinations": sorted(DESTINATIONS),
    }


def overlap_with_others(store: Store, slug: str, limit: int = 12) -> list[dict[str, Any]]:
    """The segments sharing most of this one's members: shared customers, share of this
    segment, share of the other."""
    members = store.table("segment_members").select("customer_id", "segment")
    mine = members.filter(members.segment == slug).select("customer_id")
    others = members.filter(members.segment != slug)
    shared = others.join(mine, "customer_id")
    counts = shared.group_by("segment").aggregate(shared=shared.count())
    sizes = others.group_by("segment").aggregate(other_customers=others.count())
    total = store.scalar(mine.count())
    names = latest_versions(store).select("segment", "name")
    joined = counts.join(sizes, "segment").join(names, "segment")
    rows = store.run(joined.order_by([ibis.desc("shared"), "segment"]).limit(limit)).to_pylist()
    return [
        {
            "segment": r["segment"],
            "name": r["name"],
            "shared": r["shared"],
            "share_of_this": r["shared"] / total if total else None,
            "share_of_other": r["shared"] / r["other_customers"],
        }
        for r in rows
    ]


def members(
    store: Store, slug: str, q: str | None, sort: str, order: str, page: int
) -> dict[str, Any]:
    """A page of the segment's members (:func:`member_page`)."""
    members = store.table("segment_members")
    mine = members.filter(members.segment == slug).select("customer_id")
    features = store.table("customer_features").select(
        "customer_id", "number_of_orders", "amount_spent", "last_order_date"
    )
    rows = mine.left_join(features, "customer_id").drop("customer_id_right")
    return member_page(store, rows, q, sort, order, page)


@router.get("/segments/{slug}", include_in_schema=False)
def segment_page(
    request: Request,
    slug: str,
    q: str | None = None,
    sort: str = "amount_spent",
    order: str = "desc",
    page: int = 1,
    session: Session = Depends(signed_in),
) -> HTMLResponse:
    view = cached_view(request, segment, slug, q or None, sort, order, page)
    if view is None:
        raise PageNotFound(f"There is no segment {slug!r} in the latest refresh.")
    params = {"q": q, "sort": sort, "order": order, "page": page}
    history = view["history"]
    figures = {
        "history": charts.lines(
            [h["date"] for h in history], {"Customers": [h["size"] for h in history]}
        )
    }
    return render(
        request,
        "segment.html",
        session,
        view,
        page_url(f"{TWIN}/{slug}", params),
        view["definition"]["name"],
        figures=figures,
        url=lambda **changed: page_url(f"/segments/{slug}", {**params, "page": 1, **changed}),
        page_url=lambda p: page_url(f"/segments/{slug}", {**params, "page": p}),
    )


@router.get(
    f"{TWIN}/{{slug}}", dependencies=[twin_key], tags=["views"], summary="A segment page's data"
)
def segment_twin(
    request: Request,
    slug: str = Path(description="The segment's slug"),
    q: str | None = None,
    sort: str = "amount_spent",
    order: str = "desc",
    page: int = Query(1, ge=1),
) -> JSONResponse:
    return twin(_segment_or_404(request, slug, q, sort, order, page))


@router.post("/segments/{slug}/export", include_in_schema=False)
async def export_button(
    request: Request, slug: str, session: Session = Depends(signed_in)
) -> Response:
    """An export button: the destination's file as a download (needs a write key)."""
    fields = await form_fields(request)
    if not csrf_ok(request, session, fields):
        return HTMLResponse("Error: the form's CSRF token is missing or wrong", status_code=403)
    if not session.allows("write"):
        return HTMLResponse("Error: exports need a write key; sign in with one", status_code=403)
    return export_response(service_of(request), slug, fields.get("to", ""))


def _segment_or_404(
    request: Request, slug: str, q: str | None, sort: str, order: str, page: int
) -> dict[str, Any]:
    view = cached_view(request, segment, slug, q or None, sort, order, page)
    if view is None:
        raise ApiError(404, f"no segment {slug!r} in the last refresh", field="slug")
    return view
