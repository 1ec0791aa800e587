"""API keys: created once, stored as hashes, with a scope, optional limits, and revocable.

A key reads ``sgm_<id>_<secret>``: ``key_<id>`` is its public id (shown by ``segmint api-key
list``), the secret is 32 random bytes. Only the SHA-256 of the whole key is stored, so a key
is shown once, when it is created. Scopes nest: ``read`` < ``write`` < ``admin``. A ``read``
key may be restricted to some routes (``customer-segments`` for a storefront) and to browser
origins (CORS); every key may carry its own rate limit.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import ibis
import pyarrow as pa

from segmint.errors import ConfigError, SegmintError
from segmint.store import Store, utcnow

TABLE = "api_keys"
SCOPES = ("read", "write", "admin")
#: Routes a key can be restricted to (the names the API gives its routes).
RESTRICTABLE_ROUTES = (
    "customer-segments",
    "segments",
    "segment-members",
    "segment-preview",
    "storefront-segments",
)
PREFIX = "sgm_"


@dataclass(frozen=True)
class ApiKey:
    """A stored key (never the key itself)."""

    key_id: str
    scope: str
    name: str = ""
    routes: tuple[str, ...] = ()
    origins: tuple[str, ...] = ()
    rate_limit: int | None = None
    created_at: datetime | None = None
    revoked_at: datetime | None = None

    def allows(self, scope: str) -> bool:
        """Whether this key's scope includes ``scope``."""
        return SCOPES.index(self.scope) >= SCOPES.index(scope)

    def as_dict(self) -> dict[str, object]:
        return {
            "key_id": self.key_id,
            "scope": self.scope,
            "name": self.name,
            "routes": list(self.routes),
            "origins": list(self.origins),
            "rate_limit": self.rate_limit,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
        }


