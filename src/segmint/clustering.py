"""``segmint cluster``: find behavioural clusters in the latest features and make them segments.

Clustering reads the ``customer_features`` of the latest refresh, fits k-means
(:func:`segmint.models.clusters.fit_clusters`) starting from the previous clustering so that
ids and names stay put when the data barely changes, assigns every customer batch by batch,
and in one transaction replaces ``cluster_members`` and records the run (model, profiles) in
``model_runs``. Then it refreshes: the ``cluster`` feature and the ``cluster`` family of
segments (:mod:`segmint.segments.clusters`) follow the new clusters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
import pyarrow as pa

from segmint.features.tables import stored_features
from segmint.models.clusters import BEHAVIOUR, NAME, REVENUE, ClusterModel, fit_clusters
from segmint.models.runs import ModelRun, latest_run, next_run_id, record_run
from segmint.refresh import RefreshResult, refresh
from segmint.segments import latest_as_of
from segmint.store import Store

#: Customers assigned per batch.
BATCH_SIZE = 100_000


@dataclass(frozen=True)
class ClusterResult:
    run_id: int
    as_of: date
    model: ClusterModel
    refreshed: RefreshResult | None = None

    def profile_records(self) -> list[dict[str, Any]]:
        """One record per cluster: id, name, size, shares and the main feature means."""
        profiles = self.model.profiles.reset_index()
        return profiles.to_dict("records")


def cluster(
    store: Store,
    k: int | None = None,
    k_range: range = range(2, 9),
    then_refresh: bool = True,
) -> ClusterResult:
    """Cluster the customers of the latest refresh (``k`` given, or chosen in ``k_range`` by
    silhouette), store every customer's cluster, record the run and refresh."""
    as_of = latest_as_of(store)
    features = behaviour_frame(store)
    last = latest_run(store, "clusters")
    previous = ClusterModel.from_dict(last["models"][NAME]) if last else None
    model = fit_clusters(features, k=k, k_range=k_range, previous=previous)
    run = ModelRun(kind="clusters", as_of=as_of, calibration_end=as_of)
    run.models = {NAME: model.to_dict()}
    run.data_summary = {
        "customers": int(len(features)),
        "clustered": model.customers,
        "k": model.k,
        "k_given": k is not None,
        "previous_run_id": last["run_id"] if last else None,
    }
    run_id = next_run_id(store)
    with store.transaction():
        store.delete_all("cluster_members")
        for start in range(0, len(features), BATCH_SIZE):
            batch = features.iloc[start : start + BATCH_SIZE]
            store.insert("cluster_members", _members(batch, model, run_id, as_of))
        record_run(store, run, run_id)
    refreshed = refresh(store, as_of) if then_refresh else None
    return ClusterResult(run_id, as_of, model, refreshed)


def behaviour_frame(store: Store) -> pd.DataFrame:
    """``customer_id`` and the columns clustering reads, for every customer of the latest
    refresh (ordered by id, so the input does not depend on storage order)."""
    features = stored_features(store)
    columns = ["customer_id", *dict.fromkeys((*BEHAVIOUR, REVENUE))]
    return features.select(columns).order_by("customer_id").to_pandas()


def _members(batch: pd.DataFrame, model: ClusterModel, run_id: int, as_of: date) -> pa.Table:
    assigned = model.assign(batch)
    clustered = assigned.notna().to_numpy()
    ids = batch["customer_id"].to_numpy()[clustered]
    return pa.table(
        {
            "run_id": pa.array([run_id] * len(ids), pa.int64()),
            "as_of": pa.array([as_of] * len(ids), pa.date32()),
            "customer_id": pa.array(ids, pa.string()),
            "cluster": pa.array(assigned.to_numpy()[clustered], pa.string()),
        }
    )
