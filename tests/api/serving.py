"""Run a real ``segmint serve`` (and the CLI) in a subprocess for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

SRC = str(Path(__file__).parents[2] / "src")


@dataclass
class Server:
    url: str
    key: str
    process: subprocess.Popen
    log: Path
    path: Path

    def stop(self, kill: bool = False) -> None:
        """Stop it (SIGTERM: a clean shutdown), or kill it (SIGKILL: nothing gets to run)."""
        self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        self.process.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def segmint(path: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.run(
        [sys.executable, "-m", "segmint", "-w", str(path), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=cwd,
    )


def wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"segmint serve exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("segmint serve did not come up in 60 s")


def start_server(path: Path, key: str) -> Server:
    """``segmint serve`` on a free port, once ``/healthz`` answers."""
    port = free_port()
    log = path.with_suffix(f".{port}.log")
    with log.open("w") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "segmint", "-w", str(path), "serve", "--port", str(port)],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": SRC},
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, log)
    except BaseException:
        process.kill()
        raise
    return Server(url, key, process, log, path)
