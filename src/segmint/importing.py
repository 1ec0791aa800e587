"""The import pipeline: detect, read, build a batch, resolve identities, write atomically.

An import runs in one transaction: if anything fails, the workspace is exactly as before.
Every input row ends up loaded or rejected with a reason, and the pipeline checks that
``rows_read == rows_loaded + rows_rejected`` before it commits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from segmint.activation.erasure import drop_erased
from segmint.errors import ImportAborted, InputFileError, SegmintError
from segmint.identity import resolve
from segmint.importers import detect_format
from segmint.importers.base import Batch, ImportContext, Importer, ImportOptions
from segmint.readers import RawTable, Reject, peek_header
from segmint.schema import TABLES
from segmint.settings import Settings
from segmint.store import Store, utcnow

PROFILE_COLUMNS = [
    c
    for c in TABLES["customers"].names
    if c not in {"customer_id", "first_seen_at", "updated_at", "first_import_id"}
]


@dataclass
class ImportResult:
    """The summary of one file's import, as stored in the ``imports`` table."""

    file: str
    format: str
    checksum: str
    import_id: int | None = None
    skipped: bool = False
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    duplicate_rows: int = 0
    customers_created: int = 0
    customers_merged: int = 0
    orders_new: int = 0
    orders_updated: int = 0
    events_new: int = 0
    reject_reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


#: The phases of an import, reported to a progress callback in this order.
PHASES = ("checking", "reading", "validating", "linking identities", "writing")


def import_file(
    store: Store,
    path: Path,
    options: ImportOptions | None = None,
    progress: Callable[[str], None] | None = None,
) -> ImportResult:
    """Import one file into the workspace; the same file twice changes nothing."""
    options = options or ImportOptions()
    step = progress or (lambda phase: None)
    step("checking")
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    checksum = file_checksum(path)
    previous = previous_import(store, checksum)
    header = peek_header(path, encoding=options.encoding, delimiter=_delimiter(options))
    importer = detect_format(path, header, options)
    if previous is not None:
        return ImportResult(
            file=path.name,
            format=importer.name,
            checksum=checksum,
            import_id=previous,
            skipped=True,
        )
    step("reading")
    raw = importer.read(path, options, header)
    return import_rows(store, raw, importer, path, checksum, options, step)


class RowsRejected(SegmintError):
    """A strict import (:func:`import_rows` with ``strict``) found rows it would reject."""

    def __init__(self, rejects: list[Reject]):
        first = rejects[0]
        where = f"row {first.row}" + (f", column {first.column}" if first.column else "")
        super().__init__(f"{where}: {first.reason}")
        self.rejects = rejects


def import_rows(
    store: Store,
    raw: RawTable,
    importer: Importer,
    path: Path,
    checksum: str,
    options: ImportOptions,
    step: Callable[[str], None] = lambda phase: None,
    strict: bool = False,
) -> ImportResult:
    """Import rows already read (from a file, or from an API request named ``path``).

    ``strict``: any row that would be rejected raises :class:`RowsRejected` and nothing is
    written (an API request is taken whole or not at all).
    """
    started = utcnow()
    try:
        # Validation only stages scratch tables, so it runs before the transaction: DuckDB
        # keeps every Arrow table scanned inside a transaction alive until it ends.
        ctx = ImportContext(
            store, Settings(store.settings()), path, store.next_id("imports", "import_id"), options
        )
        step("validating")
        rows_read = raw.rows_read
        batch = importer.build(raw, ctx)
        drop_erased(store, batch)
        batch.rejects = sorted(raw.rejects + batch.rejects, key=lambda r: r.row or 0)
        if strict and batch.rejects:
            raise RowsRejected(batch.rejects)
        result = ImportResult(
            file=path.name, format=importer.name, checksum=checksum, import_id=ctx.import_id
        )
        with store.transaction():
            apply_batch(store, batch, ctx, result, step)
            _account(result, rows_read, batch)
            _record(store, result, raw.file, batch.rejects, started)
            for key, value in ctx.setting_updates.items():
                store.set_setting(key, value)
    except SegmintError:
        raise
    except Exception as exc:
        raise ImportAborted(
            f"{path.name}: import failed and was rolled back, the workspace is unchanged ({exc})"
        ) from exc
    return result


