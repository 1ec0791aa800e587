"""UCI Online Retail and Online Retail II: CSV and XLSX, rejects, refunds, money, real data."""

from __future__ import annotations

import csv
import gzip
from collections import defaultdict
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import ibis
import pytest

from segmint.definitions import customer_value
from segmint.importers.base import ImportOptions
from segmint.workspace import Workspace

HEADER_I = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"
HEADER_II = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country"

#: Data rows as the real file writes them (ISO dates, as in the shared copy); the comment is
#: the row number a user sees (the header is row 1).
ROWS: list[list[str]] = [
    r.split("|")
    for r in (
        # 2-6: customer 17850's first invoice
        "536365|85123A|WHITE HANGING HEART T-LIGHT HOLDER|6|2010-12-01 08:26:00|2.55|17850|"
        "United Kingdom",
        "536365|71053|WHITE METAL LANTERN|6|2010-12-01 08:26:00|3.39|17850|United Kingdom",
        "536365|84406B|CREAM CUPID HEARTS COAT HANGER|8|2010-12-01 08:26:00|2.75|17850|"
        "United Kingdom",
        "536365|84029G|KNITTED UNION FLAG HOT WATER BOTTLE|6|2010-12-01 08:26:00|3.39|17850|"
        "United Kingdom",
        "536365|84029E|RED WOOLLY HOTTIE WHITE HEART.|6|2010-12-01 08:26:00|3.39|17850|"
        "United Kingdom",
        # 7-8: and their second
        "536366|22633|HAND WARMER UNION JACK|6|2010-12-01 08:28:00|1.85|17850|United Kingdom",
        "536366|22632|HAND WARMER RED POLKA DOT|6|2010-12-01 08:28:00|1.85|17850|United Kingdom",
        # 9-12: customer 13047
        "536367|84879|ASSORTED COLOUR BIRD ORNAMENT|32|2010-12-01 08:34:00|1.69|13047|"
        "United Kingdom",
        "536367|22745|POPPY'S PLAYHOUSE BEDROOM |6|2010-12-01 08:34:00|2.1|13047|United Kingdom",
        "536367|22748|POPPY'S PLAYHOUSE KITCHEN|6|2010-12-01 08:34:00|2.1|13047|United Kingdom",
        "536367|22749|FELTCRAFT PRINCESS CHARLOTTE DOLL|8|2010-12-01 08:34:00|3.75|13047|"
        "United Kingdom",
        # 13-15: an invoice with a price in a European spelling: rejected whole
        "536368|22960|JAM MAKING SET WITH JARS|6|2010-12-01 08:34:00|4.25|13047|United Kingdom",
        "536368|22913|RED COAT RACK PARIS FASHION|3|2010-12-01 08:34:00|4,95|13047|United Kingdom",
        "536368|22912|YELLOW COAT RACK PARIS FASHION|3|2010-12-01 08:34:00|4.95|13047|"
        "United Kingdom",
        # 16: a date that does not exist
        "536369|21756|BATH BUILDING BLOCK WORD|3|2010-12-32 08:35:00|5.95|13047|United Kingdom",
        # 17-21: customer 12583 in France, with an exact duplicate (20) and postage (21)
        "536370|22728|ALARM CLOCK BAKELIKE PINK|24|2010-12-01 08:45:00|3.75|12583|France",
        "536370|22727|ALARM CLOCK BAKELIKE RED |24|2010-12-01 08:45:00|3.75|12583|France",
        "536370|22726|ALARM CLOCK BAKELIKE GREEN|12|2010-12-01 08:45:00|3.75|12583|France",
        "536370|22727|ALARM CLOCK BAKELIKE RED |24|2010-12-01 08:45:00|3.75|12583|France",
        "536370|POST|POSTAGE|3|2010-12-01 08:45:00|18|12583|France",
        # 22-23: 13047 cancels part of 536367
        "C536383|22745|POPPY'S PLAYHOUSE BEDROOM |-2|2010-12-01 09:49:00|2.1|13047|United Kingdom",
        "C536383|22749|FELTCRAFT PRINCESS CHARLOTTE DOLL|-1|2010-12-01 09:49:00|3.75|13047|"
        "United Kingdom",
        # 24: a discount given to 14527, who has no order in this file
        "C536379|D|Discount|-1|2010-12-01 09:41:00|27.50|14527|United Kingdom",
        # 25-26: an anonymous sale
        "536544|21773|DECORATIVE ROSE BATHROOM BOTTLE|1|2010-12-01 14:32:00|2.51||United Kingdom",
        "536544|21774|DECORATIVE CATS BATHROOM BOTTLE|2|2010-12-01 14:32:00|2.51||United Kingdom",
        # 27-28: bad-debt adjustments (the second with the real file's negative price)
        "A563185|B|Adjust bad debt|1|2011-08-12 14:50:00|11062.06||United Kingdom",
        "A563186|B|Adjust bad debt|1|2011-08-12 14:51:00|-11062.06||United Kingdom",
        # 29-31: 17850 again, with a manual line and bank charges
        "537137|22900|SET 2 TEA TOWELS I LOVE LONDON |6|2010-12-05 12:43:00|2.95|17850|"
        "United Kingdom",
        "537137|M|Manual|1|2010-12-05 12:43:00|0.85|17850|United Kingdom",
        "537137|BANK CHARGES|Bank Charges|1|2010-12-05 12:43:00|15|17850|United Kingdom",
        # 32-33: 12583 cancels the postage and part of an alarm clock line
        "C536391|POST|POSTAGE|-1|2010-12-01 10:24:00|18|12583|France",
        "C536391|22726|ALARM CLOCK BAKELIKE GREEN|-4|2010-12-01 10:24:00|3.75|12583|France",
        # 34: a stock write-off: negative quantity, no C invoice, no customer
        "536589|21777|damaged|-10|2010-12-01 16:50:00|0||United Kingdom",
    )
]

