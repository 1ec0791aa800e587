"""segments.yaml: parameters, user segments and groups, member_of, templates, the RFM grid,
versions and audience warnings, each checked against pandas on a hand-built store; and every
kind of mistake reported with the file and line."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from segmint.errors import ConfigError
from segmint.rules import RuleError
from segmint.segments.config import load_config, parse_config
from segmint.workspace import Workspace
from shopify_files import order, write_customers, write_orders

AS_OF = date(2025, 12, 31)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """23 repeat buyers (every fourth in Canada) and 3 tagged subscribers."""
    folder = tmp_path_factory.mktemp("config")
    ws = Workspace(folder / "shop.duckdb")
    orders = [
        order(
            f"#{1000 + i}",
            f"c{(i * 7) % 23}@example.com",
            (date(2024, 1, 3) + timedelta(days=(i * 37) % 720)).isoformat() + " 10:00:00 -0500",
            [(1 + i % 3, "Mug", f"{15 + 11 * (i % 13)}.00", "MUG")],
            **{"Billing Country": "CA" if (i * 7) % 23 % 4 == 0 else "US"},
        )
        for i in range(90)
    ]
    ws.import_file(write_orders(folder / "orders_export.csv", orders))
    subscribers = [
        {"Customer ID": str(700 + i), "Email": f"s{i}@example.com", "Tags": "vip, o'brien"}
        for i in range(3)
    ]
    ws.import_file(write_customers(folder / "customers_export.csv", subscribers))
    yield ws
    ws.close()


def refresh_with(ws: Workspace, text: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write segments.yaml next to the workspace, refresh, return features and members."""
    path = ws.store.path.parent / "segments.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    ws.refresh(AS_OF)
    return ws.features().to_pandas(), ws.table("segment_members").to_pandas()


def members_of(members: pd.DataFrame, slug: str) -> set[str]:
    return set(members.customer_id[members.segment == slug])


def latest_versions(ws: Workspace) -> pd.DataFrame:
    versions = ws.table("segment_versions").to_pandas()
    return versions[versions.refresh_id == versions.refresh_id.max()].set_index("segment")


def test_parameters_override_the_library(shop: Workspace):
    f, members = refresh_with(shop, "parameters:\n  vip_spent: 150\n  vip_orders: 4\n")
    expected = set(f.customer_id[(f.number_of_orders >= 4) & (f.amount_spent.astype(float) > 150)])
    assert members_of(members, "value_vip") == expected and expected
    versions = latest_versions(shop)
    assert versions.loc["value_vip", "rule"] == "number_of_orders >= 4 AND amount_spent > 150"


def test_user_groups_member_of_and_exclusion_warnings(shop: Workspace):
    f, members = refresh_with(
        shop,
        """
        guards:
          min_audience: 5
          max_exclusion_shrink: 0.3
        segments:
          - slug: big_buyers
            name: Big buyers
            rule: "amount_spent > 400"
            group: tiers
            priority: 0
          - slug: any_buyers
            rule: "number_of_orders >= 1"
            group: tiers
            priority: 1
          - slug: big_not_champions
            rule: "member_of('big_buyers') AND NOT member_of('value_top_5')"
          - slug: repeat_small
            rule: "member_of('any_buyers') AND number_of_orders >= 4"
        """,
    )
    spent = f.amount_spent.astype(float)
    big = set(f.customer_id[spent > 400])
    buyers = set(f.customer_id[f.number_of_orders >= 1])
    champions = set(members.customer_id[members.segment == "value_top_5"])
    four = set(f.customer_id[f.number_of_orders >= 4])
    assert big and champions & big and big - champions
    assert members_of(members, "big_buyers") == big
    assert members_of(members, "any_buyers") == buyers - big  # the group is exclusive
    assert members_of(members, "big_not_champions") == big - champions
    assert members_of(members, "repeat_small") == (buyers - big) & four
    assert set(members[members.segment == "any_buyers"].family) == {"tiers"}

    versions = latest_versions(shop)
    assert versions.loc["any_buyers", "customers_before_exclusions"] == len(buyers)
    assert versions.loc["big_not_champions", "customers_before_exclusions"] == len(big)
    assert pd.isna(versions.loc["big_buyers", "customers_before_exclusions"])
    assert pd.isna(versions.loc["value_low", "customers_before_exclusions"])  # by design
    assert versions.loc["any_buyers", "origin"] == "user"

    result = shop.refresh(AS_OF)
    warned = {(w.segment, w.kind) for w in result.warnings}
    shrink = 1 - len(buyers - big) / len(buyers)
    assert (("any_buyers", "exclusion_shrink") in warned) == (shrink > 0.3)
    small = {s for s, n in versions.customers.items() if n < 5}
    assert {s for s, kind in warned if kind == "small_audience"} == small


def test_templates_quote_their_values(shop: Workspace):
    f, members = refresh_with(
        shop,
        """
        segments:
          - template: geo_country
            values: {country: CA}
          - template: tag
            values: {tag: "o'brien"}
            slug: irish
        """,
    )
    assert members_of(members, "geo_country_ca") == set(f.customer_id[f.country == "CA"])
    tagged = set(f.customer_id[f.tags.map(lambda t: t is not None and "o'brien" in list(t))])
    assert members_of(members, "irish") == tagged and len(tagged) == 3
    versions = latest_versions(shop)
    assert versions.loc["irish", "rule"] == "tags CONTAINS 'o''brien'"
    assert versions.loc["geo_country_ca", "origin"] == "template:geo_country"


