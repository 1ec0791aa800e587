"""``segmint export``, ``segmint exports``, ``segmint suppress`` and ``segmint plan``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from segmint.activation.destinations import checked_options
from segmint.cli.app import app
from segmint.cli.output import print_records, print_warnings, stderr
from segmint.cli.state import open_workspace
from segmint.errors import ConfigError

JsonOption = Annotated[bool, typer.Option("--json", help="Print a JSON list of records.")]
FUNNEL_COLUMNS = ["members", "no_consent", "suppressed", "excluded", "no_identifier", "exported"]


@app.command("export")
def export_command(
    segment: Annotated[str, typer.Argument(help="The segment's slug (segmint segments list).")],
    to: Annotated[
        str,
        typer.Option(
            "--to", help="klaviyo, mailchimp, meta, google-ads, shopify-tags, csv or parquet."
        ),
    ],
    out: Annotated[Path | None, typer.Option("--out", help="File to write.")] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", help="Leave out members of this segment (repeatable)."),
    ] = None,
    value: Annotated[
        str | None,
        typer.Option(
            "--value",
            help="Meta's value column: a numeric feature (default: "
            "predicted_clv_12m when predictions exist, else net_sales).",
        ),
    ] = None,
    feature: Annotated[
        list[str] | None,
        typer.Option("--feature", "-f", help="Add a feature as a column (repeatable)."),
    ] = None,
    channel: Annotated[
        str | None, typer.Option("--channel", help="Klaviyo only: email (default) or sms.")
    ] = None,
    changes_since_last: Annotated[
        bool,
        typer.Option(
            "--changes-since-last",
            help="Write who entered and who left since the "
            "previous export of the segment to this destination, as two files.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Write a segment's audience as the file a platform imports (consent and suppression
    always applied), and record it."""
    from segmint.activation.export import export_segment

    options = checked_options(to, list(feature or ()), value, channel)
    with open_workspace() as ws:
        result = export_segment(
            ws.store, segment, to, out, list(exclude or []), options, changes_since_last
        )
    record = result.as_dict()
    columns = ["segment", "destination", *FUNNEL_COLUMNS]
    if changes_since_last:
        columns += ["entered", "left"]
    print_records(
        [{**record, "files": ", ".join(record["files"])}] if not as_json else [record],
        as_json=as_json,
        title="Export",
        columns=None if as_json else [*columns, "files"],
        transpose=True,
    )
    print_warnings(result.warnings)


@app.command("exports")
def exports_command(as_json: JsonOption = False) -> None:
    """Every export so far, newest first, with its funnel."""
    with open_workspace() as ws:
        table = ws.store.table("exports")
        rows = table.order_by(table.export_id.desc()).to_pyarrow().to_pylist()
    columns = ["export_id", "created_at", "segment", "destination", "kind", *FUNNEL_COLUMNS, "file"]
    print_records(rows, as_json=as_json, title="Exports", columns=columns)


suppress_app = typer.Typer(help="Global suppressions: never export these.", no_args_is_help=True)
app.add_typer(suppress_app, name="suppress")


@suppress_app.command("add")
def suppress_add(
    source: Annotated[
        str,
        typer.Argument(
            help="An email, a phone, or a file (CSV with an email or phone "
            "column, or one value per line)."
        ),
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept with each entry).")],
    as_json: JsonOption = False,
) -> None:
    """Suppress addresses and numbers in every later export (stored only as hashes)."""
    from segmint.activation.suppressions import add_file, add_values

    if not reason.strip():
        raise ConfigError("--reason cannot be empty")
    with open_workspace() as ws:
        country = ws.settings["default_phone_country"]
        path = Path(source)
        if path.is_file():
            result = add_file(ws.store, path, reason, country)
        else:
            result = add_values(ws.store, [source], reason, "command line", country)
    if not path.is_file() and result.rejected:
        raise ConfigError(f"{source!r}: {result.rejected[0]['reason']}")
    print_records([result.as_dict()], as_json=as_json, title="Suppressions")
    for reject in result.rejected[:20]:
        stderr.print(
            f"Warning: {source}, row {reject['row']}: {reject['value']!r}: {reject['reason']}",
            markup=False,
        )
    if len(result.rejected) > 20:
        stderr.print(f"Warning: ... and {len(result.rejected) - 20} more rows not suppressed")


@suppress_app.command("list")
def suppress_list(as_json: JsonOption = False) -> None:
    """How many suppressions there are, by kind, reason and source (values are hashed)."""
    with open_workspace() as ws:
        table = ws.store.table("suppressions")
        rows = (
            table.group_by(["kind", "reason", "source"])
            .aggregate(entries=table.count(), last_added=table.added_at.max())
            .order_by(["kind", "reason", "source"])
            .to_pyarrow()
            .to_pylist()
        )
    print_records(
        rows,
        as_json=as_json,
        title="Suppressions",
        columns=["kind", "reason", "source", "entries", "last_added"],
    )


@app.command("plan")
def plan_command(
    segments: Annotated[
        list[str] | None,
        typer.Argument(help="Segments to plan for (default: every action segment with members)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for the plan and its exports.")
    ] = None,
    allow_overlap: Annotated[
        bool,
        typer.Option("--allow-overlap", help="Let a customer be in several campaigns."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Write a campaign plan (Markdown and HTML) and the export each campaign needs."""
    from segmint.activation.plan import build_plan
    from segmint.segments import latest_as_of

    with open_workspace() as ws:
        folder = out or Path(f"plan-{latest_as_of(ws.store)}")
        plan = build_plan(ws.store, folder, list(segments or []), allow_overlap)
    records = [c.as_dict() for c in plan.campaigns]
    columns = [
        "priority",
        "segment",
        "members",
        "lost_to_higher_priority",
        "exported",
        "channel",
        "goal",
        "baseline",
        "export_file",
    ]
    print_records(
        records,
        as_json=as_json,
        title=f"Campaign plan ({plan.name})",
        columns=None if as_json else columns,
    )
    if not as_json:
        stderr.print("Plan written to " + ", ".join(str(f) for f in plan.files), markup=False)
    for campaign in plan.campaigns:
        print_warnings([f"{campaign.slug}: {w}" for w in campaign.export.warnings])
