"""The tables area's words: its statuses and kinds, and what answers and events return.

Every view is complete: a booking carries its tables, an allocation its table, a session its
booking and proposed tables (reads.py loads them set-based).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, Protocol
from uuid import UUID


class BookingStatus(StrEnum):
    """Where a booking is in its evening (rules.TRANSITIONS says which moves are allowed)."""

    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    SEATED = "SEATED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    NO_SHOW = "NO_SHOW"


class AllocationKind(StrEnum):
    """A table held for a session (until it expires) or assigned to a booking."""

    HOLD = "HOLD"
    ASSIGNMENT = "ASSIGNMENT"


class SessionStatus(StrEnum):
    """A manual assignment session: PROPOSED, HELD, then CONFIRMED (or closed otherwise)."""

    PROPOSED = "PROPOSED"
    HELD = "HELD"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


OPEN_SESSION_STATUSES: Final = frozenset({SessionStatus.PROPOSED, SessionStatus.HELD})


class ReleaseReason(StrEnum):
    """Why an allocation was released (allocations.release_reason)."""

    RELEASED = "RELEASED"
    UNASSIGNED = "UNASSIGNED"
    EXPIRED = "EXPIRED"


class ViolationCode(StrEnum):
    """The rule a proposal breaks (rules.py says when each is reported)."""

    CAPACITY_TOO_SMALL = "CAPACITY_TOO_SMALL"
    CAPACITY_TOO_LARGE = "CAPACITY_TOO_LARGE"
    TABLE_INACTIVE = "TABLE_INACTIVE"
    TABLE_UNKNOWN = "TABLE_UNKNOWN"
    TABLES_NOT_COMBINABLE = "TABLES_NOT_COMBINABLE"
    TABLE_CONFLICT = "TABLE_CONFLICT"
    BOOKING_NOT_ASSIGNABLE = "BOOKING_NOT_ASSIGNABLE"
    OUTSIDE_SERVICE_HOURS = "OUTSIDE_SERVICE_HOURS"


class FloorEventKind(StrEnum):
    """What a floor event says: the snapshot, or what happened to an allocation, a booking or
    a table (the triggers' event kinds)."""

    SNAPSHOT = "SNAPSHOT"
    HOLD_PLACED = "HOLD_PLACED"
    HOLD_RELEASED = "HOLD_RELEASED"
    HOLD_EXPIRED = "HOLD_EXPIRED"
    ASSIGNED = "ASSIGNED"
    UNASSIGNED = "UNASSIGNED"
    BOOKING_CHANGED = "BOOKING_CHANGED"
    TABLE_CHANGED = "TABLE_CHANGED"


ALLOCATION_EVENTS: Final = frozenset(
    {
        FloorEventKind.HOLD_PLACED,
        FloorEventKind.HOLD_RELEASED,
        FloorEventKind.HOLD_EXPIRED,
        FloorEventKind.ASSIGNED,
        FloorEventKind.UNASSIGNED,
    }
)


# ------------------------------------------------------------------------ violations


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: a stable ``code``, a message for staff, and the tables it concerns."""

    code: ViolationCode
    message: str
    table_ids: tuple[UUID, ...]
    conflicting_booking_id: UUID | None = None


# Violations are stored in sessions as JSON in the shape the API shows them.


def violation_to_json(v: Violation) -> dict[str, Any]:
    """A violation as stored in manual_assignment_sessions.violations."""
    return {
        "code": v.code,
        "message": v.message,
        "tableIds": [str(t) for t in v.table_ids],
        "conflictingBookingId": (
            str(v.conflicting_booking_id) if v.conflicting_booking_id else None
        ),
    }


def violations_to_json(violations: Iterable[Violation]) -> list[dict[str, Any]]:
    """Violations as stored."""
    return [violation_to_json(v) for v in violations]


def violation_from_json(data: Mapping[str, Any]) -> Violation:
    """A stored violation."""
    other = data.get("conflictingBookingId")
    return Violation(
        code=ViolationCode(data["code"]),
        message=str(data["message"]),
        table_ids=tuple(UUID(t) for t in data.get("tableIds", ())),
        conflicting_booking_id=UUID(other) if other else None,
    )


# ------------------------------------------------------------------------ table order


class Labelled(Protocol):
    """Anything with a table's label and id (the rules' TableInfo, a TableView)."""

    @property
    def id(self) -> UUID: ...

    @property
    def label(self) -> str: ...


LabelKey = tuple[tuple[str | int, ...], str, int]
_DIGITS: Final = re.compile(r"(\d+)")


def table_sort_key(table: Labelled) -> LabelKey:
    """Natural label order (``T2`` before ``T10``, case-insensitive), then label, then id.

    The order staff read tables in, and the tie-break order of candidates.rank_candidates.
    """
    parts = _DIGITS.split(table.label.casefold())
    natural = tuple(int(p) if i % 2 else p for i, p in enumerate(parts))
    return (natural, table.label, table.id.int)


# ------------------------------------------------------------------------ views


@dataclass(frozen=True, slots=True)
class TableView:
    """A dining table."""

    id: UUID
    restaurant_id: UUID
    label: str
    zone: str
    min_capacity: int
    max_capacity: int
    active: bool
    version: int


def sort_tables(tables: Iterable[TableView]) -> tuple[TableView, ...]:
    """Tables in natural label order (T2 before T10), the order staff read them in."""
    return tuple(sorted(tables, key=table_sort_key))


@dataclass(frozen=True, slots=True)
class RestaurantView:
    """A restaurant and its tables (in natural label order)."""

    id: UUID
    name: str
    timezone: str
    version: int
    tables: tuple[TableView, ...]


@dataclass(frozen=True, slots=True)
class BookingView:
    """A booking and the tables assigned to it."""

    id: UUID
    restaurant_id: UUID
    guest_name: str
    party_size: int
    starts_at: datetime
    ends_at: datetime
    status: BookingStatus
    version: int
    tables: tuple[TableView, ...]
    pinned: bool = False  # staff pinned it (setBookingPinned): optimizeFloor never moves it

    @property
    def stays(self) -> bool:
        """optimizeFloor keeps its tables: pinned, or seated."""
        return self.pinned or self.status == BookingStatus.SEATED


@dataclass(frozen=True, slots=True)
class AllocationView:
    """A hold or assignment of one table to a booking; `released_at` is set once it is gone."""

    id: UUID
    kind: AllocationKind
    table: TableView
    booking_id: UUID
    session_id: UUID | None
    starts_at: datetime
    ends_at: datetime
    expires_at: datetime | None
    released_at: datetime | None
    release_reason: str | None
    version: int


@dataclass(frozen=True, slots=True)
class SessionView:
    """A staff member's manual assignment session for one booking."""

    id: UUID
    booking: BookingView
    created_by: str
    status: SessionStatus
    proposed_tables: tuple[TableView, ...]
    violations: tuple[Violation, ...]
    hold_expires_at: datetime | None
    last_validated_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class FloorView:
    """A restaurant's tables, live allocations and bookings over [from, to)."""

    restaurant_id: UUID
    starts_at: datetime
    ends_at: datetime
    tables: tuple[TableView, ...]
    allocations: tuple[AllocationView, ...]
    bookings: tuple[BookingView, ...]


