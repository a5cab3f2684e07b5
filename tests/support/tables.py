"""Builders of the table rules' inputs for the pure tables tests: tables and allocations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from services.tables.rules import ASSIGNMENT, AllocationInfo, TableInfo

RESTAURANT = UUID(int=0xA110)
OTHER_BOOKING = UUID(int=0x0B1)
START = datetime(2025, 6, 1, 19, 0, tzinfo=UTC)
END = START + timedelta(hours=2)

_ids = iter(range(1, 10**9))


def new_id() -> UUID:
    """A fresh id, distinct from every other this process made."""
    return UUID(int=next(_ids))


def table(
    label: str,
    lo: int = 1,
    hi: int = 4,
    zone: str = "Main",
    active: bool = True,
    restaurant: UUID = RESTAURANT,
) -> TableInfo:
    return TableInfo(new_id(), restaurant, label, zone, lo, hi, active)


def alloc(
    t: TableInfo,
    booking_id: UUID = OTHER_BOOKING,
    kind: str = ASSIGNMENT,
    session: UUID | None = None,
    expires: datetime | None = None,
    start: datetime = START,
    end: datetime | None = None,
) -> AllocationInfo:
    """A live allocation of `t`, two hours from `start` unless `end` says otherwise."""
    return AllocationInfo(
        new_id(), t.id, booking_id, kind, start, end or start + timedelta(hours=2), expires, session
    )
