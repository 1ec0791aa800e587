"""Shopify orders export (Admin > Orders > Export), current and older header layouts.

One order spans several rows, one per line item; only the first row of an order carries the
order-level fields, so they are taken as the first non-blank value in row order, never
summed. Columns are matched by name, so the 79-, 75- and older layouts all read alike.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from segmint.importers.base import Batch, ImportContext, Importer
from segmint.importers.common import (
    channel_of,
    consent_from_flag,
    currency_problem,
    drop_exact_duplicates,
    first_in_file_order,
    fx_rate,
    learn_currency,
    learn_timezone,
    money,
    rejects_for_groups,
    split_list,
)
from segmint.normalize import normalize_email, normalize_phone
from segmint.parsing import Cells
from segmint.readers import RawTable
from segmint.readers.base import ROW, Reject

#: Order-level columns: the first non-blank value of an order's rows is the order's value.
ORDER_FIELDS = (
    "order_key",
    "email",
    "phone",
    "financial_status",
    "fulfillment_status",
    "accepts_marketing",
    "currency",
    "subtotal",
    "shipping",
    "taxes",
    "total",
    "discount_code",
    "discount_amount",
    "billing_name",
    "billing_company",
    "billing_address1",
    "billing_city",
    "billing_zip",
    "billing_province",
    "billing_country",
    "billing_phone",
    "shipping_city",
    "shipping_zip",
    "shipping_province",
    "shipping_country",
    "cancelled_at",
    "refunded_amount",
    "tags",
    "source",
)


class ShopifyOrdersImporter(Importer):
    name = "shopify-orders"
    description = "Shopify orders export CSV (one row per line item)"
    signature = (
        "Name",
        "Email",
        "Financial Status",
        "Created at",
        "Lineitem quantity",
        "Lineitem name",
        "Lineitem price",
        "Total",
    )
    optional = (
        "Fulfillment Status",
        "Accepts Marketing",
        "Currency",
        "Subtotal",
        "Shipping",
        "Taxes",
        "Discount Code",
        "Discount Amount",
        "Lineitem compare at price",
        "Lineitem sku",
        "Lineitem fulfillment status",
        "Billing Name",
        "Billing Company",
        "Billing Address1",
        "Billing City",
        "Billing Zip",
        "Billing Province",
        "Billing Country",
        "Billing Phone",
        "Shipping City",
        "Shipping Zip",
        "Shipping Province",
        "Shipping Country",
        "Cancelled at",
        "Refunded Amount",
        "Vendor",
        "Id",
        "Tags",
        "Source",
        "Lineitem discount",
        "Phone",
    )

    def build(self, raw: RawTable, ctx: ImportContext) -> Batch:
        table, rejects = drop_exact_duplicates(ctx.store, raw.take())
        duplicates = len(rejects)
        cells = Cells(table, self.column_map(raw.header))
        zone = learn_timezone(ctx, cells.raw("Created at").slice(0, 10_000).to_pylist())
        learn_currency(ctx, cells.text("Currency"))
        typed = self._typed(cells, ctx, zone)
        rejects += cells.rejects()
        del table, cells
        keep, cascade = _cascade_bad_rows(typed, rejects, _unreadable_rows_by_order(raw))
        rejects += cascade
        with ctx.store.arrow("_shopify_typed", typed.append_column("_keep", keep)) as rows:
            staged = ctx.store.stage("_shopify_rows", rows.filter(rows._keep).drop("_keep"))
        del typed, keep
        orders = ctx.store.stage("_shopify_orders", _orders(staged, ctx))
        bad = orders.filter(orders.reason.notnull())
        if bad.count().execute():
            rejects += rejects_for_groups(
                bad.select("name", "first_row", "column", "raw", "reason").to_pyarrow(),
                staged.semi_join(bad, "name").select("name", ROW).order_by(ROW).to_pyarrow(),
                "name",
                "order",
            )
            orders = ctx.store.stage("_shopify_good", orders.filter(orders.reason.isnull()))
        rows = staged.semi_join(orders, "name")
        return Batch(
            rows_loaded=int(rows.count().execute()),
            rejects=sorted(rejects, key=lambda r: r.row or 0),
            duplicate_rows=duplicates,
            links=_links(orders),
            profiles=_profiles(orders),
            orders=_canonical_orders(orders, ctx),
            order_lines=_lines(rows, orders, ctx),
            refunds=_refunds(orders, ctx),
        )

    def _typed(self, cells: Cells, ctx: ImportContext, zone: str) -> pa.Table:
        """Typed columns for every row; malformed cells are recorded in ``cells``."""
        max_amount = float(ctx.settings["max_order_amount"])
        max_quantity = float(ctx.settings["max_line_quantity"])
        created = cells.timestamp("Created at", zone, date_as_written=True)
        name = cells.text("Name")
        cells.require("Name", name)
        cells.require("Created at", created.utc)
        cancelled = cells.timestamp("Cancelled at", zone, date_as_written=True)
        amount = {"minimum": 0, "maximum": max_amount, "what": "order amount"}
        columns = {
            ROW: cells.table[ROW],
            "name": name,
            "created_at": created.utc,
            "created_date": created.local_date,
            "order_key": cells.text("Id"),
            "email": cells.text("Email"),
            "phone": cells.text("Phone"),
            "financial_status": pc.utf8_lower(cells.text("Financial Status")),
            "fulfillment_status": pc.utf8_lower(cells.text("Fulfillment Status")),
            "accepts_marketing": cells.boolean("Accepts Marketing"),
            "currency": pc.utf8_upper(cells.text("Currency")),
            "subtotal": cells.decimal("Subtotal", **amount),
            "shipping": cells.decimal("Shipping", **amount),
            "taxes": cells.decimal("Taxes", **amount),
            "total": cells.decimal("Total", **amount),
            "discount_code": cells.text("Discount Code"),
            "discount_amount": cells.decimal("Discount Amount", **amount),
            "quantity": cells.integer(
                "Lineitem quantity", minimum=0, maximum=max_quantity, what="line quantity"
            ),
            "product_name": cells.text("Lineitem name"),
            "unit_price": cells.decimal("Lineitem price", scale=4, **amount),
            "compare_at_price": cells.decimal("Lineitem compare at price", scale=4, **amount),
            "sku": cells.text("Lineitem sku"),
            "line_fulfillment": cells.text("Lineitem fulfillment status"),
            "line_discount": cells.decimal("Lineitem discount", **amount),
            "vendor": cells.text("Vendor"),
            "cancelled_at": cancelled.utc,
            "refunded_amount": cells.decimal("Refunded Amount", **amount),
            "tags": cells.text("Tags"),
            "source": cells.text("Source"),
        }
        for prefix in ("Billing", "Shipping"):
            for part in ("City", "Zip", "Province", "Country"):
                columns[f"{prefix.lower()}_{part.lower()}"] = cells.text(f"{prefix} {part}")
        for part in ("Name", "Company", "Address1", "Phone"):
            columns[f"billing_{part.lower()}"] = cells.text(f"Billing {part}")
        cells.require("Lineitem quantity", columns["quantity"], "line item has no quantity")
        cells.require("Lineitem price", columns["unit_price"], "line item has no price")
        return pa.table(columns)


def _unreadable_rows_by_order(raw: RawTable) -> dict[str, int]:
    """Order name -> first row of that order the reader could not split (a truncated row
    still has its leading ``Name`` cell)."""
    found: dict[str, int] = {}
    for reject in raw.rejects:
        name = (reject.cells or {}).get("Name", "").strip()
        if name and reject.row is not None:
            found[name] = min(reject.row, found.get(name, reject.row))
    return found


def _cascade_bad_rows(
    typed: pa.Table, rejects: list[Reject], unreadable: dict[str, int]
) -> tuple[pa.Array, list[Reject]]:
    """Rows to keep: not rejected, and in no order with a rejected or unreadable row; and the
    rejects for the other rows of those orders."""
    bad_rows = {r.row for r in rejects}
    is_bad = pc.is_in(typed[ROW], value_set=pa.array(sorted(bad_rows), pa.int64()))
    first_bad: dict[str, int] = dict(unreadable)
    for name, row in zip(
        pc.filter(typed["name"], is_bad).to_pylist(),
        pc.filter(typed[ROW], is_bad).to_pylist(),
        strict=True,
    ):
        if name is not None:
            first_bad[name] = min(row, first_bad.get(name, row))
    bad_names = pa.array(sorted(first_bad), pa.string())
    in_bad_order = pc.fill_null(pc.is_in(typed["name"], value_set=bad_names), False)
    followers = typed.select(["name", ROW]).filter(pc.and_(in_bad_order, pc.invert(is_bad)))
    cascade = [
        Reject(
            row, None, None, f"part of a rejected order (order {name}, see row {first_bad[name]})"
        )
        for name, row in zip(followers["name"].to_pylist(), followers[ROW].to_pylist(), strict=True)
    ]
    return pc.invert(pc.or_(is_bad, in_bad_order)), cascade


def _orders(rows: ir.Table, ctx: ImportContext) -> ir.Table:
    """One row per order (``Name``), order-level fields from the order's first rows."""
    orders = rows.group_by("name").aggregate(
        first_row=rows[ROW].min(),
        placed_at=rows.created_at.argmin(rows[ROW]),
        placed_date=rows.created_date.argmin(rows[ROW]),
        **{c: first_in_file_order(rows, c) for c in ORDER_FIELDS},
    )
    currency = ibis.coalesce(orders.currency, ibis.literal(ctx.currency))
    orders = orders.mutate(
        currency=currency,
        email_norm=normalize_email(orders.email),
        phone_norm=normalize_phone(
            ibis.coalesce(orders.phone, orders.billing_phone),
            ibis.coalesce(
                orders.billing_country,
                orders.shipping_country,
                ibis.literal(ctx.settings["default_phone_country"]),
            ),
        ),
    )
    checks = [
        (
            orders.total.isnull(),
            "Total",
            orders.total.cast("string"),
            "the order's first row has no Total (order-level fields missing)",
        ),
        (
            currency_problem(currency, ctx).notnull(),
            "Currency",
            currency,
            currency_problem(currency, ctx),
        ),
        (
            orders.refunded_amount.fill_null(0) > orders.total,
            "Refunded Amount",
            orders.refunded_amount.cast("string"),
            "refunded amount exceeds the order Total",
        ),
        (
            orders.email_norm.isnull() & orders.phone_norm.isnull(),
            "Email",
            orders.email,
            "no usable Email or Phone: the order cannot be linked to a customer",
        ),
    ]
    return orders.mutate(
        reason=ibis.cases(
            *[(cond, reason) for cond, _, _, reason in checks], else_=ibis.null("string")
        ),
        column=ibis.cases(*[(cond, col) for cond, col, _, _ in checks], else_=ibis.null("string")),
        raw=ibis.cases(*[(cond, raw) for cond, _, raw, _ in checks], else_=ibis.null("string")),
    )