NO_CUSTOMER = "no customer id (anonymous sale)"
BAD_DEBT = "bad-debt adjustment: a ledger entry, not a sale"
WRITE_OFF = "negative quantity on an invoice that is not a C cancellation (stock write-off)"

#: Row number -> (column in Online Retail's spelling, raw value, reason), written by hand.
EXPECTED_REJECTS: dict[int, tuple[str | None, str | None, str]] = {
    13: (None, None, "part of a rejected invoice (invoice 536368, see row 14)"),
    14: ("UnitPrice", "4,95", "not a number"),
    15: (None, None, "part of a rejected invoice (invoice 536368, see row 14)"),
    16: ("InvoiceDate", "2010-12-32 08:35:00", "not a date-time"),
    20: (None, None, "exact duplicate (of row 18)"),
    25: ("CustomerID", None, NO_CUSTOMER),
    26: ("CustomerID", None, NO_CUSTOMER),
    27: ("InvoiceNo", "A563185", BAD_DEBT),
    28: ("InvoiceNo", "A563186", BAD_DEBT),
    34: ("Quantity", "-10", WRITE_OFF),
}

#: Stock codes that are not merchandise: in the amount spent, not in net sales (the discount
#: code D is merchandise: it lowers net sales).
NOT_MERCHANDISE = {"POST", "DOT", "C2", "M", "m", "S", "B"} | {
    "BANK CHARGES",
    "AMAZONFEE",
    "PADS",
    "CRUK",
}
SPELLING_II = {"InvoiceNo": "Invoice", "UnitPrice": "Price", "CustomerID": "Customer ID"}


# -- writers and an independent computation ------------------------------------------------
def write_csv(path: Path, rows: list[list[str]], header: str = HEADER_I) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header.split(","))
        writer.writerows(rows)
    return path


