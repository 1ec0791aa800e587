"""UCI Online Retail (id 352) and Online Retail II (id 502): CSV, ``.csv.gz`` or XLSX.

Both files have one row per invoice line; the two layouts differ only in column names, so
one implementation reads both through :data:`SPELLINGS`. The rules, in the order a row is
judged (a row is rejected for the first rule it breaks):

1. **Exact duplicates** (the real file has about 5,000, and Online Retail II's two sheets
   overlap on 1-9 Dec 2010) are rejected as ``exact duplicate (of row N)`` and counted as
   duplicate rows. Only the duplicate row is dropped; its invoice still loads.
2. **``A`` invoices** ("Adjust bad debt", negative price) are ledger entries, not sales:
   rejected as ``bad-debt adjustment``.
3. **Malformed cells**: a quantity that is not a whole number, a price that is not a number
   or is negative, a date in none of the spellings below, a customer id that is not a whole
   number, a missing invoice number or stock code.
4. **Absurd values**: a line quantity above the ``max_line_quantity`` setting, a unit price
   or an invoice total above ``max_order_amount`` (the real file's 80,995-unit order by
   customer 16446, cancelled the same day, is within the defaults and loads with its
   cancellation, so its net effect is nil).
5. **Stock write-offs**: a negative quantity on an invoice that is not a ``C``
   cancellation; and, symmetrically, a positive quantity on a ``C`` invoice.
6. **No customer id** (about 25% of rows, anonymous sales): rejected, but like duplicates
   only the row itself is dropped.

A row rejected for rules 2-5 takes its whole invoice with it (``part of a rejected invoice``),
as does an invoice-level problem (rows for several customers, an absurd total, a currency
without an exchange rate): no invoice is ever loaded in part.

``InvoiceDate`` is read in ISO form (``2010-12-01 08:26:00``, as in the XLSX and the
Spark-guide CSV copies), as ``12/1/2010 8:26`` (month first, with slashes) and as
``01-12-2010 08:26`` (day first, with dashes). The times carry no offset: they are local time
in the workspace zone, which is set to ``Europe/London`` when the workspace has none yet.
Prices are in the currency given with ``--currency``, else in the workspace currency, else
in GBP (which then becomes the workspace currency); ``CustomerID`` may read
``17850.0`` and is cast to ``17850``.

Stock codes that are not products get a ``line_kind`` from :data:`LINE_KINDS`. A normal
invoice becomes one order (``order_id`` = the invoice number, ``product_sales`` = product and
discount lines, ``shipping`` = shipping lines, ``total`` = every line). A ``C`` invoice is a
refund of the customer on its date (``refund_id`` = ``uci:C536379``, no ``order_id``: the
data does not say which invoice was cancelled), with ``amount`` = minus the sum of its lines
and ``product_amount`` = minus its product and discount lines. Each customer is the record
``uci:<id>`` with the identity ``uci:<id>``; the profile keeps the country as written.

In an XLSX workbook every sheet's rows are numbered as if the sheets were stacked under one
header: the first data row of the second sheet follows the last row of the first sheet.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from segmint.importers.base import Batch, ImportContext, Importer, ImportOptions
from segmint.importers.common import (
    currency_problem,
    drop_exact_duplicates,
    fx_rate,
    learn_currency,
    learn_timezone,
    money,
    rejects_for_groups,
)
from segmint.normalize import namespaced
from segmint.parsing import ISO_FORMATS, Cells
from segmint.readers import RawTable
from segmint.readers.base import ROW, Reject

#: Canonical column (Online Retail's name) -> its spelling in Online Retail II.
SPELLINGS: dict[str, str] = {
    "InvoiceNo": "Invoice",
    "StockCode": "StockCode",
    "Description": "Description",
    "Quantity": "Quantity",
    "InvoiceDate": "InvoiceDate",
    "UnitPrice": "Price",
    "CustomerID": "Customer ID",
    "Country": "Country",
}

#: Stock codes that are not products, and what their lines are.
LINE_KINDS: dict[str, str] = {
    "POST": "shipping",
    "DOT": "shipping",
    "C2": "shipping",
    "BANK CHARGES": "fee",
    "AMAZONFEE": "fee",
    "PADS": "fee",
    "CRUK": "fee",
    "M": "adjustment",
    "m": "adjustment",
    "S": "adjustment",
    "B": "adjustment",
    "D": "discount",
}

#: Line kinds that count towards ``product_sales``.
PRODUCT_KINDS = ("product", "discount")

#: ``InvoiceDate`` spellings: ISO, then ``12/1/2010 8:26`` and ``01-12-2010 08:26``.
DATE_FORMATS = (
    *ISO_FORMATS,
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
)

#: A customer id: digits, perhaps written as a float (``17850.0``).
CUSTOMER_ID = r"^\d+(\.0*)?$"
DEFAULT_ZONE = "Europe/London"
DEFAULT_CURRENCY = "GBP"
NO_CUSTOMER = "no customer id (anonymous sale)"
BAD_DEBT = "bad-debt adjustment: a ledger entry, not a sale"
WRITE_OFF = "negative quantity on an invoice that is not a C cancellation (stock write-off)"
POSITIVE_CANCEL = "positive quantity on a C cancellation invoice"


class _OnlineRetailBase(Importer):
    """The shared reader for both UCI layouts; ``columns`` gives this layout's names."""

    optional = ()
    columns: ClassVar[dict[str, str]]

    def column_map(self, header: list[str]) -> dict[str, str]:
        present = set(header)
        return {canonical: name for canonical, name in self.columns.items() if name in present}

    def read(self, path: Path, options: ImportOptions, header: list[str]) -> RawTable:
        return _stack_sheets(super().read(path, options, header))

    def build(self, raw: RawTable, ctx: ImportContext) -> Batch:
        table, rejects = drop_exact_duplicates(ctx.store, raw.table)
        duplicates = len(rejects)
        cells = Cells(table, self.column_map(raw.header))
        learn_timezone(ctx, [])
        if not ctx.settings["timezone"] and not ctx.setting_updates.get("timezone"):
            ctx.setting_updates["timezone"] = DEFAULT_ZONE
        # The file has no currency: --currency, else the workspace's, else GBP.
        currency = (ctx.options.currency or ctx.currency or DEFAULT_CURRENCY).strip().upper()
        learn_currency(ctx, [currency], default=DEFAULT_CURRENCY)
        typed = _typed(cells, ctx)
        row_rejects = cells.rejects()
        rejects += row_rejects
        staged = ctx.store.stage("_uci_rows", _flag_rejected(typed, row_rejects))
        good, cascade = _cascade(staged)
        rejects += cascade
        rows = ctx.store.stage("_uci_good", _with_amounts(good, currency, ctx))
        invoices = ctx.store.stage(
            "_uci_invoices", _invoices(rows, currency, ctx, cells.source_name)
        )
        bad = invoices.filter(invoices.reason.notnull())
        if bad.count().execute():
            rejects += rejects_for_groups(
                bad.select("invoice", "first_row", "column", "raw", "reason").to_pyarrow(),
                rows.semi_join(bad, "invoice").select("invoice", ROW).order_by(ROW).to_pyarrow(),
                "invoice",
                "invoice",
            )
            invoices = ctx.store.stage(
                "_uci_invoices_ok", invoices.filter(invoices.reason.isnull())
            )
        loaded = rows.semi_join(invoices, "invoice")
        orders = invoices.filter(~invoices.is_refund)
        return Batch(
            rows_loaded=int(loaded.count().execute()),
            rejects=sorted(rejects, key=lambda r: r.row or 0),
            duplicate_rows=duplicates,
            links=_links(invoices),
            profiles=_profiles(invoices),
            orders=_orders(orders, ctx),
            order_lines=_lines(loaded.semi_join(orders, "invoice"), ctx),
            refunds=_refunds(invoices.filter(invoices.is_refund), ctx),
        )


