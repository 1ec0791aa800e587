"""``segmint validate-model``: the CDNOW holdout (weeks 40-78, 1,882 repeat transactions), the
demo store with the churn backtest, the stored run and plot, and the metrics on hand-made
numbers."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from segmint.errors import ConfigError
from segmint.models.bgnbd import BetaGeoModel
from segmint.models.runs import latest_run
from segmint.models.summary import customer_summary
from segmint.models.validation import (
    calibration_table,
    decile_groups,
    holdout_metrics,
    next_order_errors,
)
from segmint.validate import parse_holdout, validate_model

#: Fader, Hardie & Lee (2005), the BG/NBD estimates on CDNOW.
PUBLISHED_BGNBD = {"r": 0.2426, "alpha": 4.4136, "a": 0.7929, "b": 2.4259}


@pytest.fixture(scope="module")
def cdnow_validation(cdnow_shop, tmp_path_factory):
    ws, _ = cdnow_shop
    plot = tmp_path_factory.mktemp("cdnow_plot") / "cdnow.png"
    # 1998-06-30 less 39 weeks (273 days) is the published calibration end, 1997-09-30
    return validate_model(
        ws.store, 273, date(1998, 6, 30), "week", plot, with_churn=False, with_pareto=True
    )


def test_cdnow_holdout_reports_the_1882_repeat_transactions(cdnow_validation):
    result = cdnow_validation
    assert result.calibration_end == date(1997, 9, 30)
    orders = result.metrics["bg_nbd_orders"]
    assert orders["customers"] == 2357
    assert orders["actual"] == 1882
    assert result.metrics["pareto_nbd_orders"]["actual"] == 1882


def test_cdnow_predicted_total_matches_the_published_parameters(cdnow_validation, cdnow_shop):
    ws, _ = cdnow_shop
    summary = customer_summary(
        ws.table("orders"), ws.table("refunds"), date(1997, 9, 30), "week"
    ).to_pandas()
    published = BetaGeoModel.from_dict(
        {"model": "bg_nbd", "time_unit": "week", "params": PUBLISHED_BGNBD}
    )
    expected = published.expected_purchases(
        39, summary.frequency, summary.recency, summary["T"]
    ).sum()
    predicted = cdnow_validation.metrics["bg_nbd_orders"]["predicted"]
    assert predicted == pytest.approx(expected, rel=2e-3)
    pareto = cdnow_validation.metrics["pareto_nbd_orders"]["predicted"]
    # both models expect about 12% fewer repeat transactions than the 1,882 that came
    assert 1600 < predicted < 1882 and 1600 < pareto < 1882


def test_cdnow_calibration_table_adds_up(cdnow_validation):
    table = cdnow_validation.calibration
    assert list(table.decile) == list(range(1, 11))
    assert table.customers.sum() == 2357 and table.customers.max() - table.customers.min() <= 1
    assert (table.customers * table.actual_orders).sum() == pytest.approx(1882)
    assert (np.diff(table.predicted_orders) >= 0).all()
    png = cdnow_validation.plot.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000


def test_demo_validation_command(demo_shop, segmint_cli, tmp_path: Path):
    plot = tmp_path / "plot.png"
    args = ("validate-model", "--holdout", "13w", "--plot", str(plot), "--pareto-nbd", "--json")
    (record,) = json.loads(segmint_cli(demo_shop, *args).stdout)
    held = date.fromisoformat(record["holdout_end"]) - date.fromisoformat(record["calibration_end"])
    assert held == timedelta(days=91)
    assert [(r["model"], r["quantity"]) for r in record["holdout"]] == [
        ("bg_nbd", "orders"),
        ("bg_nbd", "spend"),
        ("pareto_nbd", "orders"),
    ]
    churn = {r["score"]: r for r in record["churn"]}
    assert set(churn) == {"gradient_boosting", "bg_nbd_1_minus_p_alive", "bg_nbd_p_no_order"}
    assert 0.5 < churn["gradient_boosting"]["roc_auc"] <= 1
    assert plot.read_bytes().startswith(b"\x89PNG")
    run = latest_run(demo_shop.store, "validation")
    assert run["run_id"] == record["run_id"] and run["calibration"] == record["calibration"]
    assert run["metrics"]["bg_nbd_orders"]["actual"] == record["holdout"][0]["actual"]
    assert set(run["models"]) == {"bg_nbd", "gamma_gamma", "pareto_nbd"}
    assert run["metrics"]["churn"]["scores"] == record["churn"]
    table = segmint_cli(demo_shop, "validate-model", "--no-churn", "--plot", str(plot)).stdout
    assert "Calibration by decile" in table and "Churn" not in table
    assert "bg_nbd" in table and "pareto_nbd" not in table


def test_holdout_durations():
    assert parse_holdout("90d") == 90 and parse_holdout("13w") == 91 and parse_holdout("30") == 30
    for bad in ("0d", "3m", "ninety"):
        with pytest.raises(ConfigError, match="is not a duration"):
            parse_holdout(bad)


def test_a_holdout_longer_than_the_data(demo_shop, segmint_cli):
    failed = segmint_cli(demo_shop, "validate-model", "--holdout", "5000d", code=1)
    assert failed.stderr.startswith("Error: no customer ordered by")


# -- metrics on hand-made numbers ------------------------------------------------------------
def test_holdout_metrics_by_hand():
    found = holdout_metrics(np.array([0, 2, 1, 3]), np.array([0.5, 1.5, 1.0, np.inf]))
    assert found["customers"] == 3  # the infinite prediction is left out
    assert found["actual"] == 3 and found["predicted"] == 3.0
    assert found["aggregate_error"] == 0 and found["mae"] == pytest.approx(1 / 3)


def test_deciles_split_ties_into_equal_groups():
    groups = decile_groups(np.zeros(25), groups=10)
    assert np.bincount(groups)[1:].tolist() == [3, 3, 3, 3, 3, 2, 2, 2, 2, 2]
    ranked = decile_groups(np.array([5.0, 1.0, 3.0, 2.0, 4.0]), groups=5)
    assert ranked.tolist() == [5, 1, 3, 2, 4]
    table = calibration_table(
        np.array([1.0, 2, 3, 4]), np.array([0.0, 2, 2, 6]), np.ones(4), np.zeros(4), groups=2
    )
    assert table.actual_orders.tolist() == [1.0, 4.0]
    assert table.predicted_orders.tolist() == [1.5, 3.5]


def test_next_order_errors_by_hand():
    nan = np.nan
    predicted = np.array([10.0, 20.0, 30.0, 200.0, nan, nan])
    actual = np.array([5.0, 25.0, nan, 50.0, 7.0, nan])
    found = next_order_errors(predicted, actual, holdout_days=90)
    assert found["customers_with_date"] == 4 and found["dates_in_holdout"] == 3
    assert found["ordered_by_date_share"] == pytest.approx(1 / 3)  # only the first
    assert found["ordered_in_holdout_share"] == pytest.approx(3 / 4)
    assert found["undated_ordered_share"] == 0.5
    assert found["median_absolute_error_days"] == 5.0  # -5 and +5
    assert found["mean_error_days"] == 0.0
