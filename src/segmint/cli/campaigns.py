"""``segmint campaign``: create an A/B test with a holdout, size it, report what it caused."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from segmint.campaigns.planning import size_campaign
from segmint.campaigns.registry import create_campaign, list_campaigns
from segmint.campaigns.report import campaign_report
from segmint.campaigns.results import import_results
from segmint.cli.app import app
from segmint.cli.output import print_records, print_warnings, stdout
from segmint.cli.state import open_workspace
from segmint.errors import ConfigError
from segmint.periods import parse_day, span_days

JsonOption = Annotated[bool, typer.Option("--json", help="Print a JSON list of records.")]
campaign_app = typer.Typer(
    help="Campaigns and A/B tests: assignment with a holdout, sizing, honest reports.",
    no_args_is_help=True,
)
app.add_typer(campaign_app, name="campaign")
ARM_COLUMNS = ["arm", "customers", "share", "file"]
SIZE_COLUMNS = [
    "segment",
    "baseline_conversion",
    "eligible_per_arm",
    "relative_lift",
    "needed_per_arm",
    "detectable_lift",
]


def parse_share(text: str, option: str) -> float:
    """``10%`` or ``0.1`` as a fraction."""
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise ConfigError(
            f"{option}: '{text}' is not a share", hint="write e.g. 10% or 0.1"
        ) from None
    return value


@campaign_app.command("create")
def create_command(
    name: Annotated[str, typer.Argument(help="The campaign's name.")],
    segment: Annotated[str, typer.Option(help="The segment it targets.")],
    channel: Annotated[
        str, typer.Option(help="Where it is sent: klaviyo, mailchimp, meta, google-ads, csv...")
    ],
    variants: Annotated[str, typer.Option(help="Variant names, comma-separated.")] = "A",
    holdout: Annotated[str, typer.Option(help="Share kept out, not sent (e.g. 10%).")] = "10%",
    send_date: Annotated[
        str | None, typer.Option("--send-date", help="Day it is sent (YYYY-MM-DD); default today.")
    ] = None,
    window: Annotated[str, typer.Option(help="How long outcomes count (e.g. 14d).")] = "14d",
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="Leave out a segment's members.")
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for the variants' files.")] = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Assign a segment's eligible members to variants and a holdout, and write each
    variant's file for the channel."""
    day = parse_day(send_date, "--send-date") if send_date else None
    out.mkdir(parents=True, exist_ok=True)
    with open_workspace() as ws:
        created = create_campaign(
            ws.store,
            name,
            segment,
            channel,
            [v for v in variants.split(",") if v.strip()],
            parse_share(holdout, "--holdout"),
            day,
            span_days(window),
            exclude,
            out,
        )
    campaign = created.campaign
    files = dict(zip(campaign.variants, campaign.files, strict=True))
    rows = [
        {"arm": arm, "customers": created.sizes[arm], "share": share, "file": files.get(arm)}
        for arm, share in zip(campaign.arms.names, campaign.arms.shares, strict=True)
    ]
    print_records(
        rows,
        as_json=as_json,
        columns=ARM_COLUMNS,
        title=f"Campaign {campaign.name}: {campaign.eligible:,} eligible members",
    )
    print_warnings(created.balance.warnings())


@campaign_app.command("list")
def list_command(as_json: JsonOption = False) -> None:
    """Every campaign."""
    with open_workspace() as ws:
        rows = list_campaigns(ws.store)
    print_records(rows, as_json=as_json, title="Campaigns")


@campaign_app.command("size")
def size_command(
    segment: Annotated[str, typer.Option(help="The segment to send to.")],
    lift: Annotated[str, typer.Option(help="Smallest relative lift worth detecting.")] = "10%",
    variants: Annotated[int, typer.Option(help="How many variants.")] = 1,
    holdout: Annotated[str, typer.Option(help="Share kept out (e.g. 10%).")] = "10%",
    window: Annotated[str, typer.Option(help="The campaign's window (e.g. 14d).")] = "14d",
    baseline: Annotated[
        str | None, typer.Option(help="Conversion without the campaign (default: measured).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Before launch: customers each arm needs for a lift, and the lift the segment can show."""
    days = span_days(window)
    share = parse_share(holdout, "--holdout")
    rate = parse_share(baseline, "--baseline") if baseline is not None else None
    with open_workspace() as ws:
        row = size_campaign(
            ws.store, segment, parse_share(lift, "--lift"), variants, share, days, rate
        )
    print_records([row], as_json=as_json, columns=SIZE_COLUMNS, transpose=True, title="Sizing")


@campaign_app.command("report")
def report_command(
    name: Annotated[str, typer.Argument(help="The campaign.")],
    window: Annotated[
        str | None, typer.Option(help="Outcome window from the send day (default: its own).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Give an interim verdict before the window ends.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """By arm: conversion, revenue per recipient, AOV, unsubscribes; lift with 95% intervals,
    p-values, a sample-ratio check and a plain verdict."""
    with open_workspace() as ws:
        report = campaign_report(ws.store, name, span_days(window) if window else None, force)
    if not as_json:
        span = report.span
        stdout.print(
            f"Campaign {name}: {span.first} to {span.last}; data through {report.data_through}"
        )
    print_records(report.rows, as_json=as_json, title="Results by arm")
    print_warnings(report.notes())


@campaign_app.command("results")
def results_command(
    name: Annotated[str, typer.Argument(help="The campaign.")],
    file: Annotated[Path, typer.Argument(help="A campaign results CSV (docs/campaigns.md).")],
    as_json: JsonOption = False,
) -> None:
    """Import a campaign results CSV: per recipient, variant and outcomes."""
    with open_workspace() as ws:
        result = import_results(ws.store, name, file)
    print_records([result.as_dict()], as_json=as_json, transpose=True, title="Campaign results")
    print_warnings([r.message() for r in result.rejects[:10]])
