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
    origin: str = "library"  # or "user", "template:<name>", "clusters"

    def __post_init__(self) -> None:
        if not SLUG.match(self.slug):
            raise ValueError(f"segment slug {self.slug!r} is not lowercase a-z0-9_")
        library = self.origin == "library"
        if library and self.family and not self.slug.startswith(self.family + "_"):
            raise ValueError(f"segment {self.slug!r} must start with its family")

    @property
    def built_in(self) -> bool:
        """Written by segmint (the library, the clusters), not by the user: a family's later
        rules are "the rest", so they exclude no one the user meant."""
        return self.origin in ("library", "clusters")

    def rule_text(self, values: dict[str, Any]) -> str:
        """The rule as evaluated: library rules get their ``{parameters}`` filled in."""
        return self.rule.format(**values) if self.origin == "library" else self.rule

    def definition(self, parameters: dict[str, Any]) -> str:
        """The rule with thresholds filled in but store statistics left as ``{names}``: what
        a segment's version follows (statistics move with every refresh)."""
        if self.origin != "library":
            return self.rule
        derived = {
            name: f"{parameters[factor]}*{{{statistic}}}"
            for name, (factor, statistic) in DERIVED.items()
        }
        return self.rule.format_map(_KeepMissing({**parameters, **derived}))


class _KeepMissing(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


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
    "highly_engaged_open_rate": 0.3,
    "low_engaged_open_rate": 0.1,
    "unengaged_days": 90,
    "clicker_no_purchase_days": 90,
    "price_min_orders": 2,
    "bargain_hunter_share": 0.5,
    "full_price_max_share": 0.1,
    "dtc_min_orders": 2,
    "predicted_new_days": 60,
    "likely_to_churn_p_alive": 0.3,
    "due_for_reorder_days": 14,
}

#: Store statistics computed at each refresh, among customers with orders.
STORE_STATISTICS = (
    "avg_aov",
    "avg_amount_spent",
    "net_sales_p95",
    "net_sales_p75",
    "net_sales_p50",
    "predicted_clv_p95",
    "predicted_clv_p80",
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
    no_orders = SegmentDef(
        "rfm_no_orders",
        "No orders",
        "number_of_orders = 0",
        "Known customers (subscribers, visitors) who never placed a counted order.",
        "Welcome and first-order series; they have no RFM scores.",
        "rfm",
        len(groups),
    )
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
    ] + [no_orders]


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

ENGAGEMENT = [
    SegmentDef(
        "engagement_unengaged_90d",
        "Unengaged 90+ days",
        "emails_received_90d >= 1 AND (days_since_last_click IS NULL "
        "OR days_since_last_click > {unengaged_days}) "
        "AND (customer_added_date IS NULL OR customer_added_date <= -{unengaged_days}d)",
        "Received email in the last 90 days but clicked none in 90 days: the deliverability "
        "sunset list. It comes first in its family whatever the open rate, because Apple Mail "
        "Privacy Protection opens every email it downloads.",
        "Sunset: one re-permission email, then stop sending; keep them in paid suppression.",
        "engagement",
        0,
    ),
    SegmentDef(
        "engagement_highly_engaged",
        "Highly engaged",
        "email_open_rate_90d > {highly_engaged_open_rate}",
        "Opened over 30% of the emails they received in the last 90 days (and clicked).",
        "Send the full calendar: launches, content, early access.",
        "engagement",
        1,
    ),
    SegmentDef(
        "engagement_moderately_engaged",
        "Moderately engaged",
        "email_open_rate_90d >= {low_engaged_open_rate}",
        "Opened 10-30% of the emails they received in the last 90 days.",
        "Regular cadence; test subject lines and send times to move them up.",
        "engagement",
        2,
    ),
    SegmentDef(
        "engagement_low_engaged",
        "Low engagement",
        "email_open_rate_90d < {low_engaged_open_rate}",
        "Opened under 10% of the emails they received in the last 90 days, but clicked one.",
        "Reduce frequency to the best-performing campaigns only.",
        "engagement",
        3,
    ),
]

PRICE = [
    SegmentDef(
        "price_bargain_hunters",
        "Bargain hunters",
        "number_of_orders >= {price_min_orders} AND (discount_order_share >= "
        "{bargain_hunter_share} OR sale_item_share >= {bargain_hunter_share})",
        "Repeat buyers with a discount on at least half their orders or at least half their "
        "items bought below compare-at price.",
        "Sale announcements and clearance; keep them off full-price launches' paid spend.",
        "price",
        0,
    ),
    SegmentDef(
        "price_full_price",
        "Full-price buyers",
        "number_of_orders >= {price_min_orders} AND discount_order_share <= "
        "{full_price_max_share} AND (sale_item_share IS NULL OR sale_item_share <= "
        "{full_price_max_share})",
        "Repeat buyers who almost never use a discount or buy on sale (10% or less).",
        "Never discount: new arrivals, exclusives, quality and service messages.",
        "price",
        1,
    ),
    SegmentDef(
        "price_value_shoppers",
        "Value shoppers",
        "number_of_orders >= {price_min_orders}",
        "Repeat buyers who sometimes buy on discount or sale.",
        "Bundles and value messaging; occasional, targeted offers.",
        "price",
        2,
    ),
]

