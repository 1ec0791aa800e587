"""Email engagement features: emails received, opened and clicked, rates, recency and consent.

Every count is a count of events (``docs/data-model.md``, table ``events``) of one canonical
``event_type`` that occurred up to the as-of day (:func:`segmint.definitions.events_as_of`);
a window of N days is the N days ending with the as-of day, that day included. Consent is
the customer's stored ``email_consent`` / ``sms_consent`` as the source wrote it.
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import ibis.expr.types as ir

from segmint.definitions import events_as_of
from segmint.features.catalog import feature
from segmint.features.tables import Tables

GROUP = "Email engagement"
WINDOWS = (30, 90)
RATE_WINDOW = 90

RECEIVED = "received_email"
OPENED = "opened_email"
CLICKED = "clicked_email"
UNSUBSCRIBED_EVENT = "unsubscribed"
BOUNCED_EVENT = "bounced_email"
SPAM_EVENT = "marked_spam"
#: ``customers.email_consent`` value that marks an unsubscribed customer.
UNSUBSCRIBED_CONSENT = "unsubscribed"

#: (event type, feature name stem, what the definition says).
_COUNTED = (
    (RECEIVED, "received", "`Received Email`"),
    (OPENED, "opened", "`Opened Email`"),
    (CLICKED, "clicked", "`Clicked Email`"),
)
EMAILS_IN = {
    (event_type, n): feature(
        f"emails_{stem}_{n}d",
        "integer",
        GROUP,
        f"Number of {label} events (`{event_type}`) that occurred in the last {n} days.",
    )
    for n in WINDOWS
    for event_type, stem, label in _COUNTED
}
OPEN_RATE = feature(
    "email_open_rate_90d",
    "number",
    GROUP,
    "`emails_opened_90d / emails_received_90d` (event counts, so it can exceed 1 when one "
    "email is opened several times); empty when no email was received in the last 90 days.",
)
CLICK_RATE = feature(
    "email_click_rate_90d",
    "number",
    GROUP,
    "`emails_clicked_90d / emails_received_90d` (event counts); empty when no email was "
    "received in the last 90 days.",
)
DAYS_SINCE_LAST_OPEN = feature(
    "days_since_last_open",
    "integer",
    GROUP,
    "As-of day minus the day of the latest `opened_email` event up to it, in days; empty "
    "when the customer never opened an email.",
)
DAYS_SINCE_LAST_CLICK = feature(
    "days_since_last_click",
    "integer",
    GROUP,
    "As-of day minus the day of the latest `clicked_email` event up to it, in days; empty "
    "when the customer never clicked an email.",
)
UNSUBSCRIBED = feature(
    "unsubscribed",
    "boolean",
    GROUP,
    "True when the customer has an `unsubscribed` event up to the as-of day or their "
    "stored `email_consent` is `unsubscribed`; false otherwise.",
)
BOUNCED = feature(
    "bounced",
    "boolean",
    GROUP,
    "True when the customer has a `bounced_email` event (Klaviyo `Bounced Email` or "
    "`Dropped Email`) up to the as-of day; false otherwise.",
)
MARKED_SPAM = feature(
    "marked_spam",
    "boolean",
    GROUP,
    "True when the customer has a `marked_spam` event (`Marked Email as Spam`) up to the "
    "as-of day; false otherwise.",
)
EMAIL_CONSENT = feature(
    "email_consent",
    "string",
    GROUP,
    "The customer's stored email marketing consent (`subscribed`, `not_subscribed`, "
    "`unsubscribed`, ...) as the latest source wrote it; not as of a date.",
)
SMS_CONSENT = feature(
    "sms_consent",
    "string",
    GROUP,
    "The customer's stored SMS marketing consent (`subscribed`, `not_subscribed`, ...) as "
    "the latest source wrote it; not as of a date.",
)


def engagement_features(tables: Tables, as_of: date) -> ir.Table:
    """One row per customer of ``tables.customers``: ``customer_id`` and the features above."""
    events = events_as_of(tables.events, as_of)
    starts = {n: as_of - timedelta(days=n - 1) for n in WINDOWS}
    kind = events.event_type
    per_customer = events.group_by("customer_id").aggregate(
        **{
            f"_n_{event_type}_{n}": events.count(
                where=(kind == event_type) & (events.occurred_date >= starts[n])
            )
            for event_type, n in EMAILS_IN
        },
        _last_open=events.occurred_date.max(where=kind == OPENED),
        _last_click=events.occurred_date.max(where=kind == CLICKED),
        _unsubscribed=events.count(where=kind == UNSUBSCRIBED_EVENT),
        _bounced=events.count(where=kind == BOUNCED_EVENT),
        _spam=events.count(where=kind == SPAM_EVENT),
    )
    customers = tables.customers.select("customer_id", "email_consent", "sms_consent")
    joined = customers.left_join(per_customer, "customer_id").drop("customer_id_right")
    counts = {key: joined[f"_n_{key[0]}_{key[1]}"].fill_null(0) for key in EMAILS_IN}
    received = counts[(RECEIVED, RATE_WINDOW)]
    as_of_day = ibis.literal(as_of)

    def rate(event_type: str) -> ir.FloatingValue:
        share = counts[(event_type, RATE_WINDOW)].cast("float64") / received.cast("float64")
        return ibis.ifelse(received > 0, share, ibis.null("float64"))

    def flag(column: str) -> ir.BooleanValue:
        return joined[column].fill_null(0) > 0

    return joined.select(
        customer_id=joined.customer_id,
        **{name: counts[key].cast("int64") for key, name in EMAILS_IN.items()},
        **{OPEN_RATE: rate(OPENED), CLICK_RATE: rate(CLICKED)},
        **{
            DAYS_SINCE_LAST_OPEN: as_of_day.delta(joined._last_open, unit="day"),
            DAYS_SINCE_LAST_CLICK: as_of_day.delta(joined._last_click, unit="day"),
            UNSUBSCRIBED: flag("_unsubscribed")
            | (joined.email_consent == UNSUBSCRIBED_CONSENT).fill_null(False),
            BOUNCED: flag("_bounced"),
            MARKED_SPAM: flag("_spam"),
            EMAIL_CONSENT: joined.email_consent,
            SMS_CONSENT: joined.sms_consent,
        },
    )
