"""Events CSV: Klaviyo and GA4 names, rejects, UTC timestamps, re-imports and overlaps, and
Placed Order / purchase events against store orders imported before or after them."""

from __future__ import annotations

import csv
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from segmint.definitions import customer_value
from segmint.importers.base import ImportOptions
from segmint.workspace import Workspace
from shopify_files import order, write_orders

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "events"
KLAVIYO = FIXTURES / "klaviyo_events.csv"
KLAVIYO_HEADER = ["Event", "Timestamp", "Email", "$event_id", "$value", "Device", "Campaign Name"]
GA4_HEADER = [
    "event_date",
    "event_timestamp",
    "event_name",
    "user_id",
    "user_pseudo_id",
    "transaction_id",
    "purchase_revenue",
    "item_id",
    "item_name",
    "item_category",
    "device_category",
]
#: The canonical type of each name, as docs/data-model.md and the issue list them.
KLAVIYO_TYPES = {
    "Received Email": "received_email",
    "Opened Email": "opened_email",
    "Clicked Email": "clicked_email",
    "Unsubscribed": "unsubscribed",
    "Bounced Email": "bounced_email",
    "Marked Email as Spam": "marked_spam",
    "Viewed Product": "viewed_product",
    "Added to Cart": "added_to_cart",
    "Started Checkout": "started_checkout",
    "Checkout Started": "started_checkout",
    "Placed Order": "placed_order",
    "Active on Site": "active_on_site",
    "Opened email": "opened_email",  # newer sentence case
    "marked  email as SPAM": "marked_spam",
}
GA4_TYPES = {
    "view_item": "viewed_product",
    "add_to_cart": "added_to_cart",
    "begin_checkout": "started_checkout",
    "purchase": "placed_order",
}
NO_IDENTITY = "no usable email, phone or customer_id: the event cannot be linked to a customer"


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def klaviyo_row(event: str, when: str, email: str, event_id: str = "", value: str = "") -> list:
    return [event, when, email, event_id, value, "", ""]


def micros(text: str) -> str:
    """GA4's event_timestamp: microseconds since the epoch, for an ISO instant in UTC."""
    instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return str(int(instant.timestamp()) * 1_000_000 + 123_456)


def events_by(ws: Workspace, column: str) -> dict:
    events = ws.table("events").to_pyarrow().to_pylist()
    return {e[column]: e for e in events}


def spent_by_email(ws: Workspace) -> dict[str, tuple[int, Decimal]]:
    """customer_value's number of orders and amount spent, keyed by the customer's email."""
    value = customer_value(ws.table("orders"), ws.table("refunds")).to_pyarrow().to_pylist()
    emails = {c["customer_id"]: c["email"] for c in ws.table("customers").to_pyarrow().to_pylist()}
    return {emails[v["customer_id"]]: (v["number_of_orders"], v["amount_spent"]) for v in value}


# -- names ------------------------------------------------------------------------------------
def test_klaviyo_metric_names_map_to_canonical_types(workspace: Workspace, tmp_path: Path):
    rows = [
        klaviyo_row(name, f"2025-04-01T10:{i:02d}:00Z", "ann@example.com")
        for i, name in enumerate(KLAVIYO_TYPES)
    ]
    result = workspace.import_file(write_csv(tmp_path / "metrics.csv", KLAVIYO_HEADER, rows))
    assert result.format == "events"
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (14, 14, 0)
    assert result.events_new == 14
    stored = {e["event_name"]: e["event_type"] for e in events_by(workspace, "event_id").values()}
    assert stored == KLAVIYO_TYPES  # the name is kept as written
    assert workspace.summary()["customers"] == 1


