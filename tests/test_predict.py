"""``segmint predict``: predictions stored as features, the predictive library segments, the
model run record and thin-data warnings, on the demo store and a tiny hand-made one."""

from __future__ import annotations

import json
import math
import random
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmint.features import customer_features
from segmint.importers.base import ImportOptions
from segmint.importers.mapped import load_mapping
from segmint.models.bgnbd import BetaGeoModel
from segmint.models.gammagamma import GammaGammaModel
from segmint.models.runs import latest_run
from segmint.models.scoring import FittedModels, score_batches, summary_batches
from segmint.workspace import Workspace


@pytest.fixture(scope="module")
def predictions(predicted_shop: Workspace) -> pd.DataFrame:
    return predicted_shop.table("predictions").to_pandas().set_index("customer_id")


@pytest.fixture(scope="module")
def features(predicted_shop: Workspace) -> pd.DataFrame:
    return predicted_shop.features().to_pandas().set_index("customer_id")


@pytest.fixture(scope="module")
def members(predicted_shop: Workspace) -> dict[str, set[str]]:
    table = predicted_shop.table("segment_members").to_pandas()
    return {name: set(group.customer_id) for name, group in table.groupby("segment")}


@pytest.fixture(scope="module")
def run(predicted_shop: Workspace) -> dict:
    found = latest_run(predicted_shop.store, "predict")
    assert found is not None
    return found


def fitted(run: dict) -> FittedModels:
    return FittedModels(
        BetaGeoModel.from_dict(run["models"]["bg_nbd"]),
        GammaGammaModel.from_dict(run["models"]["gamma_gamma"]),
        run["data_summary"]["monthly_discount"],
    )


def nearest_rank(values: pd.Series, q: float) -> float:
    ordered = np.sort(values.to_numpy(dtype=float))
    return float(ordered[max(1, math.ceil(q * len(ordered))) - 1])


def test_every_customer_with_orders_has_predictions(predictions, features, run):
    buyers = features[features.number_of_orders >= 1]
    assert set(predictions.index) == set(buyers.index)
    assert predictions.p_alive.between(0, 1).all()
    assert (predictions.expected_orders_90d >= 0).all()
    assert (predictions.predicted_clv_12m > 0).all()
    # frequency is repeat order days: at most the orders less one, at least 0
    joined = predictions.join(buyers.number_of_orders)
    assert (joined.frequency <= joined.number_of_orders - 1).all()
    assert (predictions.as_of == pd.Timestamp(run["as_of"])).all()


def test_predictions_are_features(predictions, features):
    joined = features.join(predictions, rsuffix="_stored", how="inner")
    assert np.allclose(joined.p_alive, joined.p_alive_stored)
    assert np.allclose(
        joined.predicted_clv_12m.astype(float), joined.predicted_clv_12m_stored, atol=0.005
    )
    assert (joined.churn_risk == joined.churn_risk_stored).all()
    nobody = features[features.number_of_orders == 0]
    assert nobody.p_alive.isna().all() and nobody.churn_risk.isna().all()


def test_churn_risk_tiers_follow_p_alive(predictions):
    risk = 1 - predictions.p_alive
    expected = np.where(risk < 0.33, "low", np.where(risk <= 0.66, "medium", "high"))
    assert (predictions.churn_risk.to_numpy() == expected).all()
    assert set(predictions.churn_risk) == {"low", "medium", "high"}


def test_next_order_date_is_when_an_order_becomes_more_likely_than_not(predictions, run):
    model = fitted(run).orders
    as_of = pd.Timestamp(run["as_of"])
    known = predictions[predictions.next_order_date.notna()].head(300)
    days = (pd.to_datetime(known.next_order_date) - as_of).dt.days.to_numpy()
    args = (known.frequency, known.recency, known["T"])
    # P(no order by then) is at most 1/2; a day earlier it was above 1/2
    assert (model.probability_no_order(days / 7, *args) <= 0.5 + 1e-12).all()
    assert (model.probability_no_order((days - 1) / 7, *args) > 0.5).all()
    unknown = predictions[predictions.next_order_date.isna()]
    assert len(unknown) and (unknown.p_alive <= 0.5).all()


