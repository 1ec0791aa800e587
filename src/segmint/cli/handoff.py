"""Commands on a workspace that ``segmint serve`` holds are handed to the server.

DuckDB lets one process write a database file, and a running server is that process. When
a command cannot open the workspace because a server holds it, the command is sent to the
server (its address and a local token are in ``<workspace>.server.json``, readable by the
same user only), which runs it with its own open workspace, one command at a time, and
sends back its output and exit status. The command prints them as if it had run here.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from segmint.store import server_file

#: The route a server runs handed-off commands on (not part of the public API).
ROUTE = "/v1/admin/commands"


class HandOff(Exception):  # noqa: N818  (a signal to hand the command over, not an error)
    """The workspace is held by a running server: run the command there."""

    def __init__(self, server: dict[str, Any]):
        super().__init__(server.get("url"))
        self.server = server


def running_server(path: Path) -> dict[str, Any] | None:
    """The server that says it holds the workspace at ``path`` (url, pid, token), if any."""
    try:
        server = json.loads(server_file(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return server if server.get("url") and server.get("token") else None


def write_server_file(path: Path, url: str) -> str:
    """Announce a server holding ``path``; returns the token commands must present."""
    token = secrets.token_urlsafe(32)
    target = server_file(path)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump({"url": url, "pid": os.getpid(), "token": token}, handle)
    return token


def hand_off(server: dict[str, Any], argv: list[str]) -> int:
    """Run ``argv`` on ``server``; print its output here and return its exit status."""
    import httpx

    from segmint.cli.output import print_error

    body = {"argv": argv, "cwd": os.getcwd()}
    headers = {"Authorization": f"Bearer {server['token']}"}
    try:
        answer = httpx.post(server["url"] + ROUTE, json=body, headers=headers, timeout=None)
    except httpx.HTTPError as exc:
        print_error(
            f"the workspace is held by segmint serve (process {server.get('pid')}) at "
            f"{server['url']}, which did not answer: {exc}"
        )
        return 1
    if answer.status_code != 200:
        message = answer.json().get("error", {}).get("message", answer.text)
        print_error(f"segmint serve at {server['url']} refused the command: {message}")
        return 1
    result = answer.json()
    sys.stdout.write(result["stdout"])
    sys.stderr.write(result["stderr"])
    return int(result["exit_code"])


def run_here(argv: list[str], cwd: str, workspace: Any) -> dict[str, Any]:
    """Run a handed-off command in this (the server's) process, with ``workspace`` as the
    workspace every command opens; the caller holds the writer lock."""
    from segmint.cli.app import app
    from segmint.cli.state import State

    out, err = io.StringIO(), io.StringIO()
    State.served = workspace
    try:
        with _in_folder(cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                app(args=argv, prog_name="segmint")
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        State.served = None
    return {"exit_code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}


@contextlib.contextmanager
def _in_folder(folder: str) -> Iterator[None]:
    """Relative paths of the command resolve from the caller's folder (the process-wide
    working directory changes for the command: commands run one at a time)."""
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


class Borrowed:
    """The server's open workspace, lent to one command: not closed when it is done."""

    def __init__(self, workspace: Any):
        self.workspace = workspace

    def __enter__(self) -> Any:
        return self.workspace

    def __exit__(self, *exc: object) -> None:
        return None
