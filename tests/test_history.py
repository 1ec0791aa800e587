"""Segment history on a hand-built store: refreshes at past month ends record who was in which
segment (history only), sizes and intervals match what the order dates imply (worked out by
hand below), and a backfill records the same history as those refreshes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

import segmint.cli.main  # noqa: F401  (registers the commands)
from cli_runs import closed_for_cli
from segmint.backfill import backfill, backfill_days
from segmint.cli.app import app
from segmint.history import customer_intervals, segment_history, sizes_on
from segmint.movement import NONE, movement
from segmint.webhooks.registry import add_webhook
from segmint.workspace import Workspace
from shopify_files import order, write_orders

JAN, FEB, MAR, APR = date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31), date(2025, 4, 30)
SEGMENTS_YAML = """\
segments:
  - slug: repeat
    rule: "number_of_orders >= 2"
  - slug: recent
    rule: "days_since_last_order <= 30"
"""
#: Each customer's order days (noon in the store's zone).
ORDER_DAYS = {
    "a": ["2025-01-10", "2025-02-10"],
    "b": ["2025-01-20"],
    "c": ["2025-03-05", "2025-03-20"],  # a customer from March on
    "d": ["2025-01-05", "2025-04-25"],
}
# Worked out by hand from ORDER_DAYS: recent = last order at most 30 days before the day.
RECENT = {JAN: {"a", "b", "d"}, FEB: {"a"}, MAR: {"c"}, APR: {"d"}}
REPEAT = {JAN: set(), FEB: {"a"}, MAR: {"a", "c"}, APR: {"a", "c", "d"}}


def make_shop(folder: Path) -> Workspace:
    ws = Workspace(folder / "shop.duckdb")
    (folder / "segments.yaml").write_text(SEGMENTS_YAML, encoding="utf-8")
    orders = [
        order(
            f"#{1000 + i}",
            f"{who}@example.com",
            f"{day} 12:00:00 -0500",
            [(1, "Mug", "20.00", "M")],
        )
        for i, (who, day) in enumerate(
            (who, day) for who, days in ORDER_DAYS.items() for day in days
        )
    ]
    ws.import_file(write_orders(folder / "orders_export.csv", orders))
    return ws


def letters(ws: Workspace, ids: set[str]) -> set[str]:
    emails = ws.table("customers").to_pandas().set_index("customer_id").email
    return {emails[i].split("@")[0] for i in ids}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    ws = make_shop(tmp_path_factory.mktemp("history"))
    live = ws.refresh(APR)
    assert live.live and live.refresh_id == 1
    # a live refresh would queue the differences from March's memberships for this webhook
    add_webhook(ws.store, "https://hooks.example.com/segmint", ["recent", "repeat"])
    deliveries = ws.table("webhook_deliveries").count().execute()
    for day in (MAR, JAN, FEB):  # past days, out of order
        past = ws.refresh(day)
        assert not past.live and past.refresh_id is None and past.as_of == day
    # history only: live memberships, refreshes and webhook queue as the live refresh left them
    assert ws.table("refreshes").count().execute() == 1
    assert set(ws.table("segment_members").refresh_id.to_pyarrow().to_pylist()) == {1}
    assert ws.table("webhook_deliveries").count().execute() == deliveries
    yield ws
    ws.close()


def members_by_day(ws: Workspace, segment: str) -> dict[date, set[str]]:
    intervals = ws.table("segment_intervals").to_pyarrow().to_pylist()
    mine = [r for r in intervals if r["segment"] == segment]
    return {
        day: letters(
            ws,
            {
                r["customer_id"]
                for r in mine
                if r["entered"] <= day and (r["exited"] is None or r["exited"] > day)
            },
        )
        for day in (JAN, FEB, MAR, APR)
    }


def test_members_by_day_are_those_the_order_dates_imply(shop: Workspace):
    assert members_by_day(shop, "recent") == RECENT
    assert members_by_day(shop, "repeat") == REPEAT
    for day in (JAN, FEB, MAR, APR):
        rows = sizes_on(shop.store, day).to_pyarrow().to_pylist()
        sizes = {r["segment"]: r["customers"] for r in rows}
        assert sizes.get("recent", 0) == len(RECENT[day])
        assert sizes.get("repeat", 0) == len(REPEAT[day])
    observed = shop.table("history_observations").order_by("as_of").to_pyarrow().to_pylist()
    assert [r["as_of"] for r in observed] == [JAN, FEB, MAR, APR]
    # c had not ordered yet in January and February: not a customer then
    assert [r["customers"] for r in observed] == [3, 3, 4, 4]
    assert [r["refresh_id"] for r in observed] == [None, None, None, 1]


def test_segment_history_counts_entries_and_exits(shop: Workspace):
    rows = segment_history(shop.store, "recent")
    assert [(r["date"], r["size"], r["entries"], r["exits"]) for r in rows] == [
        (JAN, 3, 3, 0),
        (FEB, 1, 0, 2),
        (MAR, 1, 1, 1),
        (APR, 1, 1, 1),
    ]
    quarters = segment_history(shop.store, "repeat", every="quarter")
    assert [
        (r["period_end"], r["date"], r["size"], r["entries"], r["exits"]) for r in quarters
    ] == [
        (MAR, MAR, 2, 2, 0),
        (date(2025, 6, 30), APR, 3, 1, 0),
    ]


def test_a_customers_intervals(shop: Workspace):
    d = shop.find_customer("d@example.com")["customer_id"]
    rows = customer_intervals(shop.store, d).to_pyarrow().to_pylist()
    recent_and_repeat = [
        (r["segment"], r["entered"], r["exited"])
        for r in rows
        if r["segment"] in ("recent", "repeat")
    ]
    assert recent_and_repeat == [("recent", JAN, FEB), ("recent", APR, None), ("repeat", APR, None)]


def test_backfill_records_what_refreshes_at_those_days_record(shop: Workspace, tmp_path: Path):
    with make_shop(tmp_path) as ws:
        ws.refresh(APR)
        assert backfill_days(ws.store, "2025-01-01", "month") == [JAN, FEB, MAR]
        results = backfill(ws.store, since="2025-01-01", every="month")
        assert [r.as_of for r in results] == [JAN, FEB, MAR]
        columns = ["customer_id", "segment", "family", "entered", "exited"]

        def intervals(w: Workspace) -> list[tuple]:
            rows = w.table("segment_intervals").to_pyarrow().to_pylist()
            return sorted(tuple(str(r[c]) for c in columns) for r in rows)

        assert intervals(ws) == intervals(shop)
        assert ws.table("refreshes").count().execute() == 1


def test_backfill_every_week_ends_on_sundays(shop: Workspace):
    days = backfill_days(shop.store, "4w", "week")
    assert days == [date(2025, 4, 6), date(2025, 4, 13), date(2025, 4, 20), date(2025, 4, 27)]
    assert all(d.weekday() == 6 for d in days)


def test_history_and_backfill_commands(shop: Workspace, tmp_path: Path):
    runner = CliRunner()
    with closed_for_cli(shop) as path:
        shown = runner.invoke(app, ["-w", path, "history", "recent", "--json"])
        assert shown.exit_code == 0, shown.output
        rows = json.loads(shown.stdout)
        assert [(r["date"], r["size"], r["entries"], r["exits"]) for r in rows] == [
            ("2025-01-31", 3, 3, 0),
            ("2025-02-28", 1, 0, 2),
            ("2025-03-31", 1, 1, 1),
            ("2025-04-30", 1, 1, 1),
        ]
        table = runner.invoke(app, ["-w", path, "history", "recent", "--every", "month"])
        assert table.exit_code == 0 and "2025-02-28" in table.stdout
        customer = runner.invoke(
            app, ["-w", path, "history", "--customer", "d@example.com", "--json"]
        )
        assert customer.exit_code == 0, customer.output
        assert {"segment": "recent", "entered": "2025-01-31", "exited": "2025-02-28"} in [
            {k: r[k] for k in ("segment", "entered", "exited")} for r in json.loads(customer.stdout)
        ]
        unknown = runner.invoke(app, ["-w", path, "history", "vips"])
        assert unknown.exit_code != 0 and unknown.stderr.startswith("Error: ")
        again = runner.invoke(app, ["-w", path, "backfill", "--since", "2025-02-01", "--json"])
        assert again.exit_code == 0, again.output
        assert [r["as_of"] for r in json.loads(again.stdout)] == ["2025-02-28", "2025-03-31"]
        bad = runner.invoke(app, ["-w", path, "backfill", "--every", "fortnight"])
        assert bad.exit_code != 0 and "Error: 'fortnight' is not a period" in bad.stderr
    # backfilling observed days again changes nothing
    assert members_by_day(shop, "recent") == RECENT


#: Each customer's spending after February 28 up to April 30, from ORDER_DAYS (20.00 each).
SPENT_MAR_APR = {"a": 0.0, "b": 0.0, "c": 40.0, "d": 20.0}


@pytest.mark.parametrize("group", ["lifecycle", "rfm"])
def test_movement_sums_to_the_sizes_on_both_days(shop: Workspace, group: str):
    moved = movement(shop.store, group, FEB, APR)
    for day, side in ((FEB, "from_segment"), (APR, "to_segment")):
        rows = sizes_on(shop.store, day).to_pyarrow().to_pylist()
        family = {
            v["segment"]
            for v in shop.table("segment_versions").to_pyarrow().to_pylist()
            if v["family"] == group
        }
        sizes = {r["segment"]: r["customers"] for r in rows if r["segment"] in family}
        counted: dict[str, int] = {}
        for flow in moved.flows:
            if flow[side] != NONE:
                counted[flow[side]] = counted.get(flow[side], 0) + flow["customers"]
        assert counted == sizes
    # each flow's revenue is its customers' spending in between, worked out by hand
    intervals = shop.table("segment_intervals").to_pyarrow().to_pylist()

    def segment_of(customer: str, day: date) -> str:
        held = [
            r["segment"]
            for r in intervals
            if r["customer_id"] == customer
            and r["family"] == group
            and r["entered"] <= day
            and (r["exited"] is None or r["exited"] > day)
        ]
        return held[0] if held else NONE

    expected: dict[tuple[str, str], float] = {}
    for who, spent in SPENT_MAR_APR.items():
        customer = shop.find_customer(f"{who}@example.com")["customer_id"]
        cell = (segment_of(customer, FEB), segment_of(customer, APR))
        if cell != (NONE, NONE):
            expected[cell] = expected.get(cell, 0.0) + spent
    assert {(f["from_segment"], f["to_segment"]): f["revenue"] for f in moved.flows} == expected
    matrix = moved.matrix("customers")
    assert sum(r["total"] for r in matrix) == sum(f["customers"] for f in moved.flows)


def test_movement_command(shop: Workspace):
    runner = CliRunner()
    with closed_for_cli(shop) as path:
        done = runner.invoke(
            app, ["-w", path, "movement", "--group", "rfm", "--from", "2025-02-28", "--json"]
        )
        assert done.exit_code == 0, done.output
        flows = json.loads(done.stdout)
        assert sum(f["revenue"] for f in flows) == sum(SPENT_MAR_APR.values())
        assert set(flows[0]) == {
            "from_segment",
            "to_segment",
            "customers",
            "share_of_from",
            "revenue",
            "flow",
        }
        shown = runner.invoke(
            app, ["-w", path, "movement", "--group", "rfm", "--from", "2025-03-15"]
        )
        assert shown.exit_code == 0, shown.output
        assert "2025-03-15 was not observed: memberships as of 2025-02-28" in shown.stderr
        assert "Customers: rfm, 2025-02-28 to 2025-04-30" in shown.stdout
        wrong = runner.invoke(app, ["-w", path, "movement", "--group", "rfms"])
        assert wrong.exit_code != 0
        assert wrong.stderr.startswith("Error: 'rfms' is not a family in the segment history")