def test_rfm_grid_override(shop: Workspace):
    rows = {r: ["lost"] * 5 for r in (1, 2, 3, 4)}
    rows[5] = ["new", "champions", "champions", "champions", "champions"]
    grid = "".join(f"  {r}: [{', '.join(row)}]\n" for r, row in rows.items())
    f, members = refresh_with(shop, "rfm_grid:\n" + grid)
    buyers = f[f.number_of_orders > 0]
    expected = [
        "lost" if r < 5 else ("new" if fs == 1 else "champions")
        for r, fs in zip(buyers.r_score, buyers.f_score, strict=True)
    ]
    assert list(buyers.rfm_group) == expected
    assert members_of(members, "rfm_lost") == set(buyers.customer_id[buyers.r_score < 5])
    configuration = shop.table("refreshes").to_pandas().configuration.iloc[-1]
    assert '"1": ["lost", "lost", "lost", "lost", "lost"]' in configuration


def test_versions_follow_definitions(shop: Workspace):
    refresh_with(shop, "parameters:\n  vip_spent: 300\n")
    before = latest_versions(shop).version
    refresh_with(shop, "parameters:\n  vip_spent: 300\n")
    same = latest_versions(shop).version
    refresh_with(shop, "parameters:\n  vip_spent: 301\n")
    after = latest_versions(shop).version
    assert (same == before).all()
    assert after["value_vip"] == before["value_vip"] + 1
    assert (after.drop("value_vip") == before.drop("value_vip")).all()
    # value_top_5's threshold is a statistic: the same definition whatever the percentile
    assert latest_versions(shop).loc["value_top_5", "definition"] == (
        "net_sales >= {net_sales_p95} AND net_sales > 0"
    )


def test_without_a_file_the_library_alone(shop: Workspace, tmp_path: Path):
    assert [s.origin for s in load_config(tmp_path / "none.duckdb").segments] == ["library"] * len(
        load_config(tmp_path / "none.duckdb").segments
    )


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("parameters:\n  vip_spnt: 3\n", 2, "unknown parameter 'vip_spnt'"),
        ("parameters:\n  vip_orders: 2.5\n", 2, "must be whole"),
        ("parameters:\n  vip_spent: -1\n", 2, "non-negative"),
        ("segmnts: []\n", 1, "unknown top-level key 'segmnts'"),
        ("segments:\n  - slug: value_vip\n    rule: 'aov > 1'\n", 2, "already used by the library"),
        (
            "segments:\n  - slug: a\n    rule: 'aov > 1'\n  - slug: a\n    rule: 'aov > 2'\n",
            4,
            "already used by the segment on line 2",
        ),
        ("segments:\n  - slug: A-b\n    rule: 'aov > 1'\n", 2, "is not a-z0-9_"),
        ("segments:\n  - slug: a\n    rule: 'aov > 1'\n    group: rfm\n", 2, "library family"),
        ("segments:\n  - slug: a\n    rule: 'aov > 1'\n    colour: red\n", 4, "segment key"),
        ("segments:\n  - slug: a\n", 2, "needs a rule"),
        ("segments:\n  - template: geo_contry\n    values: {country: CA}\n", 2, "unknown template"),
        ("segments:\n  - template: geo_country\n    values: {city: X}\n", 2, "needs values for"),
        ("rfm_grid:\n  5: [new]\n", 2, "rfm_grid maps each R score"),
        ("guards:\n  max_exclusion_shrink: 2\n", 2, "between 0 and 1"),
        ("segments: [\n", 2, "not valid YAML"),
        (
            "segments:\n"
            "  - {slug: a, rule: 'aov > 1', group: g, priority: 1}\n"
            "  - {slug: b, rule: 'aov > 2', group: g, priority: 1}\n",
            3,
            "share priority 1",
        ),
    ],
)
def test_mistakes_name_the_file_and_line(text: str, line: int, message: str):
    path = Path("/shop/segments.yaml")
    with pytest.raises(ConfigError) as info:
        parse_config(text, path)
    assert str(path) in info.value.message and message in info.value.message
    assert f"line {line}" in info.value.message


def test_rule_mistakes_name_file_line_segment_and_position():
    path = Path("/shop/segments.yaml")
    text = "segments:\n  - slug: a\n    rule: 'number_of_ordrs >= 3'\n"
    with pytest.raises(RuleError) as info:
        parse_config(text, path)
    assert "/shop/segments.yaml, line 2, segment 'a'" in info.value.message
    assert "number_of_orders" in (info.value.hint or "")
    assert info.value.details.splitlines()[1].strip() == "^"
    text = "segments:\n  - slug: a\n    rule: \"member_of('value_vp')\"\n"
    with pytest.raises(RuleError) as info:
        parse_config(text, path)
    assert "unknown segment 'value_vp'" in info.value.message
    assert info.value.hint == "did you mean 'value_vip'?"


@pytest.mark.parametrize(
    ("segments", "cycle"),
    [
        (
            "  - {slug: a, rule: \"member_of('b')\"}\n  - {slug: b, rule: \"member_of('a')\"}\n",
            {"a", "b"},
        ),
        ("  - {slug: a, rule: \"member_of('a') OR aov > 1\"}\n", {"a"}),
        (  # a group's first segment cannot depend on a later one of the same group
            "  - {slug: a, rule: \"member_of('b')\", group: g, priority: 0}\n"
            "  - {slug: b, rule: 'aov > 1', group: g, priority: 1}\n",
            {"a", "b"},
        ),
    ],
)
def test_cycles_are_refused(shop: Workspace, segments: str, cycle: set[str]):
    path = shop.store.path.parent / "segments.yaml"
    path.write_text("segments:\n" + segments, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        shop.refresh(AS_OF)
    assert "cycle" in info.value.message
    named = info.value.message.split(": ", 1)[1].split(" -> ")
    assert set(named) == cycle and named[0] == named[-1]
    path.unlink()
