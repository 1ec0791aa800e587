"""Any CSV, text or Parquet file of orders, customers or events, given a column mapping.

A mapping (a YAML file, see :func:`load_mapping`) says what the rows are (``kind``), how the
file is split (``header``, ``delimiter``), and which column holds each canonical field::

    kind: orders            # orders | customers | events
    header: false           # default true
    delimiter: whitespace   # or one character such as "," ";" "|" "\\t"; default ","
    namespace: cdnow        # customer ids become the identities cdnow:<id>
    date_format: "%Y%m%d"   # optional strftime format, or a list of them
    currency: USD           # optional: the currency of the file's amounts
    columns:                # canonical field -> header name, or 1-based position
      customer_id: 1
      placed_at: 3
      quantity: 4
      total: 5

Rules:

- **Orders**: each row is one order, with one order line when ``quantity``, ``product_name``
  or ``sku`` is mapped. ``total`` and ``placed_at`` are required, and one of
  ``customer_id``, ``email`` or ``phone``. ``product_sales`` is the ``subtotal`` when mapped,
  else ``total - shipping - taxes``. Without an ``order_id`` column an order's id is
  ``<namespace>:`` + a hash of the row's mapped cells + ``-N`` for the N-th identical row, so
  identical rows (two same-day purchases of the same amount) are distinct orders, and
  re-importing the same content replaces rather than duplicates. With ``order_id``, exact
  duplicate rows are rejected, and an id that appears on several rows rejects all of them
  (the file has one row per line item, which a mapping cannot describe).
- **Customers**: each row is a customer record, linked by ``<namespace>:<customer_id>``,
  email and phone; its non-blank values replace what orders said (like the Shopify customers
  export). Exact duplicate rows are rejected.
- **Events**: the fields of the events format (``event``, ``timestamp``, ``email``,
  ``customer_id``, ``phone``, ``order_id``, ``product_id``, ``value``...), read with exactly
  its rules (event names, timestamps, identical rows kept); ``customer_id`` becomes
  ``<namespace>:<id>``.
- ``status``: ``cancelled``/``canceled`` become ``cancelled`` and ``voided``/``void``/``failed``
  become ``voided`` (kept, not counted); any other value (``completed``, ``processing``,
  ``shipped``, ``refunded``...) is a placed order. ``refunded_amount`` becomes a refund
  dated at the order; without it, a ``refunded`` status refunds the whole total.
- A customer id of only zeros (``0``: a guest checkout in WooCommerce and BigCommerce
  exports) is no customer id, so guests are linked by email or phone, never to each other.
- Orders get ``source = 'mapped'``.
- Amounts must be plain numbers from 0 to ``max_order_amount``, quantities whole numbers up
  to ``max_line_quantity``; a malformed cell rejects its row, naming the column.
- Dates without an offset are local time in the workspace zone. ``category`` is accepted for
  orders but not stored: order lines have no category column.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from segmint.currencies import ISO_4217
from segmint.errors import ConfigError, UnknownFormatError
from segmint.importers.base import Batch, ImportContext, Importer, ImportOptions
from segmint.importers.common import (
    consent_from_flag,
    currency_problem,
    drop_exact_duplicates,
    fx_rate,
    learn_currency,
    learn_timezone,
    money,
    split_list,
)
from segmint.importers.events import EventsImporter
from segmint.normalize import namespaced, normalize_email, normalize_phone
from segmint.parsing import ISO_FORMATS, Cells, Timestamps, drop_fractional_seconds
from segmint.readers import RawTable, read_table
from segmint.readers.base import ROW, Reject
from segmint.settings import Settings

#: Canonical fields a mapping may name, by kind.
FIELDS: dict[str, tuple[str, ...]] = {
    "orders": (
        "order_id",
        "customer_id",
        "email",
        "phone",
        "placed_at",
        "total",
        "subtotal",
        "shipping",
        "taxes",
        "quantity",
        "currency",
        "status",
        "discount_code",
        "discount_amount",
        "refunded_amount",
        "channel",
        "product_name",
        "sku",
        "category",
        "country",
    ),
    "customers": (
        "customer_id",
        "email",
        "phone",
        "first_name",
        "last_name",
        "city",
        "region",
        "country",
        "zip",
        "email_consent",
        "tags",
    ),
    "events": (*EventsImporter.signature, *EventsImporter.optional),
}
#: Fields each kind needs, and the fields of which it needs at least one.
REQUIRED: dict[str, tuple[str, ...]] = {
    "orders": ("placed_at", "total"),
    "customers": (),
    "events": EventsImporter.signature,
}
ONE_OF = ("customer_id", "email", "phone")
KEYS = ("kind", "header", "delimiter", "namespace", "date_format", "currency", "columns")
WHITESPACE = "whitespace"
LINE_FIELDS = ("quantity", "product_name", "sku")
AMOUNT_FIELDS = ("total", "subtotal", "shipping", "taxes", "discount_amount", "refunded_amount")
TEXT_FIELDS = (
    "order_id",
    "email",
    "phone",
    "discount_code",
    "product_name",
    "sku",
    "category",
    "country",
)
NO_CUSTOMER = "no customer id, email or phone: nobody to link it to"
#: Status words (lower case) that are not placed orders; every other status is ``placed``.
CANCELLED_STATUSES = ("cancelled", "canceled")
VOIDED_STATUSES = ("voided", "void", "failed")
REFUNDED_STATUS = "refunded"


def load_mapping(path: Path | str) -> dict[str, Any]:
    """Read and check a mapping YAML file; errors name the file and the key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the mapping file ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML", details=str(exc)) from None
    return validate_mapping(data, source=str(path))


