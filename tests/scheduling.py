"""How ``make test`` spreads the tests over two processes (pytest-xdist, ``--dist loadfile``).

Each worker process builds its own session fixtures, so the files that share a slow one
travel together, and first, while the other worker takes the remaining files one by one: one
Spark session, one ``segmint demo`` run (the dashboard's and the CLI's). A test that uses one
of those fixtures from another file is refused at collection, so a new file cannot quietly
start a second Spark session on the other worker.
"""

from __future__ import annotations

from typing import Any

import pytest

# group -> (the slow session fixture, the files that use it), heaviest first
SHARED = {
    "demo": ("demo_run", ("tests/dashboard/", "tests/test_cli.py")),
    "spark": ("spark_session", ("tests/test_spark_parity.py", "tests/models/test_summary.py")),
}


def group_of(path: str) -> str:
    """The scheduling unit of a test file: its shared group, or the file itself."""
    for group, (_, files) in SHARED.items():
        if any(path == f or (f.endswith("/") and path.startswith(f)) for f in files):
            return group
    return path


def _rank(item: pytest.Item) -> int:
    group = group_of(item.nodeid.split("::", 1)[0])
    return list(SHARED).index(group) if group in SHARED else len(SHARED)


def _misplaced(item: pytest.Item) -> str | None:
    group = group_of(item.nodeid.split("::", 1)[0])
    for name, (fixture, _) in SHARED.items():
        if fixture in getattr(item, "fixturenames", ()) and group != name:
            return f"{item.nodeid} uses {fixture}: add its file to SHARED['{name}'] in {__file__}"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse a slow shared fixture outside its group; put the groups first."""
    misplaced = [m for m in map(_misplaced, items) if m]
    if misplaced:
        raise pytest.UsageError("\n".join(misplaced))
    items.sort(key=_rank)


@pytest.hookimpl(tryfirst=True, optionalhook=True)  # a hook of pytest-xdist, when installed
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadfile``, with the shared groups as single units, in collection order."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SharedFixtureScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid.split("::", 1)[0])

    config.option.loadscopereorder = False
    return SharedFixtureScheduling(config, log)
