"""Events posted to the API, as rows of the events importer (Klaviyo and GA4 names).

A request is a list of JSON events; each becomes one row of an events "file" with the
importer's own column names, so the API and ``segmint import events.csv`` validate, link
identities and store events the same way.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, field_validator

from segmint.api.errors import ApiError
from segmint.errors import did_you_mean
from segmint.importers.events import EVENT_TYPES
from segmint.readers import RawTable
from segmint.readers.base import ROW

#: JSON field -> the events importer's column for it.
COLUMNS = {
    "event": "Event",
    "time": "Timestamp",
    "email": "Email",
    "phone": "Phone Number",
    "customer_id": "Customer ID",
    "value": "$value",
}
#: ``properties`` keys segmint reads -> the importer's column (others are ignored).
PROPERTIES = {
    "order_id": "OrderId",
    "product_id": "ProductID",
    "product_name": "ProductName",
    "category": "Category",
    "device": "Device",
    "channel": "Channel",
    "campaign": "Campaign",
}
FIELDS = {column: field for field, column in {**COLUMNS, **PROPERTIES}.items()}


class EventIn(BaseModel):
    """One event: its name, when, who (at least one identifier), and optional details."""

    model_config = ConfigDict(extra="forbid")

    event: str = Field(
        description="A Klaviyo metric or GA4 event name: `Added to Cart`, "
        "`add_to_cart`, `Placed Order`, `Viewed Product`, ..."
    )
    time: datetime = Field(description="ISO 8601, with a UTC offset (UTC when none)")
    customer_id: str | None = Field(None, description="A segmint id (`c_...`) or your own id")
    email: str | None = None
    phone: str | None = Field(None, description="E.164 preferred")
    value: float | None = Field(None, ge=0, description="Order value for `Placed Order`")
    properties: dict[str, str | int | float | bool | None] | None = Field(
        None, description="order_id, product_id, product_name, category, device, channel, campaign"
    )

    @field_validator("event")
    @classmethod
    def known_event(cls, name: str) -> str:
        key = " ".join(name.lower().split())
        if key not in EVENT_TYPES:
            hint = did_you_mean(key, EVENT_TYPES)
            raise ValueError(f"unknown event name {name!r}" + (f" ({hint})" if hint else ""))
        return name

    def identified(self) -> bool:
        return any(v and v.strip() for v in (self.customer_id, self.email, self.phone))


def checked_events(events: list[EventIn], single: bool) -> None:
    """Every event names someone; otherwise a 422 naming the event."""
    for index, event in enumerate(events):
        if not event.identified():
            raise ApiError(
                422,
                "an event needs a customer_id, an email or a phone",
                field="customer_id" if single else f"events.{index}.customer_id",
            )


def raw_table(events: list[EventIn]) -> RawTable:
    """The events as the rows of an events file (row numbers = positions in the request)."""
    header = [*COLUMNS.values(), *PROPERTIES.values()]
    rows = [_cells(event) for event in events]
    columns = {name: pa.array([r.get(name) for r in rows], pa.string()) for name in header}
    columns[ROW] = pa.array(range(len(events)), pa.int64())
    return RawTable(file="api", header=header, table=pa.table(columns))


def _cells(event: EventIn) -> dict[str, str | None]:
    moment = event.time if event.time.tzinfo else event.time.replace(tzinfo=UTC)
    cells = {
        "Event": event.event,
        "Timestamp": moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" "),
        "Email": event.email,
        "Phone Number": event.phone,
        "Customer ID": event.customer_id,
        "$value": None if event.value is None else repr(event.value),
    }
    for key, column in PROPERTIES.items():
        value = (event.properties or {}).get(key)
        cells[column] = None if value is None else str(value)
    return cells


def checksum(events: list[EventIn]) -> str:
    """SHA-256 of the request's events: the same request twice is imported once."""
    canonical = json.dumps([e.model_dump(mode="json") for e in events], sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def reject_field(row: int | None, column: str | None, single: bool) -> str | None:
    """The request field a rejected row and column came from."""
    if row is None:
        return None
    name = FIELDS.get(column or "")
    prefix = "" if single else f"events.{row}"
    if name in PROPERTIES:
        name = f"properties.{name}"
    return ".".join(p for p in (prefix, name) if p) or None


def as_list(body: Any) -> tuple[list[Any], bool]:
    """The events of a body that is one event or a list of them."""
    if isinstance(body, list):
        return body, False
    return [body], True
