"""The right to erasure on a small hand-built workspace.

Ann has a Shopify customer row, orders (one refunded, one with two lines), an order rejected
for her email written with a display name, Klaviyo events (one a Placed Order unknown to the
store, which becomes an order), features, segment memberships, a prediction, export history
and a row in a table the schema does not know (as later features add tables). Dee was two
customers merged by email. After ``segmint erase``, every table of the file, enumerated by a
separate DuckDB connection, is searched for their identifiers.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from segmint.activation import erasure
from segmint.activation.erasure import ERASURE_REASON, erase
from segmint.activation.export import export_segment
from segmint.cli import erase as erase_cli
from segmint.cli.app import app
from segmint.errors import SegmintError
from segmint.workspace import Workspace
from shopify_files import order, write_customers, write_orders

ANN_EMAIL = "ann.erase@example.com"
ANN_PHONE = "+14155550134"
ANN_SHOPIFY = "7985351729001"
ANN_NAMES = ("Annika", "Erasmus-Vale")
DEE_EMAIL = "dee.merge@example.com"
DEE_PHONE = "+447700900456"
DEE_SHOPIFY = "7985351729004"
EXTRA_TABLE = "loyalty_points"
EVENTS_HEADER = ["Event", "Timestamp", "Email", "Phone Number", "$event_id", "$value"]
MUG = [(1, "Mug", "20.00", "MUG")]
CAP_AND_HAT = [(1, "Cap", "15.00", "CAP"), (1, "Hat", "9.00", "HAT")]


def ann_orders() -> list[dict[str, Any]]:
    billing = {"Billing Name": " ".join(ANN_NAMES), "Billing Phone": "(415) 555-0134"}
    return [
        order(
            "#1001",
            ANN_EMAIL,
            "2025-03-01 10:00:00 -0500",
            [*MUG, (2, "Cap", "15.00", "CAP")],
            **billing,
            **{"Refunded Amount": "10.00"},
        ),
        order("#1004", ANN_EMAIL, "2025-05-01 10:00:00 -0500", MUG, **billing),
    ]


def other_orders() -> list[dict[str, Any]]:
    return [
        order("#1002", "bob@example.com", "2025-03-02 10:00:00 -0500", MUG),
        order("#1005", "bob@example.com", "2025-05-02 10:00:00 -0500", MUG),
        order("#1003", "cy@example.com", "2025-04-01 10:00:00 -0500", MUG),
        order("#1006", DEE_EMAIL, "2025-04-02 10:00:00 -0500", MUG),
    ]


def write_events(path: Path, rows: list[list[str]], customer_ids: list[str] | None = None) -> Path:
    """A Klaviyo events CSV; ``customer_ids`` adds a ``customer_id`` column (segmint ids)."""
    header = [*EVENTS_HEADER, "customer_id"] if customer_ids else EVENTS_HEADER
    if customer_ids:
        rows = [[*row, cid] for row, cid in zip(rows, customer_ids, strict=True)]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def build_shop(folder: Path) -> Path:
    """The workspace file every test starts from (a copy of it)."""
    path = folder / "shop.duckdb"
    ws = Workspace(path)
    rejected = order(
        "#1009", f"{ANN_NAMES[0]} <{ANN_EMAIL.upper()}>", "2025-05-03 10:00:00 -0500", MUG
    )
    ws.import_file(
        write_orders(folder / "orders_export.csv", [*ann_orders(), *other_orders(), rejected])
    )
    customers = [
        {
            "Customer ID": f"'{ANN_SHOPIFY}",
            "First Name": ANN_NAMES[0],
            "Last Name": ANN_NAMES[1],
            "Email": ANN_EMAIL,
            "Phone": "(415) 555-0134",
            "Default Address Country Code": "US",
        },
        {"Customer ID": "7985351729002", "First Name": "Bob", "Email": "bob@example.com"},
        # Dee by phone only: a second customer until the next export links the two
        {"Customer ID": DEE_SHOPIFY, "Phone": DEE_PHONE, "Default Address Country Code": "GB"},
    ]
    ws.import_file(write_customers(folder / "customers_export.csv", customers))
    dee = [{"Customer ID": DEE_SHOPIFY, "Email": DEE_EMAIL, "First Name": "Deirdre"}]
    ws.import_file(write_customers(folder / "customers_export_june.csv", dee))
    events = [
        ["Received Email", "2025-03-05T10:00:00-05:00", ANN_EMAIL, "", "", ""],
        ["Opened Email", "2025-03-05T11:00:00-05:00", ANN_EMAIL, "", "", ""],
        ["Placed Order", "2025-05-10T11:00:00-05:00", ANN_EMAIL, "", "#3001", "42.00"],
        ["Opened Email", "2025-03-06T11:00:00-05:00", "bob@example.com", "", "", ""],
        ["Opened Email", "2025-03-07T11:00:00-05:00", DEE_EMAIL, "", "", ""],
    ]
    ws.import_file(write_events(folder / "klaviyo_events.csv", events))
    ws.refresh()
    ids = ws.table("customers").customer_id.to_pyarrow().to_pylist()
    _add_history(ws, ids)
    ws.close()
    return path


def _add_history(ws: Workspace, ids: list[str]) -> None:
    """Export history, predictions and a table outside the schema, for every customer."""
    now = datetime(2025, 6, 1)
    export = {"export_id": [1], "segment": ["all"], "destination": ["csv"], "created_at": [now]}
    ws.store.insert("exports", pa.table(export))
    ws.store.insert("export_members", pa.table({"export_id": [1] * len(ids), "customer_id": ids}))
    predictions = {"run_id": [1] * len(ids), "customer_id": ids, "p_alive": [0.5] * len(ids)}
    ws.store.insert("predictions", pa.table(predictions))
    points = ibis.memtable({"customer_id": ids, "points": list(range(len(ids)))})
    ws.store.con.create_table(EXTRA_TABLE, points)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_shop(tmp_path_factory.mktemp("erasure_template"))


@pytest.fixture
def shop(template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the template workspace (closed: open it with :class:`Workspace`)."""
    path = tmp_path / "shop.duckdb"
    shutil.copyfile(template, path)
    return path


