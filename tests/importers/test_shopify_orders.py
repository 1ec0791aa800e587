"""Shopify orders export: layouts, broken rows, definitions, re-import and atomicity."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from segmint import importing
from segmint.errors import ImportAborted
from segmint.importers.base import ImportOptions
from segmint.workspace import Workspace
from shopify_files import (
    ORDERS_HEADER,
    ORDERS_HEADER_2021,
    ORDERS_HEADER_OLD,
    order,
    order_rows,
    write_orders,
)


def store_orders() -> list[dict]:
    """Five good orders: a discount, a partial refund, a cancellation, a POS order, UTC-5."""
    return [
        order(
            "#1001",
            "ann@example.com",
            "2025-03-01 10:00:00 -0500",
            [(2, "Linen Shirt - M", "40.00", "LS-M"), (1, "Socks", "20.00", "SO-1")],
            **{
                "Discount Code": "WELCOME10",
                "Discount Amount": "10.00",
                "Shipping": 5,
                "Taxes": 7.20,
                "Billing Name": "Ann Lee",
                "Billing Zip": "'02134",
                "Phone": "'+16175550100",
            },
        ),
        order(
            "#1002",
            " ANN@Example.com",
            "2025-03-05 23:30:00 -0500",
            [(1, "Mug", "50.00", "MUG")],
            **{
                "Financial Status": "partially_refunded",
                "Refunded Amount": "20.00",
                "Source": "pos",
            },
        ),
        order(
            "#1003",
            "bob@example.com",
            "2025-03-06 08:00:00 -0500",
            [(1, "Mug", "30.00", "MUG")],
            **{
                "Financial Status": "refunded",
                "Refunded Amount": "30.00",
                "Cancelled at": "2025-03-06 09:00:00 -0500",
                "Source": "580111",
            },
        ),
        order(
            "#1004",
            "carl@example.com",
            "2025-03-07 08:00:00 -0500",
            [(3, "Tee", "15.00", "TEE")],
            **{"Source": "shopify_draft_order"},
        ),
        order(
            "#1005",
            "dee@example.com",
            "2025-03-08 12:00:00 -0500",
            [(1, "Hat", "25.00", "HAT")],
            **{"Source": "1354745", "Shipping": 4.99},
        ),
    ]


def independent_amount_spent(orders: list[dict], header: list[str] = ORDERS_HEADER) -> Decimal:
    """Total minus refunds over orders that are not cancelled or voided (very old layouts
    have no Refunded Amount column, so no refunds)."""
    refunds = "Refunded Amount" in header
    return sum(
        (
            Decimal(o["Total"]) - (Decimal(o["Refunded Amount"]) if refunds else 0)
            for o in orders
            if not o.get("Cancelled at") and o["Financial Status"] != "voided"
        ),
        Decimal("0"),
    )


@pytest.mark.parametrize(
    "header",
    [ORDERS_HEADER, ORDERS_HEADER_2021, ORDERS_HEADER_OLD],
    ids=["current-79", "2021-75", "old"],
)
def test_every_layout_loads_the_same_orders(workspace: Workspace, tmp_path: Path, header):
    orders = store_orders()
    result = workspace.import_file(write_orders(tmp_path / "orders_export.csv", orders, header))
    assert result.format == "shopify-orders"
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (6, 6, 0)
    summary = workspace.summary()
    assert summary["orders"] == 4  # the cancelled order is kept but not counted
    assert summary["orders_not_counted"] == 1
    assert Decimal(str(summary["amount_spent"])) == independent_amount_spent(orders, header)
    assert summary["customers"] == 4  # ann's two spellings are one customer
    lines = workspace.table("order_lines").to_pandas()
    assert len(lines) == 6
    assert (
        set(lines.order_id) == {str(5_000_000_000_000 + n) for n in range(1001, 1006)}
        or header is ORDERS_HEADER_OLD
    )


def test_order_level_fields_come_from_the_first_row(workspace: Workspace, tmp_path: Path):
    workspace.import_file(write_orders(tmp_path / "orders_export.csv", store_orders()))
    orders = workspace.table("orders").to_pandas().set_index("order_number")
    first = orders.loc["#1001"]
    assert first.total == Decimal("102.20")  # not summed over the two rows
    assert first.discount_code == "WELCOME10"
    assert first.billing_zip == "02134"  # the protective apostrophe is gone
    assert first.channel == "web"
    assert orders.loc["#1002"].channel == "pos"
    assert orders.loc["#1003"].channel == "social"
    assert orders.loc["#1004"].channel == "draft"
    assert orders.loc["#1005"].channel == "marketplace"
    assert orders.loc["#1003"].status == "cancelled"
    customers = workspace.table("customers").to_pandas().set_index("email")
    assert customers.loc["ann@example.com"].phone == "+16175550100"
    assert customers.loc["ann@example.com"].first_name == "Ann"


def test_store_in_utc_minus_5_keeps_the_local_day(workspace: Workspace, tmp_path: Path):
    workspace.import_file(write_orders(tmp_path / "orders_export.csv", store_orders()))
    orders = workspace.table("orders")
    late = orders.filter(orders.order_number == "#1002").to_pyarrow().to_pylist()[0]
    assert late["placed_date"] == date(2025, 3, 5)  # 23:30 local is 04:30 UTC on the 6th
    assert str(late["placed_at"]) == "2025-03-06 04:30:00"
    assert workspace.settings.timezone == "-05:00"
    from segmint.definitions import customer_value

    as_of = customer_value(orders, workspace.table("refunds"), as_of=date(2025, 3, 5))
    ann = workspace.find_customer("ann@example.com")["customer_id"]
    assert as_of.filter(as_of.customer_id == ann).number_of_orders.sum().execute() == 2


def test_partial_refund_reduces_spend_on_its_order(workspace: Workspace, tmp_path: Path):
    workspace.import_file(write_orders(tmp_path / "orders_export.csv", store_orders()))
    refunds = workspace.table("refunds").to_pandas()
    assert list(refunds.order_id) == ["5000000001002"]  # none for the cancelled order
    assert refunds.amount.iloc[0] == Decimal("20.00")
    ann = workspace.find_customer("ann@example.com")
    from segmint.definitions import customer_value

    value = customer_value(workspace.table("orders"), workspace.table("refunds")).to_pandas()
    row = value.set_index("customer_id").loc[ann["customer_id"]]
    assert row.number_of_orders == 2
    assert row.amount_spent == Decimal("102.20") + Decimal("50.00") - Decimal("20.00")
    assert row.net_sales == Decimal("90.00") + Decimal("50.00") - Decimal("20.00")


def test_broken_rows_are_rejected_with_file_row_and_column(workspace: Workspace, tmp_path: Path):
    orders = store_orders()
    bad_number = order(
        "#1006",
        "eve@example.com",
        "2025-03-09 10:00:00 -0500",
        [(1, "Cap", "12.00", "CAP"), (1, "Pin", "3.00", "PIN")],
    )
    bad_number["lines"][1]["Lineitem price"] = "3,00"
    bad_date = order("#1007", "fay@example.com", "13/03/2025", [(1, "Cap", "12.00", "CAP")])
    no_contact = order("#1008", "", "2025-03-10 10:00:00 -0500", [(1, "Cap", "12.00", "CAP")])
    euro = order(
        "#1009",
        "gus@example.com",
        "2025-03-10 11:00:00 -0500",
        [(1, "Cap", "12.00", "CAP")],
        Currency="EUR",
    )
    bogus = order(
        "#1010",
        "hal@example.com",
        "2025-03-10 12:00:00 -0500",
        [(1, "Cap", "12.00", "CAP")],
        Currency="XYZ",
    )
    negative = order(
        "#1011",
        "ida@example.com",
        "2025-03-10 13:00:00 -0500",
        [(1, "Cap", "12.00", "CAP")],
        Total="-12.00",
    )
    too_wide = order_rows(
        order("#1012", "jo@example.com", "2025-03-11 10:00:00 -0500", [(1, "Cap", "12.00", "CAP")]),
        ORDERS_HEADER,
    )[0] + ["x"]
    path = write_orders(
        tmp_path / "orders_export.csv",
        orders + [bad_number, bad_date, no_contact, euro, bogus, negative],
        extra_rows=[too_wide],
    )
    result = workspace.import_file(path)
    assert result.rows_read == 6 + 2 + 1 + 1 + 1 + 1 + 1 + 1
    assert result.rows_loaded == 6
    assert result.rows_rejected == 8
    rejects = {r["row_number"]: r for r in workspace.rejects().to_pylist()}
    assert rejects[9] == {
        **rejects[9],
        "column": "Lineitem price",
        "raw_value": "3,00",
        "reason": "not a number",
    }
    assert rejects[8]["reason"] == "part of a rejected order (order #1006, see row 9)"
    assert (rejects[10]["column"], rejects[10]["reason"]) == ("Created at", "not a date-time")
    assert rejects[11]["column"] == "Email" and "cannot be linked" in rejects[11]["reason"]
    assert rejects[12]["column"] == "Currency" and "no exchange rate" in rejects[12]["reason"]
    assert rejects[13]["reason"].startswith("unknown currency")
    assert (rejects[14]["column"], rejects[14]["reason"]) == ("Total", "order amount below 0")
    assert rejects[15]["reason"] == "row has 80 fields, the header has 79 (unquoted delimiter?)"
    imports = workspace.imports().to_pylist()[0]
    assert imports["rows_read"] == imports["rows_loaded"] + imports["rows_rejected"]


def test_other_currency_is_converted_with_a_rate(workspace: Workspace, tmp_path: Path):
    workspace.set_setting("currency", "USD")
    workspace.set_setting("fx_rates", '{"EUR": 1.10}')
    euro = order(
        "#2001",
        "gus@example.com",
        "2025-03-10 11:00:00 -0500",
        [(1, "Cap", "100.00", "CAP")],
        Currency="EUR",
    )
    result = workspace.import_file(write_orders(tmp_path / "orders_export.csv", [euro]))
    assert result.rows_loaded == 1
    stored = workspace.table("orders").to_pandas().iloc[0]
    assert (stored.currency, stored.total) == ("EUR", Decimal("110.00"))


def test_reimport_is_a_no_op_and_a_later_export_updates(workspace: Workspace, tmp_path: Path):
    orders = store_orders()
    path = write_orders(tmp_path / "orders_export.csv", orders)
    workspace.import_file(path)
    before = {
        t: workspace.table(t).count().execute()
        for t in ("orders", "order_lines", "customers", "identities")
    }
    again = workspace.import_file(path)
    assert again.skipped
    assert {t: workspace.table(t).count().execute() for t in before} == before
    assert workspace.table("imports").count().execute() == 1

    # A later export overlaps: #1004 is now refunded in part, and #1006 is new.
    orders[3]["Refunded Amount"] = "15.00"
    orders[3]["Financial Status"] = "partially_refunded"
    orders.append(
        order("#1006", "eve@example.com", "2025-03-12 10:00:00 -0500", [(1, "Cap", "12.00", "CAP")])
    )
    later = workspace.import_file(write_orders(tmp_path / "orders_export_2.csv", orders))
    assert (later.orders_new, later.orders_updated) == (1, 5)
    assert workspace.table("orders").count().execute() == 6
    assert workspace.table("order_lines").count().execute() == 7
    assert Decimal(str(workspace.summary()["amount_spent"])) == independent_amount_spent(orders)


def test_exact_duplicate_rows_are_rejected_and_counted(workspace: Workspace, tmp_path: Path):
    orders = store_orders()
    duplicate = order_rows(orders[3], ORDERS_HEADER)[0]
    result = workspace.import_file(
        write_orders(tmp_path / "orders_export.csv", orders, extra_rows=[duplicate])
    )
    assert (result.rows_loaded, result.rows_rejected, result.duplicate_rows) == (6, 1, 1)
    assert workspace.rejects().to_pylist()[0]["reason"] == "exact duplicate (of row 6)"


def test_failed_import_leaves_the_workspace_unchanged(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    workspace.import_file(write_orders(tmp_path / "first.csv", store_orders()[:2]))
    tables = (
        "orders",
        "order_lines",
        "customers",
        "identities",
        "imports",
        "rejects",
        "refunds",
        "settings",
    )
    before = {t: workspace.table(t).to_pandas().to_dict("records") for t in tables}

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(importing, "_write_orders", explode)  # after identities and profiles
    with pytest.raises(ImportAborted, match="rolled back"):
        workspace.import_file(write_orders(tmp_path / "second.csv", store_orders()))
    after = {t: workspace.table(t).to_pandas().to_dict("records") for t in tables}
    assert after == before
    monkeypatch.undo()
    assert workspace.import_file(tmp_path / "second.csv").rows_loaded == 6


def test_unknown_format_names_the_closest_one(workspace: Workspace, tmp_path: Path):
    path = tmp_path / "almost.csv"
    path.write_text(
        "Name,Email,Financial Status,Created at,Lineitem name,Total\n#1,a@b.co,paid,"
        "2025-01-01 10:00:00 +0000,Cap,1.00\n"
    )
    from segmint.errors import UnknownFormatError

    with pytest.raises(UnknownFormatError) as info:
        workspace.import_file(path)
    assert "almost.csv matches no known format" in info.value.message
    assert info.value.details == (
        "Closest format: shopify-orders, missing columns: Lineitem quantity, Lineitem price"
    )


def test_format_override_checks_the_columns(workspace: Workspace, tmp_path: Path):
    path = write_orders(tmp_path / "orders_export.csv", store_orders())
    from segmint.errors import UnknownFormatError

    with pytest.raises(UnknownFormatError, match="not a shopify-customers file"):
        workspace.import_file(path, ImportOptions(format="shopify-customers"))


def test_an_unreadable_line_item_rejects_its_whole_order(workspace: Workspace, tmp_path: Path):
    """A truncated line-item row (the reader cannot split it) takes its order with it."""
    orders = [
        order(
            "#2001",
            "ann@example.com",
            "2025-03-01 10:00:00 -0500",
            [(1, "Mug", "30.00", "MUG"), (2, "Socks", "10.00", "SO-1"), (1, "Cap", "25.00", "CAP")],
        ),
        order(
            "#2002", "bob@example.com", "2025-03-02 10:00:00 -0500", [(1, "Mug", "30.00", "MUG")]
        ),
    ]
    path = write_orders(tmp_path / "orders_export.csv", orders)
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[2] = ",".join(lines[2].split(",")[:10])  # row 3: #2001's second line item, cut short
    path.write_text("\n".join(lines), encoding="utf-8")
    result = workspace.import_file(path)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 1, 3)
    rejects = {r["row_number"]: r["reason"] for r in workspace.rejects().to_pylist()}
    assert rejects[3].endswith("(truncated row?)")
    assert rejects[2] == rejects[4] == "part of a rejected order (order #2001, see row 3)"
    assert workspace.table("orders").order_number.to_pyarrow().to_pylist() == ["#2002"]
