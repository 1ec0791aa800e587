"""Price sensitivity features on hand-built orders and a products export, worked by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from segmint.features.catalog import CATALOG
from segmint.features.price import price_features
from segmint.features.tables import Tables
from segmint.workspace import Workspace
from shopify_files import order, product, write_customers, write_orders, write_products

D = Decimal
AS_OF = date(2025, 6, 30)
FEATURES = ("discount_order_share", "avg_discount_rate", "sale_item_share")


def catalog() -> list[dict]:
    """The M shirt is on sale in the catalog (compare-at 60.00); the L shirt and the mug not."""
    return [
        product(
            "linen-shirt",
            [
                {
                    "Option1 Value": "M",
                    "Variant SKU": "LS-M",
                    "Variant Price": "50.00",
                    "Variant Compare At Price": "60.00",
                },
                {"Option1 Value": "L", "Variant SKU": "LS-L", "Variant Price": "50.00"},
            ],
            Title="Linen Shirt",
            Vendor="Acme",
            **{"Type": "Shirts", "Option1 Name": "Size"},
        ),
        product(
            "ceramic-mug",
            [{"Option1 Value": "Default Title", "Variant SKU": "MUG", "Variant Price": "20.00"}],
            Title="Ceramic Mug",
            Vendor="Acme",
            **{"Type": "Mugs", "Option1 Name": "Title"},
        ),
    ]


def with_compare_at(placed: dict, *prices: str) -> dict:
    """Give the order's lines their own ``Lineitem compare at price``, in order."""
    for line, price in zip(placed["lines"], prices, strict=True):
        line["Lineitem compare at price"] = price
    return placed


@pytest.fixture
def shop(workspace: Workspace, tmp_path: Path) -> Workspace:
    orders = [
        # Ann: discount code and 9.00 off; units: 2 mugs, 1 M shirt (on sale by the catalog)
        order(
            "#1001",
            "ann@example.com",
            "2025-01-10 09:00:00 -0500",
            [(2, "Ceramic Mug", "20.00", "MUG"), (1, "Linen Shirt - M", "50.00", "LS-M")],
            **{"Discount Code": "SPRING10", "Discount Amount": "9.00"},
        ),
        # no discount; a tote on sale by its own compare-at, an L shirt whose own compare-at
        # equals its price (not on sale)
        with_compare_at(
            order(
                "#1002",
                "ann@example.com",
                "2025-03-01 10:00:00 -0500",
                [(1, "Canvas Tote", "30.00", "TOTE"), (1, "Linen Shirt - L", "50.00", "LS-L")],
            ),
            "40.00",
            "50.00",
        ),
        # a free-shipping code without an amount off: a discounted order
        order(
            "#1003",
            "ann@example.com",
            "2025-04-01 10:00:00 -0500",
            [(1, "Ceramic Mug", "20.00", "MUG")],
            **{"Discount Code": "FREESHIP"},
        ),
        # cancelled and after the as-of day: ignored
        order(
            "#1004",
            "ann@example.com",
            "2025-06-25 12:00:00 -0500",
            [(4, "Linen Shirt - M", "50.00", "LS-M")],
            **{
                "Discount Amount": "50.00",
                "Discount Code": "HALF",
                "Cancelled at": "2025-06-25 13:00:00 -0500",
            },
        ),
        order(
            "#1005",
            "ann@example.com",
            "2025-07-05 12:00:00 -0500",
            [(4, "Linen Shirt - M", "50.00", "LS-M")],
            **{"Discount Amount": "20.00", "Discount Code": "JULY"},
        ),
        # Bob: one full-price order
        order(
            "#1006", "bob@example.com", "2025-05-01 08:00:00 -0500", [(1, "Mug", "20.00", "MUG")]
        ),
    ]
    workspace.import_file(write_orders(tmp_path / "orders_export.csv", orders))
    workspace.import_file(write_products(tmp_path / "products_export.csv", catalog()))
    customers = [{"Customer ID": "501", "Email": "cy@example.com", "First Name": "Cy"}]
    workspace.import_file(write_customers(tmp_path / "customers_export.csv", customers))
    return workspace


def by_email(ws: Workspace, as_of: date = AS_OF) -> dict[str, dict]:
    rows = price_features(Tables.of(ws.store), as_of).to_pyarrow().to_pylist()
    customers = ws.table("customers").select("customer_id", "email").to_pyarrow().to_pylist()
    emails = {c["customer_id"]: c["email"] for c in customers}
    assert len(rows) == len(customers) == len({r["customer_id"] for r in rows})
    return {emails[r["customer_id"]]: r for r in rows}


def test_columns_are_registered_in_the_catalog(shop: Workspace):
    assert tuple(price_features(Tables.of(shop.store), AS_OF).columns) == (
        "customer_id",
        *FEATURES,
    )
    assert all(
        (CATALOG[f].type, CATALOG[f].group) == ("number", "Price sensitivity") for f in FEATURES
    )


def test_discounts_and_sale_items_of_a_repeat_buyer(shop: Workspace):
    ann = by_email(shop)["ann@example.com"]
    assert ann["discount_order_share"] == pytest.approx(2 / 3)  # #1001 and #1003 (code only)
    discount = D("9.00")
    subtotals = (D(2) * D("20.00") + D("50.00") - discount) + D("80.00") + D("20.00")
    assert ann["avg_discount_rate"] == pytest.approx(float(discount / (subtotals + discount)))
    units, sale = 2 + 1 + 1 + 1 + 1, 1 + 1  # the M shirt (catalog) and the tote (own price)
    assert ann["sale_item_share"] == pytest.approx(sale / units)


def test_one_full_price_order_and_no_orders(shop: Workspace):
    found = by_email(shop)
    bob, cy = found["bob@example.com"], found["cy@example.com"]
    assert [bob[f] for f in FEATURES] == [0.0, 0.0, 0.0]
    assert [cy[f] for f in FEATURES] == [None, None, None]


def test_an_as_of_after_the_july_order_counts_it(shop: Workspace):
    ann = by_email(shop, date(2025, 7, 5))["ann@example.com"]
    assert ann["discount_order_share"] == pytest.approx(3 / 4)
    discount = D("9.00") + D("20.00")
    subtotals = D("81.00") + D("80.00") + D("20.00") + (D(4) * D("50.00") - D("20.00"))
    assert ann["avg_discount_rate"] == pytest.approx(float(discount / (subtotals + discount)))
    assert ann["sale_item_share"] == pytest.approx((2 + 4) / (6 + 4))
