"""Segment memberships: every segment evaluated over one refresh's features.

Segments of one exclusive group (a library family, or a ``group`` of ``segments.yaml``) keep
each customer in the first segment of the group, in priority order, whose rule they meet;
other segments keep everyone who meets their rule. ``member_of('slug')`` means membership
after the named segment's group has been applied. Segments are resolved in dependency order
(``member_of`` references and earlier segments of the same group); a cycle is an error.
"""

from __future__ import annotations

import graphlib
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Any

import ibis
import ibis.expr.types as ir

from segmint.errors import ConfigError
from segmint.features.tables import Tables
from segmint.rules import RuleError, compile_rule, parse_rule
from segmint.rules import ast as A
from segmint.segments.functions import MEMBER_OF, member_of_targets, rule_context
from segmint.segments.library import SegmentDef


@dataclass(frozen=True)
class Resolved:
    """Each segment's membership as a boolean over the features table.

    ``final``: the membership (group exclusions applied); ``before_exclusions``: for segments
    that exclude anyone (later segments of a user's group, ``AND NOT member_of(...)`` terms),
    the audience their own rule describes without those exclusions. A library family's later
    rules are written as "the rest" (``value_low``: any order), so they have none.
    """

    rules: dict[str, str]
    final: dict[str, ir.BooleanValue]
    before_exclusions: dict[str, ir.BooleanValue]
    raw: dict[str, ir.BooleanValue]  # each rule alone, no group exclusions

    def segment_of(self, family: list[SegmentDef]) -> ir.StringValue:
        """The slug of the segment of an exclusive ``family`` each customer is in (empty for
        none), as one column over the features table: no member rows, no join.

        In priority order a ``CASE`` over the rules alone already excludes the earlier
        segments (the first rule that holds wins), so the exclusions are not repeated."""
        ranked = all(a.priority <= b.priority for a, b in pairwise(family))
        rules = self.raw if ranked else self.final
        cases = [(rules[s.slug], s.slug) for s in family]
        return ibis.cases(*cases, else_=ibis.null("string"))


def resolve(
    segments: list[SegmentDef],
    features: ir.Table,
    tables: Tables,
    as_of: date,
    values: dict[str, Any],
) -> Resolved:
    """Compile every segment over ``features`` in dependency order."""
    catalog, functions = rule_context(tables, as_of)
    rules = {s.slug: s.rule_text(values) for s in segments}
    parsed = {s.slug: _parse(s, rules[s.slug], catalog) for s in segments}
    earlier = _group_predecessors(segments)
    by_slug = {s.slug: s for s in segments}
    order = dependency_order(segments, parsed, earlier, rules)
    raw: dict[str, ir.BooleanValue] = {}
    final: dict[str, ir.BooleanValue] = {}
    before: dict[str, ir.BooleanValue] = {}
    calls = {**functions, MEMBER_OF.name: lambda args, table: final[args["segment"]]}
    for slug in order:
        raw[slug] = _compile(slug, rules[slug], parsed[slug], features, catalog, as_of, calls)
        excluded = [raw[q] for q in earlier[slug]]
        final[slug] = raw[slug] & ~ibis.or_(*excluded) if excluded else raw[slug]
        unexcluded = _without_exclusions(parsed[slug])
        if unexcluded is not None:
            before[slug] = compile_rule(unexcluded, features, catalog, as_of, calls)
        elif excluded and not by_slug[slug].built_in:
            before[slug] = raw[slug]
    return Resolved(rules=rules, final=final, before_exclusions=before, raw=raw)


#: Column prefix, in the flags table, of each excluding segment's audience before exclusions.
BEFORE = "_before__"


def membership_flags(
    segments: list[SegmentDef],
    features: ir.Table,
    tables: Tables,
    as_of: date,
    values: dict[str, Any],
) -> tuple[ir.Table, Resolved]:
    """One row per customer: ``customer_id``, one boolean column per segment slug, and one
    ``_before__<slug>`` column per excluding segment; computed in one pass over the features.
    """
    resolved = resolve(segments, features, tables, as_of, values)
    flags = features.select(
        "customer_id",
        **{s.slug: resolved.final[s.slug] for s in segments},
        **{BEFORE + slug: expr for slug, expr in resolved.before_exclusions.items()},
    )
    return flags, resolved


