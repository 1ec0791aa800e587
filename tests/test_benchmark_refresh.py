"""``benchmarks/refresh.py`` runs end to end at a tiny size and the engines agree with segmint."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmark_run import run_benchmark


@pytest.mark.slow
def test_refresh_benchmark_at_a_tiny_size(tmp_path: Path):
    args = ("--customers", "2000", "--orders", "10000", "--events", "3000", "--repeat", "2")
    out = run_benchmark("refresh.py", *args, "--keep", str(tmp_path))
    assert "generated 2,000 customers, 10,000 orders" in out
    assert "each comparison run 2 times in turn" in out
    for label in ("segmint refresh", "segmint RFM + value", "pandas", "arrow floor"):
        assert re.search(rf"^{re.escape(label)}\s+\d+\.\d\d\s", out, re.M), out
    assert re.search(
        r"^polars \(lazy\)\s+(\d+\.\d\d\s|skipped: polars is not installed)", out, re.M
    )
    assert "target: refresh peak" in out
    checks = re.findall(r"^correctness: (\w+) vs segmint: (\d+) mismatches over 2,000", out, re.M)
    assert ("pandas", "0") in checks, out
    assert all(mismatches == "0" for _, mismatches in checks), out
