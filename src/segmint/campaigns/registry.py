"""``segmint campaign create``: a segment's eligible members, assigned to variants and a holdout.

The channel's consent, suppression and exclusions are applied first (the export funnel of
:mod:`segmint.activation.audience`), so the holdout is drawn from the same eligible people
as the treated arms. Each eligible member then goes to the arm its bucket falls in (SHA-256
of the campaign's salt and the customer id: the same on every run and machine), the
assignment is stored, the arms' balance is checked, and each variant's members are written
in the destination's format, one file per variant (the holdout gets none: it is not sent).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from segmint.activation.audience import audience, funnel, segment_ref
from segmint.activation.destinations import (
    ExportOptions,
    columns,
    destination_for,
    segment_tag,
)
from segmint.activation.export import with_value, write_file
from segmint.campaigns.assignment import HOLDOUT, Arms, new_salt
from segmint.campaigns.balance import BalanceCheck, check_balance
from segmint.errors import ConfigError, did_you_mean
from segmint.store import Store, utcnow

DEFAULT_WINDOW_DAYS = 14


@dataclass(frozen=True)
class Campaign:
    """A stored campaign."""

    campaign_id: int
    name: str
    segment: str
    channel: str
    arms: Arms
    salt: str
    send_date: date
    window_days: int
    eligible: int
    files: list[str]
    funnel: dict[str, int]

    @property
    def variants(self) -> list[str]:
        return [name for name in self.arms.names if name != HOLDOUT]

    @property
    def control(self) -> str:
        """What the variants are compared with: the holdout, or the first variant."""
        return HOLDOUT if self.arms.has_holdout else self.arms.names[0]


class NoEligibleMembers(ConfigError):
    """The segment has nobody the channel may reach: there is nothing to assign."""


@dataclass(frozen=True)
class Created:
    campaign: Campaign
    balance: BalanceCheck

    @property
    def sizes(self) -> dict[str, int]:
        """Customers per arm."""
        return self.balance.sample_ratio.observed


def create_campaign(
    store: Store,
    name: str,
    segment: str,
    channel: str,
    variants: list[str],
    holdout: float,
    send_date: date | None = None,
    window_days: int = DEFAULT_WINDOW_DAYS,
    exclude: list[str] | None = None,
    out: Path | None = None,
    salt: str | None = None,
) -> Created:
    """Assign ``segment``'s eligible members for ``channel`` (a destination: klaviyo,
    mailchimp, meta, google-ads, csv, ...) and write one file per variant into ``out``."""
    name = _new_name(store, name)
    arms = Arms.of(variants, holdout)
    target = destination_for(channel, ExportOptions())
    ref = segment_ref(store, segment)
    exclude = list(exclude or [])
    rows = audience(store, ref, target.channel, target.usable, exclude, [])
    staged = store.stage("_campaign_audience", rows)
    counts = funnel(staged).as_dict()
    if not counts["exported"]:
        raise NoEligibleMembers(
            f"no member of segment '{segment}' can be sent a {channel} campaign",
            details=", ".join(f"{step}: {n:,}" for step, n in counts.items()),
            hint="a campaign needs members with consent and an identifier for the channel",
        )
    salt = salt or new_salt()
    eligible = staged.filter(staged.step == "exported")
    assigned = store.stage("_campaign_assigned", arms.assign(eligible, salt))
    campaign_id = store.next_id("campaigns", "campaign_id")
    out = out or Path(".")
    files = _write_variants(store, assigned, arms, channel, ref.slug, out, name)
    campaign = Campaign(
        campaign_id,
        name,
        segment,
        channel,
        arms,
        salt,
        send_date or date.today(),
        window_days,
        counts["exported"],
        [str(f) for f in files],
        counts,
    )
    with store.transaction():
        store.insert(
            "campaign_assignments",
            assigned.select(
                campaign_id=ibis.literal(campaign_id),
                customer_id="customer_id",
                arm="arm",
                bucket="bucket",
            ),
        )
        store.insert("campaigns", pa.Table.from_pylist([_row(campaign, ref, exclude)]))
    return Created(campaign, check_balance(store, campaign_id, arms))


def _new_name(store: Store, name: str) -> str:
    name = name.strip()
    if not name:
        raise ConfigError("a campaign needs a name")
    campaigns = store.table("campaigns")
    if store.scalar(campaigns.filter(campaigns.name == name).count()):
        raise ConfigError(f"a campaign named '{name}' exists", hint="choose another name")
    return name


def _write_variants(
    store: Store,
    assigned: ir.Table,
    arms: Arms,
    channel: str,
    segment_name: str,
    out: Path,
    name: str,
) -> list[Path]:
    """One file per variant, in ``channel``'s format, tagged with the campaign and arm."""
    target = destination_for(channel, ExportOptions())
    rows = with_value(store, assigned, channel, ExportOptions())
    files = []
    for arm in arms.names:
        if arm == HOLDOUT:
            continue
        label = f"{name} {arm}"
        spec = columns(channel, ExportOptions(), label)
        mine = rows.filter(rows.arm == arm).mutate(
            _segment_slug=ibis.literal(segment_name), _tag=ibis.literal(segment_tag(label))
        )
        path = out / f"{_file_stem(name)}-{arm}-{channel}.{target.file_format}"
        write_file(mine, spec, path, target.file_format)
        files.append(path.resolve())
    return files


