"""Literals typed like the column they are compared with.

A comparison of a column with a literal of another type makes the engine convert the column,
row by row: ``net_sales > 500.5`` casts every decimal(18, 2) value to a double, and a literal
of three decimals casts every value to decimal(18, 3). These give a literal the column's own
type whenever that type holds it exactly.
"""

from __future__ import annotations

from decimal import Context, Decimal

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

#: The most digits an engine's decimal holds (DuckDB's and Spark's ``decimal(38, s)``).
MAX_DIGITS = 38
#: Enough precision for any decimal of up to 38 digits, whatever its exponent.
EXACT = Context(prec=2 * MAX_DIGITS + 2)


def decimal_literal(value: Decimal, column: dt.Decimal) -> ir.DecimalScalar | None:
    """``value`` as a literal of the decimal type ``column`` when it holds it exactly, else of
    a decimal type that does (38 digits, at least the column's scale); None when no decimal
    type does (more than 38 digits, or not a finite number)."""
    if not value.is_finite():
        return None
    value = value.normalize(EXACT)  # 500.500 needs no third decimal
    scale = column.scale or 0
    exponent = int(value.as_tuple().exponent)
    places = max(scale, -exponent)
    digits = max(value.adjusted() + 1, 1) + places
    if digits > MAX_DIGITS:
        return None
    if places == scale and digits <= (column.precision or 0):
        return ibis.literal(value, type=column)
    return ibis.literal(value, type=dt.Decimal(precision=MAX_DIGITS, scale=places))