def validate_mapping(data: Any, source: str = "mapping") -> dict[str, Any]:
    """The mapping with defaults filled in and columns as the file's column names."""

    def fail(key: str, message: str) -> ConfigError:
        return ConfigError(f"{source}: key '{key}': {message}")

    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a mapping must be a YAML dictionary with kind and columns")
    unknown = sorted(str(k) for k in data if k not in KEYS)
    if unknown:
        raise fail(unknown[0], "unknown key (expected one of " + ", ".join(KEYS) + ")")
    kind = data.get("kind")
    if kind not in FIELDS:
        raise fail("kind", f"must be orders, customers or events, got {kind!r}")
    header = data.get("header", True)
    if not isinstance(header, bool):
        raise fail("header", f"must be true or false, got {header!r}")
    delimiter = data.get("delimiter", ",")
    if not isinstance(delimiter, str) or (delimiter != WHITESPACE and len(delimiter) != 1):
        raise fail("delimiter", f"must be one character or 'whitespace', got {delimiter!r}")
    columns = _columns(data.get("columns"), kind, header, fail)
    namespace = data.get("namespace")
    if namespace is not None and (
        not isinstance(namespace, str) or not namespace.replace("_", "").replace("-", "").isalnum()
    ):
        raise fail("namespace", f"must be a word such as 'cdnow', got {namespace!r}")
    if namespace is None and ("customer_id" in columns or kind == "orders"):
        raise fail(
            "namespace",
            "is required to name this file's customer and order ids "
            "(such as 'cdnow': ids become cdnow:<id>)",
        )
    formats = data.get("date_format")
    if isinstance(formats, str):
        formats = [formats]
    if formats is not None and (
        not isinstance(formats, list)
        or not formats
        or not all(isinstance(f, str) and "%" in f for f in formats)
    ):
        raise fail("date_format", "must be a strftime format such as '%Y%m%d', or a list")
    if formats is not None and kind == "events":
        raise fail(
            "date_format",
            "is not used for events: their timestamps are read in ISO 8601 form, with or "
            "without an offset, or as epoch seconds, milliseconds or microseconds",
        )
    currency = data.get("currency")
    if currency is not None:
        if not isinstance(currency, str) or currency.strip().upper() not in ISO_4217:
            raise fail("currency", f"unknown currency {currency!r} (expected an ISO 4217 code)")
        currency = currency.strip().upper()
    return {
        "kind": kind,
        "header": header,
        "delimiter": delimiter,
        "namespace": namespace.lower() if namespace else None,
        "date_format": formats,
        "currency": currency,
        "columns": columns,
    }


