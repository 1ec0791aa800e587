"""Segment overlap: how many customers each pair of segments of the latest refresh shares."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from segmint.store import Store


def overlap(store: Store, segments: list[str] | None = None) -> ir.Table:
    """``segment_a, segment_b, customers_a, customers_b, shared, share_of_smaller, jaccard``
    for every pair (``segment_a < segment_b``) of ``segments`` (default: all) sharing anyone."""
    members = store.table("segment_members").select("customer_id", "segment")
    if segments:
        members = members.filter(members.segment.isin(segments))
    sizes = members.group_by("segment").aggregate(customers=members.count())
    left = members.rename(segment_a="segment")
    right = members.rename(segment_b="segment")
    pairs = left.join(right, "customer_id").filter(ibis._.segment_a < ibis._.segment_b)
    shared = pairs.group_by(["segment_a", "segment_b"]).aggregate(shared=pairs.count())
    a = sizes.rename(segment_a="segment", customers_a="customers")
    b = sizes.rename(segment_b="segment", customers_b="customers")
    joined = shared.join(a, "segment_a").join(b, "segment_b")
    smaller = ibis.least(joined.customers_a, joined.customers_b)
    union = joined.customers_a + joined.customers_b - joined.shared
    return joined.select(
        "segment_a",
        "segment_b",
        "customers_a",
        "customers_b",
        "shared",
        share_of_smaller=(joined.shared / smaller).round(4),
        jaccard=(joined.shared / union).round(4),
    ).order_by([ibis.desc("share_of_smaller"), ibis.desc("shared"), "segment_a", "segment_b"])
