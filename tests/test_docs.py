"""docs/data-model.md documents every workspace table and column, and the README's commands."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from segmint.importers import format_names
from segmint.schema import TABLES

ROOT = Path(__file__).resolve().parents[1]
DATA_MODEL = ROOT / "docs" / "data-model.md"


def documented_columns() -> dict[str, set[str]]:
    """Table name -> the columns listed in the first column of its section's table."""
    sections: dict[str, set[str]] = {}
    current = None
    for line in DATA_MODEL.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^### (\w+)\s*$", line)
        if heading:
            current = heading.group(1)
            sections.setdefault(current, set())
            continue
        cell = re.match(r"^\| `(\w+)` \|", line)
        if cell and current is not None:
            sections[current].add(cell.group(1))
    return sections


@pytest.mark.parametrize("table", sorted(TABLES))
def test_every_column_of_every_table_is_documented(table: str) -> None:
    sections = documented_columns()
    assert table in sections, f"docs/data-model.md has no '### {table}' section"
    missing = set(TABLES[table].names) - sections[table]
    if table == "settings":  # a key/value table, described in prose
        missing -= {"key", "value"}
    assert not missing, f"{table} columns not documented: {sorted(missing)}"
    unknown = sections[table] - set(TABLES[table].names)
    assert not unknown, f"documented but not in the schema: {table}.{sorted(unknown)}"


def test_every_definition_has_a_section() -> None:
    text = DATA_MODEL.read_text(encoding="utf-8")
    for heading in (
        "An order",
        "Amount spent and net sales",
        "Currency",
        "Time zone, a day, today",
        "As of a date",
        "Re-imports",
        "Duplicates",
    ):
        assert f"### {heading}" in text


def test_documented_format_names_exist() -> None:
    text = DATA_MODEL.read_text(encoding="utf-8")
    from segmint.activation.destinations import DESTINATIONS

    named = set(re.findall(r"`((?:shopify|uci)-[a-z-]+)`", text)) - set(DESTINATIONS)
    assert named, "the imports section names the formats"
    assert named <= set(format_names())


def test_readme_gives_the_two_commands_first() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands == ["make demo", "make test"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.strip().splitlines()[-1] == "make test"