def test_ga4_export_names_epoch_timestamps_and_user_ids(workspace: Workspace, tmp_path: Path):
    rows = [
        ["20250401", micros("2025-04-01T08:00:00Z"), "view_item", "7001", "p.1", "", "", "SKU-9",
         "Teapot", "Kitchen", "mobile"],
        ["20250401", micros("2025-04-01T08:01:00Z"), "add_to_cart", "7001", "p.1", "", "",
         "SKU-9", "Teapot", "Kitchen", "mobile"],
        ["20250401", micros("2025-04-01T08:02:00Z"), "begin_checkout", "7001", "p.1", "", "",
         "", "", "", "mobile"],
        ["20250401", micros("2025-04-01T08:03:00Z"), "purchase", "7001", "p.1", "T-88", "64.50",
         "", "", "", "mobile"],
        ["20250401", micros("2025-04-01T08:04:00Z"), "page_view", "", "p.2", "", "", "", "", "",
         "desktop"],
    ]  # fmt: skip
    result = workspace.import_file(write_csv(tmp_path / "events_20250401.csv", GA4_HEADER, rows))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (5, 4, 1)
    # user_pseudo_id is a cookie, not a person: the anonymous page_view links to nobody.
    assert [
        (r["row_number"], r["column"], r["raw_value"], r["reason"])
        for r in workspace.rejects(result.import_id).to_pylist()
    ] == [(6, "user_id", None, NO_IDENTITY)]
    events = events_by(workspace, "event_name")
    assert {name: e["event_type"] for name, e in events.items()} == GA4_TYPES
    assert events["view_item"]["occurred_at"] == datetime(2025, 4, 1, 8, 0)
    assert events["view_item"]["product_id"] == "SKU-9"
    assert events["view_item"]["category"] == "Kitchen"
    assert events["purchase"]["value"] == Decimal("64.50")
    assert events["purchase"]["order_id"] == "T-88"
    customer = workspace.find_customer("shopify:7001")  # events_customer_id_namespace
    assert customer is not None
    assert {e["customer_id"] for e in events.values()} == {customer["customer_id"]}
    # The purchase is an order nobody imported yet: it becomes one, from the event.
    orders = workspace.to_pandas("orders")
    assert list(orders.order_id) == ["T-88"]
    assert list(orders.source) == ["events"]
    assert orders.total.iloc[0] == Decimal("64.50")


def test_unknown_names_and_bad_cells_are_rejects_with_row_and_column(
    workspace: Workspace, tmp_path: Path
):
    rows = [
        klaviyo_row("Opened Email", "2025-04-01T10:00:00Z", "ann@example.com"),
        klaviyo_row("Fulfilled Shipment", "2025-04-01T10:01:00Z", "ann@example.com"),
        klaviyo_row("Fulfilled Shipment", "2025-04-01T10:02:00Z", "bob@example.com"),
        klaviyo_row("", "2025-04-01T10:03:00Z", "ann@example.com"),
        klaviyo_row("Opened Email", "01/04/2025 10:04", "ann@example.com"),
        klaviyo_row("Opened Email", "", "ann@example.com"),
        klaviyo_row("Placed Order", "2025-04-01T10:06:00Z", "ann@example.com", "9001", "-3.00"),
        klaviyo_row("Placed Order", "2025-04-01T10:07:00Z", "ann@example.com", "9002", "12,00"),
        klaviyo_row("Clicked Email", "2025-04-01T10:08:00Z", "ann at example.com"),
        klaviyo_row("Clicked Email", "2025-04-01T10:09:00Z", "bob@example.com"),
    ]
    result = workspace.import_file(write_csv(tmp_path / "metrics.csv", KLAVIYO_HEADER, rows))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (10, 2, 8)
    unknown = "unknown event name 'Fulfilled Shipment' (not a Klaviyo or GA4 event segmint knows)"
    assert [
        (r["row_number"], r["column"], r["raw_value"], r["reason"])
        for r in workspace.rejects(result.import_id).to_pylist()
    ] == [
        (3, "Event", "Fulfilled Shipment", unknown),
        (4, "Event", "Fulfilled Shipment", unknown),
        (5, "Event", "", "no event name"),
        (6, "Timestamp", "01/04/2025 10:04", "not a date-time"),
        (7, "Timestamp", "", "no timestamp"),
        (8, "$value", "-3.00", "value below 0"),
        (9, "$value", "12,00", "not a number"),
        (10, "Email", "ann at example.com", NO_IDENTITY),
    ]
    assert workspace.table("orders").count().execute() == 0


