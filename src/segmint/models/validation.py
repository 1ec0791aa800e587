"""How well predictions made at a calibration date match what customers did afterwards.

Given, per calibration customer, the predicted and actual transactions (order days) and spend
in the holdout period:

- aggregate error: (predicted total - actual total) / actual total;
- MAE: the mean absolute difference per customer;
- a calibration table: customers ranked by predicted transactions into ten groups of (nearly)
  equal size, each group's mean predicted and actual transactions and spend;
- next-order-date error: for customers with an expected next order date, the share who
  ordered by that date (the date is a median, so about half should have when it falls in the
  holdout), and, for those whose date and first holdout order both fall in the holdout, the
  days between the two.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DECILES = 10


def holdout_metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Totals, aggregate error and MAE of one predicted quantity over the holdout."""
    known = np.isfinite(predicted)
    actual, predicted = np.asarray(actual, float)[known], np.asarray(predicted, float)[known]
    total_actual, total_predicted = float(actual.sum()), float(predicted.sum())
    return {
        "customers": int(known.sum()),
        "actual": total_actual,
        "predicted": total_predicted,
        "aggregate_error": (total_predicted - total_actual) / total_actual
        if total_actual
        else math.nan,
        "mae": float(np.abs(predicted - actual).mean()) if len(actual) else math.nan,
        "actual_per_customer": float(actual.mean()) if len(actual) else math.nan,
    }


def decile_groups(predicted: np.ndarray, groups: int = DECILES) -> np.ndarray:
    """Group 1 (lowest predictions) to ``groups`` (highest) per customer, by rank: equal-size
    groups even when many predictions tie."""
    order = np.argsort(np.asarray(predicted, float), kind="stable")
    group = np.empty(len(order), dtype=np.int64)
    for number, members in enumerate(np.array_split(order, groups), start=1):
        group[members] = number
    return group


def calibration_table(
    predicted_orders: np.ndarray,
    actual_orders: np.ndarray,
    predicted_spend: np.ndarray,
    actual_spend: np.ndarray,
    groups: int = DECILES,
) -> pd.DataFrame:
    """Per group of predicted transactions: customers and the mean predicted and actual
    transactions and spend per customer."""
    frame = pd.DataFrame(
        {
            "decile": decile_groups(predicted_orders, groups),
            "predicted_orders": np.asarray(predicted_orders, float),
            "actual_orders": np.asarray(actual_orders, float),
            "predicted_spend": np.asarray(predicted_spend, float),
            "actual_spend": np.asarray(actual_spend, float),
        }
    )
    table = frame.groupby("decile").agg(
        customers=("predicted_orders", "size"),
        predicted_orders=("predicted_orders", "mean"),
        actual_orders=("actual_orders", "mean"),
        predicted_spend=("predicted_spend", "mean"),
        actual_spend=("actual_spend", "mean"),
    )
    return table.reset_index()


def next_order_errors(
    predicted_days: np.ndarray, actual_days: np.ndarray, holdout_days: int
) -> dict[str, Any]:
    """How the expected next order dates held up.

    ``predicted_days``: days from the calibration end to each customer's expected next order
    (NaN: none, the customer is more likely gone); ``actual_days``: days to their first order
    in the holdout (NaN: no order in it).
    """
    predicted = np.asarray(predicted_days, float)
    actual = np.asarray(actual_days, float)
    dated = np.isfinite(predicted)
    inside = dated & (predicted <= holdout_days)
    both = inside & np.isfinite(actual)
    errors = actual[both] - predicted[both]
    by_date = np.isfinite(actual[inside]) & (actual[inside] <= predicted[inside])
    return {
        "customers_with_date": int(dated.sum()),
        "dates_in_holdout": int(inside.sum()),
        "ordered_by_date_share": float(by_date.mean()) if inside.any() else math.nan,
        "ordered_in_holdout_share": float(np.isfinite(actual[dated]).mean())
        if dated.any()
        else math.nan,
        "undated_ordered_share": float(np.isfinite(actual[~dated]).mean())
        if (~dated).any()
        else math.nan,
        "median_absolute_error_days": float(np.median(np.abs(errors))) if both.any() else math.nan,
        "mean_error_days": float(errors.mean()) if both.any() else math.nan,
    }


def calibration_plot(table: pd.DataFrame, path: Path, title: str) -> Path:
    """Predicted against actual transactions and spend per decile, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, (orders, spend) = plt.subplots(1, 2, figsize=(11, 4.2))
    for axes, what, label in ((orders, "orders", "Orders"), (spend, "spend", "Spend")):
        axes.plot(table.decile, table[f"actual_{what}"], "o-", label="actual")
        axes.plot(table.decile, table[f"predicted_{what}"], "s--", label="predicted")
        axes.set_xlabel("decile of predicted orders (1 = lowest)")
        axes.set_ylabel(f"{label} per customer in the holdout")
        axes.set_xticks(list(table.decile))
        axes.grid(alpha=0.3)
        axes.legend()
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
