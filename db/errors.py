"""Translate asyncpg errors into rule errors by constraint name, in one place.

Services catch these (never asyncpg's) and turn them into domain errors. What each
constraint means to a user is declared by its area (`services/<area>/errors.py`,
`CONSTRAINTS`) and passed to `translated` explicitly; a test checks every declared name
against `pg_constraint`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg


class ConstraintViolation(Exception):
    """A database constraint rejected a write; `constraint` names which one."""

    def __init__(self, constraint: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.constraint = constraint
        self.message = message
        self.field = field


class UniqueViolation(ConstraintViolation):
    """A UNIQUE constraint or unique index fired."""


class ExclusionViolation(ConstraintViolation):
    """An EXCLUDE constraint fired (for example two allocations of one table overlap)."""


class ForeignKeyViolation(ConstraintViolation):
    """A referenced row does not exist (or is not visible to this tenant)."""


class CheckViolation(ConstraintViolation):
    """A CHECK constraint or a raising trigger rejected the row."""


@dataclass(frozen=True, slots=True)
class Meaning:
    """What a constraint means to a user: the input field it concerns and what to say."""

    field: str | None
    message: str


Constraints = Mapping[str, Meaning]
"""An area's constraints by name (each area's `errors.CONSTRAINTS`)."""

_UNKNOWN = Meaning(None, "the change breaks a rule")


_KINDS: dict[type[asyncpg.PostgresError], type[ConstraintViolation]] = {
    asyncpg.UniqueViolationError: UniqueViolation,
    asyncpg.ExclusionViolationError: ExclusionViolation,
    asyncpg.ForeignKeyViolationError: ForeignKeyViolation,
    asyncpg.CheckViolationError: CheckViolation,
}


def translate(exc: asyncpg.PostgresError, constraints: Constraints) -> ConstraintViolation | None:
    """The rule error for a constraint violation, or None for anything else."""
    for pg_type, kind in _KINDS.items():
        if isinstance(exc, pg_type):
            constraint = getattr(exc, "constraint_name", None) or "unknown"
            meaning = constraints.get(constraint, _UNKNOWN)
            return kind(constraint, meaning.message, meaning.field)
    return None


@asynccontextmanager
async def translated(constraints: Constraints) -> AsyncIterator[None]:
    """Re-raise constraint violations inside the block as ConstraintViolation subclasses, with the
    meaning `constraints` (the area's) gives each."""
    try:
        yield
    except asyncpg.PostgresError as exc:
        rule = translate(exc, constraints)
        if rule is None:
            raise
        raise rule from exc
