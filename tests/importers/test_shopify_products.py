"""Shopify products export: both layouts, variant rows, product-level fields, keys, rejects."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

from segmint.workspace import Workspace
from shopify_files import PRODUCTS_HEADER, product, product_rows, write_products

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "shopify_products"
CURRENT = FIXTURES / "products_export.csv"
LAYOUT_2022 = FIXTURES / "products_export_2022.csv"
COLUMNS = ("title", "vendor", "category", "product_type", "tags", "variant_title", "price")


def expected_products(path: Path) -> dict[str, dict]:
    """The catalog the file describes, by the rules of the Shopify export, in plain Python."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    category = "Product Category" if "Product Category" in rows[0] else "Standardized Product Type"
    kind = "Type" if "Type" in rows[0] else "Custom Product Type"
    fields = {"Title": "title", "Vendor": "vendor", category: "path", kind: "type", "Tags": "tags"}
    products: dict[str, dict] = {}
    for row in rows:
        level = products.setdefault(row["Handle"], {"variants": []})
        for column, name in fields.items():
            if row[column] and name not in level:
                level[name] = row[column]
        if row["Variant SKU"] or row["Variant Price"] or row["Option1 Value"]:
            level["variants"].append(row)
    out = {}
    for handle, level in products.items():
        several = len(level["variants"]) > 1
        for row in level["variants"]:
            options = [row[f"Option{n} Value"] for n in (1, 2, 3) if row[f"Option{n} Value"]]
            title = None if options in ([], ["Default Title"]) else " / ".join(options)
            key = row["Variant SKU"] or f"handle:{handle}" + (f":{title}" if several else "")
            path_ = level.get("path")
            tags = [t.strip() for t in level.get("tags", "").split(",") if t.strip()]
            out[key] = {
                "title": level["title"],
                "vendor": level["vendor"],
                "category": path_.split(">")[-1].strip() if path_ else level.get("type"),
                "product_type": level.get("type"),
                "tags": tags or None,
                "variant_title": title,
                "price": Decimal(row["Variant Price"]),
                "compare_at_price": (
                    Decimal(row["Variant Compare At Price"])
                    if row["Variant Compare At Price"]
                    else None
                ),
                "sku": row["Variant SKU"] or None,
                "handle": handle,
            }
    return out


def stored_products(ws: Workspace) -> dict[str, dict]:
    return {r["product_key"]: r for r in ws.table("products").to_pyarrow().to_pylist()}


def test_current_export_loads_one_product_row_per_variant(workspace: Workspace):
    result = workspace.import_file(CURRENT)
    with CURRENT.open(newline="", encoding="utf-8") as fh:
        data_rows = sum(1 for _ in fh) - 1
    assert result.format == "shopify-products"
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (data_rows, data_rows, 0)
    expected = expected_products(CURRENT)
    stored = stored_products(workspace)
    assert set(stored) == set(expected)
    assert len(stored) == data_rows - 1  # the extra image row is no product
    for key, want in expected.items():
        assert {c: stored[key][c] for c in want} == want, key
        assert stored[key]["import_id"] == result.import_id


def test_keys_categories_and_variant_titles(workspace: Workspace):
    workspace.import_file(CURRENT)
    stored = stored_products(workspace)
    assert stored["LS-M-WHT"]["title"] == "Linen Shirt"  # product fields from the first row
    assert stored["LS-M-WHT"]["variant_title"] == "M / White"
    assert stored["LS-M-WHT"]["category"] == "Shirts & Tops"
    assert stored["LS-M-WHT"]["tags"] == ["linen", "summer"]
    assert stored["LS-M-WHT"]["compare_at_price"] is None
    mug = stored["handle:ceramic-mug"]  # no SKU, one variant named Default Title
    assert (mug["variant_title"], mug["category"], mug["price"]) == (None, "Mugs", Decimal("18"))
    assert set(k for k in stored if k.startswith("handle:wool-socks")) == {
        "handle:wool-socks:S-M",
        "handle:wool-socks:L-XL",
    }
    assert stored["handle:wool-socks:L-XL"]["category"] == "Socks"  # no category: the Type
    assert stored["TOTE-NAT"]["category"] == "Handbags"


def test_2022_layout_gives_the_same_catalog(workspace: Workspace, tmp_path: Path):
    result = workspace.import_file(LAYOUT_2022)
    assert result.format == "shopify-products"
    assert result.rows_rejected == 0
    legacy = stored_products(workspace)
    with Workspace(tmp_path / "current.duckdb") as ws:
        ws.import_file(CURRENT)
        current = stored_products(ws)
    drop = {"import_id"}
    assert {k: {c: v for c, v in r.items() if c not in drop} for k, r in legacy.items()} == {
        k: {c: v for c, v in r.items() if c not in drop} for k, r in current.items()
    }


