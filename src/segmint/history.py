"""Segment membership history as intervals: who was in which segment on any observed day.

Every refresh is an *observation*: the memberships as of its day. They are stored as
intervals in ``segment_intervals``: a customer is in a segment on day ``x`` when
``entered <= x`` and ``x < exited`` (an empty ``exited``: still in it at the latest
observation). Between two observations memberships are taken to stay as the earlier one
found them, so interval ends are always observed days.

Observations may arrive in any order (a backfill after a year of live refreshes): adding one
on day ``d`` between the observed days ``p`` and ``n`` only rewrites the intervals of the
customers whose membership on ``d`` differs from ``p``'s, and the result is the same as if
the observations had been added in date order. Observing a day again replaces it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from segmint.errors import ConfigError, WorkspaceError, did_you_mean
from segmint.periods import period_end
from segmint.store import Store, utcnow

INTERVALS = "segment_intervals"
OBSERVATIONS = "history_observations"
PAIR = ["customer_id", "segment"]
#: What identifies one interval (a customer's intervals in a segment never overlap).
INTERVAL_KEY = [*PAIR, "entered"]
COLUMNS = ["customer_id", "segment", "family", "entered", "exited"]


@dataclass(frozen=True)
class Neighbours:
    """The observed days just before and just after a day (``None``: none)."""

    before: date | None
    after: date | None


def observed_days(store: Store) -> list[date]:
    """Every observed day, oldest first."""
    days = store.table(OBSERVATIONS).select("as_of")
    return sorted(store.run(days).column("as_of").to_pylist())


def record_observation(
    store: Store,
    as_of: date,
    members: ir.Table,
    customers: int,
    refresh_id: int | None = None,
) -> None:
    """Record the memberships (a stored or staged table with ``customer_id``, ``segment``,
    ``family``) as of ``as_of``; ``refresh_id`` is the live refresh they come from (``None``:
    a history-only one)."""
    members = members.select("customer_id", "segment", "family")
    with store.transaction():
        days = observed_days(store)
        if as_of in days:
            _forget(store, as_of, _neighbours(days, as_of))
        _observe(store, as_of, members, _neighbours(days, as_of))
        store.insert(
            OBSERVATIONS,
            pa.table(
                {
                    "as_of": [as_of],
                    "refresh_id": pa.array([refresh_id], pa.int64()),
                    "customers": [customers],
                    "recorded_at": [utcnow()],
                }
            ),
        )


def _neighbours(days: list[date], day: date) -> Neighbours:
    """The observed days around ``day`` among ``days`` (sorted)."""
    before = [d for d in days if d < day]
    after = [d for d in days if d > day]
    return Neighbours(before[-1] if before else None, after[0] if after else None)


def _covering(intervals: ir.Table, day: date | None) -> ir.Table:
    """The intervals that hold on ``day`` (none when there is no such day)."""
    if day is None:
        return intervals.filter(ibis.literal(False))
    on = ibis.literal(day)
    return intervals.filter(
        (intervals.entered <= on) & (intervals.exited.isnull() | (intervals.exited > on))
    )


def _starting(intervals: ir.Table, day: date | None) -> ir.Table:
    """The intervals that start on ``day``, as ``customer_id``, ``segment``, ``until``."""
    if day is None:
        intervals = intervals.filter(ibis.literal(False))
    else:
        intervals = intervals.filter(intervals.entered == ibis.literal(day))
    return intervals.select(*PAIR, until=intervals.exited, starts=intervals.entered)


def _with_next(pairs: ir.Table, intervals: ir.Table, day: date | None) -> ir.Table:
    """``pairs`` with ``starts`` and ``until`` of their interval starting on ``day`` (if any)."""
    joined = pairs.left_join(_starting(intervals, day), PAIR)
    return joined.drop("customer_id_right", "segment_right")


def _day(day: date | None) -> ir.DateValue:
    return ibis.literal(day, type="date")


def _resumed(intervals: ir.Table, after: date | None) -> ir.Table:
    """The part of ``intervals`` that still holds on the observed day ``after``, starting
    there (none without such a day)."""
    on = _day(after)
    held = intervals.filter(on.notnull() & (intervals.exited.isnull() | (intervals.exited > on)))
    return held.mutate(entered=on).select(*COLUMNS)


def _until_next(table: ir.Table, after: date | None) -> ir.DateValue:
    """The end of an interval that runs on to the next observed day: the end of the
    interval starting there (``starts``, ``until``) when there is one, else that day."""
    return ibis.ifelse(table.starts.notnull(), table.until, _day(after))


def _observe(store: Store, day: date, members: ir.Table, around: Neighbours) -> None:
    """Add the observation of ``members`` on the unobserved ``day``."""
    intervals = store.table(INTERVALS)
    before = _covering(intervals, around.before)
    # In an interval on the day before, not on this day: it ends on this day, and what of it
    # held on the next observed day starts again there.
    ending = store.stage("_history_ending", before.anti_join(members, PAIR))
    # In a segment on this day, not on the day before: an interval starting on the next
    # observed day starts on this one instead; otherwise one runs until that day.
    joining = members.anti_join(before, PAIR)
    starts = store.stage("_history_starts", _with_next(joining, intervals, around.after))
    removed = ending.select(*INTERVAL_KEY).union(
        starts.filter(starts.starts.notnull()).select(*PAIR, entered=starts.starts)
    )
    ended = ending.mutate(exited=_day(day)).select(*COLUMNS)
    opened = starts.select(
        *PAIR, family=starts.family, entered=_day(day), exited=_until_next(starts, around.after)
    )
    added = ended.union(_resumed(ending, around.after), opened, distinct=False)
    _rewrite(store, removed, added)


def _forget(store: Store, day: date, around: Neighbours) -> None:
    """Remove the observation of ``day``: its changes are undone, as if never observed."""
    intervals = store.table(INTERVALS)
    before = _covering(intervals, around.before)
    on_day = _covering(intervals, day)
    # Ended on this day: runs on to the next observed day, or joins an interval starting there.
    ended = before.anti_join(on_day, PAIR)
    ended = store.stage("_history_ended", _with_next(ended, intervals, around.after))
    # Started on this day: starts on the next observed day instead, if it lasts until then.
    started = store.stage("_history_started", on_day.anti_join(before, PAIR))
    removed = ended.select(*INTERVAL_KEY).union(
        ended.filter(ended.starts.notnull()).select(*PAIR, entered=ended.starts),
        started.select(*INTERVAL_KEY),
    )
    extended = ended.mutate(exited=_until_next(ended, around.after)).select(*COLUMNS)
    _rewrite(store, removed, extended.union(_resumed(started, around.after), distinct=False))
    store.stage("_history_forgotten", pa.table({"as_of": [day]}))
    store.delete_matching(OBSERVATIONS, "_history_forgotten", ["as_of"])


def _rewrite(store: Store, removed: ir.Table, added: ir.Table) -> None:
    """Replace the intervals keyed in ``removed`` with ``added`` (both read before writing)."""
    store.stage("_history_removed", removed)
    added = store.stage("_history_added", added.select(*COLUMNS))
    store.delete_matching(INTERVALS, "_history_removed", INTERVAL_KEY)
    store.insert(INTERVALS, added)


# -- reading ----------------------------------------------------------------------------------
def members_on(store: Store, day: date) -> ir.Table:
    """Who was in which segment on ``day`` (``customer_id``, ``segment``, ``family``), as the
    latest observation up to that day found it."""
    intervals = _covering(store.table(INTERVALS), day)
    return intervals.select("customer_id", "segment", "family")


def on_each_day(intervals: ir.Table, days: ir.Table) -> ir.Table:
    """``intervals`` joined to every row of ``days`` (a table with a ``day`` column) whose
    day they cover: who was in which segment on each of those days."""
    covers = (intervals.entered <= days.day) & (
        intervals.exited.isnull() | (intervals.exited > days.day)
    )
    return intervals.join(days, covers)


def sizes_on(store: Store, day: date) -> ir.Table:
    """Every segment's size on ``day``: ``segment``, ``customers``."""
    members = members_on(store, day)
    return members.group_by("segment").aggregate(customers=members.count())


