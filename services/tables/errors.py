"""Expected failures of table assignment; each is a typed member of a mutation's result union."""

from __future__ import annotations

from collections.abc import Sequence

from db.errors import Constraints, Meaning
from services.errors import AllotError
from services.tables.model import BookingStatus, SessionStatus, Violation


class TableConflict(AllotError):
    """The tables can no longer be given to the booking; `violations` say why."""

    code = "TABLE_CONFLICT"

    def __init__(self, message: str, violations: Sequence[Violation]) -> None:
        super().__init__(message)
        self.violations = tuple(violations)


class SessionNotActive(AllotError):
    """The assignment session is no longer PROPOSED or HELD (or its hold ran out)."""

    code = "SESSION_NOT_ACTIVE"

    def __init__(self, message: str, status: str) -> None:
        super().__init__(message)
        self.status = SessionStatus(status)


class FloorChanged(AllotError):
    """The floor changed between optimizeFloor's snapshot and its write, in a way that breaks
    the plan: nothing was written; run it again."""

    code = "FLOOR_CHANGED"


class NoTablesAvailable(AllotError):
    """No free table or combination seats the booking; `violations` say why the best failed."""

    code = "NO_TABLES_AVAILABLE"

    def __init__(self, message: str, violations: Sequence[Violation]) -> None:
        super().__init__(message)
        self.violations = tuple(violations)


class InvalidBookingTransition(AllotError):
    """A booking cannot move from its status to the requested one."""

    code = "INVALID_BOOKING_TRANSITION"

    def __init__(self, message: str, from_status: str, to_status: str) -> None:
        super().__init__(message)
        self.from_status = BookingStatus(from_status)
        self.to_status = BookingStatus(to_status)


CONSTRAINTS: Constraints = {
    "dining_tables_label_unique": Meaning(
        "label", "this restaurant already has a table with this label"
    ),
    "allocations_no_overlap": Meaning(
        "tableIds", "the table is already held or assigned to another booking at that time"
    ),
    "manual_assignment_sessions_one_active": Meaning(
        "bookingId", "you already have an open assignment session for this booking"
    ),
}
"""What the tables area's constraints mean to a user (db.errors translates by name)."""