def _order_id(orders: ir.Table) -> ir.StringValue:
    return ibis.coalesce(orders.order_key, orders.name)


def _record_key(orders: ir.Table) -> ir.StringValue:
    return "order:" + _order_id(orders)


def _canonical_orders(orders: ir.Table, ctx: ImportContext) -> ir.Table:
    rate = fx_rate(orders.currency, ctx)

    def converted(column: str) -> ir.Value:
        return money(orders[column].fill_null(0) * rate)

    status = ibis.cases(
        (orders.cancelled_at.notnull(), "cancelled"),
        (orders.financial_status == "voided", "voided"),
        else_="placed",
    )
    return orders.select(
        order_id=_order_id(orders),
        order_number=orders.name,
        record_key=_record_key(orders),
        source=ibis.literal("shopify"),
        placed_at=orders.placed_at,
        placed_date=orders.placed_date,
        status=status,
        financial_status=orders.financial_status,
        fulfillment_status=orders.fulfillment_status,
        currency=orders.currency,
        subtotal=converted("subtotal"),
        shipping=converted("shipping"),
        taxes=converted("taxes"),
        total=converted("total"),
        product_sales=converted("subtotal"),
        discount_code=orders.discount_code,
        discount_amount=converted("discount_amount"),
        refunded_amount=converted("refunded_amount"),
        channel=channel_of(orders.source, ctx.settings["channel_map"]),
        source_name=orders.source,
        billing_city=orders.billing_city,
        billing_region=orders.billing_province,
        billing_country=orders.billing_country,
        billing_zip=orders.billing_zip,
        shipping_city=orders.shipping_city,
        shipping_region=orders.shipping_province,
        shipping_country=orders.shipping_country,
        shipping_zip=orders.shipping_zip,
        cancelled_at=orders.cancelled_at,
        tags=split_list(orders.tags),
        import_id=ibis.literal(ctx.import_id),
    )


