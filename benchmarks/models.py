"""Benchmark: BG/NBD and Gamma-Gamma on 1M customers and 10M orders, beside lifetimes 0.11.3.

The store is ``benchmarks/refresh.py``'s synthetic one (its generator, reused with ``--keep
DIR``). Its counted orders are exported once to Parquet for lifetimes, one row per order:
customer id, local order day, net amount (product sales less the merchandise part of the
order's refunds: the spend segmint's summary counts). Then each side runs in a fresh process,
so that its peak resident memory is its own, and times each phase:

- *load orders* (lifetimes only): ``pandas.read_parquet`` of that file (segmint reads the
  workspace within its summary);
- *summary*: segmint's ``customer_summary(orders, refunds, time_unit="week")`` staged in the
  workspace; lifetimes' ``summary_data_from_transaction_data``;
- *fit BG/NBD*: ``BetaGeoModel().fit``; ``BetaGeoFitter().fit``;
- *fit Gamma-Gamma*: ``GammaGammaModel().fit``; ``GammaGammaFitter().fit`` on the repeat buyers
  with a positive mean spend (the customers segmint's spend model keeps);
- *score*: for every customer, P(alive), expected orders in 90 days and CLV over 12 months
  at 1% a month: segmint's ``score_batches`` over ``summary_batches`` of the staged summary
  (every prediction column ``segmint predict`` stores, 100,000 customers at a time);
  lifetimes' ``conditional_probability_alive``,
  ``conditional_expected_number_of_purchases_up_to_time`` and ``customer_lifetime_value``.

Both summaries follow one definition: the orders of a customer on one day are one
transaction whose spend is their summed net amount; frequency is transactions - 1, recency
and T are in weeks of 7 days from the first transaction (to the last one, and to the latest
order day), monetary value is the mean spend of the repeat transactions (0 without). lifetimes
gets it with ``freq="D", freq_multiplier=7`` (its ``freq="W"`` would instead merge the orders
of a calendar week and count whole weeks). The script compares the two summaries, the
fitted parameters and the scores customer by customer.

lifetimes is not a dependency of segmint: it runs from ``--lifetimes-python PATH``, or from a
virtual environment this script creates in the data folder (``pip install`` of
:data:`LIFETIMES_PINS`). Usage::

    python benchmarks/models.py [--customers 1000000] [--orders 10000000] [--seed 7]
        [--keep DIR] [--lifetimes-python PATH] [--runs segmint,lifetimes]

``--keep DIR`` keeps the data and the lifetimes environment and reuses them on a later run;
``docs/performance.md`` has the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from refresh import MANIFEST, WORKSPACE, peak_mib, prepare

ORDERS_EXPORT = "model_orders.parquet"
LIFETIMES_VENV = "lifetimes-venv"
#: lifetimes 0.11.3 (2020, unmaintained) on the releases it was checked with here: its
#: summary, fits and predictions agree with segmint's on pandas 3 and numpy 2 as they did on
#: pandas 1.5 and numpy 1.26, and run faster. pyarrow reads the orders file.
LIFETIMES_PINS = (
    "lifetimes==0.11.3",
    "autograd==1.9.1",
    "numpy==2.4.6",
    "pandas==3.1.1",
    "scipy==1.17.1",
    "pyarrow==26.0.1",
)
CHECK_FILE = "models_check_{side}.parquet"
SCORES = ("p_alive", "expected_orders_90d", "predicted_clv_12m")
SUMMARY = ("frequency", "recency", "T", "monetary_value")

PHASES = ("load orders", "summary", "fit BG/NBD", "fit Gamma-Gamma", "score")
DAYS_PER_WEEK = 7
HORIZON_DAYS = 90
CLV_MONTHS = 12
MONTHLY_DISCOUNT = 0.01
TARGET_SPEEDUP = 10
SIGNIFICANT_DIGITS = 4
#: Parameters as segmint names them, and lifetimes' name for each.
PARAMETERS = {
    "BG/NBD": {"r": "r", "alpha": "alpha", "a": "a", "b": "b"},
    "Gamma-Gamma": {"p": "p", "q": "q", "gamma": "v"},
}
ALIGNMENT = (
    "summaries aligned: same-day orders merged into one transaction (spend summed), "
    "recency and T in days / 7 from the first transaction, up to the latest order day; "
    "segmint time_unit='week', lifetimes freq='D', freq_multiplier=7"
)


class Phases:
    """Seconds per named phase, timed with ``with phases("name"):``."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.seconds[name] = time.perf_counter() - start


