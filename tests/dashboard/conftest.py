"""The dashboard against a real ``segmint serve`` on the demo store as ``segmint demo`` builds
it (history, a past campaign, models, clusters), driven by the shared headless Chromium."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from api.serving import Server, start_server
from segmint.api.keys import create_key
from segmint.workspace import Workspace


@dataclass
class Dashboard:
    server: Server
    keys: dict[str, str]  # read, write, admin, storefront -> the key itself
    shots: Path  # where the tests save screenshots
    reference: Path  # a copy of the served workspace taken before it started (the server
    # holds DuckDB's lock: tests compute their independent numbers from this copy)

    @property
    def url(self) -> str:
        return self.server.url

    def headers(self, scope: str = "read") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[scope]}"}


@dataclass
class Visit:
    """A page opened in the browser, with what went wrong while it loaded."""

    page: Any
    console_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def dashboard_workspace(demo_run: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the session's ``segmint demo`` workspace (1,500 customers) to serve."""
    return demo_run.copy_to(tmp_path_factory.mktemp("dashboard"))


@pytest.fixture(scope="session")
def dashboard(
    dashboard_workspace: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Dashboard]:
    """One server for the session, with a key of every kind (created before it starts)."""
    with Workspace(dashboard_workspace) as ws:
        scopes = ("read", "write", "admin")
        keys = {scope: create_key(ws.store, scope, name=scope)[1] for scope in scopes}
        keys["storefront"] = create_key(
            ws.store,
            "read",
            name="storefront",
            routes=["customer-segments"],
            origins=["https://shop.example.com"],
        )[1]
    reference = tmp_path_factory.mktemp("reference") / "demo.duckdb"
    shutil.copyfile(dashboard_workspace, reference)
    server = start_server(dashboard_workspace, keys["admin"])
    try:
        yield Dashboard(server, keys, tmp_path_factory.mktemp("screenshots"), reference)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def signed_in(browser: Any, dashboard: Dashboard) -> Iterator[Callable[[str], Visit]]:
    """Open dashboard paths in one browser context signed in with the read key; every
    request to anywhere but the server is blocked and recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    outside: list[str] = []

    def guard(route: Any) -> None:
        if route.request.url.startswith(dashboard.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.goto(dashboard.url + "/signin")
    page.fill("#key", dashboard.keys["read"])
    page.click("button[type=submit]")
    page.wait_for_url(dashboard.url + "/")

    def visit(path: str) -> Visit:
        seen = Visit(page)
        outside.clear()

        def on_console(message: Any) -> None:
            if message.type == "error":
                seen.console_errors.append(message.text)

        def on_error(error: Any) -> None:
            seen.console_errors.append(str(error))

        page.on("console", on_console)
        page.on("pageerror", on_error)
        try:
            page.goto(dashboard.url + path)
            page.wait_for_load_state("networkidle")
        finally:
            page.remove_listener("console", on_console)
            page.remove_listener("pageerror", on_error)
        seen.outside_requests = list(outside)
        return seen

    yield visit
    context.close()
