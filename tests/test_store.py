"""The workspace file: schema upgrades with a backup, newer files refused, settings kept,
and an import that fails midway leaving every table exactly as it was."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import ibis
import pytest

from segmint import importing, store
from segmint.errors import ImportAborted, WorkspaceError
from segmint.schema import SCHEMA_VERSION, TABLES
from segmint.workspace import Workspace
from shopify_files import order, write_orders

V1 = SCHEMA_VERSION


def two_orders() -> list[dict]:
    return [
        order(
            "#1001",
            "ann@example.com",
            "2025-03-01 10:00:00 -0500",
            [(2, "Linen Shirt - M", "40.00", "LS-M"), (1, "Socks", "20.00", "SO-1")],
            Shipping=5,
            Taxes=7.20,
        ),
        order(
            "#1002",
            "bob@example.com",
            "2025-03-05 23:30:00 -0500",
            [(1, "Mug", "50.00", "MUG")],
            **{"Financial Status": "partially_refunded", "Refunded Amount": "20.00"},
        ),
    ]


def snapshot(ws: Workspace) -> dict[str, list[dict]]:
    """Every canonical table's rows, in a stable order (``None`` for missing values)."""
    out = {}
    for name in TABLES:
        rows = ws.table(name).to_pyarrow().to_pylist()
        out[name] = sorted(rows, key=repr)
    return out


def make_v1_workspace(path: Path, tmp_path: Path) -> dict[str, list[dict]]:
    with Workspace(path) as ws:
        ws.import_file(write_orders(tmp_path / "orders_export.csv", two_orders()))
        ws.set_setting("default_phone_country", "GB")
        return snapshot(ws)


def read_only(path: Path):
    return ibis.duckdb.connect(str(path), read_only=True)


def simulate_v2(monkeypatch: pytest.MonkeyPatch, step=None) -> list[int]:
    """Pretend this segmint writes schema version V1 + 1, whose upgrade adds a column."""
    calls: list[int] = []

    def add_loyalty_tier(s: store.Store) -> None:
        calls.append(V1)
        s.con.raw_sql("ALTER TABLE customers ADD COLUMN loyalty_tier VARCHAR DEFAULT 'none'")

    monkeypatch.setattr(store, "SCHEMA_VERSION", V1 + 1)
    monkeypatch.setattr("segmint.schema.SCHEMA_VERSION", V1 + 1)
    monkeypatch.setattr(store, "UPGRADES", {V1: step or add_loyalty_tier})
    return calls


def test_a_new_workspace_records_the_current_version(tmp_path: Path):
    with Workspace(tmp_path / "shop.duckdb") as ws:
        assert ws.store.get_setting("schema_version") == SCHEMA_VERSION
        assert set(ws.store.con.list_tables()) >= set(TABLES)
    assert not list(tmp_path.glob("*.bak-*"))


def test_an_older_workspace_is_backed_up_then_upgraded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = tmp_path / "shop.duckdb"
    before = make_v1_workspace(path, tmp_path)
    calls = simulate_v2(monkeypatch)

    with Workspace(path) as ws:
        assert calls == [V1]
        assert ws.store.get_setting("schema_version") == V1 + 1
        customers = ws.store.table("customers")
        assert customers.loyalty_tier.to_pyarrow().to_pylist() == ["none", "none"]
        after = snapshot(ws)
        # Everything else is as it was: rows, settings (except the version), imports.
        for name in TABLES:
            if name == "customers":
                assert [
                    {k: v for k, v in row.items() if k != "loyalty_tier"} for row in after[name]
                ] == before[name]
            elif name == "settings":
                changed = {r["key"] for r in after[name]} ^ {r["key"] for r in before[name]}
                assert changed == set()
                assert [r for r in after[name] if r["key"] != "schema_version"] == [
                    r for r in before[name] if r["key"] != "schema_version"
                ]
            else:
                assert after[name] == before[name], name
        assert ws.settings["default_phone_country"] == "GB"
        assert Decimal(str(ws.summary()["amount_spent"])) == Decimal("112.20") + Decimal("30.00")

    backup = tmp_path / f"shop.duckdb.bak-v{V1}"
    assert backup.is_file()
    con = read_only(backup)
    try:
        assert "loyalty_tier" not in con.table("customers").columns
        settings = {r["key"]: r["value"] for r in con.table("settings").to_pyarrow().to_pylist()}
        assert settings["schema_version"] == str(V1)
        for name in TABLES:
            assert sorted(con.table(name).to_pyarrow().to_pylist(), key=repr) == before[name]
    finally:
        con.disconnect()

    # Opening again does not upgrade (or back up) twice.
    backup.unlink()
    with Workspace(path) as ws:
        assert calls == [V1]
        assert ws.store.get_setting("schema_version") == V1 + 1
    assert not backup.exists()


