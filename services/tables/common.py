"""What every tables flow shares: ids, transactions with retry, rule inputs, targeted re-validation.

Lock order (every flow that changes allocations follows it, so flows never deadlock):
the booking row, then the dining tables whose allocations may change (in id order), then the
flow's own session, then other sessions in id order. A flow locks every table its own sessions
propose before it locks those sessions.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg

from db.pool import tenant_transaction
from db.sql import load
from services.core.principal import Principal, Role
from services.errors import Forbidden, NotFound
from services.tables import views
from services.tables.rules import AllocationInfo, BookingInfo, RulesConfig, TableInfo, validate

log = logging.getLogger(__name__)

Q = load("tables")
T = TypeVar("T")

TABLES_ROLES = (Role.STAFF, Role.ADMIN)


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
    """A UUID, or NotFound for an id that cannot name anything."""
    parsed = parse_id(value)
    if parsed is None:
        raise NotFound(f"{what} not found")
    return parsed


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
    """Run `work` in one tenant transaction; retry it if Postgres broke a deadlock.

    The lock order makes deadlocks impossible between tables flows; the retry is a safety net
    for anything outside them, and is safe because a failed attempt wrote nothing.
    """
    for attempt in range(4):
        try:
            async with tenant_transaction(pool, tenant) as conn:
                return await work(conn)
        except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError):
            if attempt == 3:
                raise
            log.warning("tables transaction retried after a deadlock (attempt %d)", attempt + 1)
            await asyncio.sleep(0.01 * (attempt + 1))
    raise AssertionError("unreachable")


def zone(name: str) -> ZoneInfo | None:
    """The restaurant's time zone (None if the name is unknown, then times stay as stored)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def booking_info(row: asyncpg.Record, booking_id: UUID | None = None) -> BookingInfo:
    """The rules' view of a booking row; times in the restaurant's zone for readable messages.

    `booking_id` overrides the row's `id` (for rows whose `id` is another entity's).
    """
    tz = zone(row["timezone"])
    starts: datetime = row["starts_at"]
    ends: datetime = row["ends_at"]
    if tz is not None:
        starts, ends = starts.astimezone(tz), ends.astimezone(tz)
    return BookingInfo(
        id=booking_id or row["id"],
        restaurant_id=row["restaurant_id"],
        party_size=row["party_size"],
        starts_at=starts,
        ends_at=ends,
        status=row["status"],
    )


def table_infos(tables: Iterable[views.TableView]) -> dict[UUID, TableInfo]:
    """The rules' view of tables, by id."""
    return {
        t.id: TableInfo(
            t.id, t.restaurant_id, t.label, t.zone, t.min_capacity, t.max_capacity, t.active
        )
        for t in tables
    }


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


@dataclass
class Changes:
    """Tables whose allocations a transaction changed, with the time ranges concerned."""

    table_ids: list[UUID] = field(default_factory=list)
    ranges: list[asyncpg.Range[datetime]] = field(default_factory=list)

    def add(self, rows: Iterable[asyncpg.Record]) -> None:
        """Record rows that carry `table_id` and `during`."""
        for r in rows:
            self.table_ids.append(r["table_id"])
            self.ranges.append(r["during"])

    def add_tables(self, table_ids: Iterable[UUID], during: asyncpg.Range[datetime]) -> None:
        """Record tables changed over one range."""
        for table_id in table_ids:
            self.table_ids.append(table_id)
            self.ranges.append(during)

    def __bool__(self) -> bool:
        return bool(self.table_ids)


async def lock_tables(conn: asyncpg.Connection, table_ids: Iterable[UUID]) -> None:
    """Lock dining tables in id order (the second step of the lock order)."""
    ids = sorted(set(table_ids), key=lambda u: u.int)
    if ids:
        await conn.execute(Q["lock_tables"], ids)


async def revalidate(
    conn: asyncpg.Connection,
    changes: Changes,
    now: datetime,
    config: RulesConfig,
    skip: Sequence[UUID] = (),
) -> list[UUID]:
    """Re-run the rules for the PROPOSED sessions a change concerns; return those that changed.

    Only sessions proposing a changed table for a booking overlapping the change are read, and
    only those whose violations actually differ are written (their owners get a session event
    from the update's trigger). Everything else, however busy the restaurant, is left alone.
    """
    if not changes:
        return []
    rows = await conn.fetch(Q["proposed_sessions_on"], changes.table_ids, changes.ranges, skip)
    if not rows:
        return []
    table_ids = {t for r in rows for t in r["proposed_table_ids"]}
    tables = table_infos((await views.tables_by_ids(conn, table_ids)).values())
    lower = min(r["during"].lower for r in rows)
    upper = max(r["during"].upper for r in rows)
    allocations = allocation_infos(
        await conn.fetch(
            Q["live_allocations_on_tables"], list(table_ids), asyncpg.Range(lower, upper)
        )
    )
    changed_ids: list[UUID] = []
    changed_violations: list[str] = []
    for r in rows:
        found = validate(
            booking_info(r, r["booking_id"]),
            list(r["proposed_table_ids"]),
            tables,
            allocations,
            now,
            config,
            ignore_session_id=r["id"],
        )
        stored = views.violations_to_json(found)
        if stored != r["violations"]:
            changed_ids.append(r["id"])
            changed_violations.append(json.dumps(stored))
    if changed_ids:
        await conn.execute(Q["update_session_violations"], changed_ids, changed_violations)
    return changed_ids
