"""``segmint report``: one HTML file that opens in a browser with the network off, loads
nothing, draws every chart with data, and shows the workspace's numbers."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest

from api.serving import segmint
from dashboard.test_browser import _charts
from segmint.dashboard import plotly_js
from segmint.dashboard.report import (
    Report,
    asset_text,
    build_report,
    inline_script,
    write_report,
)
from segmint.workspace import Workspace


def test_report_of_a_new_workspace_says_what_to_run(tmp_path: Path):
    with Workspace(tmp_path / "new.duckdb") as ws:
        path = write_report(ws.store, tmp_path / "report.html")
    html = path.read_text(encoding="utf-8")
    assert "No refresh yet" in html and "segmint refresh" in html
    assert "No segment history yet" in html and "No campaigns yet" in html
    assert 'class="chart' not in html


@dataclass
class Written:
    path: Path
    workspace: Path  # the copy it was written from (closed: read it with duckdb)
    report: Report
    seconds: float


@dataclass
class Opened:
    page: Any
    attempted: list[str] = field(default_factory=list)  # requests other than the file itself
    console_errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def written(dashboard: Any, tmp_path_factory: pytest.TempPathFactory) -> Written:
    """The report of a copy of the demo workspace (the served one is locked by its server)."""
    folder = tmp_path_factory.mktemp("report")
    workspace = folder / "demo.duckdb"
    shutil.copyfile(dashboard.reference, workspace)
    with Workspace(workspace) as ws:
        started = time.perf_counter()
        report = build_report(ws.store)
        path = report.write(folder / "report.html")
        seconds = time.perf_counter() - started
    return Written(path, workspace, report, seconds)


@pytest.fixture(scope="module")
def opened(browser: Any, written: Written) -> Iterator[Opened]:
    """The file in a browser context that is offline and aborts (and records) every request
    but the file's own."""
    context = browser.new_context(offline=True, viewport={"width": 1280, "height": 900})
    url = written.path.as_uri()
    seen = Opened(page=None)

    def guard(route: Any) -> None:
        if route.request.url == url:
            route.continue_()
        else:
            seen.attempted.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.on("request", lambda r: r.url == url or seen.attempted.append(r.url))
    page.on("console", lambda m: m.type == "error" and seen.console_errors.append(m.text))
    page.on("pageerror", lambda e: seen.console_errors.append(str(e)))
    page.goto(url)
    page.wait_for_load_state("networkidle")
    seen.page = page
    yield seen
    context.close()


def _table(path: Path, sql: str) -> Any:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(sql).df()


@pytest.mark.slow
def test_report_opens_offline_and_draws_every_chart(opened: Opened, written: Written, dashboard):
    assert opened.attempted == []
    assert opened.console_errors == []
    charts = _charts(opened.page)
    assert len(charts) == sum(s["charts"] for s in written.report.sizes())
    assert all(c["drawn"] and c["points"] > 0 for c in charts), charts
    linked = opened.page.eval_on_selector_all(
        ".chart[data-figure]", "els => els.filter(e => JSON.parse(e.dataset.figure).links)"
    )
    assert linked == []  # no click leads to a server's page
    # every section, each chart kind among them
    ids = opened.page.eval_on_selector_all("main section[id]", "els => els.map(e => e.id)")
    assert ids == [s["section"] for s in written.report.sizes()]
    assert ids == ["overview", "segments", "rfm", "movement", "campaigns"]
    drawn = {c["id"] for c in charts}
    assert {"chart-revenue", "chart-orders", "chart-health", "chart-rfm", "chart-movement"} <= drawn
    assert any(i.startswith("chart-campaign-") for i in drawn)
    assert sum(1 for c in charts if c["id"].startswith("Size of ")) > 20  # the sparklines
    opened.page.screenshot(path=str(dashboard.shots / "report.png"), full_page=True)


