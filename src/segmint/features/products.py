"""Product affinity: which categories and products a customer buys, as of a date.

Computed from the product lines (``line_kind = 'product'``) of counted orders up to the
as-of day, each line with its category from the products export
(:func:`segmint.products.enriched_order_lines`). A line no product matches, or whose product
has no category, counts in the customer's product line amount under no category: it is in
``top_category_share``'s denominator but in no category list.
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir

from segmint.definitions import counted_orders, money_sum
from segmint.features.catalog import feature
from segmint.features.tables import Tables

GROUP = "Product affinity"
NO_STRINGS = ibis.literal([], type="array<string>")

TOP_CATEGORY = feature(
    "top_category",
    "string",
    GROUP,
    "The category with the largest product line amount across counted orders (ties: the first "
    "name in alphabetical order); empty when no bought line has a category.",
)
TOP_CATEGORY_SHARE = feature(
    "top_category_share",
    "number",
    GROUP,
    "`top_category`'s line amount over the amount of all product lines of counted orders, "
    "lines with no category included (0 to 1); empty without a top category or a positive "
    "amount.",
)
DISTINCT_CATEGORIES = feature(
    "distinct_categories",
    "integer",
    GROUP,
    "Number of different categories among the product lines of counted orders (0 without).",
)
CATEGORIES = feature(
    "categories",
    "list",
    GROUP,
    "The categories of the product lines of counted orders, each once, alphabetical (empty "
    "list without).",
)
PRODUCTS_PURCHASED = feature(
    "products_purchased",
    "list",
    GROUP,
    "The SKUs (`Lineitem sku`) of the product lines of counted orders, each once, "
    "alphabetical; lines without a SKU are left out (empty list without).",
)


def counted_product_lines(tables: Tables, as_of: date) -> ir.Table:
    """Enriched product lines of counted orders up to ``as_of``, with the order's customer."""
    lines = tables.product_lines()
    lines = lines.filter(lines.line_kind == "product")
    counted = counted_orders(tables.orders, as_of).select("order_id", "customer_id")
    return lines.join(counted, "order_id")


def product_features(tables: Tables, as_of: date) -> ir.Table:
    """One row per customer of ``tables.customers``: ``customer_id`` and the features above."""
    lines = counted_product_lines(tables, as_of)
    # Group to (customer, category) and (customer, SKU) first: collecting distinct values
    # over every line cannot spill to disk, grouping can.
    per_category_all = lines.group_by(["customer_id", "category"]).aggregate(
        _amount=money_sum(lines.amount.fill_null(0))
    )
    per_customer = per_category_all.group_by("customer_id").aggregate(
        _total=money_sum(per_category_all._amount),
        _categories=per_category_all.category.collect().sort(),
    )
    skus = lines.filter(lines.sku.notnull()).select("customer_id", "sku").distinct()
    per_sku = skus.group_by("customer_id").aggregate(_products=skus.sku.collect().sort())
    per_category = per_category_all.filter(per_category_all.category.notnull())
    rank = ibis.row_number().over(
        group_by=per_category.customer_id,
        order_by=[ibis.desc(per_category._amount), per_category.category],
    )
    ranked = per_category.mutate(_rank=rank)
    top = ranked.filter(ranked._rank == 0).select(
        "customer_id", _top=ranked.category, _top_amount=ranked._amount
    )
    joined = (
        tables.customers.select("customer_id")
        .left_join(per_customer, "customer_id")
        .drop("customer_id_right")
        .left_join(per_sku, "customer_id")
        .drop("customer_id_right")
        .left_join(top, "customer_id")
        .drop("customer_id_right")
    )
    categories = joined._categories.fill_null(NO_STRINGS)
    share = ibis.ifelse(
        joined._top.notnull() & (joined._total > 0),
        joined._top_amount.cast("float64") / joined._total.cast("float64"),
        ibis.null("float64"),
    )
    return joined.select(
        customer_id=joined.customer_id,
        **{
            TOP_CATEGORY: joined._top,
            TOP_CATEGORY_SHARE: share,
            DISTINCT_CATEGORIES: categories.length().cast("int64"),
            CATEGORIES: categories,
            PRODUCTS_PURCHASED: joined._products.fill_null(NO_STRINGS),
        },
    )
