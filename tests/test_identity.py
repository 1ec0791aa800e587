"""Identity resolution: one customer per person across orders, events and the customers export.

People are linked by their Shopify customer id, their normalized email (trimmed, lower case)
and their E.164 phone; customer ids are opaque and stable, and when a new record joins two
known customers the older one survives and the other becomes a redirect in ``merges``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from segmint.definitions import customer_value
from segmint.workspace import Workspace
from shopify_files import order, write_customers, write_orders

SHOPIFY_ID = "7985351721238"


def ann_orders() -> list[dict]:
    """Two orders by email (one partly refunded), written in different spellings."""
    return [
        order(
            "#1001",
            "ann@example.com",
            "2025-03-01 10:00:00 -0500",
            [(2, "Linen Shirt - M", "40.00", "LS-M"), (1, "Socks", "20.00", "SO-1")],
            **{"Shipping": 5, "Taxes": 7.20, "Billing Name": "Ann Lee"},
        ),
        order(
            "#1003",
            " ANN@Example.COM ",
            "2025-03-04 09:00:00 -0500",
            [(1, "Mug", "50.00", "MUG")],
            **{"Financial Status": "partially_refunded", "Refunded Amount": "20.00"},
        ),
    ]


def phone_order() -> dict:
    """An order with no email, only a phone typed with punctuation and Excel's apostrophe."""
    return order(
        "#1002",
        "",
        "2025-03-02 11:00:00 -0500",
        [(3, "Tee", "15.00", "TEE")],
        **{"Phone": "'+1 (617) 555-0100", "Billing Name": "A. Lee", "Billing City": "Boston"},
    )


def events_file(path: Path) -> Path:
    """Klaviyo-style events: one by email, one by phone, one by Shopify customer id."""
    path.write_text(
        "event,timestamp,email,phone,customer_id,value\n"
        "Viewed Product,2025-03-05T10:00:00Z,ann@example.com,,,\n"
        "Added to Cart,2025-03-05T11:00:00Z,,+16175550100,,\n"
        f"Opened Email,2025-03-05T12:00:00Z,,,{SHOPIFY_ID},\n",
        encoding="utf-8",
    )
    return path


def linking_row() -> dict:
    """The customers-export row that says all three are one person."""
    return {
        "Customer ID": f"'{SHOPIFY_ID}",
        "First Name": "Ann",
        "Last Name": "Lee",
        "Email": "Ann@Example.com",
        "Accepts Email Marketing": "yes",
        "Default Address Country Code": "US",
        "Phone": "'(617) 555-0100",
        "Accepts SMS Marketing": "no",
        "Total Spent": "0.00",
        "Total Orders": "3",
        "Tags": "VIP",
    }


def amount_spent(orders: list[dict]) -> Decimal:
    """Total minus Refunded Amount over orders that are not cancelled, from the fixture."""
    return sum(
        (
            Decimal(o["Total"]) - Decimal(o["Refunded Amount"])
            for o in orders
            if not o.get("Cancelled at")
        ),
        Decimal("0"),
    )


def customer_ids(ws: Workspace) -> set[str]:
    return set(ws.table("customers").customer_id.to_pyarrow().to_pylist())


def test_one_customer_by_email_phone_and_shopify_id(workspace: Workspace, tmp_path: Path):
    first = workspace.import_file(write_orders(tmp_path / "orders_export.csv", ann_orders()))
    assert first.customers_created == 1  # two spellings of one email
    row = {**linking_row(), "Phone": "'+16175550100"}
    result = workspace.import_file(write_customers(tmp_path / "customers_export.csv", [row]))
    assert (result.customers_created, result.customers_merged) == (0, 0)
    identities = workspace.to_pandas("identities").sort_values("identity")
    assert list(identities.identity) == [
        "email:ann@example.com",
        "phone:+16175550100",
        f"shopify:{SHOPIFY_ID}",
    ]
    assert list(identities.kind) == ["email", "phone", "shopify"]
    assert identities.customer_id.nunique() == 1
    assert customer_ids(workspace) == set(identities.customer_id)


