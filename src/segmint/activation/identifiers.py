"""Identifiers as ad platforms want them: normalized by each platform's rules, then hashed.

Every function takes and returns Ibis string expressions over the ``customers`` columns
(``email`` and ``phone`` are stored normalized: a trimmed lower-cased address, an E.164
number). A value that normalizes to nothing is null, so it is written as an empty cell and
never hashed (the SHA-256 of an empty string would match nobody). The rules are those of
``../shared/formats.md`` (Meta: section 6, Google: section 7); ``docs/activation.md`` lists them.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

#: Any letter of any alphabet (Meta keeps accented letters, encoded as UTF-8).
NOT_A_LETTER = r"[^\p{L}]"
US_ZIP = r"^([0-9]{5})"
#: A UK postcode: outward code, then the inward code's sector digit and unit letters.
UK_POSTCODE = r"^([a-z]{1,2}[0-9][a-z0-9]?)([0-9])[a-z]{2}$"


def sha256(value: ir.StringValue) -> ir.StringValue:
    """SHA-256 of the UTF-8 bytes, lowercase hex; null stays null."""
    return value.hexdigest("sha256")


def _blank_to_null(value: ir.StringValue) -> ir.StringValue:
    return ibis.ifelse(value.length() > 0, value, ibis.null("string"))


def trimmed_lower_email(email: ir.StringValue) -> ir.StringValue:
    """Meta and Google: trim, lowercase."""
    return _blank_to_null(email.strip().lower())


def meta_phone(phone: ir.StringValue) -> ir.StringValue:
    """Meta: digits only, country code included, no leading zeros (``16505551234``)."""
    digits = phone.re_replace(r"[^0-9]", "").re_replace(r"^0+", "")
    return _blank_to_null(digits)


def meta_letters(text: ir.StringValue) -> ir.StringValue:
    """Meta first and last names and cities: lowercase, letters only (no spaces, digits or
    punctuation; accented letters kept)."""
    return _blank_to_null(text.lower().re_replace(NOT_A_LETTER, ""))


def meta_region(region: ir.StringValue) -> ir.StringValue:
    """Meta state: lowercase, letters and digits only (``CA`` -> ``ca``)."""
    return _blank_to_null(region.lower().re_replace(r"[^\p{L}0-9]", ""))


def meta_zip(zip_code: ir.StringValue, country: ir.StringValue) -> ir.StringValue:
    """Meta zip: lowercase without whitespace; US: the first 5 digits; UK: the outward code
    and the sector digit (``SW1A 1AA`` -> ``sw1a1``)."""
    compact = zip_code.lower().re_replace(r"\s", "")
    upper_country = country.upper()
    us = compact.re_extract(US_ZIP, 1)
    uk = compact.re_extract(UK_POSTCODE, 1) + compact.re_extract(UK_POSTCODE, 2)
    normalized = ibis.cases(
        (upper_country == "US", ibis.ifelse(us.length() > 0, us, ibis.null("string"))),
        (upper_country == "GB", ibis.ifelse(uk.length() > 0, uk, compact)),
        else_=compact,
    )
    return _blank_to_null(normalized)


def country_code(country: ir.StringValue) -> ir.StringValue:
    """ISO 3166-1 alpha-2, lowercase (Meta hashes it)."""
    code = country.strip().lower()
    return ibis.ifelse(code.re_search(r"^[a-z]{2}$"), code, ibis.null("string"))


def google_name(name: ir.StringValue) -> ir.StringValue:
    """Google first and last names: lowercase, no leading, trailing or repeated spaces."""
    return _blank_to_null(name.strip().lower().re_replace(r"\s+", " "))


def google_zip(zip_code: ir.StringValue, country: ir.StringValue) -> ir.StringValue:
    """Google zip, written plain: US 5 digits or ZIP+4; elsewhere the postcode as stored."""
    text = zip_code.strip()
    us = text.re_extract(r"^([0-9]{5}(-[0-9]{4})?)", 1)
    normalized = ibis.ifelse(
        country.upper() == "US", ibis.ifelse(us.length() > 0, us, ibis.null("string")), text
    )
    return _blank_to_null(normalized)
