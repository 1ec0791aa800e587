"""RFM grid (``/rfm``): customers and revenue in each cell of recency score by frequency score,
with the named RFM groups of the grid the latest refresh used outlined; and one cell
(``/rfm/cell?r=5&f=4``): its members, where a click on the grid's cell leads."""

from __future__ import annotations

import json
from typing import Any

import ibis.expr.types as ir
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from segmint.api.errors import ApiError
from segmint.dashboard import charts
from segmint.dashboard.members import member_page
from segmint.dashboard.session import Session
from segmint.dashboard.web import (
    TWIN_PREFIX,
    PageNotFound,
    cached_view,
    page_url,
    refreshed,
    render,
    signed_in,
    twin,
    twin_key,
)
from segmint.features.rfm import RFM_GRID, RfmGrid
from segmint.features.tables import stored_features
from segmint.segments import latest_refresh, latest_versions
from segmint.store import Store

router = APIRouter()
TWIN = f"{TWIN_PREFIX}/rfm"
SCORES = (1, 2, 3, 4, 5)
#: Colours: customers per cell from light to the accent; outlines; the chosen cell.
COLOURSCALE = [[0.0, "#f2f6fb"], [1.0, charts.PALETTE[0]]]
OUTLINE = "#1d2430"
CHOSEN = "#f0a500"
#: The grid is smaller above a cell's members.
CELL_PAGE_HEIGHT = 440


# -- the grid ---------------------------------------------------------------------------------
def rfm_view(store: Store) -> dict[str, Any]:
    """Customers and revenue (amount spent) in each of the 25 R x F cells, and in each named
    group of the grid the latest refresh used; customers without orders have no scores."""
    if not refreshed(store):
        return {"as_of": None, "totals": None, "unscored": None, "cells": [], "groups": []}
    refresh = latest_refresh(store)
    grid = recorded_grid(refresh)
    features = stored_features(store)
    totals = _totals(store, features)
    found = {(r["r"], r["f"]): r for r in store.run(_per_cell(features)).to_pylist()}
    names = group_names(store)
    cells = []
    for r in reversed(SCORES):
        for f in SCORES:
            counted = found.get((r, f), {})
            customers, revenue = counted.get("customers", 0), counted.get("revenue") or 0.0
            cells.append(
                {
                    "key": cell_key(r, f),
                    "r": r,
                    "f": f,
                    "group": grid[r][f - 1],
                    "name": names.get(grid[r][f - 1]),
                    **_shares(customers, revenue, totals),
                }
            )
    return {
        "as_of": refresh["as_of"],
        "totals": totals,
        "unscored": _shares(totals["unscored"], totals["unscored_revenue"], totals),
        "cells": cells,
        "groups": _groups(cells, names),
    }


def recorded_grid(refresh: dict[str, Any]) -> RfmGrid:
    """The R x F grid a refresh used (from its recorded configuration; else the default)."""
    try:
        recorded = json.loads(refresh.get("configuration") or "{}").get("rfm_grid")
    except (ValueError, AttributeError):
        recorded = None
    if not recorded:
        return dict(RFM_GRID)
    return {int(r): tuple(row) for r, row in recorded.items()}


def _per_cell(features: ir.Table) -> ir.Table:
    scored = features.filter(features.r_score.notnull() & features.f_score.notnull())
    cell = {"r": scored.r_score.cast("int64"), "f": scored.f_score.cast("int64")}
    return scored.group_by(**cell).aggregate(
        customers=scored.count(), revenue=scored.amount_spent.sum().cast("float64")
    )


def _totals(store: Store, features: ir.Table) -> dict[str, Any]:
    unscored = features.r_score.isnull() | features.f_score.isnull()
    spent = features.amount_spent.fill_null(0)
    totals = features.aggregate(
        customers=features.count(),
        revenue=spent.sum().cast("float64"),
        unscored=unscored.sum(),
        unscored_revenue=spent.sum(where=unscored).cast("float64"),
    )
    row = store.run(totals).to_pylist()[0]
    return {k: (v or 0) for k, v in row.items()}


def _shares(customers: int, revenue: float, totals: dict[str, Any]) -> dict[str, Any]:
    return {
        "customers": customers,
        "revenue": revenue,
        "share_of_customers": customers / totals["customers"] if totals["customers"] else None,
        "share_of_revenue": revenue / totals["revenue"] if totals["revenue"] else None,
    }


def group_names(store: Store) -> dict[str, str]:
    """RFM group -> the name of its segment (``rfm_champions`` -> Champions)."""
    versions = latest_versions(store)
    rfm = versions.filter(versions.segment.startswith("rfm_")).select("segment", "name")
    return {r["segment"].removeprefix("rfm_"): r["name"] for r in store.run(rfm).to_pylist()}


