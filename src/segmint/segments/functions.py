"""The rule language's functions over the workspace: ``products_purchased(...)`` and
``member_of('slug')``.

``products_purchased(category: 'boots', tag: 'sale', product: 'SKU-1', since: -90d,
until: -30d, quantity: 2)`` keeps customers whose counted orders, placed between ``since``
and ``until`` (days, inclusive, up to the refresh's as-of day), hold product lines matching
every given criterion, at least ``quantity`` units in all (default 1). ``category`` matches
the line's category from the products export, ``tag`` one of the product's tags, ``product``
the line's SKU, product key or name; text matches ignore case, and a list matches any of
its values. Shopify's ``id:`` and ``date:`` spellings are accepted for ``product`` and
``since``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir

from segmint.definitions import counted_orders
from segmint.errors import did_you_mean
from segmint.features.rules import rule_catalog
from segmint.features.tables import Tables
from segmint.rules import (
    Catalog,
    FunctionSpec,
    Param,
    RuleFunction,
    RuleTypeError,
    function_calls,
)
from segmint.rules import ast as A

PRODUCTS_PURCHASED = FunctionSpec(
    "products_purchased",
    (
        Param("category", "string", many=True),
        Param("tag", "string", many=True),
        Param("product", "string", aliases=("id",), many=True),
        Param("since", "date", aliases=("date",)),
        Param("until", "date"),
        Param("quantity", "integer"),
    ),
    op_params={
        ("date", ">"): "since",
        ("date", ">="): "since",
        ("date", "<"): "until",
        ("date", "<="): "until",
    },
    description="customers who bought matching products in a period",
)


def _values(value: Any) -> list[str]:
    """A text argument or list of them, lower-cased."""
    items = value if isinstance(value, tuple | list) else (value,)
    return [str(v).lower() for v in items]


def products_purchased(tables: Tables, as_of: date) -> Callable[[dict, ir.Table], ir.BooleanValue]:
    """The ``products_purchased`` implementation for rules evaluated as of ``as_of``."""

    def evaluate(args: dict[str, Any], table: ir.Table) -> ir.BooleanValue:
        lines = tables.product_lines()
        lines = lines.filter(lines.line_kind == "product")
        orders = counted_orders(tables.orders, as_of)
        if args.get("since") is not None:
            orders = orders.filter(orders.placed_date >= args["since"])
        if args.get("until") is not None:
            orders = orders.filter(orders.placed_date <= args["until"])
        bought = lines.join(orders.select("order_id", "customer_id"), "order_id")
        if args.get("category") is not None:
            bought = bought.filter(bought.category.lower().isin(_values(args["category"])))
        if args.get("tag") is not None:
            tags = bought.product_tags.map(lambda t: t.lower())
            wanted = _values(args["tag"])
            bought = bought.filter(ibis.or_(*[tags.contains(t) for t in wanted]))
        if args.get("product") is not None:
            wanted = _values(args["product"])
            bought = bought.filter(
                bought.sku.lower().isin(wanted)
                | bought.product_key.lower().isin(wanted)
                | bought.product_name.lower().isin(wanted)
            )
        units = bought.group_by("customer_id").aggregate(units=bought.quantity.sum())
        buyers = units.filter(units.units >= int(args.get("quantity") or 1))
        return table.customer_id.isin(buyers.customer_id)

    return evaluate


MEMBER_OF = FunctionSpec(
    "member_of",
    (Param("segment", "string", positional=True, required=True),),
    description="customers in another segment (after that segment's group is applied)",
)


def member_of_targets(rule: A.Expr, text: str, slugs: list[str]) -> list[str]:
    """The segments a rule's ``member_of`` calls name; an unknown one is an error at its
    position, with the nearest slug as a hint."""
    targets = []
    for call in function_calls(rule, MEMBER_OF.name):
        target = call.args[0].value
        name = target.value if isinstance(target, A.String) else str(target)
        if name not in slugs:
            raise RuleTypeError(
                f"member_of() names unknown segment {name!r}",
                call.pos,
                text,
                hint=did_you_mean(name, slugs) or "segmint segments list shows them",
            )
        targets.append(name)
    return targets


def stored_member_of(members: ir.Table) -> RuleFunction:
    """``member_of`` over stored memberships (``segment_members`` of the latest refresh)."""

    def evaluate(args: dict[str, Any], table: ir.Table) -> ir.BooleanValue:
        chosen = members.filter(members.segment == args["segment"])
        return table.customer_id.isin(chosen.customer_id)

    return evaluate


def rule_context(
    tables: Tables, as_of: date, member_of: RuleFunction | None = None
) -> tuple[Catalog, dict[str, RuleFunction]]:
    """The catalog rules are checked against and the functions they may call, as of a day.

    ``member_of`` is given by whoever knows the memberships (a refresh resolves them itself).
    """
    catalog = rule_catalog((PRODUCTS_PURCHASED, MEMBER_OF))
    functions = {"products_purchased": products_purchased(tables, as_of)}
    if member_of is not None:
        functions["member_of"] = member_of
    return catalog, functions
