"""Client ids: every area's ids are UUIDs, and an id that is not one names nothing."""

from __future__ import annotations

from uuid import UUID

from services.errors import NotFound


def parse_id(value: str | UUID | None) -> UUID | None:
    """A UUID from a client's id, or None if it is not one."""
    if isinstance(value, UUID):
        return value
    if not isinstance(value, str):
        return None
    try:
        return UUID(value.strip())
    except ValueError:
        return None


def require_id(value: str | UUID, what: str) -> UUID:
    """A UUID, or NotFound ("<what> not found") for an id that cannot name anything."""
    parsed = parse_id(value)
    if parsed is None:
        raise NotFound(f"{what} not found")
    return parsed