def _delimiter(options: ImportOptions) -> str | None:
    mapping = options.mapping or {}
    if mapping.get("delimiter") == "whitespace":
        return None
    return mapping.get("delimiter", ",")


def previous_import(store: Store, checksum: str) -> int | None:
    """The import that already brought in content with this checksum, or None."""
    imports = store.table("imports")
    found = imports.filter(imports.checksum == checksum).import_id.min().execute()
    return None if found is None or found != found else int(found)


def _account(result: ImportResult, rows_read: int, batch: Batch) -> None:
    result.rows_read = rows_read
    result.rows_loaded = batch.rows_loaded
    result.rows_rejected = len(batch.rejects)
    result.duplicate_rows = batch.duplicate_rows
    for reject in batch.rejects:
        reason = reject.reason.split(" (")[0]
        result.reject_reasons[reason] = result.reject_reasons.get(reason, 0) + 1
    if result.rows_read != result.rows_loaded + result.rows_rejected:
        raise ImportAborted(
            f"{result.file}: {result.rows_read} rows read but {result.rows_loaded} loaded and "
            f"{result.rows_rejected} rejected; nothing was imported "
            "(this is a bug, please report it)"
        )


def _record(
    store: Store, result: ImportResult, file: str, rejects: list[Reject], started: Any
) -> None:
    row = {k: v for k, v in result.as_dict().items() if k in TABLES["imports"].names}
    row.update(started_at=started, finished_at=utcnow())
    store.insert("imports", pa.Table.from_pylist([row]))
    if rejects:
        store.insert(
            "rejects",
            pa.table(
                {
                    "import_id": [result.import_id] * len(rejects),
                    "file": [file] * len(rejects),
                    "row_number": [r.row for r in rejects],
                    "column": [r.column for r in rejects],
                    "raw_value": [r.raw for r in rejects],
                    "reason": [r.reason for r in rejects],
                }
            ),
        )


# -- applying a batch ---------------------------------------------------------------------
def apply_batch(
    store: Store,
    batch: Batch,
    ctx: ImportContext,
    result: ImportResult,
    step: Callable[[str], None] = lambda phase: None,
) -> None:
    """Write a batch: identities first, then profiles, orders, refunds, events, products."""
    step("linking identities")
    owners = _resolve(store, batch, ctx, result)
    step("writing")
    if batch.profiles is not None and owners is not None:
        _write_profiles(store, batch, owners, ctx)
    if batch.orders is not None:
        _write_orders(store, batch, owners, result)
    if batch.refunds is not None:
        _write_owned(store, "refunds", batch.refunds, owners)
    if batch.events is not None:
        result.events_new = _write_events(store, batch.events, owners)
    if batch.products is not None:
        store.replace_rows("products", batch.products)


def _resolve(
    store: Store, batch: Batch, ctx: ImportContext, result: ImportResult
) -> ir.Table | None:
    if batch.links is None:
        return None
    resolution = resolve(store, batch.links)
    merges = store.scalar(resolution.merges.count())
    if merges:
        _apply_merges(store, resolution.merges, ctx)
    result.customers_merged = merges
    result.customers_created = store.scalar(
        resolution.record_customers.filter(ibis._.is_new).customer_id.nunique()
    )
    new = resolution.new_identities
    store.insert(
        "identities",
        new.mutate(first_seen_at=ibis.literal(utcnow()), import_id=ibis.literal(ctx.import_id)),
    )
    return resolution.record_customers


