"""``segmint explain``, ``segments overlap``, ``segments list`` warnings and ``segments
templates`` on the demo store, checked against the stored features and memberships."""

from __future__ import annotations

import itertools
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

import segmint.cli.main  # noqa: F401  (registers the commands)
from segmint.cli.app import app
from segmint.segments.guards import DEFAULT_GUARDS
from segmint.workspace import Workspace

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("wide_console")


def run(ws: Workspace, *args: str, code: int = 0):
    result = runner.invoke(app, ["-w", str(ws.store.path), *args])
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


@pytest.fixture(scope="module")
def members(demo_shop: Workspace) -> pd.DataFrame:
    return demo_shop.table("segment_members").to_pandas()


@pytest.fixture(scope="module")
def features(demo_shop: Workspace) -> pd.DataFrame:
    return demo_shop.features().to_pandas().set_index("customer_id")


def test_explain_by_email_lists_every_segment_with_its_values(
    demo_shop: Workspace, members: pd.DataFrame, features: pd.DataFrame
):
    busiest = members.customer_id.value_counts().index[0]
    email = demo_shop.table("customers").to_pandas().set_index("customer_id").email[busiest]
    (record,) = json.loads(run(demo_shop, "explain", email, "--json").stdout)
    assert record["customer_id"] == busiest and record["email"] == email
    expected = set(members.segment[members.customer_id == busiest])
    assert {s["segment"] for s in record["segments"]} == expected and len(expected) >= 5
    row = features.loc[busiest]
    for segment in record["segments"]:
        assert segment["values"], segment  # every library rule reads at least one feature
        for name, value in segment["values"].items():
            stored = row[name]
            if value is None:
                assert pd.isna(stored), (segment["segment"], name)
            elif isinstance(value, float | int) and not isinstance(value, bool):
                assert float(value) == pytest.approx(float(stored)), (segment["segment"], name)
            else:
                assert str(value) == str(stored), (segment["segment"], name)
    rfm = next(s for s in record["segments"] if s["family"] == "rfm")
    assert {"rfm_group", "r_score", "f_score"} <= set(rfm["values"])


def test_explain_table_and_unknown_customer(demo_shop: Workspace, members: pd.DataFrame):
    customer = members.customer_id.iloc[0]
    text = run(demo_shop, "explain", customer).stdout
    assert customer in text and "because" in text
    failed = run(demo_shop, "explain", "nobody@example.com", code=1)
    assert failed.stderr.startswith("Error: no customer matches 'nobody@example.com'")


def test_overlap_matches_pandas(demo_shop: Workspace, members: pd.DataFrame):
    chosen = ["value_vip", "rfm_champions", "lifecycle_repeat", "engagement_cart_abandoners"]
    pairs = json.loads(run(demo_shop, "segments", "overlap", *chosen, "--json").stdout)
    sets = {s: set(members.customer_id[members.segment == s]) for s in chosen}
    expected = {}
    for a, b in itertools.combinations(sorted(chosen), 2):
        shared = len(sets[a] & sets[b])
        if shared:
            expected[(a, b)] = (shared, round(shared / min(len(sets[a]), len(sets[b])), 4))
    got = {(p["segment_a"], p["segment_b"]): (p["shared"], p["share_of_smaller"]) for p in pairs}
    assert got == expected and len(got) >= 3
    shares = [p["share_of_smaller"] for p in pairs]
    assert shares == sorted(shares, reverse=True)
    jaccard = {(p["segment_a"], p["segment_b"]): p["jaccard"] for p in pairs}
    a, b = "lifecycle_repeat", "value_vip"
    assert jaccard[(a, b)] == round(len(sets[a] & sets[b]) / len(sets[a] | sets[b]), 4)


def test_overlap_of_an_unknown_segment(demo_shop: Workspace):
    failed = run(demo_shop, "segments", "overlap", "value_vipp", code=1)
    assert failed.stderr.splitlines() == [
        "Error: unknown segment 'value_vipp'",
        "Hint: did you mean 'value_vip'?",
    ]


def test_list_flags_small_audiences(demo_shop: Workspace, members: pd.DataFrame):
    result = run(demo_shop, "segments", "list", "--json")
    records = {r["segment"]: r for r in json.loads(result.stdout)}
    sizes = members.segment.value_counts()
    minimum = DEFAULT_GUARDS["min_audience"]
    for slug, record in records.items():
        small = int(sizes.get(slug, 0)) < minimum
        assert ("small_audience" in record["warnings"]) == small, slug
    assert any(r["warnings"] for r in records.values())
    table = run(demo_shop, "segments", "list")
    flagged = [s for s, r in records.items() if r["warnings"]]
    assert f"Warning: segment '{flagged[0]}' has" in table.stderr


def test_templates_command(demo_shop: Workspace):
    records = json.loads(run(demo_shop, "segments", "templates", "--json").stdout)
    assert {r["template"] for r in records} == {"geo_country", "geo_region", "geo_city", "tag"}


def test_preview_reads_stored_memberships(
    demo_shop: Workspace, members: pd.DataFrame, features: pd.DataFrame
):
    rule = "member_of('value_vip') AND NOT member_of('rfm_champions') AND number_of_orders >= 5"
    shown = json.loads(run(demo_shop, "segments", "preview", rule, "--limit", "0", "--json").stdout)
    vip = set(members.customer_id[members.segment == "value_vip"])
    champions = set(members.customer_id[members.segment == "rfm_champions"])
    five = set(features.index[features.number_of_orders >= 5])
    assert {r["customer_id"] for r in shown} == (vip - champions) & five != set()
    failed = run(demo_shop, "segments", "preview", "member_of('rfm_champion')", code=1)
    lines = failed.stderr.splitlines()
    assert lines[0] == "Error: member_of() names unknown segment 'rfm_champion'"
    assert lines[-1] == "Hint: did you mean 'rfm_champions'?"
    assert lines[2].strip() == "^"


def test_refresh_refuses_an_unknown_engine(demo_shop: Workspace):
    failed = run(demo_shop, "refresh", "--engine", "flink", code=1)
    assert failed.stderr.splitlines() == [
        "Error: --engine: 'flink' is not an engine",
        "Hint: use duckdb or spark",
    ]
