"""``segments.yaml``: the user's segments, templates filled in, and overrides of the library.

The file lives in the workspace folder, next to the workspace file. Every key is optional::

    parameters:              # library thresholds (segmint segments parameters lists them)
      vip_spent: 1000
    rfm_grid:                # R score -> the groups of F scores 1..5 (all 25 cells)
      5: [new, potential_loyalist, potential_loyalist, champions, champions]
      ...
    guards:
      min_audience: 100           # warn when a segment has fewer customers
      max_exclusion_shrink: 0.5   # warn when exclusions remove more than this share
    segments:
      - slug: boots_fans
        name: Boots fans
        rule: "products_purchased(category: 'boots', since: -180d)"
        description: Bought boots in the last six months.
        action: New boots and care products, no discount.
        group: footwear            # optional exclusive group ...
        priority: 1                # ... in which lower priorities win
      - template: geo_country      # a library template filled in
        values: {country: CA}

Mistakes are reported with the file, the line and the segment they concern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

import segmint.features  # noqa: F401  (fills the feature catalog rules are checked against)
from segmint.errors import ConfigError, did_you_mean
from segmint.features.rfm import RFM_GRID, RFM_GROUPS
from segmint.features.rules import rule_catalog
from segmint.rules import RuleError, parse_rule
from segmint.segments.functions import MEMBER_OF, PRODUCTS_PURCHASED, member_of_targets
from segmint.segments.guards import DEFAULT_GUARDS
from segmint.segments.library import FAMILIES, LIBRARY, PARAMETERS, SLUG, SegmentDef
from segmint.segments.templates import TEMPLATES

FILE_NAME = "segments.yaml"
TOP_KEYS = ("parameters", "rfm_grid", "guards", "segments", "plays")
SEGMENT_KEYS = ("slug", "name", "rule", "description", "action", "group", "priority")
TEMPLATE_KEYS = ("template", "values", "slug", "name", "description", "action", "group", "priority")


@dataclass(frozen=True)
class SegmentConfig:
    """Every segment a refresh evaluates, and the thresholds and grid it uses."""

    segments: list[SegmentDef]
    parameters: dict[str, Any] = field(default_factory=lambda: dict(PARAMETERS))
    rfm_grid: dict[int, tuple[str, ...]] = field(default_factory=lambda: dict(RFM_GRID))
    min_audience: int = DEFAULT_GUARDS["min_audience"]
    max_exclusion_shrink: float = DEFAULT_GUARDS["max_exclusion_shrink"]
    source: Path | None = None
    #: ``plays:`` overrides by segment slug (checked by :mod:`segmint.activation.plays`).
    plays: dict[str, dict[str, Any]] = field(default_factory=dict)

    def by_slug(self) -> dict[str, SegmentDef]:
        return {s.slug: s for s in self.segments}

    def recorded(self) -> dict[str, Any]:
        """What a refresh records about its configuration."""
        return {
            "parameters": self.parameters,
            "rfm_grid": {str(r): list(row) for r, row in sorted(self.rfm_grid.items())},
            "min_audience": self.min_audience,
            "max_exclusion_shrink": self.max_exclusion_shrink,
            "source": str(self.source) if self.source else None,
        }


def default_config() -> SegmentConfig:
    """The library alone, with its default parameters and grid."""
    return SegmentConfig(segments=list(LIBRARY))


def config_path(workspace_file: Path) -> Path:
    """``segments.yaml`` in the folder of the workspace file."""
    return Path(workspace_file).resolve().parent / FILE_NAME


def load_config(workspace_file: Path) -> SegmentConfig:
    """The library plus the workspace folder's ``segments.yaml`` when there is one."""
    path = config_path(workspace_file)
    if not path.is_file():
        return default_config()
    return parse_config(path.read_text(encoding="utf-8"), path)


