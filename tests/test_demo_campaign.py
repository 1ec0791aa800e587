"""The demo's past campaign (``segmint demo``): the weeks after the store's exports are real
exports, and the campaign report recovers the effect the generator put in.

The generator drew every member's outcome both with and without the email, so the true
effect on these members is known exactly; the arms' observed outcomes are recomputed here
from those potential outcomes, independently of the workspace.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from segmint.campaigns.report import campaign_report
from segmint.demo import build_demo_store
from segmint.demo_campaign import (
    CAMPAIGN_NAME,
    arms_by_email,
    run_past_campaign,
    simulate_campaign_window,
)
from segmint.workspace import Workspace

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """The demo's own store (5,000 customers, seed 42) with its past campaign imported."""
    folder = tmp_path_factory.mktemp("demo_campaign")
    store = build_demo_store(folder / "data")
    ws = Workspace(folder / "shop.duckdb")
    files = store.files
    for path in (files.products, files.customers, files.orders, files.events):
        ws.import_file(path)
    ws.refresh()
    past = run_past_campaign(ws, store, folder / "data")
    assert past is not None
    window = [ws.import_file(past.window.orders), ws.import_file(past.window.events)]
    report = campaign_report(ws.store, CAMPAIGN_NAME)
    yield SimpleNamespace(ws=ws, store=store, past=past, window=window, report=report)
    ws.close()


def _rows(report, metric: str) -> dict:
    return next(r for r in report.rows if r["arm"] == "A" and r["metric"] == metric)


def test_each_arm_shows_what_the_generator_says_happened(demo):
    outcomes = demo.past.window.outcomes
    seen = outcomes.observed()
    arms = arms_by_email(demo.ws, demo.past.created.campaign.campaign_id)
    assert [arms[e] != "holdout" for e in outcomes.emails] == outcomes.sent.tolist()
    for arm, mask in (("A", outcomes.sent), ("holdout", ~outcomes.sent)):
        row = next(r for r in demo.report.rows if r["arm"] == arm and r["metric"] == "aov")
        assert row["recipients"] == mask.sum()
        expected = {
            "conversion_rate": seen["bought"][mask].mean(),
            "revenue_per_recipient": seen["spent"][mask].mean(),
            "unsubscribe_rate": seen["unsubscribed"][mask].mean(),
        }
        for metric, value in expected.items():
            row = next(r for r in demo.report.rows if r["arm"] == arm and r["metric"] == metric)
            assert row["value"] == pytest.approx(value, abs=1e-9), (arm, metric)


def test_the_report_recovers_the_true_effect(demo):
    outcomes = demo.past.window.outcomes
    assert demo.report.window_ended and not demo.report.sample_ratio.mismatch
    for metric in ("conversion_rate", "revenue_per_recipient"):
        row = _rows(demo.report, metric)
        truth = outcomes.true_lift(metric)
        assert row["ci_low"] <= truth <= row["ci_high"], (metric, truth, row)
    # A real effect, and the report says so in words.
    assert outcomes.true_lift("conversion_rate") > 0.04
    assert _rows(demo.report, "conversion_rate")["verdict"].startswith("A converts better")
    # Without the email nobody in the holdout could have been brought back by it.
    assert outcomes.bought_if_sent.sum() > outcomes.bought_if_not.sum()
    assert not (outcomes.bought_if_not & ~outcomes.bought_if_sent).any()


def test_the_window_is_a_real_continuation_of_the_exports(demo):
    orders_import, events_import = demo.window
    assert orders_import.format == "shopify-orders" and events_import.format == "events"
    for result in demo.window:
        assert result.rows_read == result.rows_loaded + result.rows_rejected
    rejects = demo.ws.rejects(orders_import.import_id).to_pylist()
    # Only the generator's repeated line items, as in the base export.
    assert all(r["reason"].startswith("exact duplicate") for r in rejects)

    base = _read(demo.store.files.orders)
    window = _read(demo.past.window.orders)
    base_numbers = {int(r["Name"][1:]) for r in base}
    numbers = sorted({int(r["Name"][1:]) for r in window})
    assert numbers == list(range(max(base_numbers) + 1, max(base_numbers) + 1 + len(numbers)))
    assert min(int(r["Id"]) for r in window if r["Id"]) > max(int(r["Id"]) for r in base if r["Id"])
    days = {date.fromisoformat(r["Created at"][:10]) for r in window}
    assert min(days) >= date(2026, 11, 1) and max(days) <= date(2026, 11, 14)

    # The campaign's code is used only by sent members; its emails reach only them.
    outcomes = demo.past.window.outcomes
    sent = {e for e, s in zip(outcomes.emails, outcomes.sent, strict=True) if s}
    held = set(outcomes.emails) - sent
    coded = {r["Email"].strip().lower() for r in window if r["Discount Code"] == "COMEBACK15"}
    assert coded and coded <= sent
    events = _read(demo.past.window.events)
    mailed = {
        e["email"]
        for e in events
        if e["event"] == "Received Email" and e["campaign"] == CAMPAIGN_NAME
    }
    assert mailed == sent and not mailed & held


def test_the_window_is_reproducible_and_leaves_the_store_alone(demo, tmp_path: Path):
    arms = arms_by_email(demo.ws, demo.past.created.campaign.campaign_id)
    before = demo.store.people.sub_end.copy()
    again = simulate_campaign_window(demo.store, arms, CAMPAIGN_NAME, 14, tmp_path)
    assert again.orders.read_bytes() == demo.past.window.orders.read_bytes()
    assert again.events.read_bytes() == demo.past.window.events.read_bytes()
    assert np.array_equal(demo.store.people.sub_end, before)


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))
