"""The engagement, price, channel and device families and the cross-cutting segments on the
demo store, each checked against an independent pandas implementation of its definition."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from segmint.segments.library import LIBRARY, PARAMETERS
from segmint.workspace import Workspace

P = PARAMETERS
Masks = list[tuple[str, Callable[[pd.DataFrame], pd.Series]]]


@pytest.fixture(scope="module")
def features(demo_shop: Workspace) -> pd.DataFrame:
    return demo_shop.features().to_pandas()


@pytest.fixture(scope="module")
def members(demo_shop: Workspace) -> pd.DataFrame:
    return demo_shop.table("segment_members").to_pandas()


def first_match(f: pd.DataFrame, rules: Masks) -> dict[str, str]:
    """Each customer's first segment, in priority order, whose mask holds."""
    found: dict[str, str] = {}
    for slug, mask in rules:
        for customer in f.customer_id[mask(f).fillna(False).astype(bool)]:
            found.setdefault(customer, slug)
    return found


def family(members: pd.DataFrame, name: str) -> dict[str, str]:
    chosen = members[members.family == name]
    return dict(zip(chosen.customer_id, chosen.segment, strict=True))


def not_clicked_since(f: pd.DataFrame, days: int) -> pd.Series:
    return f.days_since_last_click.isna() | (f.days_since_last_click > days)


def added_before(f: pd.DataFrame, days: int, as_of) -> pd.Series:
    added = pd.to_datetime(f.customer_added_date)
    return added.isna() | (added <= pd.Timestamp(as_of) - pd.Timedelta(days=days))


def test_engagement_family(demo_shop: Workspace, features: pd.DataFrame, members: pd.DataFrame):
    as_of = demo_shop.store.table("refreshes").as_of.max().to_pyarrow().as_py()
    rate = features.email_open_rate_90d.astype(float)
    rules: Masks = [
        (
            "engagement_unengaged_90d",
            lambda f: (
                (f.emails_received_90d >= 1)
                & not_clicked_since(f, P["unengaged_days"])
                & added_before(f, P["unengaged_days"], as_of)
            ),
        ),
        ("engagement_highly_engaged", lambda f: rate > P["highly_engaged_open_rate"]),
        ("engagement_moderately_engaged", lambda f: rate >= P["low_engaged_open_rate"]),
        ("engagement_low_engaged", lambda f: rate < P["low_engaged_open_rate"]),
    ]
    expected = first_match(features, rules)
    assert family(members, "engagement") == expected
    assert len(set(expected.values())) == 4  # the demo store fills every tier


def test_price_family(features: pd.DataFrame, members: pd.DataFrame):
    repeat = features.number_of_orders >= P["price_min_orders"]
    discounts = features.discount_order_share.astype(float)
    sale = features.sale_item_share.astype(float)
    bargain, full = P["bargain_hunter_share"], P["full_price_max_share"]
    rules: Masks = [
        ("price_bargain_hunters", lambda f: repeat & ((discounts >= bargain) | (sale >= bargain))),
        (
            "price_full_price",
            lambda f: repeat & (discounts <= full) & (sale.isna() | (sale <= full)),
        ),
        ("price_value_shoppers", lambda f: repeat),
    ]
    expected = first_match(features, rules)
    assert family(members, "price") == expected
    assert len(set(expected.values())) == 3


def test_channel_and_device_families(features: pd.DataFrame, members: pd.DataFrame):
    preferred = features.preferred_channel
    channel_rules: Masks = [
        ("channel_marketplace_first", lambda f: preferred == "marketplace"),
        ("channel_social_shoppers", lambda f: preferred == "social"),
        ("channel_omnichannel", lambda f: f.channels.map(len) >= 2),
        (
            "channel_dtc_loyalists",
            lambda f: (
                (f.number_of_orders >= P["dtc_min_orders"]) & preferred.isin(["web", "app", "pos"])
            ),
        ),
    ]
    expected = first_match(features, channel_rules)
    assert family(members, "channel") == expected
    assert len(set(expected.values())) == 4
    device_rules: Masks = [
        ("device_mobile_first", lambda f: f.preferred_device == "mobile"),
        ("device_desktop_first", lambda f: f.preferred_device == "desktop"),
    ]
    expected = first_match(features, device_rules)
    assert family(members, "device") == expected
    assert set(expected.values()) == {"device_mobile_first", "device_desktop_first"}


def test_cross_cutting_segments(features: pd.DataFrame, members: pd.DataFrame):
    f = features
    rules = {
        "engagement_cart_abandoners": f.open_cart,
        "engagement_potential_purchasers": f.viewed_product_repeatedly,
        "engagement_clickers_no_purchase": (f.emails_clicked_30d >= 1)
        & (f.days_since_last_order.isna() | (f.days_since_last_order > 90)),
        "engagement_category_browsers": f.browsed_category.notna(),
    }
    for slug, mask in rules.items():
        expected = set(f.customer_id[mask.fillna(False).astype(bool)])
        assert set(members.customer_id[members.segment == slug]) == expected, slug
        assert members[members.segment == slug].family.isna().all()
    assert all(len(members[members.segment == slug]) > 0 for slug in rules)


def test_every_library_segment_is_stored_once_per_customer(members: pd.DataFrame):
    assert not members.duplicated(["customer_id", "segment"]).any()
    assert set(members.segment) <= {s.slug for s in LIBRARY}
    families = members.dropna(subset=["family"])
    assert not families.duplicated(["customer_id", "family"]).any()
