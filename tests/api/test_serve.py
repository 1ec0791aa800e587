"""A real ``segmint serve`` on a free local port: keys made by the CLI, lookups over HTTP,
a log without customer data, and the docs page rendered by a real browser."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest


@dataclass
class Server:
    url: str
    key: str
    process: subprocess.Popen
    log: Path
    path: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def segmint(path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    return subprocess.run(
        [sys.executable, "-m", "segmint", "-w", str(path), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
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


@pytest.fixture(scope="module")
def server(served_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("serve")
    path = folder / "shop.duckdb"
    path.write_bytes(served_template.read_bytes())
    created = segmint(path, "api-key", "create", "--scope", "read", "--name", "test")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    port = free_port()
    log = folder / "server.log"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    with log.open("w") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "segmint", "-w", str(path), "serve", "--port", str(port)],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, log)
        yield Server(url, key, process, log, path)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_lookups_over_http_and_a_log_without_customer_data(server: Server) -> None:
    headers = {"Authorization": f"Bearer {server.key}"}
    with httpx.Client(base_url=server.url, headers=headers) as client:
        first = client.get("/v1/segments/rfm_champions/members?limit=3").json()["members"]
        for member in first:
            by_email = client.get(f"/v1/customers/{member['email']}/segments")
            assert by_email.status_code == 200
            assert by_email.json()["customer_id"] == member["customer_id"]
            assert "rfm_champions" in {s["segment"] for s in by_email.json()["segments"]}
        missing = client.get("/v1/customers/not.a.customer@example.com/segments")
        assert missing.status_code == 404
        assert missing.json()["error"]["field"] == "key"
    time.sleep(0.5)
    log = server.log.read_text()
    assert "GET /v1/customers/{key}/segments 200" in log
    assert "@" not in log  # no email, in a path or anywhere else
    assert not any(m["customer_id"] in log for m in first)


def test_the_docs_page_renders_in_a_browser_from_local_assets(server: Server, browser: Any) -> None:
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(server.url + "/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/v1/customers/{key}/segments" in p.replace("\u200b", "") for p in paths)
    assert page.locator("button.authorize").count() == 1  # the Bearer scheme is offered
    page.close()
    assert requested and all(url.startswith(server.url) for url in requested), requested
