"""Order lines enriched from the products export, whichever file is imported first."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest

from segmint.products import enriched_order_lines
from segmint.workspace import Workspace
from shopify_files import order, write_orders

CATALOG = Path(__file__).resolve().parent / "fixtures" / "shopify_products" / "products_export.csv"

#: Line name -> (Lineitem sku, the variant it should match (its SKU, or handle and options),
#: matched_by, exact variant?). None: no product matches.
LINES = {
    "Linen Shirt - M / Blue": ("LS-M-BLU", ("LS-M-BLU",), "sku", True),
    "Linen Shirt - L / Blue": ("LS-L-BLU", ("linen-shirt",), "handle", False),  # retired SKU
    "Ceramic Mug": ("", ("ceramic-mug", "Default Title"), "handle", True),
    "Wool Socks - L-XL": ("", ("wool-socks", "L-XL"), "handle", True),
    "Gift Card - $50": ("gift-card", ("GC-50",), "handle", True),  # the SKU is the handle
    "Canvas Tote": ("", ("TOTE-NAT",), "title", True),  # handle canvas-tote-2024
    "Shipping protection": ("", None, None, False),
}


def catalog() -> tuple[dict, dict]:
    """Variants by SKU and by (handle, option1), and product-level fields by handle, read
    with plain csv from the committed products export."""
    with CATALOG.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    variants, products = {}, {}
    for row in rows:
        level = products.setdefault(row["Handle"], {})
        for column in ("Vendor", "Product Category", "Type", "Tags"):
            if row[column] and column not in level:
                level[column] = row[column]
        if row["Variant Price"]:
            variants[row["Variant SKU"] or (row["Handle"], row["Option1 Value"])] = row
    return variants, products


def expected_line(name: str) -> dict:
    sku, target, matched_by, exact = LINES[name]
    if target is None:
        return dict.fromkeys(("category", "product_type", "product_tags", "compare_at_price"))
    variants, products = catalog()
    variant = variants.get(target if len(target) == 2 else target[0])
    handle = variant["Handle"] if variant else target[0]
    level = products[handle]
    path = level.get("Product Category", "")
    tags = [t.strip() for t in level.get("Tags", "").split(",") if t.strip()]
    compare = variant["Variant Compare At Price"] if exact and variant else ""
    return {
        "matched_by": matched_by,
        "category": path.split(">")[-1].strip() if path else level["Type"],
        "product_type": level["Type"],
        "product_tags": tags or None,
        "vendor": level["Vendor"],
        "compare_at_price": Decimal(compare) if compare else None,
    }


def lines_order() -> dict:
    items = [(1, name, "10.00", sku) for name, (sku, *_) in LINES.items()]
    placed = order("#1001", "ann@example.com", "2025-03-01 10:00:00 -0500", items)
    for line in placed["lines"]:
        line["Vendor"] = ""  # the products export fills it in
    return placed


def own_values_order() -> dict:
    """A line that carries its own vendor and compare-at price: they are kept."""
    placed = order(
        "#1002", "bob@example.com", "2025-03-02 10:00:00 -0500", [(1, "x", "38.00", "LS-S-BLU")]
    )
    placed["lines"][0].update(
        {
            "Lineitem name": "Linen Shirt - S / Blue",
            "Vendor": "Reseller",
            "Lineitem compare at price": "45.00",
        }
    )
    return placed


def enriched_lines(ws: Workspace) -> list[dict]:
    lines = enriched_order_lines(ws.table("order_lines"), ws.table("products"))
    return lines.to_pyarrow().to_pylist()


def enriched(ws: Workspace) -> dict[tuple[str, str], dict]:
    lines = enriched_lines(ws)
    return {(line["order_id"], line["product_name"]): line for line in lines}


@pytest.mark.parametrize("products_first", [False, True], ids=["orders-first", "products-first"])
def test_lines_get_category_type_vendor_tags_and_compare_at(
    workspace: Workspace, tmp_path: Path, products_first: bool
):
    orders = write_orders(tmp_path / "orders_export.csv", [lines_order(), own_values_order()])
    files = [CATALOG, orders] if products_first else [orders, CATALOG]
    for path in files:
        assert workspace.import_file(path).rows_rejected == 0
    lines = enriched(workspace)
    assert len(lines) == len(LINES) + 1  # one row per order line, matched or not
    assert len(lines) == workspace.table("order_lines").count().execute()
    for name in LINES:
        got = lines[("5000000001001", name)]
        want = expected_line(name)
        assert {c: got[c] for c in want} == want, name
    own = lines[("5000000001002", "Linen Shirt - S / Blue")]
    assert (own["vendor"], own["compare_at_price"]) == ("Reseller", Decimal("45.00"))
    assert (own["matched_by"], own["category"]) == ("sku", "Shirts & Tops")
    assert own["product_key"] == "LS-S-BLU"
    keys = {name: lines[("5000000001001", name)]["product_key"] for name in LINES}
    assert keys["Ceramic Mug"] == "handle:ceramic-mug"
    assert keys["Wool Socks - L-XL"] == "handle:wool-socks:L-XL"
    assert keys["Canvas Tote"] == "TOTE-NAT"
    assert keys["Shipping protection"] is None


def test_enrichment_keeps_amounts_and_totals_add_up(workspace: Workspace, tmp_path: Path):
    placed = [lines_order(), own_values_order()]
    workspace.import_file(write_orders(tmp_path / "orders_export.csv", placed))
    workspace.import_file(CATALOG)
    lines = enriched_order_lines(workspace.table("order_lines"), workspace.table("products"))
    by_category = lines.group_by("category").aggregate(amount=lines.amount.sum()).to_pandas()
    got = {
        (None if c != c or c is None else c): a
        for c, a in zip(by_category.category, by_category.amount, strict=True)
    }
    want: dict = {}
    for o in placed:
        for line in o["lines"]:
            name = line["Lineitem name"]
            category = expected_line(name)["category"] if name in LINES else "Shirts & Tops"
            amount = int(line["Lineitem quantity"]) * Decimal(line["Lineitem price"])
            want[category] = want.get(category, Decimal("0")) + amount
    assert got == want
    total = sum(Decimal(o["Subtotal"]) for o in placed)
    assert sum(got.values()) == total


def test_without_a_catalog_lines_are_unchanged(workspace: Workspace, tmp_path: Path):
    workspace.import_file(write_orders(tmp_path / "orders_export.csv", [own_values_order()]))
    (line,) = enriched_lines(workspace)
    stored = workspace.table("order_lines").to_pyarrow().to_pylist()[0]
    assert {c: line[c] for c in stored} == stored
    assert (line["category"], line["matched_by"], line["product_key"]) == (None, None, None)
