"""Are a campaign's arms alike? The sample ratio against the planned shares, and the
standardized mean difference of key features between each arm and the control."""

from __future__ import annotations

import math
from dataclasses import dataclass

from segmint.campaigns.assignment import HOLDOUT, Arms
from segmint.campaigns.stats import SampleRatioResult, sample_ratio_check
from segmint.features.tables import stored_features
from segmint.store import Store

#: Features compared across arms (those a segment's response depends on most).
BALANCE_FEATURES = (
    "amount_spent",
    "number_of_orders",
    "days_since_last_order",
    "aov",
    "email_open_rate_90d",
)
#: Above this absolute standardized mean difference, arms are called imbalanced (the usual
#: rule of thumb in trials and observational studies).
SMD_LIMIT = 0.1


@dataclass(frozen=True)
class BalanceCheck:
    sample_ratio: SampleRatioResult
    rows: list[dict]  # arm, feature, mean, control_mean, smd, balanced

    @property
    def balanced(self) -> bool:
        return not self.sample_ratio.mismatch and all(r["balanced"] for r in self.rows)

    def warnings(self) -> list[str]:
        found = [self.sample_ratio.message] if self.sample_ratio.mismatch else []
        found += [
            f"arm {r['arm']} differs from {r['control']} on {r['feature']}: standardized "
            f"mean difference {r['smd']:+.2f} (limit {SMD_LIMIT})"
            for r in self.rows
            if not r["balanced"]
        ]
        return found


def check_balance(store: Store, campaign_id: int, arms: Arms) -> BalanceCheck:
    """Sample ratio and feature balance of a stored assignment."""
    assigned = store.table("campaign_assignments")
    mine = assigned.filter(assigned.campaign_id == campaign_id)
    features = stored_features(store)
    present = [f for f in BALANCE_FEATURES if f in features.columns]
    joined = mine.left_join(features, "customer_id")
    stats = {}
    for feature in present:
        value = joined[feature].cast("float64")
        stats[f"{feature}__mean"] = value.mean()
        stats[f"{feature}__var"] = value.var()
    per_arm = store.run(
        joined.group_by("arm").aggregate(n=joined.count(), **stats)
        if present
        else joined.group_by("arm").aggregate(n=joined.count())
    ).to_pylist()
    by_arm = {row["arm"]: row for row in per_arm}
    observed = {arm: int(by_arm.get(arm, {}).get("n", 0)) for arm in arms.names}
    ratio = sample_ratio_check(observed, arms.bucket_shares())
    control = HOLDOUT if arms.has_holdout else arms.names[0]
    rows = []
    for arm in arms.names:
        if arm == control or arm not in by_arm or control not in by_arm:
            continue
        for feature in present:
            rows.append(_compare(feature, arm, by_arm[arm], control, by_arm[control]))
    return BalanceCheck(ratio, rows)


def _compare(feature: str, arm: str, mine: dict, control: str, theirs: dict) -> dict:
    mean, other = mine[f"{feature}__mean"], theirs[f"{feature}__mean"]
    spread = math.sqrt(((mine[f"{feature}__var"] or 0) + (theirs[f"{feature}__var"] or 0)) / 2)
    smd = (mean - other) / spread if mean is not None and other is not None and spread else 0.0
    return {
        "arm": arm,
        "control": control,
        "feature": feature,
        "mean": mean,
        "control_mean": other,
        "smd": smd,
        "balanced": abs(smd) <= SMD_LIMIT,
    }
