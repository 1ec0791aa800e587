"""Order lines enriched with the product catalog: category, type, vendor, tags and prices.

Shopify order lines carry a SKU and a name (``Linen Shirt - M``) but no category; the
products export has both. Each line is matched to one product variant, best match first:

1. ``sku``: the line's SKU is a variant's ``Variant SKU``;
2. ``handle``: the line's SKU is a product handle, or the line's product name, written as a
   handle (``Linen Shirt - M`` -> ``linen-shirt``), is one;
3. ``title``: the line's name is a variant's ``<Title> - <variant title>``, or the title.

Within the handle and title rules a variant whose full name equals the line's name wins.
Product-level fields (category, type, vendor, tags) come from any match; the variant's
``compare_at_price`` only from a match to that exact variant. Unmatched lines keep nulls.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

LINE_KEY = ("order_id", "line_number")
#: Match rules, best first: (name, score of an exact variant match, score otherwise).
RULES = {"sku": (0, 0), "handle_sku": (1, 2), "handle_name": (3, 4), "title": (5, 6)}
MATCHED_BY = {"sku": "sku", "handle_sku": "handle", "handle_name": "handle", "title": "title"}


def slug(text: ir.StringValue) -> ir.StringValue:
    """A Shopify-style handle: ``Shirts & Tops`` -> ``shirts-tops``."""
    return text.lower().re_replace(r"[^a-z0-9]+", "-").re_replace(r"^-+|-+$", "")


def enriched_order_lines(lines: ir.Table, products: ir.Table) -> ir.Table:
    """``order_lines`` plus ``product_key``, ``matched_by``, ``category``, ``product_type``
    and ``product_tags``; ``vendor`` and ``compare_at_price`` filled from the product when
    the line has none."""
    catalog = products.select(
        "product_key",
        "category",
        "product_type",
        product_vendor=products.vendor,
        product_tags=products.tags,
        product_compare_at=products.compare_at_price,
    )
    matched = _best_matches(lines, products).join(catalog, "product_key")
    keyed = lines.mutate(_sku_key=_key(lines.sku), _name_key=_key(lines.product_name))
    joined = keyed.left_join(matched, ["_sku_key", "_name_key"])
    exact = joined.exact_variant.fill_null(False)
    no_price = ibis.null(joined.compare_at_price.type())
    filled = {
        "vendor": ibis.coalesce(joined.vendor, joined.product_vendor),
        "compare_at_price": ibis.coalesce(
            joined.compare_at_price, ibis.ifelse(exact, joined.product_compare_at, no_price)
        ),
    }
    return joined.select(
        **{c: filled.get(c, joined[c]) for c in lines.columns},
        product_key=joined.product_key,
        matched_by=joined.matched_by,
        category=joined.category,
        product_type=joined.product_type,
        product_tags=joined.product_tags,
    )


def _best_matches(lines: ir.Table, products: ir.Table) -> ir.Table:
    """The best product of each distinct (SKU, name) pair of ``lines``: ``_sku_key,
    _name_key, product_key, matched_by, exact_variant`` (keys from :func:`_key`).

    Lines with the same SKU and name always match the same product, so each pair is matched
    once (a store has thousands of them, not millions of lines).
    """
    pairs = lines.select(_sku_key=_key(lines.sku), _name_key=_key(lines.product_name)).distinct()
    pairs = pairs.mutate(
        sku=ibis.ifelse(pairs._sku_key == NULL_KEY, ibis.null("string"), pairs._sku_key),
        product_name=ibis.ifelse(pairs._name_key == NULL_KEY, ibis.null("string"), pairs._name_key),
    )
    return _best_pair_matches(pairs, products)


#: Stands for a missing SKU or name in join keys (equi-joins never match NULLs).
NULL_KEY = "\x1fsegmint:none\x1f"


def _key(value: ir.StringValue) -> ir.StringValue:
    return value.fill_null(NULL_KEY)


def _best_pair_matches(pairs: ir.Table, products: ir.Table) -> ir.Table:
    """One row per matched (SKU, name) pair: ``_sku_key, _name_key, product_key, matched_by,
    exact_variant``."""
    name = pairs.product_name.strip()
    base = name.re_extract(r"^(.*) - .*$", 1)
    base = ibis.ifelse(base == "", ibis.null("string"), base)
    keyed_lines = pairs.select(
        "_sku_key",
        "_name_key",
        line_sku=pairs.sku,
        line_name=name,
        line_base_or_name=ibis.coalesce(base, name),
        line_slug=slug(ibis.coalesce(base, name)),
    )
    full_name = ibis.ifelse(
        products.variant_title.isnull(),
        products.title,
        products.title + " - " + products.variant_title,
    )
    keyed_products = products.select(
        "product_key", "handle", "title", p_sku=products.sku, full_name=full_name
    )
    # Every condition is an equi-join (the title rule's two alternatives are two joins).
    conditions = [
        ("sku", lambda ln, p: ln.line_sku == p.p_sku),
        ("handle_sku", lambda ln, p: ln.line_sku == p.handle),
        ("handle_name", lambda ln, p: ln.line_slug == p.handle),
        ("title", lambda ln, p: ln.line_name == p.full_name),
        ("title", lambda ln, p: ln.line_base_or_name == p.title),
    ]
    candidates = None
    for rule, condition in conditions:
        exact_score, loose_score = RULES[rule]
        joined = keyed_lines.join(keyed_products, condition(keyed_lines, keyed_products))
        exact = (
            ibis.literal(True)
            if rule == "sku"
            else (joined.line_name == joined.full_name).fill_null(False)
        )
        part = joined.select(
            "_sku_key",
            "_name_key",
            "product_key",
            matched_by=ibis.literal(MATCHED_BY[rule]),
            exact_variant=exact,
            score=ibis.ifelse(exact, exact_score, loose_score),
        )
        candidates = part if candidates is None else candidates.union(part)
    rank = ibis.row_number().over(
        group_by=["_sku_key", "_name_key"], order_by=[candidates.score, candidates.product_key]
    )
    ranked = candidates.mutate(_rank=rank)
    return ranked.filter(ranked._rank == 0).drop("_rank", "score")
