"""Nearest-rank cut points: the value at rank ``ceil(q * n)`` (1-based, ascending, exact).

RFM scores, value tiers and the predicted segments cut customers at such values, and every
engine must find the same ones. On DuckDB they are ``quantile_disc``, whose position is that
rank computed in integer arithmetic when the quantile is a decimal (a selection per column,
no sort). Elsewhere (Spark) each distinct value is counted once and the value at rank ``r``
is the smallest whose running count reaches ``r``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from decimal import Decimal
from fractions import Fraction

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

#: ``name -> (values, quantiles)``: the cut points wanted of each column.
Wanted = Mapping[str, tuple[ir.Column, tuple[float, ...]]]
#: The type quantiles are given to ``quantile_disc`` in: exact decimal fractions.
QUANTILE_PLACES = 18
QUANTILES = dt.Array(dt.Decimal(38, QUANTILE_PLACES))


@functools.cache
def _quantile_disc(dtype: dt.DataType) -> Callable[..., ir.ArrayValue]:
    """DuckDB's discrete quantiles of values of type ``dtype``: the values at ranks
    ``max(1, ceil(q * n))``, as a list of that type."""
    return ibis.udf.agg.builtin(
        lambda arg, quantiles: None,
        name="quantile_disc",
        signature=((dtype, QUANTILES), dt.Array(dtype)),
    )


def nearest_rank_cut_points(values: ir.Column, quantiles: tuple[float, ...]) -> tuple[float, ...]:
    """The values at ranks ``ceil(q * n)`` of ``values`` (nulls and NaN left out), computed
    in the engine; ``()`` when there are none."""
    return nearest_rank_cut_points_of({"values": (values, quantiles)})["values"]


def nearest_rank_cut_points_of(columns: Wanted) -> dict[str, tuple[float, ...]]:
    """:func:`nearest_rank_cut_points` of several columns (each with its quantiles), in one
    query. Names given the same column (an equal expression) share its work."""
    distinct, slot = _distinct_columns(columns)
    wanted: list[list[float]] = [[] for _ in distinct]
    for name, (_, quantiles) in columns.items():
        wanted[slot[name]].extend(q for q in quantiles if q not in wanted[slot[name]])
    on_duckdb = ibis.get_backend(distinct[0]).name == "duckdb"
    exact = all(_places(q) <= QUANTILE_PLACES for q in sum(wanted, []))
    by_column = (_selected if on_duckdb and exact else _counted)(distinct, wanted)
    return {
        name: tuple(by_column[slot[name]][q] for q in quantiles) if by_column[slot[name]] else ()
        for name, (_, quantiles) in columns.items()
    }


def _distinct_columns(columns: Wanted) -> tuple[list[ir.Column], dict[str, int]]:
    """The distinct column expressions of ``columns``, and each name's position among them."""
    distinct: list[ir.Column] = []
    slot = {}
    for name, (values, _) in columns.items():
        found = next((k for k, seen in enumerate(distinct) if seen.equals(values)), None)
        if found is None:
            found = len(distinct)
            distinct.append(values)
        slot[name] = found
    return distinct, slot


def _selected(columns: list[ir.Column], wanted: list[list[float]]) -> list[dict[float, float]]:
    """DuckDB: ``quantile_disc`` of each column, with the quantiles as exact decimals; one
    query (one single-row aggregate per column, cross-joined), each in the column's own type
    (Python turns a decimal into the nearest double, as the engine does)."""
    rows = []
    for k, values in enumerate(columns):
        if values.type().is_null():  # a column of nulls only
            values = values.cast("float64")
        numbers = ~values.isnan() if values.type().is_floating() else None  # as Spark counts
        quantiles = _quantile_disc(values.type())(values, _decimals(wanted[k]), where=numbers)
        rows.append(values.as_table().aggregate(**{f"c{k}": quantiles}))
    joined = rows[0]
    for row in rows[1:]:
        joined = joined.cross_join(row)
    found = joined.to_pyarrow().to_pylist()[0]
    return [
        dict(zip(wanted[k], map(float, found[f"c{k}"]), strict=True)) if found[f"c{k}"] else {}
        for k in range(len(columns))
    ]


def _decimals(quantiles: list[float]) -> ir.ArrayValue:
    """``quantiles`` as the decimal fractions they are written as (``0.2``, not its binary
    neighbour), so that the engine's position ``ceil(q * n)`` is exact."""
    return ibis.literal([Decimal(str(q)) for q in quantiles], type=QUANTILES)


def _places(q: float) -> int:
    """How many decimals ``q`` is written with (``0.95``: 2)."""
    return max(0, -int(Decimal(str(q)).normalize().as_tuple().exponent))


def _counted(columns: list[ir.Column], wanted: list[list[float]]) -> list[dict[float, float]]:
    """Any engine: each distinct value of a column counted once; the value at rank ``r`` is
    the smallest whose running count reaches ``r`` (one group-by and one sort of the distinct
    values). Values are compared as doubles (exact for integers and for money of up to 15
    digits)."""
    parts = [
        values.cast("float64").name("v").as_table().filter(_a_number(ibis._.v)).mutate(k=k)
        for k, values in enumerate(columns)
    ]
    stacked = ibis.union(*parts) if len(parts) > 1 else parts[0]
    counts = stacked.group_by(["k", "v"]).aggregate(n=ibis._.count())
    running = counts.mutate(
        upto=counts.n.sum().over(ibis.cumulative_window(group_by="k", order_by="v")),
        total=counts.n.sum().over(group_by="k"),
    )
    picks: dict[str, ir.Scalar] = {}
    for k, quantiles in enumerate(wanted):
        mine = running.k == k
        picks[f"n{k}"] = running.total.max(where=mine)
        for i, q in enumerate(quantiles):
            reached = mine & (running.upto >= nearest_rank(running.total, q))
            picks[f"q{k}_{i}"] = running.v.min(where=reached)
    row = running.aggregate(**picks).to_pyarrow().to_pylist()[0]
    return [
        {q: float(row[f"q{k}_{i}"]) for i, q in enumerate(quantiles)} if row[f"n{k}"] else {}
        for k, quantiles in enumerate(wanted)
    ]


def _a_number(v: ir.FloatingValue) -> ir.BooleanValue:
    """Neither null nor NaN: the values a cut point is taken among."""
    return v.notnull() & ~v.isnan()


def nearest_rank(n: ir.IntegerValue, q: float) -> ir.IntegerValue:
    """``max(1, ceil(q * n))`` in integers (``q`` as the decimal fraction it is written as)."""
    share = Fraction(str(q))
    rank = (n * share.numerator + (share.denominator - 1)) // share.denominator
    return ibis.greatest(rank, 1)