def _groups(cells: list[dict[str, Any]], names: dict[str, str]) -> list[dict[str, Any]]:
    """Each named group with its cells, customers and revenue (best cells first)."""
    found: dict[str, dict[str, Any]] = {}
    for c in sorted(cells, key=lambda c: (-c["r"], -c["f"])):
        group = found.setdefault(
            c["group"],
            {
                "group": c["group"],
                "segment": f"rfm_{c['group']}",
                "name": names.get(c["group"], c["group"].replace("_", " ").capitalize()),
                "cells": [],
                "customers": 0,
                "revenue": 0.0,
                "share_of_customers": 0.0,
                "share_of_revenue": 0.0,
            },
        )
        group["cells"].append(c["key"])
        for k in ("customers", "revenue", "share_of_customers", "share_of_revenue"):
            group[k] += c[k] or 0
    return list(found.values())


def cell_key(r: int, f: int) -> str:
    return f"r{r}f{f}"


def cell_url(r: int, f: int) -> str:
    return f"/rfm/cell?r={r}&f={f}"


# -- the grid as a chart ----------------------------------------------------------------------
def grid_figure(
    view: dict[str, Any], chosen: tuple[int, int] | None = None, height: int = 560
) -> charts.Figure:
    """The heatmap of customers per cell (hover: revenue and group), each named group
    outlined and labelled, ``chosen`` cell marked; a click on a cell opens its members."""
    cells = {(c["r"], c["f"]): c for c in view["cells"]}
    heatmap = {
        "type": "heatmap",
        "x": list(SCORES),
        "y": list(SCORES),
        "z": [[cells[r, f]["customers"] for f in SCORES] for r in SCORES],
        "customdata": [[cell_key(r, f) for f in SCORES] for r in SCORES],
        "text": [[_hover(cells[r, f]) for f in SCORES] for r in SCORES],
        "hovertemplate": "%{text}<extra></extra>",
        "texttemplate": "%{z:,}",
        "colorscale": COLOURSCALE,
        "xgap": 2,
        "ygap": 2,
        "colorbar": {"title": {"text": "Customers"}},
    }
    shapes = [_outline(g, cells) for g in view["groups"]]
    if chosen is not None:
        r, f = chosen
        shapes.append(
            {
                "type": "rect",
                "x0": f - 0.5,
                "x1": f + 0.5,
                "y0": r - 0.5,
                "y1": r + 0.5,
                "line": {"color": CHOSEN, "width": 5},
            }
        )
    axis = {"tickvals": list(SCORES), "range": [0.5, 5.5], "fixedrange": True, "showgrid": False}
    layout = {
        "xaxis": {**axis, "title": {"text": "Frequency score (F): 1 = one order, 5 = most"}},
        "yaxis": {**axis, "title": {"text": "Recency score (R): 5 = ordered most recently"}},
        "shapes": shapes,
        "annotations": [_label(g, cells) for g in view["groups"]],
        "height": height,
    }
    links = {c["key"]: cell_url(c["r"], c["f"]) for c in view["cells"]}
    return {"data": [heatmap], "layout": layout, "links": links}


def _hover(cell: dict[str, Any]) -> str:
    return (
        f"R {cell['r']} · F {cell['f']}: {cell['name'] or cell['group']}<br>"
        f"{cell['customers']:,} customers ({(cell['share_of_customers'] or 0):.1%})<br>"
        f"Revenue {cell['revenue']:,.2f} ({(cell['share_of_revenue'] or 0):.1%})"
    )


def _outline(group: dict[str, Any], cells: dict[tuple[int, int], dict[str, Any]]) -> dict:
    """The group's border: every cell side whose neighbour is in another group."""
    mine = {(c["r"], c["f"]) for c in cells.values() if c["group"] == group["group"]}
    sides = []
    for r, f in sorted(mine):
        left, right, low, high = f - 0.5, f + 0.5, r - 0.5, r + 0.5
        if (r, f - 1) not in mine:
            sides.append((left, low, left, high))
        if (r, f + 1) not in mine:
            sides.append((right, low, right, high))
        if (r - 1, f) not in mine:
            sides.append((left, low, right, low))
        if (r + 1, f) not in mine:
            sides.append((left, high, right, high))
    path = " ".join(f"M{x0},{y0} L{x1},{y1}" for x0, y0, x1, y1 in sides)
    return {
        "type": "path",
        "path": path,
        "name": group["group"],
        "line": {"color": OUTLINE, "width": 2.5},
    }


