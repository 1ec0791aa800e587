"""Malformed CSV files: every row is loaded or rejected with its row number, on both paths.

Row numbers are line numbers in the file (the header is row 1), as the reader's docstring
says; blank lines are not rows but keep their line. Each case is checked on the reader alone
and, where it matters, through the Shopify orders importer (read = loaded + rejected).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from segmint.importers.base import ImportOptions
from segmint.readers import csv_reader, read_table
from segmint.readers.arrow_csv import read_clean_csv
from segmint.readers.csv_reader import read_csv
from segmint.workspace import Workspace
from shopify_files import ORDERS_HEADER, order, order_rows, write_orders

UTF8_REJECT = "bytes that are not valid utf-8 (save the file as UTF-8, or pass --encoding)"


def rows_of(raw) -> list[tuple[int, list[str]]]:
    table = raw.table
    names = [n for n in table.column_names if n != "_row"]
    return [(r["_row"], [r[n] for n in names]) for r in table.to_pylist()]


def rejects_of(raw) -> list[tuple[int | None, str | None, str]]:
    return [(r.row, r.column, r.reason) for r in raw.rejects]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# -- the reader alone ----------------------------------------------------------------------
def test_clean_file_numbers_rows_from_2(tmp_path: Path):
    raw = read_csv(write(tmp_path, "a.csv", b"a,b,c\n1,2,3\n4,5,6\n"))
    assert raw.header == ["a", "b", "c"]
    assert rows_of(raw) == [(2, ["1", "2", "3"]), (3, ["4", "5", "6"])]
    assert raw.rejects == [] and raw.rows_read == 2


def test_unterminated_quote_at_the_end_rejects_the_rest_of_the_file(tmp_path: Path):
    raw = read_csv(write(tmp_path, "a.csv", b'a,b,c\n1,2,3\n4,"5,6\n7,8,9\n'))
    assert rows_of(raw) == [(2, ["1", "2", "3"])]
    assert rejects_of(raw) == [(3, None, "rows 3-4: malformed CSV (unexpected end of data)")]
    assert raw.rows_read == 2


def test_unterminated_quote_closed_by_a_later_quote_is_rejected_not_swallowed(tmp_path: Path):
    # Arrow would read lines 3-5 as one record of the right width; the strict reader must
    # name the broken record and keep line 6 as row 6.
    data = b'a,b,c\n1,2,3\n4,"5,6\n7,8,9\n10,"11",12\n13,14,15\n'
    path = write(tmp_path, "a.csv", data)
    assert read_clean_csv(path, ["a", "b", "c"], None, ",") is None
    raw = read_csv(path)
    assert rows_of(raw) == [(2, ["1", "2", "3"]), (6, ["13", "14", "15"])]
    assert rejects_of(raw) == [
        (3, None, "rows 3-5: malformed CSV (',' expected after '\"')"),
    ]


def test_quoted_line_break_keeps_the_next_row_on_its_line(tmp_path: Path):
    raw = read_csv(write(tmp_path, "a.csv", b'a,b,c\n1,"two\nlines",3\n4,"say ""hi""",6\n'))
    assert rows_of(raw) == [(2, ["1", "two\nlines", "3"]), (4, ["4", 'say "hi"', "6"])]
    assert raw.rejects == []


def test_latin1_bytes_in_a_utf8_file_name_row_and_column(tmp_path: Path):
    path = write(
        tmp_path, "a.csv", "a,city,c\n1,Boston,3\n4,Bogotá,6\n7,Lima,9\n".encode("latin-1")
    )
    raw = read_csv(path)
    assert rows_of(raw) == [(2, ["1", "Boston", "3"]), (4, ["7", "Lima", "9"])]
    assert rejects_of(raw) == [(3, "city", UTF8_REJECT)]
    assert raw.rejects[0].raw == "Bogot\ufffd"
    latin = read_csv(path, encoding="latin-1")
    assert rows_of(latin) == [
        (2, ["1", "Boston", "3"]),
        (3, ["4", "Bogotá", "6"]),
        (4, ["7", "Lima", "9"]),
    ]
    assert latin.rejects == []


def test_truncated_last_line_and_wrong_field_counts(tmp_path: Path):
    raw = read_csv(write(tmp_path, "a.csv", b"a,b,c\n1,2,3\n4,5,6,7\n8,9,10\n11,12"))
    assert rows_of(raw) == [(2, ["1", "2", "3"]), (4, ["8", "9", "10"])]
    assert rejects_of(raw) == [
        (3, None, "row has 4 fields, the header has 3 (unquoted delimiter?)"),
        (5, None, "row has 2 fields, the header has 3 (truncated row?)"),
    ]
    assert raw.rows_read == 4


