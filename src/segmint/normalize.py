"""Normalized identifiers as Ibis expressions: emails, E.164 phones, namespaced ids.

Identity resolution links records by these values, and ad-platform exports hash them, so
each rule is written once here and runs on every engine.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"

#: Calling codes for countries whose national numbers start with a trunk ``0``.
TRUNK_ZERO_CODES = {
    "GB": "44",
    "AU": "61",
    "DE": "49",
    "FR": "33",
    "NL": "31",
    "IE": "353",
    "NZ": "64",
    "IN": "91",
    "BE": "32",
    "AT": "43",
    "CH": "41",
    "SE": "46",
    "ZA": "27",
    "JP": "81",
}
NANP = ("US", "CA", "PR")


def normalize_email(raw: ir.StringValue) -> ir.StringValue:
    """Trimmed, lower-cased email, or null when it is not shaped like an address."""
    email = raw.strip().lower()
    return ibis.ifelse(email.re_search(EMAIL_PATTERN), email, ibis.null("string"))


def normalize_phone(raw: ir.StringValue, country: ir.StringValue | str | None) -> ir.StringValue:
    """E.164 (``+15005550006``) from a phone as people type it, or null when ambiguous.

    ``+`` or ``00`` prefixes are international; otherwise the number is read as national in
    ``country`` (ISO 3166-1 alpha-2): 10 digits in North America, a trunk ``0`` elsewhere.
    """
    text = raw.strip()
    digits = text.re_replace(r"[^0-9]", "")
    region = ibis.literal(country) if isinstance(country, str) or country is None else country
    region = region.cast("string").upper()
    national = digits.re_replace(r"^0", "")
    branches = [
        (text.startswith("+"), "+" + digits),
        (digits.startswith("00"), "+" + digits.substr(2)),
        (region.isin(NANP) & (digits.length() == 10), "+1" + digits),
        (region.isin(NANP) & (digits.length() == 11) & digits.startswith("1"), "+" + digits),
    ]
    for code, calling in TRUNK_ZERO_CODES.items():
        branches.append(((region == code) & digits.startswith("0"), f"+{calling}" + national))
    e164 = ibis.cases(*branches, else_=ibis.null("string"))
    valid = e164.re_search(r"^\+[1-9][0-9]{7,14}$")
    return ibis.ifelse(valid.fill_null(False), e164, ibis.null("string"))


def namespaced(namespace: str, value: ir.StringValue) -> ir.StringValue:
    """``namespace:value`` for a non-blank value, else null (``shopify:7985351721238``)."""
    clean = value.cast("string").strip()
    return ibis.ifelse(clean.length() > 0, f"{namespace}:" + clean, ibis.null("string"))
