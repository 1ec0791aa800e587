"""``segmint webhooks``: add (the secret is printed once), list (never a secret), remove,
deliver and log, with ``--json`` and ``Error:`` lines."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

import segmint.cli.main  # noqa: F401  (registers the commands and --workspace)
from segmint.cli.app import app
from segmint.webhooks.outbox import enqueue, membership_changes
from segmint.workspace import Workspace
from webhooks.receiver import T0, Receiver, signature_is_valid

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("wide_console")


@pytest.fixture
def workspace_file(tmp_path: Path) -> Path:
    path = tmp_path / "shop.duckdb"
    Workspace(path).close()
    return path


def webhooks(path: Path, *args: str):
    return runner.invoke(app, ["--workspace", str(path), "webhooks", *map(str, args)])


def ok(path: Path, *args: str):
    result = webhooks(path, *args)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def records(result) -> list[dict]:
    return json.loads(result.stdout)


def error(result) -> str:
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.stderr.startswith("Error: ") and "Traceback" not in result.stderr
    return result.stderr


def queue_entry(path: Path, customer_id: str = "c1", segment: str = "value_vip") -> None:
    with Workspace(path) as ws:
        new = ws.store.stage("_new", pa.table({"customer_id": [customer_id], "segment": [segment]}))
        enqueue(ws.store, membership_changes(new.limit(0), new), T0)


def test_add_prints_the_generated_secret_once(workspace_file: Path) -> None:
    added = ok(workspace_file, "add", "https://example.com/hook", "--segment", "value_vip")
    assert "whsec_" in added.stdout and "not shown again" in added.stderr
    [record] = records(
        ok(
            workspace_file,
            "add",
            "https://example.com/h2",
            "-s",
            "value_vip",
            "-s",
            "rfm_loyal",
            "--on",
            "exit",
            "--json",
        )
    )
    assert record["secret"].startswith("whsec_")
    assert (record["webhook_id"], record["segments"], record["changes"]) == (
        2,
        ["value_vip", "rfm_loyal"],
        ["exit"],
    )
    listed = ok(workspace_file, "list", "--json")
    assert "whsec_" not in listed.stdout and "secret" not in listed.stdout
    assert [(r["webhook_id"], r["changes"]) for r in records(listed)] == [
        (1, ["enter", "exit"]),
        (2, ["exit"]),
    ]
    assert records(listed)[0]["pending"] == 0
    table = ok(workspace_file, "list")
    assert "whsec_" not in table.stdout and "https://example.com/hook" in table.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ftp://example.com", "-s", "value_vip"], "must be an http:// or https:// URL"),
        (["https://", "-s", "value_vip"], "must be an http:// or https:// URL"),
        (["https://example.com:http/", "-s", "value_vip"], "is not a valid URL"),
        (["https://example.com", "-s", "value_vipp"], "unknown segment 'value_vipp'"),
        (["https://example.com", "-s", "value_vip", "--on", "enter,leave"], "unknown change"),
        (["https://example.com", "-s", "value_vip", "--on", ","], "at least one change"),
        (["https://example.com", "-s", "value_vip", "--secret", " "], "cannot be empty"),
    ],
)
def test_add_refuses_bad_input(workspace_file: Path, args: list[str], message: str) -> None:
    assert message in error(webhooks(workspace_file, "add", *args))
    assert records(ok(workspace_file, "list", "--json")) == []


def test_unknown_segment_suggests_the_closest(workspace_file: Path) -> None:
    stderr = error(webhooks(workspace_file, "add", "https://x.example", "-s", "value_vipp"))
    assert "did you mean 'value_vip'?" in stderr


def test_remove(workspace_file: Path) -> None:
    ok(workspace_file, "add", "https://example.com/hook", "--segment", "value_vip")
    queue_entry(workspace_file)
    [removed] = records(ok(workspace_file, "remove", "1", "--json"))
    assert removed["removed_at"] is not None
    assert records(ok(workspace_file, "list", "--json")) == []
    [listed] = records(ok(workspace_file, "list", "--removed", "--json"))
    assert (listed["pending"], listed["failed"]) == (0, 1)
    assert "already removed" in error(webhooks(workspace_file, "remove", "1"))
    assert "no webhook 7" in error(webhooks(workspace_file, "remove", "7"))


def test_deliver_then_log(workspace_file: Path, receivers: Callable[..., Receiver]) -> None:
    receiver = receivers(script=[500])
    secret = "whsec_given-by-the-receiver"
    ok(workspace_file, "add", receiver.url, "-s", "value_vip", "--on", "enter", "--secret", secret)
    queue_entry(workspace_file, "c1")
    queue_entry(workspace_file, "c2")
    [summary] = records(ok(workspace_file, "deliver", "--json"))
    assert summary == {"attempted": 2, "delivered": 1, "retrying": 1, "failed": 0}
    assert all(signature_is_valid(secret, r) for r in receiver.requests)
    assert records(ok(workspace_file, "deliver", "--json"))[0]["attempted"] == 0  # backoff

    log = records(ok(workspace_file, "log", "--json"))
    assert sorted(r["status_code"] for r in log) == [200, 500]
    assert {r["customer_id"] for r in log} == {"c1", "c2"}
    assert set(log[0]) >= {"attempted_at", "delivery_id", "attempt", "error", "status"}
    assert len(records(ok(workspace_file, "log", "--webhook", "1", "--limit", "1", "--json"))) == 1
    table = ok(workspace_file, "log")
    assert "HTTP 500" in table.stdout
    [listed] = records(ok(workspace_file, "list", "--json"))
    assert (listed["pending"], listed["delivered"]) == (1, 1)
    assert "no webhook 9" in error(webhooks(workspace_file, "log", "--webhook", "9"))
    assert "--limit" in error(webhooks(workspace_file, "log", "--limit", "0"))
