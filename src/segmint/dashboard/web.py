"""What every dashboard page shares: templates, sign-in checks, the JSON twin's key, charts.

A page is a view (a function of the workspace returning plain JSON-able data) rendered twice:
as HTML for a signed-in person (``render``) and as JSON under ``/v1/views`` for a program
with a read key (``twin``), so what a person sees is what a program reads.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

import ibis
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates

from segmint.api.auth import require
from segmint.api.service import Service
from segmint.dashboard.session import COOKIE, Session
from segmint.store import Store

#: The pages in the navigation: path, label.
NAV = (
    ("/", "Overview"),
    ("/segments", "Segments"),
    ("/customers", "Customers"),
    ("/rfm", "RFM grid"),
    ("/movement", "Movement"),
    ("/models", "Models"),
    ("/campaigns", "Campaigns"),
    ("/rules", "Rule editor"),
)
TWIN_PREFIX = "/v1/views"
CACHE_SIZE = 64
#: Tables whose row counts tell whether a cached view is still current (a refresh adds a
#: refreshes row; backfill, history; imports, orders; campaigns and their results).
VERSIONED_TABLES = (
    "refreshes",
    "history_observations",
    "imports",
    "campaigns",
    "campaign_results",
    "model_runs",
)
#: The JSON twins need a read key (any read key: they are not restrictable routes).
twin_key = Depends(require("read", "views"))

templates = Jinja2Templates(directory=str(resources.files("segmint.dashboard") / "templates"))


class SignInNeeded(Exception):
    """Raised by :func:`signed_in` for a request without a valid session."""

    def __init__(self, next_path: str):
        super().__init__(next_path)
        self.next_path = next_path


class PageNotFound(Exception):
    """A page asked for something that does not exist: answered with a 404 page."""


def signed_in(request: Request) -> Session:
    """The request's session (a dependency of every page); otherwise off to the sign-in form."""
    session = request.app.state.sessions.current(request.cookies.get(COOKIE))
    if session is None:
        wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInNeeded(wanted)
    return session


def page_url(path: str, params: dict[str, Any]) -> str:
    """``path`` with the ``params`` that have a value as its query string."""
    shown = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{path}?{urlencode(shown)}" if shown else path


def sign_in_url(next_path: str) -> str:
    return "/signin?next=" + quote(next_path, safe="")


def service_of(request: Request) -> Service:
    return request.app.state.service


def read_view(request: Request, view: Callable[..., Any], *args: Any) -> Any:
    """``view(store, *args)`` on this thread's reader of the served workspace."""
    return service_of(request).read(lambda store: view(store, *args))


def cached_view(request: Request, view: Callable[..., Any], *args: Any) -> Any:
    """:func:`read_view`, remembered until the workspace's refreshes, history, imports or
    campaigns change (the pages that read only those)."""
    return cached(request.app, view, *args)


def cached(app: Any, view: Callable[..., Any], *args: Any) -> Any:
    """``view(store, *args)`` from ``app``'s cache of views, computed when missing."""
    cache: dict[tuple, Any] = app.state.view_cache

    def query(store: Store) -> Any:
        key = (view.__module__, view.__qualname__, args, data_version(store))
        if key not in cache:
            if len(cache) >= CACHE_SIZE:
                cache.pop(next(iter(cache)))
            cache[key] = view(store, *args)
        return cache[key]

    return app.state.service.read(query)


def refreshed(store: Store) -> bool:
    """Whether the workspace has been refreshed (pages show little before that)."""
    return bool(store.scalar(store.table("refreshes").count()))


def data_version(store: Store) -> tuple:
    """Row counts of the tables whose changes change what the cached pages show."""
    counts = [
        store.table(name).aggregate(rows=ibis._.count()).mutate(name=ibis.literal(name))
        for name in VERSIONED_TABLES
    ]
    rows = store.run(ibis.union(*counts)).to_pylist()
    return tuple(sorted((r["name"], r["rows"]) for r in rows))


def render(
    request: Request,
    template: str,
    session: Session,
    view: dict[str, Any],
    twin: str,
    title: str,
    **context: Any,
) -> HTMLResponse:
    """A page: ``view``'s data through ``template``, with the navigation and the twin's URL."""
    return templates.TemplateResponse(
        request,
        template,
        {
            "session": session,
            "view": view,
            "twin": twin,
            "title": title,
            "nav": NAV,
            "current": request.url.path,
            **context,
        },
    )


def twin(view: dict[str, Any]) -> JSONResponse:
    """A view as the JSON twin returns it."""
    return JSONResponse(jsonable(view))


def jsonable(value: Any) -> Any:
    """Dates as ISO text, decimals as floats, recursively (what both renderings show)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value


def figure_json(figure: dict[str, Any]) -> str:
    """A Plotly figure as the JSON a chart's ``data-figure`` attribute holds."""
    return json.dumps(jsonable(figure), separators=(",", ":"))


async def form_fields(request: Request) -> dict[str, str]:
    """An HTML form's fields (``application/x-www-form-urlencoded``), the last value of each."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}


def csrf_ok(request: Request, session: Session, fields: dict[str, str]) -> bool:
    return request.app.state.sessions.csrf_ok(session, fields.get("csrf"))


def number(value: Any, digits: int = 0) -> str:
    """``12345.6`` -> ``12,346``; blanks for missing values."""
    if value is None:
        return "–"
    return f"{float(value):,.{digits}f}"


def percent(value: Any, digits: int = 1) -> str:
    """``0.1234`` -> ``12.3%``."""
    if value is None:
        return "–"
    return f"{float(value) * 100:.{digits}f}%"


def signed_percent(value: Any, digits: int = 0) -> str:
    """A lift: ``0.25`` -> ``+25%``."""
    if value is None:
        return "–"
    return f"{float(value) * 100:+.{digits}f}%"


templates.env.filters["number"] = number
templates.env.filters["percent"] = percent
templates.env.filters["signed_percent"] = signed_percent
templates.env.filters["figure"] = figure_json
