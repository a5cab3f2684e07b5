"""Realtime for tables: the floor of a restaurant and one assignment session.

Both follow services.realtime.stream.live: a snapshot, then one delta per committed change.
A delta's rows are read once per change for every subscriber of this process (live's
`read`), then filtered per subscriber's window (`visible`).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
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
from services.tables import views
from services.tables.common import require_owner, require_staff
from services.tables.reads import check_window

ALLOCATION_EVENTS: Final = frozenset(
    {"HOLD_PLACED", "HOLD_RELEASED", "HOLD_EXPIRED", "ASSIGNED", "UNASSIGNED"}
)
BOOKING_CHANGED: Final = "BOOKING_CHANGED"
TABLE_CHANGED: Final = "TABLE_CHANGED"

Q = load("tables")


def floor_topic(restaurant_id: UUID) -> str:
    """The hub topic of a restaurant's floor (allocations and bookings)."""
    return f"floor:{restaurant_id}"


def session_topic(session_id: UUID) -> str:
    """The hub topic of one assignment session."""
    return f"session:{session_id}"


@dataclass(frozen=True, slots=True)
class FloorChange:
    """One floor delta: what happened, and the allocation, booking or table it happened to."""

    kind: str
    allocation: views.AllocationView | None = None
    booking: views.BookingView | None = None
    table: views.TableView | None = None


def _overlaps(starts_at: datetime, ends_at: datetime, lo: datetime, hi: datetime) -> bool:
    return starts_at < hi and lo < ends_at


V = TypeVar("V")


async def _read(
    hub: Hub,
    read: Callable[[asyncpg.Connection, Iterable[UUID]], Awaitable[Mapping[UUID, V]]],
    change: Change,
) -> V | None:
    """The row `change` is about, read with `read` (one of the views' one-statement readers)
    as its tenant."""
    assert change.id is not None and change.tenant is not None
    async with hub.read_as(change.tenant) as conn:
        return (await read(conn, [change.id])).get(change.id)


async def _floor_change(hub: Hub, change: Change) -> FloorChange | None:
    """The row a floor change is about (live() reads it once per change for every subscriber).

    Read as the change's tenant, which is every subscriber's: live() never passes a change of
    another tenant on, and only that tenant's staff can subscribe to the restaurant.
    """
    if change.id is None or change.tenant is None:
        return None
    if change.kind in ALLOCATION_EVENTS:
        allocation = await _read(hub, views.allocations, change)
        return FloorChange(change.kind, allocation=allocation) if allocation else None
    if change.kind == BOOKING_CHANGED:
        booking = await _read(hub, views.bookings, change)
        return FloorChange(change.kind, booking=booking) if booking else None
    if change.kind == TABLE_CHANGED:
        table = await _read(hub, views.tables_by_ids, change)
        return FloorChange(change.kind, table=table) if table else None
    return None


async def floor_events(
    pool: asyncpg.Pool,
    hub: Hub,
    who: Principal,
    restaurant_id: str,
    starts_at: datetime,
    ends_at: datetime,
) -> AsyncGenerator[Snapshot[views.FloorView] | Delta[FloorChange], None]:
    """The floor over [from, to): a snapshot, then every change of rows overlapping it."""
    require_staff(who)
    check_window(starts_at, ends_at)
    rid = require_id(restaurant_id, "restaurant")
    tenant = who.tenant_id

    async def snapshot() -> views.FloorView:
        async with tenant_transaction(pool, tenant) as conn:
            found = await views.floor(conn, rid, starts_at, ends_at)
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


async def _session_row(hub: Hub, change: Change) -> views.SessionView | None:
    """The session a change is about (as the change's tenant)."""
    if change.id is None or change.tenant is None:
        return None
    return await _read(hub, views.sessions, change)


async def session_events(
    pool: asyncpg.Pool, hub: Hub, who: Principal, session_id: str
) -> AsyncGenerator[Snapshot[views.SessionView] | Delta[views.SessionView], None]:
    """One session, for its owner (or an admin): a snapshot, then every change of it."""
    require_staff(who)
    sid = require_id(session_id, "assignment session")
    tenant = who.tenant_id

    async def read() -> views.SessionView | None:
        async with tenant_transaction(pool, tenant) as conn:
            return (await views.sessions(conn, [sid])).get(sid)

    found = await read()
    if found is None:
        raise NotFound("assignment session not found")
    require_owner(who, found.created_by)

    async def snapshot() -> views.SessionView:
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
