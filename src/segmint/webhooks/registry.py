"""The webhooks a workspace sends membership changes to: add, list, remove.

A webhook listens to some segments and some changes (``enter``, ``exit``); its secret signs
every delivery (:mod:`segmint.webhooks.signing`) and is shown once, when it is added.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa

from segmint.errors import ConfigError, SegmintError, did_you_mean
from segmint.segments import latest_versions
from segmint.segments.library import LIBRARY
from segmint.store import Store, retry_on_conflict, utcnow
from segmint.webhooks.outbox import CHANGES, cancel_pending, update_rows
from segmint.webhooks.signing import new_secret


@dataclass(frozen=True)
class Webhook:
    """A receiver of membership changes (its secret is never part of it)."""

    webhook_id: int
    url: str
    segments: tuple[str, ...]
    changes: tuple[str, ...]
    created_at: datetime
    removed_at: datetime | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Webhook:
        return cls(
            webhook_id=row["webhook_id"],
            url=row["url"],
            segments=tuple(json.loads(row["segments"])),
            changes=tuple(json.loads(row["changes"])),
            created_at=row["created_at"],
            removed_at=row["removed_at"],
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "webhook_id": self.webhook_id,
            "url": self.url,
            "segments": list(self.segments),
            "changes": list(self.changes),
            "created_at": self.created_at,
            "removed_at": self.removed_at,
        }


# -- validation -----------------------------------------------------------------------------
def validate_url(url: str) -> str:
    """An absolute ``http`` or ``https`` URL with a host."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError on a port that is not a number)
    except ValueError as exc:
        raise ConfigError(f"webhook URL {url!r} is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"webhook URL {url!r} must be an http:// or https:// URL with a host",
            hint="for example https://example.com/segmint-hook",
        )
    return url


def validate_changes(changes: Iterable[str]) -> tuple[str, ...]:
    """A non-empty subset of ``enter``, ``exit``, in that order."""
    given = {c.strip().lower() for c in changes if c.strip()}
    unknown = sorted(given - set(CHANGES))
    if unknown:
        raise ConfigError(
            f"unknown change {unknown[0]!r}: a webhook listens to enter, exit or both",
            hint=did_you_mean(unknown[0], CHANGES),
        )
    if not given:
        raise ConfigError("a webhook listens to at least one change: enter, exit or both")
    return tuple(c for c in CHANGES if c in given)


def known_segments(store: Store) -> list[str]:
    """The latest refresh's segments, then any library segment it did not evaluate."""
    stored = latest_versions(store).segment.to_pyarrow().to_pylist()
    return list(dict.fromkeys([*stored, *(s.slug for s in LIBRARY)]))


def validate_segments(store: Store, segments: Iterable[str]) -> tuple[str, ...]:
    """Segment slugs that exist, without duplicates, at least one."""
    given = list(dict.fromkeys(s.strip() for s in segments if s.strip()))
    if not given:
        raise ConfigError("a webhook listens to at least one segment")
    known = known_segments(store)
    for slug in given:
        if slug not in known:
            raise ConfigError(
                f"unknown segment {slug!r}",
                hint=did_you_mean(slug, known)
                or "segmint segments list shows them; refresh after adding one",
            )
    return tuple(given)


# -- the registry ---------------------------------------------------------------------------
def add_webhook(
    store: Store,
    url: str,
    segments: Iterable[str],
    changes: Iterable[str] = CHANGES,
    secret: str | None = None,
) -> tuple[Webhook, str]:
    """Register a webhook; returns it and its signing secret (generated unless given)."""
    url = validate_url(url)
    slugs = validate_segments(store, segments)
    listened = validate_changes(changes)
    if secret is not None and not secret.strip():
        raise ConfigError("a webhook's secret cannot be empty")
    secret = secret.strip() if secret is not None else new_secret()
    webhook = Webhook(
        webhook_id=store.next_id("webhooks", "webhook_id"),
        url=url,
        segments=slugs,
        changes=listened,
        created_at=utcnow(),
    )
    row = {**webhook.as_dict(), "secret": secret}
    row["segments"], row["changes"] = json.dumps(slugs), json.dumps(listened)
    store.insert("webhooks", pa.Table.from_pylist([row]).drop(["removed_at"]))
    return webhook, secret


def list_webhooks(store: Store, include_removed: bool = False) -> list[Webhook]:
    """The webhooks, oldest first; removed ones only with ``include_removed``."""
    webhooks = store.table("webhooks")
    if not include_removed:
        webhooks = webhooks.filter(webhooks.removed_at.isnull())
    rows = webhooks.drop("secret").order_by("webhook_id").to_pyarrow().to_pylist()
    return [Webhook.from_row(row) for row in rows]


def get_webhook(store: Store, webhook_id: int) -> Webhook:
    """One webhook, removed or not."""
    webhooks = store.table("webhooks")
    rows = webhooks.filter(webhooks.webhook_id == webhook_id).drop("secret").to_pyarrow()
    if rows.num_rows == 0:
        raise SegmintError(f"no webhook {webhook_id}", hint="segmint webhooks list shows them")
    return Webhook.from_row(rows.to_pylist()[0])


def remove_webhook(store: Store, webhook_id: int) -> Webhook:
    """Stop a webhook: no more deliveries are queued for it, and its pending ones fail."""
    webhook = get_webhook(store, webhook_id)
    if webhook.removed_at is not None:
        raise SegmintError(f"webhook {webhook_id} was already removed on {webhook.removed_at}")
    removed_at = utcnow()
    row = pa.table(
        {"webhook_id": [webhook_id], "removed_at": [removed_at]},
        schema=pa.schema({"webhook_id": pa.int64(), "removed_at": pa.timestamp("us")}),
    )

    def remove() -> None:
        with store.transaction():
            update_rows(store, "webhooks", row, key="webhook_id")
            cancel_pending(store, webhook_id, "webhook removed")

    retry_on_conflict(remove)  # a running deliverer may be updating the same deliveries
    return get_webhook(store, webhook_id)
