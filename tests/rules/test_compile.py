"""Compile rules to Ibis and evaluate them with DuckDB on hand-built customers.

as_of is 2024-06-30, so -90d = 2024-04-01, -180d = 2024-01-02, -6m = 2023-12-30,
-4w = 2024-06-02, -1y = 2023-06-30.
"""

from __future__ import annotations

from datetime import date

import ibis
import pyarrow as pa
import pytest

from segmint.rules import (
    RuleCompileError,
    RuleTypeError,
    compile_rule,
    parse,
    resolve_date,
    shift_months,
)

AS_OF = date(2024, 6, 30)
INJECTION = "a'; DROP TABLE customers; --"

ROWS = [
    # id, orders, spent, aov, first, last, country, tags, consent, rfm, accepts, birth, open
    ("c1", 5, 820.0, 164.0, date(2022, 1, 10), date(2024, 6, 20), "US", ["vip", "wholesale"],
     "subscribed", "champions", True, 1985, 0.45),
    ("c2", 1, 40.0, 40.0, date(2023, 11, 15), date(2023, 11, 15), "CA", [],
     "unsubscribed", "lost", False, None, 0.0),
    ("c3", 3, 510.0, 170.0, date(2021, 5, 5), date(2023, 12, 1), "US", ["vip"],
     "not_subscribed", "cant_lose_them", True, 1990, 0.12),
    ("c4", 0, 0.0, None, None, None, None, None,
     "subscribed", None, None, None, None),
    ("c5", 2, 150.5, 75.25, date(2024, 1, 31), date(2024, 4, 1), "GB", [INJECTION],
     "pending", "promising", False, 2000, 0.3),
    ("c6", 4, 500.0, 125.0, date(2023, 12, 31), date(2024, 6, 30), INJECTION, ["wholesale"],
     "subscribed", "loyal_customers", True, 1970, 0.3),
]  # fmt: skip
COLUMNS = [
    ("customer_id", pa.string()),
    ("number_of_orders", pa.int64()),
    ("amount_spent", pa.float64()),
    ("aov", pa.float64()),
    ("first_order_date", pa.date32()),
    ("last_order_date", pa.date32()),
    ("country", pa.string()),
    ("tags", pa.list_(pa.string())),
    ("email_consent", pa.string()),
    ("rfm_group", pa.string()),
    ("accepts_marketing", pa.bool_()),
    ("birth_year", pa.int64()),
    ("email_open_rate_90d", pa.float64()),
]

# Purchases for the fake products_purchased: (customer, category, day).
PURCHASES = [
    ("c1", "boots", date(2024, 6, 1)),
    ("c1", "hats", date(2023, 1, 1)),
    ("c3", "boots", date(2023, 12, 1)),
    ("c5", "boots", date(2024, 4, 1)),
    ("c6", "socks", date(2024, 6, 30)),
]
SEGMENTS = {"vip": {"c1", "c3"}, "newsletter": {"c4", "c6"}}


@pytest.fixture(scope="module")
def table():
    con = ibis.duckdb.connect()
    data = pa.table(
        {name: [row[i] for row in ROWS] for i, (name, _) in enumerate(COLUMNS)},
        schema=pa.schema(COLUMNS),
    )
    t = con.create_table("features", data)
    yield t
    con.disconnect()


calls: list[dict] = []


def products_purchased(args, table):
    calls.append(dict(args))
    since, until = args.get("since"), args.get("until")
    categories = args.get("category")
    if isinstance(categories, str):
        categories = (categories,)
    ids = {
        cid
        for cid, category, day in PURCHASES
        if (categories is None or category in categories)
        and (since is None or day >= since)
        and (until is None or day <= until)
    }
    return table.customer_id.isin(sorted(ids))


def member_of(args, table):
    return table.customer_id.isin(sorted(SEGMENTS[args["segment"]]))


FUNCTIONS = {"products_purchased": products_purchased, "member_of": member_of}


