"""Workspace settings: defaults, validation, and the Shopify channel map.

Settings live in the workspace's ``settings`` table as JSON values, so a workspace carries
its own time zone, currency, channel map and thresholds wherever it is copied.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from segmint.errors import ConfigError

#: Shopify ``Source`` values (``source_name``) to segmint channels. Numeric values are
#: sales-channel app ids; unknown numeric ids fall back to ``marketplace``.
DEFAULT_CHANNEL_MAP: dict[str, str] = {
    "web": "web",
    "pos": "pos",
    "shopify_draft_order": "draft",
    "draft": "draft",
    "iphone": "app",
    "android": "app",
    "mobile_app": "app",
    "shop": "app",
    "580111": "social",  # Facebook & Instagram
    "3890849": "social",  # TikTok
    "1354745": "marketplace",  # Amazon / marketplace connector
    "2329312": "marketplace",  # eBay connector
    "events": "web",
}
UNKNOWN_NUMERIC_CHANNEL = "marketplace"
UNKNOWN_CHANNEL = "other"

DEFAULTS: dict[str, Any] = {
    "timezone": None,  # IANA name or fixed offset; set on first import, UTC when nothing says
    "currency": None,  # ISO 4217; set on first import
    "fx_rates": {},  # {"EUR": 1.08}: one unit of EUR in workspace currency
    "channel_map": DEFAULT_CHANNEL_MAP,
    "default_phone_country": "US",
    "max_order_amount": 1_000_000,
    "max_line_quantity": 100_000,
    "events_customer_id_namespace": "shopify",
    "api_rate_limit": 1000,  # requests per second per API key, unless the key says otherwise
    "api_max_body_bytes": 1_048_576,
    "webhook_max_attempts": 8,
    "webhook_retry_base_s": 1.0,  # first retry after about this long, then doubling
    "webhook_timeout_s": 5.0,
}
#: Settings that are positive whole numbers, and those that are positive numbers.
INTEGERS = ("api_rate_limit", "api_max_body_bytes", "webhook_max_attempts")
NUMBERS = (
    "max_order_amount",
    "max_line_quantity",
    "api_rate_limit",
    "api_max_body_bytes",
    "webhook_max_attempts",
    "webhook_retry_base_s",
    "webhook_timeout_s",
)

#: Settings a user may change with ``segmint settings set``.
EDITABLE = frozenset(DEFAULTS)


@dataclass(frozen=True)
class Settings:
    """A read-only view of a workspace's settings, defaults filled in."""

    values: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.values.get(key, DEFAULTS.get(key))

    @property
    def timezone(self) -> str:
        return self["timezone"] or "UTC"

    @property
    def currency(self) -> str | None:
        return self["currency"]


def parse_setting(key: str, raw: str) -> Any:
    """Turn a command-line value into a validated setting value."""
    if key not in EDITABLE:
        raise ConfigError(
            f"unknown setting '{key}'", details="Settings: " + ", ".join(sorted(EDITABLE))
        )
    if key == "timezone":
        return validate_timezone(raw)
    if key == "currency":
        from segmint.currencies import validate_currency

        return validate_currency(raw)
    if key in {"fx_rates", "channel_map"}:
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"setting '{key}' must be a JSON object: {exc}") from None
        if not isinstance(value, dict):
            raise ConfigError(f"setting '{key}' must be a JSON object")
        return value
    if key in NUMBERS:
        try:
            value = int(raw) if key in INTEGERS else float(raw)
        except ValueError:
            kind = "a whole number" if key in INTEGERS else "a number"
            raise ConfigError(f"setting '{key}' must be {kind}, got '{raw}'") from None
        if value <= 0:
            raise ConfigError(f"setting '{key}' must be positive, got '{raw}'")
        return value
    return raw


def validate_timezone(name: str) -> str:
    """Check an IANA time zone name (``America/Chicago``) or a fixed offset (``-05:00``)."""
    from segmint.timezones import fixed_offset_zone

    if fixed_offset_zone(name) is not None:
        return fixed_offset_zone(name)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"unknown time zone '{name}'",
            hint="use an IANA name such as America/New_York, or a fixed offset such as -05:00",
        ) from None
    return name
