"""``segmint report``: the dashboard's overview, segments, RFM grid, movement and campaign
results as one self-contained HTML file (:mod:`segmint.dashboard.report`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from segmint.cli.app import app
from segmint.cli.output import print_records, stderr, stdout
from segmint.cli.state import open_workspace

JsonOption = Annotated[bool, typer.Option("--json", help="Print a JSON list of records.")]
SIZE_COLUMNS = ["section", "items", "of", "charts"]


@app.command("report")
def report_command(
    out: Annotated[Path, typer.Option("--out", help="The HTML file to write.")] = Path(
        "report.html"
    ),
    movement_group: Annotated[
        str | None,
        typer.Option("--movement-group", help="The family the movement section shows (rfm)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Write one HTML file (charts and styles inlined) with the overview, segments, RFM grid,
    movement and campaign results, for people without access to the server."""
    from segmint.dashboard.report import build_report, check_destination

    check_destination(out)
    with open_workspace() as ws, stderr.status("Writing the report...") as status:
        if as_json:
            status.stop()
        report = build_report(ws.store, movement_group or None)
        path = report.write(out)
    size = path.stat().st_size
    if as_json:
        record = {"path": str(path.resolve()), "bytes": size, "as_of": report.as_of}
        print_records([{**record, "sections": report.sizes()}], as_json=True)
        return
    stdout.print(f"Wrote {path} ({size / 1e6:.1f} MB) as of {report.as_of}", markup=False)
    print_records(report.sizes(), as_json=False, title="Sections", columns=SIZE_COLUMNS)
