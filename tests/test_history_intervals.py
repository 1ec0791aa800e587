"""Membership intervals: observations in any order, or observed again, give the intervals that
the day-by-day memberships imply (computed here independently, from the snapshots)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import ibis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segmint.history import INTERVALS, OBSERVATIONS, observed_days, record_observation
from segmint.store import Store

START = date(2025, 1, 5)
CUSTOMERS = ["c1", "c2", "c3"]
SEGMENTS = ["vip", "lapsed"]

Snapshot = frozenset[tuple[str, str]]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = Store(tmp_path_factory.mktemp("history") / "history.duckdb")
    yield store
    store.close()


def observe(store: Store, day: date, snapshot: Snapshot) -> None:
    rows = sorted(snapshot)
    members = ibis.memtable(
        {
            "customer_id": [c for c, _ in rows],
            "segment": [s for _, s in rows],
            "family": ["test"] * len(rows),
        },
        schema={"customer_id": "string", "segment": "string", "family": "string"},
    )
    record_observation(store, day, members, customers=len(CUSTOMERS))


def stored_intervals(store: Store) -> set[tuple[str, str, date, date | None]]:
    rows = store.table(INTERVALS).to_pyarrow().to_pylist()
    return {(r["customer_id"], r["segment"], r["entered"], r["exited"]) for r in rows}


def expected_intervals(snapshots: dict[date, Snapshot]) -> set[tuple[str, str, date, date | None]]:
    """Maximal runs of days on which each customer is in each segment."""
    days = sorted(snapshots)
    found = set()
    for customer in CUSTOMERS:
        for segment in SEGMENTS:
            start = None
            for day in days:
                member = (customer, segment) in snapshots[day]
                if member and start is None:
                    start = day
                elif not member and start is not None:
                    found.add((customer, segment, start, day))
                    start = None
            if start is not None:
                found.add((customer, segment, start, None))
    return found


def reset(store: Store) -> None:
    store.delete_all(INTERVALS)
    store.delete_all(OBSERVATIONS)


snapshots_strategy = st.frozensets(
    st.tuples(st.sampled_from(CUSTOMERS), st.sampled_from(SEGMENTS)), max_size=6
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    days=st.lists(st.integers(0, 9), min_size=1, max_size=6, unique=True),
    states=st.lists(snapshots_strategy, min_size=6, max_size=6),
    redo=st.lists(st.tuples(st.integers(0, 5), snapshots_strategy), max_size=2),
)
def test_any_order_and_reobservations_give_the_intervals_of_the_snapshots(
    store: Store, days: list[int], states: list[Snapshot], redo: list[tuple[int, Snapshot]]
):
    reset(store)
    snapshots: dict[date, Snapshot] = {}
    for offset, state in zip(days, states, strict=False):  # in the order drawn, not by date
        day = START + timedelta(weeks=offset)
        observe(store, day, state)
        snapshots[day] = state
    for index, state in redo:  # observe an already observed day again, differently
        day = START + timedelta(weeks=days[index % len(days)])
        observe(store, day, state)
        snapshots[day] = state
    assert stored_intervals(store) == expected_intervals(snapshots)
    assert observed_days(store) == sorted(snapshots)


def test_a_customer_leaving_and_coming_back(store: Store):
    reset(store)
    jan, feb, mar, apr = (date(2025, m, 28) for m in (1, 2, 3, 4))
    observe(store, apr, frozenset({("c1", "vip")}))
    observe(store, jan, frozenset({("c1", "vip"), ("c2", "vip")}))
    observe(store, mar, frozenset({("c2", "lapsed")}))
    assert stored_intervals(store) == {
        ("c1", "vip", jan, mar),
        ("c1", "vip", apr, None),
        ("c2", "vip", jan, mar),
        ("c2", "lapsed", mar, apr),
    }
    observe(store, feb, frozenset({("c1", "vip")}))  # fills the gap before March
    assert ("c2", "vip", jan, feb) in stored_intervals(store)
    assert ("c1", "vip", jan, mar) in stored_intervals(store)
