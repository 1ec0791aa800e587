"""The feature catalog: every customer feature's name, type, group and exact definition.

The catalog is the single description of ``customer_features``: the rule language checks
attribute names and types against it, and ``docs/features.md`` is generated from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FeatureType = Literal["integer", "number", "money", "date", "string", "boolean", "list", "enum"]


@dataclass(frozen=True)
class Feature:
    """One column of ``customer_features``."""

    name: str
    type: FeatureType
    group: str
    definition: str
    #: The values an ``enum`` feature takes.
    values: tuple[str, ...] = ()


#: Filled by each feature module as it is imported, in the order the table has them.
CATALOG: dict[str, Feature] = {}


def feature(
    name: str, type: FeatureType, group: str, definition: str, values: tuple[str, ...] = ()
) -> str:
    """Register a feature in the catalog; returns its name, for use as a column name."""
    item = Feature(name, type, group, definition, values)
    if name in CATALOG and CATALOG[name] != item:
        raise ValueError(f"feature {name!r} is defined twice")
    CATALOG[name] = item
    return name


def features_markdown() -> str:
    """``docs/features.md``: every feature, grouped, with its type and definition."""
    lines = [
        "# Customer features",
        "",
        "Generated from `segmint.features.catalog` (`python -m segmint.features.docs`); do not",
        "edit by hand. Every feature is computed *as of* a date (default: the latest order",
        "date in the workspace) under the definitions of `docs/data-model.md`: only counted",
        "orders (placed, not cancelled or voided), refunds and events up to the end of that",
        "day in the workspace time zone count. Windows such as *last 30 days* are the 30 days",
        "ending with the as-of day, that day included.",
    ]
    groups: dict[str, list[Feature]] = {}
    for item in CATALOG.values():
        groups.setdefault(item.group, []).append(item)
    for group, items in groups.items():
        lines += ["", f"## {group}", "", "| feature | type | definition |", "|---|---|---|"]
        lines += [f"| `{f.name}` | {_type(f)} | {f.definition} |" for f in items]
    return "\n".join(lines) + "\n"


def _type(item: Feature) -> str:
    if item.type != "enum":
        return item.type
    return "enum: " + ", ".join(f"`{v}`" for v in item.values)
