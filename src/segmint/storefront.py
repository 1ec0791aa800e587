"""Signed customer tokens for on-site personalization (``/v1/snippet.js``).

A storefront read key sits in a store's pages, so anyone can copy it. To keep it from
looking up any shopper's segments, each lookup also carries a token the store's theme renders
server-side for the logged-in customer: ``hex(HMAC-SHA256(secret, "<customer id>:<expires>"))``
with ``expires`` a Unix epoch second, which is what Shopify Liquid computes with
``{{ customer.id | append: ':' | append: expires | hmac_sha256: secret }}``. The secret is the
workspace's own (setting ``storefront_secret``), made on first use and rotated on request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from segmint.store import Store

#: The workspace setting that holds the secret (never editable with ``segmint settings set``).
SETTING = "storefront_secret"


@dataclass(frozen=True)
class TokenProblem:
    """Why a token is refused: a stable ``code`` and a message for people."""

    code: str
    message: str


FORGED = TokenProblem(
    "invalid_customer_token",
    "the customer token does not match this customer and expiry (or the store secret was rotated)",
)
EXPIRED = TokenProblem("expired_customer_token", "the customer token has expired")
NO_SECRET = TokenProblem(
    "invalid_customer_token",
    "this workspace has no storefront secret yet: `segmint storefront secret` makes one",
)


def stored_secret(store: Store) -> str | None:
    """The workspace's storefront secret, or None before the first use."""
    value = store.get_setting(SETTING)
    return value if isinstance(value, str) and value else None


def ensure_secret(store: Store) -> str:
    """The storefront secret, made (and stored) now if the workspace has none."""
    return stored_secret(store) or rotate_secret(store)


def rotate_secret(store: Store) -> str:
    """Replace the storefront secret: every token signed with the old one stops working."""
    secret = secrets.token_hex(32)
    store.set_setting(SETTING, secret)
    return secret


def hmac_sha256_hex(secret: str, message: str) -> str:
    """Liquid's ``{{ message | hmac_sha256: secret }}``: lowercase hex."""
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def sign(secret: str, customer_id: str, expires: int) -> str:
    """The token of ``customer_id`` valid until the epoch second ``expires``."""
    return hmac_sha256_hex(secret, f"{customer_id}:{expires}")


def check_token(
    secret: str | None, customer_id: str, expires: int, token: str, now: float | None = None
) -> TokenProblem | None:
    """None when ``token`` was signed with ``secret`` for this customer and expiry and has
    not expired yet, else why not (compared in constant time)."""
    if secret is None:
        return NO_SECRET
    expected = sign(secret, customer_id, expires).encode("ascii")
    if not hmac.compare_digest(expected, token.strip().lower().encode("utf-8")):
        return FORGED
    if expires <= (time.time() if now is None else now):
        return EXPIRED
    return None
