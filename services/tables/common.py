"""What every tables flow shares: ids, roles, transactions with retry, and the rules' inputs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg

from db.pool import tenant_transaction
from services.core.principal import Principal, Role
from services.errors import Forbidden
from services.tables.rules import AllocationInfo, BookingInfo, TableInfo

log = logging.getLogger(__name__)

T = TypeVar("T")
ATTEMPTS = 4

TABLES_ROLES = (Role.STAFF, Role.ADMIN)


def require_staff(who: Principal) -> None:
    """Tables are for the restaurant's staff and admins."""
    who.require(*TABLES_ROLES)


def require_owner(who: Principal, created_by: str) -> None:
    """A session is its creator's (admins may act on any)."""
    if created_by != who.user_id and not who.has(Role.ADMIN):
        raise Forbidden("only the staff member who started this assignment session may do that")


async def in_transaction(
    pool: asyncpg.Pool, tenant: UUID, work: Callable[[asyncpg.Connection], Awaitable[T]]
) -> T:
    """Run `work` in one tenant transaction, again from the start if it lost a race.

    Within the lock order no flow can deadlock or overlap another's allocation; a deadlock or
    the exclusion constraint firing means a writer outside it (or a bug) got in between. A
    failed attempt wrote nothing, and the next one reads what that writer committed (so a
    taken table comes back as a TABLE_CONFLICT, not an error).
    """
    for attempt in range(1, ATTEMPTS + 1):
        try:
            async with tenant_transaction(pool, tenant) as conn:
                return await work(conn)
        except (
            asyncpg.DeadlockDetectedError,
            asyncpg.SerializationError,
            asyncpg.ExclusionViolationError,
        ) as exc:
            if attempt == ATTEMPTS:
                raise
            log.warning("tables transaction retried (attempt %d): %s", attempt, type(exc).__name__)
            await asyncio.sleep(0.005 * attempt)
    raise AssertionError("unreachable")


def zone(name: str) -> ZoneInfo | None:
    """The restaurant's time zone (None if the name is unknown, then times stay as stored)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def booking_info(row: asyncpg.Record | Mapping[str, Any]) -> BookingInfo:
    """The rules' view of a booking row; times in the restaurant's zone for readable messages."""
    tz = zone(row["timezone"])
    starts: datetime = row["starts_at"]
    ends: datetime = row["ends_at"]
    if tz is not None:
        starts, ends = starts.astimezone(tz), ends.astimezone(tz)
    return BookingInfo(
        id=row["id"],
        restaurant_id=row["restaurant_id"],
        party_size=row["party_size"],
        starts_at=starts,
        ends_at=ends,
        status=row["status"],
    )


def table_infos_of_rows(rows: Iterable[asyncpg.Record]) -> dict[UUID, TableInfo]:
    """The rules' view of dining_tables rows, by id."""
    return {
        r["id"]: TableInfo(
            r["id"],
            r["restaurant_id"],
            r["label"],
            r["zone"],
            r["min_capacity"],
            r["max_capacity"],
            r["active"],
        )
        for r in rows
    }


def allocation_infos(rows: Iterable[asyncpg.Record]) -> list[AllocationInfo]:
    """The rules' view of live allocation rows."""
    return [
        AllocationInfo(
            id=r["id"],
            table_id=r["table_id"],
            booking_id=r["booking_id"],
            kind=r["kind"],
            starts_at=r["starts_at"],
            ends_at=r["ends_at"],
            expires_at=r["expires_at"],
            session_id=r["session_id"],
        )
        for r in rows
    ]
