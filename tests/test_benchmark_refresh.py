"""``benchmarks/refresh.py`` runs end to end at a tiny size and the engines agree with segmint."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "refresh.py"


@pytest.mark.slow
def test_refresh_benchmark_at_a_tiny_size(tmp_path: Path):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--customers", "2000", "--orders", "10000"]
        + ["--events", "3000", "--keep", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "generated 2,000 customers, 10,000 orders" in out
    for label in ("segmint refresh", "segmint RFM + value", "pandas", "arrow floor"):
        assert re.search(rf"^{re.escape(label)}\s+\d+\.\d\d\s", out, re.M), out
    assert re.search(
        r"^polars \(lazy\)\s+(\d+\.\d\d\s|skipped: polars is not installed)", out, re.M
    )
    assert "target: refresh peak" in out
    checks = re.findall(r"^correctness: (\w+) vs segmint: (\d+) mismatches over 2,000", out, re.M)
    assert ("pandas", "0") in checks, out
    assert all(mismatches == "0" for _, mismatches in checks), out