def customer_intervals(store: Store, customer_id: str) -> ir.Table:
    """A customer's segments over time, one row per interval, oldest first."""
    intervals = store.table(INTERVALS)
    mine = intervals.filter(intervals.customer_id == customer_id)
    return mine.select(*COLUMNS).order_by(["entered", "segment"])


def segment_history(store: Store, segment: str, every: str | None = None) -> list[dict]:
    """``date``, ``size``, ``entries`` and ``exits`` of a segment at each observed day, or
    per period (``every``: week, month, quarter; ``date`` is the period's last observed day,
    the changes are summed over the period). The first row's entries are its starting size."""
    intervals = store.table(INTERVALS)
    mine = intervals.filter(intervals.segment == segment)
    entries = _counts_by_day(store, mine.entered)
    exits = _counts_by_day(store, mine.exited)
    rows, size = [], 0
    for day in observed_days(store):
        size += entries.get(day, 0) - exits.get(day, 0)
        rows.append(
            {"date": day, "size": size, "entries": entries.get(day, 0), "exits": exits.get(day, 0)}
        )
    return rows if every is None else _by_period(rows, every)


def _counts_by_day(store: Store, days: ir.DateColumn) -> dict[date, int]:
    table = days.name("day").as_table()
    dated = table.filter(table.day.notnull())
    counted = dated.group_by("day").aggregate(n=dated.count())
    result = store.run(counted)
    return dict(zip(result["day"].to_pylist(), result["n"].to_pylist(), strict=True))


