"""Compile a checked rule to an Ibis boolean expression over a features table.

The features table has one column per catalog attribute (list attributes are ``array<string>``).
Only Ibis expressions are built; values from the rule are passed to Ibis as literals, never
pasted into SQL text, so ``tags CONTAINS 'a''; DROP TABLE customers; --'`` is an ordinary string.

Dates: ``-90d`` is ``as_of`` minus 90 days, ``-4w`` minus 28 days, ``-6m`` / ``-1y`` calendar
months / years back (the 31st becomes the last day of a shorter month), ``today`` is ``as_of``.
``as_of`` is a day in the workspace time zone, and date attributes are days in that zone, so
``last_order_date < -180d`` compares days.

Empty values (NULL) follow SQL, not Shopify
-------------------------------------------
In segmint a comparison with an empty value is *unknown* and an unknown condition keeps no one:

- ``country != 'US'`` does not keep customers with no country; nor do ``NOT IN`` and
  ``NOT CONTAINS`` (a customer with no tags list at all is not in ``tags NOT CONTAINS 'vip'``;
  one with an empty list is);
- ``NOT (birth_year = 1990)`` does not keep customers with no birth year: write
  ``NOT (birth_year = 1990) OR birth_year IS NULL`` to keep them;
- ``x = 1 OR x IS NULL`` and ``x IS NOT NULL`` behave as written.

Shopify's editor does the opposite for ``!=``, ``NOT IN`` and ``NOT CONTAINS``: there they also
keep customers whose value is empty, and its users add ``IS NOT NULL`` to drop them. A Shopify
query ported unchanged therefore returns the same customers or fewer, never more. Unknown results
are turned into "not a member" only at the top of the rule, so ``NOT`` and ``OR`` follow SQL's
three-valued logic.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir

from segmint.literals import decimal_literal
from segmint.rules import ast as A
from segmint.rules.catalog import Catalog
from segmint.rules.check import check
from segmint.rules.errors import RuleCompileError, RuleError
from segmint.rules.parser import parse

RuleFunction = Callable[[dict[str, Any], ir.Table], ir.BooleanValue]


def shift_months(day: date, months: int) -> date:
    """``day`` moved ``months`` calendar months (negative: back), clamped to the month's end."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def resolve_date(value: A.DateLiteral | A.RelativeDate | A.Today, as_of: date) -> date:
    """The day a date value stands for, as of ``as_of``."""
    if isinstance(value, A.DateLiteral):
        return value.value
    if isinstance(value, A.Today):
        return as_of
    if value.unit == "d":
        return as_of - timedelta(days=value.amount)
    if value.unit == "w":
        return as_of - timedelta(weeks=value.amount)
    if value.unit == "m":
        return shift_months(as_of, -value.amount)
    return shift_months(as_of, -12 * value.amount)


def python_value(value: A.Literal_, as_of: date) -> Any:
    """A literal as a plain Python value: int / float (numbers), str, bool, date."""
    if isinstance(value, A.Number):
        return (
            int(value.value)
            if value.value == value.value.to_integral_value()
            else float(value.value)
        )
    if isinstance(value, A.String | A.Boolean):
        return value.value
    return resolve_date(value, as_of)


def compile_rule(
    rule: str | A.Expr,
    table: ir.Table,
    catalog: Catalog,
    as_of: date,
    functions: Mapping[str, RuleFunction] | None = None,
) -> ir.BooleanValue:
    """Compile ``rule`` (text or AST) to a boolean over ``table``; NULL never counts as true.

    The rule is checked against ``catalog`` first (aliases, enum values, types). Function calls
    go to ``functions[name](args, table)``, where ``args`` maps each given canonical parameter
    name to its Python value (dates resolved against ``as_of``; a list argument is a tuple).
    """
    text = rule if isinstance(rule, str) else None
    node = parse(rule) if isinstance(rule, str) else rule
    resolved = check(node, catalog, text)
    try:
        expr = _Compiler(table, catalog, as_of, functions or {}).expr(resolved)
    except RuleError as exc:
        if text is not None and exc.rule is None:
            raise exc.with_rule(text) from None
        raise
    return expr.fill_null(False)


class _Compiler:
    def __init__(
        self,
        table: ir.Table,
        catalog: Catalog,
        as_of: date,
        functions: Mapping[str, RuleFunction],
    ) -> None:
        self.table = table
        self.catalog = catalog
        self.as_of = as_of
        self.functions = functions

    def expr(self, node: A.Expr) -> ir.BooleanValue:
        if isinstance(node, A.And):
            return self.expr(node.left) & self.expr(node.right)
        if isinstance(node, A.Or):
            return self.expr(node.left) | self.expr(node.right)
        if isinstance(node, A.Not):
            return ~self.expr(node.operand)
        if isinstance(node, A.FunctionCall):
            return self.function(node)
        column = self.column(node.attr)  # type: ignore[union-attr]
        if isinstance(node, A.IsNull):
            return column.notnull() if node.negated else column.isnull()
        if isinstance(node, A.Contains):
            result = column.contains(self.literal(node.value, column))
            return ~result if node.negated else result
        if isinstance(node, A.Comparison):
            value = self.literal(node.value, column)
            return {
                "=": column.__eq__,
                "!=": column.__ne__,
                "<": column.__lt__,
                "<=": column.__le__,
                ">": column.__gt__,
                ">=": column.__ge__,
            }[node.op](value)
        if isinstance(node, A.Between):
            result = column.between(self.literal(node.low, column), self.literal(node.high, column))
            return ~result if node.negated else result
        if isinstance(node, A.InList):
            result = column.isin([self.literal(v, column) for v in node.values])
            return ~result if node.negated else result
        raise TypeError(f"not a rule node: {node!r}")

    def column(self, attr: A.Attr) -> ir.Value:
        if attr.name not in self.table.columns:
            raise RuleCompileError(
                f"The features table has no column {attr.name!r}",
                attr.pos,
                hint="refresh the features so the table matches the catalog",
            )
        column = self.table[attr.name]
        if self.catalog[attr.name].type == "date" and column.type().is_timestamp():
            column = column.date()
        return column

    def literal(self, value: A.Literal_, column: ir.Value) -> ir.Value:
        py = python_value(value, self.as_of)
        if isinstance(value, A.Number) and column.type().is_decimal():
            typed = decimal_literal(Decimal(value.value), column.type())
            return typed if typed is not None else ibis.literal(Decimal(value.value))
        if isinstance(value, A.DateLiteral | A.RelativeDate | A.Today):
            return ibis.literal(py, type="date")
        if isinstance(value, A.String):
            return ibis.literal(py, type="string")
        return ibis.literal(py)

    def function(self, node: A.FunctionCall) -> ir.BooleanValue:
        fn = self.functions.get(node.name)
        if fn is None:
            raise RuleCompileError(
                f"No implementation was given for the function {node.name!r}",
                node.pos,
                hint="pass it in functions={name: callable(args, table)}",
            )
        args: dict[str, Any] = {}
        for arg in node.args:
            assert arg.name is not None
            if isinstance(arg.value, tuple):
                args[arg.name] = tuple(python_value(v, self.as_of) for v in arg.value)
            else:
                args[arg.name] = python_value(arg.value, self.as_of)
        return fn(args, self.table)
