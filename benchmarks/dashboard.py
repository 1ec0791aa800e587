"""Benchmark: how fast the dashboard's pages render on the demo store (issue 9: under 300 ms).

Builds (or reuses, ``--keep DIR``) the workspace ``segmint demo`` makes (``--customers``,
default 5,000: history, a past campaign, models, clusters), signs in with a read key, and
requests every page through the real application in process (FastAPI's test client: the
server's own work, without the network). For each page it prints:

- **cold**: the first request after the server starts (nothing cached: the view computed);
- **warm**: the median and the worst of ``--repeat`` further requests (the view cached until
  the workspace changes: what a person clicking around sees);
- **twin**: the median of the same page's JSON twin, side by side (same view, no HTML).

The ratio column is warm median against the 300 ms budget. Usage::

    python benchmarks/dashboard.py [--customers 5000] [--keep DIR] [--repeat 10]

``docs/performance.md`` (section *Dashboard*) has the figures.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from segmint.api.app import create_app
from segmint.api.keys import create_key
from segmint.api.service import Service

BUDGET_MS = 300.0
#: page path -> its JSON twin
PAGES = {
    "/": "/v1/views/overview",
    "/segments": "/v1/views/segments",
    "/segments/rfm_champions": "/v1/views/segments/rfm_champions",
    "/segments/rfm_champions?page=3&sort=email&order=asc": (
        "/v1/views/segments/rfm_champions?page=3&sort=email&order=asc"
    ),
    "/rules?rule=number_of_orders+%3E%3D+3+AND+amount_spent+%3E+500": (
        "/v1/views/rules?rule=number_of_orders+%3E%3D+3+AND+amount_spent+%3E+500"
    ),
}


def demo_workspace(folder: Path, customers: int) -> Path:
    path = folder / "demo.duckdb"
    if not path.exists():
        command = [sys.executable, "-m", "segmint", "-w", str(path), "demo"]
        command += ["--customers", str(customers), "--out", str(folder / "demo-data"), "--json"]
        subprocess.run(command, check=True, capture_output=True)
    return path


def timed(client: TestClient, url: str, headers: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    answer = client.get(url, headers=headers or {})
    elapsed = (time.perf_counter() - start) * 1000
    if answer.status_code != 200:
        raise SystemExit(f"Error: {url} answered {answer.status_code}: {answer.text[:300]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--keep", type=Path, help="Folder to keep the demo workspace in")
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="segmint-dash-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = demo_workspace(folder, args.customers)
    service = Service.open(path)
    with service.writing() as store:
        key = create_key(store, "read", name="benchmark")[1]
    service.keys.reload()
    bearer = {"Authorization": f"Bearer {key}"}
    print(f"Dashboard on the demo store ({args.customers:,} customers), {args.repeat} repeats")
    print(f"{'page':<58} {'cold ms':>8} {'warm ms':>8} {'worst':>7} {'twin ms':>8} {'vs 300':>7}")
    with TestClient(create_app(service)) as client:
        client.get("/signin")
        token = client.cookies.get("segmint_signin")
        client.post(
            "/signin", data={"key": key, "token": token, "next": "/"}, follow_redirects=False
        )
        for page, twin in PAGES.items():
            cold = timed(client, page)
            warm = [timed(client, page) for _ in range(args.repeat)]
            twins = [timed(client, twin, bearer) for _ in range(args.repeat)]
            median = statistics.median(warm)
            print(
                f"{page[:58]:<58} {cold:8.0f} {median:8.1f} {max(warm):7.1f} "
                f"{statistics.median(twins):8.1f} {median / BUDGET_MS:7.2f}"
            )
    service.close()


if __name__ == "__main__":
    main()
