"""``segmint plan`` on the demo store: one campaign per customer, exports that match."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from segmint.workspace import Workspace


@pytest.fixture(scope="module")
def planned(
    tmp_path_factory: pytest.TempPathFactory, import_demo_shop: Callable[[Path], Workspace]
) -> Any:
    from typer.testing import CliRunner

    import segmint.cli.main  # noqa: F401  (registers the commands)
    from segmint.cli.app import app

    folder = tmp_path_factory.mktemp("plan")
    import_demo_shop(folder / "shop.duckdb").close()
    args = ["-w", str(folder / "shop.duckdb"), "plan", "--out", str(folder / "plan"), "--json"]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    ws = Workspace(folder / "shop.duckdb")
    yield ws, json.loads(done.stdout), folder / "plan"
    ws.close()


def test_no_customer_is_in_two_campaigns(planned: Any) -> None:
    ws, campaigns, _ = planned
    assert len(campaigns) >= 5
    members = ws.store.table("export_members").to_pyarrow().to_pylist()
    ids = {c["export_id"] for c in campaigns}
    targeted = [m["customer_id"] for m in members if m["export_id"] in ids]
    assert len(targeted) == len(set(targeted)) > 0
    for campaign in campaigns:
        assert not any("also in the export" in w for w in campaign["warnings"])


def test_every_named_export_exists_and_matches(planned: Any) -> None:
    ws, campaigns, folder = planned
    plan_md = (folder / "plan.md").read_text(encoding="utf-8")
    exports = {r["export_id"]: r for r in ws.store.table("exports").to_pyarrow().to_pylist()}
    for campaign in campaigns:
        path = Path(campaign["export_file"])
        assert path.name in plan_md and path.is_file()
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))[1:]
        assert len(rows) == campaign["exported"] == exports[campaign["export_id"]]["exported"]
        assert campaign["assigned"] == campaign["members"] - campaign["lost_to_higher_priority"]
        assert f"| {campaign['members']:,} | {campaign['lost_to_higher_priority']:,} |" in plan_md
    priorities = [c["priority"] for c in campaigns]
    assert priorities == sorted(priorities)
    assert (folder / "plan.html").read_text(encoding="utf-8").startswith("<!doctype html>")


def test_overlap_allowed_or_warned(planned: Any) -> None:
    from segmint.activation.export import export_segment

    ws, campaigns, folder = planned
    first = campaigns[0]
    again = export_segment(
        ws.store,
        first["segment"],
        "csv",
        folder / "again.csv",
        plan=json.loads(
            ws.store.table("exports")
            .filter(ws.store.table("exports").export_id == first["export_id"])
            .options.to_pyarrow()[0]
            .as_py()
        )["plan"],
    )
    assert any("also in the export" in w for w in again.warnings)


def test_the_html_plan_in_a_browser(planned: Any, browser: Any) -> None:
    from web import serve_folder

    _, campaigns, folder = planned
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    with serve_folder(folder) as base:
        page.goto(base + "plan.html")
        assert page.title().startswith("Campaign plan")
        rows = page.locator("tbody tr")
        assert rows.count() == len(campaigns)
        for index, campaign in enumerate(campaigns):
            cells = rows.nth(index).locator("td")
            assert cells.nth(1).inner_text() == campaign["name"]
            assert cells.nth(4).inner_text() == f"{campaign['exported']:,}"
            link = cells.nth(10).locator("a")
            assert link.inner_text() == Path(campaign["export_file"]).name
            response = page.request.get(base + link.get_attribute("href"))
            assert response.ok
            assert len(list(csv.reader(io.StringIO(response.text())))) == campaign["exported"] + 1
        kpis = page.locator("h2 + ul li code").all_inner_texts()
        assert set(kpis) == {c["goal"] for c in campaigns}
        assert page.locator("table").is_visible()
    page.close()
    assert all(url.startswith(base) for url in requested), "the page loads nothing from outside"
