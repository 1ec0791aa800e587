"""Segments over HTTP: the list, one segment, its members (paged JSON or streamed CSV), and a
preview of a rule."""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Iterator
from typing import Any, Literal

import ibis
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from segmint.api.auth import require
from segmint.api.encoding import json_row
from segmint.api.errors import ApiError, from_segmint_error
from segmint.api.service import Service
from segmint.errors import SegmintError
from segmint.segments import latest_refresh, latest_versions, preview, segment_sizes
from segmint.store import Store

router = APIRouter(prefix="/v1", tags=["segments"])

#: Columns of a member row (JSON and CSV).
MEMBER_COLUMNS = ("customer_id", "email", "phone", "first_name", "last_name", "country")
DEFINITION_COLUMNS = ("rule", "description", "action", "origin", "priority")


def _service(request: Request) -> Service:
    return request.app.state.service


@router.get(
    "/segments",
    dependencies=[Depends(require("read", "segments"))],
    summary="Every segment with its size and shares, as of the last refresh",
)
def list_segments(request: Request) -> dict[str, Any]:
    segments, refresh = _service(request).read(_segments_and_refresh)
    return {"refresh": refresh, "segments": segments}


@router.get(
    "/segments/{name}",
    dependencies=[Depends(require("read", "segments"))],
    summary="One segment: definition, size, share of customers and revenue, last refresh",
)
def get_segment(request: Request, name: str = Path(description="The segment's slug")) -> Any:
    segments, refresh = _service(request).read(_segments_and_refresh)
    found = next((s for s in segments if s["segment"] == name), None)
    if found is None:
        raise ApiError(404, f"no segment {name!r} in the last refresh", field="name")
    return {**found, "refresh": refresh}


def _segments_and_refresh(store: Store) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    sizes = segment_sizes(store).to_pyarrow().to_pylist()
    latest = latest_versions(store)
    rows = latest.select("segment", *DEFINITION_COLUMNS).to_pyarrow().to_pylist()
    definitions = {r["segment"]: r for r in rows}
    order = {slug: i for i, slug in enumerate(definitions)}
    sizes.sort(key=lambda r: order.get(r["segment"], len(order)))
    segments = [{**r, **definitions.get(r["segment"], {})} for r in sizes]
    refresh = latest_refresh(store)
    shown = {
        "refresh_id": refresh["refresh_id"],
        "as_of": refresh["as_of"].isoformat(),
        "customers": refresh["customers"],
        "finished_at": refresh["finished_at"].isoformat() + "Z",
    }
    return segments, shown


@router.get(
    "/segments/{name}/members",
    dependencies=[Depends(require("read", "segment-members"))],
    summary="A segment's members: pages of JSON (cursor), or the whole list as streamed CSV",
    response_model=None,
)
def segment_members(
    request: Request,
    name: str = Path(description="The segment's slug"),
    limit: int = Query(100, ge=1, description="Members per page (JSON)"),
    cursor: str | None = Query(None, description="`next_cursor` of the previous page"),
    format: Literal["json", "csv"] = Query("json", description="`csv` streams every member"),  # noqa: A002
) -> JSONResponse | StreamingResponse:
    service = _service(request)
    if limit > service.limits.max_page_size:
        raise ApiError(422, f"limit is at most {service.limits.max_page_size}", field="limit")
    if name not in service.index.segments:
        raise ApiError(404, f"no segment {name!r} in the last refresh", field="name")
    if format == "csv":
        return StreamingResponse(
            _csv_members(service, name),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}-members.csv"'},
        )
    after = _decode_cursor(cursor)
    rows = service.read(lambda store: _page(store, name, after, limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = _encode_cursor(rows[-1]["customer_id"]) if more else None
    members = [json_row(r) for r in rows]
    return JSONResponse({"segment": name, "members": members, "next_cursor": next_cursor})


def _members(store: Store, name: str) -> ibis.Table:
    members = store.table("segment_members")
    customers = store.table("customers")
    chosen = members.filter(members.segment == name).select("customer_id")
    return chosen.join(customers, "customer_id").select(*MEMBER_COLUMNS).order_by("customer_id")


def _page(store: Store, name: str, after: str | None, limit: int) -> list[dict[str, Any]]:
    members = _members(store, name)
    if after is not None:
        members = members.filter(members.customer_id > after)
    return members.limit(limit).to_pyarrow().to_pylist()


def _csv_members(service: Service, name: str) -> Iterator[bytes]:
    """Every member as CSV, a batch at a time, from one consistent read."""
    reader = service.new_reader()  # its own connection: the stream outlives the request
    try:
        with reader.transaction():
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(MEMBER_COLUMNS)
            for batch in _members(reader, name).to_pyarrow_batches(chunk_size=10_000):
                columns = [batch.column(c).to_pylist() for c in MEMBER_COLUMNS]
                writer.writerows(
                    ["" if v is None else v for v in row] for row in zip(*columns, strict=True)
                )
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
            if buffer.tell():
                yield buffer.getvalue().encode("utf-8")
    finally:
        reader.close()


def _encode_cursor(customer_id: str) -> str:
    return base64.urlsafe_b64encode(customer_id.encode("utf-8")).decode("ascii").rstrip("=")


def _decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True)
        return decoded.decode("utf-8")
    except (ValueError, UnicodeError):
        raise ApiError(400, "cursor is not one this API gave", field="cursor") from None


class PreviewRequest(BaseModel):
    rule: str = Field(description='A rule, e.g. "number_of_orders >= 3 AND amount_spent > 500"')
    sample: int = Field(10, ge=0, le=100, description="How many members to return")


@router.post(
    "/segments/preview",
    dependencies=[Depends(require("read", "segment-preview"))],
    summary="Evaluate a rule against the last refresh without saving it: size and a sample",
)
def preview_rule(request: Request, body: PreviewRequest) -> dict[str, Any]:
    def evaluate(store: Store) -> dict[str, Any]:
        try:
            result = preview(store, body.rule)
        except SegmintError as exc:
            raise from_segmint_error(exc, field="rule") from None
        size = int(result.members.count().to_pyarrow().as_py())
        sample = result.members.order_by("customer_id").limit(body.sample)
        rows = sample.to_pyarrow().to_pylist()
        return {
            "rule": body.rule,
            "as_of": result.as_of.isoformat(),
            "customers": size,
            "share_of_customers": round(size / result.customers, 4) if result.customers else 0,
            "sample": [json_row(r) for r in rows],
        }

    return _service(request).read(evaluate)
