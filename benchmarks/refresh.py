"""Benchmark: `segmint refresh` on 1M customers and 10M orders, beside pandas, polars and Arrow.

Generates a synthetic store straight into a workspace (numpy and pyarrow, inserted through
``segmint.store.Store``; no CSV import): ``--customers`` customers (default 1,000,000, a tenth
of them without orders), ``--orders`` orders (default 10,000,000, skewed: many one-order
customers and a long tail), about 1.5 product lines per order, refunds on 5% of orders,
cancelled and voided orders, channels, discounts, a 2,000-product catalog, and optionally
``--events`` email and site events. The orders, refunds and customers are exported once to
Parquet for the other engines. Then it times, each in a fresh process so that its peak
resident memory is its own:

- ``segmint refresh``: :func:`segmint.refresh.refresh`, every feature and every library
  segment, exactly what ``segmint refresh`` runs;
- ``segmint RFM + value``: the part the other engines also compute, through segmint's public
  functions: the transactional features (orders, spend, dates, windows), RFM cut points and
  scores, store statistics and the ``value`` segment family, collected to an Arrow table;
- ``pandas`` and ``polars`` (lazy): a straightforward implementation of the same RFM and value
  features from the Parquet files (counted orders, amount spent, net sales, first and last
  order, recency, AOV, nearest-rank RFM cut points and scores, value tiers);
- ``arrow floor``: ``pyarrow.parquet.read_table`` of the three columns RFM needs, which no
  engine can beat.

Times are compute seconds measured inside each process after its imports (the wall time of the
whole process, interpreter start and imports included, is shown beside them). The pandas and
polars results are compared with segmint's customer by customer. Usage::

    python benchmarks/refresh.py [--customers 1000000] [--orders 10000000] [--seed 7]
        [--events 0] [--keep DIR] [--runs refresh,segmint,pandas,polars,floor]
        [--breakdown] [--memory-limit 2GB] [--repeat 3]

``--keep DIR`` keeps the data and reuses it on a later run with the same options;
``--repeat N`` runs each comparison N times (default 3), taking turns, and shows the fastest
of each; ``--breakdown`` also times each step of a refresh; ``docs/performance.md`` has the
figures.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

WORKSPACE = "bench.duckdb"
ORDERS_PARQUET = "orders.parquet"
REFUNDS_PARQUET = "refunds.parquet"
CUSTOMERS_PARQUET = "customers.parquet"
MANIFEST = "manifest.json"
GRID_JSON = "rfm_grid.json"
CHUNK = 1_000_000

START = 1_640_995_200  # 2022-01-01 00:00:00 UTC
SPAN = 3 * 365 * 86_400
ORDER_ID_BASE = 5_000_000_000_000
QUINTILES = (0.2, 0.4, 0.6, 0.8)
QUARTILES = (0.25, 0.5, 0.75)
VALUE_TIERS = ((0.95, "value_top_5"), (0.75, "value_high"), (0.5, "value_medium"))
PEAK_TARGET_MIB = 4e9 / 2**20  # the 4 GB
CHECKED = ("number_of_orders", "amount_spent", "rfm_cell", "rfm_group", "value_tier")

CHANNELS = {  # source_name -> (channel, share of orders)
    "web": ("web", 0.70),
    "pos": ("pos", 0.10),
    "iphone": ("app", 0.08),
    "580111": ("social", 0.05),
    "1354745": ("marketplace", 0.05),
    "shopify_draft_order": ("draft", 0.02),
}
PLACES = (("US", "NY", "New York"), ("US", "CA", "Los Angeles"), ("CA", "ON", "Toronto"),
          ("GB", "ENG", "London"), ("DE", "BE", "Berlin"), ("AU", "NSW", "Sydney"))  # fmt: skip
CATEGORIES = ("shirts", "pants", "dresses", "shoes", "boots", "bags", "hats", "socks",
              "jackets", "knitwear", "jewelry", "watches", "belts", "scarves", "swimwear",
              "underwear", "sportswear", "sleepwear", "gloves", "accessories")  # fmt: skip
EVENT_TYPES = {  # canonical type -> share of events
    "received_email": 0.45,
    "opened_email": 0.18,
    "clicked_email": 0.05,
    "viewed_product": 0.20,
    "active_on_site": 0.06,
    "added_to_cart": 0.03,
    "started_checkout": 0.01,
    "unsubscribed": 0.01,
    "bounced_email": 0.005,
    "marked_spam": 0.005,
}


# -- generation ---------------------------------------------------------------------------
def order_counts(rng: Any, customers: int, orders: int) -> Any:
    """Orders per customer: a tenth never order, 40% of buyers order once, a long tail."""
    import numpy as np

    buyers = min(orders, max(1, round(customers * 0.9)))
    repeat = buyers - round(buyers * 0.4)
    counts = np.zeros(customers, dtype=np.int64)
    counts[:buyers] = 1
    if repeat and orders > buyers:
        weights = rng.lognormal(0.0, 1.3, repeat)
        counts[:repeat] += rng.multinomial(orders - buyers, weights / weights.sum())
    rng.shuffle(counts)
    return counts


def order_times(rng: Any, counts: Any) -> tuple[Any, Any, Any]:
    """Each customer's acquisition time, and every order's time and customer, by time."""
    import numpy as np

    customers = counts.size
    acquired = START + (SPAN * rng.random(customers) ** 0.75).astype(np.int64)
    lifetime = rng.exponential(365 * 86_400, customers).astype(np.int64)
    active_until = np.minimum(acquired + lifetime, START + SPAN)
    who = np.repeat(np.arange(customers, dtype=np.int32), counts)
    offset = rng.random(who.size) * (active_until - acquired)[who]
    offset[np.cumsum(counts)[counts > 0] - counts[counts > 0]] = 0  # first order on day one
    seconds = acquired[who] + offset.astype(np.int64)
    by_time = np.argsort(seconds, kind="stable")
    return acquired, seconds[by_time], who[by_time]


def customer_ids(customers: int) -> Any:
    """Opaque ``c_`` + 16 hex digits ids, distinct (a bijective scramble of the index)."""
    import pyarrow as pa

    mask = (1 << 64) - 1
    return pa.array([f"c_{(i * 0x9E3779B97F4A7C15 + 1) & mask:016x}" for i in range(customers)])


def catalog(rng: Any, products: int = 2000) -> dict[str, Any]:
    """A product catalog: SKUs, titles, handles, categories, prices in cents, popularity."""
    import numpy as np
    import pyarrow as pa

    index = np.arange(products)
    price = np.round(np.exp(rng.normal(3.4, 0.6, products)) * 100).astype(np.int64) + 99
    on_sale = rng.random(products) < 0.2
    popularity = 1.0 / (1 + index) ** 0.9
    return {
        "sku": pa.array([f"SKU-{i:05d}" for i in index]),
        "title": pa.array([f"Product {i}" for i in index]),
        "handle": pa.array([f"product-{i}" for i in index]),
        "category": pa.array([CATEGORIES[i % len(CATEGORIES)] for i in index]),
        "vendor": pa.array([f"Vendor {i % 40}" for i in index]),
        "price_cents": price,
        "compare_cents": np.where(on_sale, (price * 1.25).astype(np.int64), -1),
        "popularity": popularity / popularity.sum(),
    }


def products_table(items: dict[str, Any]) -> Any:
    import numpy as np
    import pyarrow as pa

    compare = items["compare_cents"]
    return pa.table(
        {
            "product_key": items["sku"],
            "handle": items["handle"],
            "sku": items["sku"],
            "title": items["title"],
            "vendor": items["vendor"],
            "category": items["category"],
            "product_type": items["category"],
            "price": items["price_cents"] / 100,
            "compare_at_price": pa.array(compare / 100, mask=compare < 0),
            "import_id": np.ones(len(compare), dtype=np.int64),
        }
    )


def customers_table(rng: Any, ids: Any, acquired: Any, lo: int, hi: int) -> Any:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = hi - lo
    place = rng.integers(0, len(PLACES), n)
    consent = rng.choice(["subscribed", "not_subscribed", "unsubscribed"], n, p=[0.55, 0.35, 0.1])
    index = pa.array(np.arange(lo, hi)).cast(pa.string())
    return pa.table(
        {
            "customer_id": ids[lo:hi],
            "email": pc.binary_join_element_wise("customer", index, "@example.com", ""),
            "country": pa.array([p[0] for p in PLACES]).take(place),
            "region": pa.array([p[1] for p in PLACES]).take(place),
            "city": pa.array([p[2] for p in PLACES]).take(place),
            "email_consent": consent,
            "sms_consent": np.where(rng.random(n) < 0.2, "subscribed", "not_subscribed"),
            "first_seen_at": acquired[lo:hi].astype("datetime64[s]"),
            "updated_at": np.full(n, START + SPAN, dtype="datetime64[s]"),
            "first_import_id": np.ones(n, dtype=np.int64),
        }
    )


def order_chunk(
    rng: Any, lo: int, seconds: Any, who: Any, ids: Any, items: dict[str, Any]
) -> tuple[Any, Any, Any]:
    """Orders ``lo``.. (by time) with their lines and refunds, as three Arrow tables."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = seconds.size
    order_ids = pa.array(ORDER_ID_BASE + np.arange(lo, lo + n)).cast(pa.string())
    lines_per = 1 + (rng.random(n) < 0.35) + (rng.random(n) < 0.12)
    line_order = np.repeat(np.arange(n), lines_per)
    line_number = np.arange(line_order.size) - (np.cumsum(lines_per) - lines_per)[line_order] + 1
    product = rng.choice(len(items["price_cents"]), line_order.size, p=items["popularity"])
    quantity = 1 + (rng.random(line_order.size) < 0.2) + (rng.random(line_order.size) < 0.05)
    price = items["price_cents"][product]
    amount = quantity * price
    merchandise = np.bincount(line_order, weights=amount, minlength=n).astype(np.int64)
    rate = np.where(rng.random(n) < 0.25, rng.choice([10, 15, 20], n), 0)
    discount = merchandise * rate // 100
    subtotal = merchandise - discount
    shipping = np.where(subtotal >= 7500, 0, 599)
    taxes = np.round(subtotal * 0.08).astype(np.int64)
    total = subtotal + shipping + taxes
    draw = rng.random(n)
    status = np.where(draw < 0.015, "cancelled", np.where(draw < 0.025, "voided", "placed"))
    placed = status == "placed"
    refund_draw = rng.random(n)
    full = placed & (refund_draw < 0.02)
    partial = placed & (refund_draw >= 0.02) & (refund_draw < 0.05)
    refunded = np.where(full, total, 0)
    refunded = np.where(partial, (total * rng.uniform(0.1, 0.6, n)).astype(np.int64), refunded)
    financial = np.where(full, "refunded", np.where(partial, "partially_refunded", "paid"))
    financial = np.where(status == "voided", "voided", financial)
    financial = np.where(status == "cancelled", "refunded", financial)
    pick = rng.choice(len(CHANNELS), n, p=[share for _, share in CHANNELS.values()])
    source = np.array(list(CHANNELS))[pick]
    channel = np.array([name for name, _ in CHANNELS.values()])[pick]
    code = np.where(rate > 0, np.char.add("SAVE", rate.astype(str)), None)
    place = pa.array([p[0] for p in PLACES])
    at = seconds.astype("datetime64[s]")
    day = (seconds // 86_400).astype("datetime64[D]")
    customer = ids.take(pa.array(who))
    orders = pa.table(
        {
            "order_id": order_ids,
            "order_number": pc.binary_join_element_wise("#", order_ids, ""),
            "customer_id": customer,
            "source": np.full(n, "shopify"),
            "placed_at": at,
            "placed_date": day,
            "status": status,
            "financial_status": financial,
            "fulfillment_status": np.where(placed, "fulfilled", None),
            "currency": np.full(n, "USD"),
            "subtotal": subtotal / 100,
            "shipping": shipping / 100,
            "taxes": taxes / 100,
            "total": total / 100,
            "product_sales": subtotal / 100,
            "discount_code": code,
            "discount_amount": discount / 100,
            "refunded_amount": np.where(status == "cancelled", total, refunded) / 100,
            "channel": channel,
            "source_name": source,
            "billing_country": place.take(rng.integers(0, len(PLACES), n)),
            "cancelled_at": np.where(status == "cancelled", at + 3600, np.datetime64("NaT")),
            "import_id": np.ones(n, dtype=np.int64),
        }
    )
    compare = items["compare_cents"][product]
    lines = pa.table(
        {
            "order_id": order_ids.take(pa.array(line_order)),
            "line_number": line_number.astype(np.int32),
            "line_kind": np.full(line_order.size, "product"),
            "sku": items["sku"].take(pa.array(product)),
            "product_name": items["title"].take(pa.array(product)),
            "quantity": quantity.astype(np.int64),
            "unit_price": price / 100,
            "compare_at_price": pa.array(compare / 100, mask=compare < 0),
            "line_discount": np.zeros(line_order.size),
            "amount": amount / 100,
            "vendor": items["vendor"].take(pa.array(product)),
            "import_id": np.ones(line_order.size, dtype=np.int64),
        }
    )
    back = np.flatnonzero(refunded > 0)
    product_back = np.minimum(subtotal[back], refunded[back] * subtotal[back] // total[back])
    refund_ids = pc.binary_join_element_wise("refund:", order_ids.take(pa.array(back)), "")
    refunds = pa.table(
        {
            "refund_id": refund_ids,
            "order_id": order_ids.take(pa.array(back)),
            "customer_id": customer.take(pa.array(back)),
            "refunded_at": at[back],
            "refunded_date": day[back],
            "amount": refunded[back] / 100,
            "product_amount": product_back / 100,
            "source": np.full(back.size, "shopify"),
            "import_id": np.ones(back.size, dtype=np.int64),
            "order_date": day[back],
        }
    )
    return orders, lines, refunds


def events_chunk(rng: Any, lo: int, n: int, ids: Any, items: dict[str, Any]) -> Any:
    """``n`` email and site events over the last 180 days, for random customers."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = rng.choice(list(EVENT_TYPES), n, p=list(EVENT_TYPES.values()))
    seconds = START + SPAN - rng.integers(0, 180 * 86_400, n)
    product = rng.choice(len(items["price_cents"]), n, p=items["popularity"])
    about_product = np.isin(kind, ["viewed_product", "added_to_cart"])
    product_ids = items["sku"].take(pa.array(product))
    return pa.table(
        {
            "event_id": pc.binary_join_element_wise(
                "ev", pa.array(np.arange(lo, lo + n)).cast(pa.string()), ""
            ),
            "customer_id": ids.take(pa.array(rng.integers(0, len(ids), n))),
            "event_type": kind,
            "event_name": kind,
            "occurred_at": seconds.astype("datetime64[s]"),
            "occurred_date": (seconds // 86_400).astype("datetime64[D]"),
            "product_id": pc.if_else(
                pa.array(about_product), product_ids, pa.scalar(None, pa.string())
            ),
            "category": pc.if_else(
                pa.array(about_product),
                items["category"].take(pa.array(product)),
                pa.scalar(None, pa.string()),
            ),
            "device": rng.choice(["mobile", "desktop", "tablet"], n, p=[0.6, 0.35, 0.05]),
            "campaign": np.where(np.char.find(kind, "email") >= 0, "weekly", None),
            "source": np.full(n, "events"),
            "import_id": np.ones(n, dtype=np.int64),
        }
    )


def generate(work: Path, customers: int, orders: int, events: int, seed: int) -> dict[str, int]:
    """Write the workspace and the Parquet exports; returns the row count of each table."""
    import numpy as np

    from segmint.store import Store

    rng = np.random.default_rng(seed)
    counts = order_counts(rng, customers, orders)
    acquired, seconds, who = order_times(rng, counts)
    ids = customer_ids(customers)
    items = catalog(rng)
    rows = dict.fromkeys(("customers", "orders", "order_lines", "refunds", "events"), 0)
    store = Store(work / WORKSPACE)
    try:
        store.set_setting("timezone", "UTC")
        store.set_setting("currency", "USD")
        store.insert("products", products_table(items))
        for lo in range(0, customers, CHUNK):
            batch = customers_table(rng, ids, acquired, lo, min(lo + CHUNK, customers))
            store.insert("customers", batch)
            rows["customers"] += batch.num_rows
        for lo in range(0, orders, CHUNK):
            hi = min(lo + CHUNK, orders)
            parts = order_chunk(rng, lo, seconds[lo:hi], who[lo:hi], ids, items)
            for table, batch in zip(("orders", "order_lines", "refunds"), parts, strict=True):
                store.insert(table, batch)
                rows[table] += batch.num_rows
        for lo in range(0, events, CHUNK):
            batch = events_chunk(rng, lo, min(CHUNK, events - lo), ids, items)
            store.insert("events", batch)
            rows["events"] += batch.num_rows
        export_parquet(store, work)
    finally:
        store.close()
    return rows


def export_parquet(store: Any, work: Path) -> None:
    """The columns the other engines read, money as float64 (as a CSV export would give),
    in a store export's order: by time. (The workspace keeps each batch sorted by customer,
    which segmint's imports do and an export does not.)"""
    orders = store.table("orders")
    orders.order_by("placed_at", "order_id").select(
        "customer_id",
        "placed_date",
        "status",
        total=orders.total.cast("float64"),
        product_sales=orders.product_sales.cast("float64"),
    ).to_parquet(work / ORDERS_PARQUET)
    refunds = store.table("refunds")
    refunds.order_by("refunded_at", "refund_id").select(
        "customer_id",
        amount=refunds.amount.cast("float64"),
        product_amount=refunds.product_amount.cast("float64"),
    ).to_parquet(work / REFUNDS_PARQUET)
    customers = store.table("customers").order_by("first_seen_at", "customer_id")
    customers.select("customer_id").to_parquet(work / CUSTOMERS_PARQUET)


# -- the measured runs (each in its own process) ------------------------------------------
def nearest_ranks(n: int, quantiles: tuple[float, ...]) -> list[int]:
    """0-based positions ``ceil(q * n) - 1`` in ascending order (segmint's nearest rank, in
    exact arithmetic)."""
    return [max(1, math.ceil(Fraction(str(q)) * n)) - 1 for q in quantiles]


def rfm_grid(work: Path) -> dict[int, list[str]]:
    return {int(r): row for r, row in json.loads((work / GRID_JSON).read_text()).items()}


def import_ibis_lazy_modules() -> None:
    """Import what Ibis imports on its first connection and query (its DuckDB backend and
    SQL compiler, pandas), so that segmint's timings, like the pandas and polars runs', start
    after the imports."""
    import ibis.backends.duckdb  # noqa: F401
    import pandas  # noqa: F401


def run_segmint_refresh(work: Path) -> dict[str, Any]:
    from segmint.refresh import refresh
    from segmint.store import Store

    import_ibis_lazy_modules()
    start = time.perf_counter()
    store = Store(work / WORKSPACE)
    result = refresh(store)
    seconds = time.perf_counter() - start
    store.close()
    return {"seconds": seconds, "rows": result.customers}


def run_segmint_rfm(work: Path) -> dict[str, Any]:
    """Transactional features, RFM and the value family through segmint's public functions."""
    import pyarrow.parquet as pq

    from segmint.features import default_as_of
    from segmint.features.rfm import with_rfm
    from segmint.features.statistics import statistics_and_rfm_cut_points
    from segmint.features.tables import Tables
    from segmint.features.transactional import transactional_features
    from segmint.segments.library import PARAMETERS, VALUE, rule_values
    from segmint.segments.membership import resolve
    from segmint.store import Store

    import_ibis_lazy_modules()
    start = time.perf_counter()
    store = Store(work / WORKSPACE)
    tables = Tables.of(store)
    as_of = default_as_of(tables.orders)
    features = transactional_features(tables.customers, tables.orders, tables.refunds, as_of)
    base = store.stage("_bench_base", features)
    statistics, cuts = statistics_and_rfm_cut_points(base)
    scored = with_rfm(base, cuts)
    values = rule_values(PARAMETERS, statistics)
    tiers = resolve(VALUE, scored, tables, as_of, values)
    result = scored.mutate(value_tier=tiers.segment_of(VALUE)).to_pyarrow()
    seconds = time.perf_counter() - start
    store.close()
    check = result.select(["customer_id", *CHECKED]).set_column(
        2, "amount_spent", result["amount_spent"].cast("float64")
    )
    pq.write_table(check, work / "check_segmint.parquet")
    return {"seconds": seconds, "rows": result.num_rows}


def run_pandas(work: Path) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    start = time.perf_counter()
    read = {"to_pandas_kwargs": {"date_as_object": False}}
    orders = pd.read_parquet(work / ORDERS_PARQUET, **read)
    refunds = pd.read_parquet(work / REFUNDS_PARQUET)
    customers = pd.read_parquet(work / CUSTOMERS_PARQUET)
    counted = orders[orders["status"] == "placed"]
    per_order = counted.groupby("customer_id").agg(
        number_of_orders=("total", "size"),
        gross_spent=("total", "sum"),
        product_sales=("product_sales", "sum"),
        first_order_date=("placed_date", "min"),
        last_order_date=("placed_date", "max"),
    )
    per_refund = refunds.groupby("customer_id").agg(
        refunded=("amount", "sum"), product_refunded=("product_amount", "sum")
    )
    f = customers.join(per_order, on="customer_id").join(per_refund, on="customer_id")
    money = ["gross_spent", "product_sales", "refunded", "product_refunded"]
    f[money] = f[money].fillna(0.0)
    f["number_of_orders"] = f["number_of_orders"].fillna(0).astype("int64")
    f["amount_spent"] = (f["gross_spent"] - f["refunded"]).round(2)
    f["net_sales"] = (f["product_sales"] - f["product_refunded"]).round(2)
    buyers = (f["number_of_orders"] > 0).to_numpy()
    f["aov"] = (f["amount_spent"] / f["number_of_orders"]).where(buyers).round(2)
    as_of = f["last_order_date"].max()
    f["days_since_last_order"] = (as_of - f["last_order_date"]).dt.days
    f["tenure_days"] = (as_of - f["first_order_date"]).dt.days

    def cuts(values: Any, quantiles: tuple[float, ...]) -> Any:
        ordered = np.sort(values)
        return ordered[nearest_ranks(len(ordered), quantiles)] if len(ordered) else ordered

    orders_n = f["number_of_orders"].to_numpy()
    days = f["days_since_last_order"].to_numpy(dtype="float64", na_value=np.nan)
    net = f["net_sales"].to_numpy()
    r = 5 - np.searchsorted(cuts(days[buyers], QUINTILES), days, side="left")
    repeat = cuts(orders_n[orders_n > 1], QUARTILES)
    fs = np.where(orders_n > 1, 2 + np.searchsorted(repeat, orders_n, side="left"), 1)
    m = 1 + np.searchsorted(cuts(net[buyers], QUINTILES), net, side="left")
    grid = rfm_grid(work)
    names = np.array([[None] * 6] + [[None, *grid.get(i, [None] * 5)] for i in range(1, 6)])
    f["rfm_cell"] = pd.Series(r * 100 + fs * 10 + m).astype("str").where(buyers)
    f["rfm_group"] = pd.Series(names[np.clip(r, 0, 5), fs]).where(buyers)
    tiers = dict(
        zip((q for q, _ in VALUE_TIERS), cuts(net[buyers], (0.95, 0.75, 0.5)), strict=False)
    )
    choices = [(net >= tiers.get(q, np.inf)) & (net > 0) for q, _ in VALUE_TIERS] + [buyers]
    labels = [name for _, name in VALUE_TIERS] + ["value_low"]
    f["value_tier"] = pd.Series(np.select(choices, labels, "")).where(buyers)
    seconds = time.perf_counter() - start
    f[["customer_id", *CHECKED]].to_parquet(work / "check_pandas.parquet")
    return {"seconds": seconds, "rows": len(f)}


def run_polars(work: Path) -> dict[str, Any]:
    import polars as pl

    start = time.perf_counter()
    counted = pl.scan_parquet(work / ORDERS_PARQUET).filter(pl.col("status") == "placed")
    per_order = counted.group_by("customer_id").agg(
        number_of_orders=pl.len(),
        gross_spent=pl.col("total").sum(),
        product_sales=pl.col("product_sales").sum(),
        first_order_date=pl.col("placed_date").min(),
        last_order_date=pl.col("placed_date").max(),
    )
    per_refund = (
        pl.scan_parquet(work / REFUNDS_PARQUET)
        .group_by("customer_id")
        .agg(refunded=pl.col("amount").sum(), product_refunded=pl.col("product_amount").sum())
    )
    money = ["gross_spent", "product_sales", "refunded", "product_refunded"]
    f = (
        pl.scan_parquet(work / CUSTOMERS_PARQUET)
        .join(per_order, on="customer_id", how="left")
        .join(per_refund, on="customer_id", how="left")
        .with_columns(pl.col(money).fill_null(0.0), pl.col("number_of_orders").fill_null(0))
        .with_columns(
            amount_spent=(pl.col("gross_spent") - pl.col("refunded")).round(2),
            net_sales=(pl.col("product_sales") - pl.col("product_refunded")).round(2),
        )
        .with_columns(
            aov=pl.when(pl.col("number_of_orders") > 0)
            .then(pl.col("amount_spent") / pl.col("number_of_orders"))
            .round(2),
            days_since_last_order=(
                pl.col("last_order_date").max() - pl.col("last_order_date")
            ).dt.total_days(),
            tenure_days=(
                pl.col("last_order_date").max() - pl.col("first_order_date")
            ).dt.total_days(),
        )
        .collect()
    )
    buyers = f.filter(pl.col("number_of_orders") > 0)

    def cuts(values: pl.Series, quantiles: tuple[float, ...]) -> list[float]:
        ordered = values.sort()
        return (
            ordered.gather(nearest_ranks(len(ordered), quantiles)).to_list() if len(ordered) else []
        )

    def exceeded(column: str, points: list[float]) -> pl.Expr:
        return pl.sum_horizontal(
            [(pl.col(column) > p).cast(pl.Int32) for p in points] or [pl.lit(0)]
        )

    recency = cuts(buyers["days_since_last_order"], QUINTILES)
    frequency = cuts(buyers.filter(pl.col("number_of_orders") > 1)["number_of_orders"], QUARTILES)
    monetary = cuts(buyers["net_sales"], QUINTILES)
    tiers = cuts(buyers["net_sales"], (0.95, 0.75, 0.5))
    has_orders = pl.col("number_of_orders") > 0
    scored = f.lazy().with_columns(
        r=5 - exceeded("days_since_last_order", recency),
        f=pl.when(pl.col("number_of_orders") > 1)
        .then(2 + exceeded("number_of_orders", frequency))
        .otherwise(1),
        m=1 + exceeded("net_sales", monetary),
    )
    grid = rfm_grid(work)
    group = pl.lit(None, dtype=pl.String)
    for r_score in sorted(grid, reverse=True):
        for f_score, name in reversed(list(enumerate(grid[r_score], start=1))):
            group = (
                pl.when((pl.col("r") == r_score) & (pl.col("f") == f_score))
                .then(pl.lit(name))
                .otherwise(group)
            )
    tier = pl.when(has_orders).then(pl.lit("value_low"))
    for (_, name), cut in reversed(list(zip(VALUE_TIERS, tiers, strict=False))):
        tier = (
            pl.when(has_orders & (pl.col("net_sales") >= cut) & (pl.col("net_sales") > 0))
            .then(pl.lit(name))
            .otherwise(tier)
        )
    result = scored.with_columns(
        rfm_cell=pl.when(has_orders).then(pl.concat_str([pl.col("r"), pl.col("f"), pl.col("m")])),
        rfm_group=pl.when(has_orders).then(group),
        value_tier=tier,
    ).collect()
    seconds = time.perf_counter() - start
    result.select(["customer_id", *CHECKED]).write_parquet(work / "check_polars.parquet")
    return {"seconds": seconds, "rows": result.height}


def run_arrow_floor(work: Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    start = time.perf_counter()
    table = pq.read_table(
        work / ORDERS_PARQUET, columns=["customer_id", "placed_date", "product_sales"]
    )
    return {"seconds": time.perf_counter() - start, "rows": table.num_rows}


def run_segmint_breakdown(work: Path) -> dict[str, Any]:
    """The steps of a refresh one by one: the enriched order lines and each feature module
    staged, then RFM, the store statistics and each segment family (as ``compute_features``
    and ``refresh`` do). A step that fails ends the breakdown; the steps before it are kept."""
    from segmint.store import Store

    store = Store(work / WORKSPACE)
    parts: dict[str, float] = {}
    figures: dict[str, Any] = {"rows": 0, "parts": parts}

    def timed(name: str, build: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        try:
            value = build()
        except Exception as exc:
            figures["failed"] = f"{name}: {type(exc).__name__}: {str(exc).splitlines()[0]}"
            raise
        parts[name] = time.perf_counter() - start
        return value

    with contextlib.suppress(Exception):
        _refresh_steps(store, timed)
    store.close()
    return {"seconds": sum(parts.values()), **figures}


def _refresh_steps(store: Any, timed: Callable[[str, Callable[[], Any]], Any]) -> None:
    from segmint.features import MODULES, default_as_of
    from segmint.features.rfm import with_rfm
    from segmint.features.statistics import statistics_and_rfm_cut_points
    from segmint.features.tables import Tables
    from segmint.features.transactional import transactional_features
    from segmint.segments.library import FAMILIES, LIBRARY, PARAMETERS, rule_values
    from segmint.segments.membership import membership_flags

    tables = Tables.of(store)
    as_of = timed("as-of day", lambda: default_as_of(tables.orders))
    tables = timed("enriched order lines", lambda: tables.with_staged_lines(store.stage))
    base = timed(
        "transactional_features",
        lambda: store.stage(
            "_bench_transactional",
            transactional_features(tables.customers, tables.orders, tables.refunds, as_of),
        ),
    )
    for module in MODULES:
        name = module.__name__
        extra = timed(name, lambda m=module: store.stage(f"_bench_{m.__name__}", m(tables, as_of)))
        base = base.left_join(extra, "customer_id").drop("customer_id_right")
    base = timed("join the modules", lambda: store.stage("_bench_base", base))
    statistics, cuts = timed(
        "RFM cut points and store statistics", lambda: statistics_and_rfm_cut_points(base)
    )
    staged = timed("RFM scores", lambda: store.stage("_bench_features", with_rfm(base, cuts)))
    values = rule_values(PARAMETERS, statistics)
    for family in (*FAMILIES, None):
        segments = [s for s in LIBRARY if s.family == family]
        timed(
            f"segments: {family or 'cross-cutting'}",
            lambda s=segments: store.stage(
                "_bench_flags", membership_flags(s, staged, tables, as_of, values)[0]
            ),
        )


RUNS: dict[str, tuple[str, Callable[[Path], dict[str, Any]], str | None]] = {
    "refresh": ("segmint refresh", run_segmint_refresh, None),
    "segmint": ("segmint RFM + value", run_segmint_rfm, None),
    "pandas": ("pandas", run_pandas, "pandas"),
    "polars": ("polars (lazy)", run_polars, "polars"),
    "floor": ("arrow floor", run_arrow_floor, "pyarrow"),
    "breakdown": ("segmint breakdown", run_segmint_breakdown, None),
}


def peak_mib() -> float:
    """This process's peak resident memory. On Linux ``VmHWM``: ``ru_maxrss`` keeps the
    parent's peak across the spawn, which would hide a child smaller than its parent."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


DEFAULT_RUNS = ("refresh", "segmint", "pandas", "polars", "floor")


def child(name: str, work: Path) -> None:
    """Run one measurement in this process and print its figures as one JSON line."""
    _, run, library = RUNS[name]
    if library and importlib.util.find_spec(library) is None:
        print(json.dumps({"skipped": f"{library} is not installed"}))
        return
    figures = run(work)
    figures["peak_mib"] = peak_mib()
    print(json.dumps(figures))


# -- the driver ---------------------------------------------------------------------------
def measure(name: str, work: Path, env: dict[str, str]) -> dict[str, Any]:
    """Run ``name`` in a fresh interpreter: its figures plus the process's wall time, or why
    it failed (the last line of its error)."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--child", name, str(work)],
        capture_output=True,
        text=True,
        env=env,
    )
    wall = time.perf_counter() - start
    if done.returncode:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        errors = [line for line in lines if "Error" in line or "Exception" in line] or lines
        print(f"the {RUNS[name][0]} run failed after {wall:.0f} s:\n{done.stderr}", file=sys.stderr)
        return {"failed": errors[-1] if errors else f"exit status {done.returncode}", "wall": wall}
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["wall"] = wall
    return figures


def measure_all(runs: list[str], work: Path, env: dict[str, str], repeat: int) -> dict[str, Any]:
    """Each run in fresh processes; the comparison runs ``repeat`` times each, taking turns
    so that a slow minute of the machine falls on every engine alike (the full refresh, which
    takes minutes, runs once)."""
    figures: dict[str, list[dict[str, Any]]] = {name: [] for name in runs}
    for turn in range(repeat):
        for name in runs:
            if name != "refresh" or turn == 0:
                figures[name].append(measure(name, work, env))
    return {name: _fastest(found) for name, found in figures.items()}


def _fastest(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures of the fastest run (the least disturbed), with the highest peak memory
    of them all and how many runs there were."""
    timed = [figures for figures in runs if "seconds" in figures]
    if not timed:
        return runs[-1]
    best = min(timed, key=lambda figures: figures["seconds"])
    return {**best, "peak_mib": max(f["peak_mib"] for f in timed), "runs": len(timed)}


def prepare(work: Path, args: argparse.Namespace) -> None:
    """Generate the data, unless ``work`` already holds data made with the same options."""
    wanted = {k: getattr(args, k) for k in ("customers", "orders", "events", "seed")}
    manifest = work / MANIFEST
    if manifest.exists() and json.loads(manifest.read_text()).get("options") == wanted:
        print(f"reusing the data generated in {work}")
        return
    for name in (WORKSPACE, f"{WORKSPACE}.wal", MANIFEST):
        (work / name).unlink(missing_ok=True)
    start = time.perf_counter()
    rows = generate(work, args.customers, args.orders, args.events, args.seed)
    size = (work / WORKSPACE).stat().st_size / 2**20
    print(
        "generated "
        + ", ".join(f"{v:,} {k}" for k, v in rows.items())
        + f" ({size:,.0f} MiB workspace) in {time.perf_counter() - start:.0f} s"
    )
    manifest.write_text(json.dumps({"options": wanted, "rows": rows}))


def compare(work: Path, engine: str) -> dict[str, int]:
    """Customers whose checked values differ between segmint and ``engine``, per column."""
    import numpy as np
    import pandas as pd

    ours = pd.read_parquet(work / "check_segmint.parquet").set_index("customer_id")
    theirs = pd.read_parquet(work / f"check_{engine}.parquet").set_index("customer_id")
    theirs = theirs.reindex(ours.index)
    differ = {}
    for column in CHECKED:
        a, b = ours[column], theirs[column]
        if column == "amount_spent":
            same = np.isclose(a.to_numpy(float), b.to_numpy(float), atol=0.005, rtol=0)
        else:
            equal = (a.astype("object") == b.astype("object")).fillna(False)
            same = (equal | (a.isna() & b.isna())).to_numpy(bool)
        differ[column] = int((~same).sum())
    return differ


def report(results: dict[str, dict[str, Any]]) -> None:
    ours = results.get("segmint", {}).get("seconds")
    floor = results.get("floor", {}).get("seconds")
    print(
        f"{'run':<22}{'compute s':>10}{'wall s':>9}{'x segmint RFM':>15}{'x floor':>9}"
        f"{'peak MiB':>10}"
    )
    for name, figures in results.items():
        label = RUNS[name][0]
        if "seconds" not in figures:
            reason = figures.get("skipped") or f"failed after {figures['wall']:.0f} s"
            print(f"{label:<22} {'skipped' if 'skipped' in figures else 'FAILED'}: {reason}")
            if "failed" in figures:
                print(f"{'':<23}{figures['failed'][:200]}")
            continue
        seconds = figures["seconds"]
        vs_ours = f"{seconds / ours:.2f}" if ours and name != "refresh" else ""
        vs_floor = f"{seconds / floor:.1f}" if floor else ""
        print(
            f"{label:<22}{seconds:>10.2f}{figures['wall']:>9.2f}{vs_ours:>15}{vs_floor:>9}"
            f"{figures['peak_mib']:>10,.0f}"
        )


def targets(results: dict[str, dict[str, Any]]) -> list[str]:
    """The issue's targets, each stated as met or not met (timings are never asserted)."""
    seconds = {name: figures.get("seconds") for name, figures in results.items()}
    ours, lines = seconds.get("segmint"), []

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    if ours and seconds.get("pandas"):
        x = seconds["pandas"] / ours
        lines.append(f"segmint RFM + value {x:.1f}x faster than pandas (>= 5x): {verdict(x >= 5)}")
    if ours and seconds.get("polars"):
        x = seconds["polars"] / ours
        lines.append(f"segmint RFM + value {x:.1f}x faster than polars (> 1x): {verdict(x > 1)}")
    if ours and seconds.get("floor"):
        x = ours / seconds["floor"]
        lines.append(
            f"segmint RFM + value takes {x:.1f}x the Arrow floor (<= 3x): {verdict(x <= 3)}"
        )
    if "refresh" in results:
        peak = results["refresh"].get("peak_mib")
        if peak is None:
            lines.append("refresh peak under 4 GB: NOT met (the refresh did not complete)")
        else:
            ok = peak < PEAK_TARGET_MIB
            lines.append(
                f"refresh peak {peak:,.0f} MiB (< 4 GB, {PEAK_TARGET_MIB:,.0f} MiB): {verdict(ok)}"
            )
    return lines


def check(work: Path, results: dict[str, dict[str, Any]]) -> None:
    """Print, per engine, how many customers' checked values differ from segmint's."""
    if "seconds" not in results.get("segmint", {}):
        return
    for engine in ("pandas", "polars"):
        if "seconds" in results.get(engine, {}):
            differ = compare(work, engine)
            detail = ", ".join(f"{k} {v}" for k, v in differ.items())
            print(
                f"correctness: {engine} vs segmint: {sum(differ.values())} mismatches "
                f"over {results['segmint']['rows']:,} customers ({detail})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--events", type=int, default=0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the generated data here")
    parser.add_argument("--runs", default=",".join(DEFAULT_RUNS), help="comma-separated runs")
    parser.add_argument("--breakdown", action="store_true", help="time each refresh step too")
    parser.add_argument("--memory-limit", help="SEGMINT_MEMORY_LIMIT for the segmint runs")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each comparison, the fastest reported"
    )
    parser.add_argument("--child", nargs=2, metavar=("RUN", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    runs = [name for name in args.runs.split(",") if name]
    if unknown := set(runs) - set(DEFAULT_RUNS):
        parser.error(f"unknown runs: {', '.join(sorted(unknown))} (choose from {DEFAULT_RUNS})")
    work = args.keep or Path(tempfile.mkdtemp(prefix="segmint-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    if args.memory_limit:
        env["SEGMINT_MEMORY_LIMIT"] = args.memory_limit
    try:
        prepare(work, args)
        from segmint.features.rfm import RFM_GRID

        (work / GRID_JSON).write_text(json.dumps(RFM_GRID))
        results = measure_all(runs, work, env, max(1, args.repeat))
        print(f"memory limit: {env.get('SEGMINT_MEMORY_LIMIT', 'segmint default')}")
        print(f"each comparison run {max(1, args.repeat)} times in turn, the fastest shown")
        report(results)
        for line in targets(results):
            print(f"target: {line}")
        check(work, results)
        if args.breakdown:
            steps = measure("breakdown", work, env)
            print("refresh breakdown (each step staged on its own):")
            for step, seconds in steps.get("parts", {}).items():
                print(f"  {step:<36}{seconds:>8.2f} s")
            if "failed" in steps:
                print(f"  FAILED: {steps['failed'][:200]}")
        print(json.dumps(results))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
