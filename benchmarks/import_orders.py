"""Benchmark: `segmint import` of a large Shopify orders export.

Builds a Shopify orders CSV of ``--rows`` line-item rows (default 1,000,000) by
tiling the demo store's orders export with fresh order names, ids and emails,
then times, each in a fresh process so peak memory is measured alone:

- baseline: DuckDB's own ``read_csv`` of the same file into a table (all text);
- segmint: ``segmint import`` into an empty workspace (parse, validate, resolve
  identities, load), exactly what a user runs.

It prints rows/second, wall time and peak resident memory for both, and the
ratio segmint/baseline. The issue's target is under a minute and under 2 GB
for 1M rows on a 2-core machine. Usage::

    python benchmarks/import_orders.py [--rows 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEED_CUSTOMERS = 5000

BASELINE = """
import sys, duckdb
con = duckdb.connect(sys.argv[2])
con.execute(
    "CREATE TABLE raw AS SELECT * FROM read_csv(?, all_varchar=true, header=true)",
    [sys.argv[1]],
)
print(con.execute("SELECT count(*) FROM raw").fetchone()[0])
"""
PEAK = """
import resource
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

SEGMINT = """
import sys
from segmint.workspace import Workspace
result = Workspace(sys.argv[2]).import_file(sys.argv[1])
print(result.rows_loaded + result.rows_rejected)
"""


def build_orders_file(target: Path, rows: int, work: Path) -> int:
    """Tile the demo orders export until it has ``rows`` line-item rows."""
    from segmint.demo import generate_demo_store

    seed = generate_demo_store(work / "seed", customers=SEED_CUSTOMERS, seed=7)
    with seed.orders.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        template = list(reader)
    name, email, order_id = (header.index(c) for c in ("Name", "Email", "Id"))
    written = 0
    with target.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        copy, previous = 0, None
        while written < rows:
            for record in template:
                if written >= rows and record[name] != previous:
                    break
                previous = record[name]
                row = list(record)
                row[name] = f"#{copy}{record[name][1:]:0>6}"
                if row[email]:
                    row[email] = f"t{copy}.{row[email]}"
                if row[order_id]:
                    row[order_id] = str(copy * 10**13 + int(row[order_id]))
                writer.writerow(row)
                written += 1
            copy += 1
    return written


def measure(script: str, csv_path: Path, workspace: Path) -> dict:
    """Run ``script`` in a fresh interpreter; wall time and its peak RSS."""
    workspace.unlink(missing_ok=True)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", script + PEAK, str(csv_path), str(workspace)],
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"Error: the benchmark run failed:\n{done.stderr}")
    rows, peak_kib = (int(v) for v in done.stdout.split()[-2:])
    return {"rows": rows, "seconds": seconds, "peak_mib": peak_kib / 1024}


def report(name: str, figures: dict) -> None:
    rate = figures["rows"] / figures["seconds"]
    print(
        f"{name:<10} {figures['rows']:>10,} rows  {figures['seconds']:8.1f} s  "
        f"{rate:>10,.0f} rows/s  peak {figures['peak_mib']:7.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="keep the generated files in this folder")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="segmint-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        orders = work / "orders_export.csv"
        start = time.perf_counter()
        rows = build_orders_file(orders, args.rows, work)
        size = orders.stat().st_size / 2**20
        print(f"generated {rows:,} rows ({size:,.0f} MiB) in {time.perf_counter() - start:.0f} s")
        ours = measure(SEGMINT, orders, work / "segmint.duckdb")
        base = measure(BASELINE, orders, work / "baseline.duckdb")
        report("segmint", ours)
        report("baseline", base)
        ratio = ours["seconds"] / base["seconds"]
        print(f"ratio      segmint takes {ratio:.1f}x the time of a plain DuckDB read_csv")
        print(json.dumps({"segmint": ours, "duckdb_read_csv": base, "time_ratio": ratio}))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
