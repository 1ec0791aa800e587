"""Movement (``/movement``): how the customers of an exclusive family moved between its
segments from one observed day to another, as a Sankey diagram, the named flows and the
matrix (``segmint movement``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from segmint.dashboard import charts
from segmint.dashboard.session import Session
from segmint.dashboard.web import TWIN_PREFIX, cached_view, render, signed_in, twin, twin_key
from segmint.errors import ConfigError, SegmintError
from segmint.history import observed_days, observed_on_or_before
from segmint.movement import NONE, Movement, family_groups, movement
from segmint.segments import latest_versions
from segmint.store import Store

router = APIRouter()
TWIN = f"{TWIN_PREFIX}/movement"
DEFAULT_GROUP = "rfm"
#: The default first day is the observed day closest to this many days before the second.
DEFAULT_SPAN_DAYS = 30
#: Node colours: one per segment (the same on both days), grey for ``(none)``.
COLOURS = (
    *charts.PALETTE,
    "#e07a5f",
    "#3d405b",
    "#81b29a",
    "#b5838d",
    "#5e548e",
)
NONE_COLOUR = "#9aa5b4"


def movement_view(
    store: Store, group: str | None, start: date | None, end: date | None
) -> dict[str, Any]:
    """The flows of ``group`` (default: rfm) from ``start`` to ``end`` (default: the latest
    observed day, and the observed day about a month before it). A day that was not
    observed takes the memberships of the latest observed day before it, with a note."""
    days, groups = observed_days(store), family_groups(store)
    found: dict[str, Any] = {"groups": groups, "observed_days": days, "notes": []}
    if len(days) < 2 or not groups:
        return {**found, "group": group, "from": None, "to": None, "missing": _missing(days)}
    group = group or (DEFAULT_GROUP if DEFAULT_GROUP in groups else groups[0])
    to_day = _observed(store, end, found["notes"]) if end else days[-1]
    from_day = _observed(store, start, found["notes"]) if start else default_start(days, to_day)
    if not from_day < to_day:
        raise ConfigError(f"the first day ({from_day}) must be before the second ({to_day})")
    moved = movement(store, group, from_day, to_day)
    shown = {f["from_segment"] for f in moved.flows} | {f["to_segment"] for f in moved.flows}
    names = {s: n for s, n in segment_names(store).items() if s in shown}
    flows = [
        {
            **f,
            "from_name": names.get(f["from_segment"], f["from_segment"]),
            "to_name": names.get(f["to_segment"], f["to_segment"]),
        }
        for f in moved.flows
    ]
    return {
        **found,
        "group": group,
        "from": from_day,
        "to": to_day,
        "missing": None,
        "sizes": _sizes(moved),
        "names": names,
        "flows": flows,
        "named_flows": [f for f in flows if f["flow"] and f["customers"]],
        "matrix": _matrix(moved, "customers"),
        "revenue_matrix": _matrix(moved, "revenue"),
    }


def _missing(days: list[date]) -> str:
    if not days:
        return "No segment history yet: run `segmint refresh`, then `segmint backfill`."
    return (
        f"Only one observed day ({days[0]}): run `segmint backfill --since 6m` to record the "
        "past, or refresh again on a later day."
    )


def _observed(store: Store, day: date, notes: list[str]) -> date:
    """``day``, or the observed day whose memberships hold on it (with a note)."""
    observed = observed_on_or_before(store, day)
    if observed != day:
        notes.append(f"{day} was not observed: memberships as of {observed} are used")
    return observed


def default_start(days: list[date], end: date) -> date:
    """The observed day before ``end`` closest to a month before it (the earlier on a tie)."""
    earlier = [d for d in days if d < end]
    if not earlier:
        raise ConfigError(f"no observed day before {end}", hint="pick a later day, or backfill")
    return min(earlier, key=lambda d: (abs((end - d).days - DEFAULT_SPAN_DAYS), d))


def segment_names(store: Store) -> dict[str, str]:
    """Slug -> name of the latest refresh's segments."""
    rows = store.run(latest_versions(store).select("segment", "name")).to_pylist()
    return {r["segment"]: r["name"] for r in rows}


def _sizes(moved: Movement) -> dict[str, int]:
    """Customers in the family on each day (``(none)`` excluded)."""
    flows = moved.flows
    return {
        "from": sum(f["customers"] for f in flows if f["from_segment"] != NONE),
        "to": sum(f["customers"] for f in flows if f["to_segment"] != NONE),
    }


def _matrix(moved: Movement, value: str) -> dict[str, Any]:
    """The movement's matrix of ``value`` as columns and rows of cells."""
    table = moved.matrix(value)
    columns = [c for c in (table[0] if table else {}) if c not in ("from \\ to", "total")]
    rows = [
        {"from_segment": r["from \\ to"], "cells": [r[c] for c in columns], "total": r["total"]}
        for r in table
    ]
    totals = [sum(r["cells"][i] for r in rows) for i in range(len(columns))]
    return {"columns": columns, "rows": rows, "column_totals": totals}


