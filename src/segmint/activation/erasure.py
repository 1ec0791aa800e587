"""The right to erasure: remove a person from every table, and keep them from coming back.

:func:`erase` finds a customer the way ``segmint customer`` does (segmint id, a merged id,
source id, email or phone), then, in one transaction, deletes from every table of the
workspace file (enumerated, so tables added later are covered too) the rows of that customer
and of every id merged into it, their orders' rows, their merges, and the rejected rows whose
raw value holds one of their identifiers; and adds hashed tombstones of their emails and
phones to ``suppressions``. :func:`drop_erased` is the import-side guard: records of a new
file that carry a tombstoned email or phone are not loaded, and count as rejected rows
without their raw value.
"""

from __future__ import annotations

import glob
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import sqlglot.expressions as sge

from segmint.activation.suppressions import ERASED, add_tombstones, identifier_hash
from segmint.activation.suppressions import TABLE as SUPPRESSIONS
from segmint.errors import SegmintError
from segmint.identity import find_customer_id, lookup_candidates
from segmint.importers.base import Batch
from segmint.importers.events import UNKNOWN_SEGMINT_ID
from segmint.readers.base import Reject
from segmint.store import Store

#: The reason of the rejected rows the import guard drops (their raw value is not kept).
ERASURE_REASON = "erased on request (right to erasure)"
#: Columns whose value ties a row to the erased customers or to their orders.
CUSTOMER_COLUMNS = ("customer_id", "merged_id", "surviving_id")
ORDER_COLUMNS = ("order_id",)
#: Identifiers shorter than this, made of letters and digits only, match a rejected raw value
#: only when they are the whole value (a bare ``1001`` is too common inside other values).
MIN_CONTAINED_LENGTH = 6
#: Trailing digits of a phone looked for in the digits of a rejected raw value.
PHONE_TAIL_DIGITS = 9
EDGE = r"[^\pL\pN]"
#: ``kind`` of the tombstones of erased segmint ids (``c_...``).
SEGMINT_KIND = "segmint"
#: Scratch tables holding the erased customer ids and order ids during an erasure.
CUSTOMER_KEYS = "_erase_customers"
ORDER_KEYS = "_erase_orders"


@dataclass
class ErasureTarget:
    """Who is erased: the customer, the ids merged into it, and what identifies them."""

    customer_id: str
    customer_ids: list[str]
    order_ids: list[str]
    emails: list[str]
    phones: list[str]
    names: list[str]
    identifiers: list[str]
    sources: list[tuple[str, str]] = field(default_factory=list)  # (kind, shopify:123)

    def tombstones(self) -> list[tuple[str, str]]:
        """``(kind, value)`` of every identifier a re-import could bring the person back by."""
        return [
            *(("email", e) for e in self.emails),
            *(("phone", p) for p in self.phones),
            *self.sources,
            *((SEGMINT_KIND, c) for c in self.customer_ids),
        ]


@dataclass
class ErasureResult:
    """What ``segmint erase`` removed: rows per table, and the tombstones it left."""

    customer_id: str
    customer_ids: list[str]
    deleted: dict[str, int] = field(default_factory=dict)
    tombstones: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_deleted(self) -> int:
        return sum(self.deleted.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "customer_ids": self.customer_ids,
            "rows_deleted": self.rows_deleted,
            "deleted": dict(self.deleted),
            "tombstones": self.tombstones,
            "warnings": list(self.warnings),
        }

    def table_rows(self) -> list[dict[str, Any]]:
        return [{"table": t, "rows_deleted": n} for t, n in self.deleted.items()]


# -- finding the customer -------------------------------------------------------------------
def merged_ids(store: Store, customer_id: str) -> list[str]:
    """The customer's id and every id merged into it (directly or through other merges)."""
    merges = store.table("merges")
    ids = {customer_id}
    while True:
        redirected = merges.filter(merges.surviving_id.isin(sorted(ids))).merged_id
        found = ids | set(redirected.to_pyarrow().to_pylist())
        if found == ids:
            return [customer_id, *sorted(ids - {customer_id})]
        ids = found


