"""What a running server holds: the workspace, one writer, many readers, the index, the keys.

DuckDB allows one writing process, so the server is that process: it owns the workspace's
connection and runs every write (events, refreshes, exports' history, handed-off commands)
one at a time under :attr:`Service.writer_lock`. Requests read through their own cursors of
the same database (each its own transaction), so a refresh in progress never shows half of
its results: readers see the last committed one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from segmint.api.errors import ApiError
from segmint.api.events import EventIn, checksum, raw_table, reject_field
from segmint.api.index import MembershipIndex, build_index, update_index
from segmint.api.keys import KeyRing, valid_keys
from segmint.errors import SegmintError
from segmint.importers.base import ImportOptions
from segmint.importers.events import EventsImporter
from segmint.importing import RowsRejected, import_rows, previous_import
from segmint.realtime import Change, Rescorer, save_rescored
from segmint.store import Store, utcnow
from segmint.webhooks.delivery import Deliverer
from segmint.webhooks.outbox import RetryPolicy, enqueue, resume_pending
from segmint.workspace import Workspace


@dataclass(frozen=True)
class Limits:
    """Request limits of a server (settings ``api_rate_limit``, ``api_max_body_bytes``)."""

    rate_limit: int = 1000  # requests per second per key, unless the key says otherwise
    max_body_bytes: int = 1_048_576
    max_events_per_request: int = 1000
    max_page_size: int = 1000


@dataclass
class Job:
    """A background job (a refresh): its state as ``GET /v1/jobs/{id}`` shows it."""

    job_id: str
    kind: str
    status: str = "queued"  # queued, running, succeeded, failed
    created_at: datetime = field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    result: dict[str, Any] | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.job_id,
            "kind": self.kind,
            "status": self.status,
            "created_at": _iso(self.created_at),
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "result": self.result,
            "error": self.error,
        }


def _touched(store: Store, import_id: int | None) -> tuple[list[str], date | None]:
    """The customers an import's events belong to, and the latest day among them."""
    events = store.table("events")
    mine = events.filter(events.import_id == import_id)
    ids = mine.select("customer_id").distinct().order_by("customer_id")
    day = store.scalar(mine.occurred_date.max())
    return store.run(ids).column("customer_id").to_pylist(), day


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value else None


