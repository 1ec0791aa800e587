"""Mapped files: named columns, Parquet, headerless whitespace by position, mapping errors,
bad values, guests, statuses and refunds, re-imports, and the CDNOW sample."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmint.definitions import customer_value
from segmint.errors import ConfigError, UnknownFormatError
from segmint.importers.base import ImportOptions
from segmint.importers.mapped import load_mapping
from segmint.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "mapped"
WOO_CSV = FIXTURES / "woocommerce_orders.csv"
WOO_MAPPING = FIXTURES / "woocommerce.yaml"
CDNOW_EXCERPT = FIXTURES / "cdnow_excerpt.txt"
CDNOW_MAPPING = ROOT / "docs" / "mappings" / "cdnow.yaml"
NOT_COUNTED = {"cancelled", "failed"}


def mapped(path: Path | str) -> ImportOptions:
    return ImportOptions(mapping=load_mapping(path))


def write_yaml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def woo_rows() -> list[dict[str, str]]:
    with WOO_CSV.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def spent_by_email(ws: Workspace) -> dict[str, Decimal]:
    """customer_value's amount spent, keyed by the customer's email."""
    value = customer_value(ws.table("orders"), ws.table("refunds")).to_pyarrow().to_pylist()
    emails = {c["customer_id"]: c["email"] for c in ws.table("customers").to_pyarrow().to_pylist()}
    return {emails[v["customer_id"]]: v["amount_spent"] for v in value}


def cdnow_lines(path: Path) -> list[list[str]]:
    with path.open(encoding="ascii") as fh:
        return [line.split() for line in fh if line.strip()]


# -- named columns ----------------------------------------------------------------------------
def test_named_columns_orders_csv(workspace: Workspace):
    rows = woo_rows()
    result = workspace.import_file(WOO_CSV, mapped(WOO_MAPPING))
    assert result.format == "mapped"
    # 1006 is a guest order with neither email nor phone: nobody to link it to.
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (7, 6, 1)
    assert result.orders_new == 6
    rejects = workspace.rejects(result.import_id).to_pylist()
    assert [(r["row_number"], r["column"], r["reason"]) for r in rejects] == [
        (7, "customer_id", "no customer id, email or phone: nobody to link it to")
    ]

    orders = workspace.to_pandas("orders").set_index("order_id")
    assert sorted(orders.index) == ["1001", "1002", "1003", "1004", "1005", "1007"]
    assert set(orders.source) == {"mapped"}
    assert orders.loc["1001"].total == Decimal("37.40")
    assert orders.loc["1001"].shipping == Decimal("5.00")
    assert orders.loc["1001"].taxes == Decimal("2.40")
    assert orders.loc["1001"].product_sales == Decimal("30.00")  # total - shipping - taxes
    assert orders.loc["1001"].placed_at == pd_timestamp("2025-02-03 14:05:22")
    assert orders.loc["1002"].discount_amount == Decimal("6.00")
    assert orders.loc["1003"].status == "cancelled"
    assert orders.loc["1007"].status == "voided"  # a failed payment is no order
    assert orders.loc["1004"].status == "placed"  # refunded: placed, and refunded in full
    assert orders.loc["1004"].refunded_amount == Decimal("45.50")

    # Guests (customer_id 0) are linked by email, not all to one customer "woo:0".
    customers = workspace.to_pandas("customers").set_index("email")
    assert sorted(customers.index) == [
        "ann@example.com",
        "bob@example.com",
        "carl@example.com",
        "dee@example.com",
        "eve@example.com",
    ]
    assert customers.loc["ann@example.com"].phone == "+16175550100"
    assert customers.loc["dee@example.com"].phone == "+442079460958"  # GB billing country
    identities = set(workspace.to_pandas("identities").identity)
    assert {"woo:12", "woo:31"} <= identities
    assert "woo:0" not in identities
    ann = workspace.find_customer("woo:12")
    assert ann is not None and ann["email"] == "ann@example.com"

    # Amount spent, computed from the file: counted orders' totals less what was refunded.
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        if row["status"] in NOT_COUNTED or not row["billing_email"]:
            continue
        email = row["billing_email"].lower()
        expected[email] += Decimal(row["order_total"]) - Decimal(row["refunded_total"])
    assert spent_by_email(workspace) == dict(expected)
    refunds = workspace.to_pandas("refunds").set_index("order_id")
    assert sorted(refunds.index) == ["1004", "1005"]
    assert refunds.loc["1004"].amount == Decimal("45.50")
    assert refunds.loc["1004"].product_amount == Decimal("40.00")  # shipping was refunded too
    assert refunds.loc["1005"].amount == Decimal("15.00")
    summary = workspace.summary()
    assert summary["orders"] == 4  # 1001, 1002, 1004 and 1005; 1003 and 1007 not counted
    assert Decimal(str(summary["amount_spent"])) == sum(expected.values())


def pd_timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_reimport_of_an_overlapping_export_updates_orders(workspace: Workspace, tmp_path: Path):
    first = workspace.import_file(WOO_CSV, mapped(WOO_MAPPING))
    again = workspace.import_file(WOO_CSV, mapped(WOO_MAPPING))
    assert again.skipped and again.import_id == first.import_id
    # A later export: 1002 is now cancelled, 1008 is new, the rest as before.
    with WOO_CSV.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    status, number = header.index("status"), header.index("order_id")
    later = [r[:] for r in rows[1:]]
    later[1][status] = "cancelled"
    extra = later[0][:]
    extra[number], extra[header.index("date")] = "1008", "2025-03-01 12:00:00"
    path = tmp_path / "orders-export-2025-03-01.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *later, extra])
    result = workspace.import_file(path, mapped(WOO_MAPPING))
    assert (result.orders_new, result.orders_updated) == (1, 6)
    orders = workspace.to_pandas("orders").set_index("order_id")
    assert len(orders) == 7
    assert orders.loc["1002"].status == "cancelled"
    assert workspace.summary()["customers"] == 5


# -- Parquet ----------------------------------------------------------------------------------
def test_parquet_orders_with_typed_columns(workspace: Workspace, tmp_path: Path):
    placed = [datetime(2024, 11, 29, 9, 30), datetime(2024, 11, 29, 23, 59), datetime(2024, 12, 2)]
    table = pa.table(
        {
            "OrderRef": pa.array(["A-1", "A-2", "A-3"]),
            "Client": pa.array([501, 502, 501], pa.int64()),
            "Mail": pa.array(["zoe@example.com", None, "zoe@example.com"]),
            "OrderedAt": pa.array(placed, pa.timestamp("us")),
            "Amount": pa.array(
                [Decimal("19.99"), Decimal("250.00"), Decimal("0.10")], pa.decimal128(10, 2)
            ),
            "Units": pa.array([1, 10, 1], pa.int32()),
            "Product": pa.array(["Gift card", "Tea (box)", "Sample"]),
        }
    )
    path = tmp_path / "orders.parquet"
    pq.write_table(table, path)
    mapping = {
        "kind": "orders",
        "namespace": "erp",
        "currency": "EUR",
        "columns": {
            "order_id": "OrderRef",
            "customer_id": "Client",
            "email": "Mail",
            "placed_at": "OrderedAt",
            "total": "Amount",
            "quantity": "Units",
            "product_name": "Product",
        },
    }
    result = workspace.import_file(path, ImportOptions(mapping=mapping))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (3, 3, 0)
    assert workspace.settings.currency == "EUR"
    orders = workspace.to_pandas("orders").set_index("order_id")
    assert [orders.loc[k].total for k in ("A-1", "A-2", "A-3")] == [
        Decimal("19.99"),
        Decimal("250.00"),
        Decimal("0.10"),
    ]
    assert orders.loc["A-2"].placed_at == datetime(2024, 11, 29, 23, 59)
    assert orders.loc["A-3"].placed_date.date() == date(2024, 12, 2)
    lines = workspace.to_pandas("order_lines").set_index("order_id")
    assert lines.loc["A-2"].quantity == 10
    assert lines.loc["A-2"].unit_price == Decimal("25.0000")
    assert lines.loc["A-2"].product_name == "Tea (box)"
    # Client 501 is one customer (erp:501 and the email), 502 another.
    assert workspace.summary()["customers"] == 2
    zoe = workspace.find_customer("erp:501")
    assert zoe is not None and zoe["email"] == "zoe@example.com"
    spent = {
        r["customer_id"]: r["amount_spent"]
        for r in customer_value(workspace.table("orders"), workspace.table("refunds"))
        .to_pyarrow()
        .to_pylist()
    }
    assert spent[zoe["customer_id"]] == Decimal("19.99") + Decimal("0.10")


# -- headerless, whitespace separated, by position ----------------------------------------------
def test_headerless_whitespace_file_by_position(workspace: Workspace):
    lines = cdnow_lines(CDNOW_EXCERPT)
    result = workspace.import_file(CDNOW_EXCERPT, mapped(CDNOW_MAPPING))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (13, 13, 0)
    # Two identical lines (01668, 1997-07-31, 9.77) are two purchases, so two orders.
    assert result.orders_new == 13
    assert sum(1 for f in lines if f == ["01668", "0147", "19970731", "1", "9.77"]) == 2
    assert result.customers_created == 3
    identities = workspace.to_pandas("identities")
    assert sorted(identities.identity) == ["cdnow:00004", "cdnow:00021", "cdnow:01668"]
    assert set(identities.kind) == {"cdnow"}
    orders = workspace.to_pandas("orders")
    assert all(o.startswith("cdnow:") for o in orders.order_id)
    assert set(orders.currency) == {"USD"}
    assert orders.placed_date.min().date() == date(1997, 1, 1)
    assert orders.placed_date.max().date() == date(1997, 12, 12)
    by_master: dict[str, Decimal] = defaultdict(Decimal)
    for master, _, _, _, dollars in lines:
        by_master[master] += Decimal(dollars)
    value = customer_value(workspace.table("orders"), workspace.table("refunds"))
    spent = {r["customer_id"]: r["amount_spent"] for r in value.to_pyarrow().to_pylist()}
    for master, dollars in by_master.items():
        assert spent[workspace.find_customer(f"cdnow:{master}")["customer_id"]] == dollars
    cds = workspace.to_pandas("order_lines").quantity.sum()
    assert cds == sum(int(f[3]) for f in lines)


def test_same_rows_in_another_file_replace_rather_than_duplicate(
    workspace: Workspace, tmp_path: Path
):
    """Orders without an id get a content id: a longer log with the same lines adds only
    the new lines, and the duplicated line stays two orders."""
    workspace.import_file(CDNOW_EXCERPT, mapped(CDNOW_MAPPING))
    longer = tmp_path / "CDNOW_more.txt"
    longer.write_bytes(CDNOW_EXCERPT.read_bytes() + b" 01668 0147 19980102  3   36.00\r\n")
    result = workspace.import_file(longer, mapped(CDNOW_MAPPING))
    assert (result.rows_read, result.orders_new, result.orders_updated) == (14, 1, 13)
    assert workspace.summary()["orders"] == 14


# -- mapping errors -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        (
            "kind: orders\nnamespace: x\ncolumns: {total: T, placed_at: D, email: E, colour: C}",
            "columns.colour",
            "unknown field for kind orders",
        ),
        (
            "kind: orders\nnamespace: x\ncolumns: {placed_at: D, email: E}",
            "columns.total",
            "required",
        ),
        ("kind: orders\ncolumns: {total: T, placed_at: D, email: E}", "namespace", "required"),
        (
            "kind: orders\nheader: false\nnamespace: x\n"
            "columns: {total: Total, placed_at: 1, email: 2}",
            "columns.total",
            "column position",
        ),
        ("kind: orders\nnamespace: x\ncolumns: {total: T, placed_at: D}", "columns", "customer_id"),
        (
            "kind: order\nnamespace: x\ncolumns: {total: T, placed_at: D, email: E}",
            "kind",
            "'order'",
        ),
        (
            "kind: orders\nnamespace: x\ncurrency: dollars\n"
            "columns: {total: T, placed_at: D, email: E}",
            "currency",
            "ISO 4217",
        ),
        (
            "kind: orders\nnamespace: x\nseparator: ';'\ncolumns: {total: T}",
            "separator",
            "unknown key",
        ),
    ],
    ids=[
        "unknown-field",
        "no-total",
        "no-namespace",
        "name-in-headerless",
        "no-identifier",
        "bad-kind",
        "bad-currency",
        "unknown-key",
    ],
)
def test_mapping_errors_name_the_file_and_key(tmp_path: Path, text: str, key: str, words: str):
    path = write_yaml(tmp_path / "shop-mapping.yaml", text)
    with pytest.raises(ConfigError) as raised:
        load_mapping(path)
    message = raised.value.message
    assert message.startswith(f"{path}: key '{key}':")
    assert words in message


def test_mapping_file_that_is_not_yaml(tmp_path: Path):
    path = write_yaml(tmp_path / "broken.yaml", "kind: orders\ncolumns: {total: [\n")
    with pytest.raises(ConfigError, match="broken.yaml: not valid YAML"):
        load_mapping(path)
    with pytest.raises(ConfigError, match="missing.yaml: cannot read the mapping file"):
        load_mapping(tmp_path / "missing.yaml")


def test_a_column_the_file_lacks_is_named(workspace: Workspace, tmp_path: Path):
    mapping = write_yaml(
        tmp_path / "woo.yaml",
        WOO_MAPPING.read_text(encoding="utf-8").replace("billing_email", "Billing E-mail"),
    )
    with pytest.raises(UnknownFormatError) as raised:
        workspace.import_file(WOO_CSV, mapped(mapping))
    assert raised.value.message == (
        "woocommerce_orders.csv lacks columns named in the mapping: Billing E-mail"
    )
    assert workspace.imports().num_rows == 0


def test_a_position_beyond_the_last_field_is_named(workspace: Workspace):
    mapping = load_mapping(CDNOW_MAPPING)
    mapping["columns"]["total"] = 6
    with pytest.raises(UnknownFormatError) as raised:
        workspace.import_file(CDNOW_EXCERPT, ImportOptions(mapping=mapping))
    assert "cdnow_excerpt.txt lacks columns named in the mapping: column 6 (total)" in str(
        raised.value
    )
    assert "5 fields" in raised.value.details


# -- bad values ---------------------------------------------------------------------------------
def test_bad_values_are_rejects_with_row_and_column(workspace: Workspace, tmp_path: Path):
    path = tmp_path / "orders.csv"
    rows = [
        ["Order", "Customer", "Email", "Date", "Qty", "Total", "Currency"],
        ["1", "C1", "ann@example.com", "2024-05-01", "1", "10.00", "USD"],  # good
        ["2", "C2", "bob@example.com", "2024-05-02", "1", "12,50", "USD"],  # comma decimal
        ["3", "C3", "cy@example.com", "2024-13-45", "1", "5.00", "USD"],  # no such date
        ["4", "C4", "di@example.com", "2024-05-04", "1.5", "5.00", "USD"],  # half a unit
        ["5", "C5", "ed@example.com", "2024-05-05", "1", "-5.00", "USD"],  # negative
        ["6", "", "not an email", "2024-05-06", "1", "5.00", "USD"],  # nobody
        ["7", "C7", "fay@example.com", "2024-05-07", "1", "5.00", "XYZ"],  # no such currency
        ["8", "C8", "gus@example.com", "2024-05-08", "1", "", "USD"],  # no total
        ["9", "C9", "hal@example.com", "", "1", "5.00", "USD"],  # no date
        ["10", "C1", "ann@example.com", "2024-05-10", "2", "20.00", "USD"],  # good
        ["10", "C1", "ann@example.com", "2024-05-10", "1", "11.00", "USD"],  # id used twice
        ["1", "C1", "ann@example.com", "2024-05-01", "1", "10.00", "USD"],  # exact duplicate
        ["11", "C2", "bob@example.com", "2024-05-11", "1", "2000000", "USD"],  # absurd
    ]
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    mapping = {
        "kind": "orders",
        "namespace": "erp",
        "columns": {
            "order_id": "Order",
            "customer_id": "Customer",
            "email": "Email",
            "placed_at": "Date",
            "quantity": "Qty",
            "total": "Total",
            "currency": "Currency",
        },
    }
    result = workspace.import_file(path, ImportOptions(mapping=mapping))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (13, 1, 12)
    assert result.duplicate_rows == 1
    rejects = [
        (r["row_number"], r["column"], r["raw_value"], r["reason"])
        for r in workspace.rejects(result.import_id).to_pylist()
    ]
    assert rejects == [
        (3, "Total", "12,50", "not a number"),
        (4, "Date", "2024-13-45", "not a date-time"),
        (5, "Qty", "1.5", "not a whole number"),
        (6, "Total", "-5.00", "order amount below 0"),
        (7, "Customer", None, "no customer id, email or phone: nobody to link it to"),
        (8, "Currency", "XYZ", "unknown currency (not an ISO 4217 code)"),
        (9, "Total", "", "order has no total"),
        (10, "Date", "", "order has no date"),
        (
            11,
            "Order",
            "10",
            "order id appears on several rows: each row of a mapped orders file must be one "
            "order (first at row 11)",
        ),
        (
            12,
            "Order",
            "10",
            "order id appears on several rows: each row of a mapped orders file must be one "
            "order (first at row 11)",
        ),
        (13, None, None, "exact duplicate (of row 2)"),
        (
            14,
            "Total",
            "2000000",
            "absurd order amount: above 1,000,000 (setting max_order_amount)",
        ),
    ]
    orders = workspace.to_pandas("orders")
    assert list(orders.order_id) == ["1"]
    assert orders.total.sum() == Decimal("10.00")


# -- customers ----------------------------------------------------------------------------------
def test_customers_file_links_to_orders_by_id_and_email(workspace: Workspace, tmp_path: Path):
    workspace.import_file(CDNOW_EXCERPT, mapped(CDNOW_MAPPING))
    path = tmp_path / "crm.csv"
    path.write_text(
        "Master ID;E-mail;First;Last;Opt-in\n"
        "00004;pat@example.com;Pat;Kim;yes\n"
        ";lee@example.com;Lee;Ng;no\n"
        "00021;;;Ortiz;maybe\n"
        ";;Nobody;Known;yes\n",
        encoding="utf-8",
    )
    mapping = write_yaml(
        tmp_path / "crm.yaml",
        "kind: customers\ndelimiter: ';'\nnamespace: cdnow\ncolumns:\n"
        "  customer_id: Master ID\n  email: E-mail\n  first_name: First\n"
        "  last_name: Last\n  email_consent: Opt-in\n",
    )
    result = workspace.import_file(path, mapped(mapping))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 2, 2)
    rejects = [
        (r["row_number"], r["column"], r["reason"])
        for r in workspace.rejects(result.import_id).to_pylist()
    ]
    assert rejects == [
        (4, "Opt-in", "not yes/no"),
        (5, "Master ID", "no customer id, email or phone: nobody to link it to"),
    ]
    assert result.customers_created == 1  # lee; pat is CDNOW customer 00004
    pat = workspace.find_customer("pat@example.com")
    assert pat == workspace.find_customer("cdnow:00004")
    assert (pat["first_name"], pat["last_name"], pat["email_consent"]) == (
        "Pat",
        "Kim",
        "subscribed",
    )
    assert workspace.summary()["customers"] == 4


# -- the CDNOW sample -------------------------------------------------------------------------
@pytest.mark.shared_data
def test_cdnow_sample(workspace: Workspace, shared_data: Path):
    path = shared_data / "cdnow" / "CDNOW_sample.txt"
    lines = cdnow_lines(path)
    result = workspace.import_file(path, mapped(CDNOW_MAPPING))
    assert result.rows_read == len(lines) == 6919
    assert result.rows_read == result.rows_loaded + result.rows_rejected
    assert (result.rows_loaded, result.rows_rejected) == (6919, 0)
    assert result.orders_new == 6919  # identical lines are distinct purchases

    masters = {f[0] for f in lines}
    assert len(masters) == 2357
    summary = workspace.summary()
    assert summary["customers"] == 2357
    assert summary["orders"] == 6919
    assert Decimal(str(summary["amount_spent"])) == sum(Decimal(f[4]) for f in lines)
    dates = sorted(f[2] for f in lines)
    assert summary["first_order_date"] == date(1997, 1, 1) == _ymd(dates[0])
    assert summary["last_order_date"] == date(1998, 6, 30) == _ymd(dates[-1])

    identities = workspace.table("identities").to_pyarrow()
    assert set(identities["identity"].to_pylist()) == {f"cdnow:{m}" for m in masters}
    assert set(identities["kind"].to_pylist()) == {"cdnow"}

    # Per customer: orders and dollars from the raw file equal customer_value.
    expected: dict[str, tuple[int, Decimal]] = {}
    for master, _, _, _, dollars in lines:
        count, total = expected.get(f"cdnow:{master}", (0, Decimal(0)))
        expected[f"cdnow:{master}"] = (count + 1, total + Decimal(dollars))
    owner = dict(
        zip(identities["customer_id"].to_pylist(), identities["identity"].to_pylist(), strict=True)
    )
    value = customer_value(workspace.table("orders"), workspace.table("refunds"))
    got = {
        owner[r["customer_id"]]: (r["number_of_orders"], r["amount_spent"])
        for r in value.to_pyarrow().to_pylist()
    }
    assert got == expected


def _ymd(text: str) -> date:
    return datetime.strptime(text, "%Y%m%d").date()


def test_headerless_events_file_by_position(workspace: Workspace, tmp_path: Path):
    """kind: events reads like the events format, from positions, ids namespaced."""
    lines = [
        "2025-04-01T09:00:00Z|Opened Email|881|ann@example.com|",
        "2025-04-01T09:05:00Z|Clicked Email|881|ann@example.com|",
        "2025-04-02T10:00:00Z|view_item|882||",
        "2025-04-02T10:00:00Z|view_item|882||",
        "2025-04-03 11:00:00|Placed Order|881|ann@example.com|49.50",
        "2025-04-03T11:00:00Z|Teleported|881|ann@example.com|",
        "not a time|Opened Email|881|ann@example.com|",
    ]
    path = tmp_path / "klaviyo-dump.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    mapping = write_yaml(
        tmp_path / "events.yaml",
        "kind: events\nheader: false\ndelimiter: '|'\nnamespace: legacy\n"
        "columns: {timestamp: 1, event: 2, customer_id: 3, email: 4, value: 5}\n",
    )
    result = workspace.import_file(path, mapped(mapping))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (7, 5, 2)
    rejects = {r["row_number"]: r for r in workspace.rejects(result.import_id).to_pylist()}
    assert rejects[6]["column"] == "2" and rejects[6]["raw_value"] == "Teleported"
    assert rejects[7]["column"] == "1" and rejects[7]["raw_value"] == "not a time"
    events = workspace.to_pandas("events")
    assert sorted(events.event_type) == [
        "clicked_email",
        "opened_email",
        "placed_order",
        "viewed_product",
        "viewed_product",
    ]
    identities = set(workspace.to_pandas("identities").identity)
    assert {"legacy:881", "legacy:882", "email:ann@example.com"} <= identities
    ann = workspace.find_customer("legacy:881")
    assert ann is not None and ann == workspace.find_customer("ann@example.com")
    assert workspace.import_file(path, mapped(mapping)).skipped


def test_events_mapping_refuses_a_date_format(tmp_path: Path):
    path = write_yaml(
        tmp_path / "events.yaml",
        "kind: events\nnamespace: x\ndate_format: '%Y%m%d'\n"
        "columns: {timestamp: When, event: What, email: Who}\n",
    )
    with pytest.raises(ConfigError, match="key 'date_format': is not used for events"):
        load_mapping(path)
