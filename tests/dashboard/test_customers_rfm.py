"""The Customers and RFM grid pages: a customer found by any key, with the API's segments and
the orders table's orders; the grid's cells as pandas counts them from the stored scores; and
a click on a drawn cell lists exactly that cell's members."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import duckdb
import httpx
import pandas as pd
import pytest

from segmint.dashboard.pages import customers, rfm
from segmint.dashboard.web import NAV, templates


@pytest.fixture(scope="module")
def tables(dashboard) -> Any:
    """A reader of any table of the served workspace (its reference copy) as a DataFrame."""
    con = duckdb.connect(str(dashboard.reference), read_only=True)
    yield lambda name: con.table(name).df()
    con.close()


@pytest.fixture(scope="module")
def chosen(tables) -> pd.Series:
    """A customer with an email, a phone and the most orders (ties: the smallest id)."""
    people = tables("customers").merge(
        tables("customer_features")[["customer_id", "number_of_orders", "amount_spent"]],
        on="customer_id",
    )
    known = people[people.email.notna() & people.phone.notna()]
    return known.sort_values(["number_of_orders", "customer_id"], ascending=[False, True]).iloc[0]


def _twin(dashboard, path: str, **params: Any) -> httpx.Response:
    return httpx.get(dashboard.url + path, params=params, headers=dashboard.headers())


def _texts(page: Any, selector: str, script: str) -> list[Any]:
    return page.eval_on_selector_all(selector, script)


# -- the RFM grid ---------------------------------------------------------------------------
@pytest.mark.slow
def test_rfm_cells_are_the_stored_scores_counted(dashboard, tables):
    view = _twin(dashboard, "/v1/views/rfm").json()
    features = tables("customer_features")
    scored = features[features.r_score.notna()]
    counted = scored.groupby(["r_score", "f_score"]).agg(
        customers=("customer_id", "size"), revenue=("amount_spent", "sum")
    )
    assert len(view["cells"]) == 25
    for cell in view["cells"]:
        key = (cell["r"], cell["f"])
        expected = counted.loc[key] if key in counted.index else None
        assert cell["customers"] == (expected.customers if expected is not None else 0)
        revenue = float(expected.revenue) if expected is not None else 0.0
        assert cell["revenue"] == pytest.approx(revenue, abs=0.005)
        # the cell's group is the one the refresh gave each of its customers
        groups = set(scored[(scored.r_score == key[0]) & (scored.f_score == key[1])].rfm_group)
        assert groups <= {cell["group"]}
    assert view["unscored"]["customers"] == features.r_score.isna().sum() > 0
    assert view["totals"]["customers"] == len(features)
    # a group's customers are its segment's members
    members = tables("segment_members")
    sizes = members[members.family == "rfm"].groupby("segment").size()
    for group in view["groups"]:
        assert group["customers"] == sizes.get(group["segment"], 0), group["segment"]
    assert sum(len(g["cells"]) for g in view["groups"]) == 25


@pytest.mark.slow
def test_rfm_page_draws_the_grid_and_its_table(signed_in, dashboard):
    view = _twin(dashboard, "/v1/views/rfm").json()
    visit = signed_in("/rfm")
    assert visit.console_errors == [] and visit.outside_requests == []
    heatmap = visit.page.eval_on_selector(
        "#chart-rfm", "el => JSON.parse(JSON.stringify(el.data[0]))"
    )
    cells = {(c["r"], c["f"]): c for c in view["cells"]}
    assert heatmap["type"] == "heatmap" and heatmap["x"] == [1, 2, 3, 4, 5]
    assert heatmap["z"] == [[cells[r, f]["customers"] for f in range(1, 6)] for r in range(1, 6)]
    assert heatmap["customdata"][4][3] == "r5f4"
    layout = visit.page.eval_on_selector(
        "#chart-rfm",
        "el => ({shapes: el.layout.shapes.length, labels: el.layout.annotations.map(a => a.text)})",
    )
    assert layout == {"shapes": len(view["groups"]), "labels": [g["name"] for g in view["groups"]]}
    shown = _texts(
        visit.page,
        "#rfm-table td[data-cell]",
        "cells => cells.map(c => [c.dataset.cell,"
        " c.querySelector('[data-field=customers]').textContent.trim(),"
        " c.querySelector('[data-field=revenue]').textContent.trim()])",
    )
    assert shown == [
        [c["key"], f"{c['customers']:,}", f"{c['revenue']:,.2f}"] for c in view["cells"]
    ]
    visit.page.screenshot(path=str(dashboard.shots / "rfm.png"), full_page=True)


def _click_cell(page: Any, r: int, f: int) -> None:
    """Click the middle of cell (r, f) of the drawn heatmap, as a person would."""
    page.eval_on_selector("#chart-rfm", "el => el.scrollIntoView()")
    x, y = page.eval_on_selector(
        "#chart-rfm",
        """(el, [r, f]) => {
            const box = el.querySelector('.nsewdrag').getBoundingClientRect();
            const layout = el._fullLayout;
            return [box.left + layout.xaxis.l2p(f), box.top + layout.yaxis.l2p(r)];
        }""",
        [r, f],
    )
    page.mouse.click(x, y)


def _listed_members(page: Any) -> list[str]:
    """Every member id the cell page lists, following its pager to the last page."""
    ids: list[str] = []
    while True:
        ids += _texts(
            page, "#members-table tbody tr[data-customer]", "rs => rs.map(r => r.dataset.customer)"
        )
        following = page.locator("nav.pager a[rel=next]")
        if not following.count():
            return ids
        following.click()
        page.wait_for_load_state("networkidle")


@pytest.mark.slow
@pytest.mark.parametrize(("r", "f"), [(5, 4), (1, 1)])
def test_a_click_on_an_rfm_cell_lists_exactly_its_members(signed_in, dashboard, tables, r, f):
    visit = signed_in("/rfm")
    page = visit.page
    _click_cell(page, r, f)
    page.wait_for_url(f"{dashboard.url}/rfm/cell?r={r}&f={f}")
    page.wait_for_load_state("networkidle")
    assert visit.console_errors == []
    features = tables("customer_features")
    expected = features[(features.r_score == r) & (features.f_score == f)].customer_id
    listed = _listed_members(page)
    assert len(listed) == len(set(listed)) == len(expected) > 0
    assert set(listed) == set(expected)
    # the twin agrees, page by page, and the chosen cell is marked on the page's grid
    twin = _twin(dashboard, "/v1/views/rfm/cell", r=r, f=f).json()
    assert twin["customers"] == len(expected) == twin["members"]["total"]
    assert twin["revenue"] == pytest.approx(
        float(features[features.customer_id.isin(expected)].amount_spent.sum()), abs=0.005
    )
    if (r, f) == (5, 4):
        page.goto(f"{dashboard.url}/rfm/cell?r={r}&f={f}")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(dashboard.shots / "rfm_cell.png"), full_page=True)


@pytest.mark.slow
def test_rfm_cell_twin_checks_its_scores(dashboard):
    assert _twin(dashboard, "/v1/views/rfm/cell", r=6, f=1).status_code == 422
    assert _twin(dashboard, "/v1/views/rfm/cell", r=2).status_code == 422
    searched = _twin(dashboard, "/v1/views/rfm/cell", r=1, f=1, q="example", sort="email")
    rows = searched.json()["members"]["rows"]
    assert rows and all("example" in (m["email"] or "") for m in rows)
    assert [m["email"] for m in rows] == sorted(m["email"] for m in rows)[::-1]


# -- customers ------------------------------------------------------------------------------
@pytest.mark.slow
def test_search_by_id_email_or_phone_reaches_the_same_customer(signed_in, dashboard, chosen):
    target = f"{dashboard.url}/customers/{chosen.customer_id}"
    for key in (chosen.customer_id, chosen.email.upper(), chosen.phone, f" {chosen.email} "):
        visit = signed_in("/customers?q=" + quote(key, safe=""))
        assert visit.page.url == target, key
        assert visit.console_errors == []
    # the form, as a person uses it; and a key in the page's own address
    visit = signed_in("/customers")
    visit.page.fill("#customer-q", chosen.phone)
    visit.page.click("main form[role=search] button[type=submit]")
    visit.page.wait_for_url(target)
    assert signed_in("/customers/" + quote(chosen.email, safe="")).page.url == target
    twin = _twin(dashboard, "/v1/views/customers/" + quote(chosen.phone, safe="")).json()
    assert twin["customer_id"] == chosen.customer_id
    assert _twin(dashboard, "/v1/views/customers", q=chosen.email).json()["customer_id"] == (
        chosen.customer_id
    )


@pytest.mark.slow
def test_customer_page_shows_the_apis_segments_and_the_orders_tables_orders(
    signed_in, dashboard, tables, chosen
):
    visit = signed_in(f"/customers/{chosen.customer_id}")
    page = visit.page
    assert visit.console_errors == [] and visit.outside_requests == []
    api = _twin(dashboard, f"/v1/customers/{chosen.customer_id}/segments").json()
    shown = _texts(
        page, "#segments-table tbody tr[data-segment]", "rs => rs.map(r => r.dataset.segment)"
    )
    assert shown == [s["segment"] for s in api["segments"]] and shown
    members = tables("segment_members")
    assert set(shown) == set(members[members.customer_id == chosen.customer_id].segment)

    orders = tables("orders")
    mine = orders[orders.customer_id == chosen.customer_id].sort_values(
        ["placed_at", "order_id"], ascending=False
    )
    listed = _texts(
        page, "#orders-table tbody tr[data-order]", "rs => rs.map(r => r.dataset.order)"
    )
    assert listed == list(mine.order_id) and listed
    totals = _texts(
        page, "#orders-table tbody tr td:nth-child(3)", "ts => ts.map(t => t.textContent.trim())"
    )
    assert totals == [
        f"{float(t):,.2f} {c}" for t, c in zip(mine.total, mine.currency, strict=True)
    ]

    features = tables("customer_features").set_index("customer_id").loc[chosen.customer_id]
    assert (
        page.text_content("[data-field=number_of_orders]").strip()
        == f"{features.number_of_orders:,}"
    )
    assert (
        page.text_content("[data-field=amount_spent]").strip()
        == f"{float(features.amount_spent):,.2f}"
    )
    assert page.text_content("[data-field=churn_risk]").strip() == features.churn_risk
    rfm_link = page.get_attribute("[data-field=rfm] a", "href")
    assert rfm_link == f"/rfm/cell?r={features.r_score}&f={features.f_score}"

    # the timeline counts every order and event; its chart holds them
    events = tables("events")
    caption = page.text_content("#timeline-table caption")
    counted = (len(mine), int((events.customer_id == chosen.customer_id).sum()))
    assert caption.startswith(f"{counted[0]:,} orders and {counted[1]:,} events")
    drawn = page.eval_on_selector(
        "#chart-timeline", "el => el.data.reduce((n, t) => n + t.x.length, 0)"
    )
    assert drawn == min(sum(counted), customers.CHART_POINTS)
    page.screenshot(path=str(dashboard.shots / "customer.png"), full_page=True)


@pytest.mark.slow
def test_timeline_pages_hold_every_entry_once_newest_first(dashboard, tables, chosen):
    first = _twin(dashboard, f"/v1/views/customers/{chosen.customer_id}").json()["timeline"]
    rows = list(first["rows"])
    for number in range(2, first["pages"] + 1):
        page = _twin(dashboard, f"/v1/views/customers/{chosen.customer_id}", page=number).json()
        rows += page["timeline"]["rows"]
    assert len(rows) == first["total"] == len({(r["kind"], r["ref"]) for r in rows})
    times = [r["at"] for r in rows]
    assert times == sorted(times, reverse=True)
    events = tables("events")
    assert {r["ref"] for r in rows if r["kind"] == "event"} == set(
        events[events.customer_id == chosen.customer_id].event_id
    )


@pytest.mark.slow
def test_partial_search_lists_the_matches_and_none_says_so(signed_in, dashboard, tables):
    people = tables("customers")
    name = (people.first_name.fillna("") + " " + people.last_name.fillna("")).str.lower()
    last = people.last_name.dropna().value_counts().index[0]
    expected = people[
        people.customer_id.str.lower().str.contains(last.lower(), regex=False)
        | people.email.fillna("").str.lower().str.contains(last.lower(), regex=False)
        | name.str.contains(last.lower(), regex=False)
    ].customer_id
    assert len(expected) > 1
    view = _twin(dashboard, "/v1/views/customers", q=last).json()
    assert view["customer_id"] is None and view["total"] == len(expected)
    visit = signed_in("/customers?q=" + quote(last))
    listed = _texts(visit.page, "#matches-table tbody tr", "rs => rs.map(r => r.dataset.customer)")
    assert len(listed) == min(len(expected), customers.MATCH_LIMIT)
    assert set(listed) <= set(expected)
    visit.page.screenshot(path=str(dashboard.shots / "customers.png"), full_page=True)

    nobody = signed_in("/customers?q=" + quote("nobody-at-all@nowhere.invalid"))
    assert nobody.page.url.startswith(f"{dashboard.url}/customers?q=")
    assert "No customer matches" in nobody.page.text_content("[data-result=none]")
    assert _twin(dashboard, "/v1/views/customers/nobody-at-all").status_code == 404


# -- without data ---------------------------------------------------------------------------
def test_the_grid_is_the_one_the_refresh_recorded():
    recorded = {
        "rfm_grid": {
            str(r): ["lost", "lost", "at_risk", "at_risk", "champions"] for r in range(1, 6)
        }
    }
    grid = rfm.recorded_grid({"configuration": json.dumps(recorded)})
    assert grid[5] == ("lost", "lost", "at_risk", "at_risk", "champions")
    assert rfm.recorded_grid({"configuration": None})[5][4] == "champions"


def test_each_group_is_outlined_along_its_border_only():
    # an L-shaped group: its border has 6 corners and 8 unit sides
    cells = {
        (r, f): {"r": r, "f": f, "group": "a" if (r, f) in {(1, 1), (2, 1), (1, 2)} else "b"}
        for r in range(1, 6)
        for f in range(1, 6)
    }
    shape = rfm._outline({"group": "a"}, cells)
    assert shape["path"].count("M") == 8
    label = rfm._label({"group": "a", "name": "A"}, cells)
    assert (label["x"], label["y"]) == pytest.approx((1 - 0.46, 2 + 0.46))


def test_customer_template_renders_without_features():
    view = {
        "customer_id": "c_1",
        "name": None,
        "contact": dict.fromkeys(customers.CONTACT),
        "location": dict.fromkeys(customers.LOCATION),
        "declared": {"attributes": {"vip_since": "2024"}},
        "identities": [],
        "as_of": None,
        "features": None,
        "engagement": None,
        "predictions": None,
        "segments": [],
        "orders": {"total": 0, "rows": []},
        "timeline": {
            "total": 0,
            "orders": 0,
            "events": 0,
            "page": 1,
            "pages": 1,
            "rows": [],
            "points": [],
        },
    }
    html = templates.get_template("customer.html").render(
        view=view,
        session=None,
        nav=NAV,
        twin=None,
        title="c_1",
        current="/customers/c_1",
        figures={},
        page_url=lambda p: f"?page={p}",
    )
    assert "No orders." in html and "Vip since" in html and 'class="chart' not in html