def test_byte_order_mark_is_not_part_of_the_first_column(tmp_path: Path):
    raw = read_csv(write(tmp_path, "a.csv", b"\xef\xbb\xbfName,Total\n#1,2.00\n"))
    assert raw.header == ["Name", "Total"]
    assert rows_of(raw) == [(2, ["#1", "2.00"])]


@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
def test_blank_lines_are_not_rows_and_empty_records_are_rejected(tmp_path: Path, crlf: bool):
    text = b"a,b,c\n1,2,3\n\n4,5,6\n,,\n7,8,9\n\n"
    raw = read_csv(write(tmp_path, "a.csv", text.replace(b"\n", b"\r\n") if crlf else text))
    assert rows_of(raw) == [(2, ["1", "2", "3"]), (4, ["4", "5", "6"]), (6, ["7", "8", "9"])]
    assert rejects_of(raw) == [(5, None, "empty row")]
    assert raw.rows_read == 4


def test_gzip_is_read_with_the_same_row_numbers(tmp_path: Path):
    plain = b"a,b,c\n1,2,3\n4,5\n\n6,7,8\n"
    raw = read_table(write(tmp_path, "a.csv.gz", gzip.compress(plain)))
    expected = read_csv(write(tmp_path, "a.csv", plain))
    assert rows_of(raw) == rows_of(expected) == [(2, ["1", "2", "3"]), (5, ["6", "7", "8"])]
    assert rejects_of(raw) == [(3, None, "row has 2 fields, the header has 3 (truncated row?)")]


@pytest.mark.parametrize(
    "data",
    [
        b"a,b,c\n1,2,3\n4,5,6\n",
        b'a,b,c\n1,"x\ny",3\n4,5,6\n',
        b"\xef\xbb\xbfa,b,c\r\n1,2,3\r\n4,5,6\r\n",
        b"a,b,c\n1,2,3\n4,5,6",
        b"a,b,c\n1,2,3\n\n4,5,6\n",
        b"a,b,c\n1,2,3\n,,\n4,5,6\n",
        b'a,b,c\n1,"2\n3",x\n4,"5,6\n7,"8",9\n',
    ],
    ids=[
        "plain",
        "quoted-newline",
        "bom-crlf",
        "no-final-newline",
        "blank-line",
        "empty-record",
        "run-on-quote",
    ],
)
def test_fast_path_and_strict_reader_agree(
    tmp_path: Path, data: bytes, monkeypatch: pytest.MonkeyPatch
):
    path = write(tmp_path, "a.csv", data)
    either = read_csv(path)
    monkeypatch.setattr(csv_reader, "read_clean_csv", lambda *args: None)
    strict = read_csv(path)
    assert rows_of(either) == rows_of(strict)
    assert rejects_of(either) == rejects_of(strict)
    assert either.header == strict.header == ["a", "b", "c"]


def test_fast_path_answers_only_for_files_it_can_account_for(tmp_path: Path):
    names = ["a", "b", "c"]
    clean = read_clean_csv(
        write(tmp_path, "a.csv", b'a,b,c\n1,"x\ny",3\n4,5,6\n'), names, None, ","
    )
    assert clean is not None and clean.column("_row").to_pylist() == [2, 4]
    for data in (b"a,b,c\n1,2,3\n\n4,5,6\n", b"a,b,c\n,,\n", b"a,b,c\n1,2\n"):
        assert read_clean_csv(write(tmp_path, "b.csv", data), names, None, ",") is None


# -- through the Shopify orders importer ------------------------------------------------------
def three_orders() -> list[dict]:
    return [
        order(
            "#1001",
            "ann@example.com",
            "2025-03-01 10:00:00 -0500",
            [(1, "Mug", "10.00", "MUG"), (2, "Tee", "15.00", "TEE")],
        ),
        order(
            "#1002",
            "bob@example.com",
            "2025-03-02 10:00:00 -0500",
            [(1, "Hat", "25.00", "HAT")],
            **{"Billing City": "Bogotá"},
        ),
        order(
            "#1003", "cat@example.com", "2025-03-03 10:00:00 -0500", [(1, "Cap", "12.00", "CAP")]
        ),
    ]


def check_accounting(ws: Workspace, result) -> None:
    assert result.rows_read == result.rows_loaded + result.rows_rejected
    stored = ws.imports().to_pylist()[-1]
    assert (stored["rows_read"], stored["rows_loaded"], stored["rows_rejected"]) == (
        result.rows_read,
        result.rows_loaded,
        result.rows_rejected,
    )
    assert len(ws.rejects(result.import_id)) == result.rows_rejected