# -- time -------------------------------------------------------------------------------------
def test_timestamps_are_stored_in_utc(workspace: Workspace, tmp_path: Path):
    workspace.set_setting("timezone", "America/New_York")
    spellings = {
        "2025-03-01T10:00:00-05:00": datetime(2025, 3, 1, 15, 0),
        "2025-03-01 10:00:00 -0500": datetime(2025, 3, 1, 15, 0),
        "2025-03-01T20:30:00+05:30": datetime(2025, 3, 1, 15, 0),
        "2025-03-01T15:00:00Z": datetime(2025, 3, 1, 15, 0),
        "2025-03-01T15:00:00.734Z": datetime(2025, 3, 1, 15, 0),
        "2025-03-01 15:00:00 UTC": datetime(2025, 3, 1, 15, 0),
        "2025-03-01 10:00:00": datetime(2025, 3, 1, 15, 0),  # naive: the workspace zone
        "2025-03-02T03:30:00Z": datetime(2025, 3, 2, 3, 30),  # still March 1st in New York
    }
    rows = [
        klaviyo_row("Opened Email", when, f"p{i}@example.com") for i, when in enumerate(spellings)
    ]
    result = workspace.import_file(write_csv(tmp_path / "metrics.csv", KLAVIYO_HEADER, rows))
    assert (result.rows_loaded, result.rows_rejected) == (8, 0)
    events = workspace.table("events").to_pyarrow().to_pylist()
    customers = workspace.table("customers").to_pyarrow().to_pylist()
    emails = {c["customer_id"]: c["email"] for c in customers}
    stored = {emails[e["customer_id"]]: e for e in events}
    for i, expected in enumerate(spellings.values()):
        assert stored[f"p{i}@example.com"]["occurred_at"] == expected
        assert stored[f"p{i}@example.com"]["occurred_date"] == date(2025, 3, 1)


# -- re-imports -----------------------------------------------------------------------------
def test_reimport_and_overlapping_exports_add_no_event_twice(workspace: Workspace, tmp_path: Path):
    first = workspace.import_file(KLAVIYO)
    assert (first.rows_read, first.rows_loaded, first.rows_rejected) == (14, 14, 0)
    assert first.events_new == 14
    again = workspace.import_file(KLAVIYO)
    assert again.skipped and again.import_id == first.import_id
    assert workspace.table("events").count().execute() == 14

    # A later export: columns in another order, the last 5 events again, 2 new ones (one of
    # them identical to an earlier row: two opens in the same second are two events).
    with KLAVIYO.open(newline="", encoding="utf-8") as fh:
        header, *rows = list(csv.reader(fh))
    order = list(reversed(range(len(header))))
    new = [
        ["Opened Email", "2025-03-04T09:00:00-05:00", "bob@example.com", "", "01JN2Q5R8", "",
         "", "", "", "desktop", "email", "Spring Sale"],
    ]  # fmt: skip
    later = [[r[i] for i in order] for r in [*rows[-5:], *new, *new]]
    path = write_csv(tmp_path / "klaviyo_later.csv", [header[i] for i in order], later)
    result = workspace.import_file(path)
    assert (result.rows_read, result.rows_loaded, result.events_new) == (7, 7, 2)
    assert result.orders_new == 0  # its Placed Order was already imported, as an order
    assert workspace.table("events").count().execute() == 16
    # Another copy of that export, with a different name, adds nothing.
    copy = tmp_path / "klaviyo_later (1).csv"
    copy.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert workspace.import_file(copy).events_new == 0
    assert workspace.table("events").count().execute() == 16


def test_people_are_one_profile_per_email_and_phone(workspace: Workspace):
    workspace.import_file(KLAVIYO)
    customers = workspace.to_pandas("customers")
    assert sorted(customers.email.dropna()) == [
        "ann@example.com",
        "bob@example.com",
        "old@example.org",
    ]
    assert list(customers.phone.dropna()) == ["+16175550199"]
    ann = workspace.find_customer("ann@example.com")
    assert ann["first_seen_at"] == datetime(2025, 3, 1, 15, 0)
    assert workspace.summary()["customers"] == 4


# -- Placed Order and store orders ------------------------------------------------------------
def shopify_orders() -> list[dict]:
    return [
        order(
            "#1001",
            "Ann@Example.com",
            "2025-03-01 10:12:40 -0500",
            [(2, "Linen Shirt - M", "40.00", "LS-M"), (1, "Socks", "20.00", "SO-1")],
            **{
                "Shipping": 5,
                "Taxes": 7.20,
                "Discount Code": "WELCOME10",
                "Discount Amount": "10.00",
            },
        ),
        order(
            "#1002",
            "bob@example.com",
            "2025-03-02 09:00:00 -0500",
            [(1, "Mug", "30.00", "MUG")],
            **{"Refunded Amount": "10.00", "Financial Status": "partially_refunded"},
        ),
    ]


def independent_spent(orders: list[dict]) -> dict[str, tuple[int, Decimal]]:
    out: dict[str, tuple[int, Decimal]] = {}
    for o in orders:
        email = o["Email"].strip().lower()
        count, total = out.get(email, (0, Decimal(0)))
        out[email] = (count + 1, total + Decimal(o["Total"]) - Decimal(o["Refunded Amount"]))
    return out


