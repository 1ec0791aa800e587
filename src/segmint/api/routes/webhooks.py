"""Webhooks over the API (admin keys): add, list, remove, and the delivery log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from segmint.api.auth import require
from segmint.api.encoding import json_row
from segmint.api.errors import ApiError, from_segmint_error
from segmint.api.service import Service
from segmint.errors import SegmintError
from segmint.webhooks.outbox import attempt_log
from segmint.webhooks.registry import add_webhook, list_webhooks, remove_webhook

router = APIRouter(prefix="/v1", tags=["webhooks"])
ADMIN = [Depends(require("admin", "webhooks"))]


class WebhookIn(BaseModel):
    url: str = Field(description="Where deliveries are POSTed (http or https)")
    segments: list[str] = Field(min_length=1, description="Segment slugs to listen to")
    on: list[str] = Field(["enter", "exit"], description="Changes to hear: enter, exit")
    secret: str | None = Field(None, description="Signing secret (default: generated)")


@router.post("/webhooks", dependencies=ADMIN, status_code=201, summary="Add a webhook")
def create_webhook(request: Request, body: WebhookIn) -> JSONResponse:
    service: Service = request.app.state.service
    try:
        with service.writing() as store:
            webhook, secret = add_webhook(store, body.url, body.segments, body.on, body.secret)
    except SegmintError as exc:
        raise from_segmint_error(exc, field=_field_of(exc.message)) from None
    record = {**json_row(webhook.as_dict()), "secret": secret}
    return JSONResponse({"webhook": record}, status_code=201)


def _field_of(message: str) -> str | None:
    lowered = message.lower()
    for field in ("url", "secret", "segment", "change"):
        if field in lowered:
            return {"segment": "segments", "change": "on"}.get(field, field)
    return None


@router.get("/webhooks", dependencies=ADMIN, summary="The webhooks (never their secrets)")
def get_webhooks(request: Request) -> dict[str, Any]:
    webhooks = request.app.state.service.read(list_webhooks)
    return {"webhooks": [json_row(w.as_dict()) for w in webhooks]}


@router.delete("/webhooks/{webhook_id}", dependencies=ADMIN, summary="Remove a webhook")
def delete_webhook(request: Request, webhook_id: int = Path(description="Its id")) -> Any:
    service: Service = request.app.state.service
    try:
        with service.writing() as store:
            webhook = remove_webhook(store, webhook_id)
    except SegmintError as exc:
        raise ApiError(404, exc.message, field="webhook_id") from None
    return {"webhook": json_row(webhook.as_dict())}


@router.get("/webhooks/log", dependencies=ADMIN, summary="Delivery attempts, newest first")
def webhook_log(
    request: Request,
    webhook_id: int | None = Query(None, description="Only this webhook's attempts"),
    limit: int = Query(100, ge=1, le=1000),
) -> dict[str, Any]:
    rows = request.app.state.service.read(
        lambda store: attempt_log(store, webhook_id, limit).to_pyarrow().to_pylist()
    )
    return {"attempts": [json_row(r) for r in rows]}
