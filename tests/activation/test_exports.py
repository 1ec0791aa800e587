"""Exports against the platforms' specs, on hand-built customers imported from Shopify files.

Hashes are recomputed here with hashlib from values normalized by hand, independently of
segmint's normalizers.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from segmint.activation.destinations import ExportOptions
from segmint.activation.export import export_segment
from segmint.activation.suppressions import add_values
from segmint.workspace import Workspace
from shopify_files import order, write_customers, write_orders

SEGMENTS_YAML = """\
segments:
  - slug: buyers
    name: Buyers, all of them
    rule: "number_of_orders >= 1"
    description: Everyone who ordered.
    action: Test audience.
  - slug: big_spenders
    name: Big spenders
    rule: "amount_spent >= 500"
    description: Spent 500 or more.
    action: Test exclusion.
"""

#: Each test customer: the Shopify customers row, and what the export funnels should do.
PEOPLE: list[dict[str, Any]] = [
    {  # mixed case and spaces in the email, punctuation in the phone, ZIP+4
        "Customer ID": "'1001",
        "First Name": "  Ann ",
        "Last Name": "Lee-Smith",
        "Email": "  Ann.Lee@Example.COM ",
        "Accepts Email Marketing": "yes",
        "Default Address City": "New York",
        "Default Address Province Code": "NY",
        "Default Address Country Code": "US",
        "Default Address Zip": "'10001-1234",
        "Phone": "+1 (500) 555-0006",
        "Accepts SMS Marketing": "yes",
        "Tags": "VIP, wholesale",
    },
    {  # accents everywhere, a Brazilian number
        "Customer ID": "'1002",
        "First Name": "José María",
        "Last Name": "Ñúñez",
        "Email": "jose@example.com.br",
        "Accepts Email Marketing": "yes",
        "Default Address City": "São Paulo",
        "Default Address Province Code": "SP",
        "Default Address Country Code": "BR",
        "Default Address Zip": "01310-100",
        "Phone": "+55 11 5555 0000",
        "Accepts SMS Marketing": "no",
        "Tags": "",
    },
    {  # no email consent: only ad audiences and plain files
        "Customer ID": "'1003",
        "First Name": "Olivia",
        "Last Name": "O'Brien",
        "Email": "olivia@example.co.uk",
        "Accepts Email Marketing": "no",
        "Default Address City": "London",
        "Default Address Country Code": "GB",
        "Default Address Zip": "SW1A 1AA",
        "Phone": "+44 7911 123456",
        "Accepts SMS Marketing": "no",
        "Tags": 'retail, "quoted"',
    },
    {  # bounced (an event): never exported
        "Customer ID": "'1004",
        "First Name": "Bo",
        "Last Name": "Unce",
        "Email": "bounce@example.com",
        "Accepts Email Marketing": "yes",
        "Default Address Country Code": "US",
        "Phone": "",
        "Tags": "",
    },
    {  # globally suppressed by phone: never exported
        "Customer ID": "'1005",
        "First Name": "Sue",
        "Last Name": "Pressed",
        "Email": "sue@example.com",
        "Accepts Email Marketing": "yes",
        "Default Address Country Code": "US",
        "Phone": "+1 500 555 0011",
        "Tags": "",
    },
    {  # a big spender: excluded when big_spenders is excluded
        "Customer ID": "'1006",
        "First Name": "Rich",
        "Last Name": "Buyer",
        "Email": "rich@example.com",
        "Accepts Email Marketing": "yes",
        "Default Address Country Code": "US",
        "Default Address Zip": "94303",
        "Phone": "",
        "Tags": "",
    },
]
EMAILS = [
    "ann.lee@example.com",
    "jose@example.com.br",
    "olivia@example.co.uk",
    "bounce@example.com",
    "sue@example.com",
    "rich@example.com",
]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("export_shop")
    (folder / "segments.yaml").write_text(SEGMENTS_YAML)
    ws = Workspace(folder / "shop.duckdb")
    ws.import_file(write_customers(folder / "customers_export.csv", PEOPLE))
    orders = [
        order(
            f"#{1000 + i}",
            email,
            "2024-03-01 10:00:00 -0500",
            [(1, "Boots", "600.00" if email.startswith("rich") else "40.00", "B-1")],
        )
        for i, email in enumerate(EMAILS)
    ]
    ws.import_file(write_orders(folder / "orders_export.csv", orders))
    bounced = ws.find_customer("bounce@example.com")["customer_id"]
    ws.store.insert("events", _event(bounced, "bounced_email"))
    add_values(ws.store, ["+15005550011"], "legal request", "command line", "US")
    ws.refresh()
    yield ws, folder
    ws.close()


def _event(customer_id: str, kind: str) -> Any:
    import pyarrow as pa

    return pa.Table.from_pylist(
        [
            {
                "event_id": f"test-{kind}",
                "customer_id": customer_id,
                "event_type": kind,
                "event_name": "Bounced Email",
                "occurred_at": datetime(2024, 3, 2, 12),
                "source": "test",
            }
        ]
    )


def export(shop: Any, destination: str, name: str, **options: Any) -> tuple[Any, Path]:
    ws, folder = shop
    suffix = "parquet" if destination == "parquet" else "csv"
    out = folder / f"{name}.{suffix}"
    exclude = options.pop("exclude", None)
    result = export_segment(ws.store, "buyers", destination, out, exclude, ExportOptions(**options))
    return result, out


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "no byte-order mark"
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
    return rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_klaviyo_profile_import(shop: Any) -> None:
    result, path = export(shop, "klaviyo", "klaviyo", features=("number_of_orders",))
    header, rows = read_csv(path)
    assert header == [
        "Email",
        "First Name",
        "Last Name",
        "Phone Number",
        "City",
        "Region",
        "Country",
        "Zip Code",
        "number_of_orders",
        "segmint: Buyers, all of them",
    ]
    by_email = {r["Email"]: r for r in rows}
    # consent: Olivia said no; bounced and suppressed never go out
    assert sorted(by_email) == ["ann.lee@example.com", "jose@example.com.br", "rich@example.com"]
    ann = by_email["ann.lee@example.com"]
    assert ann["Phone Number"] == "+15005550006"  # E.164
    assert ann["Zip Code"] == "10001-1234" and ann["Region"] == "NY"
    assert ann["number_of_orders"] == "1"
    assert ann["segmint: Buyers, all of them"] == "true"
    # the header holding a comma is quoted in the bytes
    assert (
        path.read_text(encoding="utf-8").splitlines()[0].endswith('"segmint: Buyers, all of them"')
    )
    assert result.funnel.as_dict() == {
        "members": 6,
        "no_consent": 1,
        "suppressed": 2,
        "excluded": 0,
        "no_identifier": 0,
        "exported": 3,
    }


def test_klaviyo_sms_needs_sms_consent(shop: Any) -> None:
    result, path = export(shop, "klaviyo", "klaviyo_sms", channel="sms")
    header, rows = read_csv(path)
    assert header[0] == "Phone Number"
    assert [r["Phone Number"] for r in rows] == ["+15005550006"]  # only Ann said yes to SMS
    assert result.funnel.no_consent == 5 and result.funnel.exported == 1


def test_mailchimp_tags_quote_a_tag_with_a_comma(shop: Any) -> None:
    _, path = export(shop, "mailchimp", "mailchimp")
    header, rows = read_csv(path)
    assert header == ["Email Address", "First Name", "Last Name", "Tags"]
    assert {r["Tags"] for r in rows} == {'"segmint: Buyers, all of them"'}
    raw = path.read_bytes().decode("utf-8")
    assert '"""segmint: Buyers, all of them"""' in raw  # the CSV cell quotes the quoted tag


def normalized_meta(person: dict[str, str]) -> dict[str, str]:
    """Meta's rules, by hand, for the people above."""
    letters = {
        "  Ann ": "ann",
        "Lee-Smith": "leesmith",
        "José María": "josémaría",
        "Ñúñez": "ñúñez",
        "Olivia": "olivia",
        "O'Brien": "obrien",
        "Rich": "rich",
        "Buyer": "buyer",
        "New York": "newyork",
        "São Paulo": "sãopaulo",
        "London": "london",
    }
    zips = {"'10001-1234": "10001", "01310-100": "01310-100", "SW1A 1AA": "sw1a1", "94303": "94303"}
    phones = {
        "+1 (500) 555-0006": "15005550006",
        "+55 11 5555 0000": "551155550000",
        "+44 7911 123456": "447911123456",
    }
    values = {
        "email": person["Email"].strip().lower(),
        "phone": phones.get(person.get("Phone", ""), ""),
        "fn": letters.get(person["First Name"], ""),
        "ln": letters.get(person["Last Name"], ""),
        "zip": zips.get(person.get("Default Address Zip", ""), ""),
        "ct": letters.get(person.get("Default Address City", ""), ""),
        "st": person.get("Default Address Province Code", "").lower(),
        "country": person["Default Address Country Code"].lower(),
    }
    return {k: sha(v) if v else "" for k, v in values.items()}


