"""The workspace time zone: a day, ``today`` and every as-of date are days in this zone.

Timestamps are stored in UTC (naive ``timestamp`` columns that mean UTC) next to the local
calendar date of the event in the workspace zone, computed once at import.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{2}):?(\d{2})$")


def fixed_offset_zone(text: str) -> str | None:
    """Return ``+HH:MM`` for a fixed-offset spelling (``-0500``, ``UTC-05:00``), else None."""
    match = _OFFSET.match(text.strip())
    if not match:
        return None
    sign, hours, minutes = match.groups()
    return f"{sign}{hours}:{minutes}"


def zone_info(name: str) -> tzinfo:
    """A ``tzinfo`` for an IANA name or a ``+HH:MM`` fixed offset."""
    offset = fixed_offset_zone(name)
    if offset is None:
        return ZoneInfo(name)
    sign = -1 if offset[0] == "-" else 1
    return timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))


def most_common_offset(offsets: Iterable[str]) -> str | None:
    """The store's UTC offset as seen in an export: the most common one, as ``+HH:MM``."""
    counts = Counter(o for o in offsets if o)
    if not counts:
        return None
    return fixed_offset_zone(counts.most_common(1)[0][0])


def end_of_local_day_utc(day: date, zone: str) -> datetime:
    """The first UTC instant after ``day`` ends in ``zone`` (exclusive bound for as-of)."""
    local_midnight = datetime.combine(day + timedelta(days=1), datetime.min.time())
    aware = local_midnight.replace(tzinfo=zone_info(zone))
    return aware.astimezone(UTC).replace(tzinfo=None)
