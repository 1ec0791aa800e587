"""One play per action segment: the message, the offer, the channel and the goal.

The library's action segments carry these defaults; ``segments.yaml`` overrides any field
under ``plays:`` (and gives plays to the user's own segments)::

    plays:
      rfm_at_risk:
        offer: 20% off, one use, 14 days
        priority: 2

Lower ``priority`` wins a customer who is in several campaigns.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from segmint.errors import ConfigError


@dataclass(frozen=True)
class Play:
    angle: str
    offer: str
    channel: str  # an export destination
    goal: str  # a KPI of segmint.activation.kpis
    cadence: str
    priority: int


PLAY_KEYS = tuple(f.name for f in fields(Play))

DEFAULT_PLAYS: dict[str, Play] = {
    "engagement_cart_abandoners": Play(
        "You left something behind: the items, then reviews of them",
        "none at first; free shipping in the last reminder",
        "klaviyo",
        "cart_recovery_rate_7d",
        "1 hour, 1 day and 3 days after the cart",
        1,
    ),
    "rfm_cant_lose_them": Play(
        "We miss you: a personal note and what is new in what they used to buy",
        "the strongest offer of the season (15% off, one use)",
        "klaviyo",
        "winback_rate_90d",
        "3 emails over 2 weeks, then stop",
        2,
    ),
    "predicted_likely_to_churn": Play(
        "Step in before they go: their favourites, restocked",
        "10% off their next order, valid 14 days",
        "klaviyo",
        "winback_rate_90d",
        "2 emails over 10 days",
        3,
    ),
    "rfm_at_risk": Play(
        "It has been a while: what changed? A short survey and new arrivals",
        "10% off, one use",
        "klaviyo",
        "winback_rate_90d",
        "3 emails over 3 weeks",
        4,
    ),
    "rfm_champions": Play(
        "Thank you: early access to the next launch, ask for a review or a referral",
        "no discount: early access and a referral reward",
        "klaviyo",
        "order_rate_90d",
        "one email per launch",
        5,
    ),
    "predicted_vip": Play(
        "Seed a value-based lookalike audience with the customers worth most",
        "none (acquisition audience)",
        "meta",
        "order_rate_90d",
        "refresh the seed monthly",
        6,
    ),
    "rfm_new": Play(
        "Onboarding: how to get the most from the first purchase, then what goes with it",
        "a small second-order incentive after day 14",
        "klaviyo",
        "repeat_rate_90d",
        "days 2, 7, 14 and 30 after the first order",
        7,
    ),
    "rfm_potential_loyalist": Play(
        "Join the loyalty programme: personalised recommendations",
        "double points on the next order",
        "klaviyo",
        "repeat_rate_90d",
        "every 2 weeks",
        8,
    ),
    "rfm_about_to_sleep": Play(
        "Popular now: best sellers in their categories",
        "5% off, 7 days",
        "klaviyo",
        "winback_rate_90d",
        "2 emails over 2 weeks",
        9,
    ),
    "engagement_unengaged_90d": Play(
        "Sunset: one re-permission email ('still want to hear from us?')",
        "none",
        "klaviyo",
        "click_rate_90d",
        "once, then stop sending",
        10,
    ),
}


def plays_with_overrides(overrides: dict[str, dict[str, Any]], known: list[str]) -> dict[str, Play]:
    """The default plays with ``segments.yaml``'s ``plays:`` applied (checked)."""
    plays = dict(DEFAULT_PLAYS)
    for slug, changes in overrides.items():
        if slug not in known:
            raise ConfigError(f"plays: no segment named {slug!r}")
        unknown = set(changes) - set(PLAY_KEYS)
        if unknown:
            raise ConfigError(
                f"plays: {slug}: unknown key {sorted(unknown)[0]!r}",
                hint="keys: " + ", ".join(PLAY_KEYS),
            )
        if slug in plays:
            plays[slug] = replace(plays[slug], **changes)
        else:
            missing = set(PLAY_KEYS) - set(changes)
            if missing:
                raise ConfigError(
                    f"plays: {slug} is not a library action segment: give every key "
                    f"(missing: {', '.join(sorted(missing))})"
                )
            plays[slug] = Play(**changes)
    return plays
