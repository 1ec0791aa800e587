"""Cluster: the behavioural cluster ``segmint cluster`` put the customer in.

Values come from the ``cluster_members`` table, from the latest ``segmint cluster`` run whose
as-of day is on or before the features' as-of day; customers without orders, or not yet
clustered, have none. ``docs/models.md`` explains how clusters are found and named.
"""

from __future__ import annotations

from datetime import date

import ibis.expr.types as ir

from segmint.features.catalog import feature
from segmint.features.tables import Tables, latest_run_as_of

GROUP = "Clusters"

CLUSTER = feature(
    "cluster",
    "string",
    GROUP,
    "Id of the customer's behavioural cluster (e.g. `low-aov-weekly-replenishers`), from the "
    "latest `segmint cluster`; `segmint cluster` lists them with their profiles.",
)


def cluster_features(tables: Tables, as_of: date) -> ir.Table:
    """``customer_id`` and ``cluster`` of the latest clustering as of ``as_of``."""
    latest = latest_run_as_of(tables.cluster_members, as_of)
    return latest.select("customer_id", **{CLUSTER: latest.cluster})