def key_hash(key: str) -> str:
    """SHA-256, lowercase hex, of a whole key as the client sends it."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(
    store: Store,
    scope: str,
    name: str = "",
    routes: list[str] | None = None,
    origins: list[str] | None = None,
    rate_limit: int | None = None,
) -> tuple[ApiKey, str]:
    """Store a new key; returns it and the key itself (the only time it is known)."""
    routes, origins = list(routes or []), [o.rstrip("/") for o in origins or []]
    _check(scope, routes, origins, rate_limit)
    key_id = "key_" + secrets.token_hex(6)
    key = f"{PREFIX}{key_id[4:]}_{secrets.token_urlsafe(32)}"
    stored = ApiKey(key_id, scope, name, tuple(routes), tuple(origins), rate_limit, utcnow())
    row = {
        "key_id": [key_id],
        "key_hash": [key_hash(key)],
        "scope": [scope],
        "name": [name],
        "routes": [json.dumps(routes) if routes else None],
        "origins": [json.dumps(origins) if origins else None],
        "rate_limit": pa.array([rate_limit], pa.int64()),
        "created_at": pa.array([stored.created_at], pa.timestamp("us")),
        "revoked_at": pa.array([None], pa.timestamp("us")),
    }
    store.insert(TABLE, pa.table(row))
    return stored, key


def _check(scope: str, routes: list[str], origins: list[str], rate_limit: int | None) -> None:
    if scope not in SCOPES:
        raise ConfigError(f"unknown scope {scope!r}", hint="a scope is read, write or admin")
    unknown = [r for r in routes if r not in RESTRICTABLE_ROUTES]
    if unknown:
        raise ConfigError(
            f"unknown route {unknown[0]!r}",
            hint="routes a key can be restricted to: " + ", ".join(RESTRICTABLE_ROUTES),
        )
    if routes and scope != "read":
        raise ConfigError("only a read key can be restricted to routes")
    for origin in origins:
        if not origin.startswith(("http://", "https://")) or "/" in origin.split("//", 1)[1]:
            raise ConfigError(
                f"origin {origin!r} is not a browser origin",
                hint="an origin is a scheme and a host, e.g. https://shop.example.com",
            )
    if rate_limit is not None and rate_limit < 1:
        raise ConfigError("a rate limit is at least 1 request per second")


def list_keys(store: Store) -> list[ApiKey]:
    """Every key ever created, oldest first (revoked ones too)."""
    table = store.table(TABLE).order_by("created_at", "key_id")
    return [_record(row) for row in table.to_pyarrow().to_pylist()]


def revoke_key(store: Store, key_id: str) -> ApiKey:
    """Mark a key revoked; it stops working at once (a running server reloads its keys)."""
    keys = {k.key_id: k for k in list_keys(store)}
    if key_id not in keys:
        raise SegmintError(f"no API key {key_id!r}", hint="segmint api-key list shows the keys")
    if keys[key_id].revoked_at is not None:
        return keys[key_id]
    table = store.table(TABLE)
    row = table.filter(table.key_id == key_id).mutate(
        revoked_at=ibis.literal(utcnow(), "timestamp")
    )
    store.con.upsert(TABLE, row.to_pyarrow(), on="key_id")
    return next(k for k in list_keys(store) if k.key_id == key_id)


def _record(row: dict) -> ApiKey:
    return ApiKey(
        key_id=row["key_id"],
        scope=row["scope"],
        name=row["name"] or "",
        routes=tuple(json.loads(row["routes"])) if row["routes"] else (),
        origins=tuple(json.loads(row["origins"])) if row["origins"] else (),
        rate_limit=row["rate_limit"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


def valid_keys(store: Store) -> dict[str, ApiKey]:
    """Key hash -> key, for every key not revoked."""
    table = store.table(TABLE)
    rows = table.filter(table.revoked_at.isnull()).to_pyarrow().to_pylist()
    return {row["key_hash"]: _record(row) for row in rows}


@dataclass
class TokenBucket:
    """``rate`` requests per second with bursts of up to ``rate``."""

    rate: float
    tokens: float = -1.0
    updated: float = field(default_factory=time.monotonic)

    def take(self, now: float | None = None) -> float:
        """Take one token: 0.0 when allowed, else the seconds until one is available."""
        now = time.monotonic() if now is None else now
        if self.tokens < 0:
            self.tokens = self.rate
        self.tokens = min(self.rate, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


class KeyRing:
    """The valid keys of a running server, reloaded from the workspace every few seconds by a
    background thread (a key created or revoked by another command takes effect without a
    restart, and no request ever waits for the reload)."""

    def __init__(
        self, load: Callable[[], dict[str, ApiKey]], default_rate: int, reload_s: float = 2.0
    ):
        self._load = load
        self._default_rate = default_rate
        self._reload_s = reload_s
        self.clock: Callable[[], float] = time.monotonic  # rate limiting's clock (tests freeze it)
        self._keys: dict[str, ApiKey] | None = None
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def find(self, key: str) -> ApiKey | None:
        """The valid key ``key`` is, or None."""
        keys = self._keys if self._keys is not None else self.reload()
        return keys.get(key_hash(key))

    def by_id(self, key_id: str) -> ApiKey | None:
        """The valid key whose public id is ``key_id``, or None (revoked or unknown)."""
        keys = self._keys if self._keys is not None else self.reload()
        return next((k for k in keys.values() if k.key_id == key_id), None)

    def reload(self) -> dict[str, ApiKey]:
        keys = self._load()
        self._keys = keys
        return keys

    def start(self) -> None:
        """Reload every ``reload_s`` seconds until :meth:`stop`."""
        self._thread = threading.Thread(target=self._run, name="segmint-keys", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._reload_s):
            try:
                self.reload()
            except Exception:  # a failed reload keeps the keys it had; the next one retries
                continue

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self._reload_s + 1)

    def throttle(self, key: ApiKey) -> float:
        """0.0 when ``key`` may make a request now, else seconds to wait (rate limited)."""
        rate = key.rate_limit or self._default_rate
        now = self.clock()
        bucket = self._buckets.get(key.key_id)
        if bucket is None or bucket.rate != rate:
            bucket = self._buckets[key.key_id] = TokenBucket(float(rate), updated=now)
        with self._lock:
            return bucket.take(now)

    def origins(self) -> set[str]:
        """Every origin some valid key allows (for CORS preflights, which carry no key)."""
        return {o for k in (self._keys or {}).values() for o in k.origins}