def test_emails_and_phones_are_normalized_before_linking(workspace: Workspace, tmp_path: Path):
    spellings = [
        ("ann@example.com", "'+16175550100"),
        ("  ANN@EXAMPLE.COM", "'(617) 555-0100"),
        ("Ann@Example.Com ", "'617.555.0100"),
        ("", "'+1 617 555 0100"),
        ("", "'001 617 555 0100"),
    ]
    orders = [
        order(f"#{2001 + i}", email, "2025-03-01 10:00:00 -0500", [(1, "Mug", "50.00", "MUG")])
        | {"Phone": phone}
        for i, (email, phone) in enumerate(spellings)
    ]
    result = workspace.import_file(write_orders(tmp_path / "orders_export.csv", orders))
    assert result.rows_loaded == len(spellings)
    assert result.customers_created == 1
    customers = workspace.to_pandas("customers")
    assert list(customers.email) == ["ann@example.com"]
    assert list(customers.phone) == ["+16175550100"]
    owners = set(workspace.table("orders").customer_id.to_pyarrow().to_pylist())
    assert owners == set(customers.customer_id)


def test_customer_ids_are_opaque_and_stable(tmp_path: Path):
    orders = ann_orders() + [phone_order()]
    path = write_orders(tmp_path / "orders_export.csv", orders)
    ids = []
    for name in ("one", "two"):
        with Workspace(tmp_path / f"{name}.duckdb") as ws:
            ws.import_file(path)
            ids.append(customer_ids(ws))
    assert ids[0] == ids[1]  # same file, fresh workspace: the same ids
    assert len(ids[0]) == 2
    for customer_id in ids[0]:
        assert re.fullmatch(r"c_[0-9a-f]{16}", customer_id)
    with Workspace(tmp_path / "one.duckdb") as ws:
        later = order(
            "#1004", "ann@example.com", "2025-03-09 10:00:00 -0500", [(1, "Cap", "9.00", "")]
        )
        result = ws.import_file(write_orders(tmp_path / "orders_export_2.csv", orders + [later]))
        assert (result.customers_created, result.orders_new, result.orders_updated) == (0, 1, 3)
        assert customer_ids(ws) == ids[0]  # a later export keeps everyone's id


def test_a_customers_export_row_merges_three_profiles(workspace: Workspace, tmp_path: Path):
    """A (email, import 1), B (phone, import 2) and C (Shopify id, import 3) are one person."""
    orders_a, order_b = ann_orders(), phone_order()
    workspace.import_file(write_orders(tmp_path / "orders_a.csv", orders_a))
    workspace.import_file(write_orders(tmp_path / "orders_b.csv", [order_b]))
    events = workspace.import_file(events_file(tmp_path / "events.csv"))
    assert events.customers_created == 1  # only the Shopify id is new
    a = workspace.find_customer("ann@example.com")["customer_id"]
    b = workspace.find_customer("+16175550100")["customer_id"]
    c = workspace.find_customer(f"shopify:{SHOPIFY_ID}")["customer_id"]
    assert len({a, b, c}) == 3

    result = workspace.import_file(
        write_customers(tmp_path / "customers_export.csv", [linking_row()])
    )
    assert (result.rows_loaded, result.customers_created, result.customers_merged) == (1, 0, 2)
    assert customer_ids(workspace) == {a}  # the oldest customer survives with its id
    merges = workspace.to_pandas("merges").sort_values("via_identity")
    assert list(zip(merges.merged_id, merges.surviving_id, merges.via_identity, strict=True)) == [
        (b, a, "phone:+16175550100"),
        (c, a, f"shopify:{SHOPIFY_ID}"),
    ]
    assert set(merges.import_id) == {result.import_id}
    assert set(workspace.table("identities").customer_id.to_pyarrow().to_pylist()) == {a}
    assert set(workspace.table("orders").customer_id.to_pyarrow().to_pylist()) == {a}
    assert set(workspace.table("refunds").customer_id.to_pyarrow().to_pylist()) == {a}
    events = workspace.to_pandas("events")
    assert sorted(events.event_type) == ["added_to_cart", "opened_email", "viewed_product"]
    assert set(events.customer_id) == {a}

    profile = workspace.find_customer(a)
    assert (profile["email"], profile["phone"]) == ("ann@example.com", "+16175550100")
    assert (profile["first_name"], profile["last_name"], profile["tags"]) == ("Ann", "Lee", ["VIP"])
    assert profile["city"] == "Boston"  # only B's order knew it
    assert profile["first_import_id"] == 1

    value = customer_value(workspace.table("orders"), workspace.table("refunds")).to_pandas()
    assert list(value.customer_id) == [a]
    row = value.iloc[0]
    assert row.number_of_orders == 3
    assert row.amount_spent == amount_spent(orders_a + [order_b])
    assert row.refunded == Decimal("20.00")