def test_meta_customer_list_is_hashed_by_metas_rules(shop: Any) -> None:
    result, path = export(shop, "meta", "meta", value="amount_spent")
    header, rows = read_csv(path)
    assert header == ["email", "phone", "fn", "ln", "zip", "ct", "st", "country", "value"]
    expected = {
        normalized_meta(p)["email"]: {**normalized_meta(p)}
        for p in PEOPLE
        if p["Email"].strip().lower() not in ("bounce@example.com", "sue@example.com")
    }
    assert {r["email"] for r in rows} == set(expected)
    for row in rows:
        want = expected[row["email"]]
        assert {k: row[k] for k in want} == want
        assert re.fullmatch(r"[0-9]+(\.[0-9]{1,2})?", row["value"])
    values = sorted(float(r["value"]) for r in rows)
    assert values == [40.0, 40.0, 40.0, 600.0]
    # ads need no email consent: Olivia is in; the bounced and the suppressed are not
    assert result.funnel.as_dict() == {
        "members": 6,
        "no_consent": 0,
        "suppressed": 2,
        "excluded": 0,
        "no_identifier": 0,
        "exported": 4,
    }
    assert any("fewer than meta's minimum of 100" in w for w in result.warnings)


def test_google_customer_match_hashes_and_plain_columns(shop: Any) -> None:
    _, path = export(shop, "google-ads", "google")
    header, rows = read_csv(path)
    assert header == ["Email", "Phone", "First Name", "Last Name", "Country", "Zip"]
    ann = next(r for r in rows if r["Email"] == sha("ann.lee@example.com"))
    assert ann["Phone"] == sha("+15005550006")  # E.164, then hashed
    assert ann["First Name"] == sha("ann") and ann["Last Name"] == sha("lee-smith")
    assert ann["Country"] == "US" and ann["Zip"] == "10001-1234"  # plain, ZIP+4 allowed
    jose = next(r for r in rows if r["Email"] == sha("jose@example.com.br"))
    assert jose["First Name"] == sha("josé maría") and jose["Zip"] == "01310-100"


