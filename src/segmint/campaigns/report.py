"""``segmint campaign report``: what a campaign caused, arm by arm, against its control.

Each variant is compared with the holdout (or, without one, with the first variant) on
conversion (two-proportion z test, Wald and log-ratio intervals), revenue per recipient
(Welch's t test when its normal approximation holds for such skewed data, else a seeded
bootstrap) and unsubscribes; the arm sizes are checked against the planned shares (sample
ratio mismatch). No winner is called before the window has ended (the workspace's data
reaches its last day) unless asked: the verdict then says it is interim.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from segmint.campaigns.outcomes import Span, data_through, outcomes
from segmint.campaigns.registry import Campaign, load_campaign
from segmint.campaigns.stats import (
    MeanResult,
    ProportionResult,
    SampleRatioResult,
    mean_test,
    proportion_test,
    sample_ratio_check,
    verdict,
)
from segmint.store import Store

COLUMNS = [
    "arm",
    "recipients",
    "metric",
    "value",
    "control_value",
    "absolute_lift",
    "ci_low",
    "ci_high",
    "relative_lift",
    "relative_ci_low",
    "relative_ci_high",
    "p_value",
    "method",
    "verdict",
]
METRICS = ("conversion_rate", "revenue_per_recipient", "aov", "unsubscribe_rate")


@dataclass(frozen=True)
class Report:
    campaign: Campaign
    span: Span
    data_through: Any
    window_ended: bool
    sample_ratio: SampleRatioResult
    rows: list[dict]  # COLUMNS

    def notes(self) -> list[str]:
        """What a reader must know before the numbers: window state, sample ratio."""
        found = []
        if not self.window_ended:
            found.append(
                f"the window ends on {self.span.last} and the data reaches {self.data_through}: "
                "results are incomplete"
            )
        if self.sample_ratio.mismatch:
            found.append(self.sample_ratio.message)
        return found


def campaign_report(
    store: Store, name: str, window_days: int | None = None, force: bool = False
) -> Report:
    """The report of campaign ``name`` over ``window_days`` (default: its own window) from
    the send day; ``force`` gives an interim verdict while the window is open."""
    campaign = load_campaign(store, name)
    span = Span.of(campaign.send_date, window_days or campaign.window_days)
    through = data_through(store)
    ended = through is not None and through >= span.last
    data = store.run(outcomes(store, campaign, span))
    arms = _by_arm(data.to_pydict(), campaign.arms.names)
    sizes = {arm: len(arms[arm]["revenue"]) for arm in campaign.arms.names}
    ratio = sample_ratio_check(sizes, campaign.arms.bucket_shares())
    rows = []
    control = arms[campaign.control]
    for arm in campaign.arms.names:
        mine = arms[arm]
        for metric in METRICS:
            row = {"arm": arm, "recipients": sizes[arm], "metric": metric}
            row["value"] = _value(mine, metric)
            if arm != campaign.control and sizes[arm] and sizes[campaign.control]:
                row.update(_comparison(metric, mine, control, arm, campaign.control, ended, force))
            rows.append({c: row.get(c) for c in COLUMNS})
    return Report(campaign, span, through, ended, ratio, rows)


def _by_arm(columns: dict[str, list], names: tuple[str, ...]) -> dict[str, dict[str, np.ndarray]]:
    """Per arm (every arm, even one nobody was assigned to): one array per outcome."""
    arm = np.asarray(columns["arm"], dtype=object)
    outcome = {
        "converted": np.asarray(columns["converted"], dtype=bool),
        "orders": np.asarray(columns["orders"], dtype=np.int64),
        "revenue": np.asarray(columns["revenue"], dtype=float),
        "unsub": np.asarray(columns["unsubscribed"], dtype=bool),
    }
    return {name: {k: v[arm == name] for k, v in outcome.items()} for name in names}


def _value(arm: dict[str, np.ndarray], metric: str) -> float | None:
    n = len(arm["revenue"])
    if not n:
        return None
    if metric == "conversion_rate":
        return float(arm["converted"].mean())
    if metric == "revenue_per_recipient":
        return float(arm["revenue"].mean())
    if metric == "unsubscribe_rate":
        return float(arm["unsub"].mean())
    orders = int(arm["orders"].sum())
    return float(arm["revenue"].sum()) / orders if orders else None


def _comparison(
    metric: str,
    mine: dict[str, np.ndarray],
    control: dict[str, np.ndarray],
    arm: str,
    control_name: str,
    ended: bool,
    force: bool,
) -> dict[str, Any]:
    found: dict[str, Any] = {"control_value": _value(control, metric)}
    result: ProportionResult | MeanResult
    if metric in ("conversion_rate", "unsubscribe_rate"):
        key = "converted" if metric == "conversion_rate" else "unsub"
        result = proportion_test(
            int(mine[key].sum()), len(mine[key]), int(control[key].sum()), len(control[key])
        )
    elif metric == "revenue_per_recipient":
        result = mean_test(mine["revenue"], control["revenue"])
    else:
        return found  # AOV is descriptive: its denominator (orders) is itself an outcome
    found.update(
        absolute_lift=result.absolute_lift,
        ci_low=result.ci_low,
        ci_high=result.ci_high,
        relative_lift=result.relative_lift,
        relative_ci_low=result.relative_ci_low,
        relative_ci_high=result.relative_ci_high,
        p_value=result.p_value,
        method=result.method,
    )
    if metric != "unsubscribe_rate":
        found["verdict"] = verdict(
            result, treatment=arm, control=control_name, window_ended=ended, force=force
        )
    return found