def save_segment(workspace_file: Path, entry: dict[str, str]) -> Path:
    """Add one segment (``slug``, ``rule`` and optional ``name``, ``description``) to the
    workspace folder's ``segments.yaml``, keeping the rest of the file as written (comments
    included); the new file is checked like any other before it replaces the old one."""
    path = config_path(workspace_file)
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    before = parse_config(text, path)
    updated = with_segment(text, entry)
    after = parse_config(updated, path)
    if len(after.segments) != len(before.segments) + 1 or entry["slug"] not in after.by_slug():
        raise ConfigError(
            f"{path}: its segments are not a block list segmint can add to",
            hint="add the segment by hand",
        )
    temporary = path.with_suffix(".yaml.tmp")
    temporary.write_text(updated, encoding="utf-8")
    temporary.replace(path)
    return path


def with_segment(text: str, entry: dict[str, str]) -> str:
    """``segments.yaml`` text with ``entry`` appended to its ``segments:`` block list (or a
    new ``segments:`` key at the end)."""
    block = yaml.safe_dump([entry], sort_keys=False, allow_unicode=True, width=1000)
    lines = text.splitlines()
    top = next((i for i, line in enumerate(lines) if _SEGMENTS_KEY.match(line)), None)
    if top is None:
        prefix = text if not text or text.endswith("\n") else text + "\n"
        return prefix + "segments:\n" + _indented(block, 2)
    end = next((j for j in range(top + 1, len(lines)) if _TOP_LEVEL.match(lines[j])), len(lines))
    while end > top + 1 and not lines[end - 1].strip():
        end -= 1
    items = [line for line in lines[top + 1 : end] if line.lstrip().startswith("- ")]
    indent = len(items[0]) - len(items[0].lstrip()) if items else 2
    added = _indented(block, indent).splitlines()
    return "\n".join([*lines[:end], *added, *lines[end:]]) + "\n"


def _indented(block: str, indent: int) -> str:
    return "".join(" " * indent + line + "\n" for line in block.splitlines())


_SEGMENTS_KEY = re.compile(r"segments\s*:\s*(#.*)?$")
_TOP_LEVEL = re.compile(r"[^\s#-]")


