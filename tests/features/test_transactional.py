"""Transactional features on hand-built customers, each value worked out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from segmint.features import customer_features, default_as_of
from segmint.features.catalog import CATALOG
from segmint.workspace import Workspace
from shopify_files import order, write_customers, write_orders

D = Decimal


@pytest.fixture
def shop(workspace: Workspace, tmp_path: Path) -> Workspace:
    """Ann: 3 orders (one partly refunded) and a cancelled one; Bob: one order; Cy: none."""
    orders = [
        order(
            "#1001",
            "ann@example.com",
            "2025-01-10 09:00:00 -0500",
            [(2, "Mug", "20.00", "MUG")],
            Shipping=5,
            Taxes=3,
        ),  # total 48.00
        order(
            "#1002",
            "ann@example.com",
            "2025-03-01 23:30:00 -0500",
            [(1, "Cap", "30.00", "CAP")],
            **{"Refunded Amount": "10.00", "Financial Status": "partially_refunded"},
        ),
        order(
            "#1003",
            "ann@example.com",
            "2025-06-20 12:00:00 -0500",
            [(1, "Bag", "100.00", "BAG")],
            Shipping=10,
        ),  # total 110.00
        order(
            "#1004",
            "ann@example.com",
            "2025-06-25 12:00:00 -0500",
            [(1, "Bag", "100.00", "BAG")],
            **{"Cancelled at": "2025-06-25 13:00:00 -0500"},
        ),
        order(
            "#1005", "bob@example.com", "2025-05-01 08:00:00 -0500", [(1, "Mug", "20.00", "MUG")]
        ),
    ]
    workspace.import_file(write_orders(tmp_path / "orders_export.csv", orders))
    customers = [{"Customer ID": "501", "Email": "cy@example.com", "First Name": "Cy"}]
    workspace.import_file(write_customers(tmp_path / "customers_export.csv", customers))
    return workspace


def features_by_email(ws: Workspace, as_of: date | None = None) -> dict[str, dict]:
    table = customer_features(ws.store, as_of).table.to_pyarrow().to_pylist()
    emails = dict(
        zip(
            *ws.table("customers").select("customer_id", "email").to_pyarrow().to_pydict().values(),
            strict=True,
        )
    )
    return {emails[row["customer_id"]]: row for row in table}


def test_default_as_of_is_the_latest_counted_order_day(shop: Workspace):
    assert default_as_of(shop.table("orders")) == date(2025, 6, 20)  # #1004 is cancelled


def test_features_of_a_repeat_buyer_with_a_refund_and_a_cancellation(shop: Workspace):
    ann = features_by_email(shop, date(2025, 6, 30))["ann@example.com"]
    paid = D("48.00") + D("30.00") + D("110.00")
    assert ann["number_of_orders"] == 3
    assert ann["amount_spent"] == paid - D("10.00")
    assert ann["net_sales"] == D("40.00") + D("30.00") + D("100.00") - D("10.00")
    assert ann["aov"] == ((paid - D("10.00")) / 3).quantize(D("0.01"))
    assert ann["first_order_date"] == date(2025, 1, 10)
    assert ann["last_order_date"] == date(2025, 6, 20)
    assert ann["days_since_last_order"] == 10
    assert ann["tenure_days"] == (date(2025, 6, 30) - date(2025, 1, 10)).days
    # #1002 was placed at 23:30 local on 1 March (04:30 UTC on 2 March): its day is 1 March.
    assert ann["days_first_to_second_order"] == (date(2025, 3, 1) - date(2025, 1, 10)).days
    assert ann["mean_days_between_orders"] == (date(2025, 6, 20) - date(2025, 1, 10)).days / 2
    assert ann["refunds_share"] == pytest.approx(10 / 188)
    assert ann["orders_30d"] == 1 and ann["spend_30d"] == D("110.00")
    assert ann["orders_90d"] == 1  # the 90 days ending 30 June start on 2 April
    assert ann["orders_180d"] == 3  # ... the 180 days on 2 January
    assert ann["spend_180d"] == paid - D("10.00")
    assert ann["orders_365d"] == 3


def test_one_order_and_no_orders(shop: Workspace):
    found = features_by_email(shop, date(2025, 6, 30))
    bob, cy = found["bob@example.com"], found["cy@example.com"]
    assert (bob["number_of_orders"], bob["amount_spent"], bob["aov"]) == (1, D("20.00"), D("20.00"))
    assert bob["days_first_to_second_order"] is None
    assert bob["mean_days_between_orders"] is None
    assert cy["number_of_orders"] == 0 and cy["amount_spent"] == D("0.00")
    assert cy["aov"] is None and cy["last_order_date"] is None and cy["refunds_share"] is None
    assert cy["orders_365d"] == 0 and cy["spend_365d"] == D("0.00")


def test_as_of_a_past_day_ignores_later_orders(shop: Workspace):
    ann = features_by_email(shop, date(2025, 3, 1))["ann@example.com"]
    assert ann["number_of_orders"] == 2  # 23:30 local on 1 March counts on 1 March
    assert ann["last_order_date"] == date(2025, 3, 1)
    # the Shopify refund is dated at its order (docs/data-model.md)
    assert ann["amount_spent"] == D("48.00") + D("30.00") - D("10.00")
    before = features_by_email(shop, date(2025, 2, 28))["ann@example.com"]
    assert before["number_of_orders"] == 1 and before["amount_spent"] == D("48.00")


def test_every_column_is_in_the_catalog(shop: Workspace):
    columns = customer_features(shop.store).table.columns
    assert columns[0] == "customer_id"
    assert sorted(columns[1:]) == sorted(CATALOG)


def test_docs_features_md_is_generated_from_the_catalog():
    from segmint.features.catalog import features_markdown

    docs = Path(__file__).resolve().parents[2] / "docs" / "features.md"
    assert docs.read_text(encoding="utf-8") == features_markdown(), (
        "docs/features.md is stale: run python -m segmint.features.docs"
    )


def test_second_order_day_with_orders_at_the_same_instant():
    from datetime import datetime

    import ibis

    from segmint.features.transactional import second_order_dates

    at = datetime(2025, 3, 1, 15, 0)
    rows = [  # customer, placed_at
        ("a", at),
        ("a", at),  # same instant as the first: the second order is that day
        ("a", datetime(2025, 3, 5, 9, 0)),
        ("b", datetime(2025, 3, 3, 9, 0)),
        ("b", datetime(2025, 3, 1, 9, 0)),
        ("b", datetime(2025, 3, 3, 8, 0)),
        ("c", at),
    ]
    counted = ibis.memtable(
        {
            "customer_id": [c for c, _ in rows],
            "placed_at": [t for _, t in rows],
            "placed_date": [t.date() for _, t in rows],
        }
    )
    found = {
        r["customer_id"]: (r["first_order_date"], r["second_order_date"])
        for r in ibis.duckdb.connect().to_pyarrow(second_order_dates(counted)).to_pylist()
    }
    day = at.date()
    assert found["a"] == (day, day)
    assert found["b"] == (day, datetime(2025, 3, 3).date())
    assert "c" not in found  # one order: no second