def test_a_failed_upgrade_leaves_the_workspace_at_its_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = tmp_path / "shop.duckdb"
    before = make_v1_workspace(path, tmp_path)

    def half_done(s: store.Store) -> None:
        s.con.raw_sql("ALTER TABLE customers ADD COLUMN loyalty_tier VARCHAR")
        raise RuntimeError("disk full")

    simulate_v2(monkeypatch, step=half_done)
    with pytest.raises(WorkspaceError) as info:
        Workspace(path)
    assert info.value.message == (
        f"cannot upgrade workspace {path} from schema version {V1} to {V1 + 1}: disk full"
    )
    assert str(path) + f".bak-v{V1}" in info.value.hint
    monkeypatch.undo()
    with Workspace(path) as ws:  # the file was released, and is as it was
        assert ws.store.get_setting("schema_version") == V1
        assert "loyalty_tier" not in ws.store.table("customers").columns
        assert snapshot(ws) == before


def test_a_workspace_from_a_newer_segmint_is_refused(tmp_path: Path):
    path = tmp_path / "shop.duckdb"
    with Workspace(path) as ws:
        ws.store.set_setting("schema_version", SCHEMA_VERSION + 1)
    with pytest.raises(WorkspaceError) as info:
        Workspace(path)
    assert info.value.message == (
        f"workspace {path} has schema version {SCHEMA_VERSION + 1}, newer than this segmint "
        f"({SCHEMA_VERSION})"
    )
    assert info.value.hint == "upgrade segmint"
    assert not list(tmp_path.glob("*.bak-*"))
    con = read_only(path)  # untouched, and released
    try:
        rows = con.table("settings").to_pyarrow().to_pylist()
        assert {r["key"]: r["value"] for r in rows}["schema_version"] == str(SCHEMA_VERSION + 1)
    finally:
        con.disconnect()


def test_a_file_that_is_not_a_workspace_gives_a_clear_error(tmp_path: Path):
    path = tmp_path / "notes.duckdb"
    path.write_text("these are my notes, not a database\n")
    with pytest.raises(WorkspaceError, match=f"cannot open workspace {path}"):
        Workspace(path)


def test_settings_persist_across_opens(tmp_path: Path):
    path = tmp_path / "shop.duckdb"
    with Workspace(path) as ws:
        assert ws.settings.timezone == "UTC" and ws.settings.currency is None
        ws.set_setting("timezone", "America/Chicago")
        ws.set_setting("currency", "EUR")
        ws.set_setting("fx_rates", '{"USD": 0.92}')
        ws.set_setting("max_order_amount", "5000")
    with Workspace(path) as ws:
        assert ws.settings.timezone == "America/Chicago"
        assert ws.settings.currency == "EUR"
        assert ws.settings["fx_rates"] == {"USD": 0.92}
        assert ws.settings["max_order_amount"] == 5000.0
        assert ws.settings["default_phone_country"] == "US"  # a default, never stored
        ws.set_setting("timezone", "-05:00")
    with Workspace(path) as ws:
        assert ws.settings.timezone == "-05:00"
        assert ws.settings.currency == "EUR"


@pytest.mark.parametrize(
    "table",
    ["identities", "customers", "orders", "order_lines", "refunds", "imports", "rejects"],
)
def test_a_failed_import_leaves_every_table_unchanged(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, table: str
):
    workspace.import_file(write_orders(tmp_path / "first.csv", two_orders()[:1]))
    before = snapshot(workspace)

    # The second file adds a customer, updates #1001, adds a refund and has a reject, so
    # every table gets a write; the write to ``table`` fails.
    orders = two_orders()
    orders[0]["Tags"] = "vip"
    bad = order("#1003", "", "2025-03-06 10:00:00 -0500", [(1, "Cap", "12.00", "CAP")])
    second = write_orders(tmp_path / "second.csv", [*orders, bad])
    real_insert = store.Store.insert

    def failing_insert(self, name, batch):
        if name == table:
            raise RuntimeError(f"disk full while writing {name}")
        return real_insert(self, name, batch)

    monkeypatch.setattr(store.Store, "insert", failing_insert)
    if table == "customers":  # profiles are written through replace_rows
        monkeypatch.setattr(store.Store, "insert", real_insert)
        real_replace = store.Store.replace_rows

        def failing_replace(self, name, batch, key=None):
            if name == "customers":
                raise RuntimeError("disk full while writing customers")
            return real_replace(self, name, batch, key)

        monkeypatch.setattr(store.Store, "replace_rows", failing_replace)

    with pytest.raises(ImportAborted) as info:
        workspace.import_file(second)
    assert info.value.message == (
        "second.csv: import failed and was rolled back, the workspace is unchanged "
        f"(disk full while writing {table})"
    )
    assert snapshot(workspace) == before

    monkeypatch.undo()
    result = workspace.import_file(second)  # not taken for a re-import of the same file
    assert not result.skipped
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 3, 1)
    assert (result.orders_new, result.orders_updated) == (1, 1)


