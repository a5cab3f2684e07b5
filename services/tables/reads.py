"""The tables area's reads: set-based view loaders and its public queries.

A loader takes a connection and any number of ids and costs a fixed number of statements, so
a list of N rows, or one realtime event fanned out to many subscribers, costs the same few
queries, never one per row. The queries (restaurants, bookings, the floor, sessions and
suggestions) each run in one tenant transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from db.pool import tenant_transaction
from db.rows import Row
from db.sql import load
from services.core.ids import parse_id, require_id
from services.core.principal import Principal
from services.errors import NotFound, Problems
from services.tables import inputs
from services.tables.candidates import rank_candidates
from services.tables.config import TablesConfig
from services.tables.model import (
    AllocationKind,
    AllocationView,
    BookingStatus,
    BookingView,
    FloorView,
    RestaurantView,
    SessionStatus,
    SessionView,
    SuggestionView,
    TableView,
    Violation,
    sort_tables,
    table_sort_key,
    violation_from_json,
)
from services.tables.optimize import Blocked, EveningBooking
from services.tables.rules import (
    AllocationInfo,
    BookingInfo,
    TableInfo,
    allocation_infos,
    booking_info,
    require_owner,
    require_staff,
    table_infos,
)

Q = load("tables")

SUGGESTIONS = 5


# ------------------------------------------------------------------------ view loaders


def table_of(row: Row) -> TableView:
    """A TableView from a row with the dining_tables columns."""
    return TableView(
        id=row["id"],
        restaurant_id=row["restaurant_id"],
        label=row["label"],
        zone=row["zone"],
        min_capacity=row["min_capacity"],
        max_capacity=row["max_capacity"],
        active=row["active"],
        version=row["version"],
    )


async def table_views(conn: asyncpg.Connection, ids: Iterable[UUID]) -> dict[UUID, TableView]:
    """The visible tables among `ids`."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    return {r["id"]: table_of(r) for r in await conn.fetch(Q["tables_by_ids"], wanted)}


async def restaurant_views(
    conn: asyncpg.Connection, ids: Sequence[UUID] | None = None
) -> list[RestaurantView]:
    """Restaurants with their tables: those with `ids`, or all of the tenant's."""
    if ids is None:
        rows = await conn.fetch(Q["all_restaurants"])
    else:
        rows = await conn.fetch(Q["restaurants_by_ids"], list(ids))
    if not rows:
        return []
    by_restaurant: dict[UUID, list[TableView]] = {}
    for r in await conn.fetch(Q["tables_of_restaurants"], [row["id"] for row in rows]):
        by_restaurant.setdefault(r["restaurant_id"], []).append(table_of(r))
    return [
        RestaurantView(
            id=row["id"],
            name=row["name"],
            timezone=row["timezone"],
            version=row["version"],
            tables=sort_tables(by_restaurant.get(row["id"], ())),
        )
        for row in rows
    ]


async def booking_views(conn: asyncpg.Connection, ids: Iterable[UUID]) -> dict[UUID, BookingView]:
    """The visible bookings among `ids`, each with its assigned tables (one query)."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    return bookings_of(await conn.fetch(Q["booking_views"], wanted))


def bookings_of(rows: Iterable[Row]) -> dict[UUID, BookingView]:
    """Bookings from rows of tables_booking_views (a row per assigned table)."""
    rows = list(rows)
    tables: dict[UUID, list[TableView]] = {}
    for r in rows:
        found = tables.setdefault(r["booking_id"], [])
        if r["id"] is not None:
            found.append(table_of(r))
    return {
        r["booking_id"]: BookingView(
            id=r["booking_id"],
            restaurant_id=r["booking_restaurant_id"],
            guest_name=r["guest_name"],
            party_size=r["party_size"],
            starts_at=r["starts_at"],
            ends_at=r["ends_at"],
            status=BookingStatus(r["status"]),
            version=r["booking_version"],
            tables=sort_tables(tables[r["booking_id"]]),
            pinned=r["pinned"],
        )
        for r in rows
    }


async def allocation_views(
    conn: asyncpg.Connection, ids: Iterable[UUID]
) -> dict[UUID, AllocationView]:
    """Allocations among `ids` (released ones too), each with its table (one query)."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    return allocations_of(await conn.fetch(Q["allocation_views"], wanted))


def allocations_of(rows: Iterable[Row]) -> dict[UUID, AllocationView]:
    """Allocations from rows of tables_allocation_views."""
    return {
        r["allocation_id"]: AllocationView(
            id=r["allocation_id"],
            kind=AllocationKind(r["kind"]),
            table=table_of(r),
            booking_id=r["booking_id"],
            session_id=r["session_id"],
            starts_at=r["starts_at"],
            ends_at=r["ends_at"],
            expires_at=r["expires_at"],
            released_at=r["released_at"],
            release_reason=r["release_reason"],
            version=r["allocation_version"],
        )
        for r in rows
    }


