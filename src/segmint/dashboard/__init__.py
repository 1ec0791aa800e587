"""The dashboard of ``segmint serve``: server-rendered pages for people, each with a JSON
twin under ``/v1/views`` for programs, behind a sign-in with an API key."""

from __future__ import annotations

import os
import threading
from importlib import resources

import plotly
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from segmint.api.service import Service
from segmint.dashboard import signin
from segmint.dashboard.pages import PAGES
from segmint.dashboard.pages.overview import overview
from segmint.dashboard.pages.segments import segments
from segmint.dashboard.session import COOKIE, Sessions
from segmint.dashboard.web import NAV, PageNotFound, SignInNeeded, cached, sign_in_url, templates

ASSETS = "/assets"
#: Views computed when a server starts: the overview and the segments list.
WARM = (overview, segments)


def plotly_js() -> str:
    """The Plotly bundle shipped with the ``plotly`` package: charts work offline."""
    return os.path.join(os.path.dirname(plotly.__file__), "package_data", "plotly.min.js")


def install(app: FastAPI, service: Service, warm: bool = False) -> None:
    """Add the sign-in, every page and its twin, and the assets to ``app``; ``warm``:
    compute the busiest pages' views in the background now, not at their first visit."""
    app.state.sessions = Sessions(service.keys)
    app.state.view_cache = {}
    app.include_router(signin.router)
    for page in PAGES:
        app.include_router(page.router)

    @app.get(f"{ASSETS}/plotly.min.js", include_in_schema=False)
    def plotly_bundle() -> FileResponse:
        return FileResponse(plotly_js(), media_type="application/javascript")

    folder = resources.files("segmint.dashboard") / "static"
    app.mount(ASSETS, StaticFiles(directory=str(folder)), name="dashboard-assets")

    if warm:
        threading.Thread(target=_warm, args=(app,), name="segmint-dashboard", daemon=True).start()

    @app.exception_handler(SignInNeeded)
    async def to_sign_in(_: Request, exc: SignInNeeded) -> RedirectResponse:
        return RedirectResponse(sign_in_url(exc.next_path), status_code=303)

    @app.exception_handler(PageNotFound)
    async def not_found(request: Request, exc: PageNotFound) -> HTMLResponse:
        session = request.app.state.sessions.current(request.cookies.get(COOKIE))
        context = {"message": str(exc), "title": "Not found", "session": session, "nav": NAV}
        return templates.TemplateResponse(
            request, "notfound.html", {**context, "current": ""}, status_code=404
        )


def _warm(app: FastAPI) -> None:
    """Fill the cache with the views every visit starts with (a failure only leaves it cold)."""
    for view in WARM:
        try:
            cached(app, view)
        except Exception:  # the page computes it again, and shows any error, when visited
            return
