"""One JSON error shape for every 4xx and 5xx the API answers.

``{"error": {"code": "not_found", "message": "...", "field": "key"}}``: ``code`` is stable
(clients branch on it), ``message`` is for people, and ``field`` (a request field, dotted for
nested JSON such as ``events.0.time``) or ``position`` (a 0-based offset into a rule) says
where the problem is when there is one place.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from segmint.errors import SegmintError
from segmint.rules.errors import RuleError

log = logging.getLogger("segmint.api")

#: Default ``code`` of each HTTP status.
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "internal",
    503: "unavailable",
}


#: Where FastAPI says a request field was; the field's own name follows.
LOCATIONS = ("body", "query", "path", "header", "cookie")


class ApiError(Exception):
    """An error answered with the error shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        position: int | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code or CODES.get(status, "error")
        self.message = message
        self.field = field
        self.position = position
        self.headers = headers

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        if self.position is not None:
            error["position"] = self.position
        return {"error": error}


def error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def from_segmint_error(exc: SegmintError, field: str | None = None) -> ApiError:
    """A user-facing segmint error as a 400 (a rule error keeps its position; an option's
    error names the option as the field)."""
    field = field or getattr(exc, "option", None)
    message = exc.message if not exc.hint else f"{exc.message} ({exc.hint})"
    if isinstance(exc, RuleError):
        return ApiError(400, message, code="invalid_rule", field=field, position=exc.position)
    return ApiError(400, message, field=field)


def validation_error(exc: RequestValidationError) -> ApiError:
    """FastAPI's request validation as the error shape: the first problem, field named."""
    first = exc.errors()[0] if exc.errors() else {}
    location = [str(part) for part in first.get("loc", ()) if part not in LOCATIONS]
    field = ".".join(location) or None
    kind = first.get("type", "")
    if kind == "json_invalid":
        return ApiError(400, "the request body is not valid JSON", code="invalid_json")
    if not location and kind in ("model_attributes_type", "dict_type", "missing"):
        return ApiError(
            400,
            "the request body must be a JSON object (Content-Type: application/json)",
            code="invalid_json",
        )
    message = first.get("msg", "invalid request")
    return ApiError(422, f"{field}: {message}" if field else message, field=field)


def install(app: FastAPI) -> None:
    """Answer every error raised in ``app`` with the shape."""

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(SegmintError)
    async def segmint_error(_: Request, exc: SegmintError) -> JSONResponse:
        return error_response(from_segmint_error(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(validation_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        return error_response(ApiError(exc.status_code, message, headers=exc.headers))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        route = getattr(request.scope.get("route"), "path", "?")
        # The traceback without the exception's message, which may hold customer data.
        where = "".join(traceback.format_tb(exc.__traceback__))
        log.error("unhandled %s on %s\n%s", type(exc).__name__, route, where)
        return error_response(ApiError(500, "internal error: the server log has the details"))
