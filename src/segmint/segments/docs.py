"""Write the generated parts of ``docs/segments.md`` from the code.

``python -m segmint.segments.docs [PATH]`` replaces what lies between the
``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->`` markers: the RFM grid, the library
by family, the default thresholds and the templates, so the docs cannot drift from the code.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from segmint.features.rfm import RFM_GRID
from segmint.segments.library import FAMILIES, LIBRARY, PARAMETERS, SegmentDef
from segmint.segments.templates import TEMPLATES

DEFAULT_PATH = Path("docs/segments.md")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def rfm_grid_markdown() -> str:
    lines = ["| R \\ F | 1 | 2 | 3 | 4 | 5 |", "|---|---|---|---|---|---|"]
    for r, row in sorted(RFM_GRID.items(), reverse=True):
        lines.append(f"| {r} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def _segment_rows(segments: list[SegmentDef]) -> list[str]:
    rows = ["| segment | name | rule | who | play |", "|---|---|---|---|---|"]
    for s in segments:
        rows.append(
            f"| `{s.slug}` | {_cell(s.name)} | `{_cell(s.rule)}` | {_cell(s.description)} "
            f"| {_cell(s.action)} |"
        )
    return rows


def library_markdown() -> str:
    parts = []
    for family in FAMILIES:
        members = sorted((s for s in LIBRARY if s.family == family), key=lambda s: s.priority)
        parts.append(f"### Family `{family}` (exclusive, in this priority order)\n")
        parts.append("\n".join(_segment_rows(members)) + "\n")
    cross = [s for s in LIBRARY if s.family is None]
    parts.append("### Cross-cutting segments (no family)\n")
    parts.append("\n".join(_segment_rows(cross)))
    return "\n".join(parts)


def parameters_markdown() -> str:
    lines = ["| parameter | default |", "|---|---|"]
    lines += [f"| `{name}` | {value} |" for name, value in PARAMETERS.items()]
    return "\n".join(lines)


def templates_markdown() -> str:
    lines = ["| template | fields | slug | rule |", "|---|---|---|---|"]
    for name, t in TEMPLATES.items():
        lines.append(f"| `{name}` | {', '.join(t.fields)} | `{t.slug}` | `{_cell(t.rule)}` |")
    return "\n".join(lines)


SECTIONS = {
    "rfm-grid": rfm_grid_markdown,
    "library": library_markdown,
    "parameters": parameters_markdown,
    "templates": templates_markdown,
}


def render(text: str) -> str:
    """``text`` with every generated section replaced by its current content."""
    for name, make in SECTIONS.items():
        pattern = re.compile(
            rf"(<!-- generated:{name} -->\n).*?(<!-- /generated:{name} -->)", re.DOTALL
        )
        if not pattern.search(text):
            raise ValueError(f"docs/segments.md has no generated:{name} markers")
        text = pattern.sub(lambda m, make=make: m.group(1) + make() + "\n" + m.group(2), text)
    return text


def main(argv: list[str]) -> None:
    path = Path(argv[0]) if argv else DEFAULT_PATH
    path.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
