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

from segmint.features import customer_features
from segmint.store import Store, utcnow

FEATURES_TABLE = "customer_features"


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
    """Recompute and store all features as of ``as_of`` (default: the latest order day)."""
    started = utcnow()
    features = customer_features(store, as_of)
    staged = store.stage("_features_new", features.table)
    customers = int(staged.count().to_pyarrow().as_py())
    refresh_id = store.next_id("refreshes", "refresh_id")
    cuts = features.rfm_cuts.as_dict()
    with store.transaction():
        store.con.create_table(FEATURES_TABLE, staged, overwrite=True)
        store.insert(
            "refreshes",
            ibis.memtable(
                {
                    "refresh_id": [refresh_id],
                    "as_of": [features.as_of],
                    "customers": [customers],
                    "rfm_cut_points": [json.dumps(cuts)],
                    "started_at": [started],
                    "finished_at": [utcnow()],
                }
            ),
        )
    return RefreshResult(refresh_id, features.as_of, customers, cuts)
