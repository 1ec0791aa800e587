"""``GET /v1/exports/{segment}?to=...``: the same file ``segmint export`` writes, streamed
(consent and suppression applied, recorded in the export history)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path as FilePath

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import StreamingResponse

from segmint.activation.destinations import DESTINATIONS, checked_options
from segmint.activation.export import export_segment
from segmint.api.auth import require
from segmint.api.errors import ApiError, from_segmint_error
from segmint.api.service import Service
from segmint.errors import SegmintError

router = APIRouter(prefix="/v1", tags=["exports"])
CHUNK = 64 * 1024


@router.get(
    "/exports/{segment}",
    dependencies=[Depends(require("write", "exports"))],
    summary="A segment's audience file for a platform, as `segmint export` writes it",
    response_class=StreamingResponse,
)
def export(
    request: Request,
    segment: str = Path(description="The segment's slug"),
    to: str = Query(description="Destination: " + ", ".join(DESTINATIONS)),
    exclude: list[str] = Query([], description="Leave out members of these segments"),
    feature: list[str] = Query([], description="Add these features as columns"),
    value: str | None = Query(None, description="Meta's value column (a numeric feature)"),
    channel: str | None = Query(None, description="Klaviyo: email (default) or sms"),
) -> StreamingResponse:
    return export_response(request.app.state.service, segment, to, exclude, feature, value, channel)


def export_response(
    service: Service,
    segment: str,
    to: str,
    exclude: list[str] | None = None,
    feature: list[str] | None = None,
    value: str | None = None,
    channel: str | None = None,
) -> StreamingResponse:
    """The export of ``segment`` for destination ``to`` as a download (for the API and the
    dashboard's export buttons)."""
    exclude, feature = list(exclude or []), list(feature or [])
    if segment not in service.index.segments:
        raise ApiError(404, f"no segment {segment!r} in the last refresh", field="segment")
    try:
        options = checked_options(to, feature, value, channel)
    except SegmintError as exc:
        raise from_segmint_error(exc) from None
    folder = FilePath(tempfile.mkdtemp(prefix="segmint-export-"))
    suffix = "parquet" if DESTINATIONS[to].file_format == "parquet" else "csv"
    out = folder / f"{segment}-{to}.{suffix}"
    try:
        with service.writing() as store:
            result = export_segment(store, segment, to, out, exclude, options)
    except SegmintError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise from_segmint_error(exc, field="exclude" if exclude else None) from None
    funnel = result.funnel.as_dict()
    headers = {
        "Content-Disposition": f'attachment; filename="{out.name}"',
        "Segmint-Export-Id": str(result.export_id),
        **{f"Segmint-{k.replace('_', '-').title()}": str(v) for k, v in funnel.items()},
    }
    media = "application/vnd.apache.parquet" if suffix == "parquet" else "text/csv; charset=utf-8"
    return StreamingResponse(_stream_then_delete(out), media_type=media, headers=headers)


def _stream_then_delete(path: FilePath) -> Iterator[bytes]:
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)