def as_excel_cells(row: list[str]) -> list[object]:
    """A row as the real workbook stores it: numbers and dates typed, customer ids as floats,
    text where the cell is not a clean value."""
    invoice, stock, description, quantity, when, price, customer, country = row

    def number(text: str) -> object:
        try:
            return int(text)
        except ValueError:
            try:
                return float(text)
            except ValueError:
                return text

    try:
        moment: object = datetime.strptime(when, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        moment = when
    return [
        number(invoice),
        number(stock),
        description,
        number(quantity),
        moment,
        number(price),
        float(customer) if customer else None,
        country,
    ]


def write_xlsx(path: Path, rows: list[list[str]], split: int) -> Path:
    """Online Retail II's workbook: rows before ``split`` on the first sheet, the rest on the
    second, each sheet with the header."""
    import openpyxl

    book = openpyxl.Workbook()
    first = book.active
    first.title = "Year 2009-2010"
    second = book.create_sheet("Year 2010-2011")
    for sheet, part in ((first, rows[:split]), (second, rows[split:])):
        sheet.append(HEADER_II.split(","))
        for row in part:
            sheet.append(as_excel_cells(row))
    book.save(path)
    return path


def expected_values(rows: list[list[str]], rejected: set[int]) -> dict[str, dict[str, object]]:
    """Per customer id, from the rows that load: orders, amount spent and net sales."""
    zero = Decimal(0)
    out: dict[str, dict] = defaultdict(
        lambda: {"orders": set(), "gross": zero, "refunded": zero, "sales": zero, "back": zero}
    )
    for number, row in enumerate(rows, start=2):
        if number in rejected:
            continue
        invoice, stock, _, quantity, _, price, customer, _ = row
        amount = Decimal(quantity) * Decimal(price)
        merchandise = amount if stock not in NOT_MERCHANDISE else Decimal(0)
        value = out[customer]
        if invoice.startswith("C"):
            value["refunded"] -= amount
            value["back"] -= merchandise
        else:
            value["orders"].add(invoice)
            value["gross"] += amount
            value["sales"] += merchandise
    return {
        customer: {
            "number_of_orders": len(v["orders"]),
            "gross_spent": v["gross"],
            "refunded": v["refunded"],
            "amount_spent": v["gross"] - v["refunded"],
            "net_sales": v["sales"] - v["back"],
        }
        for customer, v in out.items()
    }


def values_by_uci_id(workspace: Workspace) -> dict[str, dict[str, object]]:
    """customer_value keyed by the customer's uci id, through the identities table."""
    value = customer_value(workspace.table("orders"), workspace.table("refunds")).to_pandas()
    identities = workspace.table("identities").to_pandas()
    uci = {r.customer_id: r.identity.removeprefix("uci:") for r in identities.itertuples()}
    columns = ["number_of_orders", "gross_spent", "refunded", "amount_spent", "net_sales"]
    return {uci[r["customer_id"]]: {c: r[c] for c in columns} for r in value.to_dict("records")}


def snapshot(workspace: Workspace) -> dict[str, object]:
    """What an import produced, without generated ids, to compare two imports."""
    result = workspace.imports().to_pylist()[0]
    rejects = [
        (r["row_number"], r["column"], r["raw_value"], r["reason"])
        for r in workspace.rejects().to_pylist()
    ]
    orders = workspace.table("orders").drop("customer_id", "import_id").order_by("order_id")
    lines = workspace.table("order_lines").drop("import_id").order_by(["order_id", "line_number"])
    refunds = workspace.table("refunds").drop("customer_id", "import_id").order_by("refund_id")
    customers = workspace.table("customers").select("country").order_by("country")
    return {
        "counts": {
            k: result[k]
            for k in ("rows_read", "rows_loaded", "rows_rejected", "duplicate_rows")
            + ("customers_created", "orders_new")
        },
        "rejects": rejects,
        "orders": orders.to_pyarrow().to_pylist(),
        "lines": lines.to_pyarrow().to_pylist(),
        "refunds": refunds.to_pyarrow().to_pylist(),
        "countries": customers.to_pyarrow().to_pylist(),
        "values": values_by_uci_id(workspace),
        "settings": (workspace.settings.currency, workspace.settings.timezone),
    }


# -- the small realistic file -------------------------------------------------------------
def test_online_retail_csv_loads_exactly_what_it_should(workspace: Workspace, tmp_path: Path):
    result = workspace.import_file(write_csv(tmp_path / "Online Retail.csv", ROWS))
    assert result.format == "uci-online-retail"
    assert result.rows_read == len(ROWS) == 33
    assert result.rows_rejected == len(EXPECTED_REJECTS) == 10
    assert result.rows_loaded == 33 - 10
    assert result.duplicate_rows == 1
    assert result.reject_reasons == {
        "part of a rejected invoice": 2,
        "not a number": 1,
        "not a date-time": 1,
        "exact duplicate": 1,
        "no customer id": 2,
        "bad-debt adjustment: a ledger entry, not a sale": 2,
        "negative quantity on an invoice that is not a C cancellation": 1,
    }
    rejects = {
        r["row_number"]: (r["column"], r["raw_value"] or None, r["reason"])
        for r in workspace.rejects(result.import_id).to_pylist()
    }
    assert rejects == EXPECTED_REJECTS
    assert {r["file"] for r in workspace.rejects().to_pylist()} == {"Online Retail.csv"}

    orders = workspace.table("orders").to_pandas().set_index("order_id")
    assert sorted(orders.index) == ["536365", "536366", "536367", "536370", "537137"]
    assert set(orders.status) == {"placed"} and set(orders.currency) == {"GBP"}
    assert set(orders.source) == {"uci"}
    assert orders.loc["536370"].shipping == Decimal(3) * Decimal("18")
    assert orders.loc["536370"].billing_country == "France"
    lines = workspace.table("order_lines").to_pandas()
    assert len(lines) == 5 + 2 + 4 + 4 + 3  # the duplicate line is not there
    kinds = lines.set_index("sku").line_kind
    assert (kinds["POST"], kinds["M"], kinds["BANK CHARGES"], kinds["85123A"]) == (
        "shipping",
        "adjustment",
        "fee",
        "product",
    )

    refunds = workspace.table("refunds").to_pandas().set_index("refund_id")
    assert sorted(refunds.index) == ["uci:C536379", "uci:C536383", "uci:C536391"]
    assert refunds.order_id.isna().all()  # the data does not say which invoice was cancelled
    assert refunds.loc["uci:C536383"].amount == 2 * Decimal("2.1") + Decimal("3.75")
    assert refunds.loc["uci:C536391"].amount == Decimal(18) + 4 * Decimal("3.75")
    assert refunds.loc["uci:C536391"].product_amount == 4 * Decimal("3.75")
    dated = {r["refund_id"]: r for r in workspace.table("refunds").to_pyarrow().to_pylist()}
    assert dated["uci:C536383"]["refunded_at"] == datetime(2010, 12, 1, 9, 49)
    assert dated["uci:C536383"]["refunded_date"] == date(2010, 12, 1)

    expected = expected_values(ROWS, set(EXPECTED_REJECTS))
    assert values_by_uci_id(workspace) == expected
    assert set(expected) == {"17850", "13047", "12583", "14527"}
    # Spot-check the independent sums by hand for the customer with postage and a refund.
    assert expected["12583"]["amount_spent"] == Decimal("279.00") - Decimal("33.00")
    assert expected["12583"]["net_sales"] == Decimal("225.00") - Decimal("15.00")
    assert expected["14527"]["amount_spent"] == Decimal("-27.50")


def test_each_customer_is_the_uci_identity(workspace: Workspace, tmp_path: Path):
    result = workspace.import_file(write_csv(tmp_path / "Online Retail.csv", ROWS))
    assert result.customers_created == 4
    identities = workspace.table("identities").to_pandas()
    assert sorted(identities.identity) == ["uci:12583", "uci:13047", "uci:14527", "uci:17850"]
    assert set(identities.kind) == {"uci"}
    assert identities.customer_id.nunique() == 4
    found = workspace.find_customer("12583")
    assert found is not None and found["country"] == "France"
    assert (
        workspace.find_customer("uci:17850")["customer_id"]
        == (identities.set_index("identity").customer_id["uci:17850"])
    )
    owner = workspace.table("orders").to_pandas().set_index("order_id").customer_id
    ann = workspace.find_customer("17850")["customer_id"]
    assert owner["536365"] == owner["536366"] == owner["537137"] == ann
    assert owner["536370"] == found["customer_id"]


def test_currency_and_time_zone_default_to_gbp_and_london(workspace: Workspace, tmp_path: Path):
    workspace.import_file(write_csv(tmp_path / "Online Retail.csv", ROWS))
    assert (workspace.settings.currency, workspace.settings.timezone) == ("GBP", "Europe/London")
    orders = {r["order_id"]: r for r in workspace.table("orders").to_pyarrow().to_pylist()}
    # December in London is UTC+0: the stored UTC time is the time as written.
    assert orders["536365"]["placed_at"] == datetime(2010, 12, 1, 8, 26)
    assert orders["536365"]["placed_date"] == date(2010, 12, 1)


def test_local_times_follow_the_workspace_zone_and_every_date_spelling(
    workspace: Workspace, tmp_path: Path
):
    # 00:30 on 1 June 2011 in London (BST, UTC+1) is 23:30 UTC on 31 May.
    rows = [
        [
            "556001",
            "22423",
            "REGENCY CAKESTAND 3 TIER",
            "2",
            when,
            "12.75",
            "17850",
            "United Kingdom",
        ]
        for when in ("2011-06-01 00:30:00", "6/1/2011 0:30", "01-06-2011 00:30")
    ]
    rows = [[r[0][:-1] + str(i), *r[1:]] for i, r in enumerate(rows)]
    result = workspace.import_file(write_csv(tmp_path / "summer.csv", rows))
    assert (result.rows_loaded, result.rows_rejected) == (3, 0)
    orders = workspace.table("orders").to_pyarrow().to_pylist()
    assert {o["placed_at"] for o in orders} == {datetime(2011, 5, 31, 23, 30)}
    assert {o["placed_date"] for o in orders} == {date(2011, 6, 1)}


def test_a_zone_given_on_import_is_used_and_kept(workspace: Workspace, tmp_path: Path):
    rows = [["556001", "22423", "REGENCY CAKESTAND 3 TIER", "2", "2011-06-01 08:30:00", "12.75"]]
    rows[0] += ["17850", "United Kingdom"]
    workspace.import_file(
        write_csv(tmp_path / "tokyo.csv", rows), ImportOptions(timezone="Asia/Tokyo")
    )
    assert workspace.settings.timezone == "Asia/Tokyo"
    placed = workspace.table("orders").to_pyarrow().to_pylist()[0]
    assert placed["placed_at"] == datetime(2011, 5, 31, 23, 30)
    assert placed["placed_date"] == date(2011, 6, 1)


def test_currency_given_on_import_becomes_the_workspace_currency(
    workspace: Workspace, tmp_path: Path
):
    workspace.import_file(
        write_csv(tmp_path / "Online Retail.csv", ROWS), ImportOptions(currency="eur")
    )
    assert workspace.settings.currency == "EUR"
    assert set(workspace.table("orders").to_pandas().currency) == {"EUR"}
    assert values_by_uci_id(workspace) == expected_values(ROWS, set(EXPECTED_REJECTS))


def test_without_currency_prices_are_in_the_workspace_currency(
    workspace: Workspace, tmp_path: Path
):
    workspace.set_setting("currency", "USD")
    result = workspace.import_file(write_csv(tmp_path / "Online Retail.csv", ROWS))
    assert (result.rows_loaded, result.rows_rejected) == (23, 10)
    assert set(workspace.table("orders").to_pandas().currency) == {"USD"}
    assert values_by_uci_id(workspace) == expected_values(ROWS, set(EXPECTED_REJECTS))


def test_another_currency_is_converted_or_rejected_per_invoice(
    workspace: Workspace, tmp_path: Path
):
    workspace.set_setting("currency", "USD")
    rows = ROWS[:5]  # invoice 536365, rows 2-6
    refused = workspace.import_file(
        write_csv(tmp_path / "gbp.csv", rows), ImportOptions(currency="GBP")
    )
    assert (refused.rows_loaded, refused.rows_rejected) == (0, 5)
    rejects = workspace.rejects(refused.import_id).to_pylist()
    assert rejects[0]["row_number"] == 2 and "no exchange rate" in rejects[0]["reason"]
    assert {r["reason"] for r in rejects[1:]} == {
        "part of a rejected invoice (invoice 536365, see row 2)"
    }

    workspace.set_setting("fx_rates", '{"GBP": 1.25}')
    converted = workspace.import_file(
        write_csv(tmp_path / "gbp_again.csv", rows + [ROWS[5]]), ImportOptions(currency="GBP")
    )
    assert (converted.rows_loaded, converted.rows_rejected) == (6, 0)
    order = workspace.table("orders").to_pandas().set_index("order_id").loc["536365"]
    # Each line is converted and rounded to the cent (half up), the order is their sum.
    cent = Decimal("0.01")
    usd = [
        (Decimal(r[3]) * Decimal(r[5]) * Decimal("1.25")).quantize(cent, ROUND_HALF_UP)
        for r in rows
    ]
    assert order.currency == "USD"
    assert order.total == sum(usd, Decimal(0)) == Decimal("122.92")
    lines = workspace.table("order_lines").filter(ibis._.order_id == "536365").to_pandas()
    assert sorted(lines.amount) == sorted(usd)
    assert sorted(lines.unit_price) == sorted(Decimal(r[5]) * Decimal("1.25") for r in rows)


# -- Online Retail II: CSV and the two-sheet workbook ---------------------------------------
def online_retail_ii_rows() -> list[list[str]]:
    """The same rows as Online Retail II's CSV copies write them: ids as floats."""
    return [[*r[:6], f"{r[6]}.0" if r[6] else "", r[7]] for r in ROWS]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_online_retail_ii_gives_the_same_result(workspace: Workspace, tmp_path: Path, kind: str):
    reference = Workspace(tmp_path / "reference.duckdb")
    try:
        reference.import_file(write_csv(tmp_path / "Online Retail.csv", ROWS))
        expected = snapshot(reference)
    finally:
        reference.close()
    if kind == "csv":
        path = write_csv(tmp_path / "online_retail_II.csv", online_retail_ii_rows(), HEADER_II)
    else:
        # Rows 2-19 on the first sheet, 20-34 on the second: the duplicate (row 20) repeats a
        # row of the other sheet, as the real workbook's sheets overlap on 1-9 Dec 2010.
        path = write_xlsx(tmp_path / "online_retail_II.xlsx", ROWS, split=18)
    result = workspace.import_file(path)
    assert result.format == "uci-online-retail-ii"
    got = snapshot(workspace)
    rename = {None: None, **SPELLING_II}
    expected["rejects"] = [
        (row, rename.get(column, column), raw, reason)
        for row, column, raw, reason in expected["rejects"]
    ]
    if kind == "xlsx":  # an empty cell is no text at all in a workbook
        expected["rejects"] = [(n, c, raw or None, r) for n, c, raw, r in expected["rejects"]]
        got["rejects"] = [(n, c, raw or None, r) for n, c, raw, r in got["rejects"]]
    assert got == expected
    assert got["counts"]["rows_read"] == 33 and got["counts"]["rows_loaded"] == 23


def test_online_retail_ii_workbook_numbers_rows_across_sheets(workspace: Workspace, tmp_path: Path):
    # The last invoice of the first sheet appears again at the top of the second one.
    rows = ROWS[:7] + ROWS[5:7]  # rows 2-8, then 536366's two lines again as rows 9-10
    path = write_xlsx(tmp_path / "online_retail_II.xlsx", rows, split=7)
    result = workspace.import_file(path)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (9, 7, 2)
    assert result.duplicate_rows == 2
    rejects = [(r["row_number"], r["reason"]) for r in workspace.rejects().to_pylist()]
    assert rejects == [(9, "exact duplicate (of row 7)"), (10, "exact duplicate (of row 8)")]
    assert workspace.table("orders").count().execute() == 2


# -- re-import ------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_reimport_of_the_same_file_changes_nothing(workspace: Workspace, tmp_path: Path, kind: str):
    if kind == "csv":
        path = write_csv(tmp_path / "Online Retail.csv", ROWS)
    else:
        path = write_xlsx(tmp_path / "online_retail_II.xlsx", ROWS, split=18)
    first = workspace.import_file(path)
    tables = (
        "customers",
        "identities",
        "orders",
        "order_lines",
        "refunds",
        "imports",
        "rejects",
        "settings",
    )
    before = {t: workspace.table(t).to_pandas().to_dict("records") for t in tables}
    again = workspace.import_file(path)
    assert again.skipped and again.import_id == first.import_id
    assert (again.rows_read, again.rows_loaded, again.rows_rejected) == (0, 0, 0)
    after = {t: workspace.table(t).to_pandas().to_dict("records") for t in tables}
    assert after == before


# -- the real file --------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.shared_data
def test_the_real_online_retail_file(workspace: Workspace, shared_data: Path):
    import pandas as pd

    path = shared_data / "online_retail" / "online_retail_2010_2011.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        raw = pd.read_csv(fh, dtype=str, keep_default_na=False)
    raw.index = raw.index + 2  # the row number a user sees
    assert len(raw) == 541_909

    result = workspace.import_file(path)
    assert result.format == "uci-online-retail"
    assert result.rows_read == result.rows_loaded + result.rows_rejected == 541_909

    # Independent counts, in the order the importer's rules are documented.
    duplicate = raw.duplicated(keep="first")
    left = raw[~duplicate]
    quantity = left.Quantity.astype(int)
    cancel = left.InvoiceNo.str.startswith("C")
    bad_debt = left.InvoiceNo.str.startswith("A")
    write_off = (quantity < 0) & ~cancel
    positive_cancel = (quantity > 0) & cancel
    no_customer = left.CustomerID.str.strip() == ""
    anonymous = no_customer & ~bad_debt & ~write_off & ~positive_cancel
    assert duplicate.sum() == 5_268
    assert (raw.CustomerID == "").sum() == 541_909 - 406_829  # formats.md: 406,829 have one
    assert result.duplicate_rows == duplicate.sum()
    assert result.reject_reasons["exact duplicate"] == duplicate.sum()
    assert result.reject_reasons["no customer id"] == anonymous.sum()
    assert result.reject_reasons["bad-debt adjustment: a ledger entry, not a sale"] == (
        bad_debt.sum()
    )
    assert (
        result.reject_reasons["negative quantity on an invoice that is not a C cancellation"]
        == (write_off & ~bad_debt).sum()
    )
    rejects = workspace.rejects(result.import_id).to_pandas()
    by_reason = rejects.groupby("reason").row_number.apply(set)
    assert by_reason[NO_CUSTOMER] == set(anonymous[anonymous].index)
    dup_rows = set(rejects[rejects.reason.str.startswith("exact duplicate")].row_number)
    assert dup_rows == set(duplicate[duplicate].index)
    # Every row without a customer id is rejected for one reason or another.
    assert set(raw.index[raw.CustomerID == ""]) <= set(rejects.row_number)

    # Rows that load: those with no problem of their own, in invoices with no rejected row.
    own = bad_debt | write_off | positive_cancel
    bad_invoices = set(left.InvoiceNo[own])
    loads = ~own & ~no_customer & ~left.InvoiceNo.isin(bad_invoices)
    assert result.rows_loaded == loads.sum()

    customers = raw.CustomerID[raw.CustomerID != ""].nunique()
    assert customers == 4_372
    assert workspace.table("customers").count().execute() == customers
    assert workspace.table("identities").count().execute() == customers
    kept = left[loads]
    assert (
        workspace.table("orders").count().execute()
        == kept.InvoiceNo[~kept.InvoiceNo.str.startswith("C")].nunique()
    )
    assert (
        workspace.table("refunds").count().execute()
        == kept.InvoiceNo[kept.InvoiceNo.str.startswith("C")].nunique()
    )

    # The two huge orders were cancelled the same day: nothing is left of them.
    values = values_by_uci_id(workspace)
    # A few prices have three decimals (0.001): each line is rounded to the cent.
    amounts = kept.assign(
        amount=[
            (Decimal(q) * Decimal(p)).quantize(Decimal("0.01"), ROUND_HALF_UP)
            for q, p in zip(kept.Quantity, kept.UnitPrice, strict=True)
        ]
    )
    for customer in ("12346", "16446"):
        mine = amounts[amounts.CustomerID == customer]
        assert values[customer]["amount_spent"] == sum(mine.amount, Decimal(0))
        assert abs(values[customer]["amount_spent"]) < Decimal(5)
    assert values["12346"]["amount_spent"] == 0
    # And the whole file's money, summed line by line here.
    merchandise = ~amounts.StockCode.isin(NOT_MERCHANDISE)
    assert sum(v["amount_spent"] for v in values.values()) == sum(amounts.amount, Decimal(0))
    assert sum(v["net_sales"] for v in values.values()) == sum(
        amounts.amount[merchandise], Decimal(0)
    )
    assert values["12346"]["gross_spent"] == 74_215 * Decimal("1.04")
    huge = amounts[(amounts.CustomerID == "16446") & (amounts.InvoiceNo == "581483")]
    assert huge.amount.sum() == 80_995 * Decimal("2.08")
