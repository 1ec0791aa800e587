"""The catalog interface the rule language compiles against.

The feature catalog (``segmint.features``) builds a :class:`Catalog`; the rule language only
relies on what is defined here:

- :class:`Attribute`: a column of the features table, with its type and, for enums, the allowed
  values;
- :class:`Alias`: another name for an attribute (Shopify's names), with an optional mapping of
  enum values and ``scalar_list``: the alias is a list attribute in Shopify (``customer_countries``)
  but the target is a single string (``country``), so ``CONTAINS 'US'`` means ``country = 'US'``;
- :class:`FunctionSpec` / :class:`Param`: predicate functions such as ``products_purchased`` and
  ``member_of``, their parameters, the parameter names other dialects use (Shopify's ``date``) and
  how an operator in the ``MATCHES (date > -90d)`` form maps to a parameter.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

AttributeType = Literal["number", "integer", "money", "date", "string", "boolean", "list", "enum"]
ATTRIBUTE_TYPES: tuple[str, ...] = (
    "number",
    "integer",
    "money",
    "date",
    "string",
    "boolean",
    "list",
    "enum",
)
ParamType = Literal["number", "integer", "money", "date", "string", "boolean"]


def enum_key(value: str) -> str:
    """Comparison key for enum values: case, spaces, underscores and punctuation do not count.

    ``'SUBSCRIBED'``, ``'subscribed'`` and ``'Subscribed'`` are the same value, and so are
    ``'CANT_LOSE_THEM'`` and ``"Can't Lose Them"``.
    """
    return re.sub(r"[^0-9a-z]", "", value.lower())


@dataclass(frozen=True)
class Attribute:
    """One column of the features table that rules can name."""

    name: str
    type: AttributeType
    values: tuple[str, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        if self.type not in ATTRIBUTE_TYPES:
            raise ValueError(f"attribute {self.name!r}: unknown type {self.type!r}")

    def canonical_value(self, value: str) -> str | None:
        """The allowed enum value ``value`` stands for, or None when it is not allowed."""
        if not self.values:
            return value
        key = enum_key(value)
        for allowed in self.values:
            if enum_key(allowed) == key:
                return allowed
        return None


@dataclass(frozen=True)
class Alias:
    """Another name for ``target``; ``values`` maps the alias's enum spellings to the target's."""

    target: str
    values: Mapping[str, str] = field(default_factory=dict)
    scalar_list: bool = False

    def map_value(self, value: str) -> str:
        for written, mapped in self.values.items():
            if enum_key(written) == enum_key(value):
                return mapped
        return value


@dataclass(frozen=True)
class Param:
    """A function parameter. ``many``: it also accepts a parenthesised list of values."""

    name: str
    type: ParamType
    aliases: tuple[str, ...] = ()
    positional: bool = False
    required: bool = False
    many: bool = False


@dataclass(frozen=True)
class FunctionSpec:
    """A predicate function.

    ``op_params`` maps ``(written name, operator)`` of the ``MATCHES`` form to a parameter, e.g.
    ``("date", ">"): "since"``. ``:`` (call form) and ``=`` (``MATCHES`` form) name the parameter
    itself or one of its aliases.
    """

    name: str
    params: tuple[Param, ...]
    op_params: Mapping[tuple[str, str], str] = field(default_factory=dict)
    description: str = ""

    def param(self, name: str) -> Param | None:
        for p in self.params:
            if p.name == name or name in p.aliases:
                return p
        return None

    def positional_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.positional)

    def written_names(self) -> list[str]:
        names = [p.name for p in self.params]
        for p in self.params:
            names.extend(p.aliases)
        names.extend(name for name, _ in self.op_params)
        return names


class Catalog(Mapping[str, Attribute]):
    """Attributes by name, plus aliases (other dialects' names) and functions."""

    def __init__(
        self,
        attributes: Iterable[Attribute],
        aliases: Mapping[str, str | Alias] | None = None,
        functions: Iterable[FunctionSpec] = (),
    ) -> None:
        self._attributes: dict[str, Attribute] = {}
        for attribute in attributes:
            if attribute.name in self._attributes:
                raise ValueError(f"attribute {attribute.name!r} is defined twice")
            self._attributes[attribute.name] = attribute
        self.aliases: dict[str, Alias] = {}
        for name, alias in (aliases or {}).items():
            alias = Alias(alias) if isinstance(alias, str) else alias
            if alias.target not in self._attributes:
                raise ValueError(f"alias {name!r} points to unknown attribute {alias.target!r}")
            self.aliases[name] = alias
        self.functions: dict[str, FunctionSpec] = {f.name: f for f in functions}

    def __getitem__(self, name: str) -> Attribute:
        return self._attributes[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._attributes)

    def __len__(self) -> int:
        return len(self._attributes)

    def resolve(self, name: str) -> tuple[Attribute, Alias | None] | None:
        """The attribute ``name`` refers to (directly or through an alias), or None."""
        if name in self._attributes:
            alias = self.aliases.get(name)
            if alias is not None and alias.target == name:
                return self._attributes[name], alias
            return self._attributes[name], None
        alias = self.aliases.get(name)
        if alias is not None:
            return self._attributes[alias.target], alias
        return None

    def suggest(self, name: str) -> str | None:
        """The nearest attribute, alias or function name to ``name`` (difflib), or None."""
        names = list(self._attributes) + list(self.aliases) + list(self.functions)
        lowered = {n.lower(): n for n in names}
        if name.lower() in lowered:
            return lowered[name.lower()]
        matches = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        return matches[0] if matches else None