def _columns(columns: Any, kind: str, header: bool, fail: Any) -> dict[str, str]:
    if not isinstance(columns, dict) or not columns:
        raise fail("columns", "must map canonical fields to the file's columns")
    out = {}
    for field, column in columns.items():
        key = f"columns.{field}"
        if field not in FIELDS[kind]:
            raise fail(
                key, f"unknown field for kind {kind} (expected one of {', '.join(FIELDS[kind])})"
            )
        if header:
            if not isinstance(column, str) or not column.strip():
                raise fail(key, "must be a column name from the file's header")
            out[field] = column.strip()
        else:
            if isinstance(column, str) and column.strip().isdigit():
                column = int(column)
            if isinstance(column, bool) or not isinstance(column, int) or column < 1:
                raise fail(key, "must be a column position (1, 2, ...) because header is false")
            out[field] = str(column)
    positions = list(out.values())
    repeated = next((f for f in out if positions.count(out[f]) > 1), None)
    if repeated:
        raise fail(f"columns.{repeated}", f"column {out[repeated]} is mapped twice")
    missing = [f for f in REQUIRED[kind] if f not in out]
    if missing:
        raise fail(f"columns.{missing[0]}", f"is required for {kind}")
    if not any(f in out for f in ONE_OF):
        raise fail("columns", "must map at least one of customer_id, email, phone")
    return out