def parse_config(text: str, path: Path) -> SegmentConfig:
    """Check and apply one ``segments.yaml`` text (``path`` names it in messages)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(
            f"{path}{where}: not valid YAML: {getattr(exc, 'problem', exc)}"
        ) from None
    if data is None:
        return SegmentConfig(segments=list(LIBRARY), source=path)
    reader = _Reader(path, root)
    if not isinstance(data, dict):
        raise reader.error(root, "the file must be a mapping with keys " + ", ".join(TOP_KEYS))
    reader.known_keys(root, data, TOP_KEYS, "top-level key")
    parameters = reader.parameters(data.get("parameters"))
    grid = reader.rfm_grid(data.get("rfm_grid"))
    guards = reader.guards(data.get("guards"))
    user = reader.segments(data.get("segments"))
    plays = reader.plays(data.get("plays"))
    return SegmentConfig(
        segments=[*LIBRARY, *user],
        parameters=parameters,
        rfm_grid=grid,
        min_audience=guards["min_audience"],
        max_exclusion_shrink=guards["max_exclusion_shrink"],
        source=path,
        plays=plays,
    )


class _Reader:
    """Checks the parsed YAML, naming the line of each mistake (from the composed nodes)."""

    def __init__(self, path: Path, root: yaml.Node) -> None:
        self.path = path
        self.root = root

    def error(self, node: yaml.Node | None, message: str, hint: str | None = None) -> ConfigError:
        line = f", line {node.start_mark.line + 1}" if node is not None else ""
        return ConfigError(f"{self.path}{line}: {message}", hint=hint)

    def node(self, parent: yaml.Node | None, key: str | int) -> yaml.Node | None:
        """The node under ``key`` (mapping key or sequence index) of ``parent``."""
        if isinstance(parent, yaml.MappingNode):
            for k, v in parent.value:
                if str(k.value) == str(key):
                    return v
        if isinstance(parent, yaml.SequenceNode) and isinstance(key, int):
            return parent.value[key] if key < len(parent.value) else None
        return parent

    def known_keys(
        self, node: yaml.Node | None, data: dict, known: tuple[str, ...], what: str
    ) -> None:
        for key in data:
            if str(key) not in known:
                raise self.error(
                    self.node(node, key), f"unknown {what} {key!r}", did_you_mean(str(key), known)
                )

    # -- sections ------------------------------------------------------------------------
    def parameters(self, data: Any) -> dict[str, Any]:
        node = self.node(self.root, "parameters")
        values = dict(PARAMETERS)
        if data is None:
            return values
        if not isinstance(data, dict):
            raise self.error(node, "parameters must be a mapping of name: number")
        self.known_keys(node, data, tuple(PARAMETERS), "parameter")
        for name, value in data.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise self.error(
                    self.node(node, name), f"parameter {name!r} must be a non-negative number"
                )
            if isinstance(PARAMETERS[name], int) and not float(value).is_integer():
                raise self.error(self.node(node, name), f"parameter {name!r} must be whole")
            values[name] = value
        return values

    def plays(self, data: Any) -> dict[str, dict[str, Any]]:
        node = self.node(self.root, "plays")
        if data is None:
            return {}
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            raise self.error(node, "plays must map segment slugs to mappings of play fields")
        return {str(slug): dict(play) for slug, play in data.items()}

    def rfm_grid(self, data: Any) -> dict[int, tuple[str, ...]]:
        node = self.node(self.root, "rfm_grid")
        if data is None:
            return dict(RFM_GRID)
        shape = "rfm_grid maps each R score 1-5 to a list of 5 groups (F scores 1-5)"
        if not isinstance(data, dict) or sorted(map(str, data)) != ["1", "2", "3", "4", "5"]:
            raise self.error(node, shape)
        grid: dict[int, tuple[str, ...]] = {}
        for r, row in data.items():
            row_node = self.node(node, r)
            if not isinstance(row, list) or len(row) != 5:
                raise self.error(row_node, f"R = {r}: {shape}")
            for group in row:
                if group not in RFM_GROUPS:
                    raise self.error(
                        row_node,
                        f"R = {r}: unknown RFM group {group!r}; groups: {', '.join(RFM_GROUPS)}",
                        did_you_mean(str(group), RFM_GROUPS),
                    )
            grid[int(r)] = tuple(row)
        return grid

    def guards(self, data: Any) -> dict[str, Any]:
        node = self.node(self.root, "guards")
        values = dict(DEFAULT_GUARDS)
        if data is None:
            return values
        if not isinstance(data, dict):
            raise self.error(node, "guards must be a mapping")
        self.known_keys(node, data, tuple(DEFAULT_GUARDS), "guard")
        minimum = data.get("min_audience", values["min_audience"])
        if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 0:
            raise self.error(self.node(node, "min_audience"), "min_audience must be a whole number")
        shrink = data.get("max_exclusion_shrink", values["max_exclusion_shrink"])
        if isinstance(shrink, bool) or not isinstance(shrink, int | float) or not 0 <= shrink <= 1:
            raise self.error(
                self.node(node, "max_exclusion_shrink"),
                "max_exclusion_shrink must be a share between 0 and 1",
            )
        return {"min_audience": minimum, "max_exclusion_shrink": float(shrink)}

    def segments(self, data: Any) -> list[SegmentDef]:
        node = self.node(self.root, "segments")
        if data is None:
            return []
        if not isinstance(data, list):
            raise self.error(node, "segments must be a list")
        taken = {s.slug: "the library" for s in LIBRARY}
        found = []
        nodes = []
        for i, entry in enumerate(data):
            entry_node = self.node(node, i)
            segment = self.segment(entry, entry_node)
            if segment.slug in taken:
                raise self.error(
                    entry_node,
                    f"segment slug {segment.slug!r} is already used by {taken[segment.slug]}",
                    "slugs are unique across the library and segments.yaml",
                )
            if segment.family in FAMILIES:
                raise self.error(
                    entry_node,
                    f"segment {segment.slug!r}: group {segment.family!r} is a library family",
                    "use a group name of your own",
                )
            taken[segment.slug] = f"the segment on line {entry_node.start_mark.line + 1}"
            found.append(segment)
            nodes.append(entry_node)
        self.check_priorities(found, nodes)
        for segment, entry_node in zip(found, nodes, strict=True):
            self.check_rule(segment, entry_node, list(taken))
        return found

    def check_rule(self, segment: SegmentDef, node: yaml.Node, slugs: list[str]) -> None:
        """Parse and type-check the rule now, so a mistake names the file and line."""
        where = f"{self.path}, line {node.start_mark.line + 1}, segment {segment.slug!r}"
        try:
            rule = parse_rule(segment.rule, rule_catalog((PRODUCTS_PURCHASED, MEMBER_OF)))
            member_of_targets(rule, segment.rule, slugs)
        except RuleError as exc:
            raise type(exc)(
                f"{where}: {exc.message}", exc.position, segment.rule, exc.hint
            ) from None

    def segment(self, entry: Any, node: yaml.Node) -> SegmentDef:
        if not isinstance(entry, dict):
            raise self.error(node, "each segment is a mapping with slug, name and rule")
        if "template" in entry:
            self.known_keys(node, entry, TEMPLATE_KEYS, "template segment key")
            return self.from_template(entry, node)
        self.known_keys(node, entry, SEGMENT_KEYS, "segment key")
        for key in ("slug", "rule"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise self.error(node, f"segment needs a {key}")
        return self.build(entry, node, entry["rule"], origin="user")

    def from_template(self, entry: dict, node: yaml.Node) -> SegmentDef:
        name = entry["template"]
        if name not in TEMPLATES:
            raise self.error(
                self.node(node, "template"),
                f"unknown template {name!r}; templates: {', '.join(TEMPLATES)}",
                did_you_mean(str(name), tuple(TEMPLATES)),
            )
        template = TEMPLATES[name]
        values = entry.get("values")
        if not isinstance(values, dict) or set(map(str, values)) != set(template.fields):
            raise self.error(
                node, f"template {name!r} needs values for: {', '.join(template.fields)}"
            )
        values = {str(k): str(v) for k, v in values.items()}
        filled = template.fill(values)
        merged = {
            "slug": filled.slug,
            "name": filled.name,
            "description": filled.description,
            "action": filled.action,
            **{k: v for k, v in entry.items() if k not in ("template", "values")},
        }
        return self.build(merged, node, filled.rule, origin=f"template:{name}")

    def build(self, entry: dict, node: yaml.Node, rule: str, origin: str) -> SegmentDef:
        slug = str(entry["slug"])
        if not SLUG.match(slug):
            raise self.error(self.node(node, "slug"), f"segment slug {slug!r} is not a-z0-9_")
        group = entry.get("group")
        priority = entry.get("priority", 0)
        if group is not None and (not isinstance(group, str) or not SLUG.match(group)):
            raise self.error(self.node(node, "group"), f"group {group!r} is not a-z0-9_")
        if isinstance(priority, bool) or not isinstance(priority, int):
            raise self.error(self.node(node, "priority"), "priority must be a whole number")
        return SegmentDef(
            slug=slug,
            name=str(entry.get("name") or slug),
            rule=rule,
            description=str(entry.get("description") or ""),
            action=str(entry.get("action") or ""),
            family=group,
            priority=priority,
            origin=origin,
        )

    def check_priorities(self, segments: list[SegmentDef], nodes: list[yaml.Node]) -> None:
        seen: dict[tuple[str, int], str] = {}
        for segment, node in zip(segments, nodes, strict=True):
            if segment.family is None:
                continue
            key = (segment.family, segment.priority)
            if key in seen:
                raise self.error(
                    node,
                    f"segments {seen[key]!r} and {segment.slug!r} share priority "
                    f"{segment.priority} in group {segment.family!r}",
                    "give each segment of a group its own priority",
                )
            seen[key] = segment.slug
