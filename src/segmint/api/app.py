"""The FastAPI application of ``segmint serve``: versioned routes under ``/v1``, one error
shape, keys on every route but ``/healthz``, ``/v1/snippet.js`` and the docs, which are served
from this package (Swagger UI without a CDN); the dashboard's pages, behind its own sign-in."""

from __future__ import annotations

import hmac
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from segmint import __version__, dashboard
from segmint.api import errors
from segmint.api.errors import ApiError
from segmint.api.middleware import AccessLog, BodyLimit, Cors
from segmint.api.routes import customers, events, exports, jobs, segments, storefront, webhooks
from segmint.api.service import Service
from segmint.cli import handoff

STATIC = "/static"
SWAGGER = f"{STATIC}/swagger-ui"


class CommandIn(BaseModel):
    argv: list[str]
    cwd: str


def create_app(service: Service, warm: bool = False) -> FastAPI:
    """The API over ``service``'s workspace; ``warm``: fill the dashboard's cache at once."""
    app = FastAPI(
        title="segmint",
        version=__version__,
        description="Customer segments of one workspace: lookups, members, previews, "
        "events, exports and webhooks. Send `Authorization: Bearer KEY` "
        "(`segmint api-key create`).",
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = service
    errors.install(app)
    for module in (customers, segments, events, exports, jobs, webhooks, storefront):
        app.include_router(module.router)
    _add_system_routes(app)
    dashboard.install(app, service, warm)
    app.mount(STATIC, StaticFiles(directory=str(_static_folder())), name="static")
    app.add_middleware(BodyLimit, limit=lambda: service.limits.max_body_bytes)
    app.add_middleware(Cors, allowed=service.keys.origins)
    app.add_middleware(AccessLog)
    return app


def _static_folder() -> Any:
    return resources.files("segmint.api") / "static"


def _add_system_routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["system"], summary="Whether the server is up (no key needed)")
    async def healthz(request: Request) -> dict[str, Any]:
        index = request.app.state.service.index
        return {"status": "ok", "refresh_id": index.refresh_id, "customers": index.size}

    @app.post(handoff.ROUTE, include_in_schema=False)
    def run_command(request: Request, body: CommandIn) -> dict[str, Any]:
        """A ``segmint`` command handed over by the CLI (token from the server file)."""
        service = request.app.state.service
        expected = f"Bearer {service.handoff_token}"
        given = request.headers.get("authorization", "")
        if service.handoff_token is None or not hmac.compare_digest(given, expected):
            raise ApiError(401, "commands are taken from segmint on this machine only")
        return service.run_command(body.argv, body.cwd)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="segmint API",
            swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER}/favicon-32x32.png",
        )
