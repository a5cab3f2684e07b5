"""Setting up a restaurant: the restaurant, its tables and its bookings (walk-ins included)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from db.errors import UniqueViolation, translated
from db.sql import load
from services.core.principal import Principal, Role
from services.core.tenants import ensure_tenant
from services.errors import InvalidInput, NotFound, Problems
from services.tables import errors as _errors  # noqa: F401 - registers constraint meanings
from services.tables import inputs, views
from services.tables.common import in_transaction, parse_id

Q = load("tables")


async def create_restaurant(
    pool: asyncpg.Pool, who: Principal, name: str, timezone: str
) -> views.RestaurantView:
    """A new restaurant (admins only); its time zone must be an IANA name."""
    who.require(Role.ADMIN)
    problems = Problems()
    clean_name = inputs.text(problems, "name", name, inputs.MAX_NAME)
    clean_zone = inputs.timezone(problems, "timezone", timezone)
    problems.raise_if_any()

    async def work(conn: asyncpg.Connection) -> views.RestaurantView:
        await ensure_tenant(conn)
        row = await conn.fetchrow(Q["insert_restaurant"], clean_name, clean_zone)
        assert row is not None
        return views.RestaurantView(
            id=row["id"],
            name=row["name"],
            timezone=row["timezone"],
            version=row["version"],
            tables=(),
        )

    return await in_transaction(pool, who.tenant_id, work)


async def create_dining_table(
    pool: asyncpg.Pool,
    who: Principal,
    restaurant_id: str,
    label: str,
    zone: str,
    min_capacity: int,
    max_capacity: int,
) -> views.TableView:
    """A new table of a restaurant (admins only); labels are unique per restaurant."""
    who.require(Role.ADMIN)
    problems = Problems()
    clean_label = inputs.text(problems, "label", label, inputs.MAX_LABEL)
    clean_zone = inputs.text(problems, "zone", zone, inputs.MAX_ZONE)
    inputs.capacities(problems, min_capacity, max_capacity)
    problems.raise_if_any()
    rid = _restaurant_id(restaurant_id)

    async def work(conn: asyncpg.Connection) -> views.TableView:
        await _require_restaurant(conn, rid)
        try:
            async with translated():
                row = await conn.fetchrow(
                    Q["insert_dining_table"],
                    rid,
                    clean_label,
                    clean_zone,
                    min_capacity,
                    max_capacity,
                )
        except UniqueViolation as exc:
            raise InvalidInput.one(exc.field or "label", exc.message) from exc
        assert row is not None
        return views.table_of(row)

    return await in_transaction(pool, who.tenant_id, work)


async def create_booking(
    pool: asyncpg.Pool,
    who: Principal,
    restaurant_id: str,
    guest_name: str,
    party_size: int,
    starts_at: datetime,
    ends_at: datetime,
) -> views.BookingView:
    """A new PENDING booking (admins, and staff for walk-ins)."""
    who.require(Role.STAFF, Role.ADMIN)
    problems = Problems()
    clean_name = inputs.text(problems, "guestName", guest_name, inputs.MAX_NAME)
    inputs.party_size(problems, party_size)
    inputs.time_range(problems, starts_at, ends_at)
    problems.raise_if_any()
    rid = _restaurant_id(restaurant_id)

    async def work(conn: asyncpg.Connection) -> views.BookingView:
        await _require_restaurant(conn, rid)
        booking_id: UUID = await conn.fetchval(
            Q["insert_booking"], rid, clean_name, party_size, starts_at, ends_at
        )
        return (await views.bookings(conn, [booking_id]))[booking_id]

    return await in_transaction(pool, who.tenant_id, work)


def _restaurant_id(value: str) -> UUID:
    parsed = parse_id(value)
    if parsed is None:
        raise NotFound("restaurant not found")
    return parsed


async def _require_restaurant(conn: asyncpg.Connection, restaurant_id: UUID) -> None:
    if not await conn.fetchval(Q["restaurant_exists"], restaurant_id):
        raise NotFound("restaurant not found")
