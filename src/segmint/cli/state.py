"""The workspace a command works on: ``--workspace``, or, while a running server runs a
command handed to it, the server's own open workspace (:mod:`segmint.cli.handoff`)."""

from __future__ import annotations

from pathlib import Path

from segmint.cli.handoff import Borrowed, HandOff, running_server
from segmint.errors import WorkspaceError
from segmint.workspace import DEFAULT_PATH, Workspace


class State:
    workspace_path: Path = Path(DEFAULT_PATH)
    #: The server's open workspace, while it runs a command handed to it.
    served: Workspace | None = None


def open_workspace() -> Workspace:
    """The workspace of ``--workspace``; when a running server holds it, the command is
    handed to the server (:mod:`segmint.cli.handoff`)."""
    if State.served is not None:
        return Borrowed(State.served)
    try:
        return Workspace(State.workspace_path)
    except WorkspaceError as exc:
        server = running_server(Path(State.workspace_path))
        if server is not None and "lock" in exc.message.lower():
            raise HandOff(server) from None
        raise
