"""Segments: rules over the stored customer features, as of the latest refresh.

``preview`` evaluates a rule without saving it (``segmint segments preview``);
``segment_sizes`` reports every stored segment (``segmint segments list``). The library is in
:mod:`segmint.segments.library`, the user's ``segments.yaml`` in :mod:`.config`, and
memberships are computed by :mod:`.membership` during a refresh.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import ibis
import ibis.expr.types as ir

from segmint.features.tables import Tables, stored_features
from segmint.rules import attributes, compile_rule, parse_rule
from segmint.segments.functions import member_of_targets, rule_context, stored_member_of
from segmint.segments.guards import DEFAULT_GUARDS, GuardWarning, audience_warnings
from segmint.store import Store

#: Columns every preview shows before the rule's own attributes.
PREVIEW_COLUMNS = ("customer_id", "number_of_orders", "amount_spent")


@dataclass(frozen=True)
class Preview:
    """The members of a rule as of the latest refresh."""

    rule: str
    as_of: date
    members: ir.Table  # customer_id, PREVIEW_COLUMNS and the attributes the rule reads
    customers: int


def latest_refresh(store: Store) -> dict:
    """The ``refreshes`` row of the latest refresh."""
    stored_features(store)
    refreshes = store.table("refreshes")
    return refreshes.order_by(refreshes.refresh_id.desc()).limit(1).to_pyarrow().to_pylist()[0]


def latest_as_of(store: Store) -> date:
    """The as-of day of the latest refresh."""
    return latest_refresh(store)["as_of"]


def preview(store: Store, rule: str) -> Preview:
    """Evaluate ``rule`` against the latest refresh without saving it."""
    as_of = latest_as_of(store)
    members_table = store.table("segment_members")
    catalog, functions = rule_context(Tables.of(store), as_of, stored_member_of(members_table))
    checked = parse_rule(rule, catalog)
    member_of_targets(checked, rule, stored_segments(store))
    features = stored_features(store)
    members = features.filter(compile_rule(checked, features, catalog, as_of, functions))
    shown = list(dict.fromkeys([*PREVIEW_COLUMNS, *sorted(attributes(checked))]))
    total = int(features.count().to_pyarrow().as_py())
    return Preview(rule=rule, as_of=as_of, members=members.select(*shown), customers=total)


def stored_segments(store: Store) -> list[str]:
    """The slugs of the latest refresh's segments, in the order it evaluated them."""
    return latest_versions(store).segment.to_pyarrow().to_pylist()


def stored_warnings(store: Store) -> list[GuardWarning]:
    """The audience warnings of the latest refresh, with the guards it recorded."""
    recorded = latest_refresh(store)["configuration"]
    configuration = json.loads(recorded) if recorded else {}
    rows = latest_versions(store).to_pyarrow().to_pylist()
    return audience_warnings(
        [r["segment"] for r in rows],
        {r["segment"]: r["customers"] or 0 for r in rows},
        {r["segment"]: r["customers_before_exclusions"] for r in rows},
        configuration.get("min_audience", DEFAULT_GUARDS["min_audience"]),
        configuration.get("max_exclusion_shrink", DEFAULT_GUARDS["max_exclusion_shrink"]),
    )


def latest_versions(store: Store) -> ir.Table:
    versions = store.table("segment_versions")
    return versions.filter(versions.refresh_id == versions.refresh_id.max())


def segment_sizes(store: Store) -> ir.Table:
    """Every segment of the latest refresh: customers, share of customers, share of revenue.

    Revenue is ``amount_spent``; shares are of all customers and of all amount spent.
    """
    features = stored_features(store)
    members = store.table("segment_members")
    latest = latest_versions(store)
    totals = features.aggregate(
        all_customers=features.count(), all_spent=features.amount_spent.sum()
    )
    spent = members.join(features.select("customer_id", "amount_spent"), "customer_id")
    sizes = spent.group_by("segment").aggregate(
        _members=spent.count(), _spent=spent.amount_spent.sum()
    )
    joined = latest.left_join(sizes, "segment").cross_join(totals)
    customers = joined._members.fill_null(0)
    return joined.select(
        "segment",
        "name",
        "family",
        "version",
        customers=customers,
        share_of_customers=(customers / joined.all_customers).round(4),
        share_of_revenue=ibis.ifelse(
            joined.all_spent > 0, joined._spent.fill_null(0) / joined.all_spent, 0
        )
        .cast("float64")
        .round(4),
        customers_before_exclusions=joined.customers_before_exclusions,
    )
