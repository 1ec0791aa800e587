"""The buy-till-you-die summary: the CDNOW sample imported through the generic mapping gives
the published summary, hand-made workspaces check each rule, and random data agrees with a
plain-Python reference."""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import ibis
import pyarrow as pa
import pytest

from segmint.errors import SegmintError
from segmint.importers.base import ImportOptions
from segmint.importers.mapped import load_mapping
from segmint.models.summary import customer_summary, holdout_summary, transactions
from segmint.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
CDNOW_MAPPING = ROOT / "docs" / "mappings" / "cdnow.yaml"
SHARED_DATA = ROOT.parent / "shared" / "data"
CALIBRATION_END = date(1997, 9, 30)
HOLDOUT_END = date(1998, 6, 30)
D = Decimal


def rows(table) -> dict[str, dict]:
    return {r["customer_id"]: r for r in table.to_pyarrow().to_pylist()}


def half_up(value: float | str | Decimal) -> Decimal:
    """``value`` rounded half up to the cent, as the published files round (22.345 -> 22.35)."""
    exact = D(repr(value)) if isinstance(value, float) else D(value)
    return exact.quantize(D("0.01"), ROUND_HALF_UP)


def exact_mean(mean: float, count: int) -> Decimal:
    """The exact mean of ``count`` amounts in cents, from its float (62.255, not 62.2549...)."""
    return D(round(mean * count * 100)) / 100 / count


# -- CDNOW -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cdnow(cdnow_shop: tuple[Workspace, dict[str, int]]) -> tuple[Workspace, dict[str, int]]:
    return cdnow_shop


def published(name: str) -> dict[int, dict[str, str]]:
    with (SHARED_DATA / "cdnow" / name).open(newline="", encoding="ascii") as fh:
        return {int(r["ID"]): r for r in csv.DictReader(fh)}


@pytest.mark.shared_data
def test_cdnow_summary_equals_the_published_one(cdnow):
    ws, ids = cdnow
    summary = customer_summary(ws.table("orders"), ws.table("refunds"), CALIBRATION_END, "week")
    got = {ids[c]: r for c, r in rows(summary).items()}
    expected = published("cdnow_customers_summary.csv")
    assert len(got) == len(expected) == 2357
    assert {
        i: (r["frequency"], half_up(r["recency"]), half_up(r["T"])) for i, r in got.items()
    } == {i: (int(r["frequency"]), D(r["recency"]), D(r["T"])) for i, r in expected.items()}
    assert min(r["first_order_date"] for r in got.values()) == date(1997, 1, 1)
    assert max(r["first_order_date"] for r in got.values()) == date(1997, 3, 25)


@pytest.mark.shared_data
def test_cdnow_mean_repeat_spend_equals_zbar(cdnow):
    ws, ids = cdnow
    summary = customer_summary(ws.table("orders"), ws.table("refunds"), CALIBRATION_END, "week")
    got = {ids[c]: r for c, r in rows(summary).items()}
    expected = published("cdnow_customers_summary_with_transactions.csv")
    repeat = {i for i, r in expected.items() if int(r["x"]) > 0}
    assert len(repeat) == 946 == sum(r["frequency"] > 0 for r in got.values())
    # zbar is the exact mean in dollars rounded half up to the cent (62.255 -> 62.26).
    means = {i: exact_mean(got[i]["monetary_value"], got[i]["frequency"]) for i in repeat}
    assert {i: half_up(mean) for i, mean in means.items()} == {
        i: D(expected[i]["zbar"]) for i in repeat
    }
    assert all(got[i]["monetary_value"] == 0.0 for i in expected.keys() - repeat)


