"""``segmint cluster`` on the demo store: every buyer in one cluster, clusters as a feature and
as the ``cluster`` family of segments, the run recorded, and ids stable on a second run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from segmint.models.clusters import NAME, ClusterModel
from segmint.models.runs import latest_run
from segmint.workspace import Workspace


@pytest.fixture(scope="module")
def clustered(
    tmp_path_factory: pytest.TempPathFactory, import_demo_shop
) -> Iterator[tuple[Workspace, object]]:
    ws = import_demo_shop(tmp_path_factory.mktemp("clustered") / "shop.duckdb")
    result = ws.cluster()
    yield ws, result
    ws.close()


def test_every_buyer_is_in_exactly_one_cluster_segment(clustered):
    ws, result = clustered
    features = ws.features().to_pandas().set_index("customer_id")
    buyers = features[features.number_of_orders >= 1]
    assert buyers.cluster.notna().all()
    assert features[features.number_of_orders == 0].cluster.isna().all()
    assert set(buyers.cluster) == set(result.model.ids)
    members = ws.table("segment_members").to_pandas()
    family = members[members.family == "cluster"]
    assert family.customer_id.is_unique and set(family.customer_id) == set(buyers.index)
    expected = {f"cluster_{c.replace('-', '_')}": c for c in result.model.ids}
    for segment, group in family.groupby("segment"):
        assert set(group.customer_id) == set(buyers.index[buyers.cluster == expected[segment]])


def test_profiles_add_up_and_match_the_members(clustered):
    ws, result = clustered
    profiles = result.model.profiles
    assert profiles.customers.sum() == result.model.customers
    assert profiles.customer_share.sum() == pytest.approx(1.0)
    assert profiles.revenue_share.sum() == pytest.approx(1.0)
    features = ws.features().to_pandas()
    sizes = features.groupby("cluster").size()
    assert sizes.to_dict() == profiles.customers.to_dict()
    revenue = features.assign(net=features.net_sales.astype(float)).groupby("cluster").net.sum()
    assert (revenue / revenue.sum()).to_dict() == pytest.approx(profiles.revenue_share.to_dict())


def test_the_run_is_recorded_and_rules_can_name_a_cluster(clustered, segmint_cli):
    ws, result = clustered
    run = latest_run(ws.store, "clusters")
    assert run["run_id"] == result.run_id and run["as_of"] == result.as_of
    model = ClusterModel.from_dict(run["models"][NAME])
    assert model.ids == result.model.ids and model.names == result.model.names
    chosen = result.model.ids[0]
    args = ("segments", "preview", f"cluster = '{chosen}'", "--limit", "0", "--json")
    previewed = {r["customer_id"] for r in json.loads(segmint_cli(ws, *args).stdout)}
    features = ws.features().to_pandas()
    assert previewed == set(features.customer_id[features.cluster == chosen])


def test_clustering_again_keeps_ids_names_and_members(clustered, segmint_cli):
    ws, result = clustered
    before = ws.table("cluster_members").to_pandas().set_index("customer_id").cluster
    out = json.loads(segmint_cli(ws, "cluster", "--json").stdout)
    assert [r["id"] for r in out] == result.model.ids
    assert [r["name"] for r in out] == result.model.names
    after = ws.table("cluster_members").to_pandas().set_index("customer_id").cluster
    assert (after.loc[before.index] == before).mean() >= 0.99
    runs = ws.table("model_runs").to_pandas()
    assert (runs.kind == "clusters").sum() == 2
    summary = json.loads(runs[runs.kind == "clusters"].data_summary.iloc[-1])
    assert summary["previous_run_id"] == result.run_id


def test_a_given_k_and_bad_options(clustered, tmp_path: Path, segmint_cli):
    ws, _ = clustered
    out = json.loads(segmint_cli(ws, "cluster", "--k", "3", "--no-refresh", "--json").stdout)
    assert len(out) == 3
    assert sum(r["customers"] for r in out) == ws.table("cluster_members").count().execute()
    bad = segmint_cli(ws, "cluster", "--k", "1", code=1)
    assert bad.stderr.startswith("Error: --k must be at least 2")
    fresh = segmint_cli(tmp_path / "empty.duckdb", "cluster", code=1)
    assert fresh.stderr.startswith("Error: ")
