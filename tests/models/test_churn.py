"""The churn propensity model: labels against a pandas reference, the metrics by hand, the
backtest's windows, and the model against BG/NBD on the demo store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from segmint.errors import SegmintError
from segmint.importers.base import ImportOptions
from segmint.importers.mapped import load_mapping
from segmint.models.churn import (
    MODEL_SCORE,
    NO_ORDER_SCORE,
    P_ALIVE_SCORE,
    ChurnModel,
    backtest_windows,
    check_labels,
    churn_backtest,
    churn_labels,
    score_customers,
    top_count,
    top_decile_lift,
    top_decile_precision,
    training_frame,
)
from segmint.workspace import Workspace

AS_OF = date(2024, 6, 1)
HORIZON = 90  # (1 Jun, 30 Aug]

MAPPING = """\
kind: orders
namespace: shop
columns:
  order_id: id
  customer_id: customer
  placed_at: date
  status: status
  total: total
"""

#: Customers around the window after 1 Jun 2024 (labels: 2 Jun to 30 Aug inclusive).
EDGES = {
    "first_day": [("2024-05-01", "completed"), ("2024-06-02", "completed")],
    "last_day": [("2024-05-01", "completed"), ("2024-08-30", "shipped")],
    "day_after": [("2024-05-01", "completed"), ("2024-08-31", "completed")],
    "on_as_of": [("2024-06-01", "completed")],
    "cancelled": [("2024-04-01", "completed"), ("2024-07-01", "cancelled")],
    "voided_first": [("2024-05-20", "voided"), ("2024-06-10", "completed")],
    "new": [("2024-06-02", "completed")],
}


def synthetic_orders(customers: int = 150, seed: int = 7) -> list[tuple[str, str, str]]:
    """``(customer, day, status)``: a few orders each in 2024, some cancelled or voided."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(customers):
        start = int(rng.integers(0, 300))
        gap = float(rng.choice([15.0, 45.0, 120.0]))
        days = start + np.cumsum(rng.exponential(gap, size=int(rng.integers(1, 8))))
        for day in days[days < 366]:
            status = rng.choice(["completed", "completed", "completed", "cancelled", "voided"])
            rows.append((f"c{i:03d}", str(date(2024, 1, 1) + timedelta(days=int(day))), status))
    rows += [(name, day, status) for name, orders in EDGES.items() for day, status in orders]
    return rows


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """A workspace whose orders are :func:`synthetic_orders`, through the mapped importer."""
    folder = tmp_path_factory.mktemp("churn_shop")
    lines = ["id,customer,date,status,total"] + [
        f"{n},{customer},{day} 12:00:00,{status},{10 + n % 40}.00"
        for n, (customer, day, status) in enumerate(synthetic_orders(), start=1)
    ]
    (folder / "orders.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "shop.yaml").write_text(MAPPING, encoding="utf-8")
    ws = Workspace(folder / "shop.duckdb")
    options = ImportOptions(mapping=load_mapping(folder / "shop.yaml"))
    assert ws.import_file(folder / "orders.csv", options).rows_rejected == 0
    yield ws
    ws.close()


def names(ws: Workspace) -> dict[str, str]:
    identities = ws.table("identities").to_pandas()
    shop_names = identities.identity.str.removeprefix("shop:")
    return dict(zip(identities.customer_id, shop_names, strict=True))


def expected_labels(orders: pd.DataFrame, as_of: date, horizon: int) -> dict[str, bool]:
    """The label in plain pandas: customers with a placed order by ``as_of``; churned
    unless one falls on a day from ``as_of + 1`` to ``as_of + horizon``."""
    placed = orders[orders.status == "placed"]
    day = pd.to_datetime(placed.placed_date).dt.date
    population = set(placed.customer_id[day <= as_of])
    window = (day > as_of) & (day <= as_of + timedelta(days=horizon))
    returning = set(placed.customer_id[window])
    return {c: c not in returning for c in population}


def labels_of(ws: Workspace, as_of: date, horizon: int = HORIZON) -> dict[str, bool]:
    table = churn_labels(ws.table("orders"), as_of, horizon).to_pandas()
    return dict(zip(table.customer_id, table.churned.astype(bool), strict=True))


# -- labels -----------------------------------------------------------------------------------
def test_labels_at_the_window_edges(shop: Workspace):
    who = names(shop)
    got = {who[c]: churned for c, churned in labels_of(shop, AS_OF).items() if who[c] in EDGES}
    assert got == {
        "first_day": False,  # ordered on 2 Jun, the window's first day
        "last_day": False,  # ordered on 30 Aug, its last day
        "day_after": True,  # 31 Aug is outside
        "on_as_of": True,  # ordered on the as-of day only: in the population, churned
        "cancelled": True,  # a cancelled order does not count
    }  # voided_first: only a voided order by 1 Jun; new: first order after it
    assert labels_of(shop, AS_OF, horizon=88)[next(c for c, n in who.items() if n == "last_day")]


@pytest.mark.parametrize(
    ("as_of", "horizon"),
    [(AS_OF, HORIZON), (date(2024, 3, 15), 90), (date(2024, 10, 2), 30), (date(2024, 2, 1), 1)],
)
def test_labels_match_pandas(shop: Workspace, as_of: date, horizon: int):
    expected = expected_labels(shop.table("orders").to_pandas(), as_of, horizon)
    assert expected and labels_of(shop, as_of, horizon) == expected


def test_training_frame_has_the_label_population_and_no_predictions(shop: Workspace):
    frame = training_frame(shop.store, AS_OF)
    assert dict(zip(frame.customer_id, frame.churned, strict=True)) == labels_of(shop, AS_OF)
    assert list(frame.customer_id) == sorted(frame.customer_id)
    assert "p_alive" not in frame.columns and "expected_orders_90d" not in frame.columns
    assert {"days_since_last_order", "number_of_orders", "r_score"} <= set(frame.columns)
    assert frame.drop(columns=["customer_id", "churned"]).select_dtypes("number").shape[1] > 30


def test_windows_do_not_overlap():
    train, evaluate = backtest_windows(date(2024, 12, 31), 90)
    assert (train.as_of, train.first_day, train.last_day) == (
        date(2024, 7, 4),
        date(2024, 7, 5),
        date(2024, 10, 2),
    )
    assert evaluate.as_of == train.last_day and evaluate.first_day > train.last_day
    assert evaluate.last_day == date(2024, 12, 31)
    with pytest.raises(SegmintError, match="at least 1 day"):
        backtest_windows(date(2024, 12, 31), 0)


# -- metrics ----------------------------------------------------------------------------------
def test_precision_and_lift_by_hand():
    # 20 customers, 8 churners (base rate 0.4); the top decile is the 2 highest scores.
    churned = [1, 0, 1, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 1, 1, 0, 0, 0]
    score = np.linspace(1, 0, 20)
    assert top_decile_precision(churned, score) == 0.5
    assert top_decile_lift(churned, score) == pytest.approx(0.5 / 0.4)
    assert top_decile_precision(churned, -score) == 0.0  # the two lowest: 0 and 0
    # Ties at the cut count in proportion: the 2nd place is shared by 4 customers, 2 of
    # them churners, so it holds 0.5 churner: (1 + 0.5) / 2.
    tied = [0.9, 0.5, 0.5, 0.5, 0.5] + [0.1] * 15
    labels = [1, 1, 1, 0, 0] + [0] * 15
    assert top_decile_precision(labels, tied) == 0.75
    # A missing score ranks last.
    assert top_decile_precision([0, 1, 0] + [0] * 7, [np.nan, 0.2, 0.1] + [0.0] * 7) == 1.0


def test_top_count():
    assert [top_count(n) for n in (1, 5, 10, 11, 20, 25, 30, 3370)] == [1, 1, 1, 2, 2, 3, 3, 337]


def test_thin_windows_are_refused(shop: Workspace):
    with pytest.raises(SegmintError, match="only one kind of customer: all 3 churned"):
        check_labels([True, True, True], "the window")
    with pytest.raises(SegmintError, match="all 2 ordered again"):
        check_labels([False, False], "the window")
    with pytest.raises(SegmintError, match=r"training window \(as of 2023-07-05\) has no cust"):
        churn_backtest(shop.store, end=date(2024, 1, 1), horizon_days=90)
    with pytest.raises(SegmintError, match="call .fit"):
        ChurnModel().predict_proba(pd.DataFrame())


# -- the model --------------------------------------------------------------------------------
def test_score_customers(shop: Workspace):
    """Every customer with an order by the day is scored, by a model trained on the 90 days
    before it."""
    scores = score_customers(shop.store, as_of=date(2024, 12, 1))
    assert list(scores.customer_id) == sorted(labels_of(shop, date(2024, 12, 1)))
    assert scores.churn_probability.between(0, 1).all()
    assert scores.churn_probability.nunique() > 1


@pytest.fixture(scope="module")
def backtest(demo_shop: Workspace):
    return churn_backtest(demo_shop.store)


@pytest.mark.slow
def test_backtest_on_the_demo_store(demo_shop: Workspace, backtest):
    end = demo_shop.table("orders").placed_date.max().to_pyarrow().as_py()
    assert backtest.end == end and backtest.evaluate.last_day == end
    assert backtest.train.last_day < backtest.evaluate.first_day
    orders = demo_shop.table("orders").to_pandas()
    expected = expected_labels(orders, backtest.evaluate.as_of, 90)
    assert backtest.evaluate.customers == len(expected)
    assert backtest.base_rate == pytest.approx(np.mean(list(expected.values())))
    trained = expected_labels(orders, backtest.train.as_of, 90)
    assert (backtest.train.customers, backtest.train.churners) == (
        len(trained),
        sum(trained.values()),
    )
    assert 0.5 < backtest.score(MODEL_SCORE).roc_auc <= 1
    for name in (P_ALIVE_SCORE, NO_ORDER_SCORE):
        baseline = backtest.score(name)
        assert 0 <= baseline.roc_auc <= 1 and 0 <= baseline.precision_top_decile <= 1
        assert baseline.lift_top_decile == pytest.approx(
            baseline.precision_top_decile / backtest.base_rate
        )
    assert "p_alive" not in backtest.features and "days_since_last_order" in backtest.features
    assert set(backtest.to_dict()["baseline"]) >= {"r", "alpha", "a", "b"}


@pytest.mark.slow
def test_backtest_rows_are_json(backtest):
    rows = backtest.as_rows()
    assert [r["score"] for r in rows] == [MODEL_SCORE, P_ALIVE_SCORE, NO_ORDER_SCORE]
    assert {r["customers"] for r in rows} == {backtest.evaluate.customers}
    record = json.loads(json.dumps(backtest.to_dict(), allow_nan=False))
    assert record["evaluate"]["labels_to"] == backtest.end.isoformat()
    assert record["train"]["labels_to"] == record["evaluate"]["features_as_of"]