# -- the two sides (each in its own process) ----------------------------------------------
def run_segmint(work: Path) -> dict[str, Any]:
    """Summary, both fits and every customer's scores through segmint's public functions."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from segmint.models.bgnbd import BetaGeoModel
    from segmint.models.gammagamma import GammaGammaModel
    from segmint.models.scoring import FittedModels, score_batches, summary_batches
    from segmint.models.summary import customer_summary, latest_order_date
    from segmint.store import Store

    timed = Phases()
    store = Store(work / WORKSPACE)
    with timed("summary"):
        orders = store.table("orders")
        as_of = latest_order_date(orders)
        summary = customer_summary(orders, store.table("refunds"), as_of, time_unit="week")
        staged = store.stage("_bench_summary", summary)
        columns = staged.select(*SUMMARY).to_pyarrow()
        x, t_x, age, spend = (columns[name].to_numpy() for name in SUMMARY)
    with timed("fit BG/NBD"):
        orders_model = BetaGeoModel(time_unit="week").fit(x, t_x, age)
    with timed("fit Gamma-Gamma"):
        spend_model = GammaGammaModel(time_unit="week").fit(x, spend)
    with timed("score"):
        models = FittedModels(orders_model, spend_model, monthly_discount=MONTHLY_DISCOUNT)
        kept = ("customer_id", *SUMMARY, *SCORES)
        batches = score_batches(summary_batches(staged), models, as_of)
        scores = [batch.select(kept) for batch in batches]
    store.close()
    pq.write_table(pa.Table.from_batches(scores), work / CHECK_FILE.format(side="segmint"))
    return {
        "phases": timed.seconds,
        "customers": len(x),
        "params": {
            "BG/NBD": orders_model.params_,
            "Gamma-Gamma": spend_model.params_,
        },
    }


def run_lifetimes(work: Path) -> dict[str, Any]:
    """The same from the exported orders with lifetimes (run by the lifetimes interpreter)."""
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data

    timed = Phases()
    with timed("load orders"):
        orders = pd.read_parquet(work / ORDERS_EXPORT)
    with timed("summary"):
        summary = summary_data_from_transaction_data(
            orders,
            "customer_id",
            "order_date",
            monetary_value_col="net_amount",
            freq="D",
            freq_multiplier=DAYS_PER_WEEK,
        )
    x, t_x, age, spend = (summary[name] for name in SUMMARY)
    with timed("fit BG/NBD"):
        orders_model = BetaGeoFitter().fit(x, t_x, age)
    with timed("fit Gamma-Gamma"):
        kept = (x > 0) & (spend > 0)
        spend_model = GammaGammaFitter().fit(x[kept], spend[kept])
    with timed("score"):
        alive = orders_model.conditional_probability_alive(x, t_x, age)
        expected = orders_model.conditional_expected_number_of_purchases_up_to_time(
            HORIZON_DAYS / DAYS_PER_WEEK, x, t_x, age
        )
        clv = spend_model.customer_lifetime_value(
            orders_model,
            x,
            t_x,
            age,
            spend,
            time=CLV_MONTHS,
            discount_rate=MONTHLY_DISCOUNT,
            freq="W",
        )
    check = summary.assign(
        p_alive=alive, expected_orders_90d=expected, predicted_clv_12m=clv
    ).reset_index()
    check.to_parquet(work / CHECK_FILE.format(side="lifetimes"), index=False)
    fitted = {"BG/NBD": orders_model.params_, "Gamma-Gamma": spend_model.params_}
    return {
        "phases": timed.seconds,
        "customers": len(summary),
        "params": {
            model: {ours: float(fitted[model][theirs]) for ours, theirs in names.items()}
            for model, names in PARAMETERS.items()
        },
    }


RUNS: dict[str, tuple[str, Callable[[Path], dict[str, Any]]]] = {
    "segmint": ("segmint", run_segmint),
    "lifetimes": ("lifetimes 0.11.3", run_lifetimes),
}


def child(name: str, work: Path) -> None:
    """Run one side in this process and print its figures as one JSON line."""
    figures = RUNS[name][1](work)
    figures["peak_mib"] = peak_mib()
    print(json.dumps(figures))


# -- preparing the data and lifetimes' environment ----------------------------------------
def export_orders(work: Path) -> None:
    """The counted (placed) orders as lifetimes reads them, once per generated store:
    ``customer_id, order_date`` (the local day, as a timestamp) ``, net_amount``, in time
    order as a store's order history is (the workspace keeps its batches sorted by
    customer, which helps lifetimes' pandas group-bys too)."""
    target = work / ORDERS_EXPORT
    if target.exists() and target.stat().st_mtime >= (work / MANIFEST).stat().st_mtime:
        return
    from segmint.definitions import counted_orders
    from segmint.models.summary import latest_order_date
    from segmint.store import Store

    store = Store(work / WORKSPACE)
    try:
        orders, refunds = store.table("orders"), store.table("refunds")
        placed = counted_orders(orders)
        as_of = latest_order_date(orders)
        refunds = refunds.filter(refunds.refunded_date <= as_of)
        refunded = refunds.group_by("order_id").aggregate(merchandise=refunds.product_amount.sum())
        joined = placed.left_join(refunded, "order_id").order_by("placed_at", "order_id")
        partial = target.with_suffix(".partial")
        joined.select(
            customer_id=joined.customer_id,
            order_date=joined.placed_date.cast("timestamp"),
            net_amount=(joined.product_sales - joined.merchandise.fill_null(0)).cast("float64"),
        ).to_parquet(partial)
        partial.replace(target)
    finally:
        store.close()