class Service:
    """One workspace served: open it with :meth:`open`, close it with :meth:`close`."""

    def __init__(self, workspace: Workspace, limits: Limits | None = None):
        self.workspace = workspace
        self.store: Store = workspace.store
        self.path: Path = workspace.store.path
        self.limits = limits or Limits()
        self.writer_lock = threading.RLock()
        self._readers = threading.local()
        self._all_readers: list[Store] = []
        self._readers_lock = threading.Lock()
        self._root = self.store.reader()
        self.keys = KeyRing(lambda: self.read(valid_keys), self.limits.rate_limit)
        self.keys.reload()
        self.keys.start()
        self.index: MembershipIndex = self.read(build_index)
        self.jobs: dict[str, Job] = {}
        self._jobs = ThreadPoolExecutor(max_workers=1, thread_name_prefix="segmint-job")
        self._job_counter = 0
        self._rescorer: Rescorer | None = None
        #: Called after changes were queued for webhooks (the deliverer's wake-up).
        self.on_changes: Callable[[], None] | None = None
        self.deliverer: Deliverer | None = None
        #: The token of ``<workspace>.server.json``: commands handed over present it.
        self.handoff_token: str | None = None

    @classmethod
    def open(cls, path: Path | str, limits: Limits | None = None, deliver: bool = False) -> Service:
        """Serve the workspace at ``path`` (its settings give the limits unless ``limits``);
        ``deliver``: run the webhook deliverer in the background."""
        workspace = Workspace(Path(path).resolve())
        settings = workspace.settings
        limits = limits or Limits(
            rate_limit=int(settings["api_rate_limit"]),
            max_body_bytes=int(settings["api_max_body_bytes"]),
        )
        service = cls(workspace, limits)
        if deliver:
            service.start_deliveries()
        return service

    def start_deliveries(self) -> None:
        """Deliver webhooks in the background, woken at once by every change."""
        settings = self.workspace.settings
        policy = RetryPolicy(
            max_attempts=int(settings["webhook_max_attempts"]),
            base_s=float(settings["webhook_retry_base_s"]),
        )
        timeout = float(settings["webhook_timeout_s"])
        with self.writing() as store:
            resume_pending(store)  # leases of a previous process that died are void
        self.deliverer = Deliverer(self.store, policy=policy, timeout_s=timeout).start()
        self.on_changes = self.deliverer.wake

    # -- reading ----------------------------------------------------------------------------
    def reader(self) -> Store:
        """This thread's own connection to the workspace's database."""
        store = getattr(self._readers, "store", None)
        if store is None:
            store = self.new_reader()
            self._readers.store = store
            with self._readers_lock:
                self._all_readers.append(store)
        return store

    def new_reader(self) -> Store:
        """A new connection to the database, made from a root connection no query uses (the
        writer's may be busy on another thread: DuckDB refuses concurrent use of one)."""
        with self._readers_lock:
            return self._root.reader()

    def read(self, query: Callable[[Store], Any]) -> Any:
        """Run ``query`` on this thread's reader, in one transaction (one consistent view)."""
        reader = self.reader()
        with reader.transaction():
            return query(reader)

    # -- writing ----------------------------------------------------------------------------
    @contextmanager
    def writing(self) -> Iterator[Store]:
        """The writer connection, held by one thread at a time."""
        with self.writer_lock:
            yield self.store

    def rebuild_index(self) -> MembershipIndex:
        """Build a new index from the committed workspace and swap it in."""
        index = self.read(build_index)
        self.index = index
        return index

    # -- jobs -------------------------------------------------------------------------------
    def submit(self, kind: str, work: Callable[[], dict[str, Any]]) -> Job:
        """Queue ``work`` on the job thread (one job at a time, in order)."""
        self._job_counter += 1
        job = Job(job_id=f"job_{self._job_counter}_{utcnow():%Y%m%d%H%M%S}", kind=kind)
        self.jobs[job.job_id] = job
        self._jobs.submit(self._run, job, work)
        return job

    def _run(self, job: Job, work: Callable[[], dict[str, Any]]) -> None:
        job.status, job.started_at = "running", utcnow()
        try:
            job.result = work()
            job.status = "succeeded"
        except SegmintError as exc:
            job.status, job.error = "failed", exc.message
        except Exception as exc:  # a job's failure is reported by the job, not raised
            job.status, job.error = "failed", f"{type(exc).__name__} (see the server log)"
        finally:
            job.finished_at = utcnow()

    def refresh_job(self) -> Job:
        """A full refresh on the writer, then a fresh index."""

        def work() -> dict[str, Any]:
            with self.writing():
                result = self.workspace.refresh()
                self._rescorer = None  # the next event uses this refresh's thresholds
                self.rebuild_index()
            if self.on_changes is not None:
                self.on_changes()
            record = result.as_dict()
            record["as_of"] = record["as_of"].isoformat()
            record["rfm_cut_points"] = result.rfm_cut_points
            return record

        return self.submit("refresh", work)

    # -- events -------------------------------------------------------------------------------
    def ingest(self, events: list[EventIn], single: bool) -> dict[str, Any]:
        """Store ``events`` (all or none), rescore their customers alone, save the new
        features and memberships, queue the webhooks of each change, update the index."""
        digest = checksum(events)
        with self.writing() as store:
            if previous_import(store, digest) is not None:
                return {"accepted": 0, "duplicate": True, "customers": []}
            try:
                result = import_rows(
                    store,
                    raw_table(events),
                    EventsImporter(),
                    Path(f"api-events-{digest[:16]}.json"),
                    digest,
                    ImportOptions(),
                    strict=True,
                )
            except RowsRejected as exc:
                first = exc.rejects[0]
                field = reject_field(first.row, first.column, single)
                raise ApiError(422, first.reason, field=field) from None
            ids, day = _touched(store, result.import_id)
            changes = self._rescore(store, ids, day, result.import_id)
        customers = [
            {
                "customer_id": customer_id,
                "segments": list(self.index.customers.get(customer_id, ())),
                "entered": [
                    c.segment
                    for c in changes
                    if c.customer_id == customer_id and c.change == "enter"
                ],
                "exited": [
                    c.segment
                    for c in changes
                    if c.customer_id == customer_id and c.change == "exit"
                ],
            }
            for customer_id in ids
        ]
        return {
            "accepted": result.rows_loaded,
            "import_id": result.import_id,
            "customers": customers,
        }

    def _rescore(
        self, store: Store, ids: list[str], day: date | None, import_id: int
    ) -> list[Change]:
        """Rescore ``ids`` on the writer after the import ``import_id`` and bring the index in
        step (writer lock held)."""
        if not ids or self.index.refresh_id is None:
            return []
        if self._rescorer is None:
            self._rescorer = Rescorer(store)
        rescorer = self._rescorer
        try:
            rescored = rescorer.rescore(ids, day)
        except Exception:
            self._rescorer = None  # its scratch tables may be gone: made again next time
            raise
        families = {s.slug: s.family for s in rescorer.config.segments}
        changes = save_rescored(
            store,
            rescored,
            rescorer.thresholds.refresh_id,
            families,
            on_changes=lambda table: enqueue(store, table, utcnow()),
        )
        update_index(self.index, store, rescored.memberships, import_id)
        if changes and self.on_changes is not None:
            self.on_changes()
        return changes

    def warm_up(self) -> Job:
        """Compile the real-time queries for today in the background, so that the first
        event does not wait for it."""

        def work() -> dict[str, Any]:
            with self.writing() as store:
                if self.index.refresh_id is None:
                    return {"warmed": False}
                if self._rescorer is None:
                    self._rescorer = Rescorer(store)
                self._rescorer.rescore([], utcnow().date())
            return {"warmed": True}

        return self.submit("warm-up", work)

    # -- commands handed over -------------------------------------------------------------
    def run_command(self, argv: list[str], cwd: str) -> dict[str, Any]:
        """Run a ``segmint`` command that could not open the workspace itself, on the
        writer; then bring the index, keys and rescoring in step with what it changed."""
        from segmint.cli.handoff import run_here

        with self.writing():
            result = run_here(argv, cwd, self.workspace)
            self._rescorer = None
            self.rebuild_index()
        self.keys.reload()
        if self.on_changes is not None:
            self.on_changes()
        return result

    def close(self) -> None:
        self.keys.stop()
        self._jobs.shutdown(wait=True)
        if self.deliverer is not None:
            self.deliverer.stop()
            self.deliverer.close()
        with self._readers_lock:
            for reader in self._all_readers:
                reader.close()
            self._all_readers.clear()
            self._root.close()
        self.workspace.close()
