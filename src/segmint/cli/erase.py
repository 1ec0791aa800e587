"""``segmint erase``: the right to erasure."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from segmint.cli.app import app
from segmint.cli.output import print_records, stderr
from segmint.cli.state import open_workspace
from segmint.errors import ConfigError, SegmintError

if TYPE_CHECKING:
    from segmint.activation.erasure import ErasureResult


def interactive() -> bool:
    """Whether a person can answer a confirmation prompt."""
    return sys.stdin.isatty()


@app.command()
def erase(
    key: Annotated[str, typer.Argument(help="segmint id, source id, email or phone.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of records.")] = False,
) -> None:
    """Remove a customer from every table of the workspace, for good (right to erasure).

    Their profile, identities, orders, events, memberships, predictions, export history and
    rejected raw values are deleted; hashes of their email and phone go to the suppressions
    so that re-importing an old file does not bring them back.
    """
    from segmint.activation.erasure import erase_target, erasure_target

    with open_workspace() as ws:
        target = erasure_target(ws.store, key, ws.settings["default_phone_country"])
        _confirm(key, target.customer_id, len(target.customer_ids) - 1, yes)
        result = erase_target(ws.store, target)
    if as_json:
        print_records([result.as_dict()], as_json=True)
    else:
        print_records(result.table_rows(), as_json=False, title=_title(result))
    for warning in result.warnings:
        stderr.print(f"Warning: {warning}", markup=False)


def _title(result: ErasureResult) -> str:
    """``Erased c_... and 1 merged id: 432 rows; 2 identifiers suppressed as hashes``."""
    merged = len(result.customer_ids) - 1
    also = f" and {_count(merged, 'merged id')}" if merged else ""
    return (
        f"Erased {result.customer_id}{also}: {_count(result.rows_deleted, 'row')}; "
        f"{_count(result.tombstones, 'identifier')} suppressed as hashes"
    )


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'s' * (n != 1)}"


def _confirm(key: str, customer_id: str, merged: int, yes: bool) -> None:
    if yes:
        return
    if not interactive():
        raise ConfigError(
            "segmint erase deletes a customer for good and needs a confirmation",
            hint=f"run it in a terminal, or add --yes: segmint erase '{key}' --yes",
        )
    also = f" (and {_count(merged, 'merged id')})" if merged else ""
    question = f"Erase customer {customer_id}{also} from every table? This cannot be undone."
    if not typer.confirm(question, err=True):
        raise SegmintError("not confirmed: nothing was erased")
