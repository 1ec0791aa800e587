"""``segmint plan``: one campaign per action segment, each customer in one campaign only.

Campaigns are taken in play priority order; a customer already in a higher-priority
campaign is left out of the later ones (unless overlap is allowed), and each campaign's
export excludes the earlier campaigns' segments, so no customer is in two of its files. The
plan is written as Markdown and HTML next to the exports it names.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import ibis.expr.types as ir

from segmint.activation.audience import members_of, segment_ref
from segmint.activation.destinations import DESTINATIONS
from segmint.activation.export import ExportResult, export_segment
from segmint.activation.kpis import KPIS, Baseline
from segmint.activation.plays import Play, plays_with_overrides
from segmint.errors import ConfigError
from segmint.features.tables import stored_features
from segmint.segments import latest_refresh, segment_sizes
from segmint.segments.config import load_config
from segmint.store import Store, utcnow


@dataclass
class Campaign:
    slug: str
    name: str
    play: Play
    members: int
    lost_to_higher: int
    assigned: int
    baseline: Baseline
    export: ExportResult
    exclude: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "segment": self.slug,
            "name": self.name,
            "priority": self.play.priority,
            "members": self.members,
            "lost_to_higher_priority": self.lost_to_higher,
            "assigned": self.assigned,
            "exported": self.export.funnel.exported,
            "channel": self.play.channel,
            "angle": self.play.angle,
            "offer": self.play.offer,
            "cadence": self.play.cadence,
            "goal": self.baseline.kpi,
            "baseline": self.baseline.value,
            "baseline_base": self.baseline.base,
            "export_file": str(self.export.files[0]),
            "export_id": self.export.export_id,
            "warnings": self.export.warnings,
        }


@dataclass
class Plan:
    name: str
    as_of: Any
    campaigns: list[Campaign]
    allow_overlap: bool
    files: list[Path]


def build_plan(
    store: Store, out_dir: Path, segments: list[str] | None = None, allow_overlap: bool = False
) -> Plan:
    """Choose the campaigns, measure their baselines, write their exports and the plan."""
    refresh = latest_refresh(store)
    sizes = {
        r["segment"]: int(r["customers"]) for r in segment_sizes(store).to_pyarrow().to_pylist()
    }
    plays = plays_with_overrides(load_config(store.path).plays, list(sizes))
    chosen = _chosen(segments, plays, sizes)
    name = f"plan-{utcnow():%Y%m%dT%H%M%S}"
    out_dir.mkdir(parents=True, exist_ok=True)
    features = stored_features(store)
    campaigns: list[Campaign] = []
    for slug in chosen:
        play = plays[slug]
        segment = segment_ref(store, slug)
        members = members_of(store, segment)
        earlier = [c.slug for c in campaigns]
        lost = (
            0
            if allow_overlap or not earlier
            else _count(members.semi_join(members_of(store, segment, earlier), "customer_id"))
        )
        exclude = [] if allow_overlap else earlier
        export = export_segment(
            store,
            slug,
            play.channel,
            out_dir / f"{slug}-{play.channel}.csv",
            exclude=exclude,
            plan=name,
            allow_overlap=allow_overlap,
        )
        baseline = KPIS[play.goal](store, features, members, refresh["as_of"])
        count = sizes[slug]
        campaigns.append(
            Campaign(slug, segment.name, play, count, lost, count - lost, baseline, export, exclude)
        )
    plan = Plan(name, refresh["as_of"], campaigns, allow_overlap, [])
    plan.files = [
        _write(out_dir / "plan.md", markdown(plan)),
        _write(out_dir / "plan.html", as_html(plan)),
    ]
    return plan


def _chosen(segments: list[str] | None, plays: dict[str, Play], sizes: dict[str, int]) -> list[str]:
    for slug, play in plays.items():
        if play.channel not in DESTINATIONS:
            raise ConfigError(f"plays: {slug}: unknown channel {play.channel!r}")
        if play.goal not in KPIS:
            raise ConfigError(
                f"plays: {slug}: unknown goal {play.goal!r}", hint="goals: " + ", ".join(KPIS)
            )
    if segments:
        for slug in segments:
            if slug not in sizes:
                raise ConfigError(f"no segment named {slug!r} in the latest refresh")
            if slug not in plays:
                raise ConfigError(
                    f"segment {slug!r} has no play",
                    hint="give it one under 'plays:' in segments.yaml",
                )
        picked = segments
    else:
        picked = [slug for slug in plays if sizes.get(slug, 0) > 0]
    return sorted(picked, key=lambda slug: (plays[slug].priority, slug))


def _count(table: ir.Table) -> int:
    return int(table.count().to_pyarrow().as_py())


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _rows(plan: Plan) -> list[list[str]]:
    return [
        [
            str(c.play.priority),
            c.name,
            f"{c.members:,}",
            f"{c.lost_to_higher:,}",
            f"{c.export.funnel.exported:,}",
            c.play.angle,
            c.play.offer,
            c.play.channel,
            f"{c.baseline.kpi}: {c.baseline.shown()}",
            c.play.cadence,
            f"`{_export_command(c)}` → {c.export.files[0].name}",
        ]
        for c in plan.campaigns
    ]


HEADERS = [
    "#",
    "Audience",
    "Members",
    "Lost to higher priority",
    "Exported",
    "Message angle",
    "Offer",
    "Channel",
    "Goal KPI (baseline)",
    "Cadence",
    "Export",
]


def markdown(plan: Plan) -> str:
    """The plan as Markdown: one table row per campaign, then each KPI's definition."""
    lines = [
        f"# Campaign plan ({plan.name})",
        "",
        f"Segments as of {plan.as_of}. {_assignment(plan)}",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "---|" * len(HEADERS),
    ]
    lines += [
        "| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in _rows(plan)
    ]
    lines += ["", "## Goal KPIs", ""]
    lines += [f"- `{kpi}`: {definition}" for kpi, definition in _kpi_definitions(plan)]
    return "\n".join(lines) + "\n"


