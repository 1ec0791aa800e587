"""The fast path for well-formed CSV files: Arrow's multi-threaded parser.

It only answers for files it can account for exactly: every record has the header's width,
every byte is valid UTF-8, every line of the file is either the header or part of a record
(no blank lines), and no record is empty (``,,,``), so that each row's number is known and
the result is the one the strict reader gives. Anything else returns ``None`` and the caller
reads the file with the strict line-by-line reader, which names every malformed row.

Like most CSV parsers, Arrow accepts text after a closing quote, ``"a"b``, as part of the
field; the strict reader rejects it. An unterminated quote usually shows up that way: the
field runs on to the next quote in the file, swallowing lines. So a field that spans lines
and contains a quote character also sends the file to the strict reader, which says which
lines the broken record covers.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from segmint.readers.base import ROW

BLOCK_BYTES = 16 << 20
NEWLINE = "\n"


def _gzipped(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def _open(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if _gzipped(path) else path.open("rb")


def count_lines(path: Path) -> int:
    """Lines in the file as an editor counts them (a last line without newline counts)."""
    lines, last = 0, b"\n"
    with _open(path) as raw:
        while chunk := raw.read(BLOCK_BYTES):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (last != b"\n")


def _refuse(_row: pacsv.InvalidRow) -> str:
    """A record of the wrong width: stop, the strict reader will name it."""
    return "error"


def _parse(path: Path, names: list[str], include: list[str], delimiter: str) -> pa.Table:
    return pacsv.read_csv(
        pa.input_stream(str(path), compression="gzip" if _gzipped(path) else None),
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=BLOCK_BYTES),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter,
            newlines_in_values=True,
            ignore_empty_lines=True,
            invalid_row_handler=_refuse,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names},
            include_columns=include,
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def _embedded_newlines(table: pa.Table) -> pa.Array:
    """Per row, the line breaks inside its quoted fields."""
    total = pa.array([0] * table.num_rows, type=pa.int64())
    for column in table.columns:
        total = pc.add(total, pc.count_substring(column, NEWLINE).cast(pa.int64()))
    return total


def _has_empty_record(table: pa.Table) -> bool:
    """Whether some row has every one of the table's fields empty."""
    if table.num_columns == 0 or table.num_rows == 0:
        return False
    empty = None
    for column in table.columns:  # usually over after the first column
        blank = pc.equal(pc.binary_length(column), 0)
        empty = blank if empty is None else pc.and_(empty, blank)
        if not pc.any(empty).as_py():
            return False
    return True


def _run_on_quote(table: pa.Table) -> bool:
    """Whether a field spans lines and holds a quote (a likely unterminated quote)."""
    for column in table.columns:
        multiline = pc.match_substring(column, NEWLINE)
        quoted = pc.match_substring(column, '"')
        if pc.any(pc.and_(multiline, quoted)).as_py():
            return True
    return False


def read_clean_csv(
    path: Path, names: list[str], wanted: set[str] | None, delimiter: str
) -> pa.Table | None:
    """All records as text columns plus ``_row``, or ``None`` if the file is not clean."""
    if len(set(names)) != len(names) or any(NEWLINE in n for n in names):
        return None
    include = [n for n in names if wanted is None or n in wanted]
    try:
        table = _parse(path, names, include, delimiter)
        lines = count_lines(path)
        full = None
        if _has_empty_record(table):
            full = table if include == names else _parse(path, names, names, delimiter)
            if _has_empty_record(full):
                return None
        if lines == table.num_rows + 1:
            rows = pa.array(range(2, table.num_rows + 2), type=pa.int64())
        else:
            if full is None:
                full = table if include == names else _parse(path, names, names, delimiter)
            spans = pc.add(_embedded_newlines(full), 1)
            if pc.sum(spans).as_py() + 1 != lines or _run_on_quote(full):
                return None
            rows = pc.add(pc.subtract(pc.cumulative_sum(spans), spans), 2)
        del full
    except (pa.ArrowInvalid, UnicodeDecodeError, OSError, EOFError):
        return None
    return table.append_column(ROW, rows)
