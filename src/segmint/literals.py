"""Literals typed like the column they are compared with.

A comparison of a column with a literal of another type makes the engine convert the column,
row by row: ``net_sales > 500.5`` casts every decimal(18, 2) value to a double, and a literal
of three decimals casts every value to decimal(18, 3). These give a literal the column's own
type whenever that type holds it exactly.
"""

from __future__ import annotations

from decimal import Decimal

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir


def decimal_literal(value: Decimal, column: dt.Decimal) -> ir.DecimalScalar:
    """``value`` as a literal of the decimal type ``column`` when it holds it exactly, else of
    a decimal type that does (precision 38, at least the column's scale)."""
    scale = column.scale or 0
    exponent = value.as_tuple().exponent
    places = max(scale, -exponent if isinstance(exponent, int) else 0)
    digits = max(value.adjusted() + 1, 1) + places
    if places == scale and digits <= (column.precision or 0):
        return ibis.literal(value, type=column)
    return ibis.literal(value, type=dt.Decimal(precision=38, scale=places))
