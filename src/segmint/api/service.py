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
from datetime import datetime
from pathlib import Path
from typing import Any

from segmint.api.index import MembershipIndex, build_index
from segmint.api.keys import KeyRing, valid_keys
from segmint.errors import SegmintError
from segmint.store import Store, utcnow
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
        self.keys = KeyRing(lambda: self.read(valid_keys), self.limits.rate_limit)
        self.index: MembershipIndex = self.read(build_index)
        self.jobs: dict[str, Job] = {}
        self._jobs = ThreadPoolExecutor(max_workers=1, thread_name_prefix="segmint-job")
        self._job_counter = 0

    @classmethod
    def open(cls, path: Path | str, limits: Limits | None = None) -> Service:
        return cls(Workspace(path), limits)

    # -- reading ----------------------------------------------------------------------------
    def reader(self) -> Store:
        """This thread's own connection to the workspace's database."""
        store = getattr(self._readers, "store", None)
        if store is None:
            store = self.store.reader()
            self._readers.store = store
            with self._readers_lock:
                self._all_readers.append(store)
        return store

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
            self.rebuild_index()
            record = result.as_dict()
            record["as_of"] = record["as_of"].isoformat()
            record["rfm_cut_points"] = result.rfm_cut_points
            return record

        return self.submit("refresh", work)

    def close(self) -> None:
        self._jobs.shutdown(wait=True)
        with self._readers_lock:
            for reader in self._all_readers:
                reader.close()
            self._all_readers.clear()
        self.workspace.close()
