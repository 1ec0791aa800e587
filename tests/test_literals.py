"""Literals take the type of the column they are compared with when it holds them exactly."""

from __future__ import annotations

from decimal import Decimal

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa
import pytest

from segmint.literals import decimal_literal

MONEY = dt.Decimal(18, 2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2722.54", MONEY),
        ("0", MONEY),
        ("500", MONEY),
        ("0.5", MONEY),
        ("1E+3", MONEY),
        ("-3.5", MONEY),
        ("9.995", dt.Decimal(38, 3)),  # a third decimal: wider, still exact
        ("1234567890123456789", dt.Decimal(38, 2)),  # more digits than the column holds
    ],
)
def test_a_literal_takes_the_columns_type_when_it_holds_it(text, expected):
    literal = decimal_literal(Decimal(text), MONEY)
    assert literal.type() == expected
    assert literal.op().value == Decimal(text)


def test_comparisons_with_typed_literals_give_exact_answers():
    cents = [Decimal(c) / 100 for c in range(-1005, 1006, 5)]
    table = ibis.memtable(pa.table({"m": pa.array(cents, pa.decimal128(18, 2))}))
    for text in ("9.995", "-3.5", "0", "10.05", "1234567890123456789"):
        bound = Decimal(text)
        count = table.filter(table.m > decimal_literal(bound, MONEY)).count()
        assert ibis.duckdb.connect().execute(count) == sum(c > bound for c in cents), text


def test_no_decimal_type_holds_too_many_digits_or_infinity():
    assert decimal_literal(Decimal("1" + "0" * 40), MONEY) is None
    assert decimal_literal(Decimal("0." + "0" * 40 + "1"), MONEY) is None
    assert decimal_literal(Decimal("Infinity"), MONEY) is None
    assert decimal_literal(Decimal("500.500"), MONEY).type() == MONEY  # trailing zeros
