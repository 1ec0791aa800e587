"""The workspace definitions on small Shopify fixtures, each checked against a computation
done here from the fixture's own cells (docs/data-model.md, *Definitions*):

- a cancelled (or voided) order is kept with its status but is neither an order nor spend;
- a partial refund reduces amount spent and net sales on its order (the merchandise part
  in proportion to Subtotal / Total);
- amount spent includes shipping and taxes, net sales excludes them;
- a day is a day in the store's zone, and "as of" a day includes that local day only.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from segmint.definitions import customer_value
from segmint.workspace import Workspace
from shopify_files import order, write_orders

CENT = Decimal("0.01")


def money(text: str) -> Decimal:
    return Decimal(text).quantize(CENT)


def counted(o: dict[str, Any]) -> bool:
    return not o.get("Cancelled at") and o["Financial Status"] != "voided"


def expected_value(orders: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per email: orders, amount spent and net sales, from the export's cells alone."""
    out: dict[str, dict[str, Any]] = {}
    for o in filter(counted, orders):
        total, subtotal = money(o["Total"]), money(o["Subtotal"])
        refunded = money(o.get("Refunded Amount") or "0")
        product_refund = min(refunded * subtotal / total, subtotal).quantize(CENT)
        row = out.setdefault(
            o["Email"], {"number_of_orders": 0, "amount_spent": Decimal(0), "net_sales": 0}
        )
        row["number_of_orders"] += 1
        row["amount_spent"] += total - refunded
        row["net_sales"] += subtotal - product_refund
    return out


def value_by_email(ws: Workspace, as_of: date | None = None) -> dict[str, dict[str, Any]]:
    value = customer_value(ws.table("orders"), ws.table("refunds"), as_of).to_pyarrow()
    emails = {
        r["customer_id"]: r["email"]
        for r in ws.table("customers").select("customer_id", "email").to_pyarrow().to_pylist()
    }
    return {
        emails[r["customer_id"]]: {
            k: r[k] for k in ("number_of_orders", "amount_spent", "net_sales")
        }
        for r in value.to_pylist()
    }


def summary_money(ws: Workspace) -> tuple[Decimal, Decimal]:
    s = ws.summary()
    return Decimal(str(s["amount_spent"])).quantize(CENT), Decimal(str(s["net_sales"])).quantize(
        CENT
    )


def load(ws: Workspace, tmp_path: Path, orders: list[dict[str, Any]]) -> None:
    result = ws.import_file(write_orders(tmp_path / "orders_export.csv", orders))
    assert result.rows_rejected == 0, ws.rejects().to_pylist()


def test_cancelled_and_voided_orders_are_kept_but_not_counted(workspace: Workspace, tmp_path: Path):
    orders = [
        order("#1001", "ann@example.com", "2025-03-01 10:00:00 -0500", [(1, "Mug", "30.00", "M")]),
        order(
            "#1002",
            "ann@example.com",
            "2025-03-02 10:00:00 -0500",
            [(1, "Lamp", "50.00", "L")],
            **{
                "Financial Status": "refunded",
                "Refunded Amount": "50.00",
                "Cancelled at": "2025-03-02 11:00:00 -0500",
            },
        ),
        order(
            "#1003",
            "bob@example.com",
            "2025-03-03 10:00:00 -0500",
            [(1, "Lamp", "50.00", "L")],
            **{"Financial Status": "voided"},
        ),
    ]
    load(workspace, tmp_path, orders)
    stored = workspace.table("orders").to_pyarrow().to_pylist()
    assert {o["order_number"]: o["status"] for o in stored} == {
        "#1001": "placed",
        "#1002": "cancelled",
        "#1003": "voided",
    }
    cancelled = next(o for o in stored if o["order_number"] == "#1002")
    assert cancelled["cancelled_at"] == datetime(2025, 3, 2, 16, 0)  # kept, in UTC
    assert workspace.table("refunds").count().execute() == 0  # none for a cancelled order

    expected = expected_value(orders)
    assert expected == {
        "ann@example.com": {
            "number_of_orders": 1,
            "amount_spent": Decimal("30.00"),
            "net_sales": Decimal("30.00"),
        }
    }
    assert value_by_email(workspace) == expected  # bob placed nothing that counts

    summary = workspace.summary()
    assert (summary["orders"], summary["orders_not_counted"]) == (1, 2)
    assert (summary["customers"], summary["customers_with_orders"]) == (2, 1)
    assert summary["first_order_date"] == summary["last_order_date"] == date(2025, 3, 1)
    assert summary_money(workspace) == (Decimal("30.00"), Decimal("30.00"))


