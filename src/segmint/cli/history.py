"""``segmint history`` and ``segmint backfill``: segments over time."""

from __future__ import annotations

from typing import Annotated

import typer

from segmint.backfill import backfill
from segmint.cli.app import app
from segmint.cli.output import print_records, stderr
from segmint.cli.state import open_workspace
from segmint.errors import ConfigError
from segmint.history import check_recorded, customer_intervals, segment_history
from segmint.periods import check_period

JsonOption = Annotated[bool, typer.Option("--json", help="Print a JSON list of records.")]
BACKFILL_COLUMNS = ["as_of", "customers", "segments"]


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
