"""Where audiences go: each destination's columns, identifiers, consent and minimum size.

The files are those of ``../shared/formats.md`` (sections 2, 4 to 7); ``docs/activation.md``
shows each one. Ad platforms (Meta, Google) never get a raw email, phone or name: those
columns are SHA-256 hashes of the platform's normalized values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from segmint.activation import identifiers as ids
from segmint.errors import ConfigError, did_you_mean

#: One column of a file from the audience rows: the customers columns, the chosen features
#: (``feature_<name>`` where a customers column has the same name), ``_segment_slug``,
#: ``_tag`` (the segment's tag) and ``_value`` (Meta's value).
Column = Callable[[ir.Table], ir.Value]


@dataclass(frozen=True)
class ExportOptions:
    """What the user chose beyond the segment and the destination."""

    features: tuple[str, ...] = ()
    value: str | None = None  # Meta's value column (default: predicted CLV, else net sales)
    channel: str | None = None  # Klaviyo: "email" (default) or "sms"


@dataclass(frozen=True)
class Destination:
    name: str
    channel: str  # the consent an export needs: "email", "sms", "ads" or "none"
    file_format: str  # "csv" or "parquet"
    usable: Callable[[ir.Table], ir.BooleanValue]
    minimum: int | None = None  # the platform's documented minimum audience
    minimum_source: str = ""


def _has(value: ir.Value) -> ir.BooleanValue:
    return value.notnull()


def _email_usable(t: ir.Table) -> ir.BooleanValue:
    return _has(t.email)


def _phone_usable(t: ir.Table) -> ir.BooleanValue:
    return _has(t.phone)


def _email_or_phone(t: ir.Table) -> ir.BooleanValue:
    return _has(t.email) | _has(t.phone)


def _google_usable(t: ir.Table) -> ir.BooleanValue:
    address = (
        _has(ids.google_name(t.first_name))
        & _has(ids.google_name(t.last_name))
        & _has(ids.country_code(t.country))
        & _has(ids.google_zip(t.zip, t.country))
    )
    return _email_or_phone(t) | address


def _shopify_usable(t: ir.Table) -> ir.BooleanValue:
    """Shopify matches customers by email, else phone; the customer's current tags must be
    known from a customers import, or overwriting them would drop the ones segmint never saw."""
    return _email_or_phone(t) & _has(t.tags_as_of)


def _always(t: ir.Table) -> ir.BooleanValue:
    return ibis.literal(True)


DESTINATIONS: dict[str, Destination] = {
    d.name: d
    for d in (
        Destination("klaviyo", "email", "csv", _email_usable),
        Destination("mailchimp", "email", "csv", _email_usable),
        Destination(
            "meta", "ads", "csv", _email_or_phone, 100, "Meta: lists should have 100 or more rows"
        ),
        Destination(
            "google-ads",
            "ads",
            "csv",
            _google_usable,
            1000,
            "Google Customer Match: lists under about 1,000 matched members may not serve",
        ),
        Destination("shopify-tags", "none", "csv", _shopify_usable),
        Destination("csv", "none", "csv", _always),
        Destination("parquet", "none", "parquet", _always),
    )
}


def checked_options(
    destination: str, features: list[str], value: str | None, channel: str | None
) -> ExportOptions:
    """The options of an export to ``destination``, or a ConfigError naming the wrong one
    (as the command's options: ``--to``, ``--channel``, ``--value``)."""
    if destination not in DESTINATIONS:
        raise ConfigError(
            f"--to: unknown destination {destination!r}",
            option="to",
            hint=did_you_mean(destination, DESTINATIONS)
            or "choose from " + ", ".join(DESTINATIONS),
        )
    if channel not in (None, "email", "sms") or (channel == "sms" and destination != "klaviyo"):
        raise ConfigError(
            "--channel: email or sms, and sms only with --to klaviyo", option="channel"
        )
    if value is not None and destination != "meta":
        raise ConfigError("--value is only for --to meta (its value column)", option="value")
    return ExportOptions(features=tuple(features), value=value, channel=channel)


def destination_for(name: str, options: ExportOptions) -> Destination:
    """The destination, with Klaviyo's SMS variant (first column ``Phone Number``)."""
    chosen = DESTINATIONS[name]
    if name == "klaviyo" and options.channel == "sms":
        return Destination("klaviyo", "sms", "csv", _phone_usable)
    return chosen


def columns(name: str, options: ExportOptions, segment_name: str) -> list[tuple[str, Column]]:
    """The file's header and each column's expression, in the platform's order."""
    features = [(f, _feature(f)) for f in options.features]
    if name == "klaviyo":
        return _klaviyo(options) + features + [(segment_tag(segment_name), _true)]
    if name == "mailchimp":
        return [
            ("Email Address", _column("email")),
            ("First Name", _column("first_name")),
            ("Last Name", _column("last_name")),
            ("Tags", lambda t: mailchimp_tag(t._tag)),
            *features,
        ]
    if name == "meta":
        return META_COLUMNS
    if name == "google-ads":
        return GOOGLE_COLUMNS
    if name == "shopify-tags":
        return SHOPIFY_COLUMNS
    return [
        ("customer_id", _column("customer_id")),
        ("email", _column("email")),
        ("phone", _column("phone")),
        ("first_name", _column("first_name")),
        ("last_name", _column("last_name")),
        ("country", _column("country")),
        ("segment", _column("_segment_slug")),
        *features,
    ]


def _column(name: str) -> Column:
    """A customers column as it is stored."""
    return lambda t: t[name]


def _feature(name: str) -> Column:
    return lambda t: t[f"feature_{name}"] if f"feature_{name}" in t.columns else t[name]


def _true(t: ir.Table) -> ir.Value:
    return ibis.literal("true")


def _klaviyo(options: ExportOptions) -> list[tuple[str, Column]]:
    address = [
        ("First Name", _column("first_name")),
        ("Last Name", _column("last_name")),
        ("City", _column("city")),
        ("Region", _column("region")),
        ("Country", _column("country")),
        ("Zip Code", _column("zip")),
    ]
    if options.channel == "sms":
        return [("Phone Number", _column("phone")), ("Email", _column("email")), *address]
    return [("Email", _column("email")), *address[:2], ("Phone Number", _column("phone"))] + (
        address[2:]
    )


def segment_tag(segment_name: str) -> str:
    """What every export puts on a member: Klaviyo's custom property (set to ``true``),
    Mailchimp's and Shopify's tag."""
    return f"segmint: {segment_name}"


def mailchimp_tag(tag: ir.StringValue) -> ir.StringValue:
    """Mailchimp's ``Tags`` cell: tags separated by commas, a tag holding a comma quoted."""
    return ibis.ifelse(tag.contains(","), '"' + tag.replace('"', '""') + '"', tag)


def shopify_tags(existing: ir.ArrayValue, tag: ir.StringValue) -> ir.StringValue:
    """The customer's tags from the latest customers import, plus the segment's tag."""
    kept = existing.fill_null(ibis.literal([], type="array<string>")).filter(lambda x: x != tag)
    return kept.concat(ibis.array([tag])).join(", ")


META_COLUMNS: list[tuple[str, Column]] = [
    ("email", lambda t: ids.sha256(ids.trimmed_lower_email(t.email))),
    ("phone", lambda t: ids.sha256(ids.meta_phone(t.phone))),
    ("fn", lambda t: ids.sha256(ids.meta_letters(t.first_name))),
    ("ln", lambda t: ids.sha256(ids.meta_letters(t.last_name))),
    ("zip", lambda t: ids.sha256(ids.meta_zip(t.zip, t.country))),
    ("ct", lambda t: ids.sha256(ids.meta_letters(t.city))),
    ("st", lambda t: ids.sha256(ids.meta_region(t.region))),
    ("country", lambda t: ids.sha256(ids.country_code(t.country))),
    ("value", _column("_value")),
]

GOOGLE_COLUMNS: list[tuple[str, Column]] = [
    ("Email", lambda t: ids.sha256(ids.trimmed_lower_email(t.email))),
    ("Phone", lambda t: ids.sha256(t.phone)),
    ("First Name", lambda t: ids.sha256(ids.google_name(t.first_name))),
    ("Last Name", lambda t: ids.sha256(ids.google_name(t.last_name))),
    ("Country", lambda t: ids.country_code(t.country).upper()),
    ("Zip", lambda t: ids.google_zip(t.zip, t.country)),
]

SHOPIFY_COLUMNS: list[tuple[str, Column]] = [
    ("First Name", _column("first_name")),
    ("Last Name", _column("last_name")),
    ("Email", _column("email")),
    ("Phone", _column("phone")),
    ("Tags", lambda t: shopify_tags(t.tags, t._tag)),
]