def _by_period(rows: list[dict], every: str) -> list[dict]:
    periods: dict[date, dict] = {}
    for row in rows:
        end = period_end(row["date"], every)
        current = periods.setdefault(end, {"period_end": end, "entries": 0, "exits": 0})
        current.update(date=row["date"], size=row["size"])
        current["entries"] += row["entries"]
        current["exits"] += row["exits"]
    return [
        {k: p[k] for k in ("period_end", "date", "size", "entries", "exits")}
        for p in periods.values()
    ]


def latest_observed(store: Store) -> date:
    """The latest observed day (an error before the first refresh)."""
    days = observed_days(store)
    if not days:
        raise WorkspaceError("no segment history yet", hint="run `segmint refresh` first")
    return days[-1]


def observed_on_or_before(store: Store, day: date) -> date:
    """The latest observed day up to ``day``: memberships on ``day`` are as it found them."""
    earlier = [d for d in observed_days(store) if d <= day]
    if not earlier:
        raise WorkspaceError(
            f"no segment history on or before {day}",
            hint="run `segmint backfill` to compute the past, or pick a later day",
        )
    return earlier[-1]


def recorded_segments(store: Store) -> list[str]:
    """Every segment the history has seen, by slug."""
    slugs = store.table(INTERVALS).select("segment").distinct().order_by("segment")
    return store.run(slugs).column("segment").to_pylist()


def check_recorded(store: Store, segment: str) -> str:
    """``segment`` if the history has seen it; otherwise a :class:`ConfigError` that says
    what it has seen."""
    known = recorded_segments(store)
    if segment in known:
        return segment
    if not known:
        raise WorkspaceError("no segment history yet", hint="run `segmint refresh` first")
    raise ConfigError(
        f"no history of a segment '{segment}'",
        hint=did_you_mean(segment, known) or "see `segmint segments list`",
    )


def checked_segments(store: Store, segments: Iterable[str] | None) -> list[str]:
    """``segments`` checked with :func:`check_recorded`, or every recorded one."""
    chosen = list(segments or [])
    return [check_recorded(store, s) for s in chosen] if chosen else recorded_segments(store)