def members(table, catalog, rule) -> set[str]:
    expr = compile_rule(rule, table, catalog, AS_OF, FUNCTIONS)
    return set(table.filter(expr).customer_id.to_list())


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        # comparisons (c4 has 0 orders; aov NULL)
        ("number_of_orders >= 3", {"c1", "c3", "c6"}),
        ("number_of_orders = 1", {"c2"}),
        ("number_of_orders != 1", {"c1", "c3", "c4", "c5", "c6"}),
        ("number_of_orders < 2", {"c2", "c4"}),
        ("number_of_orders <= 2", {"c2", "c4", "c5"}),
        ("amount_spent > 500", {"c1", "c3"}),
        ("number_of_orders >= 3 AND amount_spent > 500", {"c1", "c3"}),
        ("aov > 100", {"c1", "c3", "c6"}),
        ("aov <= 100", {"c2", "c5"}),  # c4's NULL aov is in neither
        ("email_open_rate_90d >= 0.3", {"c1", "c5", "c6"}),
        ("amount_spent BETWEEN 150.5 AND 510", {"c3", "c5", "c6"}),
        ("amount_spent NOT BETWEEN 150.5 AND 510", {"c1", "c2", "c4"}),
        # precedence: AND before OR, NOT before AND
        ("country = 'CA' OR country = 'US' AND number_of_orders > 3", {"c1", "c2"}),
        ("(country = 'CA' OR country = 'US') AND number_of_orders > 3", {"c1"}),
        ("NOT country = 'US' AND number_of_orders >= 1", {"c2", "c5", "c6"}),
        # IN lists
        ("country IN ('US', 'CA')", {"c1", "c2", "c3"}),
        ("country NOT IN ('US', 'CA')", {"c5", "c6"}),  # c4 (no country) is not kept
        ("birth_year IN (1985, 1970)", {"c1", "c6"}),
        # IS NULL
        ("birth_year IS NULL", {"c2", "c4"}),
        ("birth_year IS NOT NULL", {"c1", "c3", "c5", "c6"}),
        ("tags IS NULL", {"c4"}),
        # NULL semantics: != and NOT keep no empty values unless asked
        ("country != 'US'", {"c2", "c5", "c6"}),
        ("NOT (birth_year = 1990)", {"c1", "c5", "c6"}),
        ("NOT (birth_year = 1990) OR birth_year IS NULL", {"c1", "c2", "c4", "c5", "c6"}),
        # list attributes
        ("tags CONTAINS 'vip'", {"c1", "c3"}),
        ("tags NOT CONTAINS 'vip'", {"c2", "c5", "c6"}),  # c4 has no list at all
        ("customer_tags CONTAINS 'wholesale'", {"c1", "c6"}),
        ("customer_countries CONTAINS 'US'", {"c1", "c3"}),
        ("customer_countries NOT CONTAINS 'US'", {"c2", "c5", "c6"}),
        # enums and booleans
        ("email_subscription_status = 'SUBSCRIBED'", {"c1", "c4", "c6"}),
        ("email_consent IN ('pending', 'not_subscribed')", {"c3", "c5"}),
        ("rfm_group = 'CHAMPIONS' OR rfm_group = 'LOYAL'", {"c1", "c6"}),
        ("rfm_group = 'Can''t Lose Them'", {"c3"}),
        ("accepts_marketing = true", {"c1", "c3", "c6"}),
        ("accepts_marketing = false", {"c2", "c5"}),
        ("accepts_marketing != true", {"c2", "c5"}),
        # dates: relative dates resolve against as_of 2024-06-30
        ("last_order_date < -180d", {"c2", "c3"}),  # before 2024-01-02
        ("last_order_date < -180d AND number_of_orders >= 3 AND aov > 100", {"c3"}),
        ("last_order_date >= -90d", {"c1", "c5", "c6"}),  # on/after 2024-04-01
        ("last_order_date > -90d", {"c1", "c6"}),
        ("last_order_date >= -4w", {"c1", "c6"}),  # on/after 2024-06-02
        ("last_order_date = today", {"c6"}),
        ("last_order_date < -6m", {"c2", "c3"}),  # before 2023-12-30
        ("first_order_date >= -6m", {"c5", "c6"}),  # on/after 2023-12-30
        ("first_order_date < -1y", {"c1", "c3"}),  # before 2023-06-30
        ("first_order_date BETWEEN 2023-11-15 AND 2024-01-31", {"c2", "c5", "c6"}),
        ("first_order_date BETWEEN '2023-11-15' AND -150d", {"c2", "c5", "c6"}),  # to 02-01
        ("last_order_date IS NULL", {"c4"}),
        # injection attempts are plain string values
        (f"country = '{INJECTION.replace(chr(39), chr(39) * 2)}'", {"c6"}),
        (f"tags CONTAINS '{INJECTION.replace(chr(39), chr(39) * 2)}'", {"c5"}),
        ("country = 'US'' OR ''1''=''1'", set()),
        ("country IN ('x''); DROP TABLE features; --', 'CA')", {"c2"}),
        # functions
        ("products_purchased(category: 'boots', since: -90d)", {"c1", "c5"}),
        ("products_purchased(category: 'boots')", {"c1", "c3", "c5"}),
        ("products_purchased(category: ('hats', 'socks'))", {"c1", "c6"}),
        ("products_purchased MATCHES (category = 'boots', date > -90d)", {"c1", "c5"}),
        ("products_purchased(category: 'boots', date: -90d) = false", {"c2", "c3", "c4", "c6"}),
        ("member_of('vip')", {"c1", "c3"}),
        ("NOT member_of('vip') AND number_of_orders > 0", {"c2", "c5", "c6"}),
        ("member_of('vip') OR member_of('newsletter')", {"c1", "c3", "c4", "c6"}),
    ],
)
def test_members(table, catalog, rule, expected):
    assert members(table, catalog, rule) == expected


