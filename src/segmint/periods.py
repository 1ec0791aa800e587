"""Calendar periods and spans as marketers write them: weeks, months, quarters; ``12m``, ``14d``.

A week runs Monday to Sunday (ISO 8601); a period's end is its last day. Spans count back
from a reference day: ``12m`` before 2025-06-30 is 2024-06-30.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from segmint.errors import ConfigError

PERIODS = ("week", "month", "quarter")
SPAN = re.compile(r"^\s*(\d+)\s*([dwmqy])\s*$", re.IGNORECASE)


def check_period(every: str, allowed: tuple[str, ...] = PERIODS) -> str:
    """``every`` if it names a period in ``allowed``."""
    if every not in allowed:
        raise ConfigError(f"'{every}' is not a period", hint="use " + " or ".join(allowed))
    return every


def period_end(day: date, every: str) -> date:
    """The last day of the week, month or quarter that ``day`` is in."""
    check_period(every)
    if every == "week":
        return day + timedelta(days=6 - day.weekday())
    month = day.month if every == "month" else 3 * ((day.month - 1) // 3) + 3
    return date(day.year, month, calendar.monthrange(day.year, month)[1])


def period_start(day: date, every: str) -> date:
    """The first day of the week, month or quarter that ``day`` is in."""
    check_period(every)
    if every == "week":
        return day - timedelta(days=day.weekday())
    month = day.month if every == "month" else 3 * ((day.month - 1) // 3) + 1
    return date(day.year, month, 1)


def period_ends(since: date, until: date, every: str) -> list[date]:
    """The ends of the periods that end within ``since``..``until`` (both included)."""
    ends = []
    end = period_end(since, every)
    while end <= until:
        if end >= since:
            ends.append(end)
        end = period_end(end + timedelta(days=1), every)
    return ends


def months_before(day: date, months: int) -> date:
    """The same day ``months`` months earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def span_start(text: str, reference: date, option: str = "--since") -> date:
    """The day a span such as ``12m``, ``52w``, ``90d``, ``2q`` or ``1y`` before
    ``reference`` falls on; a date (YYYY-MM-DD) is taken as it is."""
    match = SPAN.match(text)
    if match is None:
        try:
            return date.fromisoformat(text.strip())
        except ValueError:
            raise ConfigError(
                f"{option}: '{text}' is neither a span nor a date",
                hint="write a span such as 90d, 12w, 12m, 2q, 1y, or a date YYYY-MM-DD",
            ) from None
    count, unit = int(match.group(1)), match.group(2).lower()
    if unit == "d":
        return reference - timedelta(days=count)
    if unit == "w":
        return reference - timedelta(weeks=count)
    return months_before(reference, count * {"m": 1, "q": 3, "y": 12}[unit])


def span_days(text: str, option: str = "--window") -> int:
    """The number of days in a span written in days or weeks (``14d``, ``2w``)."""
    match = SPAN.match(text)
    if match is None or match.group(2).lower() not in ("d", "w"):
        raise ConfigError(
            f"{option}: '{text}' is not a span in days or weeks", hint="write e.g. 14d or 2w"
        )
    days = int(match.group(1)) * (7 if match.group(2).lower() == "w" else 1)
    if days < 1:
        raise ConfigError(f"{option}: '{text}' is empty", hint="write at least 1d")
    return days


def parse_day(text: str, option: str) -> date:
    """A day written YYYY-MM-DD, for the command-line option ``option``."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"{option}: '{text}' is not a date (expected YYYY-MM-DD)") from None
