"""Queries of the tables area: restaurants, bookings, the floor, sessions and suggestions."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from db.pool import tenant_transaction
from db.sql import load
from services.core.ids import parse_id, require_id
from services.core.principal import Principal
from services.errors import NotFound, Problems
from services.tables import inputs, views
from services.tables.common import (
    allocation_infos,
    booking_info,
    require_owner,
    require_staff,
    table_infos_of_rows,
)
from services.tables.config import TablesConfig
from services.tables.rules import rank_candidates

Q = load("tables")

SUGGESTIONS = 5


async def restaurant(
    pool: asyncpg.Pool, who: Principal, restaurant_id: str
) -> views.RestaurantView | None:
    """The restaurant with its tables, or None (also for another tenant's)."""
    require_staff(who)
    rid = parse_id(restaurant_id)
    if rid is None:
        return None
    async with tenant_transaction(pool, who.tenant_id) as conn:
        found = await views.restaurants(conn, [rid])
    return found[0] if found else None


async def restaurants(pool: asyncpg.Pool, who: Principal) -> list[views.RestaurantView]:
    """Every restaurant of the caller's tenant, by name."""
    require_staff(who)
    async with tenant_transaction(pool, who.tenant_id) as conn:
        return await views.restaurants(conn)


async def booking(pool: asyncpg.Pool, who: Principal, booking_id: str) -> views.BookingView | None:
    """The booking with its assigned tables, or None."""
    require_staff(who)
    bid = parse_id(booking_id)
    if bid is None:
        return None
    async with tenant_transaction(pool, who.tenant_id) as conn:
        return (await views.bookings(conn, [bid])).get(bid)


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
) -> views.FloorView:
    """Tables, live allocations and bookings of a restaurant over [from, to)."""
    require_staff(who)
    check_window(starts_at, ends_at)
    rid = require_id(restaurant_id, "restaurant")
    async with tenant_transaction(pool, who.tenant_id) as conn:
        found = await views.floor(conn, rid, starts_at, ends_at)
    if found is None:
        raise NotFound("restaurant not found")
    return found


async def assignment_session(
    pool: asyncpg.Pool, who: Principal, session_id: str
) -> views.SessionView | None:
    """A session, for its owner (or an admin); None if there is none."""
    require_staff(who)
    sid = parse_id(session_id)
    if sid is None:
        return None
    async with tenant_transaction(pool, who.tenant_id) as conn:
        found = (await views.sessions(conn, [sid])).get(sid)
    if found is not None:
        require_owner(who, found.created_by)
    return found


async def suggest_tables(
    pool: asyncpg.Pool, who: Principal, booking_id: str, config: TablesConfig
) -> list[views.SuggestionView]:
    """The best table sets for a booking: free ones first, then ones that conflict (and why)."""
    require_staff(who)
    bid = require_id(booking_id, "booking")
    async with tenant_transaction(pool, who.tenant_id) as conn:
        row = await conn.fetchrow(Q["booking_for_read"], bid)
        if row is None:
            raise NotFound("booking not found")
        now: datetime = row["now"]
        table_rows = await conn.fetch(Q["restaurant_tables"], row["restaurant_id"])
        allocation_rows = await conn.fetch(
            Q["live_allocations_of_restaurant"], row["restaurant_id"], row["during"]
        )
    table_views = {r["id"]: views.table_of(r) for r in table_rows}
    info = booking_info(row)
    tables = table_infos_of_rows(table_rows)
    allocations = allocation_infos(allocation_rows)
    best = rank_candidates(
        info, tables, allocations, now, config.rules, limit=SUGGESTIONS, free_only=True
    )
    if len(best) < SUGGESTIONS:
        taken = {c.table_ids for c in best}
        more = rank_candidates(info, tables, allocations, now, config.rules, limit=SUGGESTIONS)
        best += [c for c in more if c.violations and c.table_ids not in taken]
    return [
        views.SuggestionView(
            tables=tuple(table_views[t] for t in c.table_ids),
            score=c.score,
            reason=c.reason,
            violations=c.violations,
        )
        for c in best[:SUGGESTIONS]
    ]
