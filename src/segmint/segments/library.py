"""The segment library: the segments marketers use, as rules over the customer features.

Each segment has a slug (its family's prefix, ``a-z0-9_``), a display name, a rule, a
description and a recommended play. Segments of one family are exclusive: a customer is in
the first segment of the family, in priority order, whose rule they meet. Rules may use
``{parameters}``: thresholds (:data:`PARAMETERS`) and store statistics computed at each
refresh (:data:`STORE_STATISTICS`), both recorded with the refresh.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from segmint.features.rfm import RFM_GRID

SLUG = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class SegmentDef:
    """One segment: who is in it and what to do with them."""

    slug: str
    name: str
    rule: str
    description: str
    action: str
    family: str | None = None
    priority: int = 0

    def __post_init__(self) -> None:
        if not SLUG.match(self.slug):
            raise ValueError(f"segment slug {self.slug!r} is not lowercase a-z0-9_")
        if self.family and not self.slug.startswith(self.family + "_"):
            raise ValueError(f"segment {self.slug!r} must start with its family {self.family!r}")

    def rule_text(self, values: dict[str, Any]) -> str:
        """The rule with its ``{parameters}`` filled in."""
        return self.rule.format(**values)


#: Thresholds the library's rules use; a user's segment file may override them.
PARAMETERS: dict[str, Any] = {
    "new_subscriber_days": 30,
    "at_risk_loyal_orders": 4,
    "at_risk_loyal_days": 120,
    "former_high_value_orders": 3,
    "former_high_value_aov": 100,
    "former_high_value_days": 180,
    "dormant_days": 90,
    "lost_days": 365,
    "vip_orders": 3,
    "vip_spent": 500,
    "high_aov_factor": 1.5,
    "big_spender_factor": 2.5,
}

#: Store statistics computed at each refresh, among customers with orders.
STORE_STATISTICS = (
    "avg_aov",
    "avg_amount_spent",
    "net_sales_p95",
    "net_sales_p75",
    "net_sales_p50",
)

RFM_PLAYS = {
    "champions": (
        "Champions",
        "Bought recently and often: your best customers.",
        "Reward: early access, loyalty perks, ask for reviews and referrals; no discounts.",
    ),
    "loyal": (
        "Loyal Customers",
        "Buy often, recently enough.",
        "Upsell and cross-sell; membership or loyalty tier offers.",
    ),
    "potential_loyalist": (
        "Potential Loyalist",
        "Recent customers with a few orders.",
        "Nurture: loyalty programme invitation, personalised recommendations.",
    ),
    "new": (
        "New Customers",
        "Bought very recently, for the first time.",
        "Onboarding series; a reason to make the second order within 30 days.",
    ),
    "promising": (
        "Promising",
        "Recent single-order customers, not the newest.",
        "Build the habit: product education, a modest second-order incentive.",
    ),
    "need_attention": (
        "Need Attention",
        "Average recency and frequency.",
        "Limited-time offers on categories they bought; reactivate before they slip.",
    ),
    "about_to_sleep": (
        "About To Sleep",
        "Below-average recency, few orders.",
        "Win-back while it is cheap: popular products, a small discount.",
    ),
    "at_risk": (
        "At Risk",
        "Bought often, but long ago.",
        "Personal win-back email, stronger offer, survey what changed.",
    ),
    "cant_lose_them": (
        "Can't Lose Them",
        "Bought the most, but not for a long time.",
        "High-touch win-back: personal outreach, best offer, new arrivals they like.",
    ),
    "hibernating": (
        "Hibernating",
        "Few orders, long ago.",
        "Low-cost reactivation; suppress from paid media if no response.",
    ),
    "lost": (
        "Lost",
        "Few orders, longest ago.",
        "Last-chance campaign, then suppress to protect deliverability and ad spend.",
    ),
}


def _rfm_segments() -> list[SegmentDef]:
    groups = dict.fromkeys(name for _, row in sorted(RFM_GRID.items()) for name in row)
    return [
        SegmentDef(
            slug=f"rfm_{group}",
            name=RFM_PLAYS[group][0],
            rule=f"rfm_group = '{group}'",
            description=RFM_PLAYS[group][1],
            action=RFM_PLAYS[group][2],
            family="rfm",
            priority=i,
        )
        for i, group in enumerate(groups)
    ]


LIFECYCLE = [
    SegmentDef(
        "lifecycle_lost",
        "Lost",
        "number_of_orders >= 1 AND days_since_last_order > {lost_days}",
        "No order in over a year.",
        "Suppress from paid media; one last win-back email.",
        "lifecycle",
        0,
    ),
    SegmentDef(
        "lifecycle_former_high_value",
        "Former high-value, at risk",
        "number_of_orders >= {former_high_value_orders} AND aov > {former_high_value_aov} "
        "AND days_since_last_order > {former_high_value_days}",
        "Valuable repeat buyers with no order in six months.",
        "Personal win-back with the strongest offer; ask what changed.",
        "lifecycle",
        1,
    ),
    SegmentDef(
        "lifecycle_at_risk_loyal",
        "At-risk loyal",
        "number_of_orders >= {at_risk_loyal_orders} "
        "AND days_since_last_order > {at_risk_loyal_days}",
        "Four or more orders, none in 120 days.",
        "Win-back series built on what they used to buy.",
        "lifecycle",
        2,
    ),
    SegmentDef(
        "lifecycle_dormant",
        "Dormant",
        "number_of_orders >= 1 AND days_since_last_order > {dormant_days}",
        "No order in over 90 days.",
        "Reactivation: new arrivals, a time-limited offer.",
        "lifecycle",
        3,
    ),
    SegmentDef(
        "lifecycle_repeat",
        "Repeat buyers",
        "number_of_orders >= 2",
        "Two or more orders, active.",
        "Cross-sell and loyalty programme.",
        "lifecycle",
        4,
    ),
    SegmentDef(
        "lifecycle_first_time",
        "First-time buyers",
        "number_of_orders = 1",
        "One order, recently.",
        "Second-order series within 30 days.",
        "lifecycle",
        5,
    ),
    SegmentDef(
        "lifecycle_subscribed_no_purchase",
        "Subscribed, no purchase",
        "number_of_orders = 0 AND email_consent = 'subscribed' "
        "AND customer_added_date >= -{new_subscriber_days}d",
        "Subscribed in the last 30 days and never bought.",
        "Welcome series with a first-order incentive.",
        "lifecycle",
        6,
    ),
]

VALUE = [
    SegmentDef(
        "value_top_5",
        "Top 5% by net sales",
        "net_sales >= {net_sales_p95} AND net_sales > 0",
        "The top 5% of customers by lifetime net sales.",
        "Protect: service, exclusives.",
        "value",
        1,
    ),
    SegmentDef(
        "value_high",
        "High value (next 20%)",
        "net_sales >= {net_sales_p75} AND net_sales > 0",
        "The next 20% by lifetime net sales.",
        "Grow: cross-sell, loyalty tiers.",
        "value",
        2,
    ),
    SegmentDef(
        "value_medium",
        "Medium value (next 25%)",
        "net_sales >= {net_sales_p50} AND net_sales > 0",
        "The next 25% by lifetime net sales.",
        "Nurture: bundles, recommendations.",
        "value",
        3,
    ),
    SegmentDef(
        "value_low",
        "Low value",
        "number_of_orders >= 1",
        "The rest of the customers with orders.",
        "Low-cost automation only.",
        "value",
        4,
    ),
]

CROSS_CUTTING = [
    SegmentDef(
        "value_vip",
        "VIP",
        "number_of_orders >= {vip_orders} AND amount_spent > {vip_spent}",
        "Three or more orders and over 500 spent.",
        "VIP perks, early access, no discounting.",
    ),
    SegmentDef(
        "value_high_aov_one_time",
        "High AOV one-time buyers",
        "number_of_orders = 1 AND aov >= {high_aov_threshold}",
        "One order, worth at least 1.5 times the store's average order.",
        "Premium second-order recommendations.",
    ),
    SegmentDef(
        "value_big_spender",
        "Big spenders",
        "amount_spent > {big_spender_threshold}",
        "Spent over 2.5 times the store's average.",
        "White-glove service, referral asks.",
    ),
    SegmentDef(
        "engagement_cart_abandoners",
        "Cart abandoners",
        "open_cart = true",
        "Added to cart or started checkout with no order since.",
        "Abandoned-cart flow: reminder, then social proof, then a small incentive.",
    ),
    SegmentDef(
        "engagement_potential_purchasers",
        "Potential purchasers",
        "viewed_product_repeatedly = true",
        "Viewed the same product several times in 3 days without buying.",
        "Browse-abandonment email with that product; retarget.",
    ),
]

LIBRARY: list[SegmentDef] = [*_rfm_segments(), *LIFECYCLE, *VALUE, *CROSS_CUTTING]


def rule_values(parameters: dict[str, Any], statistics: dict[str, float]) -> dict[str, Any]:
    """Everything a library rule may name: parameters, statistics and derived thresholds."""
    values = {**parameters, **statistics}
    values["high_aov_threshold"] = round(parameters["high_aov_factor"] * statistics["avg_aov"], 2)
    values["big_spender_threshold"] = round(
        parameters["big_spender_factor"] * statistics["avg_amount_spent"], 2
    )
    return values
