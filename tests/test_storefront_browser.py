"""The example storefront (examples/storefront) in a real browser: served from its own local
origin, it loads ``/v1/snippet.js`` from a real ``segmint serve`` and shows what fits the
signed-in shopper; a forged token gets no segments. No request leaves the machine."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from api.serving import Server, segmint, start_server
from segmint.api.index import build_index
from segmint.storefront import ensure_secret
from segmint.workspace import Workspace

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "storefront"


class QuietPages(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@dataclass
class Storefront:
    server: Server
    origin: str  # where the example page is served from
    secret: str
    segments: dict[str, list[str]]  # Shopify customer id -> the customer's segments

    def customer(self, wanted: Callable[[list[str]], bool]) -> str:
        return next(c for c, slugs in sorted(self.segments.items()) if wanted(slugs))


@pytest.fixture(scope="module")
def storefront(
    tmp_path_factory: pytest.TempPathFactory, import_demo_shop: Callable[[Path], Workspace]
) -> Iterator[Storefront]:
    path = tmp_path_factory.mktemp("storefront") / "shop.duckdb"
    ws = import_demo_shop(path)
    secret = ensure_secret(ws.store)
    index = build_index(ws.store)
    ws.close()
    segments = {
        key.split(":", 1)[1]: [s.slug for s in index.segments_of(customer_id)]
        for key, customer_id in index.keys.items()
        if key.startswith("shopify:")
    }
    pages = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietPages, directory=str(EXAMPLE)))
    threading.Thread(target=pages.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{pages.server_port}"
    try:
        created = segmint(
            path, "api-key", "create", "--scope", "read", "--route", "storefront-segments",
            "--origin", origin, "--name", "storefront",
        )  # fmt: skip
        assert created.returncode == 0, created.stderr
        server = start_server(path, created.stdout.strip().splitlines()[-1])
        try:
            yield Storefront(server, origin, secret, segments)
        finally:
            server.stop()
    finally:
        pages.shutdown()
        pages.server_close()


def liquid_token(secret: str, customer: str, expires: int) -> str:
    message = f"{customer}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def visit(browser: Any, shop: Storefront, customer: str | None, secret: str, shot: Path) -> dict:
    """Open the example page as ``customer`` (None: a guest) with a token signed with
    ``secret``; what the page shows once the snippet has answered."""
    expires = int(time.time()) + 600
    query: dict[str, Any] = {"api": shop.server.url, "key": shop.server.key}
    if customer is not None:
        token = liquid_token(secret, customer, expires)
        query.update(customer=customer, expires=expires, token=token)
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("pageerror", lambda error: requested.append(f"page error: {error}"))
    page.goto(f"{shop.origin}/index.html?{urlencode(query)}")
    page.wait_for_function("document.documentElement.hasAttribute('data-segments')")
    page.wait_for_function("document.getElementById('segments').textContent !== '(loading)'")
    seen = {
        "segments": page.evaluate("document.documentElement.dataset.segments"),
        "vip_banner": page.locator("#vip-banner").is_visible(),
        "first_order_offer": page.locator("#first-order-offer").is_visible(),
        "listed": page.locator("#segments").inner_text(),
    }
    page.screenshot(path=str(shot), full_page=True)
    page.close()
    assert all(url.startswith((shop.origin, shop.server.url)) for url in requested), requested
    looked_up = any(
        url.startswith(shop.server.url + "/v1/storefront/segments") for url in requested
    )
    assert looked_up == (customer is not None), requested
    return seen


def test_a_vip_sees_the_vip_banner(browser: Any, storefront: Storefront, tmp_path: Path) -> None:
    vip = storefront.customer(lambda slugs: "value_vip" in slugs)
    seen = visit(browser, storefront, vip, storefront.secret, tmp_path / "vip.png")
    assert seen["segments"].split(" ") == storefront.segments[vip]
    assert seen["vip_banner"] and not seen["first_order_offer"]
    assert seen["listed"] == ", ".join(storefront.segments[vip])  # the page's event listener
    assert (tmp_path / "vip.png").stat().st_size > 0


def test_a_new_customer_sees_the_first_order_offer(
    browser: Any, storefront: Storefront, tmp_path: Path
) -> None:
    new = storefront.customer(lambda slugs: "rfm_no_orders" in slugs and "value_vip" not in slugs)
    seen = visit(browser, storefront, new, storefront.secret, tmp_path / "new.png")
    assert seen["segments"].split(" ") == storefront.segments[new]
    assert seen["first_order_offer"] and not seen["vip_banner"]


def test_a_forged_token_gets_no_segments(
    browser: Any, storefront: Storefront, tmp_path: Path
) -> None:
    vip = storefront.customer(lambda slugs: "value_vip" in slugs)
    seen = visit(browser, storefront, vip, "a guessed secret", tmp_path / "forged.png")
    assert seen["segments"] == ""
    assert not seen["vip_banner"] and not seen["first_order_offer"]
    assert "customer token" in seen["listed"]


def test_a_guest_gets_no_segments_without_a_lookup(
    browser: Any, storefront: Storefront, tmp_path: Path
) -> None:
    seen = visit(browser, storefront, None, storefront.secret, tmp_path / "guest.png")
    assert seen["segments"] == "" and seen["listed"] == "none"
    assert not seen["vip_banner"] and not seen["first_order_offer"]