@pytest.mark.slow
def test_report_shows_the_workspaces_numbers(opened: Opened, written: Written):
    page = opened.page
    customers = len(_table(written.workspace, "select customer_id from customers"))
    orders = _table(written.workspace, "select status from orders")
    assert page.text_content("[data-metric=customers]").strip() == f"{customers:,}"
    placed = int((orders["status"] == "placed").sum())
    assert page.text_content("[data-metric=orders]").strip() == f"{placed:,}"

    members = _table(written.workspace, "select segment from segment_members")
    sizes = members.groupby("segment").size()
    shown = page.eval_on_selector_all(
        "#segments-table tbody tr",
        """rows => rows.map(r => [r.dataset.segment,
            r.querySelector('[data-field=customers]').textContent.trim()])""",
    )
    assert len(shown) > 40
    assert dict(shown) == {slug: f"{sizes.get(slug, 0):,}" for slug, _ in shown}
    assert set(sizes.index) <= {slug for slug, _ in shown}

    scores = _table(written.workspace, "select r_score, f_score from customer_features")
    scored = scores.dropna().astype(int).value_counts()
    cells = page.eval_on_selector_all(
        "#rfm-table td[data-cell] [data-field=customers]",
        "cells => cells.map(c => [c.closest('td').dataset.cell, c.textContent.trim()])",
    )
    assert len(cells) == 25
    expected_cells = {
        f"r{r}f{f}": f"{scored.get((r, f), 0):,}" for r in range(1, 6) for f in range(1, 6)
    }
    assert dict(cells) == expected_cells

    assignments = _table(written.workspace, "select arm from campaign_assignments")
    recipients = page.eval_on_selector_all(
        "#campaigns tr[data-arm] [data-field=recipients]",
        "cells => cells.map(c => [c.closest('tr').dataset.arm, c.textContent.trim()])",
    )
    expected = assignments.groupby("arm").size()
    assert recipients
    assert dict(recipients) == {arm: f"{n:,}" for arm, n in expected.items()}


@pytest.mark.slow
def test_nothing_in_the_file_loads_or_links_outside_it(written: Written):
    html = written.path.read_text(encoding="utf-8")
    bundle = inline_script(Path(plotly_js()).read_text(encoding="utf-8"))
    assert html.count(bundle) == 1  # Plotly inline, once (its code holds URL strings)
    drawing = inline_script(asset_text("dashboard.js"))
    assert html.count(drawing) == 1  # the dashboard's own chart-drawing code, inline
    rest = html.replace(bundle, "").replace(drawing, "")
    assert not re.search(r"https?://|//[a-z0-9-]+\.[a-z]", rest, re.IGNORECASE)
    assert re.findall(r"<script\b[^>]*>", rest) == ["<script>", "<script>"]
    assert not re.search(r"<(link|img|iframe|form|object|embed|base)\b|@import|url\(", rest)
    targets = re.findall(r"""\b(?:href|src|action)\s*=\s*["']?([^"'\s>]*)""", rest)
    assert targets and all(t.startswith("#") for t in targets), targets
    assert written.path.stat().st_size > 4_000_000  # Plotly alone is ~4.8 MB
    assert written.seconds < 30


@pytest.mark.slow
def test_report_command_writes_the_file_and_prints_its_sections(dashboard, tmp_path: Path):
    """On the served workspace: the command is handed to the running server."""
    out = tmp_path / "shared" / "report.html"
    out.parent.mkdir()
    made = segmint(dashboard.server.path, "report", "--out", str(out), "--json")
    assert made.returncode == 0, made.stderr
    [record] = json.loads(made.stdout)
    assert record["path"] == str(out)
    assert record["bytes"] == out.stat().st_size
    sections = {s["section"]: s for s in record["sections"]}
    assert list(sections) == ["overview", "segments", "rfm", "movement", "campaigns"]
    assert sections["rfm"] == {"section": "rfm", "items": 25, "of": "cells", "charts": 1}
    assert sections["segments"]["items"] > 40 and sections["campaigns"]["items"] >= 1
    assert out.read_text(encoding="utf-8").startswith("<!doctype html>")


@pytest.mark.slow
def test_report_command_errors(dashboard, tmp_path: Path):
    workspace = tmp_path / "demo.duckdb"
    shutil.copyfile(dashboard.reference, workspace)
    out = str(tmp_path / "r.html")
    wrong = segmint(workspace, "report", "--out", out, "--movement-group", "rfn")
    assert wrong.returncode == 1
    assert wrong.stderr.startswith("Error: 'rfn' is not a family"), wrong.stderr
    assert "rfm" in wrong.stderr  # the hint
    nowhere = segmint(workspace, "report", "--out", str(tmp_path / "missing" / "r.html"))
    assert nowhere.returncode == 1
    assert nowhere.stderr.startswith("Error: cannot write the report"), nowhere.stderr
    assert not (tmp_path / "r.html").exists()
