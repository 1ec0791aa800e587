"""A new workspace, nothing imported yet: the server starts and every page says what to run."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from segmint.api.app import create_app
from segmint.api.keys import create_key
from segmint.api.service import Service
from segmint.workspace import Workspace


def test_every_page_renders_before_the_first_import(tmp_path: Path):
    Workspace(tmp_path / "new.duckdb").close()
    service = Service.open(tmp_path / "new.duckdb")
    try:
        assert service.index.size == 0
        with service.writing() as store:
            key = create_key(store, "read")[1]
        service.keys.reload()
        with TestClient(create_app(service)) as client:
            client.get("/signin")
            token = client.cookies.get("segmint_signin")
            client.post("/signin", data={"key": key, "token": token, "next": "/"})
            overview = client.get("/")
            assert overview.status_code == 200 and "segmint refresh" in overview.text
            segments = client.get("/segments")
            assert segments.status_code == 200 and "No segments yet" in segments.text
            missing = client.get("/segments/rfm_champions")
            assert missing.status_code == 404 and "no segment" in missing.text
            for path in ("/movement", "/models", "/campaigns", "/rules", "/customers", "/rfm"):
                assert client.get(path).status_code == 200, path
            twin = client.get("/v1/views/overview", headers={"Authorization": f"Bearer {key}"})
            assert twin.json()["totals"]["customers"] == 0 and twin.json()["monthly"] == []
    finally:
        service.close()
