"""What the models are fitted on, and plain warnings when it is too thin to trust.

Buy-till-you-die models learn how often customers come back and how they drop out; with few
customers, a short history or almost no repeat buyers the estimates are noisy and the
predictions mostly echo the population average. The fit still runs when asked; these
warnings say so, and are stored with the run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import ibis.expr.types as ir

#: Below these, predictions get a thin-data warning.
MIN_CUSTOMERS = 500
MIN_HISTORY_DAYS = 180
MIN_REPEAT_BUYERS = 100
MIN_REPEAT_SHARE = 0.05


@dataclass(frozen=True)
class DataProfile:
    """The per-customer summary in a few numbers."""

    customers: int  # with at least one counted order
    repeat_buyers: int  # with at least one repeat transaction
    first_order_date: date | None
    calibration_end: date

    @property
    def history_days(self) -> int:
        """Days from the first order in the data to the calibration end, both included."""
        if self.first_order_date is None:
            return 0
        return (self.calibration_end - self.first_order_date).days + 1

    @property
    def repeat_share(self) -> float:
        return self.repeat_buyers / self.customers if self.customers else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["first_order_date"] = _iso(self.first_order_date)
        data["calibration_end"] = _iso(self.calibration_end)
        data["history_days"] = self.history_days
        data["repeat_share"] = round(self.repeat_share, 4)
        return data


def data_profile(summary: ir.Table, calibration_end: date) -> DataProfile:
    """Customers, repeat buyers and first order day of a customer summary, in the engine."""
    row = (
        summary.aggregate(
            customers=summary.count(),
            repeat_buyers=summary.count(where=summary.frequency > 0),
            first_order_date=summary.first_order_date.min(),
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    return DataProfile(
        customers=int(row["customers"] or 0),
        repeat_buyers=int(row["repeat_buyers"] or 0),
        first_order_date=row["first_order_date"],
        calibration_end=calibration_end,
    )


def thin_data_warnings(profile: DataProfile) -> list[str]:
    """One plain sentence per way the data is too thin for trustworthy predictions."""
    warnings = []
    if profile.customers < MIN_CUSTOMERS:
        warnings.append(
            f"only {profile.customers:,} customers with orders (fewer than {MIN_CUSTOMERS}): "
            "the models' parameters are uncertain and predictions are rough"
        )
    if profile.history_days < MIN_HISTORY_DAYS:
        warnings.append(
            f"only {profile.history_days} days of order history (under {MIN_HISTORY_DAYS}): "
            "too short to see how often customers come back or when they drop out"
        )
    if profile.repeat_buyers < MIN_REPEAT_BUYERS or profile.repeat_share < MIN_REPEAT_SHARE:
        warnings.append(
            f"few repeat buyers ({profile.repeat_buyers:,}, {profile.repeat_share:.1%} of "
            f"customers; want at least {MIN_REPEAT_BUYERS} and {MIN_REPEAT_SHARE:.0%}): "
            "the spend model and repeat rates rest on little evidence"
        )
    return warnings


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