def test_scoring_in_small_batches_gives_the_stored_predictions(predicted_shop, predictions, run):
    from segmint.models.summary import customer_summary

    store = predicted_shop.store
    as_of = run["as_of"]
    summary = customer_summary(store.table("orders"), store.table("refunds"), as_of, "week")
    staged = store.stage("_test_summary", summary)
    batches = list(score_batches(summary_batches(staged, batch_size=97), fitted(run), as_of))
    assert max(b.num_rows for b in batches) == 97
    one_thread = score_batches(summary_batches(staged, batch_size=97), fitted(run), as_of, 1)
    assert [b.to_pylist() for b in one_thread] == [b.to_pylist() for b in batches]  # in order
    store.refill("_test_summary", summary)  # refilled: its rowids go on from the old ones
    again = score_batches(summary_batches(staged, batch_size=97), fitted(run), as_of)
    rows = sorted((r for b in batches for r in b.to_pylist()), key=lambda r: r["customer_id"])
    rows_again = [r for b in again for r in b.to_pylist()]  # the group-by's order may differ
    assert sorted(rows_again, key=lambda r: r["customer_id"]) == rows
    scored = pd.concat([b.to_pandas() for b in batches]).set_index("customer_id")
    assert len(scored) == len(predictions)
    stored = predictions.loc[scored.index]
    for column in ("p_alive", "expected_orders_90d", "predicted_clv_12m"):
        assert np.allclose(scored[column], stored[column], rtol=1e-12)
    dates = [pd.to_datetime(d.next_order_date) for d in (scored, stored)]
    assert dates[0].isna().equals(dates[1].isna())
    assert (dates[0].dropna() == dates[1].dropna()).all()


def test_predicted_vip_is_the_top_5_percent_by_predicted_clv(features, members):
    clv = features.predicted_clv_12m.dropna().astype(float)
    cut = nearest_rank(clv, 0.95)
    expected = set(clv[(clv >= cut) & (clv > 0)].index)
    assert members["predicted_vip"] == expected
    assert 0.04 <= len(expected) / len(clv) <= 0.06


def test_predicted_high_value_new_customers(features, members, run):
    clv = features.predicted_clv_12m.astype(float)
    cut = nearest_rank(clv.dropna(), 0.8)
    since = pd.Timestamp(run["as_of"]) - timedelta(days=60)
    first = pd.to_datetime(features.first_order_date)
    expected = set(features[(first >= since) & (clv >= cut) & (clv > 0)].index)
    assert expected and members["predicted_high_value_new"] == expected


def test_likely_to_churn_and_due_for_reorder(features, members):
    churn = features[(features.number_of_orders >= 2) & (features.p_alive < 0.3)]
    assert churn.index.size and members["predicted_likely_to_churn"] == set(churn.index)
    days = features.days_to_next_order
    due = set(features[(days >= 0) & (days <= 14)].index)
    assert members.get("predicted_due_for_reorder", set()) == due


def test_rules_can_use_predictions(predicted_shop, features, segmint_cli):
    rule = "p_alive < 0.5 AND churn_risk = 'high' AND expected_orders_90d < 0.1"
    args = ("segments", "preview", rule, "--limit", "0", "--json")
    out = json.loads(segmint_cli(predicted_shop, *args).stdout)
    expected = features[
        (features.p_alive < 0.5)
        & (features.churn_risk == "high")
        & (features.expected_orders_90d < 0.1)
    ]
    assert {r["customer_id"] for r in out} == set(expected.index)
    assert len(expected) > 0


