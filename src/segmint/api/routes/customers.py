"""``GET /v1/customers/{key}/segments``: which segments a shopper is in, from the index."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from segmint.api.auth import require
from segmint.api.encoding import json_row
from segmint.api.errors import ApiError
from segmint.api.index import MembershipIndex
from segmint.api.service import Service
from segmint.features.tables import stored_features
from segmint.identity import lookup_candidates
from segmint.settings import Settings
from segmint.store import Store

router = APIRouter(prefix="/v1", tags=["customers"])


@router.get(
    "/customers/{key}/segments",
    dependencies=[Depends(require("read", "customer-segments"))],
    summary="The segments a customer is in",
)
async def customer_segments(
    request: Request,
    key: str = Path(
        description="A segmint customer id, a source id, an email, an E.164 phone, or "
        "`sha256:` and the SHA-256 of the normalized email",
    ),
    features: str | None = Query(
        None, description="Comma-separated feature names to include (`amount_spent,p_alive`)"
    ),
) -> JSONResponse:
    service: Service = request.app.state.service
    index = service.index
    customer_id = await find_indexed_customer(service, index, key)
    if customer_id is None:
        raise ApiError(404, "no customer matches this key", field="key")
    body: dict[str, Any] = {
        "customer_id": customer_id,
        "segments": [s.as_dict() for s in index.segments_of(customer_id)],
        "refresh_id": index.refresh_id,
        "as_of": index.as_of.isoformat() if index.as_of else None,
    }
    if features:
        names = [n.strip() for n in features.split(",") if n.strip()]
        body["features"] = await run_in_threadpool(_features, service, customer_id, names)
    return JSONResponse(body)


async def find_indexed_customer(service: Service, index: MembershipIndex, key: str) -> str | None:
    """The indexed customer a key names: looked up as given, then normalized the way imports
    normalize (off the event loop) when it could still name someone."""
    customer_id = index.customer_id(key)
    if customer_id is None and _needs_normalizing(key):
        customer_id = await run_in_threadpool(_slow_lookup, service, index, key)
    return customer_id if customer_id in index.customers else None


def _needs_normalizing(key: str) -> bool:
    """Whether a key the index missed could still name someone once normalized (a phone
    written with spaces or without its country code, an email with a display name)."""
    return not key.startswith(("c_", "sha256:")) and any(ch.isdigit() or ch == "@" for ch in key)


def _slow_lookup(service: Service, index: MembershipIndex, key: str) -> str | None:
    """Normalize ``key`` the way imports do (Ibis, on this thread's reader), then look the
    candidates up."""

    def candidates(store: Store) -> list[str]:
        country = Settings(store.settings())["default_phone_country"]
        return lookup_candidates(key.strip(), country, store)

    for candidate in service.read(candidates):
        found = index.keys.get(candidate)
        if found is not None:
            return found
    return None


def _features(service: Service, customer_id: str, names: list[str]) -> dict[str, Any]:
    def query(store: Store) -> dict[str, Any]:
        table = stored_features(store)
        unknown = [n for n in names if n not in table.columns or n == "customer_id"]
        if unknown:
            raise ApiError(400, f"unknown feature {unknown[0]!r}", field="features")
        row = table.filter(table.customer_id == customer_id).select(*names).to_pyarrow()
        values = row.to_pylist()[0] if row.num_rows else dict.fromkeys(names)
        return json_row(values)

    return service.read(query)
