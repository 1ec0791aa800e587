"""Why a customer is where they are: their segments and the feature values their rules read.

Rules are the ones the latest refresh evaluated (``segment_versions.rule``), so thresholds and
store statistics are those that placed the customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from segmint.features.tables import Tables, stored_features
from segmint.rules import attributes, function_calls, parse_rule, to_text
from segmint.segments import latest_as_of, latest_versions
from segmint.segments.functions import rule_context
from segmint.store import Store

#: Features shown with an attribute because it is derived from them.
DERIVED_FROM = {
    "rfm_group": ("r_score", "f_score", "days_since_last_order", "number_of_orders"),
    "rfm_cell": ("r_score", "f_score", "m_score"),
}


def _shown_attributes(names: list[str]) -> list[str]:
    """The rule's attributes, each followed by the features it is derived from."""
    return list(dict.fromkeys(n for name in names for n in (name, *DERIVED_FROM.get(name, ()))))


@dataclass(frozen=True)
class SegmentReason:
    segment: str
    name: str
    family: str | None
    rule: str
    values: dict[str, Any]  # each attribute the rule reads -> the customer's value
    calls: list[str]  # functions the rule calls (products_purchased(...), member_of(...))

    def as_dict(self) -> dict[str, Any]:
        return {
            "segment": self.segment,
            "name": self.name,
            "family": self.family,
            "rule": self.rule,
            "values": self.values,
            "calls": self.calls,
        }


@dataclass(frozen=True)
class Explanation:
    customer_id: str
    as_of: date
    segments: list[SegmentReason]


def explain(store: Store, customer_id: str) -> Explanation:
    """The segments ``customer_id`` is in as of the latest refresh, and why."""
    as_of = latest_as_of(store)
    features = stored_features(store)
    row = features.filter(features.customer_id == customer_id).to_pyarrow().to_pylist()
    values = row[0] if row else {}
    members = store.table("segment_members")
    mine = members.filter(members.customer_id == customer_id).select("segment")
    versions = latest_versions(store)
    chosen = versions.join(mine, "segment").select("segment", "name", "family", "rule", "priority")
    order = {slug: i for i, slug in enumerate(versions.segment.to_pyarrow().to_pylist())}
    rows = sorted(chosen.to_pyarrow().to_pylist(), key=lambda r: order[r["segment"]])
    catalog, _ = rule_context(Tables.of(store), as_of)
    reasons = []
    for r in rows:
        rule = parse_rule(r["rule"], catalog)
        reasons.append(
            SegmentReason(
                segment=r["segment"],
                name=r["name"],
                family=r["family"],
                rule=r["rule"],
                values={name: values.get(name) for name in _shown_attributes(attributes(rule))},
                calls=[to_text(call) for call in function_calls(rule)],
            )
        )
    return Explanation(customer_id=customer_id, as_of=as_of, segments=reasons)