def _assignment(plan: Plan) -> str:
    if plan.allow_overlap:
        return "Customers may be in several campaigns."
    return "Each customer is in one campaign only: the highest-priority one."


def _kpi_definitions(plan: Plan) -> list[tuple[str, str]]:
    """Each goal KPI of the plan once, with its definition on one line."""
    definitions: dict[str, str] = {}
    for c in plan.campaigns:
        definitions.setdefault(c.baseline.kpi, " ".join(c.baseline.definition.split()))
    return list(definitions.items())


def as_html(plan: Plan) -> str:
    """The same plan as one self-contained HTML page, each export linked (same folder)."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in HEADERS)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(cell.replace('`', ''))}</td>" for cell in row[:-1])
        + f"<td>{_export_cell(campaign)}</td></tr>"
        for campaign, row in zip(plan.campaigns, _rows(plan), strict=True)
    )
    kpis = "".join(
        f"<li><code>{html.escape(kpi)}</code>: {html.escape(definition)}</li>"
        for kpi, definition in _kpi_definitions(plan)
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Campaign plan {html.escape(plan.name)}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.4rem;vertical-align:top;text-align:left}</style>"
        f"</head><body><h1>Campaign plan</h1>"
        f"<p>Segments as of {html.escape(str(plan.as_of))}. {_assignment(plan)}</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        f"<h2>Goal KPIs</h2><ul>{kpis}</ul></body></html>\n"
    )


def _export_cell(campaign: Campaign) -> str:
    """The export command, and a link to the file it wrote (next to the plan)."""
    command = _export_command(campaign)
    name = campaign.export.files[0].name
    link = f'<a href="{html.escape(quote(name))}">{html.escape(name)}</a>'
    return f"<code>{html.escape(command)}</code> → {link}"


def _export_command(campaign: Campaign) -> str:
    exclude = "".join(f" --exclude {e}" for e in campaign.exclude)
    return f"segmint export {campaign.slug} --to {campaign.play.channel}{exclude}"
