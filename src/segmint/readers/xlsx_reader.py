"""Excel workbooks (the UCI Online Retail files), read with openpyxl in read-only mode.

Every sheet whose first row matches the first sheet's header is read; the row number a
reject names is the sheet's own row, and the sheet is named in ``_sheet``.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from segmint.errors import InputFileError
from segmint.readers.base import RawTable, text_columns


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _open(path: Path) -> Any:
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for bad files
        raise InputFileError(f"{path.name}: not a readable XLSX workbook ({exc})") from None


def peek_xlsx_header(path: Path) -> list[str]:
    book = _open(path)
    try:
        for row in book.worksheets[0].iter_rows(max_row=1, values_only=True):
            return [_cell_text(v).strip() for v in row]
    finally:
        book.close()
    raise InputFileError(f"{path.name}: the first sheet is empty")


def read_xlsx(path: Path, *, wanted: set[str] | None = None) -> RawTable:
    book = _open(path)
    header: list[str] | None = None
    tables: list[pa.Table] = []
    try:
        for sheet in book.worksheets:
            rows = sheet.iter_rows(values_only=True)
            first = next(rows, None)
            if first is None:
                continue
            names = [_cell_text(v).strip() for v in first]
            if header is None:
                header = names
            elif names != header:
                continue
            tables.append(_sheet_table(sheet.title, rows, names, wanted))
    finally:
        book.close()
    if header is None:
        raise InputFileError(f"{path.name}: the workbook has no rows")
    keep = [n for n in header if wanted is None or n in wanted]
    return RawTable(file=path.name, header=keep, table=pa.concat_tables(tables))


def _sheet_table(title: str, rows: Any, names: list[str], wanted: set[str] | None) -> pa.Table:
    keep = [i for i, n in enumerate(names) if wanted is None or n in wanted]
    columns: list[list[str]] = [[] for _ in keep]
    numbers: list[int] = []
    for number, row in enumerate(rows, start=2):
        if not any(v is not None and v != "" for v in row):
            continue
        for slot, i in enumerate(keep):
            columns[slot].append(_cell_text(row[i]) if i < len(row) else "")
        numbers.append(number)
    table = text_columns([names[i] for i in keep], columns, numbers)
    return table.append_column("_sheet", pa.array([title] * len(numbers), type=pa.string()))
