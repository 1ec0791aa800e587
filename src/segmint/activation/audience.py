"""An export's audience: a segment's members with consent, suppression and exclusions applied.

Every member of the segment in the latest refresh is counted once, at the first step that
leaves them out, so the funnel always adds up:

1. **no consent**: the channel's consent does not allow marketing (email exports need
   ``email_consent = subscribed``, SMS exports ``sms_consent = subscribed``; ad audiences and
   plain files need none);
2. **suppressed**: unsubscribed (an ``unsubscribed`` event or the stored consent), bounced,
   marked as spam, or an email or phone in ``suppressions`` (global suppressions and erasure
   tombstones): never exported to any destination;
3. **excluded**: a member of one of the ``--exclude`` segments;
4. **no identifier**: nothing the destination can match on (see :mod:`.destinations`);
5. **exported**: everyone else.

Consent and suppression are read from the workspace now, not as of the refresh: an
unsubscribe imported after the refresh already counts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir

from segmint.activation.suppressions import identifier_hash, suppressed_hashes
from segmint.errors import ConfigError, did_you_mean
from segmint.features.engagement import (
    BOUNCED_EVENT,
    SPAM_EVENT,
    UNSUBSCRIBED_CONSENT,
    UNSUBSCRIBED_EVENT,
)
from segmint.features.tables import stored_features
from segmint.segments import latest_refresh, latest_versions
from segmint.store import Store

SUBSCRIBED = "subscribed"
#: The funnel's steps, in the order they are applied.
STEPS = ("no_consent", "suppressed", "excluded", "no_identifier", "exported")


@dataclass(frozen=True)
class SegmentRef:
    """A segment as the latest refresh stored it."""

    slug: str
    name: str
    version: int
    refresh_id: int
    as_of: Any
    min_audience: int


@dataclass(frozen=True)
class Funnel:
    """How many members each step left out, and how many were exported."""

    members: int
    no_consent: int
    suppressed: int
    excluded: int
    no_identifier: int
    exported: int

    def as_dict(self) -> dict[str, int]:
        return {
            "members": self.members,
            "no_consent": self.no_consent,
            "suppressed": self.suppressed,
            "excluded": self.excluded,
            "no_identifier": self.no_identifier,
            "exported": self.exported,
        }


def segment_ref(store: Store, slug: str) -> SegmentRef:
    """The latest refresh's version of segment ``slug`` (an error names the close ones)."""
    refresh = latest_refresh(store)
    versions = latest_versions(store).to_pyarrow().to_pylist()
    by_slug = {v["segment"]: v for v in versions}
    if slug not in by_slug:
        raise ConfigError(
            f"no segment named {slug!r} in the latest refresh",
            hint=did_you_mean(slug, list(by_slug)) or "run 'segmint segments list' to see them",
        )
    configuration = json.loads(refresh["configuration"] or "{}")
    return SegmentRef(
        slug=slug,
        name=by_slug[slug]["name"] or slug,
        version=int(by_slug[slug]["version"] or 1),
        refresh_id=int(refresh["refresh_id"]),
        as_of=refresh["as_of"],
        min_audience=int(configuration.get("min_audience", 100)),
    )


def members_of(store: Store, segment: SegmentRef, slugs: list[str] | None = None) -> ir.Table:
    """``customer_id`` of the members of ``slugs`` (default: the segment) in its refresh."""
    members = store.table("segment_members")
    wanted = slugs if slugs is not None else [segment.slug]
    chosen = members.filter(
        (members.refresh_id == segment.refresh_id) & members.segment.isin(wanted)
    )
    return chosen.select("customer_id").distinct()


def audience(
    store: Store,
    segment: SegmentRef,
    channel: str,
    usable: Any,
    exclude: list[str],
    features: list[str],
) -> ir.Table:
    """Every member with the customer's columns, the chosen ``features`` and ``step`` (where
    the funnel left them, ``exported`` for the rows to write).

    ``usable(table)`` says whether a row has an identifier the destination can match on.
    """
    customers = store.table("customers")
    members = members_of(store, segment).join(customers, "customer_id")
    members = _with_features(store, members, features)
    flags = members.mutate(
        _consent=_consents(members, channel),
        _suppressed=_suppressed(store, members),
        _excluded=_excluded(store, segment, members, exclude),
    )
    flags = flags.mutate(_usable=usable(flags))
    step = ibis.cases(
        (~flags._consent, "no_consent"),
        (flags._suppressed, "suppressed"),
        (flags._excluded, "excluded"),
        (~flags._usable, "no_identifier"),
        else_="exported",
    )
    return flags.mutate(step=step).drop("_consent", "_suppressed", "_excluded", "_usable")


def funnel(staged: ir.Table) -> Funnel:
    """The funnel of an :func:`audience`'s staged rows."""
    counts = staged.group_by("step").aggregate(n=staged.count()).to_pyarrow().to_pylist()
    by_step = {row["step"]: int(row["n"]) for row in counts}
    return Funnel(members=sum(by_step.values()), **{s: by_step.get(s, 0) for s in STEPS})


def _with_features(store: Store, members: ir.Table, features: list[str]) -> ir.Table:
    if not features:
        return members
    stored = stored_features(store)
    unknown = [f for f in features if f not in stored.columns]
    if unknown:
        raise ConfigError(
            f"unknown feature {unknown[0]!r}",
            hint=did_you_mean(unknown[0], stored.columns) or "see docs/features.md",
        )
    clashing = {f: f"feature_{f}" for f in features if f in members.columns}
    chosen = stored.select("customer_id", *[stored[f].name(clashing.get(f, f)) for f in features])
    return members.left_join(chosen, "customer_id").drop("customer_id_right")


def _consents(members: ir.Table, channel: str) -> ir.BooleanValue:
    if channel == "email":
        return (members.email_consent == SUBSCRIBED).fill_null(False)
    if channel == "sms":
        return (members.sms_consent == SUBSCRIBED).fill_null(False)
    return ibis.literal(True)


def _suppressed(store: Store, members: ir.Table) -> ir.BooleanValue:
    """Unsubscribed, bounced, marked as spam, or in ``suppressions`` by email or phone."""
    events = store.table("events")
    stopped = events.filter(
        events.event_type.isin([UNSUBSCRIBED_EVENT, BOUNCED_EVENT, SPAM_EVENT])
    ).customer_id
    hashes = suppressed_hashes(store)
    emails = hashes.filter(hashes.kind == "email").value_hash
    phones = hashes.filter(hashes.kind == "phone").value_hash
    return (
        (members.email_consent == UNSUBSCRIBED_CONSENT).fill_null(False)
        | members.customer_id.isin(stopped)
        | identifier_hash(members.email).isin(emails).fill_null(False)
        | identifier_hash(members.phone).isin(phones).fill_null(False)
    )


def _excluded(
    store: Store, segment: SegmentRef, members: ir.Table, exclude: list[str]
) -> ir.BooleanValue:
    if not exclude:
        return ibis.literal(False)
    known = set(latest_versions(store).segment.to_pyarrow().to_pylist())
    for slug in exclude:
        if slug not in known:
            raise ConfigError(
                f"--exclude: no segment named {slug!r} in the latest refresh",
                hint=did_you_mean(slug, sorted(known)) or "run 'segmint segments list'",
            )
    return members.customer_id.isin(members_of(store, segment, exclude).customer_id)