def test_partial_refund_reduces_spend_and_net_sales_on_its_order(
    workspace: Workspace, tmp_path: Path
):
    refunded = order(
        "#2001",
        "cat@example.com",
        "2025-04-01 10:00:00 -0500",
        [(2, "Candle", "40.00", "C")],
        Shipping=12,
        Taxes=8,
        **{"Financial Status": "partially_refunded", "Refunded Amount": "25.00"},
    )
    other = order(
        "#2002", "cat@example.com", "2025-04-09 10:00:00 -0500", [(1, "Soap", "9.50", "S")]
    )
    load(workspace, tmp_path, [refunded, other])

    # By hand: #2001 is 80.00 + 12.00 + 8.00 = 100.00; 25.00 back, 80/100 of it merchandise.
    assert (refunded["Subtotal"], refunded["Total"]) == ("80.00", "100.00")
    (refund,) = workspace.table("refunds").to_pyarrow().to_pylist()
    assert (refund["order_id"], refund["amount"], refund["product_amount"]) == (
        "5000000002001",
        Decimal("25.00"),
        Decimal("20.00"),
    )
    expected = {
        "number_of_orders": 2,
        "amount_spent": Decimal("100.00") - Decimal("25.00") + Decimal("9.50"),
        "net_sales": Decimal("80.00") - Decimal("20.00") + Decimal("9.50"),
    }
    assert expected_value([refunded, other]) == {"cat@example.com": expected}
    assert value_by_email(workspace) == {"cat@example.com": expected}
    assert summary_money(workspace) == (expected["amount_spent"], expected["net_sales"])
    assert Decimal(str(workspace.summary()["refunds"])) == Decimal("25.00")
    assert workspace.summary()["orders"] == 2  # a refund does not remove the order


def test_amount_spent_includes_shipping_and_taxes_net_sales_does_not(
    workspace: Workspace, tmp_path: Path
):
    orders = [
        order(
            "#3001",
            "dee@example.com",
            "2025-05-01 10:00:00 -0500",
            [(2, "Linen Shirt - M", "40.00", "LS-M"), (1, "Socks", "20.00", "SO-1")],
            Shipping=5,
            Taxes=7.20,
            **{"Discount Code": "WELCOME10", "Discount Amount": "10.00"},
        ),
        order(
            "#3002",
            "eve@example.com",
            "2025-05-02 10:00:00 -0500",
            [(1, "Hat", "25.00", "H")],
            Shipping=4.99,
            Taxes=2.06,
        ),
    ]
    load(workspace, tmp_path, orders)
    # Read the export's own columns: Total = Subtotal + Shipping + Taxes, Subtotal after
    # the discount.
    by_hand = {
        o["Email"]: (
            money(o["Subtotal"]) + money(o["Shipping"]) + money(o["Taxes"]),
            money(o["Subtotal"]),
        )
        for o in orders
    }
    assert by_hand == {
        "dee@example.com": (Decimal("102.20"), Decimal("90.00")),
        "eve@example.com": (Decimal("32.05"), Decimal("25.00")),
    }
    value = value_by_email(workspace)
    for email, (spent, sales) in by_hand.items():
        assert value[email] == {"number_of_orders": 1, "amount_spent": spent, "net_sales": sales}
    assert value == expected_value(orders)
    assert summary_money(workspace) == (Decimal("134.25"), Decimal("115.00"))


def test_utc_minus_5_store_keeps_the_local_day(workspace: Workspace, tmp_path: Path):
    offset = "-0500"  # as Shopify writes it: 2025-03-05 23:30:00 -0500
    orders = [
        order(
            "#4001", "fay@example.com", f"2025-03-04 12:00:00 {offset}", [(1, "Pen", "5.00", "P")]
        ),
        order(
            "#4002",
            "fay@example.com",
            f"2025-03-05 23:30:00 {offset}",
            [(1, "Ink", "20.00", "I")],
            **{"Financial Status": "partially_refunded", "Refunded Amount": "4.00"},
        ),
    ]
    load(workspace, tmp_path, orders)
    assert workspace.settings.timezone == "-05:00"

    # Independently: 23:30 at UTC-5 is 04:30 UTC the next day; its local day is the 5th.
    local = datetime(2025, 3, 5, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    utc = local.astimezone(UTC).replace(tzinfo=None)
    assert utc == datetime(2025, 3, 6, 4, 30)
    late = workspace.table("orders")
    late = late.filter(late.order_number == "#4002").to_pyarrow().to_pylist()[0]
    assert (late["placed_at"], late["placed_date"]) == (utc, local.date())
    refund = workspace.table("refunds").to_pyarrow().to_pylist()[0]
    assert refund["refunded_date"] == local.date()

    def upto(day: date) -> dict[str, Any]:
        return expected_value(
            [o for o in orders if date.fromisoformat(o["Created at"][:10]) <= day]
        )["fay@example.com"]

    on_the_day = value_by_email(workspace, as_of=date(2025, 3, 5))["fay@example.com"]
    assert on_the_day == upto(date(2025, 3, 5))
    assert on_the_day == {
        "number_of_orders": 2,
        "amount_spent": Decimal("5.00") + Decimal("20.00") - Decimal("4.00"),
        "net_sales": Decimal("5.00") + Decimal("20.00") - Decimal("4.00"),
    }
    day_before = value_by_email(workspace, as_of=date(2025, 3, 4))["fay@example.com"]
    assert day_before == upto(date(2025, 3, 4))
    assert day_before == {
        "number_of_orders": 1,
        "amount_spent": Decimal("5.00"),
        "net_sales": Decimal("5.00"),
    }
    assert value_by_email(workspace, as_of=date(2025, 3, 3)) == {}
    summary = workspace.summary()
    assert (summary["first_order_date"], summary["last_order_date"]) == (
        date(2025, 3, 4),
        date(2025, 3, 5),
    )
    assert summary["timezone"] == "-05:00"