class MappedImporter(Importer):
    """Orders, customers or events from any delimited or Parquet file, through a mapping."""

    name = "mapped"
    description = "any CSV or Parquet of orders, customers or events, given a column mapping"

    def __init__(self, mapping: dict[str, Any]):
        self.mapping = validate_mapping(mapping)
        self.fields: dict[str, str] = self.mapping["columns"]

    def missing(self, header: list[str]) -> list[str]:
        if self.mapping["header"]:
            return [c for c in self.fields.values() if c not in header]
        return [f"column {c} ({f})" for f, c in self.fields.items() if int(c) > len(header)]

    def matches(self, header: list[str]) -> bool:
        return not self.missing(header)

    def column_map(self, header: list[str]) -> dict[str, str]:
        return dict(self.fields)

    def read(self, path: Path, options: ImportOptions, header: list[str]) -> RawTable:
        missing = self.missing(header)
        if missing:
            raise UnknownFormatError(
                f"{path.name} lacks columns named in the mapping: " + ", ".join(missing),
                details=f"The file's first row has {len(header)} fields: " + ", ".join(header),
            )
        delimiter = self.mapping["delimiter"]
        return read_table(
            path,
            wanted=set(self.fields.values()),
            header=self.mapping["header"],
            delimiter=None if delimiter == WHITESPACE else delimiter,
            encoding=options.encoding,
        )

    def build(self, raw: RawTable, ctx: ImportContext) -> Batch:
        if self.mapping["kind"] == "customers":
            return self._customers(raw, ctx)
        if self.mapping["kind"] == "events":
            return self._events(raw, ctx)
        return self._orders(raw, ctx)

    # -- events -------------------------------------------------------------------------
    def _events(self, raw: RawTable, ctx: ImportContext) -> Batch:
        """Events read exactly as the events format reads them, from the mapped columns;
        a mapped ``customer_id`` is namespaced with the mapping's namespace."""
        namespace = self.mapping["namespace"]
        if namespace:
            values = {**ctx.settings.values, "events_customer_id_namespace": namespace}
            ctx = replace(ctx, settings=Settings(values))
        return _MappedEvents(self.fields).build(raw, ctx)

    # -- orders -------------------------------------------------------------------------
    def _orders(self, raw: RawTable, ctx: ImportContext) -> Batch:
        table, rejects = raw.table, []
        if "order_id" in self.fields:
            table, rejects = drop_exact_duplicates(ctx.store, table)
        duplicates = len(rejects)
        cells = Cells(table, self.fields)
        zone = learn_timezone(ctx, cells.raw("placed_at").slice(0, 10_000).to_pylist())
        file_currency = self.mapping["currency"] or ctx.options.currency
        learn_currency(ctx, cells.text("currency"), default=file_currency)
        typed = self._typed_orders(cells, ctx, zone)
        rejects += cells.rejects()
        bad = pc.is_in(typed[ROW], value_set=pa.array([r.row for r in rejects], pa.int64()))
        staged = ctx.store.stage("_mapped_rows", typed.append_column("_rejected", bad))
        orders = ctx.store.stage("_mapped_orders", self._checked(staged, ctx, file_currency))
        problems = orders.filter(orders.reason.notnull())
        found = problems.select(ROW, "column", "raw", "reason").to_pyarrow()
        rejects += [
            Reject(*values)
            for values in zip(
                *(found[c].to_pylist() for c in (ROW, "column", "raw", "reason")), strict=True
            )
        ]
        orders = orders.filter(orders.reason.isnull())
        lines = None
        if any(f in self.fields for f in LINE_FIELDS):
            lines = _order_lines(orders, ctx)
        return Batch(
            rows_loaded=int(orders.count().execute()),
            rejects=sorted(rejects, key=lambda r: r.row or 0),
            duplicate_rows=duplicates,
            links=_links(orders),
            profiles=_order_profiles(orders),
            orders=_canonical_orders(orders, ctx),
            order_lines=lines,
            refunds=_refunds(orders, ctx),
        )

    def _typed_orders(self, cells: Cells, ctx: ImportContext, zone: str) -> pa.Table:
        max_amount = float(ctx.settings["max_order_amount"])
        max_quantity = float(ctx.settings["max_line_quantity"])
        formats = tuple(self.mapping["date_format"] or ISO_FORMATS)
        placed = _timestamps(cells, "placed_at", zone, formats)
        cells.require("placed_at", placed.utc, "order has no date")
        columns: dict[str, Any] = {
            ROW: cells.table[ROW],
            "placed_at": placed.utc,
            "placed_date": placed.local_date,
            "customer_id": _customer_id(cells),
            "currency": pc.utf8_upper(cells.text("currency")),
            "status": pc.utf8_lower(cells.text("status")),
            "channel": pc.utf8_lower(cells.text("channel")),
            "quantity": cells.integer(
                "quantity", minimum=0, maximum=max_quantity, what="line quantity"
            ),
        }
        for field in AMOUNT_FIELDS:
            columns[field] = cells.decimal(
                field, minimum=0, maximum=max_amount, what="order amount"
            )
        cells.require("total", columns["total"], "order has no total")
        for field in TEXT_FIELDS:
            columns[field] = cells.text(field)
        for field in sorted(self.fields):
            columns[f"_cell_{field}"] = cells.text(field)
        return pa.table(columns)

    def _checked(self, rows: ir.Table, ctx: ImportContext, file_currency: str | None) -> ir.Table:
        """The rows without cell problems, each an order, with its id and why it cannot
        load (``reason``, null when it can)."""
        namespace = self.mapping["namespace"]
        repeats = (
            rows.filter(rows.order_id.notnull())
            .group_by("order_id")
            .aggregate(id_rows=rows[ROW].count(), id_first=rows[ROW].min())
        )
        content = (
            ibis.literal("\x1f")
            .join([rows[f"_cell_{f}"].fill_null("") for f in sorted(self.fields)])
            .hexdigest("sha256")
            .substr(0, 16)
        )
        rows = rows.mutate(_content=content)
        copy = ibis.row_number().over(group_by=rows._content, order_by=rows[ROW]) + 1
        rows = rows.mutate(_generated=f"{namespace}:" + rows._content + "-" + copy.cast("string"))
        rows = rows.filter(~rows._rejected).left_join(repeats, "order_id")
        currency = ibis.coalesce(rows.currency, ibis.literal(file_currency or ctx.currency))
        country = ibis.coalesce(rows.country, ibis.literal(ctx.settings["default_phone_country"]))
        rows = rows.mutate(
            key=ibis.coalesce(rows.order_id, rows._generated),
            currency=currency,
            customer_identity=namespaced(namespace, rows.customer_id),
            email_norm=normalize_email(rows.email),
            phone_norm=normalize_phone(rows.phone, country),
        )
        problem = currency_problem(currency, ctx)
        checks = [
            (
                rows.id_rows.fill_null(1) > 1,
                self.fields.get("order_id"),
                rows.order_id,
                "order id appears on several rows: each row of a mapped orders file must be one "
                "order (first at row " + rows.id_first.cast("string") + ")",
            ),
            (problem.notnull(), self.fields.get("currency"), currency, problem),
            (
                rows.refunded_amount.fill_null(0) > rows.total,
                self.fields.get("refunded_amount"),
                rows.refunded_amount.cast("string"),
                "refunded amount exceeds the order total",
            ),
            (
                rows.customer_identity.isnull()
                & rows.email_norm.isnull()
                & rows.phone_norm.isnull(),
                self.fields.get(_first_of(self.fields)),
                ibis.null("string"),
                NO_CUSTOMER,
            ),
        ]
        return rows.mutate(
            reason=ibis.cases(*[(c, r) for c, _, _, r in checks], else_=ibis.null("string")),
            column=ibis.cases(
                *[(c, col or ibis.null("string")) for c, col, _, _ in checks],
                else_=ibis.null("string"),
            ),
            raw=ibis.cases(*[(c, raw) for c, _, raw, _ in checks], else_=ibis.null("string")),
        )

    # -- customers ----------------------------------------------------------------------
    def _customers(self, raw: RawTable, ctx: ImportContext) -> Batch:
        table, rejects = drop_exact_duplicates(ctx.store, raw.table)
        duplicates = len(rejects)
        cells = Cells(table, self.fields)
        typed = pa.table(
            {
                ROW: cells.table[ROW],
                "customer_id": _customer_id(cells),
                **{
                    f: cells.text(f)
                    for f in FIELDS["customers"]
                    if f not in {"customer_id", "email_consent"}
                },
                "email_consent": cells.boolean("email_consent"),
            }
        )
        rejects += cells.rejects()
        bad = pc.is_in(typed[ROW], value_set=pa.array([r.row for r in rejects], pa.int64()))
        staged = ctx.store.stage("_mapped_customers", typed.filter(pc.invert(bad)))
        country = ibis.coalesce(staged.country, ibis.literal(ctx.settings["default_phone_country"]))
        identity = namespaced(self.mapping["namespace"] or "", staged.customer_id)
        if self.mapping["namespace"] is None:
            identity = ibis.null("string")
        email = normalize_email(staged.email)
        phone = normalize_phone(staged.phone, country)
        keyed = ctx.store.stage(
            "_mapped_customers_keyed",
            staged.mutate(
                customer_identity=identity,
                email_norm=email,
                phone_norm=phone,
                record_key=ibis.coalesce(identity, "email:" + email, "phone:" + phone),
            ),
        )
        unlinked = keyed.filter(keyed.record_key.isnull()).select(ROW).to_pyarrow()
        column = self.fields.get(_first_of(self.fields))
        rejects += [Reject(row, column, None, NO_CUSTOMER) for row in unlinked[ROW].to_pylist()]
        records = keyed.filter(keyed.record_key.notnull())
        return Batch(
            rows_loaded=int(records.count().execute()),
            rejects=sorted(rejects, key=lambda r: r.row or 0),
            duplicate_rows=duplicates,
            links=_links(records),
            profiles=_customer_profiles(records),
            profiles_authoritative=True,
        )


