"""Sending due deliveries: a background worker with its own DuckDB connection.

A :class:`Deliverer` polls the outbox (and wakes at once on :meth:`Deliverer.wake`), leases
the due deliveries it has room for, POSTs them from a bounded pool of threads and records
each attempt. At most ``per_webhook`` deliveries per webhook are in flight, so a slow or
dead receiver holds a few threads, never the whole pool, and never the caller: the API only
writes rows and calls :meth:`~Deliverer.wake`. After :data:`BREAKER_FAILURES` failures in a
row, a webhook's deliveries wait (a circuit breaker: its pauses grow like the retries, and
after each one a single delivery tries again): a dead receiver with a backlog would
otherwise keep the deliverer, and so the server's CPU and database, busy with attempts
that fail at once.

All database work happens on one thread (the poller, or the caller of :meth:`run_once`)
through a connection of its own (:meth:`Store.reader`: a cursor of the workspace's DuckDB
instance, with its own transactions); the HTTP threads only talk HTTP.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from segmint.store import Store
from segmint.webhooks.outbox import (
    Attempt,
    Delivery,
    Outcome,
    RetryPolicy,
    claim,
    now_utc,
    record_attempts,
    retryable,
    succeeded,
)
from segmint.webhooks.signing import EVENT_ID_HEADER, SIGNATURE_HEADER, sign

log = logging.getLogger("segmint.webhooks")

USER_AGENT = "segmint-webhooks/1"
#: How much of a failed answer's body is kept in the log.
ERROR_SNIPPET = 200
#: Attempts recorded per transaction by :meth:`Deliverer.run_once`.
RECORD_BATCH = 100
#: Failed attempts in a row after which a webhook's deliveries wait (see :class:`Breaker`).
BREAKER_FAILURES = 5


@dataclass
class Breaker:
    """One webhook's failures in a row, and until when its deliveries wait.

    A failure is an attempt that would be retried (no answer, 408, 429, 5xx); any other
    answer closes the breaker. Each pause lasts the retry policy's delay for the number of
    pauses so far; after one, a single failure pauses again.
    """

    failures: int = 0
    pauses: int = 0
    paused_until: datetime | None = None

    def record(
        self, outcome: Outcome, now: datetime, policy: RetryPolicy, rng: random.Random
    ) -> None:
        if not retryable(outcome.status_code):
            self.failures, self.pauses, self.paused_until = 0, 0, None
            return
        self.failures += 1
        if self.failures >= BREAKER_FAILURES:
            self.pauses += 1
            self.paused_until = now + timedelta(seconds=policy.delay(self.pauses, rng))
            self.failures = BREAKER_FAILURES - 1

    def paused(self, now: datetime) -> bool:
        return self.paused_until is not None and now < self.paused_until


def headers_for(delivery: Delivery, timestamp: int) -> dict[str, str]:
    """The headers of a delivery's POST, signed at ``timestamp`` (Unix seconds)."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_ID_HEADER: delivery.delivery_id,
        SIGNATURE_HEADER: sign(delivery.secret, delivery.body.encode(), timestamp),
    }


def send(
    client: httpx.Client, delivery: Delivery, clock: Callable[[], datetime] = now_utc
) -> Attempt:
    """POST one delivery, signed now; the receiver's status, or the error when none came."""
    attempted_at = clock()
    timestamp = int(attempted_at.replace(tzinfo=UTC).timestamp())
    started = time.perf_counter()
    status_code: int | None = None
    try:
        response = client.post(
            delivery.url,
            content=delivery.body.encode(),
            headers=headers_for(delivery, timestamp),
        )
    except httpx.TimeoutException as exc:
        error = f"timeout: {type(exc).__name__}"
    except Exception as exc:  # connection refused, DNS, TLS, a URL httpx refuses...
        error = f"{type(exc).__name__}: {exc}"
    else:
        status_code = response.status_code
        error = None if succeeded(status_code) else _http_error(response)
    duration_ms = (time.perf_counter() - started) * 1000
    return Attempt(delivery, attempted_at, status_code, error, duration_ms)


def _http_error(response: httpx.Response) -> str:
    snippet = " ".join(response.text[:ERROR_SNIPPET].split())
    reason = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
    return f"{reason}: {snippet}" if snippet else reason