# -- the Sankey diagram ---------------------------------------------------------------------
def sankey(view: dict[str, Any]) -> charts.Figure:
    """Left nodes: segments on the first day; right nodes: on the second; links: customers
    (their revenue in between in the hover). A click on a segment's node opens its page."""
    flows, names = view["flows"], view["names"]
    left, right = _in_order(flows, "from_segment"), _in_order(flows, "to_segment")
    colours = _colours(left + right)
    nodes = [(s, view["from"]) for s in left] + [(s, view["to"]) for s in right]
    source = {s: i for i, s in enumerate(left)}
    target = {s: len(left) + i for i, s in enumerate(right)}
    return {
        "data": [
            {
                "type": "sankey",
                "arrangement": "snap",
                "valueformat": ",d",
                "node": {
                    "label": [f"{names.get(s, s)} on {day}" for s, day in nodes],
                    "customdata": [s if s in names else "" for s, _ in nodes],
                    "color": [colours[s] for s, _ in nodes],
                    "pad": 14,
                    "thickness": 16,
                    "hovertemplate": "%{label}<br>%{value:,} customers<extra></extra>",
                },
                "link": {
                    "source": [source[f["from_segment"]] for f in flows],
                    "target": [target[f["to_segment"]] for f in flows],
                    "value": [f["customers"] for f in flows],
                    "customdata": [round(f["revenue"], 2) for f in flows],
                    "color": [_fade(colours[f["from_segment"]]) for f in flows],
                    "hovertemplate": "%{source.label} → %{target.label}<br>%{value:,} customers"
                    "<br>revenue in between: %{customdata:,.2f}<extra></extra>",
                },
            }
        ],
        "layout": {"height": 620, "margin": {"t": 16, "r": 16, "b": 16, "l": 16}},
        "links": {s: f"/segments/{s}" for s in names},
    }


def _in_order(flows: list[dict[str, Any]], side: str) -> list[str]:
    """The segments on one ``side`` of the flows, largest first, ``(none)`` last."""
    size: dict[str, int] = {}
    for flow in flows:
        size[flow[side]] = size.get(flow[side], 0) + flow["customers"]
    return sorted(size, key=lambda s: (s == NONE, -size[s], s))


def _colours(segments: list[str]) -> dict[str, str]:
    found: dict[str, str] = {NONE: NONE_COLOUR}
    for segment in sorted(set(segments) - {NONE}):
        found[segment] = COLOURS[(len(found) - 1) % len(COLOURS)]
    return found


def _fade(colour: str, alpha: float = 0.35) -> str:
    """``#rrggbb`` as ``rgba(r,g,b,alpha)``."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


# -- routes ---------------------------------------------------------------------------------
FromDay = Query(None, alias="from", description="First day (YYYY-MM-DD)")
ToDay = Query(None, alias="to", description="Second day (YYYY-MM-DD)")
Group = Query(None, description="A family: rfm, lifecycle, value, engagement, cluster...")


@router.get("/movement", include_in_schema=False)
def movement_page(
    request: Request,
    group: str | None = Group,
    start: date | None = FromDay,
    end: date | None = ToDay,
    session: Session = Depends(signed_in),
) -> HTMLResponse:
    params = {"group": group, "from": start, "to": end}
    try:
        view = cached_view(request, movement_view, group or None, start, end)
    except SegmintError as exc:
        # The form again, with what was wrong (the twin answers the error shape).
        error = exc.message + (f" ({exc.hint})" if exc.hint else "")
        choices = cached_view(request, movement_view, None, None, None)
        page = render(
            request,
            "movement.html",
            session,
            choices,
            TWIN,
            "Movement",
            error=error,
            params=params,
            figure=None,
        )
        page.status_code = 400
        return page
    figure = sankey(view) if view["missing"] is None else None
    return render(
        request,
        "movement.html",
        session,
        view,
        _twin_url(view),
        "Movement",
        figure=figure,
        params=params,
        error=None,
    )


@router.get(TWIN, dependencies=[twin_key], tags=["views"], summary="The movement page's data")
def movement_twin(
    request: Request,
    group: str | None = Group,
    start: date | None = FromDay,
    end: date | None = ToDay,
) -> JSONResponse:
    return twin(cached_view(request, movement_view, group or None, start, end))


def _twin_url(view: dict[str, Any]) -> str:
    if view["missing"] is not None:
        return TWIN
    return f"{TWIN}?group={view['group']}&from={view['from']}&to={view['to']}"
