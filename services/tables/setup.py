"""Setting up a restaurant: the restaurant, its tables and its bookings (walk-ins included),
and editing a table (taking it out of service, say), which re-validates the proposals on it."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import TypeVar
from uuid import UUID

import asyncpg

from db.errors import UniqueViolation, translated
from db.sql import load
from services.core.ids import parse_id
from services.core.principal import Principal, Role
from services.core.tenants import ensure_tenant
from services.errors import InvalidInput, NotFound, Problems, StaleVersion
from services.tables import inputs, plan, reads
from services.tables.config import TablesConfig
from services.tables.errors import CONSTRAINTS
from services.tables.flows import in_transaction
from services.tables.model import (
    BookingView,
    RestaurantView,
    TableEdit,
    TableView,
    violation_from_json,
    violations_to_json,
)
from services.tables.plan import CandidateState
from services.tables.reads import table_of
from services.tables.rules import AllocationInfo, allocation_infos, booking_info, table_infos

Q = load("tables")
V = TypeVar("V")


async def create_restaurant(
    pool: asyncpg.Pool, who: Principal, name: str, timezone: str
) -> RestaurantView:
    """A new restaurant (admins only); its time zone must be an IANA name."""
    who.require(Role.ADMIN)
    problems = Problems()
    clean_name = inputs.text(problems, "name", name, inputs.MAX_NAME)
    clean_zone = inputs.timezone(problems, "timezone", timezone)
    problems.raise_if_any()

    async def work(conn: asyncpg.Connection) -> RestaurantView:
        await ensure_tenant(conn)
        row = await conn.fetchrow(Q["insert_restaurant"], clean_name, clean_zone)
        assert row is not None
        return RestaurantView(
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
) -> TableView:
    """A new table of a restaurant (admins only); labels are unique per restaurant."""
    who.require(Role.ADMIN)
    problems = Problems()
    clean_label = inputs.text(problems, "label", label, inputs.MAX_LABEL)
    clean_zone = inputs.text(problems, "zone", zone, inputs.MAX_ZONE)
    inputs.capacities(problems, min_capacity, max_capacity)
    problems.raise_if_any()
    rid = _restaurant_id(restaurant_id)

    async def work(conn: asyncpg.Connection) -> TableView:
        await _require_restaurant(conn, rid)
        try:
            async with translated(CONSTRAINTS):
                row = await conn.fetchrow(
                    *Q.bind(
                        "insert_dining_table",
                        restaurant_id=rid,
                        label=clean_label,
                        zone=clean_zone,
                        min_capacity=min_capacity,
                        max_capacity=max_capacity,
                    )
                )
        except UniqueViolation as exc:
            raise InvalidInput.one(exc.field or "label", exc.message) from exc
        assert row is not None
        return table_of(row)

    return await in_transaction(pool, who.tenant_id, work)


async def update_dining_table(
    pool: asyncpg.Pool,
    who: Principal,
    table_id: str,
    edit: TableEdit,
    expected_version: int | None,
    config: TablesConfig,
) -> TableView:
    """Edit a table (admins only), in one transaction.

    The PROPOSED sessions that propose it are validated again against the table as it is now
    (a table taken out of service shows as TABLE_INACTIVE, one back in service stops showing
    it), and their owners hear of it. Holds and assignments already on the table stay: a
    HELD session is validated again when it is confirmed. The edit waits for the flows
    deciding on the table, and flows after it wait for the edit (see tables_open_scope), so no
    decision is made on the table as it was.
    """
    who.require(Role.ADMIN)
    problems = Problems()
    label = (
        None if edit.label is None else inputs.text(problems, "label", edit.label, inputs.MAX_LABEL)
    )
    zone = None if edit.zone is None else inputs.text(problems, "zone", edit.zone, inputs.MAX_ZONE)
    for name, value in (("minCapacity", edit.min_capacity), ("maxCapacity", edit.max_capacity)):
        if value is not None:
            inputs.capacity(problems, name, value)
    problems.raise_if_any()
    tid = parse_id(table_id)
    if tid is None:
        raise NotFound("table not found")

    async def work(conn: asyncpg.Connection) -> TableView:
        # The same lock order as every flow: the table, then the sessions to re-validate.
        locked = await conn.fetchrow(Q["dining_table_for_update"], tid)
        if locked is None:
            raise NotFound("table not found")
        current = table_of(locked)
        proposals = await conn.fetch(Q["lock_sessions_proposing"], current.restaurant_id, tid)
        if expected_version is not None and current.version != expected_version:
            raise StaleVersion(
                "the table changed since you last saw it; check it and try again",
                current.version,
            )
        wanted = replace(
            current,
            label=_pick(label, current.label),
            zone=_pick(zone, current.zone),
            min_capacity=_pick(edit.min_capacity, current.min_capacity),
            max_capacity=_pick(edit.max_capacity, current.max_capacity),
            active=_pick(edit.active, current.active),
        )
        if wanted.min_capacity > wanted.max_capacity:
            field = "maxCapacity" if edit.max_capacity is not None else "minCapacity"
            raise InvalidInput.one(
                field,
                f"minCapacity {wanted.min_capacity} is more than maxCapacity {wanted.max_capacity}",
            )
        if wanted == current:
            return current
        try:
            async with translated(CONSTRAINTS):
                row = await conn.fetchrow(
                    *Q.bind(
                        "update_dining_table",
                        id=tid,
                        label=wanted.label,
                        zone=wanted.zone,
                        min_capacity=wanted.min_capacity,
                        max_capacity=wanted.max_capacity,
                        active=wanted.active,
                    )
                )
        except UniqueViolation as exc:
            raise InvalidInput.one(exc.field or "label", exc.message) from exc
        assert row is not None
        if proposals:
            await _revalidate(conn, proposals, config)
        return table_of(row)

    return await in_transaction(pool, who.tenant_id, work)


def _pick(value: V | None, current: V) -> V:
    """The edit's value, or the current one where the edit leaves it alone."""
    return current if value is None else value


