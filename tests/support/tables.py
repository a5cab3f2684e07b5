"""Builders of the table rules' inputs for the pure tables tests: tables and allocations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

from services.tables.model import AllocationKind, Violation
from services.tables.rules import AllocationInfo, BookingInfo, TableInfo

RESTAURANT = UUID(int=0xA110)
OTHER_BOOKING = UUID(int=0x0B1)
START = datetime(2025, 6, 1, 19, 0, tzinfo=UTC)
END = START + timedelta(hours=2)
# The rules' tests: their booking, others, sessions and clock.
OTHER_RESTAURANT = UUID(int=0xB220)
BOOKING_ID = UUID(int=0xB00C)
THIRD_BOOKING = UUID(int=0x0B2)
SESSION = UUID(int=0x5E5)
OTHER_SESSION = UUID(int=0x5E6)
NOW = START - timedelta(hours=1)


def booking(party: int = 4, status: str = "CONFIRMED") -> BookingInfo:
    return BookingInfo(BOOKING_ID, RESTAURANT, party, START, END, status)


def by_id(*tables: TableInfo) -> dict[UUID, TableInfo]:
    return {t.id: t for t in tables}


def codes(violations: Sequence[Violation]) -> list[str]:
    return [v.code for v in violations]


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
    kind: str = AllocationKind.ASSIGNMENT,
    session: UUID | None = None,
    expires: datetime | None = None,
    start: datetime = START,
    end: datetime | None = None,
) -> AllocationInfo:
    """A live allocation of `t`, two hours from `start` unless `end` says otherwise."""
    return AllocationInfo(
        new_id(), t.id, booking_id, kind, start, end or start + timedelta(hours=2), expires, session
    )