def test_export_without_a_category_column_uses_the_type(workspace: Workspace, tmp_path: Path):
    header = [c for c in PRODUCTS_HEADER if c != "Product Category"]
    tee = product(
        "basic-tee",
        [{"Option1 Value": "Default Title", "Variant SKU": "TEE", "Variant Price": "15.00"}],
        Title="Basic Tee",
        Vendor="Northwind Apparel",
        Type="T-Shirt",
        **{"Option1 Name": "Title", "Product Category": "ignored: the column is not there"},
    )
    result = workspace.import_file(write_products(tmp_path / "products_export.csv", [tee], header))
    assert (result.rows_loaded, result.rows_rejected) == (1, 0)
    stored = stored_products(workspace)["TEE"]
    assert (stored["category"], stored["product_type"]) == ("T-Shirt", "T-Shirt")


def test_broken_rows_are_rejected_with_row_and_column(workspace: Workspace, tmp_path: Path):
    cap = product(
        "cap",
        [
            {"Option1 Value": "Red", "Variant SKU": "CAP-R", "Variant Price": "12,00"},
            {"Option1 Value": "Blue", "Variant SKU": "CAP-B", "Variant Price": "12.00"},
            {"Option1 Value": "Green", "Variant SKU": "CAP-G", "Variant Price": ""},
            {"Option1 Value": "Gold", "Variant SKU": "CAP-AU", "Variant Price": "2000000.00"},
            {"Option1 Value": "Black", "Variant SKU": "CAP-B", "Variant Price": "13.00"},
        ],
        Title="Cap",
        Vendor="Northwind Apparel",
        Type="Hat",
        **{"Option1 Name": "Color"},
    )
    scarf = product(
        "scarf",
        [
            {"Option1 Value": "Grey", "Variant Price": "20.00"},
            {"Option1 Value": "Grey", "Variant Price": "21.00"},
            {"Option1 Value": "Navy", "Variant Price": "20.00", "Variant Compare At Price": "-1"},
        ],
        Title="Scarf",
        Vendor="Knit & Co",
        Type="Scarf",
        **{"Option1 Name": "Color"},
    )
    rows = product_rows(cap, PRODUCTS_HEADER) + product_rows(scarf, PRODUCTS_HEADER)
    orphan = dict.fromkeys(PRODUCTS_HEADER, "")
    orphan.update({"Title": "Orphan", "Variant SKU": "ORPH", "Variant Price": "1.00"})
    extra = [rows[1], [orphan[c] for c in PRODUCTS_HEADER]]
    path = write_products(tmp_path / "products_export.csv", [cap, scarf], extra_rows=extra)
    result = workspace.import_file(path)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (10, 2, 8)
    assert result.duplicate_rows == 1
    got = [
        (r["row_number"], r["column"], r["raw_value"], r["reason"])
        for r in workspace.rejects().to_pylist()
    ]
    assert got == [
        (2, "Variant Price", "12,00", "not a number"),
        (4, "Variant Price", "", "variant has no Variant Price"),
        (
            5,
            "Variant Price",
            "2000000.00",
            "absurd price: above 1,000,000 (setting max_order_amount)",
        ),
        (
            6,
            "Variant SKU",
            "CAP-B",
            "Variant SKU already used (by row 3; products are keyed by SKU)",
        ),
        (8, "Handle", "scarf", "variant repeated (same handle and options as row 7)"),
        (9, "Variant Compare At Price", "-1", "price below 0"),
        (10, None, None, "exact duplicate (of row 3)"),
        (11, "Handle", "", "no Handle: the row belongs to no product"),
    ]
    stored = stored_products(workspace)
    assert sorted(stored) == ["CAP-B", "handle:scarf:Grey"]
    assert stored["handle:scarf:Grey"]["price"] == Decimal("20.00")  # the first row wins
    assert stored["CAP-B"]["title"] == "Cap"  # the first row was rejected, its Title was not
    imports = workspace.imports().to_pylist()[0]
    assert imports["rows_read"] == imports["rows_loaded"] + imports["rows_rejected"]


def test_a_later_export_replaces_products_by_key(workspace: Workspace, tmp_path: Path):
    first = workspace.import_file(CURRENT)
    again = workspace.import_file(CURRENT)
    assert again.skipped and again.import_id == first.import_id
    with CURRENT.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows[1]["Variant Price"] = "36.00"  # LS-M-BLU on sale
    rows[1]["Variant Compare At Price"] = "40.00"
    path = tmp_path / "products_export_2.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=PRODUCTS_HEADER, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    later = workspace.import_file(path)
    assert later.rows_rejected == 0
    stored = stored_products(workspace)
    assert len(stored) == len(expected_products(CURRENT))
    assert (stored["LS-M-BLU"]["price"], stored["LS-M-BLU"]["compare_at_price"]) == (
        Decimal("36.00"),
        Decimal("40.00"),
    )
    assert stored["LS-M-BLU"]["import_id"] == later.import_id
    assert stored["LS-S-BLU"]["import_id"] == later.import_id
