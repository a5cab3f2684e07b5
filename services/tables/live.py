"""Realtime for tables: the area's topics, the floor of a restaurant and one assignment session.

Its triggers send on `TOPICS` (db/migrations/0008_tables_topics.sql): a restaurant's floor
(`tables.floor:<restaurant id>`), one session (`tables.session:<session id>`), and the holds
that wake every process's expirer (`tables.holds`).

Both follow services.realtime.stream.live: a snapshot, then one delta per committed change.
A floor delta's rows come in the notification when they fit (hub.rows; else they are read),
once per change for every subscriber of this process (live's `read`), then filtered per
subscriber's window (`visible`). A session's are read (three statements).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from functools import partial
from typing import Final, TypeVar
from uuid import UUID

import asyncpg

from db.pool import tenant_transaction
from db.sql import load
from services.core.ids import require_id
from services.core.principal import Principal
from services.errors import NotFound
from services.realtime.hub import Change, Hub
from services.realtime.stream import Delta, Snapshot, live
from services.tables import reads
from services.tables.model import (
    ALLOCATION_EVENTS,
    FloorChange,
    FloorEventKind,
    FloorView,
    SessionView,
)
from services.tables.rules import require_owner, require_staff

FLOOR: Final = "tables.floor"
SESSION: Final = "tables.session"
HOLDS: Final = "tables.holds"
TOPICS: Final = (FLOOR, SESSION, HOLDS)

Q = load("tables")


def floor_topic(restaurant_id: UUID) -> str:
    """The hub topic of a restaurant's floor (allocations, bookings and tables)."""
    return f"{FLOOR}:{restaurant_id}"


def session_topic(session_id: UUID) -> str:
    """The hub topic of one assignment session."""
    return f"{SESSION}:{session_id}"


def _overlaps(starts_at: datetime, ends_at: datetime, lo: datetime, hi: datetime) -> bool:
    return starts_at < hi and lo < ends_at


V = TypeVar("V")


async def _read(
    hub: Hub,
    read: Callable[[asyncpg.Connection, Iterable[UUID]], Awaitable[Mapping[UUID, V]]],
    change: Change,
) -> V | None:
    """The row `change` is about, read with `read` (one of reads' one-statement loaders)
    as its tenant."""
    assert change.id is not None and change.tenant is not None
    async with hub.read_as(change.tenant) as conn:
        return (await read(conn, [change.id])).get(change.id)


async def _floor_change(hub: Hub, change: Change) -> FloorChange | None:
    """The row a floor change is about (live() reads it once per change for every subscriber;
    usually it came in the notification).

    Read as the change's tenant, which is every subscriber's: live() never passes a change of
    another tenant on, and only that tenant's staff can subscribe to the restaurant.
    """
    if change.id is None or change.tenant is None:
        return None
    if change.kind in ALLOCATION_EVENTS:
        rows = await hub.rows(change, "tables_allocation_views", "allocation_id", change.id)
        allocation = reads.allocations_of(rows).get(change.id)
        return (
            FloorChange(FloorEventKind(change.kind), allocation=allocation) if allocation else None
        )
    if change.kind == FloorEventKind.BOOKING_CHANGED:
        booking = reads.bookings_of(
            await hub.rows(change, "tables_booking_views", "booking_id", change.id)
        ).get(change.id)
        return FloorChange(FloorEventKind.BOOKING_CHANGED, booking=booking) if booking else None
    if change.kind == FloorEventKind.TABLE_CHANGED:
        rows = await hub.rows(change, "tables_table_views", "id", change.id)
        table = reads.table_of(rows[0]) if rows else None
        return FloorChange(FloorEventKind.TABLE_CHANGED, table=table) if table else None
    return None


async def floor_events(
    pool: asyncpg.Pool,
    hub: Hub,
    who: Principal,
    restaurant_id: str,
    starts_at: datetime,
    ends_at: datetime,
) -> AsyncGenerator[Snapshot[FloorView] | Delta[FloorChange], None]:
    """The floor over [from, to): a snapshot, then every change of rows overlapping it."""
    require_staff(who)
    reads.check_window(starts_at, ends_at)
    rid = require_id(restaurant_id, "restaurant")
    tenant = who.tenant_id

    async def snapshot() -> FloorView:
        async with tenant_transaction(pool, tenant) as conn:
            found = await reads.floor_view(conn, rid, starts_at, ends_at)
        if found is None:
            raise NotFound("restaurant not found")
        return found

    def visible(_change: Change, floor_change: FloorChange) -> FloorChange | None:
        row = floor_change.allocation or floor_change.booking
        if row is None:  # a table: on the floor at every time
            return floor_change
        return floor_change if _overlaps(row.starts_at, row.ends_at, starts_at, ends_at) else None

    async with tenant_transaction(pool, tenant) as conn:  # a clear error before subscribing
        if not await conn.fetchval(Q["restaurant_exists"], rid):
            raise NotFound("restaurant not found")

    async for event in live(
        hub,
        who,
        floor_topic(rid),
        name="floorEvents",
        snapshot=snapshot,
        read=partial(_floor_change, hub),
        visible=visible,
    ):
        yield event


async def _session_row(hub: Hub, change: Change) -> SessionView | None:
    """The session a change is about (as the change's tenant)."""
    if change.id is None or change.tenant is None:
        return None
    return await _read(hub, reads.session_views, change)


async def session_events(
    pool: asyncpg.Pool, hub: Hub, who: Principal, session_id: str
) -> AsyncGenerator[Snapshot[SessionView] | Delta[SessionView], None]:
    """One session, for its owner (or an admin): a snapshot, then every change of it."""
    require_staff(who)
    sid = require_id(session_id, "assignment session")
    tenant = who.tenant_id

    async def read() -> SessionView | None:
        async with tenant_transaction(pool, tenant) as conn:
            return (await reads.session_views(conn, [sid])).get(sid)

    found = await read()
    if found is None:
        raise NotFound("assignment session not found")
    require_owner(who, found.created_by)

    async def snapshot() -> SessionView:
        current = await read()
        if current is None:
            raise NotFound("assignment session not found")
        return current

    async for event in live(
        hub,
        who,
        session_topic(sid),
        name="sessionEvents",
        snapshot=snapshot,
        read=partial(_session_row, hub),
    ):
        yield event
