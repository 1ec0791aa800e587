"""``Authorization: Bearer KEY`` on every route: 401 without a valid key, 403 for a key whose
scope, routes or origins do not allow the request, 429 with ``Retry-After`` over its rate."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from segmint.api.errors import ApiError
from segmint.api.keys import ApiKey

bearer = HTTPBearer(auto_error=False, description="An API key from `segmint api-key create`.")


def require(scope: str, route: str) -> Callable[..., Awaitable[ApiKey]]:
    """A dependency admitting keys with ``scope`` (or a wider one) for the route ``route``."""

    async def authorized(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
    ) -> ApiKey:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise ApiError(
                401,
                "no API key: send the header Authorization: Bearer KEY",
                headers={"WWW-Authenticate": "Bearer"},
            )
        service = request.app.state.service
        key = service.keys.find(credentials.credentials)
        if key is None:
            raise ApiError(
                401,
                "the API key is not valid (unknown or revoked)",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        _check_allowed(key, scope, route, request.headers.get("origin"))
        wait = service.keys.throttle(key)
        if wait > 0:
            raise ApiError(
                429,
                f"rate limit of this key exceeded ({key.rate_limit or service.limits.rate_limit}"
                " requests per second)",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        return key

    return authorized


def _check_allowed(key: ApiKey, scope: str, route: str, origin: str | None) -> None:
    if not key.allows(scope):
        raise ApiError(403, f"this route needs a {scope} key; this key's scope is {key.scope}")
    if key.routes and route not in key.routes:
        raise ApiError(403, f"this key is restricted to: {', '.join(key.routes)}")
    if origin is not None and origin not in key.origins:
        raise ApiError(403, f"this key may not be used from the origin {origin}")
