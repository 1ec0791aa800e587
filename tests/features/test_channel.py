"""Channel and device features on hand-built orders and events, worked by hand."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from segmint.features.catalog import CATALOG
from segmint.features.channel import channel_features
from segmint.features.tables import Tables
from segmint.workspace import Workspace
from shopify_files import order, write_customers, write_orders

AS_OF = date(2025, 6, 30)
FEATURES = (
    "preferred_channel",
    "preferred_channel_share",
    "channels_used",
    "channels",
    "preferred_device",
)
EVENTS_HEADER = ["Event", "Timestamp", "Email", "$event_id", "$value", "Device", "Campaign Name"]


def mug_order(name: str, email: str, created: str, source: str, **fields: str) -> dict:
    return order(name, email, created, [(1, "Mug", "20.00", "MUG")], Source=source, **fields)


def event(when: str, email: str, device: str) -> list[str]:
    return ["Opened Email", when, email, "", "", device, "Spring sale"]


@pytest.fixture
def shop(workspace: Workspace, tmp_path: Path) -> Workspace:
    orders = [
        # Ann: web 2, pos 2 (app via iphone 1); the latest of the tied ones is web's #1005
        mug_order("#1001", "ann@example.com", "2025-01-10 09:00:00 -0500", "web"),
        mug_order("#1002", "ann@example.com", "2025-02-01 09:00:00 -0500", "pos"),
        mug_order("#1003", "ann@example.com", "2025-03-01 09:00:00 -0500", "pos"),
        mug_order("#1004", "ann@example.com", "2025-03-15 09:00:00 -0500", "iphone"),
        mug_order("#1005", "ann@example.com", "2025-04-01 09:00:00 -0500", "web"),
        # cancelled, and after the as-of day: both would make pos her channel
        mug_order(
            "#1006",
            "ann@example.com",
            "2025-05-01 09:00:00 -0500",
            "pos",
            **{"Cancelled at": "2025-05-01 10:00:00 -0500"},
        ),
        mug_order("#1007", "ann@example.com", "2025-07-02 09:00:00 -0500", "pos"),
        # Bob: one order from Facebook & Instagram
        mug_order("#1008", "bob@example.com", "2025-05-01 08:00:00 -0500", "580111"),
    ]
    workspace.import_file(write_orders(tmp_path / "orders_export.csv", orders))
    customers = [
        {"Customer ID": "501", "Email": "cy@example.com", "First Name": "Cy"},
        {"Customer ID": "502", "Email": "dee@example.com", "First Name": "Dee"},
    ]
    workspace.import_file(write_customers(tmp_path / "customers_export.csv", customers))
    events = [
        # Ann: mobile 2, desktop 1, no device 3 (not counted); desktop 3 after the as-of day
        event("2025-06-01T10:00:00Z", "ann@example.com", "mobile"),
        event("2025-06-02T10:00:00Z", "ann@example.com", "mobile"),
        event("2025-06-03T10:00:00Z", "ann@example.com", "desktop"),
        *[event(f"2025-06-0{d}T10:00:00Z", "ann@example.com", "") for d in (4, 5, 6)],
        *[event(f"2025-07-0{d}T10:00:00Z", "ann@example.com", "desktop") for d in (2, 3, 4)],
        # Cy, no orders: desktop 1, tablet 1; the tablet is the most recent
        event("2025-06-01T10:00:00Z", "cy@example.com", "desktop"),
        event("2025-06-01T11:00:00Z", "cy@example.com", "tablet"),
    ]
    path = tmp_path / "klaviyo_events.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerows([EVENTS_HEADER, *events])
    result = workspace.import_file(path)
    assert (result.rows_loaded, result.rows_rejected) == (len(events), 0)
    return workspace


def by_email(ws: Workspace, as_of: date = AS_OF) -> dict[str, dict]:
    rows = channel_features(Tables.of(ws.store), as_of).to_pyarrow().to_pylist()
    customers = ws.table("customers").select("customer_id", "email").to_pyarrow().to_pylist()
    emails = {c["customer_id"]: c["email"] for c in customers}
    assert len(rows) == len(customers) == len({r["customer_id"] for r in rows})
    return {emails[r["customer_id"]]: r for r in rows}


def test_columns_are_registered_in_the_catalog(shop: Workspace):
    assert tuple(channel_features(Tables.of(shop.store), AS_OF).columns) == (
        "customer_id",
        *FEATURES,
    )
    assert CATALOG["channels"].type == "list"
    assert all(CATALOG[f].group == "Channel and device" for f in FEATURES)


def test_a_channel_tie_goes_to_the_most_recent_order(shop: Workspace):
    ann = by_email(shop)["ann@example.com"]
    assert ann["preferred_channel"] == "web"
    assert ann["preferred_channel_share"] == pytest.approx(2 / 5)
    assert ann["channels_used"] == 3
    assert ann["channels"] == ["app", "pos", "web"]
    assert ann["preferred_device"] == "mobile"


def test_one_order_no_orders_and_no_events(shop: Workspace):
    found = by_email(shop)
    bob, cy, dee = found["bob@example.com"], found["cy@example.com"], found["dee@example.com"]
    assert [bob[f] for f in FEATURES] == ["social", 1.0, 1, ["social"], None]
    assert [cy[f] for f in FEATURES] == [None, None, 0, [], "tablet"]
    assert [dee[f] for f in FEATURES] == [None, None, 0, [], None]


def test_a_later_as_of_counts_the_later_order_and_events(shop: Workspace):
    ann = by_email(shop, date(2025, 7, 4))["ann@example.com"]
    assert ann["preferred_channel"] == "pos"  # 3 against web 2 with #1007
    assert ann["preferred_channel_share"] == pytest.approx(3 / 6)
    assert ann["preferred_device"] == "desktop"  # 1 + 3 against mobile 2
