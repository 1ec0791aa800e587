"""The Movement, Models and Campaigns pages: what they show equals their JSON twins, and the
numbers equal what pandas computes from the workspace's own tables."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from typing import Any

import duckdb
import httpx
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from segmint.api.app import create_app
from segmint.api.keys import create_key
from segmint.api.service import Service
from segmint.dashboard.pages import campaigns, models, movement
from segmint.dashboard.web import NAV, templates
from segmint.validate import validate_model
from segmint.workspace import Workspace

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tables(dashboard) -> Any:
    """A reader of any table of the served workspace (its reference copy) as a DataFrame."""
    con = duckdb.connect(str(dashboard.reference), read_only=True)
    yield lambda name: con.table(name).df()
    con.close()


def _twin(dashboard, path: str, **params: Any) -> httpx.Response:
    return httpx.get(dashboard.url + path, params=params, headers=dashboard.headers())


def _day(value: Any) -> date:
    return pd.Timestamp(value).date()


def _members_on(intervals: pd.DataFrame, family: str, day: date) -> pd.DataFrame:
    """Who was in a segment of ``family`` on ``day``: entered <= day < exited (or still in)."""
    entered = intervals.entered.map(_day)
    exited = intervals.exited.map(lambda v: None if pd.isna(v) else _day(v))
    covers = (entered <= day) & exited.map(lambda e: e is None or e > day)
    return intervals[(intervals.family == family) & covers]


def _figure(page: Any, selector: str) -> list[dict[str, Any]]:
    """The traces Plotly drew in a chart."""
    return page.eval_on_selector(selector, "el => JSON.parse(JSON.stringify(el.data))")


def test_the_pages_say_which_command_fills_them_on_an_empty_workspace(tmp_path):
    with Workspace(tmp_path / "empty.duckdb") as workspace:
        store = workspace.store
        views = {
            "movement": movement.movement_view(store, None, None, None),
            "models": models.models_view(store),
            "campaigns": campaigns.campaigns_view(store),
        }
    assert views["movement"]["missing"].startswith("No segment history yet")
    assert [m["command"] for m in views["models"]["missing"]] == [
        "segmint validate-model",
        "segmint predict",
        "segmint cluster",
    ]
    assert views["campaigns"] == {"campaigns": []}
    context = {"session": None, "nav": NAV, "twin": None, "params": {}, "error": None}
    shown = {
        name: templates.env.get_template(f"{name}.html").render(
            **context, view=view, current=f"/{name}", title=name, figure=None, figures={}
        )
        for name, view in views.items()
    }
    assert "segmint backfill" in shown["movement"] and 'class="chart' not in shown["movement"]
    assert shown["models"].count("<li data-run=") == 3
    assert "segmint campaign create" in shown["campaigns"]


# -- movement -------------------------------------------------------------------------------
def test_sankey_links_add_up_to_the_family_on_each_day(signed_in, dashboard, tables):
    view = _twin(dashboard, "/v1/views/movement").json()
    assert view["group"] == "rfm" and view["from"] < view["to"] == view["observed_days"][-1]
    visit = signed_in("/movement")
    assert visit.console_errors == [] and visit.outside_requests == []
    sankey = _figure(visit.page, "#chart-movement")[0]
    labels, link = sankey["node"]["label"], sankey["link"]
    sources = [labels[i] for i in link["source"]]
    targets = [labels[i] for i in link["target"]]

    intervals = tables("segment_intervals")
    start, end = date.fromisoformat(view["from"]), date.fromisoformat(view["to"])
    for day, ends, side in ((start, sources, "from"), (end, targets, "to")):
        members = _members_on(intervals, "rfm", day)
        expected = members.groupby("segment").size()
        drawn: dict[str, int] = {}
        for node, value in zip(ends, link["value"], strict=True):
            drawn[node] = drawn.get(node, 0) + value
        for segment, customers in expected.items():
            assert drawn.pop(f"{view['names'].get(segment, segment)} on {day}") == customers
        assert set(drawn) <= {f"(none) on {day}"}  # the rest: outside the family
        assert view["sizes"][side] == len(members) == expected.sum() > 0
    # the hover's revenue is the twin's, link by link
    assert link["customdata"] == [round(f["revenue"], 2) for f in view["flows"]]


def test_movement_tables_show_the_twins_numbers(signed_in, dashboard):
    view = _twin(dashboard, "/v1/views/movement").json()
    visit = signed_in("/movement")
    cells = visit.page.eval_on_selector_all(
        "#matrix-customers tbody tr",
        "rows => rows.map(r => [r.dataset.from, ...Array.from(r.querySelectorAll('td'),"
        " td => td.textContent.trim())])",
    )
    matrix = view["matrix"]
    assert cells == [
        [r["from_segment"], *(f"{v:,}" for v in r["cells"]), f"{r['total']:,}"]
        for r in matrix["rows"]
    ]
    named = visit.page.eval_on_selector_all(
        "#named-flows tbody tr[data-from]",
        "rows => rows.map(r => [r.dataset.from, r.dataset.to,"
        " r.querySelector('[data-field=customers]').textContent.trim(),"
        " r.querySelector('[data-field=revenue]').textContent.trim()])",
    )
    assert named == [
        [f["from_segment"], f["to_segment"], f"{f['customers']:,}", f"{f['revenue']:,.2f}"]
        for f in view["named_flows"]
    ]
    assert named, "the demo's customers move along some named flows"
    visit.page.screenshot(path=str(dashboard.shots / "movement.png"), full_page=True)


def test_movement_takes_a_family_and_days_and_says_what_it_used(signed_in, dashboard):
    days = _twin(dashboard, "/v1/views/movement").json()["observed_days"]
    first, last = date.fromisoformat(days[0]), date.fromisoformat(days[-1])
    unobserved = first + timedelta(days=1)
    assert unobserved.isoformat() not in days
    chosen = {"group": "lifecycle", "from": unobserved.isoformat(), "to": last.isoformat()}
    view = _twin(dashboard, "/v1/views/movement", **chosen).json()
    assert (view["group"], view["from"], view["to"]) == ("lifecycle", days[0], days[-1])
    assert view["notes"] == [f"{unobserved} was not observed: memberships as of {first} are used"]
    visit = signed_in("/movement?" + "&".join(f"{k}={v}" for k, v in chosen.items()))
    assert visit.page.text_content("[data-note]").strip() == f"Note: {view['notes'][0]}."
    assert visit.page.input_value("select[name=group]") == "lifecycle"

    wrong = _twin(dashboard, "/v1/views/movement", group="nope")
    assert wrong.status_code == 400 and "families:" in wrong.json()["error"]["message"]
    visit = signed_in("/movement?group=nope")
    assert "'nope' is not a family" in visit.page.text_content("[role=alert]")
    backwards = _twin(dashboard, "/v1/views/movement", **{"from": days[-1], "to": days[0]})
    assert backwards.status_code == 400


# -- models ---------------------------------------------------------------------------------
def test_models_page_shows_the_clusters_and_says_what_is_missing(signed_in, dashboard, tables):
    view = _twin(dashboard, "/v1/views/models").json()
    visit = signed_in("/models")
    assert visit.console_errors == [] and visit.outside_requests == []
    if view["validation"] is None:  # the demo runs predict and cluster, not validate-model
        missing = visit.page.text_content("#missing-runs [data-run=validation]")
        assert "segmint validate-model" in missing
    # cluster sizes and revenue shares: from each customer's stored cluster and net sales
    members = tables("cluster_members").merge(
        tables("customer_features")[["customer_id", "net_sales"]], on="customer_id"
    )
    sizes = members.groupby("cluster").size()
    revenue = members.groupby("cluster").net_sales.sum()
    profiles = view["clusters"]["profiles"]
    assert {p["id"]: p["customers"] for p in profiles} == sizes.to_dict()
    for p in profiles:
        assert p["revenue_share"] == pytest.approx(revenue[p["id"]] / revenue.sum(), abs=1e-9)
    shown = visit.page.eval_on_selector_all(
        "#cluster-profiles tbody tr",
        "rows => rows.map(r => [r.dataset.cluster,"
        " r.querySelector('[data-field=customers]').textContent.trim(),"
        " r.querySelector('[data-field=revenue_share]').textContent.trim()])",
    )
    assert shown == [
        [p["id"], f"{p['customers']:,}", f"{p['revenue_share'] * 100:.1f}%"] for p in profiles
    ]
    heatmap = _figure(visit.page, "#chart-cluster-profiles")[0]
    assert heatmap["y"] == [p["name"] for p in profiles]
    visit.page.screenshot(path=str(dashboard.shots / "models.png"), full_page=True)


@pytest.fixture(scope="module")
def validated(dashboard, tmp_path_factory) -> Any:
    """A copy of the workspace after ``segmint validate-model``, served in-process."""
    path = tmp_path_factory.mktemp("validated") / "demo.duckdb"
    shutil.copyfile(dashboard.reference, path)
    with Workspace(path) as workspace:
        validate_model(workspace.store, 90)
        key = create_key(workspace.store, "read", name="models")[1]
    service = Service.open(path)
    client = TestClient(create_app(service))
    client.get("/signin")
    token = client.cookies.get("segmint_signin")
    client.post("/signin", data={"key": key, "token": token, "next": "/"})
    yield client, service, {"Authorization": f"Bearer {key}"}
    client.close()
    service.close()


def test_models_page_shows_the_validation(validated, tables):
    client, service, headers = validated
    view = client.get("/v1/views/models", headers=headers).json()
    validation = view["validation"]
    runs = service.read(lambda store: store.table("model_runs").to_pandas())
    run = runs[runs.kind == "validation"].iloc[-1]
    assert json.loads(run.calibration) == validation["calibration"]
    # the actual orders of the deciles add up to the order days in the holdout of the
    # customers who had ordered by the calibration end (independently, from the orders)
    orders = tables("orders")
    orders = orders[orders.status == "placed"].assign(day=orders.placed_date.map(_day))
    end = date.fromisoformat(validation["calibration_end"])
    holdout_end = date.fromisoformat(validation["holdout_end"])
    first = orders.groupby("customer_id").day.min()
    known = first[first <= end].index
    held = orders[(orders.day > end) & (orders.day <= holdout_end)]
    held = held[held.customer_id.isin(known)]
    actual = held.groupby("customer_id").day.nunique().sum()
    deciles = validation["calibration"]
    assert sum(d["customers"] for d in deciles) == len(known) == validation["customers"]
    assert sum(d["customers"] * d["actual_orders"] for d in deciles) == pytest.approx(actual)
    # the churn model next to its P(alive) baseline, as the run recorded them
    churn = validation["churn"]
    recorded = {s["score"]: s for s in json.loads(run.metrics)["churn"]["scores"]}
    assert churn["model"] == {**recorded["gradient_boosting"], "label": churn["model"]["label"]}
    assert churn["baseline"]["score"] == "bg_nbd_1_minus_p_alive"

    page = client.get("/models")
    assert page.status_code == 200 and 'id="missing-runs"' not in page.text
    lift = f"{churn['model']['lift_top_decile']:.2f}</strong> against "
    assert lift + f"{churn['baseline']['lift_top_decile']:.2f}" in page.text
    for chart in ("orders", "spend"):
        assert f'id="chart-calibration-{chart}"' in page.text
    assert '<tr data-decile="10"><th scope="row">10</th>' in page.text


# -- campaigns ------------------------------------------------------------------------------
def test_campaign_arms_and_lift_equal_the_assignments_and_orders(signed_in, dashboard, tables):
    view = _twin(dashboard, "/v1/views/campaigns").json()
    campaign = next(c for c in view["campaigns"] if c["name"] == "Win-back November")
    stored = tables("campaigns")
    campaign_id = int(stored[stored.name == campaign["name"]].campaign_id.iloc[0])
    assigned = tables("campaign_assignments")
    assigned = assigned[assigned.campaign_id == campaign_id]
    sizes = assigned.groupby("arm").size().to_dict()
    assert {a["arm"]: a["recipients"] for a in campaign["arms"]} == sizes

    # conversion: the share of each arm with a counted order in the window
    first = date.fromisoformat(campaign["send_date"])
    last = first + timedelta(days=campaign["window_days"] - 1)
    orders = tables("orders")
    days = orders.placed_date.map(_day)
    window = orders[(orders.status == "placed") & (days >= first) & (days <= last)]
    converted = assigned.customer_id.isin(set(window.customer_id))
    rates = converted.groupby(assigned.arm).mean()
    row = next(
        r
        for r in campaign["results"]
        if r["metric"] == "conversion_rate" and r["arm"] != campaign["control"]
    )
    assert row["value"] == pytest.approx(rates[row["arm"]])
    assert row["absolute_lift"] == pytest.approx(rates[row["arm"]] - rates[campaign["control"]])
    assert row["ci_low"] < row["absolute_lift"] < row["ci_high"]

    visit = signed_in("/campaigns")
    assert visit.console_errors == [] and visit.outside_requests == []
    section = f"[data-campaign='{campaign['name']}']"
    arms = visit.page.eval_on_selector_all(
        f"{section} table.arms tbody tr",
        "rows => rows.map(r => [r.dataset.arm,"
        " r.querySelector('[data-field=recipients]').textContent.trim()])",
    )
    assert arms == [[a["arm"], f"{a['recipients']:,}"] for a in campaign["arms"]]
    lift = visit.page.text_content(
        f"{section} tr[data-metric=conversion_rate][data-arm='{row['arm']}'] [data-field=lift]"
    )
    low, high = row["ci_low"] * 100, row["ci_high"] * 100
    expected = f"{row['absolute_lift'] * 100:+.1f} points (95% CI {low:+.1f} to {high:+.1f})"
    assert lift.strip() == expected
    verdict = visit.page.text_content(
        f"{section} tr[data-metric=conversion_rate][data-arm='{row['arm']}'] [data-field=verdict]"
    )
    assert verdict.strip() == row["verdict"]
    assert visit.page.text_content(f"{section} [data-note=sample-ratio]").strip() == (
        f"Sample ratio: {campaign['sample_ratio']['message']}."
    )
    # the interval chart: the conversion panel's point and error bars are the twin's, in points
    drawn = _figure(visit.page, f"#chart-campaign-{campaign_id}")[0]
    assert drawn["x"] == [pytest.approx(row["absolute_lift"] * 100)]
    assert drawn["error_x"]["array"] == [pytest.approx(high - row["absolute_lift"] * 100)]
    assert drawn["error_x"]["arrayminus"] == [pytest.approx(row["absolute_lift"] * 100 - low)]
    visit.page.screenshot(path=str(dashboard.shots / "campaigns.png"), full_page=True)
