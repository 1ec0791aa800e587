"""Webhooks: signed, retried, durable notices of segment membership changes.

:mod:`.registry` keeps the webhooks, :mod:`.outbox` turns membership changes into queued
deliveries and records attempts, :mod:`.delivery` sends them in the background and
:mod:`.signing` signs them. ``docs/webhooks.md`` is the receiver's side.
"""

from __future__ import annotations

from segmint.webhooks.delivery import Deliverer
from segmint.webhooks.outbox import (
    RetryPolicy,
    attempt_log,
    delivery_counts,
    due,
    enqueue,
    membership_changes,
    record_attempt,
    record_attempts,
)
from segmint.webhooks.registry import (
    Webhook,
    add_webhook,
    get_webhook,
    list_webhooks,
    remove_webhook,
)
from segmint.webhooks.signing import new_secret, sign, verify

__all__ = [
    "Deliverer",
    "RetryPolicy",
    "Webhook",
    "add_webhook",
    "attempt_log",
    "delivery_counts",
    "due",
    "enqueue",
    "get_webhook",
    "list_webhooks",
    "membership_changes",
    "new_secret",
    "record_attempt",
    "record_attempts",
    "remove_webhook",
    "sign",
    "verify",
]
