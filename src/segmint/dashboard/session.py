"""Signing in to the dashboard with an API key: a signed session cookie, CSRF tokens on forms.

A person pastes a ``read``, ``write`` or ``admin`` key (``segmint api-key create``) once; the
server answers with a cookie naming the key's public id and an expiry, signed with a secret
that lives as long as the server process. Every page checks the signature, the expiry and that
the key is still valid (a revoked key's sessions end at once). Keys restricted to some routes
(a storefront's key) cannot sign in. Every form carries a CSRF token derived from the session
(the sign-in form, before there is a session, from a random cookie it sets: double submit).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from segmint.api.keys import ApiKey, KeyRing

COOKIE = "segmint_session"
SIGN_IN_COOKIE = "segmint_signin"
LIFETIME_S = 12 * 3600


@dataclass(frozen=True)
class Session:
    """A signed-in person: the key they signed in with, until ``expires`` (epoch seconds)."""

    key: ApiKey
    expires: int
    csrf: str

    def allows(self, scope: str) -> bool:
        return self.key.allows(scope)


class SignInRefused(Exception):
    """The key given at sign-in is not one that may open the dashboard."""


class Sessions:
    """Issues and checks the session cookies of one server."""

    def __init__(self, keys: KeyRing, secret: bytes | None = None):
        self._keys = keys
        self._secret = secret or secrets.token_bytes(32)

    def sign_in(self, key_text: str, now: float | None = None) -> str:
        """The cookie value for a valid, unrestricted key; :class:`SignInRefused` otherwise."""
        key = self._keys.find(key_text.strip())
        if key is None:
            raise SignInRefused("that key is not valid (unknown or revoked)")
        if key.routes:
            raise SignInRefused("that key is restricted to some API routes: use a read key")
        expires = int(now if now is not None else time.time()) + LIFETIME_S
        payload = f"{key.key_id}.{expires}"
        return f"{payload}.{self._sign(payload)}"

    def current(self, cookie: str | None, now: float | None = None) -> Session | None:
        """The session a cookie value stands for, or None (missing, forged, expired, revoked)."""
        if not cookie or cookie.count(".") != 2:
            return None
        key_id, expires_text, signature = cookie.split(".")
        payload = f"{key_id}.{expires_text}"
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        if not expires_text.isdigit() or int(expires_text) <= (now or time.time()):
            return None
        key = self._keys.by_id(key_id)
        if key is None or key.routes:
            return None
        return Session(key, int(expires_text), self._sign(f"csrf.{cookie}"))

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(session.csrf, token or "")

    def _sign(self, payload: str) -> str:
        return hmac.new(self._secret, payload.encode(), hashlib.sha256).hexdigest()


def new_sign_in_token() -> str:
    """A random token for the sign-in form and its cookie (double-submit CSRF)."""
    return secrets.token_urlsafe(24)
