"""The command line's conventions: ``--json`` prints only records with the table's columns,
errors print ``Error: ...`` first and exit non-zero (2 for usage errors), ``--workspace`` /
``SEGMINT_WORKSPACE`` choose the file, and ``segmint demo`` works end to end.

The commands run in-process through Typer's CliRunner on the same app ``segmint`` runs
(``segmint.cli.main:main`` calls ``segmint.cli.app.app`` once the commands are registered).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

import segmint.cli.main as cli_main
from segmint.cli.app import app
from segmint.workspace import Workspace
from shopify_files import order, write_orders

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("wide_console")


def segmint(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, [str(a) for a in args], env=env)


def ok(*args: str, env: dict[str, str] | None = None):
    result = segmint(*args, env=env)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def json_records(result) -> list[dict]:
    """The whole of standard output is one JSON list of records."""
    records = json.loads(result.stdout)
    assert isinstance(records, list)
    assert all(isinstance(r, dict) for r in records)
    return records


def table_header(text: str) -> list[str]:
    """The column names of the first Rich table in ``text`` (its ``┃`` header line)."""
    line = next(line for line in text.splitlines() if line.startswith("┃"))
    return [cell.strip() for cell in line.strip("┃").split("┃")]


def table_rows(text: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip("│").split("│")]
        for line in text.splitlines()
        if line.startswith("│")
    ]


def error_of(result, code: int = 1) -> list[str]:
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert lines and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines


def orders_file(tmp_path: Path) -> Path:
    orders = [
        order(
            "#1001",
            "ann@example.com",
            "2025-03-01 10:00:00 -0500",
            [(2, "Linen Shirt - M", "40.00", "LS-M"), (1, "Socks", "20.00", "SO-1")],
            Shipping=5,
            Taxes=7.20,
            Phone="'+16175550100",
        ),
        order("#1002", "bob@example.com", "2025-03-02 10:00:00 -0500", [(1, "Mug", "9.00", "M")]),
        order("#1003", "", "2025-03-03 10:00:00 -0500", [(1, "Cap", "12.00", "CAP")]),
    ]
    return write_orders(tmp_path / "orders_export.csv", orders)


@pytest.fixture
def loaded(tmp_path: Path) -> Path:
    """A workspace with one orders file imported (4 rows: 3 loaded, 1 rejected)."""
    path = tmp_path / "shop.duckdb"
    ok("--workspace", path, "import", orders_file(tmp_path), "--json")
    return path


# -- --json ----------------------------------------------------------------------------------
def test_import_json_has_the_table_columns_and_nothing_else(tmp_path: Path):
    path = tmp_path / "shop.duckdb"
    file = orders_file(tmp_path)
    result = ok("-w", path, "import", file, "--json")
    (record,) = json_records(result)
    assert list(record) == cli_main.IMPORT_COLUMNS
    assert record["file"] == "orders_export.csv"
    assert (record["rows_read"], record["rows_loaded"], record["rows_rejected"]) == (4, 3, 1)
    assert record["status"] == "imported"

    # The same file again, as a table: one column per file, a row per field.
    again = ok("-w", path, "import", file)
    assert table_header(again.stdout) == ["", "orders_export.csv"]
    rows = table_rows(again.stdout)
    assert ["file", *[r[0] for r in rows]] == cli_main.IMPORT_COLUMNS
    assert dict((r[0], r[1]) for r in rows)["status"] == "already imported"
    assert "already imported (import 1); nothing changed." in again.stdout
    assert json_records(ok("-w", path, "import", file, "--json"))[0]["status"] == (
        "already imported"
    )


@pytest.mark.parametrize(
    "command",
    [
        ["summary"],
        ["imports"],
        ["rejects"],
        ["rejects", "--import", "1"],
        ["customer", "ann@example.com"],
        ["customer", "+1 617 555 0100"],
        ["formats"],
        ["settings"],
    ],
    ids=lambda c: "-".join(c).replace(" ", ""),
)
def test_json_records_have_the_same_columns_as_the_table(loaded: Path, command: list[str]):
    as_json = json_records(ok("-w", loaded, *command, "--json"))
    as_table = ok("-w", loaded, *command)
    assert as_json, "every command here has something to show"
    columns = table_header(as_table.stdout)
    assert all(list(record) == columns for record in as_json)
    assert len(table_rows(as_table.stdout)) >= len(as_json)  # folded cells add lines
    first_cells = [row[0] for row in table_rows(as_table.stdout) if row[0]]
    assert first_cells == [_cell(record[columns[0]]) for record in as_json]


def _cell(value) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def test_json_values_match_the_workspace(loaded: Path):
    summary = {r["metric"]: r["value"] for r in json_records(ok("-w", loaded, "summary", "--json"))}
    assert summary["orders"] == 2 and summary["customers"] == 2
    # 112.20 (80 + 20 + 5 shipping + 7.20 taxes) and 9.00; the order without contact is out.
    assert Decimal(str(summary["amount_spent"])) == Decimal("112.20") + Decimal("9.00")
    assert summary["rows_read"] == summary["rows_loaded"] + summary["rows_rejected"] == 4
    assert summary["first_order_date"] == "2025-03-01"
    (reject,) = json_records(ok("-w", loaded, "rejects", "--json"))
    assert (reject["file"], reject["row_number"], reject["column"]) == (
        "orders_export.csv",
        5,  # header, #1001 on rows 2-3, #1002, then #1003 with no contact
        "Email",
    )
    customer = {
        r["field"]: r["value"]
        for r in json_records(ok("-w", loaded, "customer", "ann@example.com", "--json"))
    }
    assert (customer["email"], customer["phone"]) == ("ann@example.com", "+16175550100")
    by_id = json_records(ok("-w", loaded, "customer", customer["customer_id"], "--json"))
    assert {r["field"]: r["value"] for r in by_id} == customer
    settings = {
        r["setting"]: r["value"] for r in json_records(ok("-w", loaded, "settings", "--json"))
    }
    assert (settings["timezone"], settings["currency"]) == ("-05:00", "USD")
    assert settings["channel_map"]["pos"] == "pos"  # JSON values stay structured


def test_import_table_lists_the_rejects(loaded: Path, tmp_path: Path):
    other = tmp_path / "second.csv"
    other.write_bytes(orders_file(tmp_path).read_bytes().replace(b"#100", b"#200"))
    result = ok("-w", loaded, "import", other)
    assert "second.csv: 1 rows rejected:" in result.stdout
    assert "second.csv row 5, column Email: no usable Email or Phone" in result.stdout
    assert "segmint rejects --import 2" in result.stdout


# -- errors ----------------------------------------------------------------------------------
def test_missing_file(tmp_path: Path):
    lines = error_of(segmint("-w", tmp_path / "w.duckdb", "import", tmp_path / "nope.csv"))
    assert lines[0] == f"Error: {tmp_path / 'nope.csv'}: no such file"


def test_unknown_format_option(tmp_path: Path):
    file = orders_file(tmp_path)
    lines = error_of(segmint("-w", tmp_path / "w.duckdb", "import", file, "--format", "woo"))
    assert lines[0] == "Error: unknown format 'woo'"
    assert lines[1].startswith("Formats: shopify-orders, shopify-customers")


def test_a_file_matching_no_format_names_the_closest_and_its_missing_columns(tmp_path: Path):
    file = tmp_path / "orders.csv"
    file.write_text("Name,Email,Total,Created at\n#1,a@example.com,5.00,2025-01-01\n")
    result = segmint("-w", tmp_path / "w.duckdb", "import", file, "--json")
    lines = error_of(result)
    assert result.stdout == ""  # nothing on standard output, not even an empty list
    assert lines[:2] == [
        "Error: orders.csv matches no known format",
        "Closest format: shopify-orders, missing columns: Financial Status, "
        "Lineitem quantity, Lineitem name, Lineitem price",
    ]
    assert lines[2].startswith("Hint: ")


def test_format_option_that_does_not_fit_the_file(tmp_path: Path):
    result = segmint(
        "-w",
        tmp_path / "w.duckdb",
        "import",
        orders_file(tmp_path),
        "--format",
        "uci-online-retail",
    )
    assert error_of(result)[0].startswith("Error: orders_export.csv is not a uci-online-retail")


def test_bad_timezone_and_currency_options(tmp_path: Path):
    file = orders_file(tmp_path)
    lines = error_of(
        segmint("-w", tmp_path / "w.duckdb", "import", file, "--timezone", "Mars/Base")
    )
    assert lines[0] == "Error: unknown time zone 'Mars/Base'"
    assert not (tmp_path / "w.duckdb").exists() or Workspace(tmp_path / "w.duckdb").close() is None


def test_bad_settings(tmp_path: Path):
    ws = tmp_path / "w.duckdb"
    lines = error_of(segmint("-w", ws, "settings", "set", "colour", "blue"))
    assert lines[0] == "Error: unknown setting 'colour'"
    assert "timezone" in lines[1]
    lines = error_of(segmint("-w", ws, "settings", "set", "max_order_amount", "lots"))
    assert lines[0] == "Error: setting 'max_order_amount' must be a number, got 'lots'"
    lines = error_of(segmint("-w", ws, "settings", "set", "timezone", "Europe/Springfield"))
    assert lines[0] == "Error: unknown time zone 'Europe/Springfield'"
    lines = error_of(segmint("-w", ws, "settings", "set", "fx_rates", "[1, 2]"))
    assert lines[0] == "Error: setting 'fx_rates' must be a JSON object"
    lines = error_of(segmint("-w", ws, "settings", "set", "currency", "EURO"))
    assert lines[0].startswith("Error: ") and "EURO" in lines[0]
    with Workspace(ws) as opened:  # nothing was stored
        assert opened.store.settings().keys() == {"schema_version"}


def test_unknown_customer(loaded: Path):
    lines = error_of(segmint("-w", loaded, "customer", "nobody@example.com", "--json"))
    assert lines == ["Error: no customer matches 'nobody@example.com'"]
    lines = error_of(segmint("-w", loaded, "customer", "c_doesnotexist"))
    assert lines == ["Error: no customer matches 'c_doesnotexist'"]


def test_workspace_from_a_newer_segmint(tmp_path: Path):
    path = tmp_path / "w.duckdb"
    with Workspace(path) as ws:
        ws.store.set_setting("schema_version", 999)
    lines = error_of(segmint("-w", path, "summary"))
    assert lines[0].startswith(f"Error: workspace {path} has schema version 999, newer than")
    assert lines[1] == "Hint: upgrade segmint"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bogus"], "Error: No such command 'bogus'."),
        (["import"], "Error: Missing argument 'files'."),
        (["import", "x.csv", "--nope"], "Error: No such option: --nope"),
        (["rejects", "--import", "one"], "Error: Invalid value for '--import'"),
        (["summary", "extra"], "Error: Got unexpected extra argument"),
        (["demo", "--customers", "1"], "Error: Invalid value for '--customers': Input should be"),
    ],
    ids=["command", "argument", "option", "value", "extra", "range"],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str):
    lines = error_of(segmint("-w", tmp_path / "w.duckdb", *args), code=2)
    assert lines[0].startswith(message)
    assert lines[-1].startswith("Run '") and lines[-1].endswith("--help' for usage.")


def test_debug_shows_the_traceback(tmp_path: Path):
    result = segmint("-w", tmp_path / "w.duckdb", "--debug", "import", tmp_path / "nope.csv")
    assert result.exit_code == 1
    assert "no such file" in str(result.exception)
    # ...only for that invocation.
    error_of(segmint("-w", tmp_path / "w.duckdb", "import", tmp_path / "nope.csv"))


def test_an_unexpected_error_is_still_one_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    def broken(self):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(Workspace, "summary", broken)
    lines = error_of(segmint("-w", tmp_path / "w.duckdb", "summary"))
    assert lines[0] == "Error: unexpected error: ZeroDivisionError: division by zero"
    assert "--debug" in lines[1]


# -- choosing the workspace --------------------------------------------------------------------
def test_workspace_option_and_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    env_path, option_path = tmp_path / "from-env.duckdb", tmp_path / "from-option.duckdb"

    ok("settings", "set", "currency", "EUR", env={"SEGMINT_WORKSPACE": str(env_path)})
    ok(
        "--workspace",
        option_path,
        "settings",
        "set",
        "currency",
        "GBP",
        env={"SEGMINT_WORKSPACE": str(env_path)},
    )
    ok("settings", "set", "currency", "JPY")  # neither: segmint.duckdb here
    assert sorted(p.name for p in tmp_path.glob("*.duckdb")) == [
        "from-env.duckdb",
        "from-option.duckdb",
        "segmint.duckdb",
    ]
    for path, currency in [
        (env_path, "EUR"),
        (option_path, "GBP"),
        (tmp_path / "segmint.duckdb", "JPY"),
    ]:
        with Workspace(path) as ws:
            assert ws.settings.currency == currency
        shown = json_records(ok("-w", path, "settings", "--json"))
        assert {r["setting"]: r["value"] for r in shown}["currency"] == currency
    env_shown = json_records(ok("settings", "--json", env={"SEGMINT_WORKSPACE": str(env_path)}))
    assert {r["setting"]: r["value"] for r in env_shown}["currency"] == "EUR"


# -- demo --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_demo_end_to_end(demo_run, tmp_path: Path):
    # The demo's own output: the imports, the workspace, the RFM groups, the clusters and the
    # past campaign's report next to the true effect.
    for title in ("Imports", "Workspace", "RFM groups as of", "Behavioural clusters"):
        assert title in demo_run.stdout
    assert "Past campaign 'Win-back November'" in demo_run.stdout
    path = demo_run.copy_to(tmp_path)
    summary = {r["metric"]: r["value"] for r in json_records(ok("-w", path, "summary", "--json"))}
    assert summary["customers"] >= 1500  # guests who only ordered may add a few
    # The store's exports, then the two weeks after its past campaign was sent.
    assert summary["imports"] == 6
    assert summary["orders"] > 0 and summary["events"] > 0
    assert summary["rows_read"] == summary["rows_loaded"] + summary["rows_rejected"]
    assert sorted(p.name for p in demo_run.out.iterdir()) == [
        "campaign_truth.json",
        "customers_export.csv",
        "events.csv",
        "events_2026-11-01_2026-11-14.csv",
        "orders_export.csv",
        "orders_export_2026-11-01_2026-11-14.csv",
        "products_export.csv",
        "win-back-november-A-klaviyo.csv",
    ]

    imports = json_records(ok("-w", path, "imports", "--json"))
    assert [i["format"] for i in imports] == [
        "shopify-products",
        "shopify-customers",
        "shopify-orders",
        "events",
        "shopify-orders",
        "events",
    ]
    for record in imports:
        assert record["rows_read"] == record["rows_loaded"] + record["rows_rejected"], record
    assert sum(i["rows_read"] for i in imports) == summary["rows_read"]
    assert sum(i["rows_rejected"] for i in imports) == summary["rows_rejected"]
    rejects = json_records(ok("-w", path, "rejects", "--limit", "0", "--json"))
    assert len(rejects) == summary["rows_rejected"]

    # The summary's money agrees with the orders table, computed here.
    with Workspace(path) as ws:
        orders = ws.table("orders").to_pyarrow().to_pylist()
        refunds = ws.table("refunds").to_pyarrow().to_pylist()
    placed = {o["order_id"] for o in orders if o["status"] == "placed"}
    gross = sum((o["total"] for o in orders if o["order_id"] in placed), Decimal(0))
    refunded = sum(
        (r["amount"] for r in refunds if r["order_id"] in placed or r["order_id"] is None),
        Decimal(0),
    )
    assert summary["orders"] == len(placed)
    assert Decimal(str(summary["amount_spent"])) == gross - refunded

    # The past campaign is there to report on, and the demo recorded months of history.
    campaigns = json_records(ok("-w", path, "campaign", "list", "--json"))
    assert [(c["name"], c["segment"], c["send_date"]) for c in campaigns] == [
        ("Win-back November", "lifecycle_dormant", "2026-11-01")
    ]
    report = json_records(ok("-w", path, "campaign", "report", "Win-back November", "--json"))
    assert {r["arm"] for r in report} == {"A", "holdout"}
    history = json_records(ok("-w", path, "history", "rfm_champions", "--json"))
    assert len(history) >= 7  # six month ends backfilled, the two live refreshes