#: Order channels that are the store's own (direct to consumer), see docs/data-model.md.
DTC_CHANNELS = "('web', 'app', 'pos')"

CHANNEL = [
    SegmentDef(
        "channel_marketplace_first",
        "Marketplace-first",
        "preferred_channel = 'marketplace'",
        "Most of their orders come through marketplaces.",
        "Invite them to the own store: first-order offer on the website, package inserts.",
        "channel",
        0,
    ),
    SegmentDef(
        "channel_social_shoppers",
        "Social shoppers",
        "preferred_channel = 'social'",
        "Most of their orders come through social commerce (Facebook, Instagram, TikTok).",
        "Reach them where they buy: shoppable posts, creator content, social retargeting.",
        "channel",
        1,
    ),
    SegmentDef(
        "channel_omnichannel",
        "Omnichannel",
        "channels_used >= 2",
        "Ordered through two or more channels.",
        "Consistent offers across channels; click-and-collect, in-store events.",
        "channel",
        2,
    ),
    SegmentDef(
        "channel_dtc_loyalists",
        "DTC loyalists",
        f"number_of_orders >= {{dtc_min_orders}} AND preferred_channel IN {DTC_CHANNELS}",
        "Repeat buyers who order only through the store's own channels (web, app, POS).",
        "Loyalty programme and app-only perks; they need no marketplace or ad spend.",
        "channel",
        3,
    ),
]

DEVICE = [
    SegmentDef(
        "device_mobile_first",
        "Mobile-first",
        "preferred_device = 'mobile'",
        "Most of their site and email activity is on a phone.",
        "Mobile-first creative, SMS, app install prompts, one-tap checkout.",
        "device",
        0,
    ),
    SegmentDef(
        "device_desktop_first",
        "Desktop-first",
        "preferred_device = 'desktop'",
        "Most of their site and email activity is on a computer.",
        "Richer emails and comparison content; send in working hours.",
        "device",
        1,
    ),
]

ENGAGEMENT_CROSS_CUTTING = [
    SegmentDef(
        "engagement_clickers_no_purchase",
        "Active clickers, no purchase",
        "emails_clicked_30d >= 1 AND (days_since_last_order IS NULL "
        "OR days_since_last_order > {clicker_no_purchase_days})",
        "Clicked an email in the last 30 days but placed no order in 90 days (or never).",
        "Follow the click: browse-based recommendations, social proof, a first-order nudge.",
    ),
    SegmentDef(
        "engagement_category_browsers",
        "Category browsers",
        "browsed_category IS NOT NULL",
        "Viewed one category's products at least 3 times in the last 30 days without buying "
        "from it.",
        "Category spotlight email with best sellers of `browsed_category`.",
    ),
]

PREDICTED = [
    SegmentDef(
        "predicted_vip",
        "Predicted VIP",
        "predicted_clv_12m >= {predicted_clv_p95} AND predicted_clv_12m > 0",
        "The top 5% of customers by predicted 12-month lifetime value (run `segmint predict`).",
        "Red carpet before they become VIPs: early access, a thank-you note, a value-based "
        "lookalike seed.",
    ),
    SegmentDef(
        "predicted_high_value_new",
        "Predicted high-value new customers",
        "first_order_date >= -{predicted_new_days}d "
        "AND predicted_clv_12m >= {predicted_clv_p80} AND predicted_clv_12m > 0",
        "First order in the last 60 days and predicted 12-month value in the top 20%.",
        "Premium onboarding: founder's welcome, best sellers in their category, no discount.",
    ),
    SegmentDef(
        "predicted_likely_to_churn",
        "Likely to churn",
        "number_of_orders >= 2 AND p_alive < {likely_to_churn_p_alive}",
        "Repeat buyers whose probability of still being active is under 0.3.",
        "Step in now: a personal win-back with what they used to buy, before they are gone.",
    ),
    SegmentDef(
        "predicted_due_for_reorder",
        "Due for reorder",
        "days_to_next_order >= 0 AND days_to_next_order <= {due_for_reorder_days}",
        "Expected next order within 14 days.",
        "Replenishment reminder timed to their rhythm; no discount needed.",
    ),
]

LIBRARY: list[SegmentDef] = [
    *_rfm_segments(),
    *LIFECYCLE,
    *VALUE,
    *ENGAGEMENT,
    *PRICE,
    *CHANNEL,
    *DEVICE,
    *CROSS_CUTTING,
    *ENGAGEMENT_CROSS_CUTTING,
    *PREDICTED,
]

#: Exclusive families in documentation order.
FAMILIES = ("rfm", "lifecycle", "value", "engagement", "price", "channel", "device")


#: Thresholds derived at each refresh: name -> (factor parameter, store statistic).
DERIVED = {
    "high_aov_threshold": ("high_aov_factor", "avg_aov"),
    "big_spender_threshold": ("big_spender_factor", "avg_amount_spent"),
}


def rule_values(parameters: dict[str, Any], statistics: dict[str, float]) -> dict[str, Any]:
    """Everything a library rule may name: parameters, statistics and derived thresholds."""
    values = {**parameters, **statistics}
    for name, (factor, statistic) in DERIVED.items():
        values[name] = round(parameters[factor] * statistics[statistic], 2)
    return values
