"""``segmint history``, ``backfill`` and ``movement``: segments over time."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from segmint.backfill import backfill
from segmint.cli.app import app
from segmint.cli.output import print_records, print_warnings, stderr
from segmint.cli.state import open_workspace
from segmint.errors import ConfigError, WorkspaceError
from segmint.history import check_recorded, customer_intervals, observed_days, segment_history
from segmint.movement import Movement, movement, observed_on_or_before
from segmint.periods import check_period, parse_day
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
        days = observed_days(ws.store)
        if not days:
            raise WorkspaceError("no segment history yet", hint="run `segmint refresh` first")
        to_day = _observed(ws.store, parse_day(end, "--to")) if end else days[-1]
        earlier = [d for d in days if d < to_day]
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
