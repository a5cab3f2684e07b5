"""Booking status transitions (pure): which moves are allowed and what they do to tables."""

from __future__ import annotations

from typing import Final

PENDING: Final = "PENDING"
CONFIRMED: Final = "CONFIRMED"
SEATED: Final = "SEATED"
COMPLETED: Final = "COMPLETED"
CANCELLED: Final = "CANCELLED"
NO_SHOW: Final = "NO_SHOW"

TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    PENDING: frozenset({CONFIRMED, SEATED, CANCELLED, NO_SHOW}),
    CONFIRMED: frozenset({SEATED, CANCELLED, NO_SHOW}),
    SEATED: frozenset({COMPLETED}),
    COMPLETED: frozenset(),
    CANCELLED: frozenset(),
    NO_SHOW: frozenset(),
}


def can_move(current: str, target: str) -> bool:
    """True if a booking in `current` may become `target` (staying put is always allowed)."""
    return current == target or target in TRANSITIONS.get(current, frozenset())


def releases_tables(target: str) -> bool:
    """A cancelled or no-show booking gives its tables back at once."""
    return target in (CANCELLED, NO_SHOW)


def closes_sessions(target: str) -> bool:
    """Once a booking is over (or off), nobody can still be assigning tables to it."""
    return target in (COMPLETED, CANCELLED, NO_SHOW)


def refusal(current: str, target: str) -> str:
    """Why a move is not allowed, in words staff understand."""
    allowed = sorted(TRANSITIONS.get(current, frozenset()))
    if not allowed:
        return f"the booking is {current}, which is final"
    return f"a {current} booking can become {', '.join(allowed)}, not {target}"
