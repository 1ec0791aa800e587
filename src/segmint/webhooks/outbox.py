"""The durable outbox: membership changes become deliveries; every attempt is recorded.

A delivery is a ``webhook_deliveries`` row written in the same transaction as the change it
reports, so it survives a crash or restart; the :class:`~segmint.webhooks.delivery.Deliverer`
picks up whatever is due. Its body is compact JSON, keys in this order::

    {"id":"evt_<32 hex>","type":"segment.enter","customer_id":"c_...","segment":"rfm_loyal",
     "change":"enter","changed_at":"2024-05-01T12:00:00Z"}

``id`` (also ``delivery_id``) is ``evt_`` and a random UUID4's hex, drawn per row by DuckDB
(``ibis.uuid()``): unique across workspaces and restarts, so receivers can de-duplicate on it
without knowing which workspace sent it, and it reveals nothing about volumes or order.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from segmint.errors import ConfigError
from segmint.schema import TABLES
from segmint.store import Store, update_from

CHANGES = ("enter", "exit")
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
EVENT_PREFIX = "evt_"
ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"
#: HTTP statuses worth retrying besides 5xx: Request Timeout and Too Many Requests.
RETRY_STATUSES = frozenset({408, 429})


def now_utc() -> datetime:
    """The current time as a naive UTC timestamp, to the microsecond (for scheduling)."""
    return datetime.now(UTC).replace(tzinfo=None)


def naive_utc(moment: datetime) -> datetime:
    """``moment`` as a naive UTC timestamp (how the workspace stores time)."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