def placed_order_events(tmp_path: Path) -> Path:
    """Ann's #1001 by its numeric id, Bob's #1002 by its name (GA4 writes whatever the site
    sends), and Cy's order that no store export has."""
    rows = [
        klaviyo_row("Placed Order", "2025-03-01T15:12:45Z", "ann@example.com", "5000000001001",
                    "99.00"),
        klaviyo_row("Placed Order", "2025-03-02T14:00:02Z", "BOB@example.com", "#1002", "30.00"),
        klaviyo_row("Placed Order", "2025-03-02T16:00:00Z", "cy@example.com", "5000000001003",
                    "48.00"),
        klaviyo_row("Opened Email", "2025-03-02T16:30:00Z", "ann@example.com"),
    ]  # fmt: skip
    return write_csv(tmp_path / "klaviyo_placed_order.csv", KLAVIYO_HEADER, rows)


def test_placed_order_for_an_imported_order_creates_no_second_order(
    workspace: Workspace, tmp_path: Path
):
    orders = shopify_orders()
    workspace.import_file(write_orders(tmp_path / "orders_export.csv", orders))
    result = workspace.import_file(placed_order_events(tmp_path))
    assert (result.rows_loaded, result.rows_rejected, result.events_new) == (4, 0, 4)
    assert result.orders_new == 1  # only cy's
    table = workspace.to_pandas("orders").set_index("order_id")
    assert sorted(table.index) == ["5000000001001", "5000000001002", "5000000001003"]
    assert table.loc["5000000001001"].source == "shopify"
    assert table.loc["5000000001003"].source == "events"
    expected = independent_spent(orders)
    expected["cy@example.com"] = (1, Decimal("48.00"))
    assert spent_by_email(workspace) == expected
    # Same email in orders and events: one customer, who owns the events too.
    assert workspace.summary()["customers"] == 3
    ann = workspace.find_customer("ann@example.com")["customer_id"]
    events = workspace.to_pandas("events")
    assert (events.customer_id == ann).sum() == 2


def test_store_export_replaces_orders_first_known_from_events(workspace: Workspace, tmp_path: Path):
    orders = shopify_orders()
    first = workspace.import_file(placed_order_events(tmp_path))
    assert first.orders_new == 3
    before = spent_by_email(workspace)
    assert before["ann@example.com"] == (1, Decimal("99.00"))  # what the event said
    result = workspace.import_file(write_orders(tmp_path / "orders_export.csv", orders))
    assert result.customers_created == 0  # ann and bob were known from their events
    table = workspace.to_pandas("orders").set_index("order_id")
    assert sorted(table.index) == ["5000000001001", "5000000001002", "5000000001003"]
    assert dict(table.source) == {
        "5000000001001": "shopify",
        "5000000001002": "shopify",  # the event's "#1002" was its order number
        "5000000001003": "events",
    }
    expected = independent_spent(orders)
    expected["cy@example.com"] = (1, Decimal("48.00"))
    assert spent_by_email(workspace) == expected
    assert workspace.summary()["customers"] == 3
    # Importing the events again (another copy) still creates no order.
    again = tmp_path / "klaviyo_placed_order (1).csv"
    again.write_text(placed_order_events(tmp_path).read_text() + "\n", encoding="utf-8")
    repeat = workspace.import_file(again)
    assert (repeat.orders_new, repeat.events_new) == (0, 0)
    assert spent_by_email(workspace) == expected


@pytest.mark.parametrize("name", ["purchase", "Placed Order"])
def test_order_event_without_id_or_value_is_only_an_event(
    workspace: Workspace, tmp_path: Path, name: str
):
    rows = [
        klaviyo_row(name, "2025-03-01T15:00:00Z", "ann@example.com", "", "20.00"),
        klaviyo_row(name, "2025-03-01T16:00:00Z", "ann@example.com", "5000000001001", ""),
    ]
    result = workspace.import_file(write_csv(tmp_path / "metrics.csv", KLAVIYO_HEADER, rows))
    assert (result.rows_loaded, result.events_new, result.orders_new) == (2, 2, 0)


def test_events_options_currency_for_event_orders(workspace: Workspace, tmp_path: Path):
    result = workspace.import_file(
        placed_order_events(tmp_path), ImportOptions(format="events", currency="EUR")
    )
    assert result.orders_new == 3
    assert set(workspace.to_pandas("orders").currency) == {"EUR"}
    assert workspace.settings.currency == "EUR"