class Deliverer:
    """Delivers the outbox of ``store``'s workspace, in the background or on demand.

    ``start()`` runs it on a thread until ``stop()``; ``run_once()`` sends every delivery due
    now, one attempt each, and returns. ``clock`` (naive UTC) and ``rng`` are for tests.
    """

    def __init__(
        self,
        store: Store,
        *,
        policy: RetryPolicy | None = None,
        timeout_s: float = 5.0,
        workers: int = 8,
        per_webhook: int = 2,
        poll_s: float = 1.0,
        lease_s: float | None = None,
        clock: Callable[[], datetime] = now_utc,
        rng: random.Random | None = None,
    ):
        self.policy = policy or RetryPolicy()
        self.timeout_s = timeout_s
        self.workers = max(1, workers)
        self.per_webhook = max(1, min(per_webhook, self.workers))
        self.poll_s = poll_s
        #: A leased delivery is due again after this long (if its attempt was never recorded).
        self.lease_s = lease_s if lease_s is not None else max(60.0, 4 * timeout_s)
        self.clock = clock
        self.rng = rng or random.Random()
        self.store = store.reader()  # a connection of its own: used from the poller thread
        self._client = httpx.Client(
            timeout=timeout_s,
            limits=httpx.Limits(max_connections=self.workers, max_keepalive_connections=4),
            follow_redirects=False,
        )
        self._pool: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._stop_by = 0.0
        self._results: queue.SimpleQueue[Attempt] = queue.SimpleQueue()
        self._in_flight: dict[str, Delivery] = {}
        self._breakers: dict[int, Breaker] = {}
        self._closed = False

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> Deliverer:
        """Deliver in the background, starting with whatever is already due."""
        if self._thread is not None or self._closed:
            raise RuntimeError("a Deliverer starts once")
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="segmint-webhook")
        self._thread = threading.Thread(target=self._loop, name="segmint-deliverer", daemon=True)
        self._thread.start()
        return self

    def wake(self) -> None:
        """Look for due deliveries now rather than at the next poll (call after enqueue)."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop polling, wait up to ``timeout`` seconds for the attempts in flight and record
        them; returns whether everything stopped in time. Unrecorded attempts are sent again
        once their lease ends."""
        if self._thread is None:
            self.close()
            return True
        self._stop_by = time.monotonic() + timeout
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout + 1.0)
        return not self._thread.is_alive()

    def close(self) -> None:
        """Release the HTTP client and the connection (``stop()`` does it for a started one)."""
        if self._closed:
            return
        self._closed = True
        self._client.close()
        self.store.close()

    def __enter__(self) -> Deliverer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- on demand ------------------------------------------------------------------------
    def run_once(self, limit: int | None = None) -> list[Outcome]:
        """Send every delivery due now (at most ``limit``), one attempt each, and record
        them; for tests and ``segmint webhooks deliver``, not while started."""
        if self._thread is not None:
            raise RuntimeError("run_once() is for a Deliverer that was not started")
        deliveries = claim(self.store, self.clock(), self.lease_s, limit=limit)
        outcomes: list[Outcome] = []
        batch: list[Attempt] = []
        with ThreadPoolExecutor(self.workers, thread_name_prefix="segmint-webhook") as pool:
            futures = [pool.submit(send, self._client, d, self.clock) for d in deliveries]
            for future in as_completed(futures):
                batch.append(future.result())
                if len(batch) >= RECORD_BATCH:
                    outcomes += self._record(batch)
                    batch = []
        return outcomes + self._record(batch)

    # -- the background loop --------------------------------------------------------------
    def _loop(self) -> None:
        try:
            while not self._stopping.is_set():
                self._wake.clear()
                try:
                    self._tick()
                except Exception:  # a locked or conflicting write: try again next poll
                    log.exception("webhook delivery poll failed")
                self._wake.wait(self.poll_s)
            self._drain()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
            self.close()

    def _tick(self) -> None:
        self._record(self._finished())
        room = self.workers - len(self._in_flight)
        if room <= 0:
            return
        busy = Counter(d.webhook_id for d in self._in_flight.values())
        now = self.clock()
        for webhook_id, breaker in self._breakers.items():
            if breaker.paused(now):
                busy[webhook_id] = self.per_webhook  # taken as full: none of its deliveries
            elif breaker.pauses:  # after a pause, one delivery tries the receiver again
                busy[webhook_id] = max(busy[webhook_id], self.per_webhook - 1)
        for delivery in claim(self.store, now, self.lease_s, room, self.per_webhook, busy):
            self._in_flight[delivery.delivery_id] = delivery
            assert self._pool is not None
            self._pool.submit(self._send, delivery)

    def _send(self, delivery: Delivery) -> None:
        try:
            attempt = send(self._client, delivery, self.clock)
        except Exception as exc:  # a bug in send: still free the slot, retry later
            attempt = Attempt(delivery, self.clock(), None, f"{type(exc).__name__}: {exc}", 0.0)
        self._results.put(attempt)
        self._wake.set()

    def _finished(self) -> list[Attempt]:
        done = []
        while True:
            try:
                done.append(self._results.get_nowait())
            except queue.Empty:
                return done

    def _drain(self) -> None:
        """On stop: record the attempts in flight that finish before the deadline."""
        done = self._finished()
        while len(done) < len(self._in_flight):
            left = self._stop_by - time.monotonic()
            if left <= 0:
                break
            try:
                done.append(self._results.get(timeout=min(left, 0.1)))
            except queue.Empty:
                continue
        try:
            self._record(done)
        except Exception:
            log.exception("recording webhook attempts on stop failed")

    def _record(self, attempts: Iterable[Attempt]) -> list[Outcome]:
        attempts = list(attempts)
        if not attempts:
            return []
        try:
            outcomes = record_attempts(self.store, attempts, self.policy, self.clock(), self.rng)
            now = self.clock()
            for outcome in outcomes:
                breaker = self._breakers.setdefault(outcome.webhook_id, Breaker())
                breaker.record(outcome, now, self.policy, self.rng)
            return outcomes
        finally:  # recorded or not, the slot is free (an unrecorded one is sent again later)
            for attempt in attempts:
                self._in_flight.pop(attempt.delivery.delivery_id, None)
