"""Profile features on a hand-built customers export and orders, worked by hand."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import ibis
import pytest

from segmint.features.catalog import CATALOG
from segmint.features.profile import profile_features
from segmint.features.tables import Tables
from segmint.workspace import Workspace
from shopify_files import order, write_customers, write_orders

AS_OF = date(2025, 6, 30)
FEATURES = (
    "country",
    "region",
    "city",
    "tags",
    "gender",
    "birth_year",
    "email_domain",
    "customer_added_date",
)


def billed(name: str, email: str, created: str, city: str, province: str, **fields: str) -> dict:
    return order(
        name,
        email,
        created,
        [(1, "Mug", "20.00", "MUG")],
        **{"Billing City": city, "Billing Province": province, "Billing Country": "US"},
        **fields,
    )


@pytest.fixture
def shop(workspace: Workspace, tmp_path: Path) -> Workspace:
    orders = [
        # Ann: billed in Boston, then Cambridge; a cancelled order and one after the as-of day
        # billed elsewhere
        billed("#1001", "ann@mail.example.org", "2025-01-10 09:00:00 -0500", "Boston", "MA"),
        billed("#1002", "ann@mail.example.org", "2025-03-01 09:00:00 -0500", "Cambridge", "MA"),
        billed(
            "#1003",
            "ann@mail.example.org",
            "2025-06-25 09:00:00 -0500",
            "Chicago",
            "IL",
            **{"Cancelled at": "2025-06-25 10:00:00 -0500"},
        ),
        billed("#1004", "ann@mail.example.org", "2025-07-05 09:00:00 -0500", "Denver", "CO"),
        # Bob: one order, no customers-export row
        billed("#1005", "bob@shop.example.com", "2025-05-01 08:00:00 -0500", "Portland", "OR"),
    ]
    workspace.import_file(write_orders(tmp_path / "orders_export.csv", orders))
    customers = [
        {
            "Customer ID": "501",
            "Email": "Ann@Mail.Example.org",
            "First Name": "Ann",
            "Default Address City": "Toronto",
            "Default Address Province Code": "ON",
            "Default Address Country Code": "ca",
            "Tags": "VIP, wholesale",
            "Note": "gender: F; birth_year: 1988; shoe_size: 38",
        },
        {"Customer ID": "502", "Email": "cy@example.com", "First Name": "Cy"},
    ]
    workspace.import_file(write_customers(tmp_path / "customers_export.csv", customers))
    return workspace


def by_email(tables: Tables, as_of: date = AS_OF) -> dict[str, dict]:
    rows = profile_features(tables, as_of).to_pyarrow().to_pylist()
    customers = tables.customers.select("customer_id", "email").to_pyarrow().to_pylist()
    emails = {c["customer_id"]: c["email"] for c in customers}
    assert len(rows) == len(customers) == len({r["customer_id"] for r in rows})
    return {emails[r["customer_id"]]: r for r in rows}


def test_columns_are_registered_in_the_catalog(shop: Workspace):
    columns = profile_features(Tables.of(shop.store), AS_OF).columns
    assert tuple(columns) == ("customer_id", *FEATURES)
    assert (CATALOG["tags"].type, CATALOG["customer_added_date"].type) == ("list", "date")
    assert all(CATALOG[f].group == "Profile" for f in FEATURES)


def test_the_customers_export_is_authoritative(shop: Workspace):
    ann = by_email(Tables.of(shop.store))["ann@mail.example.org"]
    assert (ann["country"], ann["region"], ann["city"]) == ("CA", "ON", "Toronto")
    assert ann["tags"] == ["VIP", "wholesale"]
    assert (ann["gender"], ann["birth_year"]) == ("female", 1988)
    assert ann["email_domain"] == "mail.example.org"
    # first seen with her first order: 09:00 -0500 on 10 January is 14:00 UTC the same day
    assert ann["customer_added_date"] == date(2025, 1, 10)
    # other declared attributes stay in customers.attributes, as JSON
    attributes = shop.table("customers").filter(ibis._.email == "ann@mail.example.org")
    assert json.loads(attributes.attributes.to_pyarrow().to_pylist()[0])["shoe_size"] == "38"


def test_a_customer_known_from_one_order_and_one_from_the_export_only(shop: Workspace):
    found = by_email(Tables.of(shop.store))
    bob, cy = found["bob@shop.example.com"], found["cy@example.com"]
    imports = shop.table("imports").to_pyarrow().to_pylist()
    cy_imported_on = imports[-1]["started_at"].date()
    assert [bob[f] for f in FEATURES] == [
        "US",
        "OR",
        "Portland",
        None,
        None,
        None,
        "shop.example.com",
        date(2025, 5, 1),  # 08:00 -0500 is 13:00 UTC
    ]
    assert [cy[f] for f in FEATURES[:-2]] == [None] * 6
    assert cy["email_domain"] == "example.com"
    # a customers export has no signup time: segmint first saw Cy when it was imported
    assert cy["customer_added_date"] == cy_imported_on


def test_a_blank_address_falls_back_to_the_latest_counted_order(shop: Workspace):
    tables = Tables.of(shop.store)
    blank = tables.customers.mutate(
        country=ibis.null("string"), region=ibis.literal(""), city=ibis.null("string")
    )
    found = by_email(replace(tables, customers=blank))
    ann = found["ann@mail.example.org"]
    # #1002 (Cambridge): #1003 is cancelled and #1004 is after the as-of day
    assert (ann["country"], ann["region"], ann["city"]) == ("US", "MA", "Cambridge")
    assert found["cy@example.com"]["city"] is None
    later = by_email(replace(tables, customers=blank), date(2025, 7, 5))["ann@mail.example.org"]
    assert (later["region"], later["city"]) == ("CO", "Denver")
