"""On-site personalization: ``GET /v1/snippet.js`` (public) and
``GET /v1/storefront/segments`` (a read key plus a customer token the theme signed)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from segmint.api.auth import require
from segmint.api.errors import ApiError
from segmint.api.routes.customers import find_indexed_customer
from segmint.api.service import Service
from segmint.storefront import EXPIRED, check_token, stored_secret

router = APIRouter(prefix="/v1", tags=["storefront"])

#: How long browsers and CDNs may keep the snippet before asking again.
SNIPPET_MAX_AGE_S = 300
#: How long a server trusts the secret it read (``segmint storefront secret --rotate`` takes
#: effect within this many seconds, like a new or revoked key).
SECRET_RELOAD_S = 2.0


@dataclass
class SecretCache:
    """The workspace's storefront secret, read again once it is ``SECRET_RELOAD_S`` old."""

    load: Callable[[], str | None]
    value: str | None = None
    loaded_at: float = float("-inf")

    async def get(self) -> str | None:
        if time.monotonic() - self.loaded_at >= SECRET_RELOAD_S:
            self.value = await run_in_threadpool(self.load)
            self.loaded_at = time.monotonic()
        return self.value


@functools.cache
def _snippet_source() -> bytes:
    return (resources.files("segmint.api") / "static" / "snippet.js").read_bytes()


@router.get(
    "/snippet.js",
    summary="The storefront script (no key needed: it is public JavaScript)",
    response_class=Response,
    responses={200: {"content": {"application/javascript": {}}}},
)
async def snippet() -> Response:
    return Response(
        _snippet_source(),
        media_type="application/javascript; charset=utf-8",
        headers={"Cache-Control": f"public, max-age={SNIPPET_MAX_AGE_S}"},
    )


@router.get(
    "/storefront/segments",
    dependencies=[Depends(require("read", "storefront-segments"))],
    summary="The signed-in shopper's segments (slugs), for a storefront key",
)
async def storefront_segments(
    request: Request,
    customer: str = Query(description="The id the token was signed for (Shopify customer id)"),
    expires: int = Query(description="The token's expiry, a Unix epoch second"),
    token: str = Query(description='hex(HMAC-SHA256(secret, "<customer>:<expires>"))'),
) -> JSONResponse:
    service: Service = request.app.state.service
    problem = check_token(await _secret(request, service), customer, expires, token)
    if problem is not None:
        field = "expires" if problem is EXPIRED else "token"
        raise ApiError(403, problem.message, code=problem.code, field=field)
    index = service.index
    customer_id = await find_indexed_customer(service, index, customer)
    if customer_id is None:
        raise ApiError(404, "no customer matches this id", field="customer")
    return JSONResponse(
        {
            "customer_id": customer_id,
            "segments": [s.slug for s in index.segments_of(customer_id)],
            "as_of": index.as_of.isoformat() if index.as_of else None,
        },
        headers={"Cache-Control": "private, no-store"},
    )


async def _secret(request: Request, service: Service) -> str | None:
    cache = getattr(request.app.state, "storefront_secret", None)
    if cache is None:
        cache = request.app.state.storefront_secret = SecretCache(
            lambda: service.read(stored_secret)
        )
    return await cache.get()