# -- reading the file back independently ----------------------------------------------------
def file_rows(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table of a (closed) workspace file, read by DuckDB itself."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [name for (name,) in con.execute("SHOW TABLES").fetchall()]
        return {
            t: [_hashable(r) for r in con.execute(f'SELECT * FROM "{t}"').fetchall()]
            for t in tables
        }


def _hashable(row: tuple) -> tuple:
    return tuple(tuple(c) if isinstance(c, list) else c for c in row)


def row_counts(path: Path) -> dict[str, int]:
    return {t: len(rows) for t, rows in file_rows(path).items()}


def needles(path: Path, key: str) -> tuple[list[str], list[str]]:
    """Texts (lower-cased) that identify the customer ``key`` names, and their phones'
    national digits: ids, merged ids, source ids, email, names, order ids and numbers."""
    with Workspace(path) as ws:
        customer = ws.find_customer(key)
        assert customer is not None
        merges = ws.table("merges")
        merged = merges.filter(merges.surviving_id == customer["customer_id"]).merged_id
        ids = [customer["customer_id"], *merged.to_pyarrow().to_pylist()]
        identities = ws.table("identities").filter(ibis._.customer_id.isin(ids))
        identities = identities.to_pyarrow().to_pylist()
        orders = ws.table("orders").filter(ibis._.customer_id.isin(ids)).to_pyarrow().to_pylist()
    texts = set(ids)
    texts |= {i["identity"].split(":", 1)[1] for i in identities}
    texts |= {o[c] for o in orders for c in ("order_id", "order_number") if o[c]}
    texts |= {customer[c] for c in ("email", "first_name", "last_name") if customer[c]}
    phones = [i["identity"][len("phone:") :] for i in identities if i["kind"] == "phone"]
    national = [p[2:] if p.startswith("+1") else p[3:] for p in phones]
    return sorted(t.lower() for t in texts), national


def mentions(row: tuple, texts: list[str], digits: list[str]) -> bool:
    cells = [str(cell) for cell in row if cell is not None]
    text = " ".join(cells).lower()
    numbers = " ".join("".join(ch for ch in cell if ch.isdigit()) for cell in cells)
    return any(t in text for t in texts) or any(d in numbers for d in digits)


def found_anywhere(path: Path, texts: list[str], digits: list[str]) -> dict[str, list[tuple]]:
    """Table -> the rows of the file that mention any of ``texts`` or ``digits``."""
    return {
        table: hits
        for table, rows in file_rows(path).items()
        if (hits := [r for r in rows if mentions(r, texts, digits)])
    }


def customer_id(path: Path, key: str) -> str:
    with Workspace(path) as ws:
        return ws.find_customer(key)["customer_id"]


def erased(path: Path, key: str) -> erasure.ErasureResult:
    with Workspace(path) as ws:
        return erase(ws.store, key, "US")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- erasing --------------------------------------------------------------------------------
def test_an_erased_customer_is_found_in_no_table(shop: Path, segmint_cli: Callable) -> None:
    texts, digits = needles(shop, ANN_EMAIL)
    assert {ANN_EMAIL, ANN_SHOPIFY, "#1001", "#3001", "annika"} <= set(texts)
    hits = found_anywhere(shop, texts, digits)
    assert {"customers", "identities", "orders", "order_lines", "refunds", "events"} <= set(hits)
    assert {"rejects", "segment_members", "customer_features", "export_members"} <= set(hits)
    assert {"predictions", EXTRA_TABLE} <= set(hits)
    ann = customer_id(shop, ANN_EMAIL)

    out = segmint_cli(shop, "erase", ANN_EMAIL.upper(), "--yes", "--json")

    assert found_anywhere(shop, texts, digits) == {}
    result = json.loads(out.stdout)[0]
    assert result["customer_ids"] == [ann]
    assert result["deleted"] == {t: len(rows) for t, rows in hits.items()}
    assert result["tombstones"] == 4  # email, phone, Shopify id, segmint id


def test_other_customers_rows_are_untouched(shop: Path) -> None:
    texts, digits = needles(shop, ANN_PHONE)
    before = file_rows(shop)

    result = erased(shop, "(415) 555-0134")

    after = file_rows(shop)
    for table, rows in before.items():
        gone = Counter(rows) - Counter(after[table])
        if table != "suppressions":
            assert Counter(after[table]) <= Counter(rows), f"{table} gained rows"
        assert sum(gone.values()) == result.deleted.get(table, 0), table
        assert all(mentions(r, texts, digits) for r in gone), f"{table}: {list(gone)}"
        assert not any(mentions(r, texts, digits) for r in after[table]), table
    emails = {row[1] for row in after["customers"]}
    assert emails == {"bob@example.com", "cy@example.com", DEE_EMAIL}


def test_tombstones_are_sha256_of_the_normalized_identifiers(shop: Path) -> None:
    ann = customer_id(shop, ANN_EMAIL)
    erased(shop, ANN_SHOPIFY)
    with Workspace(shop) as ws:
        rows = ws.table("suppressions").to_pyarrow().to_pylist()
    assert {(r["kind"], r["value_hash"], r["reason"]) for r in rows} == {
        ("email", sha256(ANN_EMAIL), "erased"),
        ("phone", sha256(ANN_PHONE), "erased"),
        ("shopify", sha256(f"shopify:{ANN_SHOPIFY}"), "erased"),
        ("segmint", sha256(ann), "erased"),
    }


@pytest.mark.parametrize(
    "key", [" Ann.Erase@EXAMPLE.com ", "415-555-0134", ANN_SHOPIFY, "shopify:" + ANN_SHOPIFY, "id"]
)
def test_any_identifier_finds_the_customer(shop: Path, key: str) -> None:
    ann = customer_id(shop, ANN_EMAIL)
    assert erased(shop, ann if key == "id" else key).customer_ids == [ann]
    with Workspace(shop) as ws:
        assert ws.find_customer(ANN_EMAIL) is None
        assert ws.find_customer("bob@example.com") is not None


def test_a_merged_customer_is_erased_with_every_merged_id(shop: Path) -> None:
    with Workspace(shop) as ws:
        merges = ws.table("merges").to_pyarrow().to_pylist()
    assert len(merges) == 1  # Dee's phone-only record merged into her email record
    merged, surviving = merges[0]["merged_id"], merges[0]["surviving_id"]
    texts, digits = needles(shop, DEE_EMAIL)
    assert {merged, surviving, DEE_SHOPIFY, DEE_EMAIL} <= set(texts)

    result = erased(shop, merged)  # the old id still finds her

    assert result.customer_ids == [surviving, merged]
    assert result.deleted["merges"] == 1
    assert found_anywhere(shop, texts, digits) == {}
    suppressions = file_rows(shop)["suppressions"]
    hashes = {sha256(DEE_EMAIL), sha256(DEE_PHONE), sha256(f"shopify:{DEE_SHOPIFY}")}
    assert {row[1] for row in suppressions} == hashes | {sha256(merged), sha256(surviving)}


def test_erasing_an_unknown_customer_changes_nothing(shop: Path, segmint_cli: Callable) -> None:
    before = row_counts(shop)

    out = segmint_cli(shop, "erase", "nobody@example.com", "--yes", code=1)

    assert out.stderr.startswith("Error: no customer matches 'nobody@example.com'")
    assert row_counts(shop) == before


def test_erasing_twice_says_the_customer_was_erased_before(shop: Path) -> None:
    erased(shop, ANN_EMAIL)
    with pytest.raises(SegmintError, match="no customer matches") as error:
        erased(shop, ANN_EMAIL)
    assert "erased earlier" in error.value.render()


def test_erasure_is_one_transaction(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = file_rows(shop)

    def failing(*args: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(erasure, "add_tombstones", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        erased(shop, ANN_EMAIL)
    assert file_rows(shop) == before


def test_erasure_asks_for_a_confirmation(
    shop: Path, segmint_cli: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = row_counts(shop)

    refused = segmint_cli(shop, "erase", ANN_EMAIL, code=1)  # not a terminal: needs --yes
    assert refused.stderr.startswith("Error: segmint erase deletes a customer for good")
    assert "--yes" in refused.stderr
    monkeypatch.setattr(erase_cli, "interactive", lambda: True)
    runner = CliRunner()
    declined = runner.invoke(app, ["-w", str(shop), "erase", ANN_EMAIL], input="n\n")
    assert declined.exit_code == 1
    assert "Error: not confirmed: nothing was erased" in declined.stderr
    assert row_counts(shop) == before

    accepted = runner.invoke(app, ["-w", str(shop), "erase", ANN_EMAIL], input="y\n")
    assert accepted.exit_code == 0, accepted.stderr
    assert "Erased c_" in accepted.stdout
    assert row_counts(shop)["customers"] == before["customers"] - 1


def test_erasure_names_the_upgrade_backups_that_still_hold_the_customer(
    shop: Path, segmint_cli: Callable
) -> None:
    backup = shop.with_name(f"{shop.name}.bak-v1")
    shutil.copyfile(shop, backup)

    out = segmint_cli(shop, "erase", ANN_EMAIL, "--yes")

    assert f"Warning: {backup} is a copy of the workspace" in out.stderr.replace("\n", "")
    assert "Erased c_" in out.stdout


# -- re-importing ---------------------------------------------------------------------------
def test_reimporting_an_erased_customer_loads_none_of_their_rows(shop: Path) -> None:
    texts, digits = needles(shop, ANN_EMAIL)
    erased(shop, ANN_EMAIL)
    folder = shop.parent
    billing = {"Billing Name": " ".join(ANN_NAMES), "Billing Phone": "415.555.0134"}
    orders = [
        order(
            "#1001", f"  {ANN_EMAIL.upper()} ", "2025-03-01 10:00:00 -0500", [*MUG, *CAP_AND_HAT]
        ),
        order("#1010", "", "2025-06-01 10:00:00 -0500", MUG, **billing),  # by phone only
        order("#1011", "bob@example.com", "2025-06-02 10:00:00 -0500", MUG),
    ]
    customers = [{"Customer ID": f"'{ANN_SHOPIFY}", "Email": ANN_EMAIL, "First Name": "Ann"}]
    events = [["Opened Email", "2025-06-05T11:00:00-05:00", "", "+1 415 555 0134", "", ""]]
    with Workspace(shop) as ws:
        result = ws.import_file(write_orders(folder / "orders_export_2.csv", orders))
        assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (5, 1, 4)
        assert result.reject_reasons == {ERASURE_REASON.split(" (")[0]: 4}
        result = ws.import_file(write_customers(folder / "customers_export_2.csv", customers))
        assert (result.rows_loaded, result.rows_rejected) == (0, 1)
        result = ws.import_file(write_events(folder / "klaviyo_events_2.csv", events))
        assert (result.rows_loaded, result.rows_rejected) == (0, 1)
        rejects = [r for r in ws.rejects().to_pylist() if r["reason"] == ERASURE_REASON]
        bob = ws.find_customer("bob@example.com")["customer_id"]
        bobs = ws.table("orders").filter(ibis._.customer_id == bob).order_number
        bob_orders = sorted(bobs.to_pyarrow().to_pylist())

    assert found_anywhere(shop, texts, digits) == {}
    assert len(rejects) == 6
    assert all(r["raw_value"] is None and r["column"] is None for r in rejects)
    assert bob_orders == ["#1002", "#1005", "#1011"]


def test_a_source_id_or_segmint_id_alone_does_not_bring_them_back(shop: Path) -> None:
    ann = customer_id(shop, ANN_EMAIL)
    erased(shop, ANN_EMAIL)
    folder = shop.parent
    customers = [
        {"Customer ID": f"'{ANN_SHOPIFY}", "First Name": ANN_NAMES[0], "Note": "id only"},
        {"Customer ID": "7985351729099", "First Name": "Eve", "Email": "eve@example.com"},
    ]
    events = [
        ["Opened Email", "2025-06-05T11:00:00-05:00", "", "", "", ""],
        ["Opened Email", "2025-06-06T11:00:00-05:00", "bob@example.com", "", "", ""],
    ]
    with Workspace(shop) as ws:
        result = ws.import_file(write_customers(folder / "customers_export_3.csv", customers))
        assert (result.rows_loaded, result.rows_rejected) == (1, 1)
        result = ws.import_file(
            write_events(folder / "klaviyo_events_3.csv", events, customer_ids=[ann, ""])
        )
        assert (result.rows_loaded, result.rows_rejected) == (1, 1)
        rejects = [r for r in ws.rejects().to_pylist() if r["reason"] == ERASURE_REASON]
        assert ws.find_customer(ANN_SHOPIFY) is None
    assert len(rejects) == 2
    assert all(r["raw_value"] is None and r["column"] is None for r in rejects)
    texts, digits = needles_of_ann(ann)
    assert found_anywhere(shop, texts, digits) == {}


def needles_of_ann(ann: str) -> tuple[list[str], list[str]]:
    return [ann, ANN_SHOPIFY, ANN_EMAIL, ANN_NAMES[0].lower()], ["4155550134"]


def test_a_suppressed_then_erased_customer_stays_out(shop: Path) -> None:
    from segmint.activation.suppressions import add_values

    orders = [order("#1012", ANN_EMAIL, "2025-06-01 10:00:00 -0500", MUG)]
    with Workspace(shop) as ws:
        add_values(ws.store, [ANN_EMAIL], "unsubscribed elsewhere", "test", "US")
        erase(ws.store, ANN_EMAIL, "US")
        result = ws.import_file(write_orders(shop.parent / "orders_export_3.csv", orders))
    assert (result.rows_loaded, result.rows_rejected) == (0, 1)


# -- exporting after erasure -----------------------------------------------------------------
BUYERS_YAML = """\
segments:
  - slug: buyers
    name: Buyers
    rule: "number_of_orders >= 1"
    description: Everyone who ordered.
    action: Test audience.
"""


def export_files(ws: Workspace, folder: Path, name: str) -> list[Path]:
    """Every file of a CSV export with changes since the last one, and of a Meta export."""
    changes = export_segment(
        ws.store, "buyers", "csv", folder / f"{name}.csv", changes_since_last=True
    )
    meta = export_segment(ws.store, "buyers", "meta", folder / f"{name}-meta.csv")
    return [*changes.files, *meta.files]


def test_an_erased_customer_is_in_no_later_export(shop: Path) -> None:
    texts, digits = needles(shop, ANN_EMAIL)
    hashes = [sha256(v) for v in (ANN_EMAIL, ANN_PHONE, ANN_PHONE[1:], *ANN_NAMES)]
    hashes += [sha256(n.lower()) for n in ANN_NAMES]
    folder = shop.parent
    (folder / "segments.yaml").write_text(BUYERS_YAML)
    with Workspace(shop) as ws:
        ws.refresh()
        before = export_files(ws, folder, "before")
        assert sha256(ANN_EMAIL) in before[2].read_text()  # she was in the Meta list
        assert ANN_EMAIL in before[0].read_text()  # and, plainly, in the CSV

        erase(ws.store, ANN_EMAIL, "US")
        unrefreshed = export_files(ws, folder, "unrefreshed")
        ws.refresh()
        after = export_files(ws, folder, "after")

    for path in [*unrefreshed, *after]:
        text = path.read_text(encoding="utf-8").lower()
        assert not any(t in text for t in texts), path.name
        assert not any(h in text for h in hashes), path.name
        numbers = "".join(ch for ch in text if ch.isdigit() or ch in ",\n")
        assert not any(d in numbers for d in digits), path.name
    assert sha256("bob@example.com") in after[2].read_text()  # the others are still exported
    # she left the audience with her export history: no "left" row can name her either
    assert [p.read_text().count("\n") for p in after[:2]] == [1, 1]
