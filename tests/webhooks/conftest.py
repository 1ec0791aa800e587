"""Fixtures for webhook tests: receivers that are shut down after each test, a clock, a
workspace."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from segmint.workspace import Workspace
from webhooks.receiver import Clock, Receiver


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    """Make receivers; all are shut down after the test."""
    made: list[Receiver] = []

    def make(script: list[int | str] | None = None, default: int | str = 200) -> Receiver:
        made.append(Receiver(script, default))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Workspace]:
    ws = Workspace(tmp_path / "shop.duckdb")
    yield ws
    ws.close()
