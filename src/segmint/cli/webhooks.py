"""``segmint webhooks``: add, list and remove webhooks, read the delivery log, deliver."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from segmint.cli.app import app
from segmint.cli.output import print_records, stderr
from segmint.cli.state import open_workspace
from segmint.errors import ConfigError

JsonOption = Annotated[bool, typer.Option("--json", help="Print a JSON list of records.")]
WEBHOOK_COLUMNS = ["webhook_id", "url", "segments", "changes", "created_at"]
COUNT_COLUMNS = ["pending", "delivered", "failed"]
LOG_COLUMNS = [
    "attempted_at",
    "webhook_id",
    "delivery_id",
    "attempt",
    "customer_id",
    "segment",
    "change",
    "status_code",
    "error",
    "duration_ms",
    "status",
]

webhooks_app = typer.Typer(
    help="Webhooks: POST segment membership changes to a URL, signed and retried.",
    no_args_is_help=True,
)
app.add_typer(webhooks_app, name="webhooks")


def _changes(values: list[str]) -> list[str]:
    """``--on enter,exit`` (or ``--on enter --on exit``) as a list of changes."""
    return [part for value in values for part in value.split(",")]


@webhooks_app.command("add")
def add_command(
    url: Annotated[str, typer.Argument(help="Where to POST the changes (http or https).")],
    segment: Annotated[
        list[str],
        typer.Option("--segment", "-s", help="A segment to listen to (repeatable)."),
    ],
    on: Annotated[
        list[str] | None,
        typer.Option("--on", help="Changes to send: enter, exit or enter,exit (the default)."),
    ] = None,
    secret: Annotated[
        str | None,
        typer.Option("--secret", help="The signing secret (default: generate one)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Send a segment's membership changes to a URL; prints the signing secret once."""
    from segmint.webhooks.registry import add_webhook

    with open_workspace() as ws:
        webhook, secret = add_webhook(
            ws.store, url, segment, _changes(on or ["enter,exit"]), secret
        )
    record = {**webhook.as_dict(), "secret": secret}
    print_records([record], as_json=as_json, title="Webhook", columns=[*WEBHOOK_COLUMNS, "secret"])
    if not as_json:
        stderr.print(
            "Keep the secret: receivers verify signatures with it, and it is not shown again.",
            markup=False,
        )


@webhooks_app.command("list")
def list_command(
    removed: Annotated[bool, typer.Option("--removed", help="Include removed webhooks.")] = False,
    as_json: JsonOption = False,
) -> None:
    """The webhooks, with their deliveries by status (secrets are never shown)."""
    from segmint.webhooks.outbox import delivery_counts
    from segmint.webhooks.registry import list_webhooks

    with open_workspace() as ws:
        webhooks = list_webhooks(ws.store, include_removed=removed)
        counts = {r["webhook_id"]: r for r in delivery_counts(ws.store).to_pyarrow().to_pylist()}
    records = [_with_counts(w.as_dict(), counts.get(w.webhook_id)) for w in webhooks]
    columns = [*WEBHOOK_COLUMNS, *(["removed_at"] if removed else []), *COUNT_COLUMNS]
    print_records(records, as_json=as_json, title="Webhooks", columns=columns)


def _with_counts(record: dict[str, Any], counts: dict[str, Any] | None) -> dict[str, Any]:
    return {**record, **{c: (counts or {}).get(c, 0) for c in COUNT_COLUMNS}}


@webhooks_app.command("remove")
def remove_command(
    webhook_id: Annotated[int, typer.Argument(help="The webhook's id (segmint webhooks list).")],
    as_json: JsonOption = False,
) -> None:
    """Stop a webhook; its pending deliveries are dropped (marked failed)."""
    from segmint.webhooks.registry import remove_webhook

    with open_workspace() as ws:
        webhook = remove_webhook(ws.store, webhook_id)
    columns = [*WEBHOOK_COLUMNS, "removed_at"]
    print_records([webhook.as_dict()], as_json=as_json, title="Removed webhook", columns=columns)


@webhooks_app.command("log")
def log_command(
    webhook: Annotated[
        int | None, typer.Option("--webhook", help="Only this webhook's attempts.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many attempts, newest first.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """The delivery log: every attempt, newest first, with the receiver's answer."""
    from segmint.webhooks.outbox import attempt_log
    from segmint.webhooks.registry import get_webhook

    if limit < 1:
        raise ConfigError("--limit must be at least 1")
    with open_workspace() as ws:
        if webhook is not None:
            get_webhook(ws.store, webhook)
        rows = attempt_log(ws.store, webhook, limit).to_pyarrow().to_pylist()
    print_records(rows, as_json=as_json, title="Webhook deliveries", columns=LOG_COLUMNS)


@webhooks_app.command("deliver")
def deliver_command(
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds to wait for each receiver.")
    ] = 5.0,
    as_json: JsonOption = False,
) -> None:
    """Send every delivery due now, one attempt each, and exit (no server needed)."""
    from segmint.webhooks.delivery import Deliverer

    if timeout <= 0:
        raise ConfigError("--timeout must be more than 0 seconds")
    with open_workspace() as ws, Deliverer(ws.store, timeout_s=timeout) as deliverer:
        outcomes = deliverer.run_once()
    statuses = [o.status for o in outcomes]
    summary = {
        "attempted": len(outcomes),
        "delivered": statuses.count("delivered"),
        "retrying": statuses.count("pending"),
        "failed": statuses.count("failed"),
    }
    print_records([summary], as_json=as_json, title="Webhook deliveries")
