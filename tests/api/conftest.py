"""The API over a copy of the demo store: one service and one key per scope per module."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from segmint.api.app import create_app
from segmint.api.keys import create_key, revoke_key
from segmint.api.service import Limits, Service
from segmint.workspace import Workspace


@dataclass
class Api:
    service: Service
    client: TestClient
    keys: dict[str, str]  # read, write, admin, revoked, storefront -> the key itself
    path: Path

    def headers(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[key]}"}


@pytest.fixture(scope="session")
def served_template(
    tmp_path_factory: pytest.TempPathFactory, import_demo_shop: Callable[[Path], Workspace]
) -> Path:
    path = tmp_path_factory.mktemp("api_template") / "shop.duckdb"
    import_demo_shop(path).close()
    return path


@pytest.fixture(scope="module")
def api(served_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A service over a fresh copy of the demo store, with keys of every kind."""
    path = tmp_path_factory.mktemp("api") / "shop.duckdb"
    path.write_bytes(served_template.read_bytes())
    service = Service.open(path, Limits(max_body_bytes=64 * 1024, max_events_per_request=50))
    keys = {}
    with service.writing() as store:
        for scope in ("read", "write", "admin"):
            keys[scope] = create_key(store, scope, name=f"test {scope}")[1]
        revoked, keys["revoked"] = create_key(store, "admin", name="revoked")
        revoke_key(store, revoked.key_id)
        keys["storefront"] = create_key(
            store, "read", routes=["customer-segments"], origins=["https://shop.example.com"]
        )[1]
    service.keys.reload()
    with TestClient(create_app(service)) as client:
        yield Api(service, client, keys, path)
    service.close()
