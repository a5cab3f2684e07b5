"""Translate asyncpg errors into rule errors by constraint name, in one place.

Services catch these (never asyncpg's) and turn them into domain errors.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg


class RuleViolation(Exception):
    """A database constraint rejected a write; `constraint` names which one."""

    def __init__(self, constraint: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.constraint = constraint
        self.message = message
        self.field = field


class UniqueViolation(RuleViolation):
    """A UNIQUE constraint or unique index fired."""


class ExclusionViolation(RuleViolation):
    """An EXCLUDE constraint fired (for example two allocations of one table overlap)."""


class ForeignKeyViolation(RuleViolation):
    """A referenced row does not exist (or is not visible to this tenant)."""


class CheckViolation(RuleViolation):
    """A CHECK constraint or a raising trigger rejected the row."""


# constraint name -> (input field it concerns, message for the user)
_MESSAGES: dict[str, tuple[str | None, str]] = {}


def describe(constraint: str, field: str | None, message: str) -> None:
    """Register the user-facing meaning of a constraint (called by each area at import)."""
    _MESSAGES[constraint] = (field, message)


_KINDS: dict[type[asyncpg.PostgresError], type[RuleViolation]] = {
    asyncpg.UniqueViolationError: UniqueViolation,
    asyncpg.ExclusionViolationError: ExclusionViolation,
    asyncpg.ForeignKeyViolationError: ForeignKeyViolation,
    asyncpg.CheckViolationError: CheckViolation,
}


def translate(exc: asyncpg.PostgresError) -> RuleViolation | None:
    """The rule error for a constraint violation, or None for anything else."""
    for pg_type, kind in _KINDS.items():
        if isinstance(exc, pg_type):
            constraint = getattr(exc, "constraint_name", None) or "unknown"
            field, message = _MESSAGES.get(constraint, (None, "the change breaks a rule"))
            return kind(constraint, message, field)
    return None


@asynccontextmanager
async def translated() -> AsyncIterator[None]:
    """Re-raise constraint violations inside the block as RuleViolation subclasses."""
    try:
        yield
    except asyncpg.PostgresError as exc:
        rule = translate(exc)
        if rule is None:
            raise
        raise rule from exc