class _MappedEvents(EventsImporter):
    """The events importer, reading the columns a mapping names."""

    def __init__(self, fields: dict[str, str]):
        self.fields = fields

    def column_map(self, header: list[str]) -> dict[str, str]:
        return dict(self.fields)


def _timestamps(cells: Cells, name: str, zone: str, formats: tuple[str, ...]) -> Timestamps:
    """Parse a date-time column, ignoring fractional seconds (``2024-11-29 09:30:00.250``,
    and Parquet timestamps in micro- or nanoseconds); problems name the file's column."""
    text = drop_fractional_seconds(cells.text(name))
    probe = Cells(pa.table({name: text, ROW: cells.table[ROW]}))
    times = probe.timestamp(name, zone, formats=formats)
    for problem in probe.problems:
        cells.problem(problem.mask, name, problem.reason)
    return times


def _first_of(fields: dict[str, str]) -> str:
    return next(f for f in ONE_OF if f in fields)


def _customer_id(cells: Cells) -> pa.ChunkedArray:
    """The customer id as written, without a spreadsheet's ``.0`` on whole numbers; null
    for an id of only zeros (a guest checkout), which would otherwise join all guests."""
    text = pc.replace_substring_regex(cells.text("customer_id"), r"^(\d+)\.0+$", r"\1")
    guest = pc.fill_null(pc.match_substring_regex(text, r"^0+$"), False)
    return pc.if_else(guest, None, text)


def _status(status: ir.StringValue) -> ir.StringValue:
    return ibis.cases(
        (status.isin(CANCELLED_STATUSES), "cancelled"),
        (status.isin(VOIDED_STATUSES), "voided"),
        else_="placed",
    )


def _refund_amount(orders: ir.Table) -> ir.NumericValue:
    """What was refunded: ``refunded_amount``, else the total for a ``refunded`` status."""
    full = ibis.ifelse(orders.status == REFUNDED_STATUS, orders.total, 0)
    return ibis.coalesce(orders.refunded_amount, full).fill_null(0)


