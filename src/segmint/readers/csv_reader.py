"""A CSV reader that accounts for every row: malformed ones become rejects with a reason.

Row numbers are line numbers in the file, the header being row 1: a record is numbered by
the line it starts on. For files without line breaks inside quoted fields (nearly every
export) that is the row number a spreadsheet shows; a record whose quoted field spans lines
takes the number of its first line, and the next record the number of the line it starts on,
as a text editor shows them. Blank lines are not rows (they are neither read nor rejected)
but they still count as lines, so later rows keep their line numbers. A UTF-8 byte order mark
is ignored, ``.gz`` files are read decompressed, and the numbering is the same whether the
fast Arrow path (:mod:`segmint.readers.arrow_csv`) or the strict reader below reads a file.

Each row that cannot be split into the header's fields is a reject naming its row:

- a wrong number of fields (a truncated last line, an unquoted delimiter);
- malformed quoting (an unterminated quote, text after a closing quote), naming the span
  of lines the broken record covers (``rows 3-5: malformed CSV (...)``);
- bytes that are not valid in the file's encoding, naming the row and the column (pass
  ``encoding="latin-1"``, ``--encoding latin-1`` on the command line, to read such a file);
- a row whose every field is empty (``,,,``).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pyarrow as pa

from segmint.errors import InputFileError
from segmint.readers.arrow_csv import read_clean_csv
from segmint.readers.base import RawTable, Reject, text_columns

CHUNK_ROWS = 200_000
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def _open_binary(path: Path) -> IO[bytes]:
    if not path.exists():
        raise InputFileError(f"{path}: no such file")
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")
    return path.open("rb")


def _text_lines(raw: IO[bytes], encoding: str, bad_lines: set[int]) -> Iterator[str]:
    """Decode line by line so that a line with bytes invalid in ``encoding`` is located."""
    first = raw.read(4)
    if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = io.TextIOWrapper(io.BufferedReader(_Prefixed(first, raw)), encoding="utf-16")
        yield from text
        return
    if first.startswith(codecs.BOM_UTF8):
        first = first[len(codecs.BOM_UTF8) :]
    lines = io.BufferedReader(_Prefixed(first, raw))
    for number, line in enumerate(lines, start=1):
        try:
            yield line.decode(encoding)
        except UnicodeDecodeError:
            bad_lines.add(number)
            yield line.decode(encoding, errors="replace")


class _Prefixed(io.RawIOBase):
    """A binary stream that replays bytes already read from the start of another one."""

    def __init__(self, prefix: bytes, rest: IO[bytes]):
        self._prefix = prefix
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        chunk = self._rest.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def _records(
    lines: Iterator[str], delimiter: str | None
) -> Iterator[tuple[int, int, list[str] | str]]:
    """Yield (first line, last line, fields or an error message) for every record."""
    if delimiter is None:
        for number, line in enumerate(lines, start=1):
            yield number, number, line.split()
        return
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    last = 0
    while True:
        try:
            fields: list[str] | str = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            fields = f"malformed CSV ({exc})"
        start, last = last + 1, reader.line_num
        yield start, last, fields


def peek_csv_header(
    path: Path, *, delimiter: str | None = ",", encoding: str = "utf-8"
) -> list[str]:
    """The first record of a CSV file, stripped."""
    with _open_binary(path) as raw:
        for _, _, fields in _records(_text_lines(raw, encoding, set()), delimiter):
            if isinstance(fields, str):
                raise InputFileError(f"{path.name} row 1: {fields}")
            if fields:
                return [f.strip() for f in fields]
    raise InputFileError(f"{path.name}: the file is empty")


def read_csv(
    path: Path,
    *,
    wanted: set[str] | None = None,
    header: bool = True,
    delimiter: str | None = ",",
    encoding: str = "utf-8",
) -> RawTable:
    """Read a delimited file; ``delimiter=None`` splits on runs of whitespace."""
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputFileError(f"unknown encoding '{encoding}'") from None
    if header and delimiter is not None and _is_utf8(encoding) and not _is_utf16(path):
        names = peek_csv_header(path, delimiter=delimiter, encoding=encoding)
        table = read_clean_csv(path, names, wanted, delimiter)
        if table is not None:
            kept = [n for n in names if wanted is None or n in wanted]
            return RawTable(file=path.name, header=kept, table=table)
    bad_lines: set[int] = set()
    rejects: list[Reject] = []
    with _open_binary(path) as raw:
        records = _records(_text_lines(raw, encoding, bad_lines), delimiter)
        names = _header(path, records) if header else None
        chunks, names = _collect(path.name, records, names, wanted, bad_lines, rejects, encoding)
    table = pa.concat_tables(chunks) if chunks else text_columns(names, [[] for _ in names], [])
    return RawTable(file=path.name, header=names, table=table, rejects=rejects)


def _is_utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")


def _is_utf16(path: Path) -> bool:
    with _open_binary(path) as raw:
        return raw.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _header(path: Path, records: Iterator[tuple[int, int, list[str] | str]]) -> list[str]:
    for _, _, fields in records:
        if isinstance(fields, str):
            raise InputFileError(f"{path.name} row 1: the header is {fields}")
        if fields:
            return [f.strip() for f in fields]
    raise InputFileError(f"{path.name}: the file is empty (no header row)")


def _collect(
    file: str,
    records: Iterator[tuple[int, int, list[str] | str]],
    names: list[str] | None,
    wanted: set[str] | None,
    bad_lines: set[int],
    rejects: list[Reject],
    encoding: str,
) -> tuple[list[pa.Table], list[str]]:
    """Split records into column chunks; wrong-sized, undecodable or empty ones are rejected."""
    chunks: list[pa.Table] = []
    rows: list[list[str]] = []
    row_numbers: list[int] = []
    keep: list[int] = []
    width = len(names) if names else None
    for start, end, fields in records:
        if not fields:
            continue  # a blank line is not a row
        if isinstance(fields, str):
            rejects.append(Reject(start, None, None, _span(start, end) + fields))
            continue
        if width is None:
            width = len(fields)
            names = [str(i) for i in range(1, width + 1)]
        if names is not None and not keep:
            keep = [i for i, n in enumerate(names) if wanted is None or n in wanted]
        if bad_lines and any(line in bad_lines for line in range(start, end + 1)):
            rejects.append(_encoding_reject(start, fields, names, encoding))
            continue
        if len(fields) != width:
            rejects.append(_width_reject(start, end, fields, width, names))
            continue
        if not any(fields):
            rejects.append(Reject(start, None, None, "empty row"))
            continue
        rows.append(fields)
        row_numbers.append(start)
        if len(rows) >= CHUNK_ROWS:
            chunks.append(_chunk(rows, row_numbers, keep, names))
            rows, row_numbers = [], []
    names = names or []
    keep = keep or [i for i, n in enumerate(names) if wanted is None or n in wanted]
    if rows:
        chunks.append(_chunk(rows, row_numbers, keep, names))
    return chunks, [names[i] for i in keep]


def _chunk(
    rows: list[list[str]], numbers: list[int], keep: list[int], names: list[str]
) -> pa.Table:
    columns = [[row[i] for row in rows] for i in keep]
    return text_columns([names[i] for i in keep], columns, numbers)


def _span(start: int, end: int) -> str:
    return f"rows {start}-{end}: " if end > start else ""


def _width_reject(
    start: int, end: int, fields: list[str], width: int, names: list[str] | None
) -> Reject:
    if len(fields) < width:
        reason = f"row has {len(fields)} fields, the header has {width} (truncated row?)"
    else:
        reason = f"row has {len(fields)} fields, the header has {width} (unquoted delimiter?)"
    if end > start:
        reason = f"{reason}; a quoted field spans rows {start}-{end} (unbalanced quote?)"
    cells = dict(zip(names, fields, strict=False)) if names else None
    return Reject(start, None, None, reason, cells=cells)


def _encoding_reject(
    start: int, fields: list[str], names: list[str] | None, encoding: str
) -> Reject:
    bad = next((i for i, f in enumerate(fields) if "\ufffd" in f), None)
    column = names[bad] if names and bad is not None and bad < len(names) else None
    raw = fields[bad] if bad is not None else None
    reason = f"bytes that are not valid {encoding} (save the file as UTF-8, or pass --encoding)"
    return Reject(start, column, raw, reason)
