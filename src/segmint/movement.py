"""``segmint movement``: how customers moved between the segments of an exclusive family.

For two observed days of the history (:mod:`segmint.history`), every customer in the family
on either day is counted once, in the cell of their segment on the first day (row) and on
the second (column); ``(none)`` is no segment of the family (or not a customer yet). Each
cell also carries the revenue of its customers between the two days: the change in their
amount spent (``docs/data-model.md``). Rows sum to the sizes on the first day, columns to the
sizes on the second.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import ibis
import ibis.expr.types as ir

from segmint.definitions import customer_value
from segmint.errors import ConfigError, did_you_mean
from segmint.history import INTERVALS, members_on
from segmint.schema import MONEY
from segmint.store import Store

NONE = "(none)"

#: The flows marketers watch, and what they call them.
NAMED_FLOWS: dict[tuple[str, str], str] = {
    ("rfm_champions", "rfm_at_risk"): "Champions lost to At Risk",
    ("rfm_champions", "rfm_cant_lose_them"): "Champions lost to Can't Lose Them",
    ("rfm_champions", "rfm_need_attention"): "Champions cooling to Need Attention",
    ("rfm_loyal", "rfm_at_risk"): "Loyal customers slipping to At Risk",
    ("rfm_loyal", "rfm_champions"): "Loyal customers who became Champions",
    ("rfm_new", "rfm_loyal"): "New customers who became Loyal",
    ("rfm_new", "rfm_potential_loyalist"): "New customers on their way to Loyal",
    ("rfm_new", "rfm_champions"): "New customers who became Champions",
    ("rfm_potential_loyalist", "rfm_loyal"): "Potential Loyalists who became Loyal",
    ("rfm_promising", "rfm_loyal"): "Promising customers who became Loyal",
    ("rfm_at_risk", "rfm_champions"): "At Risk won back to Champions",
    ("rfm_at_risk", "rfm_loyal"): "At Risk won back to Loyal",
    ("rfm_at_risk", "rfm_lost"): "At Risk lost",
    ("rfm_cant_lose_them", "rfm_lost"): "Can't Lose Them lost",
    ("lifecycle_subscribed_no_purchase", "lifecycle_first_time"): "Subscribers who first bought",
    ("lifecycle_first_time", "lifecycle_repeat"): "First-time buyers who came back",
    ("lifecycle_repeat", "lifecycle_at_risk_loyal"): "Repeat buyers now at risk",
    ("lifecycle_at_risk_loyal", "lifecycle_repeat"): "At-risk loyal customers won back",
    ("lifecycle_at_risk_loyal", "lifecycle_dormant"): "At-risk loyal customers gone dormant",
    ("lifecycle_repeat", "lifecycle_dormant"): "Repeat buyers gone dormant",
    ("lifecycle_dormant", "lifecycle_lost"): "Dormant customers lost",
    ("lifecycle_dormant", "lifecycle_repeat"): "Dormant customers reactivated",
    ("lifecycle_lost", "lifecycle_repeat"): "Lost customers reactivated",
    ("value_vip", "value_high"): "VIPs downgraded to High value",
    ("value_high", "value_vip"): "High-value customers who became VIPs",
    ("value_medium", "value_high"): "Medium-value customers who moved up",
    ("engagement_highly_engaged", "engagement_low_engaged"): "Highly engaged gone quiet",
    ("engagement_low_engaged", "engagement_highly_engaged"): "Low engaged re-engaged",
}


@dataclass(frozen=True)
class Movement:
    """The flows of a family between two observed days."""

    group: str
    start: date
    end: date
    flows: list[dict]  # from_segment, to_segment, customers, share_of_from, revenue, flow

    def matrix(self, value: str = "customers") -> list[dict]:
        """One row per first-day segment, one column per second-day segment, of ``value``
        (``customers`` or ``revenue``), with the row totals."""
        rows = _ordered({f["from_segment"] for f in self.flows})
        columns = _ordered({f["to_segment"] for f in self.flows})
        cells = {(f["from_segment"], f["to_segment"]): f[value] for f in self.flows}
        zero = 0 if value == "customers" else 0.0
        table = []
        for row in rows:
            values = {c: cells.get((row, c), zero) for c in columns}
            table.append({"from \\ to": row, **values, "total": sum(values.values())})
        return table

    def named_flows(self) -> list[dict]:
        """The flows with a name (:data:`NAMED_FLOWS`) that happened, most revenue first."""
        named = [f for f in self.flows if f["flow"] and f["customers"]]
        return sorted(named, key=lambda f: (-f["revenue"], -f["customers"]))


def _ordered(segments: set[str]) -> list[str]:
    return sorted(segments, key=lambda s: (s == NONE, s))


def family_groups(store: Store) -> list[str]:
    """The exclusive families and groups the history has seen."""
    intervals = store.table(INTERVALS)
    families = intervals.filter(intervals.family.notnull() & (intervals.family != ""))
    found = store.run(families.select("family").distinct().order_by("family"))
    return found.column("family").to_pylist()


def movement(store: Store, group: str, start: date, end: date) -> Movement:
    """The flows of ``group``'s customers from the day ``start`` to the day ``end``."""
    groups = family_groups(store)
    if group not in groups:
        raise ConfigError(
            f"'{group}' is not a family in the segment history",
            hint=did_you_mean(group, groups) or "families: " + ", ".join(groups),
        )
    if not start < end:
        raise ConfigError(f"--from ({start}) must be before --to ({end})")
    before = _family_on(store, group, start, "from_segment")
    after = _family_on(store, group, end, "to_segment")
    moved = before.outer_join(after, "customer_id")
    moved = moved.select(
        customer_id=ibis.coalesce(moved.customer_id, moved.customer_id_right),
        from_segment=moved.from_segment.fill_null(NONE),
        to_segment=moved.to_segment.fill_null(NONE),
    )
    moved = store.stage("_movement_customers", moved)
    spent = store.stage(
        "_movement_spent", spent_between(store.table("orders"), store.table("refunds"), start, end)
    )
    moved = moved.left_join(spent, "customer_id")
    cells = moved.group_by(["from_segment", "to_segment"]).aggregate(
        customers=moved.count(), revenue=moved.spent.sum().fill_null(0).cast(MONEY)
    )
    rows = store.run(cells).to_pylist()
    sizes = {}
    for row in rows:
        sizes[row["from_segment"]] = sizes.get(row["from_segment"], 0) + row["customers"]
    flows = [
        {
            "from_segment": r["from_segment"],
            "to_segment": r["to_segment"],
            "customers": r["customers"],
            "share_of_from": r["customers"] / sizes[r["from_segment"]],
            "revenue": float(r["revenue"]),
            "flow": NAMED_FLOWS.get((r["from_segment"], r["to_segment"]), ""),
        }
        for r in sorted(rows, key=_cell_order)
    ]
    return Movement(group, start, end, flows)


def _cell_order(row: dict) -> tuple:
    return (
        row["from_segment"] == NONE,
        row["from_segment"],
        row["to_segment"] == NONE,
        row["to_segment"],
    )


def _family_on(store: Store, group: str, day: date, name: str) -> ir.Table:
    members = members_on(store, day)
    members = members.filter(members.family == group)
    return members.select("customer_id", **{name: members.segment})


def spent_between(orders: ir.Table, refunds: ir.Table, start: date, end: date) -> ir.Table:
    """``customer_id``, ``spent``: how much each customer's amount spent grew after ``start``
    up to the end of ``end`` (orders placed, less refunds dated, in between), and
    ``spent_to_date``: their amount spent at the end of ``end``."""
    at_end = customer_value(orders, refunds, end).select("customer_id", "amount_spent")
    at_start = customer_value(orders.view(), refunds.view(), start).select(
        "customer_id", before=ibis._.amount_spent
    )
    joined = at_end.left_join(at_start, "customer_id")
    spent = joined.amount_spent - joined.before.fill_null(0)
    return joined.select(
        joined.customer_id, spent=spent.cast(MONEY), spent_to_date=joined.amount_spent
    )
