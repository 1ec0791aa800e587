"""``POST /v1/refresh`` (a background job) and ``GET /v1/jobs/{id}``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from segmint.api.auth import require
from segmint.api.errors import ApiError
from segmint.api.service import Service

router = APIRouter(prefix="/v1", tags=["jobs"])


@router.post(
    "/refresh",
    dependencies=[Depends(require("write", "refresh"))],
    summary="Start a full refresh in the background; poll the job it returns",
    status_code=202,
)
def start_refresh(request: Request) -> JSONResponse:
    service: Service = request.app.state.service
    job = service.refresh_job()
    return JSONResponse(
        {"job": job.as_dict()}, status_code=202, headers={"Location": f"/v1/jobs/{job.job_id}"}
    )


@router.get(
    "/jobs/{job_id}",
    dependencies=[Depends(require("read", "jobs"))],
    summary="A background job's state and result",
)
def get_job(request: Request, job_id: str = Path(description="The job's id")) -> dict[str, Any]:
    job = request.app.state.service.jobs.get(job_id)
    if job is None:
        raise ApiError(404, f"no job {job_id!r} on this server", field="job_id")
    return {"job": job.as_dict()}