def test_compile_accepts_an_ast(table, catalog):
    expr = compile_rule(parse("number_of_orders = 1"), table, catalog, AS_OF)
    assert table.filter(expr).customer_id.to_list() == ["c2"]


def test_function_receives_canonical_args_with_resolved_dates(table, catalog):
    calls.clear()
    compile_rule(
        "products_purchased MATCHES (tag = 'boots', date >= -6m, date < today, quantity = 2)",
        table,
        catalog,
        AS_OF,
        FUNCTIONS,
    )
    assert calls == [{"tag": "boots", "since": date(2023, 12, 30), "until": AS_OF, "quantity": 2}]


def test_injection_literal_does_not_touch_the_database(table, catalog):
    rule = "country = 'x''; DROP TABLE features; --' OR country != 'x'"
    assert members(table, catalog, rule) == {"c1", "c2", "c3", "c5", "c6"}
    assert table.count().to_pyarrow().as_py() == 6


def test_missing_function_implementation_is_reported(table, catalog):
    with pytest.raises(RuleCompileError) as info:
        compile_rule("NOT member_of('vip')", table, catalog, AS_OF, {})
    assert info.value.position == 4
    assert "No implementation was given for the function 'member_of'" in str(info.value)


def test_missing_column_is_reported(table, catalog):
    narrow = table.select("customer_id", "country")
    with pytest.raises(RuleCompileError, match="no column 'tags'"):
        compile_rule("tags CONTAINS 'vip'", narrow, catalog, AS_OF)


def test_type_errors_surface_from_compile(table, catalog):
    with pytest.raises(RuleTypeError) as info:
        compile_rule("amount_spnt > 5", table, catalog, AS_OF)
    assert "^" in str(info.value)
    assert info.value.hint == "did you mean 'amount_spent'?"


def test_timestamp_date_columns_compare_by_day(catalog):
    con = ibis.duckdb.connect()
    from datetime import datetime

    t = con.create_table(
        "f",
        pa.table(
            {
                "customer_id": ["a", "b"],
                "last_order_date": [datetime(2024, 4, 1, 23, 59), datetime(2024, 3, 31, 0, 0)],
            }
        ),
    )
    expr = compile_rule("last_order_date >= -90d", t, catalog, AS_OF)
    assert t.filter(expr).customer_id.to_list() == ["a"]
    con.disconnect()


@pytest.mark.parametrize(
    ("day", "value", "expected"),
    [
        (date(2024, 6, 30), "-90d", date(2024, 4, 1)),
        (date(2024, 6, 30), "-180d", date(2024, 1, 2)),
        (date(2024, 6, 30), "-4w", date(2024, 6, 2)),
        (date(2024, 3, 31), "-1m", date(2024, 2, 29)),
        (date(2024, 2, 29), "-1y", date(2023, 2, 28)),
        (date(2024, 1, 15), "-13m", date(2022, 12, 15)),
        (date(2024, 1, 15), "-0d", date(2024, 1, 15)),
        (date(2024, 1, 15), "today", date(2024, 1, 15)),
        (date(2024, 1, 15), "2020-05-05", date(2020, 5, 5)),
    ],
)
def test_resolve_date(day, value, expected):
    assert resolve_date(parse(f"d = {value}").value, day) == expected


def test_shift_months_forward():
    assert shift_months(date(2024, 1, 31), 1) == date(2024, 2, 29)


def test_money_is_compared_in_its_own_decimal_type(catalog):
    # A literal of the column's type: no conversion of every row to a double or to three
    # decimals; a literal with more decimals than the column still compares exactly.
    money = ibis.memtable(
        pa.table(
            {"customer_id": ["a", "b"], "amount_spent": pa.array([500, 501], pa.decimal128(18, 2))}
        )
    )
    rule = compile_rule("amount_spent > 500.5", money, catalog, AS_OF)
    assert "CAST(500.50 AS DECIMAL(18, 2))" in ibis.to_sql(money.filter(rule), dialect="duckdb")
    assert ibis.duckdb.connect().execute(money.filter(rule).customer_id).tolist() == ["b"]
    finer = compile_rule("amount_spent >= 500.001", money, catalog, AS_OF)
    assert ibis.duckdb.connect().execute(money.filter(finer).customer_id).tolist() == ["b"]
