"""Every dashboard page in a real browser: it loads without console errors or requests
leaving the machine, its charts hold data, and its numbers are its JSON twin's."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.slow

#: Every page and its JSON twin.
PAGES = {
    "overview": ("/", "/v1/views/overview"),
    "segments": ("/segments", "/v1/views/segments"),
    "segment": ("/segments/rfm_champions", "/v1/views/segments/rfm_champions"),
    "movement": ("/movement", "/v1/views/movement"),
    "models": ("/models", "/v1/views/models"),
    "campaigns": ("/campaigns", "/v1/views/campaigns"),
    "rfm": ("/rfm", "/v1/views/rfm"),
    "rfm_cell": ("/rfm/cell?r=5&f=4", "/v1/views/rfm/cell?r=5&f=4"),
    "customer": ("/customers/c_0ca831d1f9d7f98e", "/v1/views/customers/c_0ca831d1f9d7f98e"),
}


def _charts(page: Any) -> list[dict[str, Any]]:
    """Each drawn chart's id and how many points its traces hold."""
    return page.eval_on_selector_all(
        ".chart",
        """els => els.map(el => ({
            id: el.id || el.getAttribute('aria-label'),
            drawn: !!el.data,
            points: (el.data || []).reduce((n, t) =>
                n + ((t.x || t.z || t.values || (t.node && t.node.label) || []).length), 0)
        }))""",
    )


@pytest.mark.parametrize("name", list(PAGES))
def test_page_loads_cleanly_with_charts_holding_data(name, signed_in, dashboard):
    path, _ = PAGES[name]
    visit = signed_in(path)
    assert visit.page.url == dashboard.url + path
    assert visit.console_errors == []
    assert visit.outside_requests == []
    charts = _charts(visit.page)
    assert charts, "every page shows at least one chart"
    assert all(c["drawn"] and c["points"] > 0 for c in charts), charts
    assert visit.page.locator("main h1").count() == 1
    visit.page.screenshot(path=str(dashboard.shots / f"{name}.png"), full_page=True)


def test_segments_page_shows_the_twins_numbers(signed_in, dashboard):
    visit = signed_in("/segments?sort=customers&order=desc")
    twin = httpx.get(
        dashboard.url + "/v1/views/segments",
        params={"sort": "customers", "order": "desc"},
        headers=dashboard.headers(),
    ).json()
    shown = visit.page.eval_on_selector_all(
        "#segments-table tbody tr",
        """rows => rows.map(r => ({
            segment: r.dataset.segment,
            customers: r.querySelector('[data-field=customers]').textContent.trim(),
            share: r.querySelector('[data-field=share_of_customers]').textContent.trim(),
            revenue: r.querySelector('[data-field=share_of_revenue]').textContent.trim(),
        }))""",
    )
    expected = [
        {
            "segment": s["segment"],
            "customers": f"{s['customers']:,}",
            "share": f"{s['share_of_customers'] * 100:.1f}%",
            "revenue": f"{s['share_of_revenue'] * 100:.1f}%",
        }
        for s in twin["segments"]
    ]
    assert shown == expected
    assert len(shown) > 40
    customers = [s["customers"] for s in twin["segments"]]
    assert customers == sorted(customers, reverse=True)


def test_overview_totals_match_the_twin_and_the_workspace(signed_in, dashboard):
    visit = signed_in("/")
    twin = httpx.get(dashboard.url + "/v1/views/overview", headers=dashboard.headers()).json()
    for metric in ("customers", "orders"):
        cell = visit.page.text_content(f"[data-metric={metric}]")
        assert cell.strip() == f"{twin['totals'][metric]:,}"
    # months add up to the whole: every counted order falls in exactly one month
    assert sum(m["orders"] for m in twin["monthly"]) == twin["totals"]["orders"]
    revenue = sum(m["revenue"] for m in twin["monthly"])
    assert revenue == pytest.approx(twin["totals"]["amount_spent"], abs=0.01)