def test_old_ids_redirect_to_the_survivor(workspace: Workspace, tmp_path: Path):
    workspace.import_file(write_orders(tmp_path / "orders_a.csv", ann_orders()))
    workspace.import_file(write_orders(tmp_path / "orders_b.csv", [phone_order()]))
    workspace.import_file(events_file(tmp_path / "events.csv"))
    old = {
        key: workspace.find_customer(key)["customer_id"]
        for key in ("ann@example.com", "+16175550100", f"shopify:{SHOPIFY_ID}")
    }
    workspace.import_file(write_customers(tmp_path / "customers_export.csv", [linking_row()]))
    survivor = old["ann@example.com"]
    for customer_id in old.values():
        assert workspace.resolve_customer_id(customer_id) == survivor
        assert workspace.find_customer(customer_id)["customer_id"] == survivor
    for key in (
        "ann@example.com",
        " Ann@Example.com",
        "+16175550100",
        "(617) 555-0100",
        SHOPIFY_ID,
        f"shopify:{SHOPIFY_ID}",
        "email:ann@example.com",
        "phone:+16175550100",
    ):
        assert workspace.find_customer(key)["customer_id"] == survivor, key


def test_redirects_follow_a_chain_of_merges(workspace: Workspace, tmp_path: Path):
    """B and C merge into B; later A and B merge into A: C's id still finds A."""
    a_orders = [
        order("#3001", "a@example.com", "2025-03-01 10:00:00 -0500", [(1, "Mug", "50.00", "")])
    ]
    b_orders = [
        order("#3002", "b@example.com", "2025-03-02 10:00:00 -0500", [(1, "Tee", "15.00", "")])
    ]
    c_orders = [
        order("#3003", "c@example.com", "2025-03-03 10:00:00 -0500", [(2, "Cap", "9.50", "")])
    ]
    for i, orders in enumerate((a_orders, b_orders, c_orders)):
        workspace.import_file(write_orders(tmp_path / f"orders_{i}.csv", orders))
    a, b, c = (workspace.find_customer(f"{x}@example.com")["customer_id"] for x in "abc")
    # Shopify customer 1 used b@ and later c@ (a second export after an email change)...
    bc = {"Customer ID": "'1001", "Email": "b@example.com", "Total Spent": "0", "Total Orders": "1"}
    first = workspace.import_file(write_customers(tmp_path / "customers_1.csv", [bc]))
    assert first.customers_merged == 0
    bc2 = {**bc, "Email": "c@example.com", "Phone": "'+16175550111"}
    second = workspace.import_file(write_customers(tmp_path / "customers_2.csv", [bc2]))
    assert second.customers_merged == 1
    assert customer_ids(workspace) == {a, b}
    # ...and an order's phone now ties a@ to the same person.
    d_orders = [
        order("#3004", "a@example.com", "2025-03-04 10:00:00 -0500", [(1, "Pin", "3.00", "")])
        | {"Phone": "'+16175550111"}
    ]
    third = workspace.import_file(write_orders(tmp_path / "orders_3.csv", d_orders))
    assert third.customers_merged == 1
    assert customer_ids(workspace) == {a}
    assert workspace.resolve_customer_id(c) == a
    assert workspace.resolve_customer_id(b) == a
    merges = workspace.to_pandas("merges")
    assert set(merges.surviving_id) == {a}  # the earlier redirect was repointed
    value = customer_value(workspace.table("orders"), workspace.table("refunds")).to_pandas()
    expected = amount_spent(a_orders + b_orders + c_orders + d_orders)
    assert list(value.customer_id) == [a]
    assert (value.number_of_orders.iloc[0], value.amount_spent.iloc[0]) == (4, expected)


def test_people_sharing_nothing_stay_apart(workspace: Workspace, tmp_path: Path):
    rows = [
        {**linking_row(), "Customer ID": "'1", "Email": "ann@example.com", "Phone": ""},
        {**linking_row(), "Customer ID": "'2", "Email": "bob@example.com", "Phone": ""},
        {**linking_row(), "Customer ID": "'3", "Email": "", "Phone": "'+16175550199"},
    ]
    result = workspace.import_file(write_customers(tmp_path / "customers_export.csv", rows))
    assert (result.customers_created, result.customers_merged) == (3, 0)
    assert workspace.to_pandas("merges").empty


def test_unknown_keys_find_nobody(workspace: Workspace, tmp_path: Path):
    workspace.import_file(write_orders(tmp_path / "orders_export.csv", ann_orders()))
    assert workspace.find_customer("nobody@example.com") is None
    assert workspace.find_customer("c_0000000000000000") is None
    assert workspace.resolve_customer_id("c_0000000000000000") is None
    ann = workspace.find_customer("ann@example.com")["customer_id"]
    assert workspace.resolve_customer_id(ann) == ann  # an id that never merged
