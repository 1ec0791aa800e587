"""Shopify customers export: both headers, consent, tags, address, phones, notes, rejects."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest

from segmint.workspace import Workspace
from shopify_files import (
    CUSTOMERS_HEADER,
    CUSTOMERS_HEADER_LEGACY,
    order,
    write_customers,
    write_orders,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "shopify_customers"
CURRENT = FIXTURES / "customers_export.csv"
LEGACY = FIXTURES / "customers_export_legacy.csv"


def fixture_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def by_name(ws: Workspace) -> dict[str, dict]:
    rows = ws.table("customers").to_pyarrow().to_pylist()
    return {row["first_name"]: row for row in rows}


def base_row(**fields: str) -> dict[str, str]:
    row = {
        "First Name": "Eve",
        "Email": "eve@example.com",
        "Accepts Email Marketing": "no",
        "Accepts SMS Marketing": "no",
        "Total Spent": "0.00",
        "Total Orders": "0",
        "Tax Exempt": "no",
    }
    row.update(fields)
    return row


def test_headers_match_the_committed_fixtures():
    for path, header in ((CURRENT, CUSTOMERS_HEADER), (LEGACY, CUSTOMERS_HEADER_LEGACY)):
        with path.open(newline="", encoding="utf-8") as fh:
            assert next(csv.reader(fh)) == header


def test_current_export_loads_every_profile_field(workspace: Workspace):
    result = workspace.import_file(CURRENT)
    rows = fixture_rows(CURRENT)
    assert result.format == "shopify-customers"
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (len(rows), 4, 0)
    assert result.customers_created == 4
    people = by_name(workspace)

    ann = people["Ann"]
    assert (ann["email"], ann["phone"]) == ("ann@example.com", "+16175550100")
    assert (ann["email_consent"], ann["sms_consent"]) == ("subscribed", "subscribed")
    assert ann["tags"] == ["VIP", "newsletter"]
    assert (ann["company"], ann["address1"], ann["city"], ann["region"], ann["country"]) == (
        "Lee Design",
        "12 Beacon St",
        "Boston",
        "MA",
        "US",
    )
    assert ann["zip"] == "02134"  # the protective apostrophe is gone, the zero stays
    assert (ann["gender"], ann["birth_year"]) == ("female", 1988)
    assert json.loads(ann["attributes"]) == {"gender": "female", "birth_year": "1988"}
    assert ann["note"] == "gender: female\nbirth_year: 1988"

    bob = people["Bob"]
    assert bob["email"] == "bob@example.com"  # trimmed and lower-cased
    assert bob["phone"] == "+442079460958"  # Default Address Phone, national in GB
    assert (bob["email_consent"], bob["sms_consent"]) == ("not_subscribed", "not_subscribed")
    assert bob["tags"] is None
    assert bob["attributes"] is None and bob["note"] == "Met him at the Berlin fair"

    carla = people["Carla"]
    assert carla["email"] is None
    assert carla["phone"] == "+34612345678"
    assert (carla["email_consent"], carla["sms_consent"]) == ("not_subscribed", "subscribed")
    assert carla["tags"] == ["wholesale"]
    assert (carla["gender"], carla["birth_year"]) == ("female", 1995)
    assert json.loads(carla["attributes"]) == {
        "gender": "F",
        "birth_year": "1995",
        "shoe_size": "38",
    }

    assert people["Dee"]["email"] is None  # not shaped like an address; the Customer ID links

    for row in rows:
        stored = people[row["First Name"]]
        assert stored["reported_total_spent"] == Decimal(row["Total Spent"])
        assert stored["reported_total_orders"] == int(row["Total Orders"])
    total = sum(p["reported_total_spent"] for p in people.values())
    assert total == sum(Decimal(r["Total Spent"]) for r in rows)


def test_identities_are_namespaced(workspace: Workspace):
    workspace.import_file(CURRENT)
    identities = workspace.to_pandas("identities")
    ann = workspace.find_customer("7985351721238")
    assert ann["first_name"] == "Ann"
    mine = identities[identities.customer_id == ann["customer_id"]]
    assert sorted(mine.identity) == [
        "email:ann@example.com",
        "phone:+16175550100",
        "shopify:7985351721238",
    ]
    shopify = sorted(i for i in identities.identity if i.startswith("shopify:"))
    expected = sorted(f"shopify:{r['Customer ID'].lstrip(chr(39))}" for r in fixture_rows(CURRENT))
    assert shopify == expected
    assert workspace.find_customer("+442079460958")["first_name"] == "Bob"
    assert workspace.find_customer("phone:+34612345678")["first_name"] == "Carla"


def test_legacy_export_gives_the_same_profiles(workspace: Workspace, tmp_path: Path):
    result = workspace.import_file(LEGACY)
    assert result.format == "shopify-customers"
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (3, 3, 0)
    legacy = by_name(workspace)
    with Workspace(tmp_path / "current.duckdb") as current_ws:
        current_ws.import_file(CURRENT)
        current = by_name(current_ws)
    same = (
        "email",
        "phone",
        "last_name",
        "company",
        "address1",
        "city",
        "region",
        "country",
        "zip",
        "email_consent",
        "tags",
        "note",
        "gender",
        "birth_year",
        "attributes",
        "reported_total_spent",
        "reported_total_orders",
    )
    for name in ("Ann", "Bob", "Carla"):
        assert {c: legacy[name][c] for c in same} == {c: current[name][c] for c in same}, name
        assert legacy[name]["sms_consent"] is None  # the legacy header has no SMS column
    kinds = set(workspace.table("identities").kind.to_pyarrow().to_pylist())
    assert kinds == {"email", "phone"}  # no Customer ID column


@pytest.mark.parametrize(
    ("phone", "address_phone", "country", "expected"),
    [
        ("'+16175550100", "", "US", "+16175550100"),
        ("'(617) 555-0100", "", "US", "+16175550100"),
        ("'617.555.0100", "", "", "+16175550100"),  # no country: default_phone_country US
        ("'1-617-555-0100", "", "CA", "+16175550100"),
        ("'0044 20 7946 0958", "", "US", "+442079460958"),
        ("'07700 900123", "", "GB", "+447700900123"),
        ("", "'+61 2 9374 4000", "AU", "+61293744000"),
        ("'555-0100", "", "US", None),  # too short to be a number anywhere
        ("'555-0100", "'+1 617 555 0100", "US", "+16175550100"),  # the address phone is good
    ],
)
def test_phones_become_e164(
    workspace: Workspace, tmp_path: Path, phone, address_phone, country, expected
):
    row = base_row(
        **{
            "Customer ID": "'42",
            "Phone": phone,
            "Default Address Phone": address_phone,
            "Default Address Country Code": country,
        }
    )
    result = workspace.import_file(write_customers(tmp_path / "customers_export.csv", [row]))
    assert result.rows_loaded == 1
    assert workspace.find_customer("42")["phone"] == expected


def test_broken_rows_are_rejected_with_row_and_column(workspace: Workspace, tmp_path: Path):
    good = base_row(**{"Customer ID": "'1", "First Name": "Ann", "Email": "ann@example.com"})
    rows = [
        good,
        base_row(**{"Customer ID": "'2", "Accepts Email Marketing": "maybe"}),
        base_row(**{"Customer ID": "'3", "Total Spent": "1.234,50"}),
        base_row(**{"Customer ID": "'4", "Total Orders": "2.5"}),
        base_row(**{"Customer ID": "'5", "Total Spent": "-3.00"}),
        base_row(**{"Customer ID": "", "Email": "not-an-email", "Phone": ""}),
        base_row(**{"Customer ID": "", "Email": "", "Phone": ""}),
        good,
    ]
    result = workspace.import_file(write_customers(tmp_path / "customers_export.csv", rows))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (8, 1, 7)
    assert result.duplicate_rows == 1
    got = [
        (r["row_number"], r["column"], r["raw_value"], r["reason"])
        for r in workspace.rejects().to_pylist()
    ]
    nobody = "no Customer ID, Email or Phone: nobody to link it to"
    assert got == [
        (3, "Accepts Email Marketing", "maybe", "not yes/no"),
        (4, "Total Spent", "1.234,50", "not a number"),
        (5, "Total Orders", "2.5", "not a whole number"),
        (6, "Total Spent", "-3.00", "total spent below 0"),
        (7, "Email", "not-an-email", nobody),
        (8, "Email", None, nobody),
        (9, None, None, "exact duplicate (of row 2)"),
    ]
    assert [c["first_name"] for c in workspace.table("customers").to_pyarrow().to_pylist()] == [
        "Ann"
    ]
    imports = workspace.imports().to_pylist()[0]
    assert imports["rows_read"] == imports["rows_loaded"] + imports["rows_rejected"]


def test_customers_export_is_authoritative_over_orders(workspace: Workspace, tmp_path: Path):
    first = order(
        "#1001",
        "ann@example.com",
        "2025-03-01 10:00:00 -0500",
        [(1, "Mug", "50.00", "MUG")],
        **{
            "Billing Name": "Annie Smith",
            "Billing City": "Cambridge",
            "Billing Zip": "'02139",
            "Accepts Marketing": "yes",
        },
    )
    workspace.import_file(write_orders(tmp_path / "orders_export.csv", [first]))
    row = base_row(
        **{
            "Customer ID": "'7985351721238",
            "First Name": "Ann",
            "Last Name": "Lee",
            "Email": "ANN@example.com",
            "Accepts Email Marketing": "no",
            "Default Address City": "",  # blank: what the orders said stays
            "Tags": "VIP",
        }
    )
    result = workspace.import_file(write_customers(tmp_path / "customers_export.csv", [row]))
    assert (result.customers_created, result.customers_merged) == (0, 0)
    ann = workspace.find_customer("ann@example.com")
    assert (ann["first_name"], ann["last_name"]) == ("Ann", "Lee")
    assert ann["email_consent"] == "not_subscribed"
    assert (ann["city"], ann["zip"]) == ("Cambridge", "02139")
    assert ann["tags"] == ["VIP"]

    # A later orders export does not overwrite what the customers export said.
    later = order(
        "#1002",
        "ann@example.com",
        "2025-03-09 10:00:00 -0500",
        [(1, "Cap", "12.00", "CAP")],
        **{"Billing Name": "A. Smith", "Accepts Marketing": "yes"},
    )
    workspace.import_file(write_orders(tmp_path / "orders_export_2.csv", [first, later]))
    ann = workspace.find_customer("7985351721238")
    assert (ann["first_name"], ann["last_name"], ann["email_consent"]) == (
        "Ann",
        "Lee",
        "not_subscribed",
    )
    assert workspace.table("customers").count().execute() == 1


def test_a_later_export_updates_and_the_same_file_is_skipped(workspace: Workspace, tmp_path: Path):
    rows = fixture_rows(CURRENT)
    first = workspace.import_file(CURRENT)
    again = workspace.import_file(CURRENT)
    assert again.skipped and again.import_id == first.import_id
    assert workspace.table("imports").count().execute() == 1

    rows[0].update({"Tags": "VIP, wholesale, churn-risk", "Accepts SMS Marketing": "no"})
    rows[0]["Total Spent"] = str(Decimal(rows[0]["Total Spent"]) + Decimal("40.00"))
    path = tmp_path / "customers_export_2.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=CUSTOMERS_HEADER, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    later = workspace.import_file(path)
    assert (later.rows_loaded, later.customers_created, later.customers_merged) == (4, 0, 0)
    ann = workspace.find_customer("ann@example.com")
    assert ann["tags"] == ["VIP", "wholesale", "churn-risk"]
    assert ann["sms_consent"] == "not_subscribed"
    assert ann["reported_total_spent"] == Decimal("192.20")
    assert workspace.table("customers").count().execute() == 4