def _apply_merges(store: Store, merges: ir.Table, ctx: ImportContext) -> None:
    """Fold merged customers into survivors and keep the merged ids as redirects."""
    store.stage("_merge_map", merges.select("merged_id", "surviving_id"))
    customers = store.table("customers")
    involved = customers.left_join(merges, customers.customer_id == merges.merged_id)
    involved = involved.filter(
        involved.merged_id.notnull() | involved.customer_id.isin(merges.surviving_id)
    ).mutate(target=ibis.coalesce(ibis._.surviving_id, ibis._.customer_id))
    involved = involved.mutate(priority=ibis.ifelse(involved.customer_id == involved.target, 0, 1))
    combined = (
        involved.group_by(customer_id=involved.target)
        .aggregate(
            **{
                c: involved[c].first(
                    where=involved[c].notnull(),
                    order_by=[involved.priority, involved.first_import_id],
                )
                for c in PROFILE_COLUMNS
            },
            first_seen_at=involved.first_seen_at.min(),
            first_import_id=involved.first_import_id.min(),
        )
        .mutate(updated_at=ibis.literal(utcnow()))
    )
    combined = store.stage("_merge_combined", combined)
    store.stage("_merge_gone", merges.select(customer_id=merges.merged_id))
    store.delete_where_key_in("customers", "customer_id", "_merge_gone")
    store.replace_rows("customers", combined)
    for table in ("identities", "orders", "refunds", "events", "merges"):
        store.remap_customer_ids(table, "_merge_map")
    store.insert(
        "merges",
        merges.mutate(merged_at=ibis.literal(utcnow()), import_id=ibis.literal(ctx.import_id)),
    )


def _write_profiles(store: Store, batch: Batch, owners: ir.Table, ctx: ImportContext) -> None:
    profiles = batch.profiles.join(owners, "record_key")
    columns = [c for c in PROFILE_COLUMNS if c in profiles.columns]
    latest = profiles.group_by("customer_id").aggregate(
        **{
            c: profiles[c].first(where=profiles[c].notnull(), order_by=ibis.desc(profiles.rank))
            for c in columns
        },
        seen_at=profiles.seen_at.min(),
    )
    latest = store.stage("_profiles", latest)
    existing = store.table("customers")
    existing = existing.select(**{f"{c}_old": existing[c] for c in existing.columns})
    joined = latest.left_join(existing, latest.customer_id == existing.customer_id_old)
    values = {}
    for column in PROFILE_COLUMNS:
        new = joined[column] if column in columns else None
        old = joined[f"{column}_old"]
        if new is None:
            values[column] = old
        elif batch.profiles_authoritative:
            values[column] = ibis.coalesce(new, old)
        else:
            values[column] = ibis.coalesce(old, new)
    merged = joined.select(
        customer_id=joined.customer_id,
        **values,
        first_seen_at=ibis.coalesce(
            ibis.least(joined.seen_at, joined.first_seen_at_old), ibis.literal(utcnow())
        ),
        updated_at=ibis.literal(utcnow()),
        first_import_id=ibis.coalesce(joined.first_import_id_old, ibis.literal(ctx.import_id)),
    )
    store.replace_rows("customers", store.stage("_profiles_merged", merged))


def _owned(table: ir.Table, owners: ir.Table | None) -> ir.Table:
    """Replace ``record_key`` with the resolved ``customer_id``."""
    if "record_key" not in table.columns or owners is None:
        return table
    joined = table.left_join(owners, "record_key")
    return joined.drop("record_key", "is_new", *[c for c in joined.columns if c.endswith("_right")])


def _write_owned(store: Store, name: str, table: ir.Table, owners: ir.Table | None) -> None:
    store.replace_rows(name, _owned(table, owners))


def _write_orders(
    store: Store, batch: Batch, owners: ir.Table | None, result: ImportResult
) -> None:
    orders = store.stage("_orders", _owned(batch.orders, owners))
    existing = store.table("orders").select("order_id")
    result.orders_updated = store.scalar(orders.semi_join(existing, "order_id").count())
    result.orders_new = store.scalar(orders.count()) - result.orders_updated
    store.stage(
        "_order_keys",
        orders.select(key=orders.order_id).union(
            orders.filter(orders.order_number.notnull()).select(key=orders.order_number)
        ),
    )
    store.delete_event_orders("_order_keys")
    store.replace_rows("orders", orders)
    if batch.order_lines is not None:
        store.replace_rows("order_lines", batch.order_lines, key="order_id")
    if batch.refunds is not None:
        store.stage("_refund_orders", orders.select("order_id"))
        store.delete_where_key_in("refunds", "order_id", "_refund_orders")


def _write_events(store: Store, events: ir.Table, owners: ir.Table | None) -> int:
    events = store.stage("_events", _owned(events, owners))
    fresh = store.stage("_events_new", events.anti_join(store.table("events"), "event_id"))
    store.insert("events", fresh)
    return store.scalar(fresh.count())
