"""Browsing and cart intent features on hand-built events and orders, worked out by hand.

The workspace zone is -05:00 (the Shopify export's offset) and every event is written with
that offset, so each event's local day is the day written. As of 30 June 2025 the last 3
days are 28-30 June and the last 30 days start on 1 June.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from segmint.features.catalog import CATALOG
from segmint.features.intent import REPEAT_VIEWS, REPEAT_WINDOW_DAYS, intent_features
from segmint.features.tables import Tables
from segmint.workspace import Workspace
from shopify_files import order, write_customers, write_orders

AS_OF = date(2025, 6, 30)
HEADER = ["Event", "Timestamp", "Email", "$event_id", "$value", "Product ID", "Product Name"]
ANN, BOB, CY, DEE, EVE, FAY = (
    f"{name}@example.com" for name in ("ann", "bob", "cy", "dee", "eve", "fay")
)
#: (event, local time, email, order id, value, product id, product name)
EVENTS = [
    # Ann: buyer; views at the 30-day edge, visits after as-of ignored
    ("Active on Site", "2025-06-10T12:00:00-05:00", ANN, "", "", "", ""),
    ("Active on Site", "2025-07-01T12:00:00-05:00", ANN, "", "", "", ""),
    ("Viewed Product", "2025-06-01T12:00:00-05:00", ANN, "", "", "MUG", "Mug"),  # 29 days
    ("Viewed Product", "2025-05-31T12:00:00-05:00", ANN, "", "", "MUG", "Mug"),  # 30 days
    # Bob: events, no orders; a product viewed on 28 (2 days before) and 29 June, in his cart
    ("Viewed Product", "2025-06-27T10:00:00-05:00", BOB, "", "", "CAP", "Cap"),  # 3 days
    ("Viewed Product", "2025-06-28T10:00:00-05:00", BOB, "", "", "LS-M", "Linen Shirt - M"),
    ("Viewed Product", "2025-06-29T10:00:00-05:00", BOB, "", "", "LS-M", "Linen Shirt - M"),
    ("Added to Cart", "2025-06-29T10:05:00-05:00", BOB, "", "", "LS-M", "Linen Shirt - M"),
    ("Active on Site", "2025-06-30T08:00:00-05:00", BOB, "", "", "", ""),
    # Dee: cart closed by her 25 June order; Linen Shirt on 27 and 28 June (her 29 June
    # order comes after the first of them); Wool Hat (no id) on 29 and 30 June, after it
    ("Added to Cart", "2025-06-20T10:00:00-05:00", DEE, "", "", "LS-M", "Linen Shirt - M"),
    ("Viewed Product", "2025-06-27T15:00:00-05:00", DEE, "", "", "LS-M", "Linen Shirt - M"),
    ("Viewed Product", "2025-06-28T15:00:00-05:00", DEE, "", "", "LS-M", "Linen Shirt - M"),
    ("Viewed Product", "2025-06-29T10:00:00-05:00", DEE, "", "", "", "Wool Hat"),
    ("Viewed Product", "2025-06-30T10:00:00-05:00", DEE, "", "", "", "Wool Hat"),
    ("Started Checkout", "2025-07-01T10:00:00-05:00", DEE, "", "", "", ""),
    # Eve: viewed twice, then carted and bought at the same instant (a Placed Order event)
    ("Viewed Product", "2025-06-29T15:00:00-05:00", EVE, "", "", "TEA", "Teapot"),
    ("Viewed Product", "2025-06-30T09:00:00-05:00", EVE, "", "", "TEA", "Teapot"),
    ("Added to Cart", "2025-06-30T11:00:00-05:00", EVE, "", "", "TEA", "Teapot"),
    ("Placed Order", "2025-06-30T11:00:00-05:00", EVE, "#2001", "25.00", "", ""),
    # Fay: cart, then a cancelled order (does not close it) and an order after as-of;
    # two products once each and two views that name no product
    ("Added to Cart", "2025-06-20T10:00:00-05:00", FAY, "", "", "A", "Alpha"),
    ("Viewed Product", "2025-06-29T10:00:00-05:00", FAY, "", "", "A", "Alpha"),
    ("Viewed Product", "2025-06-29T10:01:00-05:00", FAY, "", "", "B", "Alpha"),
    ("Viewed Product", "2025-06-29T10:02:00-05:00", FAY, "", "", "", ""),
    ("Viewed Product", "2025-06-29T10:03:00-05:00", FAY, "", "", "", ""),
]


def write_events(path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(EVENTS)
    return path


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """One workspace for the module (the tests only read it): imports are the slow part."""
    tmp_path = tmp_path_factory.mktemp("intent")
    workspace = Workspace(tmp_path / "test.duckdb")
    mug = [(1, "Mug", "20.00", "MUG")]
    orders = [
        order("#1001", ANN, "2025-06-15 12:00:00 -0500", mug),
        order("#1002", DEE, "2025-06-25 12:00:00 -0500", mug),
        order("#1003", DEE, "2025-06-29 09:00:00 -0500", mug),
        order(
            "#1004",
            FAY,
            "2025-06-21 12:00:00 -0500",
            mug,
            **{"Cancelled at": "2025-06-21 13:00:00 -0500"},
        ),
        order("#1005", FAY, "2025-07-01 12:00:00 -0500", mug),
    ]
    workspace.import_file(write_orders(tmp_path / "orders_export.csv", orders))
    customers = [{"Customer ID": "501", "Email": CY, "First Name": "Cy"}]
    workspace.import_file(write_customers(tmp_path / "customers_export.csv", customers))
    result = workspace.import_file(write_events(tmp_path / "klaviyo_events.csv"))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (len(EVENTS), 24, 0)
    yield workspace
    workspace.close()


def by_email(ws: Workspace, as_of: date) -> dict[str, dict]:
    table = intent_features(Tables.of(ws.store), as_of).to_pyarrow().to_pylist()
    customers = ws.table("customers").to_pyarrow().to_pylist()
    emails = {c["customer_id"]: c["email"] for c in customers}
    assert len(table) == len(customers) == 6  # exactly one row per customer
    return {emails[row["customer_id"]]: row for row in table}


def values(row: dict) -> tuple:
    return (
        row["product_views_3d"],
        row["product_views_30d"],
        row["viewed_product_repeatedly"],
        row["open_cart"],
        row["days_since_last_site_visit"],
    )


def test_the_repeat_rule_is_two_views_in_three_days():
    assert (REPEAT_VIEWS, REPEAT_WINDOW_DAYS) == (2, 3)


def test_every_customer_as_of_30_june(shop: Workspace):
    found = by_email(shop, AS_OF)
    # views 3d, views 30d, repeatedly, open cart, days since last site visit
    assert values(found[ANN]) == (0, 1, False, False, 20)  # 1 June in, 31 May out; 10 June
    assert values(found[BOB]) == (2, 3, True, True, 0)  # 27 June outside the 3 days
    assert values(found[CY]) == (0, 0, False, False, None)  # no events at all
    # Dee: Linen Shirt once in the 3 days (28 June); Wool Hat twice by name, after her last
    # order (29 June 09:00 < 10:00); her 20 June cart is closed by the 25 June order
    assert values(found[DEE]) == (3, 4, True, False, 0)
    # Eve: bought at the instant she carted, after her first view
    assert values(found[EVE]) == (2, 2, False, False, 0)
    # Fay: A and B once each; views naming no product are ignored; a cancelled order does
    # not close her cart, the 1 July order is after as-of
    assert values(found[FAY]) == (4, 4, False, True, 1)


def test_repeated_views_at_the_window_edge_and_an_order_since(shop: Workspace):
    # As of 28 June the 3 days start on 26 June: Dee's Linen Shirt twice, last order 25 June.
    assert by_email(shop, date(2025, 6, 28))[DEE]["viewed_product_repeatedly"] is True
    # As of 29 June: the same two views, but her 29 June order is after the first of them,
    # and Wool Hat has one view so far.
    dee = by_email(shop, date(2025, 6, 29))[DEE]
    assert dee["viewed_product_repeatedly"] is False
    assert (dee["product_views_3d"], dee["product_views_30d"]) == (3, 3)
    # As of 1 July the 3 days are 29 June - 1 July: Bob's 28 June view falls out.
    bob = by_email(shop, date(2025, 7, 1))[BOB]
    assert (bob["product_views_3d"], bob["viewed_product_repeatedly"]) == (1, False)


def test_carts_after_as_of_and_orders_after_as_of(shop: Workspace):
    found = by_email(shop, date(2025, 7, 1))
    assert found[DEE]["open_cart"] is True  # 1 July checkout, no order since
    assert found[FAY]["open_cart"] is False  # 1 July order closes the 20 June cart
    assert found[ANN]["days_since_last_site_visit"] == 0  # 1 July visit now counts
    before = by_email(shop, date(2025, 6, 19))
    assert before[FAY]["open_cart"] is False and before[DEE]["open_cart"] is False
    assert before[FAY]["days_since_last_site_visit"] is None


def test_columns_types_and_catalog(shop: Workspace):
    table = intent_features(Tables.of(shop.store), AS_OF)
    names = [
        "product_views_3d",
        "product_views_30d",
        "viewed_product_repeatedly",
        "open_cart",
        "browsed_category",
        "days_since_last_site_visit",
    ]
    assert table.columns == ("customer_id", *names)
    kinds = {"integer": "int", "boolean": "boolean", "string": "string"}
    for name in names:
        entry = CATALOG[name]
        assert entry.group == "Browsing and cart intent" and entry.definition.endswith(".")
        assert str(table.schema()[name]).startswith(kinds[entry.type]), name
