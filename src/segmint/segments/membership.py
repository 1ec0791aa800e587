"""Segment memberships: every library segment evaluated over one refresh's features.

Exclusive families keep each customer in the first segment of the family, in priority
order, whose rule they meet; segments outside a family keep everyone who meets their rule.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir

from segmint.features.rfm import nearest_rank_cut_points
from segmint.features.tables import Tables
from segmint.rules import compile_rule, parse_rule
from segmint.segments.functions import rule_context
from segmint.segments.library import LIBRARY, PARAMETERS, SegmentDef, rule_values


def store_statistics(features: ir.Table) -> dict[str, float]:
    """Averages and net-sales percentiles among customers with orders."""
    buyers = features.filter(features.number_of_orders > 0)
    means = (
        buyers.aggregate(
            avg_aov=buyers.aov.cast("float64").mean(),
            avg_amount_spent=buyers.amount_spent.cast("float64").mean(),
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    p95, p75, p50 = nearest_rank_cut_points(
        buyers.net_sales.cast("float64"), (0.95, 0.75, 0.5)
    ) or (
        0.0,
        0.0,
        0.0,
    )
    return {
        "avg_aov": round(means["avg_aov"] or 0.0, 2),
        "avg_amount_spent": round(means["avg_amount_spent"] or 0.0, 2),
        "net_sales_p95": p95,
        "net_sales_p75": p75,
        "net_sales_p50": p50,
    }


def memberships(
    features: ir.Table,
    tables: Tables,
    as_of: date,
    segments: list[SegmentDef] = LIBRARY,
    values: dict[str, Any] | None = None,
) -> tuple[ir.Table, dict[str, str]]:
    """``customer_id, segment, family`` for every membership, and each segment's rule text."""
    values = values or rule_values(PARAMETERS, store_statistics(features))
    catalog, functions = rule_context(tables, as_of)
    rules = {s.slug: s.rule_text(values) for s in segments}
    parts = []
    for segment in segments:
        rule = parse_rule(rules[segment.slug], catalog)
        matched = features.filter(compile_rule(rule, features, catalog, as_of, functions))
        parts.append(
            matched.select(
                "customer_id",
                segment=ibis.literal(segment.slug),
                family=ibis.literal(segment.family, type="string"),
                priority=ibis.literal(segment.priority),
            )
        )
    everyone = ibis.union(*parts)
    first = ibis.row_number().over(
        group_by=[everyone.customer_id, everyone.family], order_by=everyone.priority
    )
    ranked = everyone.mutate(_rank=first)
    kept = ranked.filter(ranked.family.isnull() | (ranked._rank == 0))
    return kept.select("customer_id", "segment", "family"), rules