def erasure_target(store: Store, key: str, country: str) -> ErasureTarget:
    """Who ``key`` names and everything that identifies them; unknown key: SegmintError."""
    customer_id = find_customer_id(store, key, country)
    if customer_id is None:
        raise SegmintError(
            f"no customer matches '{key}'; nothing was erased",
            hint=_unknown_hint(store, key, country),
        )
    ids = merged_ids(store, customer_id)
    customers = _rows(store, "customers", "customer_id", ids)
    identities = _rows(store, "identities", "customer_id", ids)
    orders = _rows(store, "orders", "customer_id", ids)
    emails = {c["email"] for c in customers} | _identity_values(identities, "email")
    phones = {c["phone"] for c in customers} | _identity_values(identities, "phone")
    names = {c[n] for c in customers for n in ("first_name", "last_name")}
    names |= {" ".join(filter(None, (c["first_name"], c["last_name"]))) for c in customers}
    source_links = {
        (i["kind"], i["identity"]) for i in identities if i["kind"] not in ("email", "phone")
    }
    sources = {identity for _, identity in source_links}
    sources |= {s.split(":", 1)[1] for s in sources if ":" in s}
    order_ids = {o["order_id"] for o in orders} | {o["order_number"] for o in orders}
    return ErasureTarget(
        customer_id=customer_id,
        customer_ids=ids,
        order_ids=_clean({o["order_id"] for o in orders}),
        emails=_clean(emails),
        phones=_clean(phones),
        names=_clean(names),
        identifiers=_clean(sources | order_ids | set(ids)),
        sources=sorted(source_links),
    )


def _unknown_hint(store: Store, key: str, country: str) -> str | None:
    candidates = [
        c for c in lookup_candidates(key, country, store) if c.startswith(("email:", "phone:"))
    ]
    if not candidates:
        return None
    probe = ibis.memtable(pa.table({"identity": candidates}))
    hashed = probe.select(
        kind=probe.identity.split(":")[0],
        value_hash=identifier_hash(probe.identity.re_replace("^(email|phone):", "")),
    )
    tombstones = _tombstones(store)
    if hashed.semi_join(tombstones, ["kind", "value_hash"]).count().execute():
        return "this identifier belongs to a customer erased earlier"
    return "segmint customer KEY looks a customer up by segmint id, source id, email or phone"


def _rows(store: Store, table: str, column: str, values: list[str]) -> list[dict[str, Any]]:
    rows = store.table(table)
    return rows.filter(rows[column].isin(values)).to_pyarrow().to_pylist()


def _identity_values(identities: list[dict[str, Any]], kind: str) -> set[str]:
    prefix = f"{kind}:"
    return {i["identity"][len(prefix) :] for i in identities if i["identity"].startswith(prefix)}


def _clean(values: Iterable[str | None]) -> list[str]:
    return sorted({v.strip() for v in values if v and v.strip()})


# -- erasing --------------------------------------------------------------------------------
def erase(store: Store, key: str, default_phone_country: str) -> ErasureResult:
    """Remove the customer ``key`` names from every table and leave hashed tombstones.

    Raises :class:`SegmintError` when no customer matches; nothing changes then.
    """
    target = erasure_target(store, key, default_phone_country)
    return erase_target(store, target)


def erase_target(store: Store, target: ErasureTarget) -> ErasureResult:
    """Delete every row of ``target`` in one transaction, add its tombstones, checkpoint."""
    result = ErasureResult(target.customer_id, target.customer_ids)
    store.stage(CUSTOMER_KEYS, _keys(target.customer_ids))
    store.stage(ORDER_KEYS, _keys(target.order_ids))
    try:
        with store.transaction():
            for table in workspace_tables(store):
                condition = _erasure_condition(store, table, target)
                count = delete_where(store, table, condition) if condition is not None else 0
                if count:
                    result.deleted[table] = count
            before = _tombstone_count(store)
            add_tombstones(store, target.tombstones())
            result.tombstones = _tombstone_count(store) - before
    finally:
        for staged in (CUSTOMER_KEYS, ORDER_KEYS):
            store.con.drop_table(staged, force=True)
    store.con.raw_sql(sge.Command(this="CHECKPOINT").sql("duckdb"))
    result.warnings = [
        f"{copy} is a copy of the workspace made before an upgrade and still holds this "
        "customer: delete it, or erase them there too"
        for copy in upgrade_backups(store.path)
    ]
    return result


def upgrade_backups(path: Path) -> list[Path]:
    """The copies of a workspace file kept by schema upgrades (``<file>.bak-v<N>``)."""
    return sorted(path.parent.glob(f"{glob.escape(path.name)}.bak-v*"))


