"""``benchmarks/models.py``'s segmint side runs end to end at a tiny size (lifetimes, which
the full benchmark installs in its own environment, is left out)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "models.py"


def test_models_benchmark_segmint_side_at_a_tiny_size(tmp_path: Path):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--customers", "1000", "--orders", "5000"]
        + ["--runs", "segmint", "--keep", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "generated 1,000 customers, 5,000 orders" in out
    for phase in ("summary", "fit BG/NBD", "fit Gamma-Gamma", "score", "total"):
        assert re.search(rf"^{re.escape(phase)}\s+\d+\.\d\d s$", out, re.M), out
    assert re.search(r"^peak memory\s+[\d,]+ MiB$", out, re.M), out
    assert (tmp_path / "model_orders.parquet").exists()
    assert (tmp_path / "models_check_segmint.parquet").exists()
