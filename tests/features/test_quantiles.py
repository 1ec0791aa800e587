"""Nearest-rank cut points: worked by hand, and the same from DuckDB's selection and from the
portable running counts (what Spark runs), against a plain Python reference."""

from __future__ import annotations

import math
import random
from decimal import Decimal

import ibis
import pyarrow as pa
import pytest

from segmint.features.quantiles import (
    _counted,
    _selected,
    nearest_rank_cut_points,
    nearest_rank_cut_points_of,
)

QUANTILES = [0.05, 0.2, 0.21, 0.25, 0.33, 0.4, 0.5, 0.6, 0.75, 0.8, 0.95, 0.999, 1.0]


def reference(values: list, q: float) -> float:
    """The value at rank ceil(q * n), with q the decimal fraction it is written as."""
    ordered = sorted(v for v in values if v is not None)
    rank = max(1, math.ceil(Decimal(str(q)) * len(ordered)))
    return float(ordered[rank - 1])


def test_nearest_ranks_over_unsorted_values_with_ties_and_nulls():
    # 15 values, 5 distinct, each three times, in no order, and a null that does not count:
    # ranks 3, 6, 9 and 12 of 1,1,1,2,2,2,...,5,5,5.
    values = ibis.memtable({"v": [5, 3, 1, 4, 2] * 3 + [None]})
    assert nearest_rank_cut_points(values.v, (0.2, 0.4, 0.6, 0.8)) == (1, 2, 3, 4)
    assert nearest_rank_cut_points(values.v, (0.21, 0.95, 1.0)) == (2, 5, 5)
    assert nearest_rank_cut_points(values.filter(values.v > 99).v, (0.5,)) == ()


@pytest.mark.parametrize("n", [1, 2, 3, 6, 7, 10, 11, 19, 20, 21, 99, 100, 101])
def test_both_ways_agree_with_the_reference_at_every_rank_edge(n):
    rng = random.Random(n)
    cents = [Decimal(rng.randint(-500, 50_000)) / 100 for _ in range(n)]
    days = [rng.randint(0, 30) if i % 5 else None for i in range(n)]  # ties and nulls
    table = ibis.memtable(
        pa.table(
            {"money": pa.array(cents, pa.decimal128(18, 2)), "days": pa.array(days, pa.int64())}
        )
    )
    columns = [table.money, table.days]
    wanted = [QUANTILES, QUANTILES]
    expected = [
        {q: reference(cents, q) for q in QUANTILES},
        {q: reference(days, q) for q in QUANTILES} if any(d is not None for d in days) else {},
    ]
    assert _selected(columns, wanted) == expected
    assert _counted(columns, wanted) == expected


def test_several_columns_in_one_call_each_with_its_own_quantiles():
    table = ibis.memtable({"a": list(range(1, 11)), "b": [None] * 10})
    got = nearest_rank_cut_points_of(
        {
            "low": (table.a, (0.1, 0.5)),
            "high": (table.a, (0.95, 0.5)),
            "none": (table.b, (0.5,)),
            "even": (table.filter(table.a % 2 == 0).a, (0.5, 1.0)),
        }
    )
    assert got == {"low": (1, 5), "high": (10, 5), "none": (), "even": (6, 10)}


def test_nan_counts_nowhere_and_fine_quantiles_stay_exact():
    values = ibis.memtable({"v": [float("nan"), 1.0, 2.0, 3.0, 4.0, None]})
    assert nearest_rank_cut_points(values.v, (0.25, 1.0)) == (1.0, 4.0)
    assert _counted([values.v], [[0.25, 1.0]]) == [{0.25: 1.0, 1.0: 4.0}]
    many = ibis.memtable({"v": list(range(1, 10_001))})
    # 0.2000001 * 10,000 = 2000.001: rank 2001; 0.1234567 * 10,000 = 1234.567: rank 1235
    assert nearest_rank_cut_points(many.v, (0.2000001, 0.1234567)) == (2001, 1235)