def _canonical_orders(orders: ir.Table, ctx: ImportContext) -> ir.Table:
    rate = fx_rate(orders.currency, ctx).cast("decimal(18, 8)")

    def converted(value: ir.NumericValue) -> ir.NumericValue:
        return money(value.fill_null(0) * rate)

    return orders.select(
        order_id=orders.key,
        order_number=orders.order_id,
        record_key="order:" + orders.key,
        source=ibis.literal("mapped"),
        placed_at=orders.placed_at,
        placed_date=orders.placed_date,
        status=_status(orders.status),
        currency=orders.currency,
        subtotal=converted(_product_sales(orders)),
        shipping=converted(orders.shipping),
        taxes=converted(orders.taxes),
        total=converted(orders.total),
        product_sales=converted(_product_sales(orders)),
        discount_code=orders.discount_code,
        discount_amount=converted(orders.discount_amount),
        refunded_amount=converted(_refund_amount(orders)),
        channel=orders.channel.fill_null("web"),
        billing_country=orders.country,
        import_id=ibis.literal(ctx.import_id),
    )


def _refunds(orders: ir.Table, ctx: ImportContext) -> ir.Table:
    """A refund per placed order with something refunded, dated at the order (the file gives
    no refund date); its product share is in proportion to product sales over the total."""
    amount = _refund_amount(orders)
    refunded = orders.filter((amount > 0) & (_status(orders.status) == "placed"))
    amount = _refund_amount(refunded)
    sales = _product_sales(refunded)
    share = ibis.ifelse(refunded.total > 0, sales / refunded.total, 0)
    product = ibis.least(amount * share, sales)
    rate = fx_rate(refunded.currency, ctx).cast("decimal(18, 8)")
    return refunded.select(
        refund_id="refund:" + refunded.key,
        order_id=refunded.key,
        record_key="order:" + refunded.key,
        refunded_at=refunded.placed_at,
        refunded_date=refunded.placed_date,
        order_date=refunded.placed_date,
        amount=money(amount * rate),
        product_amount=money(product * rate),
        source=ibis.literal("mapped"),
    )


def _product_sales(orders: ir.Table) -> ir.NumericValue:
    rest = orders.total - orders.shipping.fill_null(0) - orders.taxes.fill_null(0)
    return ibis.coalesce(orders.subtotal, rest)


def _order_lines(orders: ir.Table, ctx: ImportContext) -> ir.Table:
    rate = fx_rate(orders.currency, ctx).cast("decimal(18, 8)")
    amount = money(_product_sales(orders) * rate)
    unit = ibis.ifelse(orders.quantity > 0, amount / orders.quantity, ibis.null("decimal"))
    return orders.select(
        order_id=orders.key,
        line_number=ibis.literal(1, "int32"),
        line_kind=ibis.literal("product"),
        sku=orders.sku,
        product_name=orders.product_name,
        quantity=orders.quantity,
        unit_price=unit.cast("decimal(18, 4)"),
        line_discount=money(ibis.literal(0)),
        amount=amount,
        import_id=ibis.literal(ctx.import_id),
    )


def _links(records: ir.Table) -> ir.Table:
    key = records.record_key if "record_key" in records.columns else "order:" + records.key
    kind = records.customer_identity.split(":")[0]
    parts = [
        records.select(record_key=key, identity=records.customer_identity, kind=kind),
        records.select(
            record_key=key, identity="email:" + records.email_norm, kind=ibis.literal("email")
        ),
        records.select(
            record_key=key, identity="phone:" + records.phone_norm, kind=ibis.literal("phone")
        ),
    ]
    return parts[0].union(parts[1]).union(parts[2])


def _order_profiles(orders: ir.Table) -> ir.Table:
    return orders.select(
        record_key="order:" + orders.key,
        rank=orders.placed_at.epoch_seconds(),
        seen_at=orders.placed_at,
        email=orders.email_norm,
        phone=orders.phone_norm,
        country=orders.country,
    )


def _customer_profiles(records: ir.Table) -> ir.Table:
    return records.select(
        "record_key",
        rank=records[ROW],
        seen_at=ibis.null("timestamp"),
        email=records.email_norm,
        phone=records.phone_norm,
        first_name=records.first_name,
        last_name=records.last_name,
        city=records.city,
        region=records.region,
        country=records.country,
        zip=records.zip,
        email_consent=consent_from_flag(records.email_consent),
        tags=split_list(records.tags),
    )
