"""How commands print: Rich tables for people, ``--json`` records for programs, and errors.

Every command that prints a table also takes ``--json`` and then prints only a JSON list of
records with the same columns. Errors print ``Error: <message>`` first, details after.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

#: Width of tables written to a file or a pipe (a terminal uses its own width).
PIPE_WIDTH = 160
stdout = Console(
    highlight=False,
    soft_wrap=True,
    width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else PIPE_WIDTH,
)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and value != value:
        return None
    return value


def records_json(records: Sequence[dict[str, Any]]) -> str:
    return json.dumps(
        [{k: _plain(v) for k, v in r.items()} for r in records], indent=2, default=str
    )


def _cell(value: Any) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def print_records(
    records: Sequence[dict[str, Any]],
    *,
    as_json: bool,
    title: str | None = None,
    columns: Sequence[str] | None = None,
    transpose: bool = False,
) -> None:
    """Print records as a table, or as a JSON list of records with ``as_json``.

    ``transpose`` shows one column per record, for a few records with many fields.
    """
    if columns is not None:
        records = [{c: r.get(c) for c in columns} for r in records]
    if as_json:
        sys.stdout.write(records_json(records) + "\n")
        return
    names = list(columns or (records[0].keys() if records else []))
    if transpose and records:
        headers = [str(r.get(names[0])) for r in records]
        rows = [
            {"": n, **{h: r.get(n) for h, r in zip(headers, records, strict=True)}}
            for n in names[1:]
        ]
        records, names = rows, ["", *headers]
    table = Table(title=title, title_justify="left")
    for name in names:
        table.add_column(name, overflow="fold")
    for record in records:
        table.add_row(*(_cell(record.get(n)) for n in names))
    stdout.print(table)


def print_warnings(messages: list[str]) -> None:
    """One ``Warning:`` line each, on standard error."""
    for message in messages:
        stderr.print(f"Warning: {message}", markup=False)


def print_error(message: str) -> None:
    """``Error: <first line>``, then any detail lines, on standard error."""
    lines = message.splitlines() or [""]
    sys.stderr.write(f"Error: {lines[0]}\n")
    for line in lines[1:]:
        sys.stderr.write(f"{line}\n")
