"""Deterministic assignment: golden buckets, Python and Ibis agree, reproducible, balanced."""

from __future__ import annotations

import hashlib
from collections import Counter

import ibis
import pyarrow as pa
import pytest
from scipy import stats as sps

from segmint.campaigns.assignment import (
    ARM_BUCKETS,
    HOLDOUT,
    Arms,
    bucket,
    bucket_expr,
)
from segmint.errors import ConfigError


def _ids(count: int) -> list[str]:
    return [f"cust-{i:06d}" for i in range(count)] + ["émile@example.com", ""]


def test_bucket_matches_an_independent_hash() -> None:
    for salt, customer_id in [("s1", "c_1"), ("campaign-42", "émile"), ("", "")]:
        digest = hashlib.sha256((salt + ":" + customer_id).encode("utf-8")).digest()
        expected = (int.from_bytes(digest[:8], "big") >> 4) % ARM_BUCKETS  # first 15 hex digits
        assert bucket(salt, customer_id) == expected


def test_golden_buckets() -> None:
    # Fixed forever: a change here would reassign the customers of every running campaign.
    assert [bucket("winback-2024", f"c{i}") for i in range(5)] == [7347, 4142, 4703, 6754, 9748]


def test_bucket_expr_equals_bucket_on_duckdb() -> None:
    ids = _ids(1_998)
    table = ibis.memtable(pa.table({"customer_id": ids}))
    arms = Arms.of(["A", "B"], 0.10)
    result = ibis.duckdb.connect().to_pyarrow(arms.assign(table, "salt-7")).to_pydict()
    assert len(ids) == 2_000
    assert result["customer_id"] == ids
    assert result["bucket"] == [bucket("salt-7", i) for i in ids]
    assert result["arm"] == [arms.arm_of(b) for b in result["bucket"]]


def test_bucket_expr_on_a_column_expression() -> None:
    table = ibis.memtable(pa.table({"customer_id": ["a", "b"]}))
    expr = table.select(b=bucket_expr(table.customer_id, "x"))
    assert ibis.duckdb.connect().to_pyarrow(expr)["b"].to_pylist() == [
        bucket("x", "a"),
        bucket("x", "b"),
    ]


def test_arms_of_shares_and_boundaries() -> None:
    arms = Arms.of(["A", "B"], 0.10)
    assert arms.names == ("A", "B", HOLDOUT)
    assert arms.shares == pytest.approx((0.45, 0.45, 0.10))
    assert arms.boundaries() == [4_500, 9_000, ARM_BUCKETS]
    assert Arms.of(["A", "B", "C"], 0).boundaries() == [3_333, 6_667, ARM_BUCKETS]
    assert Arms.of(["only"], 0).names == ("only",)
    assert Arms.of(["A"], 0.2).bucket_shares() == {"A": 0.8, HOLDOUT: 0.2}


def test_arm_of_at_the_cut_points() -> None:
    arms = Arms.of(["A", "B"], 0.10)
    assert [arms.arm_of(b) for b in (0, 4_499, 4_500, 8_999, 9_000, 9_999)] == [
        "A", "A", "B", "B", HOLDOUT, HOLDOUT,
    ]  # fmt: skip
    with pytest.raises(ValueError):
        arms.arm_of(ARM_BUCKETS)


def test_arm_expr_equals_arm_of_for_every_bucket() -> None:
    buckets = list(range(ARM_BUCKETS))
    table = ibis.memtable(pa.table({"b": buckets}))
    con = ibis.duckdb.connect()
    for arms in (Arms.of(["A", "B"], 0.1), Arms.of(["x", "y", "z"], 0.0), Arms.of(["v"], 0)):
        got = con.to_pyarrow(table.select(arm=arms.arm_expr(table.b)))["arm"].to_pylist()
        assert got == [arms.arm_of(b) for b in buckets]


def test_assignment_is_reproducible_and_salted() -> None:
    arms = Arms.of(["A", "B"], 0.10)
    ids = _ids(5_000)
    first = [arms.arm_of(bucket("salt-1", i)) for i in ids]
    assert first == [arms.arm_of(bucket("salt-1", i)) for i in ids]
    other = [arms.arm_of(bucket("salt-2", i)) for i in ids]
    changed = sum(a != b for a, b in zip(first, other, strict=True))
    # Independent assignments agree with probability 0.45^2 + 0.45^2 + 0.1^2 = 0.415.
    assert 0.5 < changed / len(ids) < 0.7


def test_shares_hold_on_100_000_ids() -> None:
    arms = Arms.of(["A", "B"], 0.10)
    counts = Counter(arms.arm_of(bucket("balance", f"c{i}")) for i in range(100_000))
    expected = [100_000 * share for share in arms.bucket_shares().values()]
    observed = [counts[name] for name in arms.names]
    assert sps.chisquare(observed, expected).pvalue > 0.001


@pytest.mark.parametrize(
    ("variants", "holdout", "message"),
    [
        ([], 0.1, "at least one variant"),
        (["A", "A"], 0.1, "named twice"),
        (["A", "Holdout"], 0.1, "reserved"),
        (["A", " "], 0.1, "cannot be empty"),
        (["A"], 0.95, "between 0 and 0.9"),
        (["A"], -0.1, "between 0 and 0.9"),
        (["A"], 10, "between 0 and 0.9"),
        ([f"v{i}" for i in range(10_001)], 0, "too many"),
    ],
)
def test_arms_of_rejects(variants: list[str], holdout: float, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Arms.of(variants, holdout)


def test_holdout_given_as_a_percentage_gets_a_hint() -> None:
    with pytest.raises(ConfigError) as caught:
        Arms.of(["A"], 10)
    assert caught.value.hint == "give a fraction: 0.1 for 10%"
