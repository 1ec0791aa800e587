"""RFM scores from stored cut points, on a population whose quantiles are worked by hand."""

from __future__ import annotations

from decimal import Decimal

import ibis
import pyarrow as pa
import pytest

from segmint.features.rfm import (
    RFM_GRID,
    RfmCutPoints,
    rfm_cut_points,
    with_rfm,
)

#: customer -> (days since last order, number of orders, net sales)
POPULATION = {
    "c0": (1, 1, 10),
    "c1": (1, 1, 20),
    "c2": (1, 1, 30),
    "c3": (1, 1, 40),
    "c4": (1, 1, 50),
    "c5": (6, 2, 60),
    "c6": (7, 2, 70),
    "c7": (8, 3, 80),
    "c8": (9, 5, 90),
    "c9": (10, 8, 100),
}


@pytest.fixture(scope="module")
def con():
    return ibis.duckdb.connect()


def population(con, rows=POPULATION, with_prospect=True):
    data = {
        "customer_id": list(rows),
        "days_since_last_order": [v[0] for v in rows.values()],
        "number_of_orders": [v[1] for v in rows.values()],
        "net_sales": [Decimal(v[2]) for v in rows.values()],
    }
    if with_prospect:  # a subscriber with no orders
        for key, value in (("customer_id", "p0"), ("days_since_last_order", None)):
            data[key].append(value)
        data["number_of_orders"].append(0)
        data["net_sales"].append(Decimal(0))
    table = ibis.memtable(data).cast({"net_sales": "decimal(18, 2)"})
    return con.create_table("features", table, temp=True, overwrite=True)


def scores(con, table, cuts):
    rows = with_rfm(table, cuts).to_pyarrow().to_pylist()
    return {
        r["customer_id"]: (r["r_score"], r["f_score"], r["m_score"], r["rfm_group"]) for r in rows
    }


def test_cut_points_by_nearest_rank_with_ties(con):
    cuts = rfm_cut_points(population(con))
    # recency among the 10 buyers: ranks 2, 4, 6, 8 of 1,1,1,1,1,6,7,8,9,10
    assert cuts.recency == (1, 1, 6, 8)
    # frequency among the 5 repeat buyers 2,2,3,5,8: ranks ceil(1.25)=2, ceil(2.5)=3, ceil(3.75)=4
    assert cuts.frequency == (2, 3, 5)
    assert cuts.monetary == (20, 40, 60, 80)


def test_scores_cells_and_groups(con):
    table = population(con)
    got = scores(con, table, rfm_cut_points(table))
    expected_r = {"c0": 5, "c4": 5, "c5": 3, "c6": 2, "c7": 2, "c8": 1, "c9": 1}
    expected_f = {"c0": 1, "c4": 1, "c5": 2, "c6": 2, "c7": 3, "c8": 4, "c9": 5}
    expected_m = {"c0": 1, "c1": 1, "c2": 2, "c3": 2, "c4": 3, "c7": 4, "c8": 5, "c9": 5}
    for cid, r in expected_r.items():
        assert got[cid][0] == r, cid
    for cid, f in expected_f.items():
        assert got[cid][1] == f, cid
    for cid, m in expected_m.items():
        assert got[cid][2] == m, cid
    assert got["c0"][3] == "new"  # R5 F1
    assert got["c5"][3] == "about_to_sleep"  # R3 F2
    assert got["c9"][3] == "cant_lose_them"  # R1 F5
    assert got["p0"] == (None, None, None, None)


def test_equal_values_get_equal_scores_and_one_customer_rescores_alone(con):
    table = population(con)
    cuts = rfm_cut_points(table)
    everyone = scores(con, table, cuts)
    assert (
        len({everyone[c][:3] for c in ("c0", "c1")}) == 1 or everyone["c0"][2] != everyone["c1"][2]
    )
    assert {everyone[c][0] for c in ("c0", "c1", "c2", "c3", "c4")} == {5}
    alone = scores(con, table.filter(table.customer_id == "c7"), cuts)
    assert alone["c7"] == everyone["c7"]


def test_the_grid_covers_every_cell_once():
    cells = [(r, f) for r, row in RFM_GRID.items() for f, _ in enumerate(row, start=1)]
    assert sorted(cells) == [(r, f) for r in range(1, 6) for f in range(1, 6)]
    assert len({name for row in RFM_GRID.values() for name in row}) == 11


def test_stored_cut_points_round_trip():
    cuts = RfmCutPoints((1.0, 2.0, 3.0, 4.0), (2.0, 3.0, 5.0), (10.0, 20.0, 30.0, 40.0))
    assert RfmCutPoints(**{k: tuple(v) for k, v in cuts.as_dict().items()}) == cuts


def test_docs_show_the_grid_in_use():
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "segments.md").read_text("utf-8")
    for r, row in RFM_GRID.items():
        assert f"| {r} | " + " | ".join(row) + " |" in docs


def test_cut_points_compare_in_the_columns_own_type_with_the_same_answers(con):
    from segmint.features.rfm import cut_literal

    cents = [Decimal(c) / 100 for c in range(-1005, 1006, 7)]
    values = ibis.memtable(
        pa.table(
            {
                "days": pa.array([int(c) for c in cents], pa.int64()),
                "money": pa.array(cents, pa.decimal128(18, 2)),
            }
        )
    )
    cuts = [-10.0, -3.5, -0.005, 0.0, 0.3, 4.0, 4.5, 9.995, 9.99, 2722.54, 1e20, -1e20]
    for column in ("days", "money"):
        value = values[column]
        checks = {
            f"c{i}": (value > cut_literal(value, cut)) == (value.cast("float64") > cut)
            for i, cut in enumerate(cuts)
        }
        row = con.to_pyarrow(values.aggregate(**{k: v.all() for k, v in checks.items()}))
        assert all(row.to_pylist()[0].values()), (column, row.to_pylist())
    assert "AS DECIMAL(18, 2)" in ibis.to_sql(values.money > cut_literal(values.money, 9.995))


def test_cut_points_fall_back_to_doubles_where_no_exact_literal_exists():
    from segmint.features.rfm import cut_literal

    table = ibis.table(
        {"money": "decimal(18, 2)", "loose": "decimal", "share": "float64", "days": "int64"}
    )
    assert cut_literal(table.loose, 9.5).type().is_floating()  # scale unknown: no flooring
    assert cut_literal(table.share, 0.25).type().is_floating()
    assert cut_literal(table.money, 90071992547410.99).type().is_floating()  # 16 digits
    for cut in (float("inf"), float("nan"), 1e300):
        assert cut_literal(table.money, cut).type().is_floating()
        assert cut_literal(table.days, cut).type().is_floating()