@pytest.mark.shared_data
def test_cdnow_holdout_has_1882_repeat_transactions(cdnow):
    """Weeks 40-78 hold 1,959 lines but 1,882 distinct customer-days: the published count
    is of transactions with same-day purchases merged."""
    ws, _ = cdnow
    holdout = holdout_summary(ws.table("orders"), ws.table("refunds"), CALIBRATION_END, HOLDOUT_END)
    totals = (
        holdout.aggregate(
            customers=holdout.count(),
            transactions=holdout.holdout_transactions.sum(),
            spend=holdout.holdout_spend.sum(),
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    assert totals["customers"] == 2357
    assert totals["transactions"] == 1882
    lines = (SHARED_DATA / "cdnow" / "CDNOW_sample.txt").read_text(encoding="ascii").split("\n")
    later = [f for f in (line.split() for line in lines) if f and f[2] > "19970930"]
    assert len(later) == 1959
    assert half_up(totals["spend"]) == sum(D(f[4]) for f in later)


# -- hand-made workspace, through the mapped importer ---------------------------------------
SHOP_MAPPING = """\
kind: orders
namespace: shop
columns:
  order_id: id
  customer_id: customer
  placed_at: date
  status: status
  shipping: shipping
  total: total
  refunded_amount: refunded
"""
SHOP_ORDERS = """\
id,customer,date,status,shipping,total,refunded
1,ann,2024-01-01 09:00:00,completed,0,20.00,
2,ann,2024-01-01 18:00:00,completed,0,30.00,
3,ann,2024-01-05 10:00:00,cancelled,0,1000.00,
4,ann,2024-01-10 10:00:00,completed,10.00,110.00,55.00
5,ann,2024-01-20 10:00:00,completed,0,40.00,
6,ann,2024-02-01 10:00:00,completed,0,70.00,
7,bob,2024-01-03 10:00:00,cancelled,0,80.00,
8,cy,2024-02-10 10:00:00,completed,0,15.00,
9,dee,2024-01-15 10:00:00,refunded,0,25.00,
10,dee,2024-01-25 10:00:00,refunded,0,25.00,
11,dee,2024-01-25 11:00:00,voided,0,99.00,
"""


@pytest.fixture
def shop(workspace: Workspace, tmp_path: Path) -> Workspace:
    """Ann: two orders on 1 Jan (one transaction), a cancelled one, one refunded by half
    (110 with 10 shipping: 100 of merchandise, 50 of it refunded), one on 20 Jan and one
    after the calibration end (31 Jan). Bob: only a cancelled order. Cy: first order in the
    holdout. Dee: two fully refunded orders (still transactions) and a voided one."""
    (tmp_path / "shop.yaml").write_text(SHOP_MAPPING, encoding="utf-8")
    (tmp_path / "orders.csv").write_text(SHOP_ORDERS, encoding="utf-8")
    options = ImportOptions(mapping=load_mapping(tmp_path / "shop.yaml"))
    result = workspace.import_file(tmp_path / "orders.csv", options)
    assert result.rows_rejected == 0
    return workspace


def names(ws: Workspace) -> dict[str, str]:
    """Each customer's name in the shop file (its identity ``shop:<name>``)."""
    identities = ws.table("identities").to_pyarrow().to_pylist()
    return {i["customer_id"]: i["identity"].removeprefix("shop:") for i in identities}


def by_name(ws: Workspace, table) -> dict[str, dict]:
    return {names(ws)[c]: r for c, r in rows(table).items()}


def test_same_day_orders_cancelled_orders_refunds_and_the_calibration_cut(shop: Workspace):
    orders, refunds = shop.table("orders"), shop.table("refunds")
    got = by_name(shop, customer_summary(orders, refunds, date(2024, 1, 31), "day"))
    assert got.keys() == {"ann", "dee"}
    ann = got["ann"]
    # Transactions on 1 Jan (50), 10 Jan (100 - 50 refunded), 20 Jan (40).
    assert (ann["frequency"], ann["recency"], ann["T"]) == (2, 19.0, 30.0)
    assert ann["monetary_value"] == 45.0
    assert ann["first_order_date"] == date(2024, 1, 1)
    dee = got["dee"]
    assert (dee["frequency"], dee["recency"], dee["T"], dee["monetary_value"]) == (
        1,
        10.0,
        16.0,
        0.0,
    )

    weeks = by_name(shop, customer_summary(orders, refunds, date(2024, 1, 31), "week"))
    assert (weeks["ann"]["recency"], weeks["ann"]["T"]) == (19 / 7, 30 / 7)
    assert weeks["ann"]["monetary_value"] == 45.0


def test_transactions_merge_same_day_orders(shop: Workspace):
    days = transactions(shop.table("orders"), shop.table("refunds"), date(2024, 1, 31))
    owner = names(shop)
    got = sorted(
        (owner[r["customer_id"]], r["day"], r["spend"]) for r in days.to_pyarrow().to_pylist()
    )
    assert got == [
        ("ann", date(2024, 1, 1), D("50.00")),
        ("ann", date(2024, 1, 10), D("50.00")),
        ("ann", date(2024, 1, 20), D("40.00")),
        ("dee", date(2024, 1, 15), D("0.00")),
        ("dee", date(2024, 1, 25), D("0.00")),
    ]


def test_default_calibration_end_is_the_latest_order_day(shop: Workspace):
    got = by_name(shop, customer_summary(shop.table("orders"), shop.table("refunds")))
    assert got.keys() == {"ann", "cy", "dee"}
    assert (got["cy"]["frequency"], got["cy"]["T"]) == (0, 0.0)
    assert got["ann"]["frequency"] == 3 and got["ann"]["T"] == 40 / 7  # 10 Feb - 1 Jan
    assert got["ann"]["monetary_value"] == pytest.approx((50 + 40 + 70) / 3)


def test_holdout_counts_calibration_customers_only(shop: Workspace):
    orders, refunds = shop.table("orders"), shop.table("refunds")
    got = by_name(shop, holdout_summary(orders, refunds, date(2024, 1, 31), date(2024, 2, 29)))
    assert {n: (r["holdout_transactions"], r["holdout_spend"]) for n, r in got.items()} == {
        "ann": (1, 70.0),
        "dee": (0, 0.0),
    }
    with pytest.raises(SegmintError, match="must be after the calibration end"):
        holdout_summary(orders, refunds, date(2024, 1, 31), date(2024, 1, 31))


def test_unknown_time_unit(shop: Workspace):
    with pytest.raises(SegmintError, match="unknown time unit 'month'"):
        customer_summary(shop.table("orders"), shop.table("refunds"), time_unit="month")


# -- refunds attached to no order (UCI C invoices), on Ibis tables ---------------------------
ORDERS_SCHEMA = {
    "order_id": "string",
    "customer_id": "string",
    "placed_date": "date",
    "status": "string",
    "product_sales": "decimal(18, 2)",
}
REFUNDS_SCHEMA = {
    "refund_id": "string",
    "order_id": "string",
    "customer_id": "string",
    "refunded_date": "date",
    "product_amount": "decimal(18, 2)",
    "order_date": "date",
}


def tables(orders: list[tuple], refunds: list[tuple]) -> tuple[ibis.Table, ibis.Table]:
    def memtable(data: list[tuple], schema: dict[str, str]) -> ibis.Table:
        columns = {name: [row[i] for row in data] for i, name in enumerate(schema)}
        return ibis.memtable(pa.table(columns, schema=ibis.schema(schema).to_pyarrow()))

    return memtable(orders, ORDERS_SCHEMA), memtable(refunds, REFUNDS_SCHEMA)


def day(n: int) -> date:
    return date(2024, 1, 1) + timedelta(days=n)


def test_refunds_without_an_order_reduce_the_latest_transaction_before_them():
    orders, refunds = tables(
        [
            ("x1", "x", day(1), "placed", D(100)),
            ("x2", "x", day(5), "placed", D(100)),
            ("x3", "x", day(9), "placed", D(100)),
            ("y1", "y", day(2), "placed", D(5)),
            ("y2", "y", day(8), "placed", D(80995)),  # the UCI giant, cancelled the same day
        ],
        [
            ("c1", None, "x", day(6), D(30), None),  # -> day 5
            ("c2", None, "x", day(0), D(10), None),  # before any order -> the first day
            ("c3", None, "x", day(12), D(99), None),  # after the calibration end: not yet
            ("c4", None, "y", day(8), D(80995), None),
            ("c5", None, "z", day(3), D(7), None),  # nobody with orders
        ],
    )
    got = rows(customer_summary(orders, refunds, day(10), "day"))
    assert got.keys() == {"x", "y"}
    assert (got["x"]["frequency"], got["x"]["monetary_value"]) == (2, 85.0)
    assert (got["y"]["frequency"], got["y"]["monetary_value"]) == (1, 0.0)
    spend = {
        (r["customer_id"], r["day"]): r["spend"]
        for r in transactions(orders, refunds, day(10)).to_pyarrow().to_pylist()
    }
    assert spend[("x", day(1))] == D(90) and spend[("x", day(5))] == D(70)


def test_a_refund_of_an_order_the_workspace_lacks_counts_nowhere():
    """A refund whose order was never imported has no order day (the upgrade to schema 3 could
    not find one): it neither adds a transaction day nor changes any spend."""
    orders = [("x1", "x", day(1), "placed", D(100)), ("x2", "x", day(5), "placed", D(50))]
    kept = [("r1", "x2", "x", day(5), D(20), day(5))]
    orphans = [("r2", "gone", "x", day(3), D(10), None), ("r3", "gone", "z", day(3), D(7), None)]
    with_orphans = rows(customer_summary(*tables(orders, kept + orphans), day(10), "day"))
    assert with_orphans == rows(customer_summary(*tables(orders, kept), day(10), "day"))
    assert (with_orphans["x"]["frequency"], with_orphans["x"]["monetary_value"]) == (1, 30.0)


# -- random data against a plain-Python reference --------------------------------------------
def random_shop(seed: int) -> tuple[list[tuple], list[tuple]]:
    rng = random.Random(seed)
    orders, refunds = [], []
    for c in range(80):
        customer = f"c{c}"
        for o in range(rng.randint(1, 8)):
            order_id = f"{customer}-{o}"
            placed = rng.randint(0, 60)
            status = rng.choices(["placed", "cancelled", "voided"], [0.85, 0.1, 0.05])[0]
            sales = D(rng.randint(0, 20000)) / 100
            orders.append((order_id, customer, day(placed), status, sales))
            if rng.random() < 0.2:
                back = D(rng.randint(0, int(sales * 100))) / 100
                refunded = day(placed + rng.choice([0, 0, 3]))  # Shopify's: dated at the order
                refunds.append((f"r-{order_id}", order_id, customer, refunded, back, day(placed)))
        if rng.random() < 0.3:
            amount = D(rng.randint(1, 5000)) / 100
            refunded = day(rng.randint(-5, 65))
            refunds.append((f"c-{customer}", None, customer, refunded, amount, None))
    return orders, refunds


def reference_summary(orders: list[tuple], refunds: list[tuple], end: date, unit: int) -> dict:
    """The summary computed row by row, from the definitions."""
    counted = {o[0]: o for o in orders if o[3] == "placed" and o[2] <= end}
    spend: dict[str, dict[date, Decimal]] = {}
    for _, customer, placed, _, sales in counted.values():
        days = spend.setdefault(customer, {})
        days[placed] = days.get(placed, D(0)) + sales
    for _, order_id, customer, refunded, amount, _ in refunds:
        if refunded > end or customer not in spend:
            continue
        if order_id is not None:
            if order_id in counted:
                spend[customer][counted[order_id][2]] -= amount
            continue
        before = [d for d in spend[customer] if d <= refunded]
        spend[customer][max(before) if before else min(spend[customer])] -= amount
    out = {}
    for customer, days in spend.items():
        first, last = min(days), max(days)
        repeat = [v for d, v in days.items() if d != first]
        out[customer] = {
            "frequency": len(repeat),
            "recency": (last - first).days / unit,
            "T": (end - first).days / unit,
            "monetary_value": float(sum(repeat) / len(repeat)) if repeat else 0.0,
            "first_order_date": first,
        }
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_shops_agree_with_the_reference(seed: int):
    orders, refunds = random_shop(seed)
    end = day(40)
    got = rows(customer_summary(*tables(orders, refunds), end, "week"))
    expected = reference_summary(orders, refunds, end, 7)
    assert got.keys() == expected.keys()
    for customer, want in expected.items():
        have = got[customer]
        assert have["frequency"] == want["frequency"]
        assert have["first_order_date"] == want["first_order_date"]
        assert have["recency"] == want["recency"] and have["T"] == want["T"]
        assert have["monetary_value"] == pytest.approx(want["monetary_value"], rel=1e-12, abs=0)


@pytest.mark.slow
def test_spark_agrees_with_duckdb(spark_session):
    from ibis.backends.pyspark.datatypes import PySparkSchema

    spark = ibis.pyspark.connect(spark_session)

    def on_spark(name: str, table: ibis.Table) -> ibis.Table:
        schema = PySparkSchema.from_ibis(table.schema())
        frame = spark_session.createDataFrame(table.to_pyarrow(), schema=schema)
        frame.createOrReplaceTempView(name)
        return spark.table(name)

    orders, refunds = tables(*random_shop(4))
    spark_orders, spark_refunds = on_spark("orders", orders), on_spark("refunds", refunds)
    for compute in (
        lambda o, r: customer_summary(o, r, day(40), "week"),
        lambda o, r: holdout_summary(o, r, day(40), day(60)),
    ):
        got = {
            r["customer_id"]: r
            for r in compute(spark_orders, spark_refunds).to_pyarrow().to_pylist()
        }
        assert got == rows(compute(orders, refunds))