# -- retry policy ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, up to ``max_attempts`` attempts in all."""

    max_attempts: int = 8
    base_s: float = 1.0
    factor: float = 2.0
    max_delay_s: float = 600.0
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigError("max attempts must be at least 1")
        if self.base_s < 0 or self.max_delay_s < 0 or self.factor < 1:
            raise ConfigError("retry delays must be positive and the factor at least 1")
        if not 0 <= self.jitter <= 1:
            raise ConfigError("jitter must be between 0 and 1")

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1, 2, ...).

        ``base_s * factor ** (attempt - 1)``, capped at ``max_delay_s``, then moved by a
        random fraction in ``[-jitter, +jitter]`` (so that receivers that fail together are
        not retried together), and capped again.
        """
        try:
            nominal = min(self.max_delay_s, self.base_s * self.factor ** (attempt - 1))
        except OverflowError:
            nominal = self.max_delay_s
        spread = (rng or random).uniform(-self.jitter, self.jitter)
        return min(self.max_delay_s, nominal * (1 + spread))


def succeeded(status_code: int | None) -> bool:
    return status_code is not None and 200 <= status_code < 300


def retryable(status_code: int | None) -> bool:
    """Timeouts and connection errors (no status), 408, 429 and 5xx are retried; any other
    answer (4xx, or a 3xx: redirects are not followed) fails the delivery at once."""
    return status_code is None or status_code >= 500 or status_code in RETRY_STATUSES


# -- changes into deliveries ----------------------------------------------------------------
def membership_changes(old: ir.Table, new: ir.Table) -> ir.Table:
    """``customer_id, segment, change`` (``enter`` or ``exit``) between two membership tables.

    Both tables need ``customer_id`` and ``segment`` and must be on the same backend.
    """
    keys = ["customer_id", "segment"]
    before = old.select(*keys).filter(old.customer_id.notnull() & old.segment.notnull())
    after = new.select(*keys).filter(new.customer_id.notnull() & new.segment.notnull())
    before, after = before.distinct(), after.distinct()
    entered = after.anti_join(before, keys).mutate(change=ibis.literal("enter"))
    exited = before.anti_join(after, keys).mutate(change=ibis.literal("exit"))
    return entered.union(exited)


def subscriptions(store: Store) -> pa.Table:
    """``webhook_id, segment, change`` for every active webhook (a few rows: one per
    webhook, segment and change it listens to)."""
    webhooks = store.table("webhooks")
    active = webhooks.filter(webhooks.removed_at.isnull())
    rows = store.run(active.select("webhook_id", "segments", "changes")).to_pylist()
    pairs = [
        {"webhook_id": row["webhook_id"], "segment": segment, "change": change}
        for row in rows
        for segment in json.loads(row["segments"])
        for change in json.loads(row["changes"])
    ]
    schema = pa.schema({"webhook_id": pa.int64(), "segment": pa.string(), "change": pa.string()})
    return pa.Table.from_pylist(pairs, schema=schema)


def enqueue(
    store: Store, changes: ir.Table, changed_at: datetime, now: datetime | None = None
) -> int:
    """Queue a delivery for each change and each active webhook listening to it; returns how
    many were queued.

    ``changes`` (``customer_id, segment, change``, e.g. :func:`membership_changes`) must be an
    expression on ``store``'s connection. Set-based: one join of the changes with the
    webhooks' subscriptions, then one insert. Runs inside the caller's
    ``store.transaction()`` when one is open (the deliveries then commit or roll back with
    the change); compute ``changes`` before replacing the memberships it reads.
    """
    listening = subscriptions(store)
    if listening.num_rows == 0:
        return 0
    # The times travel as columns, not literals, so the statements compile once (the store
    # reuses them) for every change of a running server.
    changed_at, queued_at = naive_utc(changed_at), naive_utc(now or now_utc())
    listening = _with_column(listening, "changed_at", changed_at, pa.timestamp("us"))
    listening = _with_column(listening, "changed_text", changed_at.strftime(ISO_UTC), pa.string())
    listening = _with_column(listening, "queued_at", queued_at, pa.timestamp("us"))
    with store.transaction(), store.arrow("_webhook_subscriptions", listening) as subscribed:
        matched = changes.select("customer_id", "segment", "change").join(
            subscribed, ["segment", "change"]
        )
        # Materialized first: the body must carry the very id drawn for its row.
        staged = store.stage(
            "_webhook_outbox",
            matched.select(
                "webhook_id",
                "customer_id",
                "segment",
                "change",
                "changed_at",
                "changed_text",
                "queued_at",
                delivery_id=_DELIVERY_ID,
            ),
        )
        store.insert("webhook_deliveries", _delivery_rows(staged))
        queued = store.scalar(staged.count())
        store.con.drop_table("_webhook_outbox", force=True)
    return queued


#: A delivery's id, drawn per row (one expression for every call, so that it compiles once).
_DELIVERY_ID = ibis.literal(EVENT_PREFIX) + ibis.uuid().cast("string").replace("-", "")


def _with_column(table: pa.Table, name: str, value: Any, kind: pa.DataType) -> pa.Table:
    return table.append_column(name, pa.array([value] * table.num_rows, kind))


def _delivery_rows(staged: ir.Table) -> ir.Table:
    body = ibis.struct(
        {
            "id": staged.delivery_id,
            "type": ibis.literal("segment.") + staged.change,
            "customer_id": staged.customer_id,
            "segment": staged.segment,
            "change": staged.change,
            "changed_at": staged.changed_text,
        }
    )
    return staged.mutate(
        body=body.cast("json").cast("string"),
        status=ibis.literal(PENDING),
        attempts=ibis.literal(0, "int64"),
        next_attempt_at=staged.queued_at,
        created_at=staged.queued_at,
    )


# -- picking due deliveries -----------------------------------------------------------------
@dataclass(frozen=True)
class Delivery:
    """A due delivery with what sending it needs."""

    delivery_id: str
    webhook_id: int
    url: str
    secret: str
    body: str
    attempts: int  # made before this one


def due(
    store: Store,
    now: datetime,
    limit: int | None = None,
    per_webhook: int | None = None,
    skip_webhooks: Iterable[int] = (),
) -> list[Delivery]:
    """Pending deliveries of active webhooks whose next attempt is due at ``now``.

    Taken in turns across webhooks (each webhook's oldest first, then each one's second...),
    so that a backlog for one receiver does not crowd out the others; ``per_webhook`` takes
    at most that many of each webhook (cheaply: the first few of each, not a ranking of the
    whole backlog), none of ``skip_webhooks``.
    """
    deliveries = store.table("webhook_deliveries")
    ready = deliveries.filter(
        deliveries.status == PENDING, deliveries.next_attempt_at <= naive_utc(now)
    )
    webhooks = store.table("webhooks")
    active = webhooks.filter(webhooks.removed_at.isnull())
    skipped = list(skip_webhooks)
    if skipped:
        active = active.filter(~active.webhook_id.isin(skipped))
    if per_webhook is not None:
        ready = _first_of_each(ready, active, per_webhook)
        if ready is None:
            return []
    rows = ready.join(active.select("webhook_id", "url", "secret"), "webhook_id")
    turn = ibis.row_number().over(
        group_by=rows.webhook_id, order_by=[rows.next_attempt_at, rows.delivery_id]
    )
    rows = rows.mutate(turn=turn).order_by(["turn", "next_attempt_at", "delivery_id"])
    if limit is not None:
        rows = rows.limit(limit)
    columns = ["delivery_id", "webhook_id", "url", "secret", "body", "attempts"]
    return [Delivery(**row) for row in rows.select(*columns).to_pyarrow().to_pylist()]


def _first_of_each(ready: ir.Table, webhooks: ir.Table, n: int) -> ir.Table | None:
    """The ``n`` first ready deliveries of each webhook: one small top-n per webhook (there
    are few webhooks, and a backlog can be large), or None without webhooks."""
    ids = webhooks.webhook_id.to_pyarrow().to_pylist()
    firsts = [
        ready.filter(ready.webhook_id == webhook_id)
        .order_by(["next_attempt_at", "delivery_id"])
        .limit(n)
        for webhook_id in ids
    ]
    return ibis.union(*firsts) if firsts else None


def claim(
    store: Store,
    now: datetime,
    lease_s: float,
    limit: int | None = None,
    per_webhook: int | None = None,
    busy: Mapping[int, int] | None = None,
) -> list[Delivery]:
    """Take due deliveries and lease them: their next attempt moves ``lease_s`` ahead, so
    that no other poll takes them while they are in flight, and a crash mid-flight only
    delays them (at least once: they are sent again once the lease ends).

    ``busy`` counts the deliveries already in flight per webhook; with ``per_webhook`` no
    webhook gets more than that many in flight.
    """
    in_flight = dict(busy or {})
    full = [w for w, n in in_flight.items() if per_webhook is not None and n >= per_webhook]
    with store.transaction():
        candidates = due(
            store, now, limit if per_webhook is None else None, per_webhook, skip_webhooks=full
        )
        chosen: list[Delivery] = []
        for delivery in candidates:
            if limit is not None and len(chosen) >= limit:
                break
            if per_webhook is not None and in_flight.get(delivery.webhook_id, 0) >= per_webhook:
                continue
            in_flight[delivery.webhook_id] = in_flight.get(delivery.webhook_id, 0) + 1
            chosen.append(delivery)
        if chosen:
            until = naive_utc(now) + timedelta(seconds=lease_s)
            leases = {"delivery_id": [d.delivery_id for d in chosen]}
            leases["next_attempt_at"] = [until] * len(chosen)
            update_rows(store, "webhook_deliveries", _typed("webhook_deliveries", leases))
    return chosen


# -- recording attempts ---------------------------------------------------------------------
@dataclass(frozen=True)
class Attempt:
    """One try at a delivery: the receiver's HTTP status, or the error when none came."""

    delivery: Delivery
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float

    @property
    def number(self) -> int:
        return self.delivery.attempts + 1


