"""Running commands on a test's open workspace."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from segmint.workspace import Workspace


@contextmanager
def closed_for_cli(ws: Workspace) -> Iterator[str]:
    """The workspace's path, with the workspace closed for the block so that commands can
    open it; reopened after."""
    path = str(ws.store.path)
    ws.close()
    try:
        yield path
    finally:
        ws.__init__(path)
