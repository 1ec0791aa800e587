"""Events CSV in Klaviyo's metric vocabulary (and GA4's event names), one row per event.

Each row names an event (``Placed Order``, ``Opened Email``, ``purchase``...), when it
happened and who did it (email, phone or a customer id). Event names map to a canonical
``event_type``; the name is kept as written. Timestamps may carry ``Z`` or an offset, have
fractional seconds, end in `` UTC`` (BigQuery), be naive (local in the workspace zone) or be
epoch numbers (GA4 ``event_timestamp`` in microseconds).

People: one record per distinct combination of identifiers, so a million events make as many
records as there are people. A ``customer_id`` is namespaced with the
``events_customer_id_namespace`` setting, unless it is a segmint id (``c_...``): then the
event links to that customer through one of its identities.

Every event gets a deterministic ``event_id`` (event type, instant, identity, order, product,
value, campaign and an occurrence counter for otherwise identical rows), so importing the
same or an overlapping export again adds no event twice. A ``Placed Order``/``purchase``
event with an order id and a value that no imported order has (by ``order_id`` or
``order_number``) also becomes an order with ``source = 'events'``, which a later store
export of the same order replaces.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from segmint.importers.base import Batch, ImportContext, Importer
from segmint.importers.common import learn_currency, learn_timezone, money
from segmint.normalize import namespaced, normalize_email, normalize_phone
from segmint.parsing import ISO_FORMATS, Cells, Timestamps, drop_fractional_seconds
from segmint.readers import RawTable
from segmint.readers.base import ROW, Reject

#: Event names (lower case, single spaces) -> canonical ``event_type``.
EVENT_TYPES: dict[str, str] = {
    "received email": "received_email",
    "opened email": "opened_email",
    "clicked email": "clicked_email",
    "unsubscribed": "unsubscribed",
    "unsubscribed from list": "unsubscribed",
    "unsubscribed from email marketing": "unsubscribed",
    "subscribed to list": "subscribed",
    "subscribed to email marketing": "subscribed",
    "bounced email": "bounced_email",
    "dropped email": "bounced_email",
    "marked email as spam": "marked_spam",
    "viewed product": "viewed_product",
    "view_item": "viewed_product",
    "viewed collection": "viewed_collection",
    "view_item_list": "viewed_collection",
    "added to cart": "added_to_cart",
    "add_to_cart": "added_to_cart",
    "started checkout": "started_checkout",
    "checkout started": "started_checkout",
    "begin_checkout": "started_checkout",
    "placed order": "placed_order",
    "purchase": "placed_order",
    "ordered product": "ordered_product",
    "active on site": "active_on_site",
    "page_view": "active_on_site",
    "session_start": "active_on_site",
    "cancelled order": "cancelled_order",
    "refunded order": "refunded_order",
    "refund": "refunded_order",
    "fulfilled order": "fulfilled_order",
    "fulfilled partial order": "fulfilled_order",
}
PLACED_ORDER = "placed_order"
DEVICES = ["desktop", "mobile", "tablet"]
#: Columns that can tell who did an event; a file needs at least one of them.
IDENTITY_COLUMNS = ("email", "customer_id", "phone")
#: Distinct unknown event names reported by name; further ones share a generic reason.
MAX_NAMED_UNKNOWN = 50
EPOCH = r"^\d{10,19}$"
NO_IDENTITY = "no usable email, phone or customer_id: the event cannot be linked to a customer"
UNKNOWN_SEGMINT_ID = "unknown segmint customer id (no customer in this workspace has it)"


class EventsImporter(Importer):
    name = "events"
    description = "Events CSV (Klaviyo metric names or GA4 event names), one row per event"
    signature = ("event", "timestamp")
    optional = (
        "email",
        "customer_id",
        "phone",
        "order_id",
        "product_id",
        "product_name",
        "category",
        "value",
        "device",
        "channel",
        "campaign",
    )
    aliases = {
        "event": ("Event", "Event Name", "Metric Name", "Metric", "event_name"),
        "timestamp": (
            "Timestamp",
            "Datetime",
            "datetime",
            "time",
            "Time",
            "event_timestamp",
            "Event Timestamp",
        ),
        "email": ("Email", "$email", "Email Address", "email_address"),
        "customer_id": (
            "Customer ID",
            "CustomerID",
            "customer id",
            "user_id",
            "external_id",
            "$external_id",
        ),
        "phone": ("Phone", "phone_number", "$phone_number", "Phone Number"),
        "order_id": (
            "$event_id",
            "OrderId",
            "Order ID",
            "transaction_id",
            "ecommerce.transaction_id",
        ),
        "product_id": ("ProductID", "Product ID", "item_id"),
        "product_name": ("ProductName", "Product Name", "item_name"),
        "category": ("Category", "Categories", "item_category"),
        "value": ("$value", "Value", "revenue", "purchase_revenue", "ecommerce.purchase_revenue"),
        "device": ("Device", "device_category", "device.category"),
        "channel": ("Channel",),
        "campaign": ("Campaign", "Campaign Name", "campaign_name"),
    }

    def matches(self, header: list[str]) -> bool:
        return super().matches(header) and self._has_identity(header)

    def missing(self, header: list[str]) -> list[str]:
        missing = super().missing(header)
        if not self._has_identity(header):
            missing.append("email (or customer_id or phone)")
        return missing

    def _has_identity(self, header: list[str]) -> bool:
        present = set(header)
        return any(self._present(column, present) for column in IDENTITY_COLUMNS)

    def build(self, raw: RawTable, ctx: ImportContext) -> Batch:
        # Identical rows are kept: they are distinct occurrences (docs/data-model.md,
        # Duplicates), told apart by the occurrence counter in the event id.
        rejects: list[Reject] = []
        columns = self.column_map(raw.header)
        cells = Cells(raw.table, columns)
        zone = learn_timezone(ctx, [])  # events are usually UTC: only --timezone sets it
        typed = _typed(cells, ctx, zone)
        rejects += cells.rejects()
        typed = typed.filter(pc.invert(cells.bad_rows()))
        staged = ctx.store.stage("_event_rows", typed)
        keyed = ctx.store.stage("_event_keyed", _keyed(staged, ctx))
        unlinked = ctx.store.run(_unlinked(keyed))
        rejects += _unlinked_rejects(unlinked, columns)
        rows = ctx.store.stage(
            "_event_linked", _with_event_ids(keyed.filter(keyed.primary_identity.notnull()))
        )
        orders = None
        if _any_placed_order(typed):
            orders = ctx.store.stage("_event_orders", _new_orders(rows, ctx))
        has_orders = orders is not None and bool(ctx.store.scalar(orders.count()))
        if has_orders:
            learn_currency(ctx, [])
        return Batch(
            rows_loaded=ctx.store.scalar(rows.count()),
            rejects=sorted(rejects, key=lambda r: r.row or 0),
            links=_links(rows),
            profiles=_profiles(rows),
            events=_events(rows, ctx),
            orders=_canonical_orders(orders, ctx) if has_orders else None,
        )


# -- parsing ------------------------------------------------------------------------------
def _typed(cells: Cells, ctx: ImportContext, zone: str) -> pa.Table:
    """Typed columns for every row; malformed cells are recorded in ``cells``."""
    name = cells.text("event")
    cells.require("event", name, "no event name")
    event_type = _event_types(cells, name)
    times = _timestamps(cells, zone)
    cells.require("timestamp", times.utc, "no timestamp")
    value = cells.decimal("value", minimum=0, what="value")
    max_amount = float(ctx.settings["max_order_amount"])
    cells.problem(
        pc.greater(value, max_amount),
        "value",
        f"absurd value: above {max_amount:,.0f} (setting max_order_amount)",
    )
    device = cells.text("device")
    lowered = pc.utf8_lower(device)
    return pa.table(
        {
            ROW: cells.table[ROW],
            "event_name": name,
            "event_type": event_type,
            "occurred_at": times.utc,
            "occurred_date": times.local_date,
            "email": cells.text("email"),
            "phone": cells.text("phone"),
            "customer_id": cells.text("customer_id"),
            "order_id": cells.text("order_id"),
            "product_id": cells.text("product_id"),
            "product_name": cells.text("product_name"),
            "category": cells.text("category"),
            "value": value,
            "device": pc.if_else(pc.is_in(lowered, pa.array(DEVICES)), lowered, device),
            "channel": pc.utf8_lower(cells.text("channel")),
            "campaign": cells.text("campaign"),
        }
    )


def _event_types(cells: Cells, name: pa.ChunkedArray) -> pa.ChunkedArray:
    """The canonical type of each event name; unknown names are problems naming the value."""
    key = pc.utf8_lower(pc.replace_substring_regex(name, pattern=r"\s+", replacement=" "))
    index = pc.index_in(key, value_set=pa.array(list(EVENT_TYPES)))
    types = pc.take(pa.array(list(EVENT_TYPES.values())), index)
    unknown = pc.and_(pc.is_valid(name), pc.is_null(types))
    names = pc.unique(pc.filter(name, unknown)).to_pylist()
    for value in names[:MAX_NAMED_UNKNOWN]:
        cells.problem(
            pc.and_(unknown, pc.equal(name, value)),
            "event",
            f"unknown event name '{value}' (not a Klaviyo or GA4 event segmint knows)",
        )
    if len(names) > MAX_NAMED_UNKNOWN:
        cells.problem(
            unknown, "event", "unknown event name (not a Klaviyo or GA4 event segmint knows)"
        )
    return types


def _timestamps(cells: Cells, zone: str) -> Timestamps:
    """Parse with :meth:`Cells.timestamp` after rewriting the spellings it does not read.

    Epoch numbers (seconds, milliseconds, microseconds or nanoseconds by their length)
    become ISO text in UTC; fractional seconds are dropped; a trailing `` UTC`` becomes an
    offset. Problems are recorded against the file's own column and raw text.
    """
    text = cells.text("timestamp")
    is_epoch = pc.fill_null(pc.match_substring_regex(text, EPOCH), False)
    number = pc.cast(pc.if_else(is_epoch, text, None), pa.int64())
    digits = pc.utf8_length(text)
    divisor = pc.if_else(
        pc.less_equal(digits, 11),
        1,
        pc.if_else(
            pc.less_equal(digits, 14),
            1_000,
            pc.if_else(pc.less_equal(digits, 17), 1_000_000, 1_000_000_000),
        ),
    )
    seconds = pc.cast(pc.divide(number, pc.cast(divisor, pa.int64())), pa.timestamp("s", "UTC"))
    epoch_text = pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%SZ")
    rewritten = drop_fractional_seconds(text)
    rewritten = pc.replace_substring_regex(rewritten, pattern=r"\s*UTC$", replacement="+0000")
    normalized = pc.if_else(is_epoch, epoch_text, rewritten)
    probe = Cells(pa.table({"timestamp": normalized, ROW: cells.table[ROW]}))
    times = probe.timestamp("timestamp", zone, formats=ISO_FORMATS)
    for problem in probe.problems:
        cells.problem(problem.mask, "timestamp", problem.reason)
    return times


# -- identities ---------------------------------------------------------------------------
def _keyed(rows: ir.Table, ctx: ImportContext) -> ir.Table:
    """Normalized identifiers, the record each row belongs to, and its primary identity."""
    namespace = str(ctx.settings["events_customer_id_namespace"])
    is_segmint = rows.customer_id.startswith("c_").fill_null(False)
    known = _segmint_identities(rows.filter(is_segmint), ctx)
    joined = rows.left_join(known, rows.customer_id == known.segmint_id)
    segmint = joined.customer_id.startswith("c_").fill_null(False)
    email = normalize_email(joined.email)
    phone = normalize_phone(joined.phone, ibis.literal(ctx.settings["default_phone_country"]))
    source_id = ibis.ifelse(segmint, ibis.null("string"), namespaced(namespace, joined.customer_id))
    keyed = joined.mutate(
        email_norm=email,
        phone_norm=phone,
        source_identity=source_id,
        source_kind=ibis.literal(namespace),
        email_identity="email:" + email,
        phone_identity="phone:" + phone,
    )
    primary = ibis.coalesce(
        keyed.email_identity, keyed.phone_identity, keyed.source_identity, keyed.segmint_identity
    )
    parts = [
        keyed.email_identity,
        keyed.phone_identity,
        keyed.source_identity,
        keyed.segmint_identity,
    ]
    record = "events:" + ibis.literal("|").join([p.fill_null("") for p in parts])
    return keyed.mutate(
        primary_identity=primary,
        record_key=ibis.ifelse(primary.notnull(), record, ibis.null("string")),
        unknown_segmint=segmint & keyed.segmint_identity.isnull(),
    ).drop("segmint_id")


def _segmint_identities(rows: ir.Table, ctx: ImportContext) -> ir.Table:
    """For each segmint id (``c_...``) in the batch, one identity of that customer.

    Merged ids are followed to the surviving customer (``merges.surviving_id`` always names
    the current survivor), and the smallest of its identities is used.
    """
    ids = rows.select(segmint_id=rows.customer_id).distinct()
    merges = ctx.store.table("merges")
    current = ids.left_join(merges, ids.segmint_id == merges.merged_id).select(
        "segmint_id", target=ibis.coalesce(ibis._.surviving_id, ibis._.segmint_id)
    )
    identities = ctx.store.table("identities")
    identities = identities.semi_join(current, identities.customer_id == current.target)
    first = identities.group_by(target=identities.customer_id).aggregate(
        segmint_identity=identities.identity.min(),
        segmint_kind=identities.kind.first(order_by=identities.identity),
    )
    found = first.join(current, "target")
    return found.select("segmint_id", "segmint_identity", "segmint_kind")


def _unlinked(keyed: ir.Table) -> ir.Table:
    """The rows linked to nobody, with what they named."""
    unlinked = keyed.filter(keyed.primary_identity.isnull())
    return unlinked.select(ROW, *IDENTITY_COLUMNS, "unknown_segmint").order_by(ROW)


def _unlinked_rejects(data: pa.Table, columns: dict[str, str]) -> list[Reject]:
    """Rejects for rows linked to nobody (:func:`_unlinked`), naming the file's own identity
    column."""
    values = (data[c].to_pylist() for c in data.column_names)
    present = [c for c in IDENTITY_COLUMNS if c in columns]
    out = []
    for row, email, customer_id, phone, unknown in zip(*values, strict=True):
        if unknown:
            out.append(Reject(row, columns["customer_id"], customer_id, UNKNOWN_SEGMINT_ID))
            continue
        given = {"email": email, "customer_id": customer_id, "phone": phone}
        field = next((c for c in present if given[c] is not None), present[0])
        out.append(Reject(row, columns[field], given[field], NO_IDENTITY))
    return out


def _links(rows: ir.Table) -> ir.Table:
    records = rows.select(
        "record_key",
        "email_identity",
        "phone_identity",
        "source_identity",
        "source_kind",
        "segmint_identity",
        "segmint_kind",
    ).distinct()
    parts = [
        records.select("record_key", identity=records.email_identity, kind=ibis.literal("email")),
        records.select("record_key", identity=records.phone_identity, kind=ibis.literal("phone")),
        records.select("record_key", identity=records.source_identity, kind=records.source_kind),
        records.select("record_key", identity=records.segmint_identity, kind=records.segmint_kind),
    ]
    links = parts[0]
    for part in parts[1:]:
        links = links.union(part)
    return links


def _profiles(rows: ir.Table) -> ir.Table:
    """One profile per record: its email and phone, first seen at its first event."""
    return rows.group_by("record_key").aggregate(
        rank=rows.occurred_at.max().epoch_seconds(),
        seen_at=rows.occurred_at.min(),
        email=rows.email_norm.max(),
        phone=rows.phone_norm.max(),
    )


# -- events and orders --------------------------------------------------------------------
def _with_event_ids(rows: ir.Table) -> ir.Table:
    """A deterministic ``event_id``: the same event in any export gets the same id."""
    parts = [
        rows.event_type,
        rows.occurred_at.cast("string"),
        rows.primary_identity,
        rows.order_id,
        rows.product_id,
        rows.value.cast("string"),
        rows.campaign,
    ]
    window = ibis.window(group_by=parts, order_by=rows[ROW])
    occurrence = ibis.row_number().over(window).cast("string")
    text = ibis.literal("\x1f").join([p.fill_null("") for p in parts] + [occurrence])
    return rows.mutate(event_id="ev_" + text.hexdigest("sha256").substr(0, 32))


def _events(rows: ir.Table, ctx: ImportContext) -> ir.Table:
    return rows.select(
        "event_id",
        "record_key",
        "event_type",
        "event_name",
        "occurred_at",
        "occurred_date",
        "order_id",
        "product_id",
        "product_name",
        "category",
        value=money(rows.value),
        device=rows.device,
        channel=rows.channel,
        campaign=rows.campaign,
        source=ibis.literal("events"),
        import_id=ibis.literal(ctx.import_id),
    )


def _any_placed_order(typed: pa.Table) -> bool:
    """Whether any row is a placed order (only those can become orders)."""
    return bool(pc.any(pc.equal(typed["event_type"], PLACED_ORDER)).as_py())


def _new_orders(rows: ir.Table, ctx: ImportContext) -> ir.Table:
    """Placed orders with an id and a value that no imported order has; one row per id."""
    placed = rows.filter(
        (rows.event_type == PLACED_ORDER) & rows.order_id.notnull() & rows.value.notnull()
    )
    orders = ctx.store.table("orders")
    keys = orders.select(key=orders.order_id).union(
        orders.filter(orders.order_number.notnull()).select(key=orders.order_number)
    )
    fresh = placed.anti_join(keys, placed.order_id == keys.key)
    first = ibis.row_number().over(
        group_by=fresh.order_id, order_by=[fresh.occurred_at, fresh[ROW]]
    )
    return fresh.mutate(_nth=first).filter(ibis._._nth == 0).drop("_nth")


def _canonical_orders(orders: ir.Table, ctx: ImportContext) -> ir.Table:
    value = money(orders.value)
    zero = money(ibis.literal(0))
    return orders.select(
        order_id=orders.order_id,
        order_number=ibis.ifelse(
            orders.order_id.startswith("#"), orders.order_id, ibis.null("string")
        ),
        record_key=orders.record_key,
        source=ibis.literal("events"),
        placed_at=orders.occurred_at,
        placed_date=orders.occurred_date,
        status=ibis.literal("placed"),
        currency=ibis.literal(ctx.currency),
        subtotal=value,
        shipping=zero,
        taxes=zero,
        total=value,
        product_sales=value,
        discount_amount=zero,
        refunded_amount=zero,
        channel=orders.channel.fill_null("web"),
        source_name=orders.event_name,
        import_id=ibis.literal(ctx.import_id),
    )
