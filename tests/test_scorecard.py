"""KPIs per segment against the baseline, on hand-built customers whose every value is worked
out by hand below (orders of 100.00 unless said; the window is April to June 2025)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

import segmint.cli.main  # noqa: F401  (registers the commands)
from cli_runs import closed_for_cli
from segmint.cli.app import app
from segmint.scorecard import BASELINE, Window, segment_kpis, trend_windows
from segmint.workspace import Workspace
from shopify_files import order, write_orders

START, END = date(2025, 3, 31), date(2025, 6, 30)
SEGMENTS_YAML = 'segments:\n  - slug: buyers_2\n    rule: "number_of_orders >= 2"\n'
ORDERS = [  # (customer, day, amount)
    ("a", "2025-01-10", "100.00"),
    ("a", "2025-02-15", "100.00"),  # second order 36 days after the first
    ("a", "2025-04-10", "100.00"),
    ("a", "2025-05-20", "50.00"),
    ("b", "2025-01-20", "100.00"),
    ("b", "2025-03-01", "100.00"),  # second order 40 days after the first; none after
    ("c", "2025-02-01", "100.00"),
    ("c", "2025-05-15", "200.00"),  # second order 103 days after the first
    ("d", "2025-03-10", "100.00"),
    ("e", "2025-05-01", "80.00"),  # not a customer yet on March 31
]
EVENTS = [  # (event, day, customer)
    ("Received Email", "2025-03-15", "g"),  # g is known from this email only
    ("Received Email", "2025-04-05", "g"),
    ("Opened Email", "2025-04-05", "g"),
    ("Received Email", "2025-04-10", "a"),
    ("Opened Email", "2025-04-10", "a"),
    ("Clicked Email", "2025-04-10", "a"),
    ("Received Email", "2025-04-12", "b"),
    ("Unsubscribed", "2025-04-13", "b"),
]
# By hand. On March 31 the store knew a, b, c, d, g; buyers_2 (two orders or more) was a, b.
# After it: a spent 150 in 2 orders, c 200 in 1; 350 in all. Lifetime spent by June 30:
# a 350, b 200, c 300, d 100, g 0. First orders 90+ days before June 30: a, b, c, d; a and b
# ordered again within 90 days. On June 30 b (121 days) and d (112 days) are dormant.
# Received email in the window: a (opened, clicked), b (unsubscribed), g (opened).
EXPECTED = {
    "buyers_2": {
        "customers": 2,
        "share_of_customers": 2 / 5,
        "share_of_revenue": 150 / 350,
        "conversion_rate": 1 / 2,
        "repeat_rate_90d": 2 / 2,
        "aov": 150 / 2,
        "revenue_per_customer": 150 / 2,
        "historic_clv": (350 + 200) / 2,
        "predicted_clv_12m": None,
        "churn_rate": 1 / 2,
        "email_open_rate": 1 / 2,
        "email_click_rate": 1 / 2,
        "unsubscribe_rate": 1 / 2,
    },
    BASELINE: {
        "customers": 5,
        "share_of_customers": 1.0,
        "share_of_revenue": 1.0,
        "conversion_rate": 2 / 5,
        "repeat_rate_90d": 2 / 4,
        "aov": 350 / 3,
        "revenue_per_customer": 350 / 5,
        "historic_clv": 950 / 5,
        "predicted_clv_12m": None,
        "churn_rate": 2 / 5,
        "email_open_rate": 2 / 3,
        "email_click_rate": 1 / 3,
        "unsubscribe_rate": 1 / 3,
    },
}


def write_events(path: Path) -> Path:
    lines = ["Event,Timestamp,Email,Phone Number,$event_id,$value"]
    for i, (event, day, who) in enumerate(EVENTS):
        lines.append(f"{event},{day}T12:00:00-05:00,{who}@example.com,,ev{i},")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    folder = tmp_path_factory.mktemp("kpis")
    (folder / "segments.yaml").write_text(SEGMENTS_YAML, encoding="utf-8")
    ws = Workspace(folder / "shop.duckdb")
    orders = [
        order(
            f"#{1000 + i}", f"{who}@example.com", f"{day} 12:00:00 -0500", [(1, "Mug", amount, "M")]
        )
        for i, (who, day, amount) in enumerate(ORDERS)
    ]
    ws.import_file(write_orders(folder / "orders_export.csv", orders))
    ws.import_file(write_events(folder / "events.csv"))
    ws.refresh(END)
    ws.refresh(START)  # history only
    yield ws
    ws.close()


def test_kpis_and_lifts_match_the_hand_worked_values(shop: Workspace):
    records = {r["segment"]: r for r in segment_kpis(shop.store, ["buyers_2"], Window(START, END))}
    for segment, expected in EXPECTED.items():
        got = records[segment]
        assert (got["start"], got["end"]) == (START, END)
        for kpi, value in expected.items():
            assert got[kpi] == (pytest.approx(value) if value is not None else None), (segment, kpi)
    lifts = records["buyers_2"]
    assert lifts["lift_conversion_rate"] == pytest.approx((1 / 2) / (2 / 5) - 1)
    assert lifts["lift_repeat_rate_90d"] == pytest.approx(1.0)
    assert lifts["lift_aov"] == pytest.approx(75 / (350 / 3) - 1)
    assert lifts["lift_email_click_rate"] == pytest.approx(0.5)
    assert lifts["lift_predicted_clv_12m"] is None
    assert records[BASELINE]["lift_churn_rate"] == 0
    frame = shop.kpis(["buyers_2"], start=START, end=END).set_index("segment")
    assert frame.loc["buyers_2", "historic_clv"] == pytest.approx(275.0)
    assert list(shop.segment_history("buyers_2").itertuples(index=False, name=None)) == [
        (START, 2, 2, 0),
        (END, 3, 1, 0),  # c ordered again in May
    ]


def test_trend_windows_are_calendar_periods():
    months = trend_windows(date(2025, 4, 12), date(2025, 6, 18), "month")
    assert months == [
        Window(date(2025, 3, 31), date(2025, 4, 30)),
        Window(date(2025, 4, 30), date(2025, 5, 31)),
        Window(date(2025, 5, 31), date(2025, 6, 18)),
    ]
    quarters = trend_windows(date(2025, 1, 1), date(2025, 6, 30), "quarter")
    assert quarters == [Window(date(2024, 12, 31), date(2025, 3, 31)), Window(START, END)]


def test_kpis_command(shop: Workspace):
    runner = CliRunner()
    with closed_for_cli(shop) as path:
        done = runner.invoke(
            app,
            [
                "-w",
                path,
                "kpis",
                "buyers_2",
                "--from",
                "2025-03-31",
                "--to",
                "2025-06-30",
                "--json",
            ],
        )
        assert done.exit_code == 0, done.output
        rows = {r["segment"]: r for r in json.loads(done.stdout)}
        assert rows["buyers_2"]["share_of_revenue"] == pytest.approx(150 / 350)
        assert rows[BASELINE]["customers"] == 5 and rows["buyers_2"]["start"] == "2025-03-31"
        window = runner.invoke(app, ["-w", path, "kpis", "buyers_2", "--window", "91d", "--json"])
        assert window.exit_code == 0, window.output
        assert json.loads(window.stdout)[0]["conversion_rate"] == pytest.approx(0.5)
        trend = runner.invoke(
            app,
            [
                "-w",
                path,
                "kpis",
                "buyers_2",
                "--every",
                "quarter",
                "--since",
                "2025-04-01",
                "--json",
            ],
        )
        assert trend.exit_code == 0, trend.output
        assert [(r["segment"], r["end"]) for r in json.loads(trend.stdout)] == [
            ("buyers_2", "2025-06-30"),
            (BASELINE, "2025-06-30"),
        ]
        table = runner.invoke(app, ["-w", path, "kpis", "buyers_2", "--window", "91d"])
        assert table.exit_code == 0 and "conversion_rate" in table.stdout
        wrong = runner.invoke(app, ["-w", path, "kpis", "buyer_2"])
        assert wrong.exit_code != 0
        assert wrong.stderr.startswith("Error: no history of a segment 'buyer_2'")
