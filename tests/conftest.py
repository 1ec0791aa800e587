"""Shared fixtures: a fresh workspace per test, and the shared reference data when present."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from segmint.workspace import Workspace  # noqa: E402

pytest_plugins = ("scheduling",)

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DEMO_CUSTOMERS = "1500"


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    ws = Workspace(tmp_path / "test.duckdb")
    yield ws
    ws.close()


@dataclass(frozen=True)
class DemoRun:
    """``segmint demo`` as a user runs it: what it printed, the files it wrote, and the
    workspace it left (copy it before using it: several tests start from it)."""

    path: Path
    out: Path
    stdout: str

    def copy_to(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy(self.path, folder / self.path.name))


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """``segmint demo --customers 1500`` once per session, in its own process."""
    folder = tmp_path_factory.mktemp("demo_run")
    path, out = folder / "demo.duckdb", folder / "demo-data"
    command = [sys.executable, "-m", "segmint", "-w", str(path), "demo"]
    command += ["--customers", DEMO_CUSTOMERS, "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src"), "COLUMNS": "200"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return DemoRun(path, out, done.stdout)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data not found at {SHARED_DATA} (../shared/data)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def demo_exports(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The demo store's export files (1,500 customers, every export), generated once."""
    from segmint.demo import generate_demo_store

    folder = tmp_path_factory.mktemp("demo_exports")
    return generate_demo_store(folder, customers=1500, seed=3)


def import_demo(path: Path, files: Any) -> Workspace:
    """A workspace at ``path`` with every demo export imported and refreshed."""
    ws = Workspace(path)
    for export in (files.products, files.customers, files.orders, files.events):
        ws.import_file(export)
    ws.refresh()
    return ws


@pytest.fixture(scope="session")
def import_demo_shop(demo_exports: Any) -> Callable[[Path], Workspace]:
    """Make a workspace at a path with the demo exports imported and refreshed (the caller
    closes it)."""
    return lambda path: import_demo(path, demo_exports)


@pytest.fixture(scope="session")
def demo_shop(tmp_path_factory: pytest.TempPathFactory, demo_exports: Any) -> Iterator[Workspace]:
    """The demo store imported and refreshed, once per session.

    Tests only read it; a test that changes segments or settings uses its own workspace.
    """
    ws = import_demo(tmp_path_factory.mktemp("demo_shop") / "shop.duckdb", demo_exports)
    yield ws
    ws.close()


@pytest.fixture(scope="session")
def predicted_shop(
    tmp_path_factory: pytest.TempPathFactory, demo_exports: Any
) -> Iterator[Workspace]:
    """The demo store after ``segmint predict`` (which refreshes), once per session; read only."""
    ws = import_demo(tmp_path_factory.mktemp("predicted_shop") / "shop.duckdb", demo_exports)
    ws.predict()
    yield ws
    ws.close()


@pytest.fixture
def segmint_cli(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """Run ``segmint -w WORKSPACE ARGS...`` in-process, wide tables, checking the exit code."""
    from typer.testing import CliRunner

    import segmint.cli.main  # noqa: F401  (registers the commands)
    from segmint.cli import output
    from segmint.cli.app import app

    monkeypatch.setattr(output.stdout, "width", 2000)
    monkeypatch.delenv("SEGMINT_WORKSPACE", raising=False)
    runner = CliRunner()

    def run(ws: Workspace | Path, *args: str, code: int = 0) -> Any:
        path = ws.store.path if isinstance(ws, Workspace) else ws
        result = runner.invoke(app, ["-w", str(path), *args])
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result

    return run


@pytest.fixture(scope="session")
def cdnow_shop(
    tmp_path_factory: pytest.TempPathFactory, shared_data: Path
) -> Iterator[tuple[Workspace, dict[str, int]]]:
    """The CDNOW sample imported with docs/mappings/cdnow.yaml (headerless, whitespace
    separated), and each segmint customer's sample id (1-2357, the ID of the published
    files), once per session; read only."""
    from segmint.importers.base import ImportOptions
    from segmint.importers.mapped import load_mapping

    path = shared_data / "cdnow" / "CDNOW_sample.txt"
    mapping = load_mapping(Path(__file__).parents[1] / "docs" / "mappings" / "cdnow.yaml")
    ws = Workspace(tmp_path_factory.mktemp("cdnow") / "cdnow.duckdb")
    result = ws.import_file(path, ImportOptions(mapping=mapping))
    assert (result.rows_loaded, result.rows_rejected) == (6919, 0)
    with path.open(encoding="ascii") as fh:
        sample_id = {f"cdnow:{f[0]}": int(f[1]) for f in (line.split() for line in fh) if f}
    identities = ws.table("identities").to_pyarrow().to_pylist()
    yield ws, {i["customer_id"]: sample_id[i["identity"]] for i in identities}
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


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Debian Chromium for the whole run, driven by Playwright (browsers cannot
    be downloaded here: ``make test`` installs the ``chromium`` package when missing)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed (make test runs apt-get install -y chromium)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def wide_console(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """CLI tables as wide as they need, so that their column names can be read back whole;
    no workspace or debug mode from the environment."""
    from segmint.cli import output

    monkeypatch.setattr(output.stdout, "width", 2000)
    monkeypatch.delenv("SEGMINT_WORKSPACE", raising=False)
    monkeypatch.delenv("SEGMINT_DEBUG", raising=False)
    yield
