"""``benchmarks/models.py``'s segmint side runs end to end at a tiny size (lifetimes, which
the full benchmark installs in its own environment, is left out)."""

from __future__ import annotations

import re
from pathlib import Path

from benchmark_run import run_benchmark


def test_models_benchmark_segmint_side_at_a_tiny_size(tmp_path: Path):
    args = ("--customers", "1000", "--orders", "5000", "--runs", "segmint", "--keep")
    out = run_benchmark("models.py", *args, str(tmp_path), timeout=300)
    assert "generated 1,000 customers, 5,000 orders" in out
    for phase in ("summary", "fit BG/NBD", "fit Gamma-Gamma", "score", "total"):
        assert re.search(rf"^{re.escape(phase)}\s+\d+\.\d\d s$", out, re.M), out
    assert re.search(r"^peak memory\s+[\d,]+ MiB$", out, re.M), out
    assert (tmp_path / "model_orders.parquet").exists()
    assert (tmp_path / "models_check_segmint.parquet").exists()