class OnlineRetailImporter(_OnlineRetailBase):
    name = "uci-online-retail"
    description = "UCI Online Retail (2010-2011): CSV, .csv.gz or XLSX, one row per invoice line"
    columns = {canonical: canonical for canonical in SPELLINGS}
    signature = tuple(columns.values())


class OnlineRetailIIImporter(_OnlineRetailBase):
    name = "uci-online-retail-ii"
    description = "UCI Online Retail II (2009-2011): XLSX with two sheets, or CSV"
    columns = SPELLINGS
    signature = tuple(columns.values())


def _stack_sheets(raw: RawTable) -> RawTable:
    """Number the rows of a workbook's later sheets after those of the sheets before them.

    The XLSX reader numbers each sheet from row 2, so rows of different sheets would share
    row numbers, which must be unique (duplicates and rejects are keyed by row).
    """
    table = raw.table
    if "_sheet" not in table.column_names or table.num_rows == 0:
        return raw
    sheets = table["_sheet"]
    offsets = pa.array([0] * table.num_rows, pa.int64())
    offset = 0
    for title in pc.unique(sheets).to_pylist():
        mask = pc.equal(sheets, title)
        offsets = pc.if_else(mask, offset, offsets)
        offset += pc.max(pc.filter(table[ROW], mask)).as_py() - 1
    renumbered = pc.add(table[ROW], offsets)
    table = table.set_column(table.column_names.index(ROW), ROW, renumbered)
    return RawTable(file=raw.file, header=raw.header, table=table, rejects=raw.rejects)


