"""``POST /v1/events``: store events and update the customers' segments at once."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

from segmint.api.auth import require
from segmint.api.errors import ApiError
from segmint.api.events import EventIn, as_list, checked_events
from segmint.api.service import Service

router = APIRouter(prefix="/v1", tags=["events"])
EVENTS = TypeAdapter(list[EventIn])


@router.post(
    "/events",
    dependencies=[Depends(require("write", "events"))],
    summary="Store one event or a list of them; the customers' segments are updated at once",
)
async def post_events(
    request: Request,
    body: Any = Body(  # noqa: B008  (FastAPI's way to document a free-form body)
        description="One event, or a list: "
        '{"event": "Added to Cart", "time": "2026-11-24T10:00:00Z", "email": "ann@example.com"}',
    ),
) -> dict[str, Any]:
    service: Service = request.app.state.service
    events, single = _parse(body, service.limits.max_events_per_request)
    return await run_in_threadpool(service.ingest, events, single)


def _parse(body: Any, limit: int) -> tuple[list[EventIn], bool]:
    items, single = as_list(body)
    if not items:
        raise ApiError(422, "no events in the request", field="events")
    if len(items) > limit:
        raise ApiError(422, f"at most {limit:,} events per request", field="events")
    try:
        events = EVENTS.validate_python(items)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = [str(p) for p in first["loc"]]
        location = location[1:] if single else ["events", *location]
        message = first["msg"].removeprefix("Value error, ")
        raise ApiError(422, message, field=".".join(location) or None) from None
    checked_events(events, single)
    return events, single
