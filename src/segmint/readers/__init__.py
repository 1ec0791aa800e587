"""Readers turn a file into raw text columns plus a row number, keeping every bad row.

Each reader returns a :class:`RawTable`: string columns named as in the file's header (or
``1``, ``2``, ... for headerless files), a ``_row`` column with the row number a user sees
in a spreadsheet (the header is row 1; for CSV files, the line a record starts on, see
:mod:`segmint.readers.csv_reader`), and the rows it could not split into fields, each as a
:class:`Reject` with its reason. Typed parsing happens later, in :mod:`segmint.parsing`.
"""

from __future__ import annotations

from pathlib import Path

from segmint.readers.base import RawTable, Reject
from segmint.readers.csv_reader import peek_csv_header, read_csv
from segmint.readers.parquet_reader import peek_parquet_header, read_parquet
from segmint.readers.xlsx_reader import peek_xlsx_header, read_xlsx

__all__ = ["RawTable", "Reject", "peek_header", "read_table"]


def file_kind(path: Path) -> str:
    """``csv``, ``xlsx`` or ``parquet``, from the file name (``.csv.gz`` is csv)."""
    name = path.name.lower()
    if name.endswith((".xlsx", ".xlsm")):
        return "xlsx"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    return "csv"


def peek_header(path: Path, *, delimiter: str | None = ",", encoding: str = "utf-8") -> list[str]:
    """The header names of a file, for format detection."""
    kind = file_kind(path)
    if kind == "xlsx":
        return peek_xlsx_header(path)
    if kind == "parquet":
        return peek_parquet_header(path)
    return peek_csv_header(path, delimiter=delimiter, encoding=encoding)


def read_table(
    path: Path,
    *,
    wanted: set[str] | None = None,
    header: bool = True,
    delimiter: str | None = ",",
    encoding: str = "utf-8",
) -> RawTable:
    """Read any supported file into raw text columns (only ``wanted`` ones when given)."""
    kind = file_kind(path)
    if kind == "xlsx":
        return read_xlsx(path, wanted=wanted)
    if kind == "parquet":
        return read_parquet(path, wanted=wanted)
    return read_csv(path, wanted=wanted, header=header, delimiter=delimiter, encoding=encoding)
