"""``segmint backfill``: the membership history of past periods, computed at once.

For the last day of every week or month since a day (or a span such as ``12m``) before the
live refresh, the features and memberships are computed as they were on that day and
recorded in the history only (:func:`segmint.refresh.refresh_history`), exactly as
``segmint refresh --as-of DAY`` does for one day.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from segmint.engine import Engine
from segmint.errors import WorkspaceError
from segmint.features import default_as_of
from segmint.periods import check_period, period_ends, span_start
from segmint.refresh import RefreshResult, live_as_of, refresh_history
from segmint.segments.config import load_config
from segmint.store import Store


def backfill_days(store: Store, since: str, every: str) -> list[date]:
    """The period ends to compute: those after ``since`` and before the live refresh's day
    (or the latest order day, before a first refresh)."""
    check_period(every, ("week", "month"))
    reference = live_as_of(store) or default_as_of(store.table("orders"))
    if reference is None:
        raise WorkspaceError("no orders yet", hint="import an orders export first")
    start = span_start(since, reference)
    return period_ends(start, reference - timedelta(days=1), every)


def backfill(
    store: Store,
    since: str = "12m",
    every: str = "month",
    engine: Engine | None = None,
    progress: Callable[[date], None] | None = None,
) -> list[RefreshResult]:
    """Record the memberships as of each period end (see :func:`backfill_days`)."""
    days = backfill_days(store, since, every)
    config = load_config(store.path)
    results = []
    for day in days:
        if progress is not None:
            progress(day)
        results.append(refresh_history(store, day, config, engine))
    return results