def workspace_tables(store: Store) -> list[str]:
    """Every table stored in the workspace file (not the session's temporary tables and
    views), including those outside :data:`segmint.schema.TABLES` such as features."""
    tables = store.con.table("tables", database="information_schema")
    stored = tables.filter(
        (tables.table_catalog == store.con.current_catalog)
        & (tables.table_schema == "main")
        & (tables.table_type == "BASE TABLE")
    )
    return sorted(stored.table_name.to_pyarrow().to_pylist())


def delete_where(store: Store, table: str, condition: sge.Expression) -> int:
    """Delete the rows of a workspace table that meet ``condition``; the number deleted."""
    if table not in workspace_tables(store):
        raise ValueError(f"not a workspace table: {table}")
    statement = sge.delete(sge.to_identifier(table, quoted=True), where=condition)
    deleted = store.con.raw_sql(statement.sql("duckdb")).fetchone()
    return int(deleted[0]) if deleted else 0


def _erasure_condition(store: Store, table: str, target: ErasureTarget) -> sge.Expression | None:
    """Which rows of ``table`` belong to the target, or None when none can."""
    columns = set(store.table(table).columns)
    parts = [_in_keys(c, CUSTOMER_KEYS) for c in CUSTOMER_COLUMNS if c in columns]
    parts += [_in_keys(c, ORDER_KEYS) for c in ORDER_COLUMNS if c in columns]
    if table == "rejects":
        parts += _reject_conditions(target)
    return sge.or_(*parts) if parts else None


def _in_keys(column: str, keys_table: str) -> sge.Expression:
    subquery = sge.select(sge.column("key", quoted=True)).from_(
        sge.to_identifier(keys_table, quoted=True)
    )
    return sge.column(column, quoted=True).isin(query=subquery)


def _reject_conditions(target: ErasureTarget) -> list[sge.Expression]:
    """Rejected rows whose raw value holds an identifier of the target (any case), whose
    digits hold the end of one of their phones, or whose reason names one of their ids."""
    raw = sge.column("raw_value", quoted=True)
    values = [*target.emails, *target.names, *target.identifiers]
    parts = [_matches(raw, identifier_pattern(values))]
    tails = phone_tails(target.phones)
    if tails:
        digits = sge.RegexpReplace(
            this=raw,
            expression=sge.Literal.string("[^0-9]"),
            replacement=sge.Literal.string(""),
            modifiers=sge.Literal.string("g"),
        )
        parts.append(_matches(digits, "(?:" + "|".join(tails) + ")"))
    if target.identifiers:
        parts.append(
            _matches(sge.column("reason", quoted=True), identifier_pattern(target.identifiers))
        )
    return parts


def _matches(value: sge.Expression, pattern: str) -> sge.Expression:
    return sge.RegexpLike(this=sge.Lower(this=value), expression=sge.Literal.string(pattern))


def identifier_pattern(values: Iterable[str]) -> str:
    """An RE2 pattern (for a lower-cased text) finding any of ``values``: as a whole word
    for long or punctuated ones, as the whole text for short plain ones."""
    contained, whole = [], []
    for value in sorted({v.strip().lower() for v in values if v and v.strip()}):
        plain = value.isalnum()
        (whole if plain and len(value) < MIN_CONTAINED_LENGTH else contained).append(
            _re2_literal(value)
        )
    branches = []
    if contained:
        branches.append(f"(?:^|{EDGE})(?:{'|'.join(contained)})(?:$|{EDGE})")
    if whole:
        branches.append(rf"^\s*(?:{'|'.join(whole)})\s*$")
    return "|".join(branches) or "$^"


def phone_tails(phones: Iterable[str]) -> list[str]:
    """The last digits of each E.164 phone: what any way of writing it contains."""
    tails = []
    for phone in phones:
        digits = "".join(ch for ch in phone if ch.isdigit())
        if len(digits) > 1:
            tails.append(digits[-min(PHONE_TAIL_DIGITS, len(digits) - 1) :])
    return sorted(set(tails))


def _re2_literal(text: str) -> str:
    """``text`` matched literally by RE2: letters and digits as they are, the rest as
    ``\\x{..}`` escapes (no character of the input keeps a meaning in the pattern)."""
    return "".join(ch if ch.isalnum() else f"\\x{{{ord(ch):x}}}" for ch in text)