def test_a_failure_after_identities_are_linked_rolls_back_merges(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # Two customers, then a file whose order links them through a shared phone: the merge
    # is applied inside apply_batch, and a failure after it must undo it.
    first = [
        order("#1001", "ann@example.com", "2025-03-01 10:00:00 -0500", [(1, "Mug", "9.00", "M")]),
        order(
            "#1002",
            "ann.work@example.com",
            "2025-03-02 10:00:00 -0500",
            [(1, "Mug", "9.00", "M")],
            Phone="+16175550100",
        ),
    ]
    workspace.import_file(write_orders(tmp_path / "first.csv", first))
    assert workspace.table("customers").count().execute() == 2
    before = snapshot(workspace)
    linking = [
        order(
            "#1003",
            "ann@example.com",
            "2025-03-03 10:00:00 -0500",
            [(1, "Mug", "9.00", "M")],
            Phone="+16175550100",
        )
    ]
    second = write_orders(tmp_path / "second.csv", linking)
    real = importing._write_orders
    seen = {}

    def explode(store_, batch, owners, result):
        seen["merged"] = result.customers_merged
        seen["customers"] = store_.table("customers").count().execute()
        raise RuntimeError("power cut")

    monkeypatch.setattr(importing, "_write_orders", explode)
    with pytest.raises(ImportAborted, match="power cut"):
        workspace.import_file(second)
    assert seen == {"merged": 1, "customers": 1}  # the merge had happened inside the import
    assert snapshot(workspace) == before

    monkeypatch.setattr(importing, "_write_orders", real)
    result = workspace.import_file(second)
    assert result.customers_merged == 1
    assert workspace.table("customers").count().execute() == 1


def test_the_version_1_workspace_gains_the_segment_columns(tmp_path: Path):
    """Schema 2 added refresh configuration and segment versions, sizes and plays."""
    from segmint.schema import ADDED_COLUMNS

    path = tmp_path / "shop.duckdb"
    with Workspace(path) as ws:
        ws.import_file(write_orders(tmp_path / "orders_export.csv", two_orders()))
        ws.refresh()
        for table, columns in ADDED_COLUMNS[2].items():
            for column in columns:
                ws.store.con.raw_sql(f'ALTER TABLE {table} DROP COLUMN "{column}"')
        ws.store.set_setting("schema_version", 1)
        old = ws.table("segment_versions").to_pyarrow().to_pylist()
    with Workspace(path) as ws:
        assert ws.store.get_setting("schema_version") == SCHEMA_VERSION
        versions = ws.table("segment_versions").to_pyarrow().to_pylist()
        assert [{k: r[k] for k in old[0]} for r in versions] == old
        assert all(r["version"] is None and r["definition"] is None for r in versions)
        ws.refresh()  # a refresh after the upgrade fills them in
        latest = ws.table("segment_versions").filter(ibis._.refresh_id == 2)
        assert set(latest.version.to_pyarrow().to_pylist()) == {1}
    assert (tmp_path / "shop.duckdb.bak-v1").is_file()


def test_the_version_2_workspace_dates_each_refund_at_its_order(tmp_path: Path):
    """Schema 3 gave refunds their order's day (``order_date``): the upgrade fills it in
    from the orders, as an import now writes it."""
    from segmint.models.summary import customer_summary

    path = tmp_path / "shop.duckdb"
    with Workspace(path) as ws:
        ws.import_file(write_orders(tmp_path / "orders_export.csv", two_orders()))
        imported = ws.table("refunds").to_pyarrow().to_pylist()
        summary = customer_summary(ws.table("orders"), ws.table("refunds")).to_pyarrow()
        ws.store.con.raw_sql('ALTER TABLE refunds DROP COLUMN "order_date"')
        ws.store.set_setting("schema_version", 2)
    assert [r["order_date"] for r in imported] == [date(2025, 3, 5)]  # Bob's, local day
    with Workspace(path) as ws:
        assert ws.store.get_setting("schema_version") == SCHEMA_VERSION
        assert ws.table("refunds").to_pyarrow().to_pylist() == imported
        again = customer_summary(ws.table("orders"), ws.table("refunds")).to_pyarrow()
        assert again.sort_by("customer_id") == summary.sort_by("customer_id")
    assert (tmp_path / "shop.duckdb.bak-v2").is_file()


def test_staging_under_a_stored_tables_name_leaves_the_stored_table(tmp_path: Path):
    """A staged (temporary) table may share a stored table's name and read it: replacing
    the staged one never touches the stored one; refilling it neither."""
    with Workspace(tmp_path / "shop.duckdb") as ws:
        ws.import_file(write_orders(tmp_path / "orders_export.csv", two_orders()))
        stored = ws.table("orders").count().execute()
        staged = ws.store.stage("orders", ws.table("orders").select("order_id"))
        assert staged.count().execute() == stored
        again = ws.store.stage("orders", staged.limit(1))  # reads the table it replaces
        assert again.count().execute() == 1
        ws.store.refill("orders", staged.limit(0))
        assert ws.store.table("orders").count().execute() == 0  # the temporary one
        ws.store.con.drop_table("orders", database=("temp", "main"))
        assert ws.table("orders").count().execute() == stored
        assert set(ws.table("orders").columns) == set(TABLES["orders"].names)
