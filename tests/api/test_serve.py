"""A real ``segmint serve`` on a free local port: keys made by the CLI, lookups over HTTP,
a log without customer data, and the docs page rendered by a real browser."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.serving import Server, segmint, start_server
from segmint.store import server_file


@pytest.fixture(scope="module")
def server(served_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    path = tmp_path_factory.mktemp("serve") / "shop.duckdb"
    path.write_bytes(served_template.read_bytes())
    created = segmint(path, "api-key", "create", "--scope", "read", "--name", "test")
    assert created.returncode == 0, created.stderr
    server = start_server(path, created.stdout.strip().splitlines()[-1])
    try:
        yield server
    finally:
        server.stop()


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
    last = "GET /v1/customers/{key}/segments 404"  # the last request's line
    deadline = time.monotonic() + 15  # the server writes its log lines after answering
    while last not in (log := server.log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert last in log
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


def test_commands_run_on_a_served_workspace_through_the_server(
    server: Server, tmp_path: Path
) -> None:
    assert server_file(server.path).stat().st_mode & 0o777 == 0o600
    listed = segmint(server.path, "api-key", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [k["name"] for k in json.loads(listed.stdout)] == ["test"]

    created = segmint(server.path, "api-key", "create", "--scope", "read", "--name", "more")
    assert created.returncode == 0, created.stderr
    new_key = created.stdout.strip().splitlines()[-1]
    answer = httpx.get(server.url + "/v1/segments", headers={"Authorization": f"Bearer {new_key}"})
    assert answer.status_code == 200  # the server knows the key at once

    events = tmp_path / "events.csv"
    events.write_text(
        "Event,Timestamp,Email\nViewed Product,2026-11-01T10:00:00Z,handed.over@example.com\n"
    )
    imported = segmint(server.path.resolve(), "import", "events.csv", "--json", cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)[0]["rows_loaded"] == 1
    before = httpx.get(server.url + "/healthz").json()["refresh_id"]
    refreshed = segmint(server.path, "refresh", "--json")
    assert refreshed.returncode == 0, refreshed.stderr
    assert httpx.get(server.url + "/healthz").json()["refresh_id"] == before + 1
    found = httpx.get(
        server.url + "/v1/customers/handed.over@example.com/segments",
        headers={"Authorization": f"Bearer {server.key}"},
    )
    assert found.status_code == 200 and found.json()["segments"]

    failed = segmint(server.path, "api-key", "revoke", "key_nope")
    assert failed.returncode == 1
    assert failed.stderr.startswith("Error: no API key 'key_nope'")
