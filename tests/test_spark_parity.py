"""The same workspace refreshed on DuckDB and on Spark (local mode) gives the same features
and the same members of every library segment and of user rules that use every part of the
rule language."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from segmint.engine import SparkEngine
from segmint.workspace import Workspace

pytestmark = pytest.mark.slow

USER_SEGMENTS = """
segments:
  - slug: boots_recent
    rule: "products_purchased(category: ('Boots', 'Sneakers'), since: -180d)"
  - slug: matches_form
    rule: "products_purchased MATCHES (tag = 'sale', date > -1y) AND NOT member_of('rfm_lost')"
  - slug: big_not_vip
    rule: "amount_spent > 300 AND NOT member_of('value_vip')"
    group: tiers
    priority: 0
  - slug: the_rest
    rule: "number_of_orders >= 1"
    group: tiers
    priority: 1
  - slug: mixed
    rule: >-
      (country IN ('US', 'CA') OR region IS NULL) AND last_order_date BETWEEN -6m AND today
      AND NOT (tags CONTAINS 'wholesale') AND email_open_rate_90d >= 0.1
  - slug: shopify_words
    rule: "customer_countries CONTAINS 'US' AND rfm_group = 'CHAMPIONS'"
  - template: geo_country
    values: {country: US}
"""


def snapshot(ws: Workspace) -> tuple[dict, set]:
    features = {r["customer_id"]: r for r in ws.features().to_pyarrow().to_pylist()}
    members = ws.table("segment_members").select("customer_id", "segment", "family")
    return features, set(map(tuple, members.to_pandas().values.tolist()))


def test_duckdb_and_spark_agree(demo_shop: Workspace, spark_session, tmp_path: Path):
    demo_shop.store.con.raw_sql("CHECKPOINT")
    path = tmp_path / "shop.duckdb"
    shutil.copyfile(demo_shop.store.path, path)
    (tmp_path / "segments.yaml").write_text(USER_SEGMENTS, encoding="utf-8")
    with Workspace(path) as ws:
        duck = ws.refresh()
        duck_features, duck_members = snapshot(ws)
        spark = ws.refresh(engine=SparkEngine(ws.store, spark_session))
        spark_features, spark_members = snapshot(ws)
        refreshes = ws.table("refreshes").to_pyarrow().to_pylist()
    statistics = {r["refresh_id"]: json.loads(r["store_statistics"]) for r in refreshes}
    assert spark.as_of == duck.as_of and spark.rfm_cut_points == duck.rfm_cut_points
    assert statistics[spark.refresh_id] == statistics[duck.refresh_id]
    assert statistics[duck.refresh_id]["net_sales_p95"] > statistics[duck.refresh_id]["avg_aov"]
    assert spark_members == duck_members
    segments = {s for _, s, _ in duck_members}
    assert {"boots_recent", "matches_form", "big_not_vip", "the_rest", "mixed"} <= segments
    assert spark_features.keys() == duck_features.keys()
    differing = {
        (name, customer)
        for customer, row in duck_features.items()
        for name, value in row.items()
        if spark_features[customer][name] != value
    }
    assert not differing, sorted(differing)[:10]