def _typed(cells: Cells, ctx: ImportContext) -> pa.Table:
    """Typed columns for every row; each rule of the module docstring is a problem in
    ``cells``, recorded in the order the rules are judged."""
    max_amount = float(ctx.settings["max_order_amount"])
    max_quantity = float(ctx.settings["max_line_quantity"])
    invoice = cells.text("InvoiceNo")
    cancelled = pc.fill_null(pc.starts_with(invoice, "C"), False)
    cells.problem(pc.starts_with(invoice, "A"), "InvoiceNo", BAD_DEBT)
    cells.require("InvoiceNo", invoice, "line has no invoice number")
    quantity = cells.integer("Quantity")
    cells.require("Quantity", quantity, "line has no quantity")
    price = cells.decimal("UnitPrice", scale=4, minimum=0, what="price")
    cells.require("UnitPrice", price, "line has no price")
    when = cells.timestamp("InvoiceDate", ctx.timezone, formats=DATE_FORMATS)
    cells.require("InvoiceDate", when.utc, "line has no InvoiceDate")
    stock_code = cells.text("StockCode")
    cells.require("StockCode", stock_code, "line has no StockCode")
    customer = cells.text("CustomerID")
    cells.problem(
        pc.invert(pc.match_substring_regex(customer, CUSTOMER_ID)),
        "CustomerID",
        "not a customer id (expected a whole number)",
    )
    cells.problem(
        pc.greater(pc.abs(quantity), max_quantity),
        "Quantity",
        f"absurd line quantity: above {max_quantity:,.0f} (setting max_line_quantity)",
    )
    cells.problem(
        pc.greater(price, max_amount),
        "UnitPrice",
        f"absurd price: above {max_amount:,.0f} (setting max_order_amount)",
    )
    cells.problem(pc.and_(pc.less(quantity, 0), pc.invert(cancelled)), "Quantity", WRITE_OFF)
    cells.problem(pc.and_(pc.greater(quantity, 0), cancelled), "Quantity", POSITIVE_CANCEL)
    cells.require("CustomerID", customer, NO_CUSTOMER)
    return pa.table(
        {
            ROW: cells.table[ROW],
            "invoice": invoice,
            "is_refund": cancelled,
            "stock_code": stock_code,
            "description": cells.text("Description"),
            "quantity": quantity,
            "unit_price": price,
            "placed_at": when.utc,
            "placed_date": when.local_date,
            "customer": pc.replace_substring_regex(customer, r"\.0*$", ""),
            "country": cells.text("Country"),
        }
    )


def _flag_rejected(typed: pa.Table, rejects: list[Reject]) -> pa.Table:
    """Mark rows with a problem of their own, and those whose problem rejects the invoice."""
    own = pa.array(sorted({r.row for r in rejects}), pa.int64())
    whole = pa.array(sorted({r.row for r in rejects if r.reason != NO_CUSTOMER}), pa.int64())
    return typed.append_column("_rejected", pc.is_in(typed[ROW], value_set=own)).append_column(
        "_rejects_invoice", pc.is_in(typed[ROW], value_set=whole)
    )


def _cascade(rows: ir.Table) -> tuple[ir.Table, list[Reject]]:
    """The rows that may load, and rejects for the other rows of invoices rejected in part."""
    causes = rows.filter(rows._rejects_invoice & rows.invoice.notnull())
    bad = causes.group_by("invoice").aggregate(first_bad=causes[ROW].min())
    clean = rows.filter(~rows._rejected)
    followers = clean.join(bad, "invoice").select(ROW, "invoice", "first_bad").order_by(ROW)
    found = followers.to_pyarrow()
    columns = (found[c].to_pylist() for c in (ROW, "invoice", "first_bad"))
    cascade = [
        Reject(row, None, None, f"part of a rejected invoice (invoice {invoice}, see row {first})")
        for row, invoice, first in zip(*columns, strict=True)
    ]
    return clean.anti_join(bad, "invoice"), cascade


def _with_amounts(rows: ir.Table, currency: str, ctx: ImportContext) -> ir.Table:
    """Each line's kind and amount in the workspace currency."""
    amount = rows.quantity * rows.unit_price
    price = rows.unit_price
    if currency != ctx.currency:
        # An exact decimal rate, so that a line's amount is rounded once, in decimal.
        rate = fx_rate(ibis.literal(currency), ctx).cast("decimal(18, 8)")
        amount, price = amount * rate, price * rate
    return rows.mutate(
        line_kind=rows.stock_code.substitute(LINE_KINDS, else_="product"),
        amount=money(amount),
        unit_price=price.cast("decimal(18, 4)"),
    )


