"""A new workspace, nothing imported yet: the server starts and every page says what to run."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from segmint.api.app import create_app
from segmint.api.keys import create_key
from segmint.api.service import Service
from segmint.workspace import Workspace


@dataclass
class EmptyDashboard:
    client: TestClient  # signed in with ``key``
    key: str  # a read key
    index_size: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@pytest.fixture
def empty(tmp_path: Path) -> Iterator[EmptyDashboard]:
    """The dashboard of a workspace just created, signed in with a read key."""
    Workspace(tmp_path / "new.duckdb").close()
    service = Service.open(tmp_path / "new.duckdb")
    try:
        with service.writing() as store:
            key = create_key(store, "read")[1]
        service.keys.reload()
        with TestClient(create_app(service)) as client:
            client.get("/signin")
            token = client.cookies.get("segmint_signin")
            client.post("/signin", data={"key": key, "token": token, "next": "/"})
            yield EmptyDashboard(client, key, service.index.size)
    finally:
        service.close()


def test_every_page_renders_before_the_first_import(empty: EmptyDashboard):
    client = empty.client
    assert empty.index_size == 0
    overview = client.get("/")
    assert overview.status_code == 200 and "segmint refresh" in overview.text
    segments = client.get("/segments")
    assert segments.status_code == 200 and "No segments yet" in segments.text
    missing = client.get("/segments/rfm_champions")
    assert missing.status_code == 404 and "no segment" in missing.text
    for path in ("/movement", "/models", "/campaigns", "/rules", "/customers", "/rfm"):
        assert client.get(path).status_code == 200, path
    twin = client.get("/v1/views/overview", headers=empty.headers)
    assert twin.json()["totals"]["customers"] == 0 and twin.json()["monthly"] == []


def test_the_rfm_and_customer_pages_before_the_first_refresh(empty: EmptyDashboard):
    client = empty.client
    grid = client.get("/rfm")
    assert grid.status_code == 200 and "segmint refresh" in grid.text
    assert client.get("/rfm/cell?r=5&f=5").status_code == 404
    found = client.get("/customers?q=ann@example.com")
    assert found.status_code == 200 and "No customer matches" in found.text
    assert client.get("/v1/views/rfm", headers=empty.headers).json()["cells"] == []
