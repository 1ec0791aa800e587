"""Signing webhook bodies so receivers can check where they came from and when.

The header is ``Segmint-Signature: t=UNIX_SECONDS,v1=HEX``: HEX is the lowercase hex
HMAC-SHA256 of ``f"{t}.".encode() + raw_body`` keyed with the webhook's secret (its UTF-8
bytes, ``whsec_`` prefix included). ``t`` is taken at each attempt, so a retry carries a
fresh timestamp; a receiver rejects a timestamp too far from its own clock (a replay).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "Segmint-Signature"
EVENT_ID_HEADER = "Segmint-Event-Id"
SECRET_PREFIX = "whsec_"

#: How far (seconds) a signature's timestamp may be from the receiver's clock.
DEFAULT_TOLERANCE_S = 300


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` and 32 random bytes, URL-safe base64."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The hex HMAC-SHA256 of ``"{timestamp}." + body`` under ``secret``."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Segmint-Signature`` header value: ``t=<timestamp>,v1=<hex>``."""
    return f"t={timestamp},v1={signature(secret, body, timestamp)}"


def parse_header(header: str) -> tuple[int | None, list[str]]:
    """The timestamp (None when missing or not an integer) and every ``v1`` signature."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                return None, []
        elif key == "v1":
            signatures.append(value)
    return timestamp, signatures


def verify(
    secret: str,
    body: bytes | str,
    header: str,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """Whether ``header`` signs ``body`` under ``secret`` within ``tolerance_s`` of ``now``.

    Compares in constant time; a timestamp more than ``tolerance_s`` seconds away from
    ``now`` (default: the current time) is rejected, which stops replays of old requests.
    """
    raw = body.encode() if isinstance(body, str) else body
    timestamp, signatures = parse_header(header)
    if timestamp is None or not signatures:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return False
    expected = signature(secret, raw, timestamp)
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)