def lifetimes_python(work: Path) -> Path:
    """The interpreter of ``work``'s lifetimes environment, created on first use."""
    venv = work / LIFETIMES_VENV
    python = venv / "bin" / "python"
    if python.exists() and _imports(python, "lifetimes, pyarrow"):
        return python
    print(f"creating {venv}: pip install {' '.join(LIFETIMES_PINS)}", flush=True)
    for command in (
        [sys.executable, "-m", "venv", "--clear", str(venv)],
        [str(python), "-m", "pip", "install", "--quiet", *LIFETIMES_PINS],
    ):
        done = subprocess.run(command, capture_output=True, text=True, env=_outside_env())
        if done.returncode:
            sys.exit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return python


def _imports(python: Path, modules: str) -> bool:
    command = [str(python), "-c", f"import {modules}"]
    return subprocess.run(command, capture_output=True, env=_outside_env()).returncode == 0


def _outside_env() -> dict[str, str]:
    """This environment without ``PYTHONPATH``: segmint's source folder is no business of
    the lifetimes environment (pip would check segmint's requirements there)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


# -- the driver ---------------------------------------------------------------------------
def measure(name: str, python: Path, env: dict[str, str], work: Path) -> dict[str, Any]:
    """Run one side in a fresh ``python``: its figures plus the process's wall time, or why
    it failed (the last line of its error)."""
    start = time.perf_counter()
    done = subprocess.run(
        [str(python), __file__, "--child", name, str(work)],
        capture_output=True,
        text=True,
        env=env,
    )
    wall = time.perf_counter() - start
    if done.returncode:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        print(f"the {RUNS[name][0]} run failed after {wall:.0f} s:\n{done.stderr}", file=sys.stderr)
        return {"failed": lines[-1] if lines else f"exit status {done.returncode}", "wall": wall}
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["wall"] = wall
    figures["seconds"] = sum(figures["phases"].values())
    return figures


def report(results: dict[str, dict[str, Any]]) -> None:
    """Seconds per phase for each side, their ratio, totals and peak memory."""
    done = {name: figures for name, figures in results.items() if "phases" in figures}
    for name, figures in results.items():
        if name not in done:
            reason = figures["failed"][:200]
            print(f"{RUNS[name][0]}: FAILED after {figures['wall']:.0f} s: {reason}")
    if not done:
        return
    names = list(done)
    header = f"{'phase':<18}" + "".join(f"{RUNS[n][0]:>18}" for n in names)
    both = len(names) == 2
    print(header + (f"{'ratio':>8}" if both else ""))
    rows = [(phase, [done[n]["phases"].get(phase) for n in names]) for phase in PHASES]
    rows.append(("total", [done[n]["seconds"] for n in names]))
    for phase, values in rows:
        cells = "".join(f"{'-' if v is None else f'{v:.2f} s':>18}" for v in values)
        ratio = ""
        if both and None not in values and values[0] > 0:
            ratio = f"{values[1] / values[0]:>7.1f}x"
        print(f"{phase:<18}{cells}{ratio}")
    print(f"{'process wall':<18}" + "".join(f"{done[n]['wall']:>16.2f} s" for n in names))
    print(f"{'peak memory':<18}" + "".join(f"{done[n]['peak_mib']:>14,.0f} MiB" for n in names))


def compare_parameters(ours: dict[str, Any], theirs: dict[str, Any]) -> bool:
    """Print both sides' estimates; whether all agree to :data:`SIGNIFICANT_DIGITS`
    significant digits (a relative difference under half a unit of the last one)."""
    tolerance = 0.5 * 10 ** (1 - SIGNIFICANT_DIGITS)
    agree = True
    print(f"{'parameter':<22}{'segmint':>14}{'lifetimes':>14}{'rel. diff':>12}")
    for model, names in PARAMETERS.items():
        for name in names:
            a, b = ours[model][name], theirs[model][name]
            diff = abs(a - b) / abs(b)
            agree &= diff < tolerance
            print(f"{model + ' ' + name:<22}{a:>14.6g}{b:>14.6g}{diff:>12.1e}")
    return agree


def compare_customers(work: Path) -> list[str]:
    """Per-customer differences between the two sides' summaries and scores."""
    import numpy as np
    import pandas as pd

    ours = pd.read_parquet(work / CHECK_FILE.format(side="segmint")).set_index("customer_id")
    theirs = pd.read_parquet(work / CHECK_FILE.format(side="lifetimes"))
    theirs = theirs.set_index(theirs["customer_id"].astype(str)).reindex(ours.index)
    lines = [f"customers: segmint {len(ours):,}, lifetimes {theirs['frequency'].notna().sum():,}"]
    differ = {
        name: int((~np.isclose(ours[name], theirs[name], rtol=1e-9, atol=1e-9)).sum())
        for name in SUMMARY
    }
    lines.append(
        "summary differences: " + ", ".join(f"{k} {v:,}" for k, v in differ.items()) + " customers"
    )
    # Repeat buyers whose repeat orders were all refunded: segmint's spend model gives them
    # the population mean spend, lifetimes their own mean (zero or less).
    unspent = ((ours["frequency"] > 0) & (ours["monetary_value"] <= 0)).to_numpy()
    for name in SCORES:
        a, b = ours[name].to_numpy(float), theirs[name].to_numpy(float)
        relative = np.abs(a - b) / np.maximum(np.abs(b), 1e-12)
        if name == "predicted_clv_12m":
            relative = relative[~unspent]
        lines.append(
            f"{name}: largest relative difference {np.nanmax(relative):.1e}, "
            f"median {np.nanmedian(relative):.1e}"
        )
    lines.append(
        "CLV differs by design: a month is 365.25/12 days (4.348 weeks) in segmint, 4.345 "
        f"weeks in lifetimes; the {unspent.sum():,} repeat buyers without a positive mean "
        "spend (left out above) get the population mean spend in segmint, their own in lifetimes"
    )
    return lines


