"""What clients see of the tables area, read set-based (a fixed number of queries per call).

Every view is complete: a booking carries its tables, an allocation its table, a session its
booking and proposed tables. So a list of N rows, or one realtime event fanned out to many
subscribers, costs the same few queries, never one per row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from db.sql import load
from services.tables.rules import TableInfo, Violation, table_sort_key

Q = load("tables")


@dataclass(frozen=True, slots=True)
class TableView:
    """A dining table."""

    id: UUID
    restaurant_id: UUID
    label: str
    zone: str
    min_capacity: int
    max_capacity: int
    active: bool
    version: int


@dataclass(frozen=True, slots=True)
class RestaurantView:
    """A restaurant and its tables (in natural label order)."""

    id: UUID
    name: str
    timezone: str
    version: int
    tables: tuple[TableView, ...]


@dataclass(frozen=True, slots=True)
class BookingView:
    """A booking and the tables assigned to it."""

    id: UUID
    restaurant_id: UUID
    guest_name: str
    party_size: int
    starts_at: datetime
    ends_at: datetime
    status: str
    version: int
    tables: tuple[TableView, ...]


@dataclass(frozen=True, slots=True)
class AllocationView:
    """A hold or assignment of one table to a booking; `released_at` is set once it is gone."""

    id: UUID
    kind: str
    table: TableView
    booking_id: UUID
    session_id: UUID | None
    starts_at: datetime
    ends_at: datetime
    expires_at: datetime | None
    released_at: datetime | None
    release_reason: str | None
    version: int


@dataclass(frozen=True, slots=True)
class SessionView:
    """A staff member's manual assignment session for one booking."""

    id: UUID
    booking: BookingView
    created_by: str
    status: str
    proposed_tables: tuple[TableView, ...]
    violations: tuple[Violation, ...]
    hold_expires_at: datetime | None
    last_validated_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class FloorView:
    """A restaurant's tables, live allocations and bookings over [from, to)."""

    restaurant_id: UUID
    starts_at: datetime
    ends_at: datetime
    tables: tuple[TableView, ...]
    allocations: tuple[AllocationView, ...]
    bookings: tuple[BookingView, ...]


@dataclass(frozen=True, slots=True)
class SuggestionView:
    """A table set the rules suggest for a booking."""

    tables: tuple[TableView, ...]
    score: float
    reason: str
    violations: tuple[Violation, ...]


def table_of(row: asyncpg.Record) -> TableView:
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


def rules_table(t: TableView) -> TableInfo:
    """The rules' view of a table."""
    return TableInfo(
        t.id, t.restaurant_id, t.label, t.zone, t.min_capacity, t.max_capacity, t.active
    )


def sort_tables(tables: Iterable[TableView]) -> tuple[TableView, ...]:
    """Tables in natural label order (T2 before T10), the order staff read them in."""
    return tuple(sorted(tables, key=lambda t: table_sort_key(rules_table(t))))


# Violations are stored in sessions as JSON in the shape the API shows them.


def violation_to_json(v: Violation) -> dict[str, Any]:
    """A violation as stored in manual_assignment_sessions.violations."""
    return {
        "code": v.code,
        "message": v.message,
        "tableIds": [str(t) for t in v.table_ids],
        "conflictingBookingId": (
            str(v.conflicting_booking_id) if v.conflicting_booking_id else None
        ),
    }


def violations_to_json(violations: Iterable[Violation]) -> list[dict[str, Any]]:
    """Violations as stored."""
    return [violation_to_json(v) for v in violations]


def violation_from_json(data: Mapping[str, Any]) -> Violation:
    """A stored violation."""
    other = data.get("conflictingBookingId")
    return Violation(
        code=str(data["code"]),
        message=str(data["message"]),
        table_ids=tuple(UUID(t) for t in data.get("tableIds", ())),
        conflicting_booking_id=UUID(other) if other else None,
    )


async def tables_by_ids(conn: asyncpg.Connection, ids: Iterable[UUID]) -> dict[UUID, TableView]:
    """The visible tables among `ids`."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    return {r["id"]: table_of(r) for r in await conn.fetch(Q["tables_by_ids"], wanted)}


async def restaurants(
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


async def bookings(conn: asyncpg.Connection, ids: Iterable[UUID]) -> dict[UUID, BookingView]:
    """The visible bookings among `ids`, each with its assigned tables (one query)."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = await conn.fetch(Q["booking_views"], wanted)
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
            status=r["status"],
            version=r["booking_version"],
            tables=sort_tables(tables[r["booking_id"]]),
        )
        for r in rows
    }


async def allocations(conn: asyncpg.Connection, ids: Iterable[UUID]) -> dict[UUID, AllocationView]:
    """Allocations among `ids` (released ones too), each with its table (one query)."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    return {
        r["allocation_id"]: AllocationView(
            id=r["allocation_id"],
            kind=r["kind"],
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
        for r in await conn.fetch(Q["allocation_views"], wanted)
    }


async def sessions(conn: asyncpg.Connection, ids: Iterable[UUID]) -> dict[UUID, SessionView]:
    """Sessions among `ids`, with booking and proposed tables (three queries for any number)."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = await conn.fetch(Q["sessions_by_ids"], wanted)
    if not rows:
        return {}
    booking_views = await bookings(conn, (r["booking_id"] for r in rows))
    tables = await tables_by_ids(conn, (t for r in rows for t in r["proposed_table_ids"]))
    out: dict[UUID, SessionView] = {}
    for r in rows:
        booking = booking_views.get(r["booking_id"])
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
        status=row["status"],
        proposed_tables=proposed,
        violations=violations,
        hold_expires_at=row["hold_expires_at"],
        last_validated_at=row["last_validated_at"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def floor(
    conn: asyncpg.Connection, restaurant_id: UUID, starts_at: datetime, ends_at: datetime
) -> FloorView | None:
    """The floor of a restaurant over [starts_at, ends_at), or None if it is not visible."""
    found = await restaurants(conn, [restaurant_id])
    if not found:
        return None
    allocation_ids = [
        r["id"] for r in await conn.fetch(Q["floor_allocations"], restaurant_id, starts_at, ends_at)
    ]
    booking_ids = [
        r["id"] for r in await conn.fetch(Q["floor_bookings"], restaurant_id, starts_at, ends_at)
    ]
    allocation_views = await allocations(conn, allocation_ids)
    booking_views = await bookings(conn, booking_ids)
    return FloorView(
        restaurant_id=restaurant_id,
        starts_at=starts_at,
        ends_at=ends_at,
        tables=found[0].tables,
        allocations=tuple(
            sorted(
                allocation_views.values(),
                key=lambda a: (a.starts_at, table_sort_key(rules_table(a.table)), a.id.int),
            )
        ),
        bookings=tuple(sorted(booking_views.values(), key=lambda b: (b.starts_at, b.id.int))),
    )
