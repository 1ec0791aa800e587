"""``segmint validate-model``: fit at a past date, compare with what customers did next.

The last ``holdout`` days before the end (default: the latest order day) are held out: the
models are fitted on the customer summary at the calibration end (the day before the
holdout starts) and their predictions for the holdout are compared, customer by customer,
with the transactions and spend that followed (:mod:`segmint.models.validation`). BG/NBD and
Pareto/NBD are compared side by side; the churn propensity model is backtested on its own
windows (:func:`segmint.models.churn.churn_backtest`). Every validation is a ``model_runs``
row (kind ``validation``) with its metrics and calibration table, and the calibration plot
is saved as a PNG.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from segmint.errors import ConfigError, SegmintError
from segmint.models.checks import data_profile, thin_data_warnings
from segmint.models.churn import ChurnBacktest, churn_backtest
from segmint.models.paretonbd import ParetoNBDModel
from segmint.models.runs import ModelRun, next_run_id, record_run
from segmint.models.scoring import FittedModels, fit_models, weighted_rows
from segmint.models.summary import (
    TIME_UNITS,
    customer_summary,
    holdout_summary,
    latest_order_date,
)
from segmint.models.validation import (
    calibration_plot,
    calibration_table,
    holdout_metrics,
    next_order_errors,
)
from segmint.predict import model_warnings
from segmint.store import Store

DURATION = re.compile(r"^\s*(\d+)\s*([dw])\s*$")


@dataclass(frozen=True)
class ValidationResult:
    run_id: int
    calibration_end: date
    holdout_end: date
    metrics: dict[str, Any]
    calibration: pd.DataFrame
    models: FittedModels
    churn: ChurnBacktest | None = None
    plot: Path | None = None
    warnings: list[str] = field(default_factory=list)

    def holdout_rows(self) -> list[dict[str, Any]]:
        """One row per model and quantity: actual and predicted totals, errors."""
        rows = []
        for model in ("bg_nbd", "pareto_nbd"):
            for quantity in ("orders", "spend"):
                found = self.metrics.get(f"{model}_{quantity}")
                if found:
                    rows.append({"model": model, "quantity": quantity, **found})
        return rows

    def as_record(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "calibration_end": self.calibration_end,
            "holdout_end": self.holdout_end,
            "holdout": self.holdout_rows(),
            "next_order": self.metrics["next_order"],
            "calibration": self.calibration.to_dict("records"),
            "churn": self.churn.as_rows() if self.churn else None,
            "plot": str(self.plot) if self.plot else None,
            "warnings": self.warnings,
        }


def parse_holdout(text: str) -> int:
    """``90d`` or ``13w`` (or a plain number of days) as days."""
    if text.strip().isdigit():
        return int(text)
    found = DURATION.match(text)
    if not found or int(found[1]) == 0:
        raise ConfigError(
            f"--holdout: '{text}' is not a duration", hint="use days or weeks: 90d, 13w"
        )
    return int(found[1]) * (7 if found[2] == "w" else 1)


def validate_model(
    store: Store,
    holdout_days: int = 90,
    end: date | None = None,
    time_unit: str = "week",
    plot: Path | None = None,
    with_churn: bool = True,
    with_pareto: bool = False,
) -> ValidationResult:
    """Fit on the data before the last ``holdout_days`` days up to ``end`` and score the
    predictions against the holdout; records the run and writes the plot to ``plot``.

    ``with_pareto`` compares Pareto/NBD too (slow where the data shows no dropout: its
    dropout rate's scale then runs off to infinity)."""
    orders, refunds = store.table("orders"), store.table("refunds")
    end = end or latest_order_date(orders)
    calibration_end = end - timedelta(days=holdout_days)
    run = ModelRun(
        kind="validation",
        as_of=end,
        calibration_end=calibration_end,
        holdout_end=end,
        time_unit=time_unit,
    )
    summary = store.stage(
        "_validation_summary", customer_summary(orders, refunds, calibration_end, time_unit)
    )
    profile = data_profile(summary, calibration_end)
    if profile.customers == 0:
        raise SegmintError(
            f"no customer ordered by {calibration_end}, the day before the {holdout_days}-day "
            "holdout",
            hint="use a shorter --holdout",
        )
    models = fit_models(summary, time_unit)
    pareto = _fit_pareto(summary, time_unit) if with_pareto else None
    customers = _holdout_frame(orders, refunds, summary, calibration_end, end)
    metrics, calibration = _compare(customers, models, pareto, holdout_days)
    run.warnings = thin_data_warnings(profile) + model_warnings(models)
    churn = _churn(store, end, run.warnings) if with_churn else None
    if churn is not None:
        metrics["churn"] = churn.to_dict()
    fitted = [models.orders, models.spend, *([pareto] if pareto else [])]
    run.models = {m.NAME: m.to_dict() for m in fitted}
    run.data_summary = profile.to_dict() | {"holdout_days": holdout_days}
    run.metrics = metrics
    run.calibration = calibration.to_dict("records")
    run_id = next_run_id(store)
    record_run(store, run, run_id)
    store.con.drop_table("_validation_summary", force=True)
    if plot is not None:
        title = f"Holdout {calibration_end + timedelta(days=1)} to {end} (BG/NBD + Gamma-Gamma)"
        plot = calibration_plot(calibration, plot, title)
    return ValidationResult(
        run_id, calibration_end, end, metrics, calibration, models, churn, plot, run.warnings
    )


def _fit_pareto(summary: ir.Table, time_unit: str) -> ParetoNBDModel:
    rows = weighted_rows(summary)
    return ParetoNBDModel(time_unit).fit(
        *(rows.column(c).to_numpy() for c in ("frequency", "recency", "T", "n"))
    )


def _holdout_frame(
    orders: ir.Table, refunds: ir.Table, summary: ir.Table, calibration_end: date, end: date
) -> pd.DataFrame:
    """Per calibration customer: the summary, holdout transactions and spend, and the days
    from the calibration end to their first holdout order (NaN: none)."""
    holdout = holdout_summary(orders, refunds, calibration_end, end)
    joined = summary.join(holdout, "customer_id")
    frame = joined.select(
        "customer_id",
        "frequency",
        "recency",
        "T",
        "monetary_value",
        "holdout_transactions",
        "holdout_spend",
        first_after=joined.first_holdout_day.delta(calibration_end, unit="day").cast("float64"),
    ).to_pandas()
    return frame.sort_values("customer_id", ignore_index=True)


def _compare(
    customers: pd.DataFrame,
    models: FittedModels,
    pareto: ParetoNBDModel | None,
    holdout_days: int,
) -> tuple[dict[str, Any], pd.DataFrame]:
    x, t_x, age = (customers[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    horizon = holdout_days / TIME_UNITS[models.orders.time_unit]
    actual_orders = customers.holdout_transactions.to_numpy(float)
    actual_spend = customers.holdout_spend.to_numpy(float)
    predicted_orders = models.orders.expected_purchases(horizon, x, t_x, age)
    spend = models.spend.expected_spend(x, customers.monetary_value.to_numpy(float))
    predicted_spend = predicted_orders * spend
    waiting = models.orders.median_time_to_next_order(x, t_x, age) * models.days_per_unit
    metrics = {
        "bg_nbd_orders": holdout_metrics(actual_orders, predicted_orders),
        "bg_nbd_spend": holdout_metrics(actual_spend, predicted_spend),
        "next_order": next_order_errors(
            np.ceil(waiting), customers.first_after.to_numpy(float), holdout_days
        ),
    }
    if pareto is not None:
        pareto_orders = pareto.expected_purchases(horizon, x, t_x, age)
        metrics["pareto_nbd_orders"] = holdout_metrics(actual_orders, pareto_orders)
    table = calibration_table(predicted_orders, actual_orders, predicted_spend, actual_spend)
    return metrics, table


def _churn(store: Store, end: date, warnings: list[str]) -> ChurnBacktest | None:
    """The churn model's backtest, or a warning saying why there is none."""
    try:
        return churn_backtest(store, end)
    except SegmintError as exc:
        warnings.append(f"no churn model backtest: {exc.message}")
        return None
