"""The webhook registry: validation, secrets kept but never listed, removal."""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa
import pytest

from segmint.errors import ConfigError, SegmintError
from segmint.store import utcnow
from segmint.webhooks import registry
from segmint.webhooks.outbox import enqueue
from segmint.webhooks.registry import (
    add_webhook,
    get_webhook,
    known_segments,
    list_webhooks,
    remove_webhook,
)
from segmint.workspace import Workspace


def test_add_keeps_the_secret_and_normalizes(shop: Workspace) -> None:
    webhook, secret = add_webhook(
        shop.store, " https://example.com/h ", ["value_vip", "value_vip"], ["exit", "ENTER"]
    )
    assert (webhook.url, webhook.segments, webhook.changes) == (
        "https://example.com/h",
        ("value_vip",),
        ("enter", "exit"),
    )
    stored = shop.store.table("webhooks").to_pyarrow().to_pylist()
    assert [row["secret"] for row in stored] == [secret]
    assert secret.startswith("whsec_")
    _, given = add_webhook(shop.store, "http://localhost:8000", ["value_vip"], secret="s3cret")
    assert given == "s3cret"
    assert [w.webhook_id for w in list_webhooks(shop.store)] == [1, 2]
    assert "secret" not in list_webhooks(shop.store)[0].as_dict()


def test_segments_of_the_latest_refresh_are_known(shop: Workspace) -> None:
    versions = pa.table({"refresh_id": [1, 2], "segment": ["old_one", "vip_repeaters"]})
    shop.store.insert("segment_versions", versions)
    known = known_segments(shop.store)
    assert known[0] == "vip_repeaters" and "old_one" not in known and "rfm_loyal" in known
    webhook, _ = add_webhook(shop.store, "https://example.com/h", ["vip_repeaters"])
    assert webhook.segments == ("vip_repeaters",)
    with pytest.raises(ConfigError, match="unknown segment 'old_one'"):
        add_webhook(shop.store, "https://example.com/h", ["old_one"])


@pytest.mark.parametrize(
    ("url", "segments", "changes"),
    [
        ("example.com/h", ["value_vip"], ["enter"]),
        ("mailto:a@example.com", ["value_vip"], ["enter"]),
        ("https://example.com", [], ["enter"]),
        ("https://example.com", ["value_vip"], []),
        ("https://example.com", ["value_vip"], ["joined"]),
    ],
)
def test_invalid_webhooks_are_refused(shop: Workspace, url, segments, changes) -> None:
    with pytest.raises(ConfigError):
        add_webhook(shop.store, url, segments, changes)
    assert list_webhooks(shop.store) == []


def test_remove(shop: Workspace) -> None:
    webhook, _ = add_webhook(shop.store, "https://example.com/h", ["value_vip"])
    removed = remove_webhook(shop.store, webhook.webhook_id)
    assert removed.removed_at is not None
    assert list_webhooks(shop.store) == []
    assert list_webhooks(shop.store, include_removed=True) == [removed]
    assert get_webhook(shop.store, webhook.webhook_id) == removed
    with pytest.raises(SegmintError, match="already removed"):
        remove_webhook(shop.store, webhook.webhook_id)
    with pytest.raises(SegmintError, match="no webhook 5"):
        remove_webhook(shop.store, 5)
    again, _ = add_webhook(shop.store, "https://example.com/h", ["value_vip"])
    assert again.webhook_id == 2  # ids are not reused


def test_remove_is_tried_again_after_a_write_conflict(
    shop: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deliverer updates deliveries on a connection of its own; when DuckDB refuses the
    removal's update of the same rows ("Conflict on update", seen under load), the whole
    removal is rolled back and tried again."""
    webhook, _ = add_webhook(shop.store, "https://example.com/h", ["value_vip"])
    changes = pa.table({"customer_id": ["c_1"], "segment": ["value_vip"], "change": ["enter"]})
    with shop.store.arrow("_changes", changes) as table:
        assert enqueue(shop.store, table, utcnow()) == 1
    real_cancel, tries = registry.cancel_pending, []

    def cancel_after_a_conflict(*args: Any) -> None:
        tries.append(1)
        real_cancel(*args)
        if len(tries) == 1:
            raise duckdb.TransactionException("TransactionContext Error: Conflict on update!")

    monkeypatch.setattr(registry, "cancel_pending", cancel_after_a_conflict)
    removed = remove_webhook(shop.store, webhook.webhook_id)
    assert len(tries) == 2 and removed.removed_at is not None
    row = shop.store.table("webhook_deliveries").to_pyarrow().to_pylist()[0]
    assert (row["status"], row["last_error"]) == ("failed", "webhook removed")
    assert list_webhooks(shop.store, include_removed=True) == [removed]  # removed once