def _file_stem(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name.lower()).strip("-")


def _row(campaign: Campaign, ref: Any, exclude: list[str]) -> dict[str, Any]:
    return {
        "campaign_id": campaign.campaign_id,
        "name": campaign.name,
        "segment": campaign.segment,
        "channel": campaign.channel,
        "variants": json.dumps(list(campaign.arms.names)),
        "holdout": dict(zip(campaign.arms.names, campaign.arms.shares, strict=True)).get(
            HOLDOUT, 0.0
        ),
        "salt": campaign.salt,
        "refresh_id": ref.refresh_id,
        "segment_version": ref.version,
        "send_date": campaign.send_date,
        "window_days": campaign.window_days,
        "exclude": json.dumps(exclude),
        "eligible": campaign.eligible,
        "funnel": json.dumps(campaign.funnel),
        "files": json.dumps(campaign.files),
        "created_at": utcnow(),
    }


def load_campaign(store: Store, name: str) -> Campaign:
    """A stored campaign by name (an error names the close ones)."""
    campaigns = store.table("campaigns")
    rows = store.run(campaigns).to_pylist()
    by_name = {row["name"]: row for row in rows}
    if name not in by_name:
        raise ConfigError(
            f"no campaign named '{name}'",
            hint=did_you_mean(name, by_name) or "`segmint campaign list` shows them",
        )
    row = by_name[name]
    names = json.loads(row["variants"])
    variants = [n for n in names if n != HOLDOUT]
    return Campaign(
        row["campaign_id"],
        row["name"],
        row["segment"],
        row["channel"],
        Arms.of(variants, row["holdout"] or 0.0),
        row["salt"],
        row["send_date"],
        row["window_days"],
        row["eligible"],
        json.loads(row["files"]),
        json.loads(row["funnel"]),
    )


def list_campaigns(store: Store) -> list[dict[str, Any]]:
    campaigns = store.table("campaigns").order_by("campaign_id")
    shown = campaigns.select(
        "campaign_id",
        "name",
        "segment",
        "channel",
        "variants",
        "holdout",
        "send_date",
        "window_days",
        "eligible",
    )
    return store.run(shown).to_pylist()


def assignments(store: Store, campaign_id: int) -> ir.Table:
    """``customer_id`` and ``arm`` of every assigned customer of a campaign."""
    table = store.table("campaign_assignments")
    return table.filter(table.campaign_id == campaign_id).select("customer_id", "arm")
