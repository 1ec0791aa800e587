"""Predictions for every customer from fitted models, computed batch by batch.

Scoring reads the per-customer summary (:func:`segmint.models.summary.customer_summary`) as a
stream of Arrow batches and turns each into one batch of predictions, so memory stays bounded
by the batch size whatever the number of customers. Per customer, as of the summary's
calibration end (the *as-of* day):

- ``p_alive``: BG/NBD probability that the customer is still active;
- ``expected_orders_90d``: expected orders (transactions: order days) in the next 90 days;
- ``predicted_spend_per_order``: Gamma-Gamma expected net sales per transaction;
- ``predicted_clv_12m``: discounted expected spend over the next 12 months
  (:func:`segmint.models.clv.customer_lifetime_value`);
- ``next_order_date``: the as-of day plus the median time to the next order, rounded up to
  a whole day (none when the customer is more likely gone than alive);
- ``churn_risk``: ``low``, ``medium`` or ``high`` (:func:`segmint.models.clv.churn_risk_tier`).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from segmint.models.bgnbd import BetaGeoModel, HorizonTable
from segmint.models.clv import churn_risk_tier, discounted_value, month_ends
from segmint.models.gammagamma import GammaGammaModel
from segmint.models.summary import TIME_UNITS

#: Expected orders are predicted over this many days (the ``expected_orders_90d`` feature).
ORDERS_HORIZON_DAYS = 90
#: Predicted CLV covers this many months (the ``predicted_clv_12m`` feature).
CLV_MONTHS = 12
#: Customers scored per batch.
BATCH_SIZE = 100_000
#: Batches scored at the same time: one per core, up to four (more batches in hand would
#: cost memory for little: the caller's thread reads them one at a time).
SCORING_THREADS = max(1, min(4, os.cpu_count() or 1))

PREDICTIONS = pa.schema(
    [
        ("customer_id", pa.string()),
        ("frequency", pa.int64()),
        ("recency", pa.float64()),
        ("T", pa.float64()),
        ("monetary_value", pa.float64()),
        ("p_alive", pa.float64()),
        ("expected_orders_90d", pa.float64()),
        ("predicted_spend_per_order", pa.float64()),
        ("predicted_clv_12m", pa.float64()),
        ("next_order_date", pa.date32()),
        ("churn_risk", pa.string()),
    ]
)


@dataclass(frozen=True)
class FittedModels:
    """The order model and the spend model predictions come from, with their settings."""

    orders: BetaGeoModel
    spend: GammaGammaModel
    monthly_discount: float = 0.01

    @property
    def days_per_unit(self) -> int:
        return TIME_UNITS[self.orders.time_unit]


def fit_models(summary: ir.Table, time_unit: str, monthly_discount: float = 0.01) -> FittedModels:
    """BG/NBD and Gamma-Gamma fitted on a customer summary
    (:func:`segmint.models.summary.customer_summary`), reading only what each likelihood needs:
    customers sharing ``(frequency, recency, T)`` are one weighted row, and customers without
    repeat transactions one row for the spend model (which leaves them out and counts them)."""
    rows = weighted_rows(summary)
    x, n = _floats(rows, "frequency"), _floats(rows, "n")
    orders = BetaGeoModel(time_unit).fit(x, _floats(rows, "recency"), _floats(rows, "T"), n)
    repeat = summary.filter(summary.frequency > 0).select("frequency", "monetary_value")
    repeat = repeat.to_pyarrow()
    once = n[x == 0].sum()
    spend = GammaGammaModel(time_unit).fit(
        np.append(_floats(repeat, "frequency"), 0.0),
        np.append(_floats(repeat, "monetary_value"), 0.0),
        np.append(np.ones(repeat.num_rows), once),
    )
    return FittedModels(orders, spend, monthly_discount)


def weighted_rows(summary: ir.Table) -> pa.Table:
    """``frequency, recency, T, n``: the distinct rows of a customer summary and how many
    customers share each, all a purchase-count likelihood reads."""
    return summary.group_by(["frequency", "recency", "T"]).aggregate(n=summary.count()).to_pyarrow()


def score_batches(
    batches: Iterable[pa.RecordBatch | pa.Table],
    models: FittedModels,
    as_of: date,
    workers: int = SCORING_THREADS,
) -> Iterator[pa.RecordBatch]:
    """Predictions (schema :data:`PREDICTIONS`) for every summary row of ``batches``, in
    their order; ``as_of`` is the summary's calibration end.

    ``workers`` threads score batches while the caller's thread reads the next ones (numpy
    and scipy release the interpreter while they compute), with at most ``workers + 1``
    batches in hand: memory stays bounded by the batch size. Only the caller's thread runs
    ``batches`` and sees the results, so a database connection behind them is used by one
    thread at a time."""
    table = models.orders.horizon_table(horizons_of(models))
    with ThreadPoolExecutor(max(workers, 1), thread_name_prefix="scoring") as pool:
        pending: deque[Future[pa.RecordBatch]] = deque()
        for batch in batches:
            if batch.num_rows:
                pending.append(pool.submit(score_batch, batch, models, as_of, table))
            while len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def summary_batches(staged: ir.Table, batch_size: int = BATCH_SIZE) -> Iterator[pa.Table]:
    """A summary staged as a table of its own (``Store.stage``) in batches of ``batch_size``
    rows, each its own query, so the connection is free for other statements between
    batches. Batches are ranges of the table's ``rowid`` (numbering the rows in the query that
    computes them would run its last steps on one thread); a table refilled after a delete
    numbers its rows on from the old ones, so the ranges start at the lowest."""
    row = staged.rowid()
    span = staged.aggregate(first=row.min(), last=row.max()).to_pyarrow().to_pylist()[0]
    if span["first"] is None:
        return
    for start in range(span["first"], span["last"] + 1, batch_size):
        yield staged.filter((row >= start) & (row < start + batch_size)).to_pyarrow()


def horizons_of(models: FittedModels) -> list[float]:
    """What scoring predicts orders over, in the models' time unit: the 90-day horizon,
    then the end of each CLV month."""
    months = month_ends(models.orders.time_unit, CLV_MONTHS)
    return [ORDERS_HORIZON_DAYS / models.days_per_unit, *months]


def score_batch(
    batch: pa.RecordBatch | pa.Table,
    models: FittedModels,
    as_of: date,
    table: HorizonTable | None = None,
) -> pa.RecordBatch:
    """Predictions for one batch of summary rows (``customer_id, frequency, recency, T,
    monetary_value``); ``table``: the :func:`horizons_of` table of earlier batches."""
    x = _floats(batch, "frequency")
    t_x = _floats(batch, "recency")
    age = _floats(batch, "T")
    zbar = _floats(batch, "monetary_value")
    expected, alive = models.orders.expected_purchases_and_alive(
        horizons_of(models), x, t_x, age, table
    )
    spend = models.spend.expected_spend(x, zbar)
    clv = discounted_value(expected[1:], spend, models.monthly_discount)
    waiting = models.orders.median_time_to_next_order(x, t_x, age, alive) * models.days_per_unit
    columns = {
        "customer_id": _array(batch, "customer_id"),
        "frequency": pa.array(x.astype(np.int64)),
        "recency": pa.array(t_x),
        "T": pa.array(age),
        "monetary_value": pa.array(zbar),
        "p_alive": pa.array(alive),
        "expected_orders_90d": pa.array(expected[0]),
        "predicted_spend_per_order": pa.array(_finite_or_null(spend)),
        "predicted_clv_12m": pa.array(_finite_or_null(clv)),
        "next_order_date": next_order_dates(as_of, waiting),
        "churn_risk": churn_risk_tier(alive),
    }
    return pa.RecordBatch.from_pydict(columns, schema=PREDICTIONS)


def next_order_dates(as_of: date, days_ahead: np.ndarray) -> pa.Array:
    """``as_of`` plus each waiting time rounded up to whole days; null where it is NaN."""
    known = np.isfinite(days_ahead)
    whole = np.ceil(np.where(known, days_ahead, 0.0)).astype(np.int64)
    epoch_day = (as_of - date(1970, 1, 1)).days
    days = pa.array(epoch_day + whole, mask=~known, type=pa.int32())
    return days.cast(pa.date32())


def _array(batch: pa.RecordBatch | pa.Table, name: str) -> pa.Array:
    column = batch.column(name)
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _floats(batch: pa.RecordBatch | pa.Table, name: str) -> np.ndarray:
    return np.asarray(batch.column(name).to_numpy(zero_copy_only=False), dtype=float)


def _finite_or_null(values: np.ndarray) -> pa.Array:
    return pa.array(values, mask=~np.isfinite(values), type=pa.float64())
