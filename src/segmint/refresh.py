"""``segmint refresh``: compute every customer's features as of a day and store them.

A refresh replaces the ``customer_features`` table and records itself in ``refreshes``
(the as-of day and the RFM cut points it used) in one transaction, so readers always see
one complete refresh.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import ibis
import pyarrow as pa

from segmint.features import customer_features
from segmint.features.tables import Tables
from segmint.schema import FEATURES_TABLE
from segmint.segments.library import LIBRARY, PARAMETERS, rule_values
from segmint.segments.membership import memberships, store_statistics
from segmint.store import Store, utcnow


@dataclass(frozen=True)
class RefreshResult:
    refresh_id: int
    as_of: date
    customers: int
    rfm_cut_points: dict[str, list[float]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "refresh_id": self.refresh_id,
            "as_of": self.as_of,
            "customers": self.customers,
            "rfm_cut_points": json.dumps(self.rfm_cut_points),
        }


def refresh(store: Store, as_of: date | None = None) -> RefreshResult:
    """Recompute and store all features and library memberships as of ``as_of``."""
    started = utcnow()
    features = customer_features(store, as_of)
    staged = store.stage("_features_new", features.table)
    customers = int(staged.count().to_pyarrow().as_py())
    refresh_id = store.next_id("refreshes", "refresh_id")
    statistics = store_statistics(staged)
    members, rules = memberships(
        staged, Tables.of(store), features.as_of, LIBRARY, rule_values(PARAMETERS, statistics)
    )
    members = store.stage("_members_new", members.mutate(refresh_id=ibis.literal(refresh_id)))
    cuts = features.rfm_cuts.as_dict()
    with store.transaction():
        store.con.create_table(FEATURES_TABLE, staged, overwrite=True)
        store.delete_all("segment_members")
        store.insert("segment_members", members)
        store.insert("segment_versions", _versions(refresh_id, rules))
        store.insert(
            "refreshes",
            pa.table(
                {
                    "refresh_id": [refresh_id],
                    "as_of": [features.as_of],
                    "customers": [customers],
                    "rfm_cut_points": [json.dumps(cuts)],
                    "store_statistics": [json.dumps(statistics)],
                    "started_at": [started],
                    "finished_at": [utcnow()],
                }
            ),
        )
    return RefreshResult(refresh_id, features.as_of, customers, cuts)


def _versions(refresh_id: int, rules: dict[str, str]) -> pa.Table:
    """The rule text of every segment as this refresh evaluated it."""
    by_slug = {s.slug: s for s in LIBRARY}
    return pa.table(
        {
            "refresh_id": [refresh_id] * len(rules),
            "segment": list(rules),
            "family": [by_slug[slug].family for slug in rules],
            "name": [by_slug[slug].name for slug in rules],
            "rule": list(rules.values()),
        }
    )
