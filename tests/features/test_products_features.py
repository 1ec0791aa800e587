"""Product affinity features on hand-built orders and a products export, worked by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from segmint.features.catalog import CATALOG
from segmint.features.products import product_features
from segmint.features.tables import Tables
from segmint.workspace import Workspace
from shopify_files import order, product, write_customers, write_orders, write_products

D = Decimal
AS_OF = date(2025, 6, 30)
FEATURES = (
    "top_category",
    "top_category_share",
    "distinct_categories",
    "categories",
    "products_purchased",
)


def catalog() -> list[dict]:
    """Shirts & Tops (last segment of the Product Category path), Mugs, and Bags (no
    Product Category: the Type)."""
    return [
        product(
            "linen-shirt",
            [
                {"Option1 Value": "M", "Variant SKU": "LS-M", "Variant Price": "50.00"},
                {"Option1 Value": "L", "Variant SKU": "LS-L", "Variant Price": "50.00"},
            ],
            Title="Linen Shirt",
            Vendor="Acme",
            **{
                "Product Category": "Apparel & Accessories > Clothing > Shirts & Tops",
                "Type": "Shirts",
                "Option1 Name": "Size",
            },
        ),
        product(
            "ceramic-mug",
            [{"Option1 Value": "Default Title", "Variant SKU": "MUG", "Variant Price": "20.00"}],
            Title="Ceramic Mug",
            Vendor="Acme",
            **{
                "Product Category": "Home & Garden > Kitchen & Dining > Drinkware > Mugs",
                "Type": "Mugs",
                "Option1 Name": "Title",
            },
        ),
        product(
            "canvas-tote",
            [{"Option1 Value": "Default Title", "Variant SKU": "TOTE", "Variant Price": "30.00"}],
            Title="Canvas Tote",
            Vendor="Acme",
            **{"Type": "Bags", "Option1 Name": "Title"},
        ),
    ]


@pytest.fixture
def shop(workspace: Workspace, tmp_path: Path) -> Workspace:
    orders = [
        # Ann: Mugs 2 x 20 = 40, Shirts & Tops 50 ...
        order(
            "#1001",
            "ann@example.com",
            "2025-01-10 09:00:00 -0500",
            [(2, "Ceramic Mug", "20.00", "MUG"), (1, "Linen Shirt - M", "50.00", "LS-M")],
        ),
        # ... Bags 30, and 5 under no category (no product matches, no SKU)
        order(
            "#1002",
            "ann@example.com",
            "2025-03-01 23:30:00 -0500",
            [(1, "Canvas Tote", "30.00", "TOTE"), (1, "Shipping protection", "5.00", "")],
        ),
        # cancelled: 5 x 30 of Bags would make Bags her top category
        order(
            "#1003",
            "ann@example.com",
            "2025-06-25 12:00:00 -0500",
            [(5, "Canvas Tote", "30.00", "TOTE")],
            **{"Cancelled at": "2025-06-25 13:00:00 -0500"},
        ),
        # after the as-of day: ignored
        order(
            "#1004",
            "ann@example.com",
            "2025-07-05 12:00:00 -0500",
            [(3, "Linen Shirt - L", "50.00", "LS-L")],
        ),
        # Bob, one order: Mugs 3 x 10 = 30 ties with Bags 30
        order(
            "#1005",
            "bob@example.com",
            "2025-05-01 08:00:00 -0500",
            [(3, "Ceramic Mug", "10.00", "MUG"), (1, "Canvas Tote", "30.00", "TOTE")],
        ),
        # Dee: a line no product matches
        order(
            "#1006",
            "dee@example.com",
            "2025-05-02 08:00:00 -0500",
            [(1, "Gift wrap", "5.00", "WRAP")],
        ),
    ]
    workspace.import_file(write_orders(tmp_path / "orders_export.csv", orders))
    workspace.import_file(write_products(tmp_path / "products_export.csv", catalog()))
    customers = [{"Customer ID": "501", "Email": "cy@example.com", "First Name": "Cy"}]
    workspace.import_file(write_customers(tmp_path / "customers_export.csv", customers))
    return workspace


def by_email(ws: Workspace, as_of: date = AS_OF) -> dict[str, dict]:
    rows = product_features(Tables.of(ws.store), as_of).to_pyarrow().to_pylist()
    customers = ws.table("customers").select("customer_id", "email").to_pyarrow().to_pylist()
    emails = {c["customer_id"]: c["email"] for c in customers}
    assert len(rows) == len(customers) == len({r["customer_id"] for r in rows})
    return {emails[r["customer_id"]]: r for r in rows}


def test_columns_are_registered_in_the_catalog(shop: Workspace):
    columns = product_features(Tables.of(shop.store), AS_OF).columns
    assert tuple(columns) == ("customer_id", *FEATURES)
    assert {CATALOG[name].type for name in ("categories", "products_purchased")} == {"list"}
    assert all(CATALOG[name].group == "Product affinity" for name in FEATURES)


def test_top_category_share_counts_uncategorized_lines(shop: Workspace):
    ann = by_email(shop)["ann@example.com"]
    total = D(2) * D("20.00") + D("50.00") + D("30.00") + D("5.00")  # 125
    assert ann["top_category"] == "Shirts & Tops"
    assert ann["top_category_share"] == pytest.approx(float(D("50.00") / total))  # 0.4
    assert ann["distinct_categories"] == 3
    assert ann["categories"] == ["Bags", "Mugs", "Shirts & Tops"]
    assert ann["products_purchased"] == ["LS-M", "MUG", "TOTE"]  # no SKU: left out


def test_a_tie_goes_to_the_first_name_in_one_order(shop: Workspace):
    bob = by_email(shop)["bob@example.com"]
    assert bob["top_category"] == "Bags"  # Bags 30 = Mugs 3 x 10
    assert bob["top_category_share"] == pytest.approx(0.5)
    assert bob["distinct_categories"] == 2
    assert bob["categories"] == ["Bags", "Mugs"]
    assert bob["products_purchased"] == ["MUG", "TOTE"]


def test_unmatched_lines_and_no_orders(shop: Workspace):
    found = by_email(shop)
    dee, cy = found["dee@example.com"], found["cy@example.com"]
    assert (dee["top_category"], dee["top_category_share"]) == (None, None)
    assert (dee["distinct_categories"], dee["categories"]) == (0, [])
    assert dee["products_purchased"] == ["WRAP"]
    assert {k: cy[k] for k in FEATURES} == {
        "top_category": None,
        "top_category_share": None,
        "distinct_categories": 0,
        "categories": [],
        "products_purchased": [],
    }


def test_an_earlier_as_of_sees_only_earlier_orders(shop: Workspace):
    ann = by_email(shop, date(2025, 2, 28))["ann@example.com"]
    assert ann["top_category"] == "Shirts & Tops"  # 50 against Mugs 40
    assert ann["top_category_share"] == pytest.approx(50 / 90)
    assert ann["categories"] == ["Mugs", "Shirts & Tops"]
    later = by_email(shop, date(2025, 7, 5))["ann@example.com"]
    assert later["top_category"] == "Shirts & Tops"  # + 3 x 50 of LS-L on 5 July
    assert later["top_category_share"] == pytest.approx(200 / 275)
    assert later["products_purchased"] == ["LS-L", "LS-M", "MUG", "TOTE"]
