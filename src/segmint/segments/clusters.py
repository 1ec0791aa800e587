"""The ``cluster`` family: one segment per behavioural cluster of the latest ``segmint
cluster`` run, so clusters are segments like any other (exclusive, named, with a play)."""

from __future__ import annotations

from typing import Any

from segmint.models.clusters import NAME as CLUSTER_MODEL
from segmint.models.runs import latest_run
from segmint.segments.library import SegmentDef
from segmint.store import Store

FAMILY = "cluster"
ORIGIN = "clusters"


def cluster_segments(store: Store) -> list[SegmentDef]:
    """A segment per cluster of the latest clustering, in the model's order; none before
    the first ``segmint cluster``."""
    run = latest_run(store, "clusters")
    if run is None:
        return []
    model = run["models"][CLUSTER_MODEL]
    profiles = {p["id"]: p for p in model.get("profiles", [])}
    return [
        SegmentDef(
            slug=f"{FAMILY}_{cluster['id'].replace('-', '_')}",
            name=cluster["name"],
            rule=f"cluster = '{cluster['id']}'",
            description=_description(profiles.get(cluster["id"], {})),
            action="Found by clustering: look at its profile (`segmint cluster`) and pick a "
            "play that fits how these customers buy.",
            family=FAMILY,
            priority=i,
            origin=ORIGIN,
        )
        for i, cluster in enumerate(model["clusters"])
    ]


def _description(profile: dict[str, Any]) -> str:
    """The cluster in one line from its profile: size, revenue share, order value, rhythm."""
    if not profile:
        return "A behavioural cluster."
    parts = [
        f"{profile.get('customer_share', 0):.0%} of customers with orders",
        f"{profile.get('revenue_share', 0):.0%} of revenue",
    ]
    if profile.get("aov_vs_store") is not None:
        parts.append(f"AOV {profile['aov_vs_store']:.1f}x the store's")
    if profile.get("median_days_between_orders") is not None:
        parts.append(f"{profile['median_days_between_orders']:.0f} days between orders")
    return "Behavioural cluster: " + ", ".join(parts) + "."