@pytest.mark.parametrize("destination", ["meta", "google-ads"])
def test_ad_files_hold_no_raw_identifier(shop: Any, destination: str) -> None:
    _, path = export(shop, destination, f"scan_{destination}")
    raw = path.read_bytes().decode("utf-8").lower()
    secrets = [
        *EMAILS,
        "500555",
        "5005550006",
        "7911123456",
        "ann",
        "lee",
        "josé",
        "olivia",
        "brien",
        "rich",
        "buyer",
        "london",
        "são paulo",
    ]
    header_free = raw.split("\n", 1)[1]
    for secret in secrets:
        assert secret not in header_free, f"{secret!r} appears in the {destination} file"


def test_shopify_tags_keep_the_imported_tags(shop: Any) -> None:
    result, path = export(shop, "shopify-tags", "shopify")
    header, rows = read_csv(path)
    assert header == ["First Name", "Last Name", "Email", "Phone", "Tags"]
    tags = {r["Email"]: r["Tags"] for r in rows}
    assert tags["ann.lee@example.com"] == "VIP, wholesale, segmint: Buyers, all of them"
    assert tags["jose@example.com.br"] == "segmint: Buyers, all of them"
    assert any("latest customers import" in w for w in result.warnings)


def test_exclusion_and_parquet(shop: Any) -> None:
    result, path = export(
        shop, "parquet", "plain", exclude=["big_spenders"], features=("amount_spent",)
    )
    table = pq.read_table(path)
    assert table.column_names == [
        "customer_id",
        "email",
        "phone",
        "first_name",
        "last_name",
        "country",
        "segment",
        "amount_spent",
    ]
    assert "rich@example.com" not in table["email"].to_pylist()
    assert result.funnel.excluded == 1
    f = result.funnel
    assert f.members == f.no_consent + f.suppressed + f.excluded + f.no_identifier + f.exported


