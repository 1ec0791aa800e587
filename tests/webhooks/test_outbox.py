"""The outbox: membership diffs, enqueue (set-based, transactional), picking due deliveries,
recording attempts with the retry policy."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from segmint.errors import ConfigError
from segmint.webhooks.outbox import (
    Attempt,
    RetryPolicy,
    claim,
    due,
    enqueue,
    membership_changes,
    record_attempt,
    retryable,
)
from segmint.webhooks.registry import add_webhook, remove_webhook
from segmint.workspace import Workspace
from webhooks.receiver import T0

SEGMENTS = ["rfm_champions", "rfm_loyal", "value_vip", "value_high"]


def members(pairs: list[tuple[str, str]]) -> pa.Table:
    return pa.table(
        {"customer_id": [c for c, _ in pairs], "segment": [s for _, s in pairs]},
        schema=pa.schema({"customer_id": pa.string(), "segment": pa.string()}),
    )


def changes_of(shop: Workspace, old: list[tuple[str, str]], new: list[tuple[str, str]]):
    before = shop.store.stage("_old_members", members(old))
    after = shop.store.stage("_new_members", members(new))
    return membership_changes(before, after)


def deliveries(shop: Workspace) -> list[dict]:
    table = shop.store.table("webhook_deliveries")
    return table.order_by(["webhook_id", "customer_id", "segment"]).to_pyarrow().to_pylist()


# -- membership changes ---------------------------------------------------------------------
def test_membership_changes_are_enters_and_exits(shop: Workspace) -> None:
    old = [("c1", "rfm_loyal"), ("c2", "rfm_loyal"), ("c2", "value_vip"), ("c2", "value_vip")]
    new = [("c1", "rfm_loyal"), ("c2", "rfm_champions"), ("c3", "value_vip"), (None, "x")]
    rows = changes_of(shop, old, new).to_pyarrow().to_pylist()
    assert sorted((r["customer_id"], r["segment"], r["change"]) for r in rows) == [
        ("c2", "rfm_champions", "enter"),
        ("c2", "rfm_loyal", "exit"),
        ("c2", "value_vip", "exit"),
        ("c3", "value_vip", "enter"),
    ]


def test_enqueue_of_a_large_diff_matches_a_python_computation(shop: Workspace) -> None:
    """About 50k memberships before and after; three webhooks, one removed."""
    rng = random.Random(7)
    old = {(f"c{i}", s) for i in range(25_000) for s in SEGMENTS if rng.random() < 0.5}
    new = {pair for pair in old if rng.random() > 0.2}
    new |= {(f"c{i}", s) for i in range(20_000, 30_000) for s in SEGMENTS if rng.random() < 0.3}
    assert 45_000 < len(old) < 55_000 and 45_000 < len(new) < 55_000
    expected_changes = {(c, s, "enter") for c, s in new - old} | {
        (c, s, "exit") for c, s in old - new
    }
    first, _ = add_webhook(shop.store, "https://a.example/h", SEGMENTS[::2], ["enter"])
    second, _ = add_webhook(shop.store, "https://b.example/h", SEGMENTS)
    gone, _ = add_webhook(shop.store, "https://c.example/h", SEGMENTS)
    remove_webhook(shop.store, gone.webhook_id)

    queued = enqueue(shop.store, changes_of(shop, sorted(old), sorted(new)), T0)

    listens = {
        first.webhook_id: (set(SEGMENTS[::2]), {"enter"}),
        second.webhook_id: (set(SEGMENTS), {"enter", "exit"}),
    }
    expected = Counter(
        (webhook_id, change)
        for webhook_id, (segments, changes) in listens.items()
        for _, segment, change in expected_changes
        if segment in segments and change in changes
    )
    rows = deliveries(shop)
    assert queued == len(rows) == sum(expected.values())
    assert Counter((r["webhook_id"], r["change"]) for r in rows) == expected
    assert {(r["customer_id"], r["segment"], r["change"]) for r in rows} == {
        change for change in expected_changes if change[1] in SEGMENTS
    }
    assert len({r["delivery_id"] for r in rows}) == len(rows)
    for row in rows:
        body = json.loads(row["body"])
        assert body["id"] == row["delivery_id"]
        assert (body["customer_id"], body["segment"], body["change"]) == (
            row["customer_id"],
            row["segment"],
            row["change"],
        )
        assert row["status"] == "pending" and row["attempts"] == 0


def test_the_body_has_the_documented_shape(shop: Workspace) -> None:
    add_webhook(shop.store, "https://a.example/h", ["value_vip"])
    changed_at = datetime(2024, 5, 1, 14, 30, 5, tzinfo=UTC).astimezone()  # any zone
    enqueue(shop.store, changes_of(shop, [], [('c"1\\', "value_vip")]), changed_at)
    [row] = deliveries(shop)
    assert row["body"] == (
        '{"id":"' + row["delivery_id"] + '","type":"segment.enter",'
        '"customer_id":"c\\"1\\\\","segment":"value_vip","change":"enter",'
        '"changed_at":"2024-05-01T14:30:05Z"}'
    )
    assert row["delivery_id"].startswith("evt_") and len(row["delivery_id"]) == 36
    assert row["changed_at"] == datetime(2024, 5, 1, 14, 30, 5)


def test_enqueue_commits_or_rolls_back_with_the_callers_transaction(shop: Workspace) -> None:
    add_webhook(shop.store, "https://a.example/h", ["value_vip"])
    changes = changes_of(shop, [], [("c1", "value_vip")])
    with pytest.raises(RuntimeError), shop.store.transaction():
        assert enqueue(shop.store, changes, T0) == 1
        raise RuntimeError("the refresh failed")
    assert deliveries(shop) == []
    with shop.store.transaction():
        enqueue(shop.store, changes, T0)
    assert len(deliveries(shop)) == 1


def test_nothing_is_queued_without_webhooks(shop: Workspace) -> None:
    assert enqueue(shop.store, changes_of(shop, [], [("c1", "value_vip")]), T0) == 0


# -- picking due deliveries -----------------------------------------------------------------
def test_due_takes_turns_across_webhooks(shop: Workspace) -> None:
    first, _ = add_webhook(shop.store, "https://a.example/h", ["value_vip"], ["enter"])
    a_backlog = [(f"a{i}", "value_vip") for i in range(5)]
    enqueue(shop.store, changes_of(shop, [], a_backlog), T0, now=T0 - timedelta(seconds=5))
    second, _ = add_webhook(shop.store, "https://b.example/h", ["rfm_loyal"], ["enter"])
    enqueue(shop.store, changes_of(shop, [], [("b0", "rfm_loyal")]), T0, now=T0)
    order = [d.webhook_id for d in due(shop.store, T0 + timedelta(seconds=1))]
    # The newer delivery of the second webhook comes before the first one's backlog.
    assert set(order[:2]) == {first.webhook_id, second.webhook_id}
    assert Counter(order) == {first.webhook_id: 5, second.webhook_id: 1}
    capped = due(shop.store, T0 + timedelta(seconds=1), per_webhook=2)
    assert Counter(d.webhook_id for d in capped) == {first.webhook_id: 2, second.webhook_id: 1}
    skipped = due(shop.store, T0 + timedelta(seconds=1), skip_webhooks=[first.webhook_id])
    assert [d.webhook_id for d in skipped] == [second.webhook_id]
    assert due(shop.store, T0 - timedelta(seconds=6)) == []  # not yet due


def test_claimed_deliveries_are_leased(shop: Workspace) -> None:
    add_webhook(shop.store, "https://a.example/h", ["value_vip"], ["enter"])
    enqueue(shop.store, changes_of(shop, [], [("c1", "value_vip")]), T0, now=T0)
    [claimed] = claim(shop.store, T0, lease_s=60)
    assert claim(shop.store, T0 + timedelta(seconds=59), lease_s=60) == []
    [again] = claim(shop.store, T0 + timedelta(seconds=60), lease_s=60)
    assert again.delivery_id == claimed.delivery_id


def test_removed_webhooks_get_nothing_and_their_pending_deliveries_fail(shop: Workspace) -> None:
    webhook, _ = add_webhook(shop.store, "https://a.example/h", ["value_vip"], ["enter"])
    enqueue(shop.store, changes_of(shop, [], [("c1", "value_vip")]), T0, now=T0)
    remove_webhook(shop.store, webhook.webhook_id)
    assert due(shop.store, T0) == []
    [row] = deliveries(shop)
    assert (row["status"], row["last_error"], row["next_attempt_at"]) == (
        "failed",
        "webhook removed",
        None,
    )


# -- recording attempts ---------------------------------------------------------------------
def one_due(shop: Workspace) -> Attempt:
    add_webhook(shop.store, "https://a.example/h", ["value_vip"], ["enter"])
    enqueue(shop.store, changes_of(shop, [], [("c1", "value_vip")]), T0, now=T0)
    [delivery] = due(shop.store, T0)
    return delivery


def attempt(delivery, status_code: int | None, error: str | None = None) -> Attempt:
    return Attempt(delivery, T0, status_code, error, 12.5)


@pytest.mark.parametrize(
    ("status_code", "status", "retry_in"),
    [
        (200, "delivered", None),
        (204, "delivered", None),
        (500, "pending", 10),
        (503, "pending", 10),
        (408, "pending", 10),
        (429, "pending", 10),
        (None, "pending", 10),  # timeout or connection error
        (400, "failed", None),
        (404, "failed", None),
        (410, "failed", None),
        (301, "failed", None),
    ],
)
def test_record_attempt(shop: Workspace, status_code, status, retry_in) -> None:
    delivery = one_due(shop)
    policy = RetryPolicy(base_s=10, jitter=0)
    now = T0 + timedelta(seconds=1)
    result = record_attempt(shop.store, attempt(delivery, status_code, "boom"), policy, now)
    assert result.status == status
    [row] = deliveries(shop)
    assert (row["status"], row["attempts"], row["last_status_code"]) == (status, 1, status_code)
    expected_next = now + timedelta(seconds=retry_in) if retry_in else None
    assert row["next_attempt_at"] == result.next_attempt_at == expected_next
    assert (row["delivered_at"] is not None) == (status == "delivered")
    [logged] = shop.store.table("webhook_attempts").to_pyarrow().to_pylist()
    assert logged == {
        "delivery_id": delivery.delivery_id,
        "webhook_id": delivery.webhook_id,
        "attempt": 1,
        "attempted_at": T0,
        "status_code": status_code,
        "error": "boom",
        "duration_ms": 12.5,
    }


def test_the_last_allowed_attempt_fails_the_delivery(shop: Workspace) -> None:
    delivery = one_due(shop)
    policy = RetryPolicy(max_attempts=3, base_s=1, jitter=0)
    now = T0
    for number in (1, 2, 3):
        [current] = due(shop.store, now)
        assert current.attempts == number - 1
        result = record_attempt(shop.store, attempt(current, 503), policy, now)
        now = result.next_attempt_at or now
    assert result.status == "failed" and result.attempt == 3
    assert due(shop.store, now + timedelta(days=1)) == []
    assert shop.store.table("webhook_attempts").count().to_pyarrow().as_py() == 3
    assert delivery.delivery_id == result.delivery_id


# -- retry policy ---------------------------------------------------------------------------
def test_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(base_s=1, factor=2, max_delay_s=600, jitter=0)
    assert [policy.delay(n) for n in range(1, 12)] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 600]
    assert policy.delay(10_000) == 600


def test_jitter_spreads_delays_within_bounds() -> None:
    policy = RetryPolicy(base_s=10, factor=2, jitter=0.2)
    rng = random.Random(1)
    delays = [policy.delay(3, rng) for _ in range(500)]
    assert all(32 <= d <= 48 for d in delays)
    assert max(delays) - min(delays) > 10  # spread, not constant
    assert RetryPolicy(base_s=500, jitter=0.5).delay(2, rng) <= 600


@pytest.mark.parametrize(
    "kwargs", [{"max_attempts": 0}, {"base_s": -1}, {"factor": 0.5}, {"jitter": 1.5}]
)
def test_invalid_policies_are_refused(kwargs: dict) -> None:
    with pytest.raises(ConfigError):
        RetryPolicy(**kwargs)


@pytest.mark.parametrize(
    ("status_code", "expected"),
    [(None, True), (408, True), (429, True), (500, True), (599, True), (400, False), (401, False)],
)
def test_what_is_retried(status_code: int | None, expected: bool) -> None:
    assert retryable(status_code) is expected