def _invoices(
    rows: ir.Table, currency: str, ctx: ImportContext, column: Callable[[str], str]
) -> ir.Table:
    """One row per invoice with its totals, and why it cannot load (null when it can)."""

    def total_of(where: ir.BooleanValue) -> ir.NumericValue:
        return rows.amount.sum(where=where).fill_null(0)

    invoices = rows.group_by("invoice").aggregate(
        first_row=rows[ROW].min(),
        is_refund=rows.is_refund.first(order_by=rows[ROW]),
        placed_at=rows.placed_at.first(order_by=rows[ROW]),
        placed_date=rows.placed_date.first(order_by=rows[ROW]),
        customer=rows.customer.first(order_by=rows[ROW]),
        customers=rows.customer.nunique(),
        country=rows.country.first(where=rows.country.notnull(), order_by=rows[ROW]),
        total=rows.amount.sum(),
        shipping=total_of(rows.line_kind == "shipping"),
        product=total_of(rows.line_kind.isin(PRODUCT_KINDS)),
        discount=total_of(rows.line_kind == "discount"),
    )
    max_amount = float(ctx.settings["max_order_amount"])
    problem = currency_problem(ibis.literal(currency), ctx)
    checks = [
        (
            invoices.customers > 1,
            column("CustomerID"),
            invoices.customer,
            "invoice has rows for several customers",
        ),
        (
            invoices.total.abs() > max_amount,
            column("UnitPrice"),
            invoices.total.cast("string"),
            f"absurd order amount: above {max_amount:,.0f} (setting max_order_amount)",
        ),
        (problem.notnull(), None, ibis.literal(currency), problem),
    ]
    return invoices.mutate(
        reason=ibis.cases(*[(c, reason) for c, _, _, reason in checks], else_=ibis.null("string")),
        column=ibis.cases(
            *[(c, col or ibis.null("string")) for c, col, _, _ in checks], else_=ibis.null("string")
        ),
        raw=ibis.cases(*[(c, raw) for c, _, raw, _ in checks], else_=ibis.null("string")),
    )


def _record_key(invoices: ir.Table) -> ir.StringValue:
    return namespaced("uci", invoices.customer)


def _orders(orders: ir.Table, ctx: ImportContext) -> ir.Table:
    return orders.select(
        order_id=orders.invoice,
        order_number=orders.invoice,
        record_key=_record_key(orders),
        source=ibis.literal("uci"),
        placed_at=orders.placed_at,
        placed_date=orders.placed_date,
        status=ibis.literal("placed"),
        currency=ibis.literal(ctx.currency),
        subtotal=money(orders.total),
        shipping=money(orders.shipping),
        taxes=money(ibis.literal(0)),
        total=money(orders.total),
        product_sales=money(orders.product),
        discount_amount=money(-orders.discount),
        refunded_amount=money(ibis.literal(0)),
        channel=ibis.literal("web"),
        billing_country=orders.country,
        import_id=ibis.literal(ctx.import_id),
    )


def _lines(rows: ir.Table, ctx: ImportContext) -> ir.Table:
    number = ibis.row_number().over(group_by=rows.invoice, order_by=rows[ROW]) + 1
    return rows.select(
        order_id=rows.invoice,
        line_number=number.cast("int32"),
        line_kind=rows.line_kind,
        sku=rows.stock_code,
        product_name=rows.description,
        quantity=rows.quantity,
        unit_price=rows.unit_price,
        line_discount=money(ibis.literal(0)),
        amount=rows.amount,
        import_id=ibis.literal(ctx.import_id),
    )


def _refunds(refunds: ir.Table, ctx: ImportContext) -> ir.Table:
    return refunds.select(
        refund_id="uci:" + refunds.invoice,
        order_id=ibis.null("string"),
        record_key=_record_key(refunds),
        refunded_at=refunds.placed_at,
        refunded_date=refunds.placed_date,
        amount=money(-refunds.total),
        product_amount=money(-refunds.product),
        source=ibis.literal("uci"),
        import_id=ibis.literal(ctx.import_id),
    )


def _customers(invoices: ir.Table) -> ir.Table:
    return invoices.group_by("customer").aggregate(
        seen_at=invoices.placed_at.min(),
        last_at=invoices.placed_at.max(),
        country=invoices.country.first(
            where=invoices.country.notnull(),
            order_by=[ibis.desc(invoices.placed_at), ibis.desc(invoices.first_row)],
        ),
    )


def _links(invoices: ir.Table) -> ir.Table:
    customers = invoices.select("customer").distinct()
    key = _record_key(customers)
    return customers.select(record_key=key, identity=key, kind=ibis.literal("uci"))


def _profiles(invoices: ir.Table) -> ir.Table:
    customers = _customers(invoices)
    return customers.select(
        record_key=_record_key(customers),
        rank=customers.last_at.epoch_seconds(),
        seen_at=customers.seen_at,
        country=customers.country,
    )
