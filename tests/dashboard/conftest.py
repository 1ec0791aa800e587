"""The dashboard against a real ``segmint serve`` on the demo store as ``segmint demo`` builds
it (history, a past campaign, models, clusters), driven by the shared headless Chromium."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from api.serving import Server, segmint, start_server

CUSTOMERS = "1500"


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
def dashboard_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``segmint demo --customers 1500`` once per session."""
    folder = tmp_path_factory.mktemp("dashboard")
    path = folder / "demo.duckdb"
    made = segmint(
        path, "demo", "--customers", CUSTOMERS, "--out", str(folder / "demo-data"), "--json"
    )
    assert made.returncode == 0, made.stderr
    return path


@pytest.fixture(scope="session")
def dashboard(
    dashboard_workspace: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Dashboard]:
    """One server for the session, with a key of every kind (created before it starts)."""
    keys = {}
    for scope, extra in (
        ("read", []),
        ("write", []),
        ("admin", []),
        ("storefront", ["--route", "customer-segments", "--origin", "https://shop.example.com"]),
    ):
        level = "read" if scope == "storefront" else scope
        made = segmint(
            dashboard_workspace,
            "api-key",
            "create",
            "--scope",
            level,
            "--name",
            scope,
            *extra,
            "--json",
        )
        assert made.returncode == 0, made.stderr
        keys[scope] = json.loads(made.stdout)[0]["key"]
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
