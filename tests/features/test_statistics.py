"""Store statistics (averages and percentiles of the buyers), alone and with the RFM cut
points in one query, on a population worked by hand."""

from __future__ import annotations

from decimal import Decimal

import ibis
import pyarrow as pa
import pytest

from segmint.features.quantiles import _distinct_columns, nearest_rank_cut_points_of
from segmint.features.rfm import rfm_cut_points
from segmint.features.statistics import statistics_and_rfm_cut_points, store_statistics

#: customer -> (days since last order, number of orders, amount spent, net sales, AOV)
BUYERS = {
    f"c{i}": (i, 1 + i % 4, Decimal(10 * (i + 1) + 5), Decimal(10 * (i + 1)), None)
    for i in range(20)
}


MONEY = ("amount_spent", "net_sales", "aov")


@pytest.fixture(scope="module")
def con():
    return ibis.duckdb.connect()


def features(con, predicted: bool) -> ibis.Table:
    rows = {cid: (*v[:4], v[2] / v[1]) for cid, v in BUYERS.items()}
    rows["p0"] = (None, 0, Decimal(0), Decimal(0), None)  # a subscriber without orders
    data = {
        "customer_id": list(rows),
        "days_since_last_order": [v[0] for v in rows.values()],
        "number_of_orders": [v[1] for v in rows.values()],
        "amount_spent": [v[2] for v in rows.values()],
        "net_sales": [v[3] for v in rows.values()],
        "aov": [None if v[4] is None else round(v[4], 2) for v in rows.values()],
    }
    if predicted:  # predictions for 10 customers: 1..10, and none for the others
        data["predicted_clv_12m"] = [float(i + 1) if i < 10 else None for i in range(len(rows))]
    money = pa.decimal128(18, 2)
    columns = {k: pa.array(v, money if k in MONEY else None) for k, v in data.items()}
    table = ibis.memtable(pa.table(columns))
    return con.create_table("features", table, temp=True, overwrite=True)


def test_averages_and_nearest_rank_percentiles_among_buyers(con):
    got = store_statistics(features(con, predicted=True))
    amounts = [float(v[2]) for v in BUYERS.values()]
    aovs = [round(float(v[2]) / v[1], 2) for v in BUYERS.values()]
    assert got["avg_amount_spent"] == round(sum(amounts) / 20, 2) == 110.0  # 15, 25, ..., 205
    assert got["avg_aov"] == pytest.approx(round(sum(aovs) / 20, 2), abs=0.006)
    # net sales 10, 20, ..., 200 (the prospect's 0 does not count): ranks 19, 15 and 10
    assert (got["net_sales_p95"], got["net_sales_p75"], got["net_sales_p50"]) == (190, 150, 100)
    # predicted CLV 1..10: ranks ceil(9.5) = 10 and 8
    assert (got["predicted_clv_p95"], got["predicted_clv_p80"]) == (10, 8)


def test_without_buyers_or_predictions_the_statistics_are_zero(con):
    table = features(con, predicted=False)
    got = store_statistics(table.filter(table.number_of_orders == 0))
    assert set(got.values()) == {0.0}


def test_one_query_gives_the_same_statistics_and_rfm_cut_points(con):
    table = features(con, predicted=True)
    statistics, cuts = statistics_and_rfm_cut_points(table)
    assert statistics == store_statistics(table)
    assert cuts == rfm_cut_points(table)
    assert cuts.monetary == (40, 80, 120, 160)  # ranks 4, 8, 12, 16 of 10..200


def test_names_given_the_same_column_share_its_counts(con):
    table = features(con, predicted=False)
    buyers = table.filter(table.number_of_orders > 0)
    again = table.filter(table.number_of_orders > 0)  # an equal expression, built anew
    got = nearest_rank_cut_points_of(
        {
            "low": (buyers.net_sales, (0.05, 0.5)),
            "high": (again.net_sales, (0.95, 0.5)),
            "days": (buyers.days_since_last_order, (1.0,)),
        }
    )
    assert got == {"low": (10, 100), "high": (190, 100), "days": (19,)}
    distinct, slot = _distinct_columns(
        {"low": (buyers.net_sales, ()), "high": (again.net_sales, ()), "all": (table.net_sales, ())}
    )
    assert len(distinct) == 2 and slot == {"low": 0, "high": 0, "all": 1}