@dataclass(frozen=True, slots=True)
class FloorChange:
    """One floor delta: what happened, and the allocation, booking or table it happened to."""

    kind: FloorEventKind
    allocation: AllocationView | None = None
    booking: BookingView | None = None
    table: TableView | None = None


@dataclass(frozen=True, slots=True)
class SuggestionView:
    """A table set the rules suggest for a booking."""

    tables: tuple[TableView, ...]
    score: float
    reason: str
    violations: tuple[Violation, ...]


@dataclass(frozen=True, slots=True)
class AutoAssigned:
    """The booking after auto-assignment and the tables it got."""

    booking: BookingView
    tables: tuple[TableView, ...]


@dataclass(frozen=True, slots=True)
class FloorMove:
    """optimizeFloor moves a booking that has tables to others."""

    booking: BookingView
    from_tables: tuple[TableView, ...]
    to_tables: tuple[TableView, ...]


@dataclass(frozen=True, slots=True)
class FloorPlanView:
    """optimizeFloor's answer: the plan (applied or a preview) and what it changes."""

    moves: tuple[FloorMove, ...]
    newly_seated: tuple[BookingView, ...]
    covers_before: int
    covers_after: int
    empty_seats_before: int
    empty_seats_after: int
    proven_optimal: bool
    applied: bool


# ------------------------------------------------------------------------ flow input


@dataclass(frozen=True, slots=True)
class TableEdit:
    """What updateDiningTable changes: None leaves a column as it is."""

    label: str | None = None
    zone: str | None = None
    min_capacity: int | None = None
    max_capacity: int | None = None
    active: bool | None = None