def members_from_flags(flags: ir.Table, segments: list[SegmentDef]) -> ir.Table:
    """``customer_id, segment, family`` for every true flag."""
    parts = [
        flags.filter(flags[s.slug]).select(
            "customer_id",
            segment=ibis.literal(s.slug),
            family=ibis.literal(s.family, type="string"),
        )
        for s in segments
    ]
    return ibis.union(*parts)


def audiences_before_exclusions(flags: ir.Table) -> dict[str, int]:
    """How many customers each excluding segment's own rule describes."""
    columns = [c for c in flags.columns if c.startswith(BEFORE)]
    if not columns:
        return {}
    row = flags.aggregate(**{c: flags[c].cast("int64").sum() for c in columns})
    counts = row.to_pyarrow().to_pylist()[0]
    return {c.removeprefix(BEFORE): int(counts[c] or 0) for c in columns}


def dependency_order(
    segments: list[SegmentDef],
    parsed: dict[str, A.Expr],
    earlier: dict[str, list[str]],
    rules: dict[str, str],
) -> list[str]:
    """Slugs so that every segment comes after those it depends on; cycles are refused."""
    slugs = [s.slug for s in segments]
    graph: dict[str, list[str]] = {}
    for segment in segments:
        slug = segment.slug
        try:
            references = member_of_targets(parsed[slug], rules[slug], slugs)
        except RuleError as exc:
            raise _for_segment(exc, slug, rules[slug]) from None
        graph[slug] = [*earlier[slug], *references]
    try:
        return list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        cycle = exc.args[1]
        raise ConfigError(
            "segments refer to each other in a cycle: " + " -> ".join(reversed(cycle)),
            hint="a segment may use member_of() only on segments that do not depend on it, "
            "and not on later segments of its own group",
        ) from None


def _group_predecessors(segments: list[SegmentDef]) -> dict[str, list[str]]:
    """For each segment, the segments of its group with a lower priority."""
    return {
        s.slug: [
            o.slug
            for o in segments
            if s.family is not None and o.family == s.family and o.priority < s.priority
        ]
        for s in segments
    }


def _parse(segment: SegmentDef, rule: str, catalog: Any) -> A.Expr:
    try:
        return parse_rule(rule, catalog)
    except RuleError as exc:
        raise _for_segment(exc, segment.slug, rule) from None


def _compile(
    slug: str,
    rule: str,
    node: A.Expr,
    features: ir.Table,
    catalog: Any,
    as_of: date,
    calls: dict[str, Any],
) -> ir.BooleanValue:
    try:
        return compile_rule(rule, features, catalog, as_of, calls)
    except RuleError as exc:
        raise _for_segment(exc, slug, rule) from None


def _for_segment(exc: RuleError, slug: str, rule: str) -> RuleError:
    """The same error, naming the segment."""
    return type(exc)(f"segment {slug!r}: {exc.message}", exc.position, rule, exc.hint)


def _conjuncts(node: A.Expr) -> list[A.Expr]:
    if isinstance(node, A.And):
        return [*_conjuncts(node.left), *_conjuncts(node.right)]
    return [node]


def _is_exclusion(node: A.Expr) -> bool:
    """``NOT member_of(...)``."""
    return (
        isinstance(node, A.Not)
        and isinstance(node.operand, A.FunctionCall)
        and node.operand.name == MEMBER_OF.name
    )


def _without_exclusions(node: A.Expr) -> A.Expr | None:
    """The rule without its top-level ``AND NOT member_of(...)`` terms; None when it has none
    (or consists of nothing else)."""
    terms = _conjuncts(node)
    kept = [t for t in terms if not _is_exclusion(t)]
    if len(kept) == len(terms) or not kept:
        return None
    rule = kept[0]
    for term in kept[1:]:
        rule = A.And(rule, term)
    return rule
