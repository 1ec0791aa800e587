"""The shareable report (``segmint report``): the overview, segments, RFM grid, movement and
campaign results in one self-contained HTML file, for people without access to the server.

The data and the charts are the dashboard pages' own (their view functions and figure
builders). The file inlines the stylesheet, the dashboard's chart-drawing script and Plotly's
bundle, and links nowhere: it opens offline and loads nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from segmint.dashboard import charts, plotly_js
from segmint.dashboard.pages import campaigns, movement, overview, rfm, segments
from segmint.dashboard.web import templates
from segmint.errors import ConfigError
from segmint.store import Store, utcnow

TEMPLATE = "report.html"
#: The report's sections in the order it shows them: title, the view's list of items (its
#: main table's rows) and what they are.
SECTIONS = {
    "overview": ("Overview", "monthly", "months"),
    "segments": ("Segments", "segments", "segments"),
    "rfm": ("RFM grid", "cells", "cells"),
    "movement": ("Movement", "flows", "flows"),
    "campaigns": ("Campaigns", "campaigns", "campaigns"),
}
#: Text that would end an inline script early, or start an HTML comment inside it.
SCRIPT_BREAKERS = re.compile(r"</(script)|<!--", re.IGNORECASE)


@dataclass(frozen=True)
class Report:
    """What the report shows: each section's view and the charts drawn from it."""

    workspace: str
    written_at: datetime
    views: dict[str, Any]
    figures: dict[str, dict[str, charts.Figure]]

    @property
    def as_of(self) -> Any:
        return self.views["overview"]["as_of"]

    def sizes(self) -> list[dict[str, Any]]:
        """Per section: how many items its main table holds, and its charts."""
        return [
            {
                "section": name,
                "items": len(self.views[name].get(SECTIONS[name][1]) or []),
                "of": SECTIONS[name][2],
                "charts": len(self.figures.get(name, {})),
            }
            for name in SECTIONS
        ]

    def html(self) -> str:
        """The whole document: styles, data, charts and the scripts that draw them."""
        return templates.env.get_template(TEMPLATE).render(
            report=self,
            sections={k: v[0] for k, v in SECTIONS.items()},
            views=self.views,
            figures=self.figures,
            css=asset_text("dashboard.css"),
            scripts=[
                inline_script(Path(plotly_js()).read_text("utf-8")),
                inline_script(asset_text("dashboard.js")),
            ],
            metrics=campaigns.METRICS,
            value_text=campaigns.value_text,
            lift_text=campaigns.lift_text,
            p_text=campaigns.p_text,
        )

    def write(self, out: Path) -> Path:
        """Write the document to ``out`` (its folder must exist)."""
        check_destination(out)
        out.write_text(self.html(), encoding="utf-8")
        return out


def build_report(store: Store, movement_group: str | None = None) -> Report:
    """Every section's view, computed by the dashboard's own view functions, and its charts
    (the pages' figure builders, without links to the server's pages)."""
    views: dict[str, Any] = {
        "overview": overview.overview(store),
        "segments": segments.segments(store),
        "rfm": rfm.rfm_view(store),
        "movement": movement.movement_view(store, movement_group, None, None),
        "campaigns": campaigns.campaigns_view(store),
    }
    figures = {name: figures_of(name, view) for name, view in views.items()}
    return Report(
        workspace=store.path.name,
        written_at=utcnow(),
        views=views,
        figures={k: {n: offline(f) for n, f in v.items()} for k, v in figures.items()},
    )


def write_report(store: Store, out: Path, movement_group: str | None = None) -> Path:
    """Write the report of the workspace in ``store`` to ``out``; returns ``out``."""
    check_destination(out)
    return build_report(store, movement_group).write(out)


def check_destination(out: Path) -> None:
    """Refuse, before any work, a file that cannot be written: no such folder, a folder."""
    if out.is_dir():
        raise ConfigError(f"cannot write the report to {out}: it is a folder")
    if not out.parent.is_dir():
        raise ConfigError(
            f"cannot write the report to {out}: folder {out.parent} does not exist",
            hint="create it first, or pick another --out",
        )


def figures_of(section: str, view: dict[str, Any]) -> dict[str, charts.Figure]:
    """The charts a section draws (none for what has no data yet)."""
    if section == "overview":
        return overview.figures(view) if view["monthly"] else {}
    if section == "segments":
        rows = [s for s in view["segments"] if len(s["sizes"]) > 1]
        return {s["segment"]: segments.spark(s["sizes"]) for s in rows}
    if section == "rfm":
        return {"grid": rfm.grid_figure(view)} if view["cells"] else {}
    if section == "movement":
        return {"flows": movement.sankey(view)} if view["missing"] is None else {}
    if section == "campaigns":
        drawn = {str(c["campaign_id"]): campaigns.interval_chart(c) for c in view["campaigns"]}
        return {k: f for k, f in drawn.items() if f["data"]}
    return {}


def offline(figure: charts.Figure) -> charts.Figure:
    """``figure`` without its click-through links: they lead to the server's pages."""
    return {k: v for k, v in figure.items() if k != "links"}


def asset_text(name: str) -> str:
    """A file of the dashboard's static assets."""
    return (resources.files("segmint.dashboard") / "static" / name).read_text("utf-8")


def inline_script(code: str) -> str:
    """JavaScript safe inside ``<script>...</script>``: ``</script`` and ``<!--`` escaped
    (the same code for JavaScript, since ``<\\/`` and ``\\x3C!--`` read as what they were)."""
    return SCRIPT_BREAKERS.sub(lambda m: "<\\/" + m.group(1) if m.group(1) else "\\x3C!--", code)
