"""The demo store generator writes export-shaped, internally consistent, reproducible files."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

import shopify_files
from segmint.demo import DemoFiles, generate_demo_store

#: The real exports' headers, as the Shopify fixtures of the importer tests write them.
ORDERS_HEADER = ",".join(shopify_files.ORDERS_HEADER)
CUSTOMERS_HEADER = ",".join(shopify_files.CUSTOMERS_HEADER)
PRODUCTS_HEADER = ",".join(shopify_files.PRODUCTS_HEADER)
EVENTS_HEADER = (
    "event,timestamp,email,customer_id,order_id,product_id,product_name,category,value,"
    "device,channel,campaign"
)
CONTINUATION = shopify_files.CONTINUATION
ORDER_LEVEL = (
    "Financial Status",
    "Accepts Marketing",
    "Currency",
    "Subtotal",
    "Shipping",
    "Taxes",
    "Total",
    "Discount Amount",
    "Refunded Amount",
    "Outstanding Balance",
    "Id",
    "Risk Level",
    "Source",
)
SHOPIFY_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d -0500$")
EVENT_NAMES = {
    "Received Email",
    "Opened Email",
    "Clicked Email",
    "Unsubscribed",
    "Bounced Email",
    "Marked Email as Spam",
    "Viewed Product",
    "Added to Cart",
    "Started Checkout",
    "Checkout Started",
    "Placed Order",
    "Active on Site",
}
CUSTOMERS = 400


def cents(text: str) -> int:
    """``"54.00"`` -> ``5400``; money cells always have two decimals."""
    assert re.fullmatch(r"-?\d+\.\d\d", text), text
    whole, frac = text.split(".")
    return int(whole) * 100 + (int(frac) if not whole.startswith("-") else -int(frac))


def read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        return header, [dict(zip(header, row, strict=True)) for row in reader]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    return generate_demo_store(tmp_path_factory.mktemp("demo"), customers=CUSTOMERS, seed=7)


@pytest.fixture(scope="module")
def orders(store: DemoFiles) -> list[list[dict[str, str]]]:
    """Rows of the orders file grouped by order, asserting that groups are contiguous."""
    _, rows = read(store.orders)
    grouped: list[list[dict[str, str]]] = []
    for row in rows:
        if grouped and grouped[-1][0]["Name"] == row["Name"]:
            grouped[-1].append(row)
        else:
            grouped.append([row])
    assert len({g[0]["Name"] for g in grouped}) == len(grouped), "an order's rows are split"
    return grouped


def test_files_have_exact_headers_and_line_endings(store: DemoFiles) -> None:
    expected = {
        store.orders: ORDERS_HEADER,
        store.customers: CUSTOMERS_HEADER,
        store.products: PRODUCTS_HEADER,
        store.events: EVENTS_HEADER,
    }
    for path, header in expected.items():
        data = path.read_bytes()
        assert data.startswith(header.encode() + b"\n")
        assert b"\r" not in data
        data.decode("utf-8")
    assert len(ORDERS_HEADER.split(",")) == 79
    assert len(CUSTOMERS_HEADER.split(",")) == 20


def test_first_row_carries_order_fields_and_continuations_are_blank(orders) -> None:
    assert len(orders) > CUSTOMERS
    for number, rows in enumerate(orders, start=1001):
        head = rows[0]
        assert head["Name"] == f"#{number}"
        assert re.fullmatch(r"\d{13}", head["Id"])
        assert SHOPIFY_TIME.match(head["Created at"])
        for column in ORDER_LEVEL:
            assert head[column], (head["Name"], column)
        assert head["Accepts Marketing"] in {"yes", "no"}
        assert 1 <= len(rows) <= 4
        for row in rows[1:]:
            assert row["Created at"] == head["Created at"]
            assert row["Email"] == head["Email"]
            filled = {k for k, v in row.items() if v}
            assert filled <= CONTINUATION, (row["Name"], filled - CONTINUATION)
    created = [rows[0]["Created at"] for rows in orders]
    assert created == sorted(created)
    ids = [int(rows[0]["Id"]) for rows in orders]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_order_money_adds_up(orders) -> None:
    for rows in orders:
        head = rows[0]
        gross = sum(int(r["Lineitem quantity"]) * cents(r["Lineitem price"]) for r in rows)
        discount = cents(head["Discount Amount"])
        assert cents(head["Subtotal"]) == gross - discount, head["Name"]
        assert sum(cents(r["Lineitem discount"]) for r in rows) == discount
        taxes = sum(cents(head[f"Tax {i} Value"]) for i in range(1, 6) if head[f"Tax {i} Name"])
        assert cents(head["Taxes"]) == taxes
        total = cents(head["Subtotal"]) + cents(head["Shipping"]) + cents(head["Taxes"])
        assert cents(head["Total"]) == total, head["Name"]
        assert 0 <= cents(head["Refunded Amount"]) <= total
        assert bool(head["Discount Code"]) == (discount > 0 or head["Discount Code"] == "FREESHIP")


def test_statuses_cancellations_and_refunds(orders) -> None:
    heads = [rows[0] for rows in orders]
    cancelled = [h for h in heads if h["Cancelled at"]]
    assert cancelled and len(cancelled) < 0.06 * len(heads)
    assert {h["Financial Status"] for h in cancelled} <= {"voided", "refunded"}
    partial = [h for h in heads if h["Financial Status"] == "partially_refunded"]
    assert partial
    assert all(0 < cents(h["Refunded Amount"]) < cents(h["Total"]) for h in partial)
    refunded = [h for h in heads if h["Financial Status"] == "refunded" and not h["Cancelled at"]]
    assert all(cents(h["Refunded Amount"]) == cents(h["Total"]) for h in refunded)
    assert sum(h["Financial Status"] == "paid" for h in heads) > 0.85 * len(heads)
    assert all(not h["Paid at"] for h in heads if h["Financial Status"] in {"pending", "voided"})
    sources = {h["Source"] for h in heads}
    assert {"web", "pos"} <= sources
    assert sum(h["Source"] == "web" for h in heads) > 0.5 * len(heads)
    assert sum(bool(h["Discount Code"]) for h in heads) > 0.05 * len(heads)


def test_formats_of_zips_phones_and_ids(store: DemoFiles, orders) -> None:
    heads = [rows[0] for rows in orders]
    us = [h for h in heads if h["Billing Country"] == "US"]
    assert us and all(re.fullmatch(r"'\d{5}", h["Billing Zip"]) for h in us)
    phones = [h["Phone"] for h in heads if h["Phone"]]
    assert phones and all(re.fullmatch(r"'\+\d{8,15}", p) for p in phones)
    _, customers = read(store.customers)
    assert all(re.fullmatch(r"'\d{13}", c["Customer ID"]) for c in customers)
    assert all(re.fullmatch(r"'\+\d{8,15}", c["Phone"]) for c in customers if c["Phone"])
    assert all(c["Accepts Email Marketing"] in {"yes", "no"} for c in customers)


def test_customers_totals_match_orders_file(store: DemoFiles, orders) -> None:
    spent: dict[str, int] = defaultdict(int)
    count: dict[str, int] = defaultdict(int)
    guests = 0
    for rows in orders:
        head = rows[0]
        key = head["Email"].strip().lower() or head["Phone"]
        if not key:
            guests += 1
            continue
        if head["Cancelled at"]:
            continue
        spent[key] += cents(head["Total"]) - cents(head["Refunded Amount"])
        count[key] += 1
    _, customers = read(store.customers)
    assert len(customers) == CUSTOMERS
    keys = set()
    for customer in customers:
        key = customer["Email"] or customer["Phone"]
        keys.add(key)
        assert customer["Email"] == customer["Email"].strip().lower()
        assert int(customer["Total Orders"]) == count.get(key, 0), key
        assert cents(customer["Total Spent"]) == spent.get(key, 0), key
    assert set(count) <= keys
    assert guests < 0.02 * len(orders)


def test_purchase_behaviour_is_plausible(store: DemoFiles, orders) -> None:
    _, customers = read(store.customers)
    totals = [int(c["Total Orders"]) for c in customers]
    buyers = [t for t in totals if t > 0]
    assert 0.05 < 1 - len(buyers) / len(totals) < 0.4  # subscribers and browsers only
    one_share = sum(t == 1 for t in buyers) / len(buyers)
    assert 0.35 < one_share < 0.75
    assert max(buyers) >= 8  # a heavy tail of loyal customers
    months = [int(rows[0]["Created at"][5:7]) for rows in orders]
    peak = sum(m in (11, 12) for m in months) / len(months)
    assert peak > 2 / 12  # November and December are busier than an average month
    emails = [rows[0]["Email"] for rows in orders if rows[0]["Email"]]
    assert any(e != e.strip().lower() for e in emails)
    assert sum(not rows[0]["Email"] for rows in orders) < 0.05 * len(orders)


def test_consent_shares(store: DemoFiles) -> None:
    _, customers = read(store.customers)
    email_yes = sum(c["Accepts Email Marketing"] == "yes" for c in customers) / len(customers)
    assert 0.3 < email_yes < 0.7
    sms_yes = sum(c["Accepts SMS Marketing"] == "yes" for c in customers) / len(customers)
    assert 0.02 < sms_yes < 0.4
    tags = {t for c in customers for t in c["Tags"].split(", ") if t}
    assert {"newsletter", "VIP"} <= tags


def test_line_items_reference_the_catalog(store: DemoFiles, orders) -> None:
    _, products = read(store.products)
    titles: dict[str, str] = {}
    by_sku = {}
    for row in products:
        if row["Title"]:
            titles[row["Handle"]] = row["Title"]
        title = titles[row["Handle"]]
        multi = row["Option1 Value"] != "Default Title"
        by_sku[row["Variant SKU"]] = (
            f"{title} - {row['Option1 Value']}" if multi else title,
            row["Variant Price"],
        )
    assert 60 <= len(titles) <= 120
    assert len({r["Product Category"] for r in products if r["Product Category"]}) >= 6
    assert any(r["Variant Compare At Price"] for r in products)
    for rows in orders:
        for row in rows:
            assert by_sku[row["Lineitem sku"]] == (row["Lineitem name"], row["Lineitem price"])


def test_events_are_sorted_and_placed_orders_match(store: DemoFiles, orders) -> None:
    _, events = read(store.events)
    assert 5 * CUSTOMERS < len(events) < 120 * CUSTOMERS
    stamps = [e["timestamp"] for e in events]
    assert stamps == sorted(stamps)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", s) for s in stamps)
    assert {e["event"] for e in events} == EVENT_NAMES
    assert all(e["email"] and not e["customer_id"] for e in events)
    totals = {rows[0]["Id"]: rows[0]["Total"] for rows in orders}
    placed = [e for e in events if e["event"] == "Placed Order"]
    assert 0.5 * len(orders) < len(placed) <= len(orders)
    for event in placed:
        assert event["value"] == totals[event["order_id"]]
    assert len({e["order_id"] for e in placed}) == len(placed)
    assert all(not e["order_id"] for e in events if e["event"] != "Placed Order")
    email_events = [e for e in events if e["event"].endswith("Email")]
    assert all(e["channel"] == "email" and e["campaign"] for e in email_events)
    site = [e for e in events if e["event"] in {"Viewed Product", "Added to Cart"}]
    assert all(e["device"] in {"desktop", "mobile", "tablet"} and e["product_id"] for e in site)
    checkouts = [e["event"] for e in events if "heckout" in e["event"]]
    assert 0.15 < checkouts.count("Checkout Started") / len(checkouts) < 0.45


def test_same_seed_same_bytes_other_seed_differs(store: DemoFiles, tmp_path: Path) -> None:
    again = generate_demo_store(tmp_path / "again", customers=CUSTOMERS, seed=7)
    for name in ("orders", "customers", "products", "events"):
        assert getattr(again, name).read_bytes() == getattr(store, name).read_bytes(), name
    other = generate_demo_store(tmp_path / "other", customers=CUSTOMERS, seed=8)
    assert other.orders.read_bytes() != store.orders.read_bytes()
    assert other.customers.read_bytes() != store.customers.read_bytes()


def test_window_and_offset_arguments(tmp_path: Path) -> None:
    files = generate_demo_store(
        tmp_path, customers=60, seed=1, years=1.0, end=date(2025, 6, 30), timezone_offset="+0100"
    )
    _, rows = read(files.orders)
    created = [r["Created at"] for r in rows]
    assert all(c.endswith(" +0100") for c in created)
    assert min(created) >= "2024-06-30" and max(created) < "2025-07-01"
    with pytest.raises(ValueError):
        generate_demo_store(tmp_path, customers=10, timezone_offset="EST")
