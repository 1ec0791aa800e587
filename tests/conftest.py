"""Shared fixtures: a fresh workspace per test, and the shared reference data when present."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from segmint.workspace import Workspace  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    ws = Workspace(tmp_path / "test.duckdb")
    yield ws
    ws.close()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data not found at {SHARED_DATA} (../shared/data)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def demo_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """The demo store (1,500 customers, every export) imported and refreshed, once per session.

    Tests only read it; a test that changes segments or settings uses its own workspace.
    """
    from segmint.demo import generate_demo_store

    folder = tmp_path_factory.mktemp("demo_shop")
    files = generate_demo_store(folder / "exports", customers=1500, seed=3)
    ws = Workspace(folder / "shop.duckdb")
    for path in (files.products, files.customers, files.orders, files.events):
        ws.import_file(path)
    ws.refresh()
    yield ws
    ws.close()


@pytest.fixture(scope="session")
def spark_session():
    """One local Spark session for the whole test run (it takes ~30 s to start)."""
    pytest.importorskip("pyspark", reason="pyspark is not installed")
    from segmint.engine import local_spark_session

    session = local_spark_session("segmint-tests")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