def test_every_export_is_recorded_with_its_members(shop: Any) -> None:
    ws, _ = shop
    result, path = export(shop, "csv", "recorded")
    exports = ws.store.table("exports")
    row = exports.filter(exports.export_id == result.export_id).to_pyarrow().to_pylist()[0]
    assert row["checksum"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert row["exported"] == result.funnel.exported == 4
    assert json.loads(row["warnings"]) == result.warnings
    members = ws.store.table("export_members")
    ids = members.filter(members.export_id == result.export_id).customer_id.to_pyarrow()
    _, rows = read_csv(path)
    assert sorted(ids.to_pylist()) == sorted(r["customer_id"] for r in rows)


def test_changes_since_last(shop: Any, segmint_cli: Callable[..., Any]) -> None:
    ws, folder = shop
    first, _ = export(shop, "mailchimp", "delta_base")
    add_values(ws.store, ["jose@example.com.br"], "asked by phone", "command line", "US")
    result = export_segment(
        ws.store, "buyers", "mailchimp", folder / "delta.csv", changes_since_last=True
    )
    entered, left = result.files
    assert entered.name == "delta.entered.csv" and left.name == "delta.left.csv"
    assert read_csv(entered)[1] == []
    assert [r["Email Address"] for r in read_csv(left)[1]] == ["jose@example.com.br"]
    assert (result.entered, result.left) == (0, 1)
    assert result.funnel.exported == first.funnel.exported - 1


def test_export_command(shop: Any, segmint_cli: Callable[..., Any]) -> None:
    ws, folder = shop
    out = folder / "cli.csv"
    done = segmint_cli(ws, "export", "buyers", "--to", "meta", "--out", str(out), "--json")
    record = json.loads(done.stdout)[0]
    steps = ("no_consent", "suppressed", "excluded", "no_identifier", "exported")
    assert record["files"] == [str(out)] and record["members"] == 6
    assert sum(record[s] for s in steps) == 6
    assert f"Warning: {record['exported']} customers exported, fewer than meta's" in done.stderr
    failed = segmint_cli(ws, "export", "buyer", "--to", "meta", code=1)
    assert failed.stderr.startswith("Error: no segment named 'buyer'")
    assert "did you mean 'buyers'?" in failed.stderr
    wrong = segmint_cli(ws, "export", "buyers", "--to", "tiktok", code=1)
    assert wrong.stderr.startswith("Error: --to: unknown destination 'tiktok'")


def test_suppress_command(shop: Any, segmint_cli: Callable[..., Any]) -> None:
    ws, folder = shop
    listing = folder / "suppress.csv"
    listing.write_text("Email,Reason\nnew@example.com,x\nnot-an-address,y\n+44 20 7946 0958,z\n")
    done = segmint_cli(ws, "suppress", "add", str(listing), "--reason", "old list", "--json")
    assert json.loads(done.stdout) == [
        {"read": 3, "added": 2, "already_suppressed": 0, "rejected": 1}
    ]
    assert "row 3: 'not-an-address'" in done.stderr
    bad = segmint_cli(ws, "suppress", "add", "nobody", "--reason", "x", code=1)
    assert bad.stderr.startswith("Error: 'nobody': ")