def test_the_run_is_recorded_with_its_models(run, predictions):
    assert run["kind"] == "predict" and run["time_unit"] == "week"
    assert run["calibration_end"] == run["as_of"]
    orders = BetaGeoModel.from_dict(run["models"]["bg_nbd"])
    assert set(orders.params_) == {"r", "alpha", "a", "b"}
    assert orders.customers_ == len(predictions)
    spend = GammaGammaModel.from_dict(run["models"]["gamma_gamma"])
    repeaters = int((predictions.frequency > 0).sum())
    assert spend.excluded_no_repeat_ == len(predictions) - repeaters
    assert spend.customers_ + spend.excluded_nonpositive_ == repeaters
    summary = run["data_summary"]
    assert summary["customers"] == len(predictions)
    assert summary["repeat_buyers"] == repeaters
    assert run["warnings"] == []  # 4,000+ buyers over two and a half years


def test_features_as_of_an_earlier_day_do_not_see_later_predictions(tmp_path, import_demo_shop):
    ws = import_demo_shop(tmp_path / "shop.duckdb")
    try:
        result = ws.predict(date(2026, 6, 30), then_refresh=False)
        # (a refresh as of a day before the live one only records history: compute directly)
        before = customer_features(ws.store, date(2026, 3, 31)).table.to_pandas()
        assert before.p_alive.isna().all()
        after = customer_features(ws.store, date(2026, 7, 31)).table.to_pandas()
        after = after.set_index("customer_id")
        stored = ws.table("predictions").to_pandas().set_index("customer_id")
        assert (stored.as_of == pd.Timestamp(result.as_of)).all()
        joined = after.join(stored.next_order_date.rename("stored"), how="inner")
        days = (pd.to_datetime(joined.stored) - pd.Timestamp("2026-07-31")).dt.days
        shown = joined.days_to_next_order
        assert (shown.isna() == days.isna()).all() and (shown.dropna() == days.dropna()).all()
    finally:
        ws.close()


# -- a tiny store: the fit still runs, and says the data is thin --------------------------
MAPPING = """\
kind: orders
namespace: tiny
columns:
  order_id: id
  customer_id: customer
  placed_at: date
  total: total
"""


def tiny_orders(path: Path, customers: int = 60, days: int = 120) -> None:
    rng = random.Random(5)
    start = date(2025, 1, 1)
    lines = ["id,customer,date,total"]
    for c in range(customers):
        first = rng.randrange(days // 2)
        for k in range(1 + (c % 3 == 0) * rng.randrange(1, 4)):
            day = start + timedelta(days=min(days - 1, first + 20 * k))
            lines.append(f"{len(lines)},c{c},{day} 10:00:00,{rng.randrange(20, 200)}.00")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_thin_data_still_fits_and_says_so(workspace: Workspace, tmp_path: Path, segmint_cli):
    (tmp_path / "tiny.yaml").write_text(MAPPING, encoding="utf-8")
    tiny_orders(tmp_path / "orders.csv")
    options = ImportOptions(mapping=load_mapping(tmp_path / "tiny.yaml"))
    assert workspace.import_file(tmp_path / "orders.csv", options).rows_rejected == 0
    path = workspace.store.path
    workspace.close()
    result = segmint_cli(path, "predict", "--json")
    (record,) = json.loads(result.stdout)
    # the three thin-data warnings, and any about a fit that cannot settle on so little data
    assert record["customers"] == 60 and record["warnings"] >= 3
    assert "Warning: only 60 customers with orders (fewer than 500)" in result.stderr
    assert "days of order history (under 180)" in result.stderr
    assert "Warning: few repeat buyers (20, 33.3% of customers" in result.stderr
    with Workspace(path) as ws:
        assert len(latest_run(ws.store, "predict")["warnings"]) == record["warnings"]
        assert ws.table("predictions").count().execute() == 60


def test_predict_without_orders_is_an_error(workspace: Workspace, segmint_cli):
    path = workspace.store.path
    workspace.close()
    result = segmint_cli(path, "predict", code=1)
    assert result.stderr.startswith("Error: no counted orders")
    bad = segmint_cli(path, "predict", "--time-unit", "month", code=1)
    assert bad.stderr.startswith("Error: --time-unit: 'month' is not a time unit")