async def session_views(conn: asyncpg.Connection, ids: Iterable[UUID]) -> dict[UUID, SessionView]:
    """Sessions among `ids`, with booking and proposed tables (three queries for any number)."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = await conn.fetch(Q["sessions_by_ids"], wanted)
    if not rows:
        return {}
    bookings = await booking_views(conn, (r["booking_id"] for r in rows))
    tables = await table_views(conn, (t for r in rows for t in r["proposed_table_ids"]))
    out: dict[UUID, SessionView] = {}
    for r in rows:
        booking = bookings.get(r["booking_id"])
        if booking is None:
            continue
        out[r["id"]] = session_of(
            r,
            booking,
            tuple(tables[t] for t in r["proposed_table_ids"] if t in tables),
            tuple(violation_from_json(v) for v in r["violations"]),
        )
    return out


def session_of(
    row: asyncpg.Record | Mapping[str, Any],
    booking: BookingView,
    proposed: tuple[TableView, ...],
    violations: tuple[Violation, ...],
) -> SessionView:
    """A SessionView from a manual_assignment_sessions row and what it refers to."""
    return SessionView(
        id=row["id"],
        booking=booking,
        created_by=row["created_by"],
        status=SessionStatus(row["status"]),
        proposed_tables=proposed,
        violations=violations,
        hold_expires_at=row["hold_expires_at"],
        last_validated_at=row["last_validated_at"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def floor_view(
    conn: asyncpg.Connection, restaurant_id: UUID, starts_at: datetime, ends_at: datetime
) -> FloorView | None:
    """The floor of a restaurant over [starts_at, ends_at), or None if it is not visible."""
    found = await restaurant_views(conn, [restaurant_id])
    if not found:
        return None
    allocation_ids = [
        r["id"] for r in await conn.fetch(Q["floor_allocations"], restaurant_id, starts_at, ends_at)
    ]
    booking_ids = [
        r["id"] for r in await conn.fetch(Q["floor_bookings"], restaurant_id, starts_at, ends_at)
    ]
    allocations = await allocation_views(conn, allocation_ids)
    bookings = await booking_views(conn, booking_ids)
    return FloorView(
        restaurant_id=restaurant_id,
        starts_at=starts_at,
        ends_at=ends_at,
        tables=found[0].tables,
        allocations=tuple(
            sorted(
                allocations.values(),
                key=lambda a: (a.starts_at, table_sort_key(a.table), a.id.int),
            )
        ),
        bookings=tuple(sorted(bookings.values(), key=lambda b: (b.starts_at, b.id.int))),
    )


# ------------------------------------------------------------------------ what the rules rank on


@dataclass(frozen=True)
class RestaurantState:
    """A booking (its row, as the rules see it, and the transaction's clock) with every table
    of its restaurant and the live allocations around its time: what ranking needs."""

    row: asyncpg.Record
    booking: BookingInfo
    now: datetime
    table_views: dict[UUID, TableView]
    tables: dict[UUID, TableInfo]
    allocations: list[AllocationInfo]


async def restaurant_state(conn: asyncpg.Connection, booking_id: UUID) -> RestaurantState | None:
    """The booking and its restaurant's tables and live allocations (three statements, no
    locks), or None if the booking is not visible."""
    row = await conn.fetchrow(Q["booking_for_read"], booking_id)
    if row is None:
        return None
    table_rows = await conn.fetch(Q["restaurant_tables"], row["restaurant_id"])
    allocation_rows = await conn.fetch(
        Q["live_allocations_of_restaurant"], row["restaurant_id"], row["during"]
    )
    return RestaurantState(
        row=row,
        booking=booking_info(row),
        now=row["now"],
        table_views={r["id"]: table_of(r) for r in table_rows},
        tables=table_infos(table_rows),
        allocations=allocation_infos(allocation_rows),
    )


# ------------------------------------------------------------------------ queries


async def restaurant(
    pool: asyncpg.Pool, who: Principal, restaurant_id: str
) -> RestaurantView | None:
    """The restaurant with its tables, or None (also for another tenant's)."""
    require_staff(who)
    rid = parse_id(restaurant_id)
    if rid is None:
        return None
    async with tenant_transaction(pool, who.tenant_id) as conn:
        found = await restaurant_views(conn, [rid])
    return found[0] if found else None


async def restaurants(pool: asyncpg.Pool, who: Principal) -> list[RestaurantView]:
    """Every restaurant of the caller's tenant, by name."""
    require_staff(who)
    async with tenant_transaction(pool, who.tenant_id) as conn:
        return await restaurant_views(conn)


async def booking(pool: asyncpg.Pool, who: Principal, booking_id: str) -> BookingView | None:
    """The booking with its assigned tables, or None."""
    require_staff(who)
    bid = parse_id(booking_id)
    if bid is None:
        return None
    async with tenant_transaction(pool, who.tenant_id) as conn:
        return (await booking_views(conn, [bid])).get(bid)


def check_window(starts_at: datetime, ends_at: datetime) -> None:
    """A floor window: offsets given, `to` after `from`, at most a week."""
    problems = Problems()
    inputs.time_range(
        problems,
        starts_at,
        ends_at,
        start_field="from",
        end_field="to",
        longest=inputs.MAX_FLOOR_WINDOW,
    )
    problems.raise_if_any()


async def floor(
    pool: asyncpg.Pool, who: Principal, restaurant_id: str, starts_at: datetime, ends_at: datetime
) -> FloorView:
    """Tables, live allocations and bookings of a restaurant over [from, to)."""
    require_staff(who)
    check_window(starts_at, ends_at)
    rid = require_id(restaurant_id, "restaurant")
    async with tenant_transaction(pool, who.tenant_id) as conn:
        found = await floor_view(conn, rid, starts_at, ends_at)
    if found is None:
        raise NotFound("restaurant not found")
    return found


async def assignment_session(
    pool: asyncpg.Pool, who: Principal, session_id: str
) -> SessionView | None:
    """A session, for its owner (or an admin); None if there is none."""
    require_staff(who)
    sid = parse_id(session_id)
    if sid is None:
        return None
    async with tenant_transaction(pool, who.tenant_id) as conn:
        found = (await session_views(conn, [sid])).get(sid)
    if found is not None:
        require_owner(who, found.created_by)
    return found


async def suggest_tables(
    pool: asyncpg.Pool, who: Principal, booking_id: str, config: TablesConfig
) -> list[SuggestionView]:
    """The best table sets for a booking: free ones first, then ones that conflict (and why)."""
    require_staff(who)
    bid = require_id(booking_id, "booking")
    async with tenant_transaction(pool, who.tenant_id) as conn:
        found = await restaurant_state(conn, bid)
    if found is None:
        raise NotFound("booking not found")
    info, tables, allocations, now = found.booking, found.tables, found.allocations, found.now
    best = rank_candidates(
        info, tables, allocations, now, config.rules, limit=SUGGESTIONS, free_only=True
    )
    if len(best) < SUGGESTIONS:
        taken = {c.table_ids for c in best}
        more = rank_candidates(info, tables, allocations, now, config.rules, limit=SUGGESTIONS)
        best += [c for c in more if c.violations and c.table_ids not in taken]
    return [
        SuggestionView(
            tables=tuple(found.table_views[t] for t in c.table_ids),
            score=c.score,
            reason=c.reason,
            violations=c.violations,
        )
        for c in best[:SUGGESTIONS]
    ]


# ------------------------------------------------------------------------ what optimizeFloor plans


@dataclass(frozen=True)
class Evening:
    """optimizeFloor's snapshot of a restaurant's window: every table, the bookings it may
    re-plan (with their tables, pinned when they must stay), and what else occupies tables."""

    tables: dict[UUID, TableInfo]
    table_views: dict[UUID, TableView]
    bookings: list[EveningBooking]
    blocked: list[Blocked]
    views: dict[UUID, BookingView]


async def evening(
    conn: asyncpg.Connection,
    restaurant_id: UUID,
    starts_at: datetime,
    ends_at: datetime,
) -> Evening | None:
    """The bookings of [starts_at, ends_at) that are not seated yet nor over, and around them
    the restaurant's tables and live allocations (no locks); None if the restaurant is not
    visible. A booking stays where it is when it is pinned or being assigned right now (an
    open session); other bookings' allocations and unexpired holds are blocked."""
    table_rows = await conn.fetch(Q["restaurant_tables"], restaurant_id)
    if not table_rows and not await restaurant_views(conn, [restaurant_id]):
        return None
    ids = [
        r["id"] for r in await conn.fetch(Q["floor_bookings"], restaurant_id, starts_at, ends_at)
    ]
    views = {
        b.id: b
        for b in (await booking_views(conn, ids)).values()
        if b.status in (BookingStatus.PENDING, BookingStatus.CONFIRMED)
    }
    busy = {
        r["booking_id"] for r in await conn.fetch(Q["bookings_with_open_sessions"], list(views))
    }
    now: datetime = await conn.fetchval(Q["transaction_time"])
    allocations: list[AllocationInfo] = []
    if views:
        span = (min(b.starts_at for b in views.values()), max(b.ends_at for b in views.values()))
        rows = await conn.fetch(
            Q["live_allocations_of_restaurant"],
            restaurant_id,
            asyncpg.Range(span[0], span[1], lower_inc=True, upper_inc=False),
        )
        allocations = allocation_infos(rows)
    bookings = [
        EveningBooking(
            id=b.id,
            party_size=b.party_size,
            starts_at=b.starts_at,
            ends_at=b.ends_at,
            current=tuple(t.id for t in b.tables),
            pinned=b.stays or b.id in busy,
        )
        for b in sorted(views.values(), key=lambda b: (b.starts_at, b.id.int))
    ]
    blocked = [
        Blocked(a.table_id, a.starts_at, a.ends_at)
        for a in allocations
        if not (a.booking_id in views and a.kind == AllocationKind.ASSIGNMENT)
        and not (a.kind == AllocationKind.HOLD and a.expires_at is not None and a.expires_at <= now)
    ]
    return Evening(
        tables=table_infos(table_rows),
        table_views={r["id"]: table_of(r) for r in table_rows},
        bookings=bookings,
        blocked=blocked,
        views=views,
    )
