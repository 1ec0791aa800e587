"""``segmint campaign size``: what a campaign on a segment can show, before launch.

The segment's baseline conversion is measured on its history: the share of its members on
the day a window's length before the latest observation who ordered by then (or given). With
the arms' shares, :mod:`segmint.campaigns.sizing` turns it into the customers each variant
needs for a lift, and the lift the segment's current size can detect.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from segmint.campaigns.assignment import Arms
from segmint.campaigns.sizing import detectable_lift, sample_size_per_arm
from segmint.errors import ConfigError, WorkspaceError
from segmint.history import check_recorded, latest_observed, members_on, observed_on_or_before
from segmint.scorecard import Window, segment_kpis
from segmint.store import Store


def size_campaign(
    store: Store,
    segment: str,
    relative_lift: float,
    variants: int,
    holdout: float,
    window_days: int,
    baseline: float | None = None,
) -> dict[str, Any]:
    """``segment``, ``baseline_conversion``, ``eligible_per_arm``, ``relative_lift``,
    ``needed_per_arm`` and ``detectable_lift`` for a campaign of ``variants`` arms and a
    ``holdout`` share."""
    arms = Arms.of([f"V{i + 1}" for i in range(max(variants, 1))], holdout)
    slug = check_recorded(store, segment)
    latest = latest_observed(store)
    members = members_on(store, latest)
    size = int(store.scalar(members.filter(members.segment == slug).count()))
    rate = baseline if baseline is not None else _measured(store, slug, latest, window_days)
    if not rate or not 0 < rate < 1:
        raise ConfigError(
            f"the baseline conversion of {slug} over {window_days} days is {rate}: "
            "nothing to size on",
            hint="give one with --baseline (e.g. 3%)",
        )
    variant_share, control_share = arms.shares[0], arms.shares[-1]
    ratio = control_share / variant_share
    per_arm = int(size * variant_share)
    return {
        "segment": slug,
        "baseline_conversion": rate,
        "eligible_per_arm": per_arm,
        "relative_lift": relative_lift,
        "needed_per_arm": sample_size_per_arm(rate, relative_lift, ratio=ratio),
        "detectable_lift": detectable_lift(rate, max(per_arm, 1), ratio=ratio),
    }


def _measured(store: Store, slug: str, latest: Any, window_days: int) -> float | None:
    """The segment's members ``window_days`` before the latest observation: share who
    ordered by then."""
    start = latest - timedelta(days=window_days)
    try:
        observed_on_or_before(store, start)
    except WorkspaceError as exc:
        raise WorkspaceError(
            f"no segment history on or before {start} to measure the baseline on",
            hint="run `segmint backfill`, or give --baseline",
        ) from exc
    (measured, _) = segment_kpis(store, [slug], Window(start, latest))
    return measured["conversion_rate"]