@dataclass(frozen=True)
class Outcome:
    """Where a delivery stands after an attempt."""

    delivery_id: str
    webhook_id: int
    attempt: int
    status: str  # pending (retry at next_attempt_at), delivered or failed
    status_code: int | None
    error: str | None
    next_attempt_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def outcome(
    attempt: Attempt, policy: RetryPolicy, now: datetime, rng: random.Random | None = None
) -> Outcome:
    """Delivered on a 2xx; a retry after the policy's delay when the failure is worth
    retrying and attempts remain; failed otherwise."""
    next_at = None
    if succeeded(attempt.status_code):
        status = DELIVERED
    elif retryable(attempt.status_code) and attempt.number < policy.max_attempts:
        status = PENDING
        next_at = naive_utc(now) + timedelta(seconds=policy.delay(attempt.number, rng))
    else:
        status = FAILED
    return Outcome(
        delivery_id=attempt.delivery.delivery_id,
        webhook_id=attempt.delivery.webhook_id,
        attempt=attempt.number,
        status=status,
        status_code=attempt.status_code,
        error=attempt.error,
        next_attempt_at=next_at,
    )


def record_attempts(
    store: Store,
    attempts: Sequence[Attempt],
    policy: RetryPolicy,
    now: datetime,
    rng: random.Random | None = None,
) -> list[Outcome]:
    """Log the attempts in ``webhook_attempts`` and mark each delivery delivered, due again
    (retries count from ``now``) or failed, in one transaction."""
    if not attempts:
        return []
    outcomes = [outcome(a, policy, now, rng) for a in attempts]
    log = {
        "delivery_id": [a.delivery.delivery_id for a in attempts],
        "webhook_id": [a.delivery.webhook_id for a in attempts],
        "attempt": [a.number for a in attempts],
        "attempted_at": [naive_utc(a.attempted_at) for a in attempts],
        "status_code": [a.status_code for a in attempts],
        "error": [a.error for a in attempts],
        "duration_ms": [a.duration_ms for a in attempts],
    }
    state = {
        "delivery_id": [o.delivery_id for o in outcomes],
        "status": [o.status for o in outcomes],
        "attempts": [o.attempt for o in outcomes],
        "next_attempt_at": [o.next_attempt_at for o in outcomes],
        "last_status_code": [o.status_code for o in outcomes],
        "last_error": [o.error for o in outcomes],
        "delivered_at": [
            _finished(a) if o.status == DELIVERED else None
            for a, o in zip(attempts, outcomes, strict=True)
        ],
    }
    with store.transaction():
        store.insert("webhook_attempts", _typed("webhook_attempts", log))
        update_rows(store, "webhook_deliveries", _typed("webhook_deliveries", state))
    return outcomes


