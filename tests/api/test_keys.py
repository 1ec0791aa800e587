"""API keys from the CLI: printed once, alone on the last line; only a hash is stored;
revoked keys stop working."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from segmint.workspace import Workspace


def test_create_list_revoke(tmp_path: Path, segmint_cli: Callable[..., Any]) -> None:
    path = tmp_path / "shop.duckdb"
    Workspace(path).close()
    created = segmint_cli(
        path,
        "api-key",
        "create",
        "--scope",
        "read",
        "--name",
        "storefront",
        "--route",
        "customer-segments",
        "--origin",
        "https://shop.example.com/",
    )
    key = created.stdout.rstrip("\n").splitlines()[-1]
    assert key.startswith("sgm_") and len(key) > 40
    assert "not shown again" in created.stderr
    listed = json.loads(segmint_cli(path, "api-key", "list", "--json").stdout)
    assert [(k["scope"], k["routes"], k["origins"]) for k in listed] == [
        ("read", ["customer-segments"], ["https://shop.example.com"])
    ]
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("SELECT * FROM api_keys").fetchall()
    assert all(key not in str(cell) for row in rows for cell in row)
    assert rows[0][1] == hashlib.sha256(key.encode()).hexdigest()

    revoked = json.loads(
        segmint_cli(path, "api-key", "revoke", listed[0]["key_id"], "--json").stdout
    )
    assert revoked[0]["revoked_at"] is not None


def test_bad_key_options_are_errors(tmp_path: Path, segmint_cli: Callable[..., Any]) -> None:
    path = tmp_path / "shop.duckdb"
    Workspace(path).close()
    for args, message in [
        (["--scope", "owner"], "Error: unknown scope 'owner'"),
        (["--scope", "write", "--route", "customer-segments"], "Error: only a read key"),
        (["--scope", "read", "--route", "everything"], "Error: unknown route 'everything'"),
        (["--scope", "read", "--origin", "shop.example.com"], "Error: origin 'shop.example.com'"),
        (["--scope", "read", "--rate-limit", "0"], "Error: a rate limit is at least 1"),
    ]:
        out = segmint_cli(path, "api-key", "create", *args, code=1)
        assert out.stderr.startswith(message), out.stderr
    assert segmint_cli(path, "api-key", "revoke", "key_nope", code=1).stderr.startswith(
        "Error: no API key 'key_nope'"
    )