def _lines(rows: ir.Table, orders: ir.Table, ctx: ImportContext) -> ir.Table:
    owner = orders.select("name", line_order_id=_order_id(orders), order_currency=orders.currency)
    joined = rows.join(owner, "name")
    rate = fx_rate(joined.order_currency, ctx)
    number = ibis.row_number().over(group_by=joined.name, order_by=joined[ROW]) + 1
    discount = joined.line_discount.fill_null(0)
    return joined.select(
        order_id=joined.line_order_id,
        line_number=number.cast("int32"),
        line_kind=ibis.literal("product"),
        sku=joined.sku,
        product_name=joined.product_name,
        quantity=joined.quantity,
        unit_price=(joined.unit_price * rate).cast("decimal(18, 4)"),
        compare_at_price=(joined.compare_at_price * rate).cast("decimal(18, 4)"),
        line_discount=money(discount * rate),
        amount=money((joined.quantity * joined.unit_price - discount) * rate),
        vendor=joined.vendor,
        import_id=ibis.literal(ctx.import_id),
    )


def _refunds(orders: ir.Table, ctx: ImportContext) -> ir.Table:
    """A refund per counted order with ``Refunded Amount``, in the workspace currency; the
    export gives no refund date, so it is dated at the order (see docs/data-model.md)."""
    refunded = orders.filter(
        (orders.refunded_amount > 0)
        & orders.cancelled_at.isnull()
        & (orders.financial_status.fill_null("") != "voided")
    )
    share = ibis.ifelse(refunded.total > 0, refunded.subtotal / refunded.total, 0)
    product = ibis.least(refunded.refunded_amount * share, refunded.subtotal.fill_null(0))
    rate = fx_rate(refunded.currency, ctx)
    return refunded.select(
        refund_id="refund:" + _order_id(refunded),
        order_id=_order_id(refunded),
        record_key=_record_key(refunded),
        refunded_at=refunded.placed_at,
        refunded_date=refunded.placed_date,
        order_date=refunded.placed_date,
        amount=money(refunded.refunded_amount * rate),
        product_amount=money(product * rate),
        source=ibis.literal("shopify"),
    )