def record_attempt(
    store: Store,
    attempt: Attempt,
    policy: RetryPolicy,
    now: datetime,
    rng: random.Random | None = None,
) -> Outcome:
    """:func:`record_attempts` for one attempt."""
    return record_attempts(store, [attempt], policy, now, rng)[0]


def _finished(attempt: Attempt) -> datetime:
    return naive_utc(attempt.attempted_at) + timedelta(milliseconds=attempt.duration_ms)


def resume_pending(store: Store, now: datetime | None = None) -> int:
    """Make every pending delivery due now; returns how many were waiting.

    For a deliverer starting in the workspace's only writing process (``segmint serve``):
    a lease taken by a process that died is not worth waiting out, and a restart is a fair
    moment to try receivers again.
    """
    moment = naive_utc(now or now_utc())
    deliveries = store.table("webhook_deliveries")
    waiting = deliveries.filter(
        (deliveries.status == "pending") & (deliveries.next_attempt_at > moment)
    ).select("delivery_id", next_attempt_at=ibis.literal(moment, "timestamp"))
    count = int(waiting.count().to_pyarrow().as_py())
    if count:
        update_rows(store, "webhook_deliveries", waiting)
    return count


def cancel_pending(store: Store, webhook_id: int, reason: str) -> None:
    """Fail every pending delivery of a webhook (it was removed), set-based."""
    deliveries = store.table("webhook_deliveries")
    pending = deliveries.filter(deliveries.webhook_id == webhook_id, deliveries.status == PENDING)
    update_rows(
        store,
        "webhook_deliveries",
        pending.select(
            "delivery_id",
            status=ibis.literal(FAILED),
            next_attempt_at=ibis.null("timestamp"),
            last_error=ibis.literal(reason),
        ),
    )


# -- reading the log ------------------------------------------------------------------------
def attempt_log(store: Store, webhook_id: int | None = None, limit: int | None = None) -> ir.Table:
    """Every attempt, newest first, with the change it delivered and where that stands now."""
    attempts = store.table("webhook_attempts")
    if webhook_id is not None:
        attempts = attempts.filter(attempts.webhook_id == webhook_id)
    deliveries = store.table("webhook_deliveries").select(
        "delivery_id", "customer_id", "segment", "change", "status"
    )
    log = attempts.left_join(deliveries, "delivery_id").select(
        attempts.attempted_at,
        attempts.webhook_id,
        attempts.delivery_id,
        attempts.attempt,
        deliveries.customer_id,
        deliveries.segment,
        deliveries.change,
        attempts.status_code,
        attempts.error,
        attempts.duration_ms,
        deliveries.status,
    )
    log = log.order_by([ibis.desc("attempted_at"), ibis.desc("attempt"), "delivery_id"])
    return log.limit(limit) if limit is not None else log


def delivery_counts(store: Store) -> ir.Table:
    """``webhook_id, pending, delivered, failed``: deliveries by status, per webhook."""
    deliveries = store.table("webhook_deliveries")
    return deliveries.group_by("webhook_id").aggregate(
        pending=deliveries.count(where=deliveries.status == PENDING),
        delivered=deliveries.count(where=deliveries.status == DELIVERED),
        failed=deliveries.count(where=deliveries.status == FAILED),
    )


# -- storage --------------------------------------------------------------------------------
def _typed(table: str, columns: dict[str, list[Any]]) -> pa.Table:
    """Columns of a workspace table as Arrow, with the table's types."""
    full = TABLES[table].to_pyarrow()
    schema = pa.schema([full.field(name) for name in columns])
    return pa.table(columns, schema=schema)


def update_rows(
    store: Store, table: str, rows: pa.Table | ir.Table, key: str = "delivery_id"
) -> None:
    """Set the other columns of ``rows`` on the rows of ``table`` with the same ``key``.

    One ``UPDATE ... FROM`` built with sqlglot from the schema's fixed identifiers; the
    values travel as a registered Arrow view or a staged table, never as SQL text.
    """
    names = rows.column_names if isinstance(rows, pa.Table) else list(rows.columns)
    unknown = [n for n in names if n not in TABLES[table]]
    if unknown or key not in names:
        raise ValueError(f"not columns of {table} (with key {key}): {unknown}")
    source = f"_update_{table}"
    update = update_from(table, source, (key, key), {n: n for n in names if n != key})
    if isinstance(rows, pa.Table):
        with store.arrow(source, rows):
            store.con.raw_sql(update)
        return
    store.stage(source, rows)
    store.con.raw_sql(update)
    store.con.drop_table(source, force=True)
