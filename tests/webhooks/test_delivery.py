"""Delivering to a real HTTP receiver: retries with backoff, no retry on 4xx, attempts used
up, timeouts, a slow receiver that does not hold up others, and deliveries that survive a
stop, a restart and a killed process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from segmint.store import Store
from segmint.webhooks.delivery import BREAKER_FAILURES, Deliverer
from segmint.webhooks.outbox import RetryPolicy, enqueue, membership_changes, now_utc
from segmint.webhooks.registry import add_webhook
from segmint.workspace import Workspace
from webhooks.receiver import T0, Clock, Receiver, signature_is_valid, wait_until

SRC = Path(__file__).resolve().parents[2] / "src"


def queue_changes(store: Store, customers: list[str], segment: str = "value_vip", now=None) -> int:
    """Everyone in ``customers`` enters ``segment``."""
    new = store.stage(
        "_new_members",
        pa.table({"customer_id": customers, "segment": [segment] * len(customers)}),
    )
    return enqueue(store, membership_changes(new.limit(0), new), T0, now=now)


def delivery_rows(store: Store) -> list[dict]:
    return store.table("webhook_deliveries").order_by("customer_id").to_pyarrow().to_pylist()


def attempt_rows(store: Store) -> list[dict]:
    table = store.table("webhook_attempts")
    return table.order_by(["delivery_id", "attempt"]).to_pyarrow().to_pylist()


def statuses(store: Store) -> Counter:
    return Counter(r["status"] for r in delivery_rows(store))


def test_fails_twice_then_is_delivered_exactly_once(
    shop: Workspace, receivers: Callable[..., Receiver], clock: Clock
) -> None:
    receiver = receivers(script=[500, 502])
    webhook, secret = add_webhook(shop.store, receiver.url, ["value_vip"], ["enter"])
    queue_changes(shop.store, ["c1"], now=T0)
    policy = RetryPolicy(base_s=10, factor=2, jitter=0)
    with Deliverer(shop.store, policy=policy, clock=clock) as deliverer:
        assert [o.status for o in deliverer.run_once()] == ["pending"]
        clock.advance(9.9)
        assert deliverer.run_once() == []  # the 10 s backoff holds
        clock.advance(0.1)
        assert [o.status for o in deliverer.run_once()] == ["pending"]
        clock.advance(19.9)
        assert deliverer.run_once() == []  # then 20 s
        clock.advance(0.1)
        assert [o.status for o in deliverer.run_once()] == ["delivered"]
        clock.advance(3600)
        assert deliverer.run_once() == []  # never again

    assert len(receiver.requests) == 3
    assert len(receiver.successes()) == 1
    [row] = delivery_rows(shop.store)
    assert (row["status"], row["attempts"], row["last_status_code"]) == ("delivered", 3, 200)
    assert all(r.body == row["body"].encode() for r in receiver.requests)
    for received in receiver.requests:
        assert received.path == "/hook"
        assert received.headers["Content-Type"] == "application/json"
        assert received.headers["Segmint-Event-Id"] == row["delivery_id"]
        assert signature_is_valid(secret, received)
    assert json.loads(receiver.requests[0].body)["id"] == row["delivery_id"]
    timestamps = [r.headers["Segmint-Signature"].split(",")[0] for r in receiver.requests]
    assert timestamps == [f"t={int((T0 + timedelta(seconds=s)).timestamp())}" for s in (0, 10, 30)]
    log = attempt_rows(shop.store)
    assert [(a["attempt"], a["status_code"]) for a in log] == [(1, 500), (2, 502), (3, 200)]
    assert [a["attempted_at"] for a in log] == [T0 + timedelta(seconds=s) for s in (0, 10, 30)]
    assert log[0]["error"].startswith("HTTP 500") and log[2]["error"] is None
    assert webhook.webhook_id == row["webhook_id"]


def test_a_400_is_not_retried(
    shop: Workspace, receivers: Callable[..., Receiver], clock: Clock
) -> None:
    receiver = receivers(default=400)
    add_webhook(shop.store, receiver.url, ["value_vip"], ["enter"])
    queue_changes(shop.store, ["c1"], now=T0)
    with Deliverer(shop.store, clock=clock) as deliverer:
        assert [o.status for o in deliverer.run_once()] == ["failed"]
        clock.advance(86_400)
        assert deliverer.run_once() == []
    assert len(receiver.requests) == 1
    [row] = delivery_rows(shop.store)
    assert (row["status"], row["last_status_code"], row["next_attempt_at"]) == ("failed", 400, None)


def test_used_up_attempts_fail_the_delivery(
    shop: Workspace, receivers: Callable[..., Receiver], clock: Clock
) -> None:
    receiver = receivers(default=503)
    add_webhook(shop.store, receiver.url, ["value_vip"], ["enter"])
    queue_changes(shop.store, ["c1"], now=T0)
    with Deliverer(shop.store, policy=RetryPolicy(max_attempts=4), clock=clock) as deliverer:
        seen = []
        for _ in range(6):
            seen += [o.status for o in deliverer.run_once()]
            clock.advance(3600)
    assert seen == ["pending", "pending", "pending", "failed"]
    assert len(receiver.requests) == 4
    assert len(attempt_rows(shop.store)) == 4


def test_a_timeout_is_retried(
    shop: Workspace, receivers: Callable[..., Receiver], clock: Clock
) -> None:
    receiver = receivers(default="hang")
    add_webhook(shop.store, receiver.url, ["value_vip"], ["enter"])
    queue_changes(shop.store, ["c1"], now=T0)
    with Deliverer(shop.store, timeout_s=0.2, clock=clock) as deliverer:
        [outcome] = deliverer.run_once()
    receiver.release.set()
    assert (outcome.status, outcome.status_code) == ("pending", None)
    assert outcome.error.startswith("timeout")
    [logged] = attempt_rows(shop.store)
    assert logged["status_code"] is None and logged["error"].startswith("timeout")


def test_a_dead_receiver_is_retried(shop: Workspace, clock: Clock) -> None:
    dead = Receiver()
    url = dead.url
    dead.close()  # nothing listens on that port any more
    add_webhook(shop.store, url, ["value_vip"], ["enter"])
    queue_changes(shop.store, ["c1"], now=T0)
    with Deliverer(shop.store, clock=clock) as deliverer:
        [outcome] = deliverer.run_once()
    assert (outcome.status, outcome.status_code) == ("pending", None)
    assert "Connect" in outcome.error


def test_a_dead_receiver_with_a_backlog_is_paused_not_hammered(shop: Workspace) -> None:
    """Fifty deliveries to a dead receiver, retried every few milliseconds: after
    BREAKER_FAILURES failures in a row the webhook's deliveries wait, in pauses that grow
    like the retries, instead of failing as fast as the deliverer can send them."""
    dead = Receiver()
    url = dead.url
    dead.close()
    add_webhook(shop.store, url, ["value_vip"], ["enter"])
    queue_changes(shop.store, [f"c{i}" for i in range(50)])
    policy = RetryPolicy(max_attempts=100, base_s=0.02, max_delay_s=0.3, jitter=0)
    deliverer = Deliverer(shop.store, policy=policy, workers=8, per_webhook=8, poll_s=0.01)
    deliverer.start()
    try:
        time.sleep(1.5)
    finally:
        assert deliverer.stop()
    attempts = len(attempt_rows(shop.store))
    # Without the breaker about 100 attempts in 1.5 s (8 in flight at a time). With it: the
    # first failures and those already in flight, then one attempt per pause (20, 40, 80,
    # 160, 300, 300... ms).
    assert BREAKER_FAILURES <= attempts <= BREAKER_FAILURES + 8 + 10
    assert statuses(shop.store) == Counter({"pending": 50})


def test_a_slow_receiver_does_not_hold_up_another_webhook(
    shop: Workspace, receivers: Callable[..., Receiver]
) -> None:
    slow, fast = receivers(default="hang"), receivers()
    add_webhook(shop.store, slow.url, ["value_vip"], ["enter"])
    add_webhook(shop.store, fast.url, ["rfm_loyal"], ["enter"])
    # The slow receiver's backlog is older and larger than the pool.
    queue_changes(shop.store, [f"s{i}" for i in range(6)], now=now_utc() - timedelta(minutes=1))
    queue_changes(shop.store, ["f1"], segment="rfm_loyal")
    deliverer = Deliverer(shop.store, workers=4, per_webhook=2, timeout_s=30, poll_s=0.05)
    deliverer.start()
    try:
        wait_until(lambda: len(fast.successes()) == 1)
        # ... while the slow receiver still holds its first requests, unanswered.
        assert slow.answered == [] and not slow.release.is_set()
        assert len(slow.requests) <= 2  # at most per_webhook in flight for it
        slow.release.set()
        wait_until(lambda: statuses(shop.store)["delivered"] == 7)
    finally:
        assert deliverer.stop()
    assert len({json.loads(r.body)["id"] for r in slow.requests}) == 6


def test_wake_sends_new_deliveries_without_waiting_for_the_poll(
    shop: Workspace, receivers: Callable[..., Receiver]
) -> None:
    receiver = receivers()
    add_webhook(shop.store, receiver.url, ["value_vip"], ["enter"])
    deliverer = Deliverer(shop.store, poll_s=60).start()
    try:
        queue_changes(shop.store, ["c1"])
        deliverer.wake()
        wait_until(lambda: statuses(shop.store)["delivered"] == 1, timeout=30)
    finally:
        assert deliverer.stop()
    assert len(receiver.requests) == 1


def test_pending_deliveries_survive_a_stop_and_a_reopened_workspace(
    tmp_path: Path, receivers: Callable[..., Receiver], clock: Clock
) -> None:
    receiver = receivers(default=503)
    path = tmp_path / "shop.duckdb"
    first = Workspace(path)
    add_webhook(first.store, receiver.url, ["value_vip"], ["enter"])
    queue_changes(first.store, ["c1", "c2", "c3"], now=T0)
    deliverer = Deliverer(first.store, clock=clock, poll_s=0.05).start()
    wait_until(lambda: len(attempt_rows(first.store)) == 3)
    assert deliverer.stop()
    assert statuses(first.store) == {"pending": 3}
    first.close()

    receiver.default = 200
    clock.advance(3600)
    second = Workspace(path)
    try:
        deliverer = Deliverer(second.store, clock=clock, poll_s=0.05).start()
        wait_until(lambda: statuses(second.store) == {"delivered": 3})  # no wake: on start
        assert deliverer.stop()
        assert len(attempt_rows(second.store)) == 6
    finally:
        second.close()
    assert Counter(json.loads(r.body)["id"] for r in receiver.requests).most_common()[0][1] == 2
    assert len(receiver.successes()) == 3


KILLED_SERVER = textwrap.dedent(
    """
    import sys, time
    from segmint.webhooks.delivery import Deliverer
    from segmint.workspace import Workspace

    workspace = Workspace(sys.argv[1])
    Deliverer(workspace.store, timeout_s=60, lease_s=300, poll_s=0.05).start()
    time.sleep(120)
    """
)


def test_a_killed_process_loses_no_pending_delivery(
    tmp_path: Path, receivers: Callable[..., Receiver]
) -> None:
    """The process dies with two deliveries in flight; after the lease they go out again."""
    receiver = receivers(default="hang")
    path = tmp_path / "shop.duckdb"
    with Workspace(path) as ws:
        add_webhook(ws.store, receiver.url, ["value_vip"], ["enter"])
        queue_changes(ws.store, ["c1", "c2"])
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    server = subprocess.Popen([sys.executable, "-c", KILLED_SERVER, str(path)], env=env)
    try:
        wait_until(lambda: len(receiver.requests) == 2, timeout=60)
    finally:
        server.kill()
        server.wait()
    receiver.default = 200
    receiver.release.set()

    with Workspace(path) as ws:
        assert statuses(ws.store) == {"pending": 2}
        assert attempt_rows(ws.store) == []  # the attempts in flight were never recorded
        later = Clock(now_utc() + timedelta(seconds=301))
        with Deliverer(ws.store, clock=later) as deliverer:
            assert [o.status for o in deliverer.run_once()] == ["delivered", "delivered"]
        assert statuses(ws.store) == {"delivered": 2}
    ids = Counter(json.loads(r.body)["id"] for r in receiver.requests)
    assert sorted(ids.values()) == [2, 2]  # at least once: each sent again after the crash


def test_run_once_is_not_for_a_started_deliverer(shop: Workspace) -> None:
    deliverer = Deliverer(shop.store, poll_s=0.05).start()
    try:
        with pytest.raises(RuntimeError):
            deliverer.run_once()
    finally:
        assert deliverer.stop()