async def _revalidate(
    conn: asyncpg.Connection, proposals: list[asyncpg.Record], config: TablesConfig
) -> None:
    """Validate the (locked) PROPOSED sessions again, as the tables are in this transaction,
    and write the violations that changed."""
    tables = table_infos(
        await conn.fetch(
            Q["tables_by_ids"], list({t for p in proposals for t in p["proposed_table_ids"]})
        )
    )
    candidates: list[CandidateState] = []
    allocations: dict[UUID, AllocationInfo] = {}
    now = None
    for p in proposals:
        booking = await conn.fetchrow(Q["booking_for_read"], p["booking_id"])
        assert booking is not None
        now = booking["now"]
        candidates.append(
            CandidateState(
                id=p["id"],
                booking=booking_info(booking),
                proposed=tuple(p["proposed_table_ids"]),
                violations=tuple(violation_from_json(v) for v in p["violations"]),
            )
        )
        for a in allocation_infos(
            await conn.fetch(
                Q["live_allocations_of_restaurant"], booking["restaurant_id"], booking["during"]
            )
        ):
            allocations[a.id] = a
    assert now is not None
    changed = plan.changed_violations(
        candidates, tables, list(allocations.values()), now, config.rules
    )
    if changed:
        await conn.execute(
            Q["write_violations"],
            list(changed),
            [json.dumps(violations_to_json(v)) for v in changed.values()],
        )


async def create_booking(
    pool: asyncpg.Pool,
    who: Principal,
    restaurant_id: str,
    guest_name: str,
    party_size: int,
    starts_at: datetime,
    ends_at: datetime,
) -> BookingView:
    """A new PENDING booking (admins, and staff for walk-ins)."""
    who.require(Role.STAFF, Role.ADMIN)
    problems = Problems()
    clean_name = inputs.text(problems, "guestName", guest_name, inputs.MAX_NAME)
    inputs.party_size(problems, party_size)
    inputs.time_range(problems, starts_at, ends_at)
    problems.raise_if_any()
    rid = _restaurant_id(restaurant_id)

    async def work(conn: asyncpg.Connection) -> BookingView:
        await _require_restaurant(conn, rid)
        booking_id: UUID = await conn.fetchval(
            *Q.bind(
                "insert_booking",
                restaurant_id=rid,
                guest_name=clean_name,
                party_size=party_size,
                starts_at=starts_at,
                ends_at=ends_at,
            )
        )
        return (await reads.booking_views(conn, [booking_id]))[booking_id]

    return await in_transaction(pool, who.tenant_id, work)


def _restaurant_id(value: str) -> UUID:
    parsed = parse_id(value)
    if parsed is None:
        raise NotFound("restaurant not found")
    return parsed


async def _require_restaurant(conn: asyncpg.Connection, restaurant_id: UUID) -> None:
    if not await conn.fetchval(Q["restaurant_exists"], restaurant_id):
        raise NotFound("restaurant not found")
