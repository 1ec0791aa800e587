"""The rule AST: frozen dataclasses. ``pos`` (offset into the rule text) never takes part in
equality, so a rule and its printed form compare equal."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from typing import Literal, Union

ComparisonOp = Literal["=", "!=", "<", "<=", ">", ">="]
COMPARISON_OPS: tuple[str, ...] = ("=", "!=", "<", "<=", ">", ">=")
ArgOp = Literal[":", "=", "!=", "<", "<=", ">", ">="]
DateUnit = Literal["d", "w", "m", "y"]


def _pos() -> int:
    return field(default=0, compare=False, repr=False)


# ---------------------------------------------------------------- values
@dataclass(frozen=True)
class Number:
    value: Decimal
    pos: int = _pos()


@dataclass(frozen=True)
class String:
    value: str
    pos: int = _pos()


@dataclass(frozen=True)
class Boolean:
    value: bool
    pos: int = _pos()


@dataclass(frozen=True)
class DateLiteral:
    """An absolute date, written ``YYYY-MM-DD``."""

    value: date
    pos: int = _pos()


@dataclass(frozen=True)
class RelativeDate:
    """``-90d``: ``amount`` units before the as-of day (``amount`` is positive)."""

    amount: int
    unit: DateUnit
    pos: int = _pos()


@dataclass(frozen=True)
class Today:
    pos: int = _pos()


Literal_ = Union[Number, String, Boolean, DateLiteral, RelativeDate, Today]  # noqa: UP007


# ---------------------------------------------------------------- conditions
@dataclass(frozen=True)
class Attr:
    name: str
    pos: int = _pos()


@dataclass(frozen=True)
class Comparison:
    attr: Attr
    op: ComparisonOp
    value: Literal_
    pos: int = _pos()


@dataclass(frozen=True)
class Between:
    attr: Attr
    low: Literal_
    high: Literal_
    negated: bool = False
    pos: int = _pos()


@dataclass(frozen=True)
class InList:
    attr: Attr
    values: tuple[Literal_, ...]
    negated: bool = False
    pos: int = _pos()


@dataclass(frozen=True)
class IsNull:
    attr: Attr
    negated: bool = False
    pos: int = _pos()


@dataclass(frozen=True)
class Contains:
    attr: Attr
    value: Literal_
    negated: bool = False
    pos: int = _pos()


@dataclass(frozen=True)
class Arg:
    """A function argument: ``name: value`` (op ``:``), ``name = value`` / ``name > value`` in
    the ``MATCHES`` form, or a positional value (``name`` None, op ``:``). ``value`` is a literal
    or a tuple of literals (``id: (1, 2)``)."""

    name: str | None
    op: ArgOp
    value: Literal_ | tuple[Literal_, ...]
    pos: int = _pos()


@dataclass(frozen=True)
class FunctionCall:
    """``name(args)`` (``matches`` False) or ``name MATCHES (args)`` (``matches`` True)."""

    name: str
    args: tuple[Arg, ...]
    matches: bool = False
    pos: int = _pos()


@dataclass(frozen=True)
class Not:
    operand: Expr
    pos: int = _pos()


@dataclass(frozen=True)
class And:
    left: Expr
    right: Expr
    pos: int = _pos()


@dataclass(frozen=True)
class Or:
    left: Expr
    right: Expr
    pos: int = _pos()


Predicate = Union[Comparison, Between, InList, IsNull, Contains, FunctionCall]  # noqa: UP007
Expr = Union[Predicate, Not, And, Or]  # noqa: UP007


def walk(node: object) -> Iterator[object]:
    """Every AST node under ``node`` (itself included), depth first, left to right."""
    yield node
    if not hasattr(node, "__dataclass_fields__"):
        return
    for f in fields(node):  # type: ignore[arg-type]
        child = getattr(node, f.name)
        if isinstance(child, tuple):
            for item in child:
                yield from walk(item)
        elif hasattr(child, "__dataclass_fields__"):
            yield from walk(child)


def function_calls(node: Expr, name: str | None = None) -> list[FunctionCall]:
    """The function calls in a rule (``name`` given: only those), e.g. to find ``member_of``
    references when ordering segments."""
    return [
        n for n in walk(node) if isinstance(n, FunctionCall) and (name is None or n.name == name)
    ]


def attributes(node: Expr) -> list[str]:
    """The attribute names a rule mentions, in order, without repeats."""
    seen: dict[str, None] = {}
    for n in walk(node):
        if isinstance(n, Attr):
            seen.setdefault(n.name)
    return list(seen)