def _keys(values: list[str]) -> pa.Table:
    return pa.table({"key": pa.array(values, pa.string())})


def _tombstones(store: Store) -> ir.Table:
    suppressions = store.table(SUPPRESSIONS)
    return suppressions.filter(suppressions.reason == ERASED).select("kind", "value_hash")


def _tombstone_count(store: Store) -> int:
    return store.scalar(_tombstones(store).count())


# -- the import guard -----------------------------------------------------------------------
def erased_records(store: Store, links: ir.Table) -> ir.Table:
    """``record_key`` of each batch record linked to an identifier erased earlier.

    ``links`` is the batch's ``record_key, identity, kind``; identities ``email:...`` and
    ``phone:...`` hold the normalized values, hashed here as the tombstones are, and source
    identities (``shopify:123``) are hashed whole.
    """
    personal = links.kind.isin(["email", "phone"])
    value = ibis.ifelse(personal, links.identity.re_replace("^(email|phone):", ""), links.identity)
    hashed = links.filter(links.identity.notnull()).select(
        "record_key", kind=links.kind, value_hash=identifier_hash(value)
    )
    return (
        hashed.semi_join(_tombstones(store), ["kind", "value_hash"]).select("record_key").distinct()
    )


def drop_erased(store: Store, batch: Batch) -> int:
    """Take the records of erased people out of ``batch``; the rows they came from become
    rejects with :data:`ERASURE_REASON` and no raw value, as do rejects for an erased
    segmint id. Returns the number of rows dropped."""
    if not _tombstone_count(store):
        return 0
    batch.rejects = scrub_erased_ids(store, batch.rejects)
    if batch.links is None:
        return 0
    dropped = store.stage("_erased_records", erased_records(store, batch.links))
    if not store.scalar(dropped.count()):
        return 0
    orders = None
    if batch.orders is not None:
        orders = store.stage(
            "_erased_orders", batch.orders.semi_join(dropped, "record_key").select("order_id")
        )
    rows = _rows_of(batch, dropped, orders)
    batch.links = batch.links.anti_join(dropped, "record_key")
    for name in ("profiles", "orders", "refunds", "events"):
        table = getattr(batch, name)
        if table is not None and "record_key" in table.columns:
            setattr(batch, name, table.anti_join(dropped, "record_key"))
    if batch.order_lines is not None and orders is not None:
        batch.order_lines = batch.order_lines.anti_join(orders, "order_id")
    batch.rows_loaded -= rows
    batch.rejects = batch.rejects + [Reject(None, None, None, ERASURE_REASON)] * rows
    return rows


def scrub_erased_ids(store: Store, rejects: list[Reject]) -> list[Reject]:
    """``rejects`` with each one for an unknown segmint id that was erased replaced by an
    erasure reject without row, column or value (the id no longer names anyone here)."""
    unknown = [r.raw for r in rejects if r.reason == UNKNOWN_SEGMINT_ID and r.raw]
    if not unknown:
        return rejects
    probe = ibis.memtable(pa.table({"value": pa.array(sorted(set(unknown)), pa.string())}))
    hashed = probe.mutate(kind=ibis.literal(SEGMINT_KIND), value_hash=identifier_hash(probe.value))
    erased_ids = set(
        hashed.semi_join(_tombstones(store), ["kind", "value_hash"]).value.to_pyarrow().to_pylist()
    )
    return [
        Reject(None, None, None, ERASURE_REASON)
        if r.reason == UNKNOWN_SEGMINT_ID and r.raw in erased_ids
        else r
        for r in rejects
    ]


def _rows_of(batch: Batch, dropped: ir.Table, orders: ir.Table | None) -> int:
    """How many file rows the dropped records came from, counted in the batch table that
    has one row per file row: events in an events file, lines in an orders file with line
    items, orders in one without, profiles in a customers file."""
    if batch.events is not None:
        counted = batch.events.semi_join(dropped, "record_key")
    elif batch.order_lines is not None and orders is not None:
        counted = batch.order_lines.semi_join(orders, "order_id")
    elif batch.orders is not None:
        counted = batch.orders.semi_join(dropped, "record_key")
    elif batch.profiles is not None:
        counted = batch.profiles.semi_join(dropped, "record_key")
    else:
        return 0
    return int(counted.count().execute())