def order_numbers(ws: Workspace) -> list[str]:
    return sorted(ws.table("orders").order_number.to_pyarrow().to_pylist())


def test_orders_file_with_a_truncated_last_line(workspace: Workspace, tmp_path: Path):
    path = write_orders(tmp_path / "orders_export.csv", three_orders())
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b"\n", 0, len(data) - 1) + 30])  # cut row 5 short
    result = workspace.import_file(path)
    check_accounting(workspace, result)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 3, 1)
    (reject,) = workspace.rejects().to_pylist()
    assert reject["row_number"] == 5
    assert reject["reason"].endswith(f"the header has {len(ORDERS_HEADER)} (truncated row?)")
    assert order_numbers(workspace) == ["#1001", "#1002"]


def test_orders_file_with_an_unterminated_quote(workspace: Workspace, tmp_path: Path):
    orders = three_orders()
    orders[1]["Notes"] = 'gift wrap "please'  # written with csv, so quoted correctly...
    path = write_orders(tmp_path / "orders_export.csv", orders)
    lines = path.read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b'"gift wrap ""please"', b'"gift wrap please')  # ...now broken
    path.write_bytes(b"\n".join(lines))
    result = workspace.import_file(path)
    check_accounting(workspace, result)
    # The quote runs to the end of the file: rows 4 (#1002) and 5 (#1003) are one broken record.
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (3, 2, 1)
    (reject,) = workspace.rejects().to_pylist()
    assert reject["row_number"] == 4
    assert reject["reason"] == "rows 4-5: malformed CSV (unexpected end of data)"
    assert order_numbers(workspace) == ["#1001"]


def test_orders_file_with_latin1_bytes(workspace: Workspace, tmp_path: Path):
    path = write_orders(tmp_path / "orders_export.csv", three_orders())
    path.write_bytes(path.read_text(encoding="utf-8").encode("latin-1"))
    result = workspace.import_file(path)
    check_accounting(workspace, result)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 3, 1)
    (reject,) = workspace.rejects().to_pylist()
    assert (reject["row_number"], reject["column"], reject["reason"]) == (
        4,
        "Billing City",
        UTF8_REJECT,
    )
    assert order_numbers(workspace) == ["#1001", "#1003"]


def test_orders_file_in_latin1_with_encoding_option(workspace: Workspace, tmp_path: Path):
    path = write_orders(tmp_path / "orders_export.csv", three_orders())
    path.write_bytes(path.read_text(encoding="utf-8").encode("latin-1"))
    result = workspace.import_file(path, ImportOptions(encoding="latin-1"))
    check_accounting(workspace, result)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 4, 0)
    orders = workspace.table("orders")
    bob = orders.filter(orders.order_number == "#1002").billing_city.to_pyarrow().to_pylist()
    assert bob == ["Bogotá"]


def test_orders_file_with_bom_crlf_blank_lines_and_a_wide_row(workspace: Workspace, tmp_path: Path):
    orders = three_orders()
    wide = order_rows(
        order("#1004", "dan@example.com", "2025-03-04 10:00:00 -0500", [(1, "Pin", "3.00", "P")]),
        ORDERS_HEADER,
    )[0] + ["extra"]
    path = write_orders(tmp_path / "orders_export.csv", orders, extra_rows=[wide])
    lines = path.read_text(encoding="utf-8").split("\n")
    # header, #1001 x2, blank, #1002, blank, #1003, wide row
    lines = lines[:3] + [""] + lines[3:4] + [""] + lines[4:]
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode("utf-8"))
    result = workspace.import_file(path)
    check_accounting(workspace, result)
    assert result.format == "shopify-orders"  # the BOM does not hide the Name column
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (5, 4, 1)
    (reject,) = workspace.rejects().to_pylist()
    assert reject["row_number"] == 8
    assert reject["reason"] == (
        f"row has {len(ORDERS_HEADER) + 1} fields, the header has {len(ORDERS_HEADER)} "
        "(unquoted delimiter?)"
    )
    assert order_numbers(workspace) == ["#1001", "#1002", "#1003"]


def test_gzipped_orders_file(workspace: Workspace, tmp_path: Path):
    plain = write_orders(tmp_path / "orders_export.csv", three_orders())
    data = plain.read_bytes()
    gz = tmp_path / "orders_export.csv.gz"
    gz.write_bytes(gzip.compress(data[: data.rindex(b"\n", 0, len(data) - 1) + 30]))
    result = workspace.import_file(gz)
    check_accounting(workspace, result)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 3, 1)
    assert workspace.rejects().to_pylist()[0]["row_number"] == 5
    assert order_numbers(workspace) == ["#1001", "#1002"]