def targets(results: dict[str, dict[str, Any]], agree: bool | None) -> list[str]:
    """The issue's targets, each stated as met or not met (timings are never asserted)."""
    ours, theirs = (results.get(n, {}).get("seconds") for n in ("segmint", "lifetimes"))
    lines = []
    if ours and theirs:
        x = theirs / ours
        verdict = "met" if x >= TARGET_SPEEDUP else "NOT met"
        lines.append(
            f"segmint {x:.1f}x faster than lifetimes end to end (>= {TARGET_SPEEDUP}x): {verdict}"
        )
    if agree is not None:
        verdict = "met" if agree else "NOT met"
        lines.append(f"parameters agree to {SIGNIFICANT_DIGITS} significant digits: {verdict}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the data and lifetimes here")
    parser.add_argument("--lifetimes-python", type=Path, help="a python with lifetimes 0.11.3")
    parser.add_argument("--runs", default=",".join(RUNS), help="comma-separated sides")
    parser.add_argument("--child", nargs=2, metavar=("RUN", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    runs = [name for name in args.runs.split(",") if name]
    if unknown := set(runs) - set(RUNS):
        parser.error(f"unknown runs: {', '.join(sorted(unknown))} (choose from {list(RUNS)})")
    work = args.keep or Path(tempfile.mkdtemp(prefix="segmint-models-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        prepare(work, argparse.Namespace(events=0, **vars(args)))
        export_orders(work)
        sides = {"segmint": (Path(sys.executable), dict(os.environ))}
        if "lifetimes" in runs:
            python = args.lifetimes_python or lifetimes_python(work)
            sides["lifetimes"] = (python, _outside_env())
        results = {name: measure(name, *sides[name], work) for name in runs}
        print(ALIGNMENT)
        report(results)
        agree = None
        if all("params" in results.get(n, {}) for n in RUNS):
            agree = compare_parameters(results["segmint"]["params"], results["lifetimes"]["params"])
            for line in compare_customers(work):
                print(line)
        for line in targets(results, agree):
            print(f"target: {line}")
        print(json.dumps(results))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
