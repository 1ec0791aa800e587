"""The segment library: exclusive families and memberships, checked against pandas."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from segmint.segments.library import FAMILIES, LIBRARY, PARAMETERS
from segmint.workspace import Workspace
from shopify_files import order, write_customers, write_orders

AS_OF = date(2025, 12, 31)
DOCS = Path(__file__).resolve().parents[1] / "docs" / "segments.md"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    folder = tmp_path_factory.mktemp("shop")
    ws = Workspace(folder / "shop.duckdb")
    orders = [
        order(
            f"#{1000 + i}",
            f"c{(i * 7) % 23}@example.com",
            (date(2024, 1, 3) + timedelta(days=(i * 37) % 720)).isoformat() + " 10:00:00 -0500",
            [(1 + i % 3, "Mug", f"{15 + 11 * (i % 13)}.00", "MUG")],
        )
        for i in range(90)
    ] + [
        order(
            f"#{2000 + k}",
            f"solo{k}@example.com",
            f"2025-12-0{1 + k} 10:00:00 -0500",
            [(1, "Mug", "25.00", "MUG")],
        )
        for k in range(3)
    ]
    ws.import_file(write_orders(folder / "orders_export.csv", orders))
    subscribers = [
        {
            "Customer ID": str(700 + i),
            "Email": f"s{i}@example.com",
            "Accepts Email Marketing": "yes",
        }
        for i in range(3)
    ]
    ws.import_file(write_customers(folder / "customers_export.csv", subscribers))
    ws.refresh(AS_OF)
    yield ws
    ws.close()


def members(ws: Workspace) -> pd.DataFrame:
    return ws.table("segment_members").to_pandas()


def test_library_slugs_families_and_priorities():
    slugs = [s.slug for s in LIBRARY]
    assert len(slugs) == len(set(slugs))
    families: dict[str, list[int]] = {}
    for segment in LIBRARY:
        if segment.family:
            assert segment.slug.startswith(segment.family + "_")
            families.setdefault(segment.family, []).append(segment.priority)
    assert tuple(families) == FAMILIES
    for priorities in families.values():
        assert len(priorities) == len(set(priorities))


def test_every_customer_is_in_at_most_one_segment_per_family(shop: Workspace):
    found = members(shop).dropna(subset=["family"])
    assert not found.duplicated(["customer_id", "family"]).any()


def test_rfm_family_follows_the_rfm_group(shop: Workspace):
    features = shop.features().to_pandas()
    expected = {
        (c, f"rfm_{g}" if isinstance(g, str) else "rfm_no_orders")
        for c, g in zip(features.customer_id, features.rfm_group, strict=True)
    }
    found = members(shop)
    got = set(map(tuple, found[found.family == "rfm"][["customer_id", "segment"]].values))
    assert got == expected and len(got) == len(features)
    no_orders = {c for c, s in got if s == "rfm_no_orders"}
    assert no_orders == set(features.customer_id[features.number_of_orders == 0])


def test_lifecycle_priority_matches_an_independent_implementation(shop: Workspace):
    f = shop.features().to_pandas()
    p = PARAMETERS
    days, n = f.days_since_last_order, f.number_of_orders
    added = pd.to_datetime(f.customer_added_date).dt.date
    rules = [
        ("lifecycle_lost", (n >= 1) & (days > p["lost_days"])),
        ("lifecycle_former_high_value", (n >= 3) & (f.aov.astype(float) > 100) & (days > 180)),
        ("lifecycle_at_risk_loyal", (n >= 4) & (days > 120)),
        ("lifecycle_dormant", (n >= 1) & (days > 90)),
        ("lifecycle_repeat", n >= 2),
        ("lifecycle_first_time", n == 1),
        (
            "lifecycle_subscribed_no_purchase",
            (n == 0) & (f.email_consent == "subscribed") & (added >= AS_OF - timedelta(days=30)),
        ),
    ]
    expected = {}
    for slug, mask in rules:
        for customer in f.customer_id[mask.fillna(False).astype(bool)]:
            expected.setdefault(customer, slug)
    found = members(shop)
    got = dict(found[found.family == "lifecycle"][["customer_id", "segment"]].values)
    assert got == expected
    assert set(got.values()) >= {"lifecycle_lost", "lifecycle_repeat", "lifecycle_first_time"}


def test_value_tiers_and_vip_against_pandas(shop: Workspace):
    f = shop.features().to_pandas()
    buyers = f[f.number_of_orders > 0]
    sales = sorted(buyers.net_sales.astype(float))

    def nearest_rank(q: float) -> float:
        return sales[max(1, math.ceil(q * len(sales))) - 1]

    p95, p75, p50 = nearest_rank(0.95), nearest_rank(0.75), nearest_rank(0.5)
    expected = {}
    for customer, value in zip(buyers.customer_id, buyers.net_sales.astype(float), strict=True):
        tier = (
            "value_top_5"
            if value >= p95 and value > 0
            else "value_high"
            if value >= p75 and value > 0
            else "value_medium"
            if value >= p50 and value > 0
            else "value_low"
        )
        expected[customer] = tier
    found = members(shop)
    assert dict(found[found.family == "value"][["customer_id", "segment"]].values) == expected
    vip = set(f.customer_id[(f.number_of_orders >= 3) & (f.amount_spent.astype(float) > 500)])
    assert set(found.customer_id[found.segment == "value_vip"]) == vip


def test_refresh_records_each_rule_as_evaluated(shop: Workspace):
    versions = shop.table("segment_versions").to_pandas()
    assert set(versions.segment) == {s.slug for s in LIBRARY}
    vip = versions[versions.segment == "value_vip"].rule.iloc[0]
    assert vip == "number_of_orders >= 3 AND amount_spent > 500"
    top = versions[versions.segment == "value_top_5"].rule.iloc[0]
    assert "{" not in top and top.startswith("net_sales >= ")


def test_docs_segments_md_is_generated_from_the_library():
    from segmint.segments.docs import render

    text = DOCS.read_text(encoding="utf-8")
    assert render(text) == text, "run: python -m segmint.segments.docs"
    for segment in LIBRARY:
        assert f"`{segment.slug}`" in text, segment.slug


def test_segments_list_sizes_and_shares(shop: Workspace):
    import json

    from typer.testing import CliRunner

    import segmint.cli.main  # noqa: F401
    from segmint.cli.app import app

    done = CliRunner().invoke(app, ["-w", str(shop.store.path), "segments", "list", "--json"])
    assert done.exit_code == 0, done.output
    records = {r["segment"]: r for r in json.loads(done.stdout)}
    assert list(records) == [s.slug for s in LIBRARY]
    f = shop.features().to_pandas()
    found = members(shop)
    vip = set(found.customer_id[found.segment == "value_vip"])
    spent = f.amount_spent.astype(float)
    assert records["value_vip"]["customers"] == len(vip)
    assert records["value_vip"]["share_of_customers"] == round(len(vip) / len(f), 4)
    expected_revenue = spent[f.customer_id.isin(vip)].sum() / spent.sum()
    assert records["value_vip"]["share_of_revenue"] == pytest.approx(expected_revenue, abs=1e-4)
    rfm_total = sum(r["customers"] for r in records.values() if r["family"] == "rfm")
    assert rfm_total == len(f)  # the RFM family covers everyone (rfm_no_orders)
