"""Typed values from raw text columns, with every malformed cell recorded against its row.

Readers hand over text; a :class:`Cells` object turns columns into numbers, timestamps,
booleans and clean text with vectorized Arrow kernels, and keeps a list of problems (row
mask, column, reason). Importers then reject the rows with problems, naming the column and
the raw value, so that no bad value is loaded and no row disappears unexplained.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from segmint.readers.base import ROW, Reject

NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)$"
INTEGER = r"^[+-]?\d+(\.0*)?$"
TRUE_WORDS = ["yes", "true", "1", "y", "t"]
FALSE_WORDS = ["no", "false", "0", "n", "f"]

#: Date-time spellings tried in order, with and without a UTC offset.
ISO_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S %z",
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)

#: A date-time with fractional seconds (``2024-11-29 09:30:00.250``): group 1 is the rest.
FRACTIONAL_SECONDS = r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})[.,]\d+"


def drop_fractional_seconds(text: pa.ChunkedArray) -> pa.ChunkedArray:
    """Date-time text with fractional seconds cut off (the formats read whole seconds)."""
    return pc.replace_substring_regex(text, pattern=FRACTIONAL_SECONDS, replacement=r"\1")


@dataclass
class Problem:
    """Cells of one column that failed a check."""

    mask: pa.ChunkedArray | pa.Array
    column: str
    reason: str


@dataclass
class Timestamps:
    """Parsed instants: naive UTC values and the calendar date in the workspace zone."""

    utc: pa.ChunkedArray
    local_date: pa.ChunkedArray


class Cells:
    """Typed access to the text columns of one file, collecting problems as it goes."""

    def __init__(self, table: pa.Table, columns: dict[str, str] | None = None):
        self.table = table
        self.columns = columns or {}  # canonical name -> column name in the file
        self.problems: list[Problem] = []

    def source_name(self, name: str) -> str:
        return self.columns.get(name, name)

    def raw(self, name: str) -> pa.ChunkedArray:
        """The untouched text of a column, or all nulls when the file lacks it."""
        column = self.source_name(name)
        if column in self.table.column_names:
            return self.table[column]
        return pa.chunked_array([pa.nulls(self.table.num_rows, pa.string())])

    def has(self, name: str) -> bool:
        return self.source_name(name) in self.table.column_names

    def text(self, name: str) -> pa.ChunkedArray:
        """Trimmed text, without Excel's protective leading apostrophe; blank means null."""
        values = pc.utf8_trim_whitespace(self.raw(name))
        values = pc.replace_substring_regex(values, pattern=r"^'", replacement="")
        return pc.if_else(pc.equal(values, ""), None, values)

    def problem(self, mask: pa.ChunkedArray | pa.Array, name: str, reason: str) -> None:
        """Record that the cells of ``name`` where ``mask`` is true are unacceptable."""
        mask = pc.fill_null(mask, False)
        if pc.any(mask).as_py():
            self.problems.append(Problem(mask, self.source_name(name), reason))

    def require(
        self,
        name: str,
        values: pa.ChunkedArray,
        reason: str | None = None,
        where: pa.ChunkedArray | None = None,
    ) -> None:
        """Flag rows (optionally only ``where``) whose value is missing."""
        missing = pc.is_null(values)
        if where is not None:
            missing = pc.and_(missing, pc.fill_null(where, False))
        self.problem(missing, name, reason or "required value is missing")

    def decimal(
        self,
        name: str,
        *,
        scale: int = 2,
        minimum: float | None = None,
        maximum: float | None = None,
        what: str = "amount",
    ) -> pa.ChunkedArray:
        """A ``decimal128(18, scale)`` column; text that is not a plain number is a problem."""
        text = self.text(name)
        valid = pc.match_substring_regex(text, NUMBER)
        self.problem(pc.invert(valid), name, "not a number")
        clean = pc.if_else(valid, text, None)
        clean = pc.replace_substring_regex(clean, pattern=r"(\.\d{10})\d+$", replacement=r"\1")
        wide = pc.cast(clean, pa.decimal128(38, 10))
        values = pc.cast(pc.round(wide, ndigits=scale), pa.decimal128(18, scale))
        self._range_checks(name, values, minimum, maximum, what)
        return values

    def integer(
        self,
        name: str,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
        what: str = "quantity",
    ) -> pa.ChunkedArray:
        text = self.text(name)
        valid = pc.match_substring_regex(text, INTEGER)
        self.problem(pc.invert(valid), name, "not a whole number")
        clean = pc.replace_substring_regex(pc.if_else(valid, text, None), r"\.0*$", "")
        values = pc.cast(clean, pa.int64())
        self._range_checks(name, values, minimum, maximum, what)
        return values

    def _range_checks(
        self,
        name: str,
        values: pa.ChunkedArray,
        minimum: float | None,
        maximum: float | None,
        what: str,
    ) -> None:
        if minimum is not None:
            self.problem(pc.less(values, minimum), name, f"{what} below {minimum:g}")
        if maximum is not None:
            self.problem(
                pc.greater(values, maximum),
                name,
                f"absurd {what}: above {maximum:,.0f} (setting max_{_slug(what)})",
            )

    def boolean(self, name: str) -> pa.ChunkedArray:
        text = pc.utf8_lower(self.text(name))
        true = pc.is_in(text, pa.array(TRUE_WORDS))
        false = pc.is_in(text, pa.array(FALSE_WORDS))
        self.problem(pc.and_(pc.is_valid(text), pc.invert(pc.or_(true, false))), name, "not yes/no")
        return pc.if_else(true, True, pc.if_else(false, False, None))

    def timestamp(
        self,
        name: str,
        zone: str,
        *,
        formats: tuple[str, ...] = ISO_FORMATS,
        date_as_written: bool = False,
    ) -> Timestamps:
        """Parse instants; text without an offset is local time in ``zone``.

        With ``date_as_written``, the local date of a value with an offset is the date as
        written (Shopify writes the store's own offset); otherwise the UTC instant is
        converted into ``zone``.
        """
        text = self.text(name)
        aware, naive = _parse_formats(text, formats)
        self.problem(
            pc.and_(pc.is_valid(text), pc.and_(pc.is_null(aware), pc.is_null(naive))),
            name,
            "not a date-time",
        )
        localized = pc.assume_timezone(
            naive, timezone=zone, ambiguous="earliest", nonexistent="earliest"
        )
        utc_aware = pc.coalesce(aware, pc.cast(localized, pa.timestamp("s", "UTC")))
        utc = pc.cast(utc_aware, pa.timestamp("s"))  # naive, meaning UTC
        zoned = pc.local_timestamp(pc.cast(utc_aware, pa.timestamp("s", zone)))
        local = pc.cast(zoned, pa.date32())
        if date_as_written:
            wall = _wall_clock_date(text)
            local = pc.coalesce(pc.if_else(pc.is_valid(aware), wall, None), local)
        return Timestamps(utc=utc, local_date=local)

    # -- results ------------------------------------------------------------------------
    def bad_rows(self) -> pa.ChunkedArray:
        """True for every row with at least one problem."""
        mask = pa.chunked_array([pa.array([False] * self.table.num_rows, pa.bool_())])
        for problem in self.problems:
            mask = pc.or_(mask, problem.mask)
        return mask

    def rejects(self) -> list[Reject]:
        """One reject per bad row: its first problem, with the column and raw value."""
        taken = pa.chunked_array([pa.array([False] * self.table.num_rows, pa.bool_())])
        out: list[Reject] = []
        rows = self.table[ROW]
        for problem in self.problems:
            fresh = pc.and_(problem.mask, pc.invert(taken))
            taken = pc.or_(taken, problem.mask)
            raw = (
                self.table[problem.column]
                if problem.column in self.table.column_names
                else pa.chunked_array([pa.nulls(self.table.num_rows, pa.string())])
            )
            for row, value in zip(
                pc.filter(rows, fresh).to_pylist(), pc.filter(raw, fresh).to_pylist(), strict=True
            ):
                out.append(Reject(row, problem.column, value, problem.reason))
        return out


def _slug(what: str) -> str:
    return what.replace(" ", "_")


def _parse_formats(text: pa.ChunkedArray, formats: tuple[str, ...]) -> tuple[pa.ChunkedArray, ...]:
    aware = [
        pc.strptime(text, format=f, unit="s", error_is_null=True) for f in formats if "%z" in f
    ]
    naive = [
        pc.strptime(text, format=f, unit="s", error_is_null=True) for f in formats if "%z" not in f
    ]
    null_aware = pa.chunked_array([pa.nulls(len(text), pa.timestamp("s", "UTC"))])
    null_naive = pa.chunked_array([pa.nulls(len(text), pa.timestamp("s"))])
    return (
        pc.coalesce(*aware) if aware else null_aware,
        pc.coalesce(*naive) if naive else null_naive,
    )


def _wall_clock_date(text: pa.ChunkedArray) -> pa.ChunkedArray:
    """The calendar date exactly as written at the start of a timestamp's text."""
    head = pc.utf8_slice_codeunits(text, 0, 10)
    return pc.cast(pc.strptime(head, format="%Y-%m-%d", unit="s", error_is_null=True), pa.date32())
