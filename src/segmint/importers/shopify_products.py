"""Shopify products export (Admin > Products > Export), with or without ``Product Category``.

One row per variant or extra image; rows sharing ``Handle`` are one product, and only its
first row carries Title, Vendor, Product Category, Type, Tags and the option names, so
product-level fields are the first non-blank value in row order. Image-only rows (no SKU,
price or option value) are part of their product: loaded, but no product row of their own.

Each variant becomes one ``products`` row keyed by ``Variant SKU``, or ``handle:<Handle>``
when it has no SKU (``handle:<Handle>:<variant title>`` when the product has several
variants). ``category`` is the last segment of ``Product Category``
(``Apparel & Accessories > Clothing > Shirts`` -> ``Shirts``), or ``Type`` in exports without
a category; ``variant_title`` joins the option values with `` / `` as order lines name them
(``Linen Shirt - M / Blue``), and is blank for Shopify's ``Default Title``.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from segmint.importers.base import Batch, ImportContext, Importer
from segmint.importers.common import drop_exact_duplicates, first_in_file_order, split_list
from segmint.parsing import Cells
from segmint.readers import RawTable
from segmint.readers.base import ROW, Reject

#: Product-level columns: the first non-blank value of a handle's rows is the product's.
PRODUCT_FIELDS = (
    "title",
    "vendor",
    "category_path",
    "product_type",
    "tags",
    "option1_name",
    "option2_name",
    "option3_name",
)


class ShopifyProductsImporter(Importer):
    name = "shopify-products"
    description = "Shopify products export CSV (one row per variant or extra image)"
    signature = ("Handle", "Title", "Vendor", "Variant SKU", "Variant Price")
    optional = (
        "Product Category",
        "Type",
        "Tags",
        "Option1 Name",
        "Option1 Value",
        "Option2 Name",
        "Option2 Value",
        "Option3 Name",
        "Option3 Value",
        "Variant Compare At Price",
    )
    aliases = {
        "Product Category": (
            "Product category",
            "Standardized Product Type",
            "Standard Product Type",
        ),
        "Type": ("Custom Product Type", "Product Type"),
    }

    def build(self, raw: RawTable, ctx: ImportContext) -> Batch:
        table, rejects = drop_exact_duplicates(ctx.store, raw.table)
        duplicates = len(rejects)
        cells = Cells(table, self.column_map(raw.header))
        typed = _typed(cells, float(ctx.settings["max_order_amount"]))
        rejects += cells.rejects()
        typed = typed.append_column("bad", cells.bad_rows())
        staged = ctx.store.stage("_product_rows", typed)
        variants = ctx.store.stage("_product_variants", _variants(staged))
        repeated = variants.filter(variants.first_row.notnull())
        rejects += _repeat_rejects(repeated)
        good = staged.filter(~staged.bad)
        return Batch(
            rows_loaded=int(good.count().execute()) - int(repeated.count().execute()),
            rejects=sorted(rejects, key=lambda r: r.row or 0),
            duplicate_rows=duplicates,
            products=_products(variants.filter(variants.first_row.isnull()), ctx),
        )


def _typed(cells: Cells, max_amount: float) -> pa.Table:
    """Typed columns for every row; malformed cells are recorded in ``cells``."""
    price = {"scale": 4, "minimum": 0, "what": "price"}
    columns = {
        ROW: cells.table[ROW],
        "handle": cells.text("Handle"),
        "title": cells.text("Title"),
        "vendor": cells.text("Vendor"),
        "category_path": cells.text("Product Category"),
        "product_type": cells.text("Type"),
        "tags": cells.text("Tags"),
        "sku": cells.text("Variant SKU"),
        "price": cells.decimal("Variant Price", **price),
        "compare_at_price": cells.decimal("Variant Compare At Price", **price),
    }
    for n in (1, 2, 3):
        columns[f"option{n}_name"] = cells.text(f"Option{n} Name")
        columns[f"option{n}_value"] = cells.text(f"Option{n} Value")
    for column in ("Variant Price", "Variant Compare At Price"):
        values = columns["price" if column == "Variant Price" else "compare_at_price"]
        cells.problem(
            pc.greater(values, max_amount),
            column,
            f"absurd price: above {max_amount:,.0f} (setting max_order_amount)",
        )
    is_variant = pc.or_(
        pc.is_valid(columns["sku"]),
        pc.or_(pc.is_valid(cells.text("Variant Price")), pc.is_valid(columns["option1_value"])),
    )
    cells.require("Handle", columns["handle"], "no Handle: the row belongs to no product")
    cells.require(
        "Variant Price", columns["price"], "variant has no Variant Price", where=is_variant
    )
    columns["is_variant"] = is_variant
    return pa.table(columns)


def _variants(rows: ir.Table) -> ir.Table:
    """Good variant rows with their product's fields, title and key.

    ``first_row`` is set on a variant whose key an earlier row already has (it is rejected).
    Product fields come from every row of the handle, so a variant with a bad price does
    not take its product's Title away from the other variants.
    """
    products = (
        rows.filter(rows.handle.notnull())
        .group_by("handle")
        .aggregate(**{c: first_in_file_order(rows, c) for c in PRODUCT_FIELDS})
    )
    variants = rows.filter(~rows.bad & rows.is_variant).drop(*PRODUCT_FIELDS)
    joined = variants.join(products, "handle")
    default = (joined.option1_name == "Title") & (joined.option1_value == "Default Title")
    options = ibis.literal(" / ").join(
        [joined.option1_value, joined.option2_value, joined.option3_value]
    )
    title = ibis.ifelse(
        default.fill_null(False) | (options.fill_null("") == ""), ibis.null("string"), options
    )
    handle_key = (
        "handle:" + joined.handle + ibis.ifelse(title.isnull(), ibis.literal(""), ":" + title)
    )
    keyed = joined.mutate(variant_title=title, product_key=ibis.coalesce(joined.sku, handle_key))
    window = ibis.window(group_by=keyed.product_key, order_by=keyed[ROW])
    earliest = keyed[ROW].first().over(window)
    return keyed.mutate(first_row=ibis.ifelse(earliest == keyed[ROW], ibis.null("int64"), earliest))


def _repeat_rejects(repeated: ir.Table) -> list[Reject]:
    data = repeated.select(ROW, "sku", "handle", "first_row").order_by(ROW).to_pyarrow()
    columns = (data[c].to_pylist() for c in data.column_names)
    out = []
    for row, sku, handle, first in zip(*columns, strict=True):
        if sku is not None:
            out.append(
                Reject(
                    row,
                    "Variant SKU",
                    sku,
                    f"Variant SKU already used (by row {first}; products are keyed by SKU)",
                )
            )
        else:
            out.append(
                Reject(
                    row,
                    "Handle",
                    handle,
                    f"variant repeated (same handle and options as row {first})",
                )
            )
    return out


def _products(variants: ir.Table, ctx: ImportContext) -> ir.Table:
    last_segment = variants.category_path.re_extract(r"([^>]*)$", 1).strip()
    category = ibis.ifelse(last_segment == "", ibis.null("string"), last_segment)
    return variants.select(
        product_key=variants.product_key,
        handle=variants.handle,
        sku=variants.sku,
        title=variants.title,
        variant_title=variants.variant_title,
        vendor=variants.vendor,
        category=ibis.coalesce(category, variants.product_type),
        product_type=variants.product_type,
        tags=split_list(variants.tags),
        price=variants.price,
        compare_at_price=variants.compare_at_price,
        import_id=ibis.literal(ctx.import_id),
    )
