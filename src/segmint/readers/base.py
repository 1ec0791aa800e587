"""Shared shapes for readers."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

ROW = "_row"


@dataclass(frozen=True)
class Reject:
    """One input row that was not loaded, and why."""

    row: int | None
    column: str | None
    raw: str | None
    reason: str
    #: For a row the reader could not split properly, the cells it did read, by column
    #: name (the leading ones of a truncated row), so an importer can tell which order or
    #: invoice the row belonged to.
    cells: dict[str, str] | None = field(default=None, compare=False, repr=False)


@dataclass
class RawTable:
    """A file's rows as text columns plus ``_row``, and the rows that could not be split."""

    file: str
    header: list[str]
    table: pa.Table
    rejects: list[Reject] = field(default_factory=list)
    taken: int = 0

    @property
    def rows_read(self) -> int:
        return self.taken + self.table.num_rows + len(self.rejects)

    def take(self) -> pa.Table:
        """Hand the rows over (so their memory is freed once used); the counts stay."""
        table, self.table = self.table, self.table.schema.empty_table()
        self.taken += table.num_rows
        return table


def text_columns(names: list[str], columns: list[list[str | None]], rows: list[int]) -> pa.Table:
    """Build an all-string Arrow table with a ``_row`` column."""
    arrays = {
        name: pa.array(values, type=pa.string())
        for name, values in zip(names, columns, strict=True)
    }
    arrays[ROW] = pa.array(rows, type=pa.int64())
    return pa.table(arrays)
