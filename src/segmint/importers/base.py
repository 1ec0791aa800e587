"""What every importer shares: its declared columns, the batch it produces, and context."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import ibis.expr.types as ir
import pyarrow as pa

from segmint.readers import RawTable, Reject, read_table
from segmint.settings import Settings
from segmint.store import Store


@dataclass
class ImportOptions:
    """What a user can say about a file on the command line or in Python."""

    format: str | None = None
    mapping: dict[str, Any] | None = None
    encoding: str = "utf-8"
    currency: str | None = None
    timezone: str | None = None


@dataclass
class ImportContext:
    """Everything an importer may read while building its batch."""

    store: Store
    settings: Settings
    path: Path
    import_id: int
    options: ImportOptions
    setting_updates: dict[str, Any] = field(default_factory=dict)

    @property
    def timezone(self) -> str:
        return self.setting_updates.get("timezone") or self.settings.timezone

    @property
    def currency(self) -> str | None:
        return self.setting_updates.get("currency") or self.settings.currency


@dataclass
class Batch:
    """The canonical pieces of one file, staged as Ibis tables, and its rejected rows.

    Tables that belong to a customer carry ``record_key`` instead of ``customer_id``; identity
    resolution turns each record into a customer through ``links``.
    """

    rows_loaded: int
    rejects: list[Reject]
    duplicate_rows: int = 0
    links: ir.Table | None = None  # record_key, identity, kind
    profiles: ir.Table | None = None  # record_key, rank, seen_at, customer columns
    profiles_authoritative: bool = False
    orders: ir.Table | None = None
    order_lines: ir.Table | None = None
    refunds: ir.Table | None = None
    events: ir.Table | None = None
    products: ir.Table | None = None


class Importer:
    """One file format: how to recognize it and how to turn it into a :class:`Batch`."""

    name: ClassVar[str]
    description: ClassVar[str]
    #: Header columns that identify the format; all must be present.
    signature: ClassVar[tuple[str, ...]] = ()
    #: Other header columns the importer reads when present.
    optional: ClassVar[tuple[str, ...]] = ()
    #: Alternative spellings: canonical column -> other names seen in real files.
    aliases: ClassVar[dict[str, tuple[str, ...]]] = {}

    def matches(self, header: list[str]) -> bool:
        present = set(header)
        return all(self._present(column, present) for column in self.signature)

    def missing(self, header: list[str]) -> list[str]:
        present = set(header)
        return [c for c in self.signature if not self._present(c, present)]

    def _present(self, column: str, present: set[str]) -> bool:
        return column in present or any(a in present for a in self.aliases.get(column, ()))

    def column_map(self, header: list[str]) -> dict[str, str]:
        """Canonical column name -> the spelling this file uses."""
        present = set(header)
        mapping = {}
        for column in (*self.signature, *self.optional):
            spelled = [column, *self.aliases.get(column, ())]
            found = next((s for s in spelled if s in present), None)
            if found:
                mapping[column] = found
        return mapping

    def read(self, path: Path, options: ImportOptions, header: list[str]) -> RawTable:
        wanted = set(self.column_map(header).values())
        return read_table(path, wanted=wanted, encoding=options.encoding)

    def build(self, raw: RawTable, ctx: ImportContext) -> Batch:
        raise NotImplementedError


def rows_of(table: pa.Table) -> list[int]:
    return table.column("_row").to_pylist()