def _label(group: dict[str, Any], cells: dict[tuple[int, int], dict[str, Any]]) -> dict:
    """The group's name in the top left corner of its top left cell."""
    r, minus_f = max((c["r"], -c["f"]) for c in cells.values() if c["group"] == group["group"])
    f = -minus_f
    return {
        "x": f - 0.46,
        "y": r + 0.46,
        "xref": "x",
        "yref": "y",
        "text": group["name"],
        "showarrow": False,
        "xanchor": "left",
        "yanchor": "top",
        "font": {"size": 11, "color": OUTLINE},
        "bgcolor": "rgba(255,255,255,0.85)",
    }


# -- one cell ---------------------------------------------------------------------------------
def cell_view(
    store: Store, r: int, f: int, q: str | None, sort: str, order: str, page: int
) -> dict[str, Any] | None:
    """One cell: its group, customers and revenue, and a page of its members (None before
    the first refresh)."""
    if not refreshed(store):
        return None
    grid = recorded_grid(latest_refresh(store))
    features = stored_features(store)
    mine = features.filter((features.r_score == r) & (features.f_score == f))
    size = mine.aggregate(customers=mine.count(), revenue=mine.amount_spent.sum().cast("float64"))
    counted = store.run(size).to_pylist()[0]
    group = grid[r][f - 1]
    return {
        "key": cell_key(r, f),
        "r": r,
        "f": f,
        "group": group,
        "segment": f"rfm_{group}",
        "name": group_names(store).get(group, group.replace("_", " ").capitalize()),
        "customers": counted["customers"],
        "revenue": counted["revenue"] or 0.0,
        "members": members(store, mine, q, sort, order, page),
    }


def members(
    store: Store, mine: ir.Table, q: str | None, sort: str, order: str, page: int
) -> dict[str, Any]:
    """A page of ``mine`` (rows of the features) with their scores (:func:`member_page`)."""
    values = mine.select(
        "customer_id",
        "number_of_orders",
        "amount_spent",
        "last_order_date",
        "r_score",
        "f_score",
        "m_score",
    )
    return member_page(store, values, q, sort, order, page)


# -- routes ---------------------------------------------------------------------------------
@router.get("/rfm", include_in_schema=False)
def rfm_page(request: Request, session: Session = Depends(signed_in)) -> HTMLResponse:
    view = cached_view(request, rfm_view)
    figures = {"grid": grid_figure(view)} if view["cells"] else {}
    return render(request, "rfm.html", session, view, TWIN, "RFM grid", figures=figures)


@router.get(TWIN, dependencies=[twin_key], tags=["views"], summary="The RFM grid's data")
def rfm_twin(request: Request) -> JSONResponse:
    return twin(cached_view(request, rfm_view))


@router.get("/rfm/cell", include_in_schema=False)
def cell_page(
    request: Request,
    r: int = 0,
    f: int = 0,
    q: str | None = None,
    sort: str = "amount_spent",
    order: str = "desc",
    page: int = 1,
    session: Session = Depends(signed_in),
) -> HTMLResponse:
    if r not in SCORES or f not in SCORES:
        raise PageNotFound("An RFM cell has a recency score r and a frequency score f of 1-5.")
    view = cached_view(request, cell_view, r, f, q or None, sort, order, page)
    if view is None:
        raise PageNotFound("No RFM scores yet: run `segmint refresh`.")
    params = {"r": r, "f": f, "q": q, "sort": sort, "order": order, "page": page}
    grid = cached_view(request, rfm_view)
    return render(
        request,
        "rfm.html",
        session,
        view,
        page_url(f"{TWIN}/cell", params),
        f"RFM cell R {r} · F {f}: {view['name']}",
        figures={"grid": grid_figure(grid, (r, f), CELL_PAGE_HEIGHT)},
        url=lambda **changed: page_url("/rfm/cell", {**params, "page": 1, **changed}),
        page_url=lambda p: page_url("/rfm/cell", {**params, "page": p}),
    )


@router.get(
    f"{TWIN}/cell", dependencies=[twin_key], tags=["views"], summary="An RFM cell's members"
)
def cell_twin(
    request: Request,
    r: int = Query(ge=1, le=5, description="Recency score"),
    f: int = Query(ge=1, le=5, description="Frequency score"),
    q: str | None = None,
    sort: str = "amount_spent",
    order: str = "desc",
    page: int = Query(1, ge=1),
) -> JSONResponse:
    view = cached_view(request, cell_view, r, f, q or None, sort, order, page)
    if view is None:
        raise ApiError(404, "no RFM scores before the first refresh")
    return twin(view)