def _links(orders: ir.Table) -> ir.Table:
    key = _record_key(orders)
    email = orders.select(
        record_key=key, identity="email:" + orders.email_norm, kind=ibis.literal("email")
    )
    phone = orders.select(
        record_key=key, identity="phone:" + orders.phone_norm, kind=ibis.literal("phone")
    )
    return email.union(phone)


def _profiles(orders: ir.Table) -> ir.Table:
    name = orders.billing_name.strip()
    first = name.split(" ")[0]
    return orders.select(
        record_key=_record_key(orders),
        rank=orders.placed_at.epoch_seconds(),
        seen_at=orders.placed_at,
        email=orders.email_norm,
        phone=orders.phone_norm,
        first_name=first,
        last_name=ibis.ifelse(
            name.length() > first.length(),
            name.substr(first.length() + 1).strip(),
            ibis.null("string"),
        ),
        company=orders.billing_company,
        address1=orders.billing_address1,
        city=ibis.coalesce(orders.billing_city, orders.shipping_city),
        region=ibis.coalesce(orders.billing_province, orders.shipping_province),
        country=ibis.coalesce(orders.billing_country, orders.shipping_country),
        zip=ibis.coalesce(orders.billing_zip, orders.shipping_zip),
        email_consent=consent_from_flag(orders.accepts_marketing),
    )
