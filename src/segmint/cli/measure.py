"""``segmint history``, ``backfill``, ``movement`` and ``kpis``: segments over time."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import typer

from segmint.backfill import backfill
from segmint.cli.app import app
from segmint.cli.output import print_records, print_warnings, stderr
from segmint.cli.state import open_workspace
from segmint.errors import ConfigError, WorkspaceError
from segmint.history import (
    check_recorded,
    checked_segments,
    customer_intervals,
    latest_observed,
    observed_days,
    observed_on_or_before,
    segment_history,
)
from segmint.movement import Movement, movement
from segmint.periods import check_period, parse_day, span_days, span_start
from segmint.scorecard import BASELINE, KPIS, LIFTED, kpi_windows, segment_kpis
from segmint.store import Store

JsonOption = Annotated[bool, typer.Option("--json", help="Print a JSON list of records.")]
BACKFILL_COLUMNS = ["as_of", "customers", "segments"]
FLOW_COLUMNS = ["from_segment", "to_segment", "customers", "share_of_from", "revenue", "flow"]


@app.command("history")
def history_command(
    segment: Annotated[
        str | None, typer.Argument(help="A segment's slug (see `segmint segments list`).")
    ] = None,
    every: Annotated[
        str | None,
        typer.Option("--every", help="Sum the changes by week, month or quarter."),
    ] = None,
    customer: Annotated[
        str | None,
        typer.Option("--customer", help="A customer's segments over time instead (id, email...)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """A segment's size, entries and exits at each refresh, or a customer's segments over
    time."""
    if (segment is None) == (customer is None):
        raise ConfigError("name a segment, or a customer with --customer (not both)")
    if every is not None:
        check_period(every)
    with open_workspace() as ws:
        if customer is not None:
            found = ws.find_customer(customer)
            if found is None:
                raise ConfigError(f"no customer '{customer}'", hint="try an id, email or phone")
            rows = customer_intervals(ws.store, found["customer_id"]).to_pyarrow().to_pylist()
            title = f"Segments of {found['customer_id']} over time"
        else:
            rows = segment_history(ws.store, check_recorded(ws.store, segment), every)
            title = f"History of {segment}"
    print_records(rows, as_json=as_json, title=title)


@app.command("backfill")
def backfill_command(
    since: Annotated[
        str,
        typer.Option(help="How far back: a span (12m, 52w, 2q, 1y) or a date (YYYY-MM-DD)."),
    ] = "12m",
    every: Annotated[str, typer.Option(help="One observation per 'week' or 'month'.")] = "month",
    as_json: JsonOption = False,
) -> None:
    """Record the segments as they were at the end of each past week or month (history only:
    the live segments stay as they are)."""
    with open_workspace() as ws, stderr.status("Computing past segments...") as status:
        if as_json:
            status.stop()

        def show(day: object) -> None:
            status.update(f"Computing the segments as of {day}...")

        results = backfill(ws.store, since, every, progress=show)
    rows = [{"as_of": r.as_of, "customers": r.customers, "segments": r.segments} for r in results]
    print_records(rows, as_json=as_json, title="Backfilled", columns=BACKFILL_COLUMNS)


@app.command("movement")
def movement_command(
    group: Annotated[
        str, typer.Option("--group", help="A family: rfm, lifecycle, value, engagement, cluster...")
    ],
    start: Annotated[
        str | None,
        typer.Option(
            "--from", help="First day (YYYY-MM-DD); default: the observed day before --to."
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--to", help="Second day (YYYY-MM-DD); default: the latest observed."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """How customers moved between a family's segments: customers and revenue per flow."""
    with open_workspace() as ws:
        latest = latest_observed(ws.store)
        to_day = _observed(ws.store, parse_day(end, "--to")) if end else latest
        earlier = [d for d in observed_days(ws.store) if d < to_day]
        if start is None and not earlier:
            raise WorkspaceError(
                f"no observed day before {to_day}", hint="run `segmint backfill` first"
            )
        from_day = _observed(ws.store, parse_day(start, "--from")) if start else earlier[-1]
        moved = movement(ws.store, group, from_day, to_day)
    if as_json:
        print_records(moved.flows, as_json=True, columns=FLOW_COLUMNS)
        return
    _print_movement(moved)


def _observed(store: Store, day: date) -> date:
    """``day``, or the observed day the history takes its memberships from (with a warning)."""
    observed = observed_on_or_before(store, day)
    if observed != day:
        print_warnings([f"{day} was not observed: memberships as of {observed} are used"])
    return observed


def _print_movement(moved: Movement) -> None:
    span = f"{moved.group}, {moved.start} to {moved.end}"
    print_records(moved.matrix("customers"), as_json=False, title=f"Customers: {span}")
    print_records(moved.matrix("revenue"), as_json=False, title=f"Revenue in between: {span}")
    named = moved.named_flows()
    if named:
        print_records(named, as_json=False, title="Flows that matter", columns=FLOW_COLUMNS)


KPI_COLUMNS = ["segment", "start", "end", *KPIS, *(f"lift_{k}" for k in LIFTED)]
#: Up to this many segments (or periods), a table shows them as columns.
TRANSPOSE_UP_TO = 7


@app.command("kpis")
def kpis_command(
    segments: Annotated[
        list[str] | None, typer.Argument(help="Segments (default: every segment).")
    ] = None,
    window: Annotated[
        str, typer.Option(help="The window ending with --to: a span such as 90d or 12w.")
    ] = "90d",
    start: Annotated[
        str | None, typer.Option("--from", help="Members as of this day (instead of --window).")
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--to", help="Outcomes up to this day (default: the latest observed)."),
    ] = None,
    every: Annotated[
        str | None, typer.Option("--every", help="Trend by 'month' or 'quarter' instead.")
    ] = None,
    since: Annotated[
        str, typer.Option(help="With --every: from how far back (12m, 2q, or a date).")
    ] = "12m",
    as_json: JsonOption = False,
) -> None:
    """KPIs per segment against the whole customer base: customers in the segment at the
    start, what they did next, and the lift over everyone."""
    with open_workspace() as ws:
        to_day = parse_day(end, "--to") if end else latest_observed(ws.store)
        if every is not None:
            windows = kpi_windows(to_day, every=every, since=span_start(since, to_day))
        else:
            days = span_days(window)
            first = parse_day(start, "--from") if start else to_day - timedelta(days=days)
            windows = kpi_windows(to_day, first)
        slugs = checked_segments(ws.store, segments)
        for shown in windows:
            _observed(ws.store, shown.start)
        records = [r for w in windows for r in segment_kpis(ws.store, slugs, w)]
    if as_json or every is None:
        few = len(records) <= TRANSPOSE_UP_TO
        print_records(records, as_json=as_json, columns=KPI_COLUMNS, transpose=few, title="KPIs")
        return
    for slug in [*slugs, BASELINE]:
        mine = [r for r in records if r["segment"] == slug]
        few = len(mine) <= TRANSPOSE_UP_TO
        columns = ["end", *KPI_COLUMNS[3:]] if few else KPI_COLUMNS[1:]
        print_records(mine, as_json=False, columns=columns, transpose=few, title=f"KPIs of {slug}")
