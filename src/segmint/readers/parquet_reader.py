"""Parquet files, read as text columns so that one parser validates every source alike."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from segmint.errors import InputFileError
from segmint.readers.base import ROW, RawTable


def peek_parquet_header(path: Path) -> list[str]:
    try:
        return list(pq.read_schema(path).names)
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputFileError(f"{path.name}: not a readable Parquet file ({exc})") from None


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_timestamp(column.type):
        column = pc.cast(column, pa.timestamp("s", column.type.tz), safe=False)
        return pc.strftime(column, format="%Y-%m-%dT%H:%M:%S" + ("Z" if column.type.tz else ""))
    if pa.types.is_date(column.type):
        return pc.strftime(column, format="%Y-%m-%d")
    return pc.cast(column, pa.string())


def read_parquet(path: Path, *, wanted: set[str] | None = None) -> RawTable:
    names = [n for n in peek_parquet_header(path) if wanted is None or n in wanted]
    table = pq.read_table(path, columns=names)
    columns = {name: _as_text(table[name]) for name in names}
    # Data rows are numbered from 2, as if a header row came first, like the other readers.
    columns[ROW] = pa.array(range(2, table.num_rows + 2), type=pa.int64())
    return RawTable(file=path.name, header=names, table=pa.table(columns))
