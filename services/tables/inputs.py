"""Checking setup input (pure): every bad field is named, and nothing is written."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import available_timezones

from services.core.text import plain
from services.errors import Problems

MAX_NAME = 200
MAX_LABEL = 40
MAX_ZONE = 60
MAX_CAPACITY = 50
MAX_PARTY = 50
MAX_BOOKING_LENGTH = timedelta(hours=12)
MAX_PROPOSED_TABLES = 10
MAX_FLOOR_WINDOW = timedelta(days=7)


# Files some systems keep among their zones that are not IANA zone names.
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(
        z
        for z in available_timezones()
        if z not in _NOT_ZONES and not z.startswith(("posix/", "right/"))
    )


def is_timezone(name: str) -> bool:
    """True for an IANA time zone name such as Europe/London."""
    return name in _zones()


def text(problems: Problems, field: str, value: str, max_length: int) -> str:
    """`value` trimmed; a problem if it is empty or longer than `max_length`."""
    cleaned = " ".join(value.split())
    if not cleaned:
        problems.add(field, "must not be empty")
    elif len(cleaned) > max_length:
        problems.add(field, f"must be at most {max_length} characters")
    elif not plain(cleaned):
        # PostgreSQL text cannot hold NUL, and a lone surrogate is not UTF-8
        problems.add(field, "must not contain control characters")
    return cleaned


def timezone(problems: Problems, field: str, value: str) -> str:
    """An IANA time zone name."""
    cleaned = value.strip()
    if not is_timezone(cleaned):
        problems.add(field, f"{cleaned!r} is not an IANA time zone (for example Europe/London)")
    return cleaned


def capacities(problems: Problems, low: int, high: int) -> None:
    """A table seats between `low` and `high` guests: 1 <= low <= high <= MAX_CAPACITY."""
    low_ok = capacity(problems, "minCapacity", low)
    if capacity(problems, "maxCapacity", high) and low_ok and high < low:
        problems.add("maxCapacity", "must not be less than minCapacity")


def capacity(problems: Problems, field: str, value: int) -> bool:
    """Between 1 and MAX_CAPACITY guests (False, with a problem, if not)."""
    if not 1 <= value <= MAX_CAPACITY:
        problems.add(field, f"must be between 1 and {MAX_CAPACITY}")
        return False
    return True


def party_size(problems: Problems, value: int) -> None:
    """Between 1 and MAX_PARTY guests."""
    if not 1 <= value <= MAX_PARTY:
        problems.add("partySize", f"must be between 1 and {MAX_PARTY}")


def time_range(
    problems: Problems,
    starts_at: datetime,
    ends_at: datetime,
    *,
    start_field: str = "startsAt",
    end_field: str = "endsAt",
    longest: timedelta = MAX_BOOKING_LENGTH,
) -> None:
    """Both times carry a UTC offset, the end is after the start, and the range is not huge."""
    aware = True
    for field, value in ((start_field, starts_at), (end_field, ends_at)):
        if value.utcoffset() is None:
            problems.add(field, "must include a UTC offset, for example 2025-06-01T19:00:00+01:00")
            aware = False
    if not aware:
        return
    if ends_at <= starts_at:
        problems.add(end_field, f"must be after {start_field}")
    elif ends_at - starts_at > longest:
        hours = longest.total_seconds() / 3600
        problems.add(end_field, f"must be at most {hours:g} hours after {start_field}")
