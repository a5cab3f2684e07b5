"""Setting up a restaurant: happy paths, and bad input that names each field and writes nothing.

Also home of `World`, the small restaurant the other tables tests build on.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import pytest

from db.pool import tenant_transaction
from services.core.principal import Principal, Role
from services.errors import Forbidden, InvalidInput, NotFound
from services.tables import setup
from services.tables.config import TablesConfig

EVENING = datetime(2031, 6, 1, 18, 0, tzinfo=UTC)
CONFIG = TablesConfig(hold_ttl_seconds=120, max_combined_tables=3)


def principal(tenant: UUID, user: str = "staff-1", *roles: Role) -> Principal:
    return Principal(user, tenant, frozenset(roles or (Role.STAFF,)))


@dataclass
class World:
    """One tenant's restaurant: tables by label, bookings by name, and its people."""

    pool: asyncpg.Pool
    tenant: UUID
    restaurant_id: UUID
    tables: dict[str, UUID] = field(default_factory=dict)
    bookings: dict[str, UUID] = field(default_factory=dict)

    @property
    def admin(self) -> Principal:
        return principal(self.tenant, "admin-1", Role.ADMIN)

    def staff(self, user: str = "staff-1") -> Principal:
        return principal(self.tenant, user, Role.STAFF)

    def table_ids(self, *labels: str) -> list[str]:
        return [str(self.tables[label]) for label in labels]

    async def add_table(self, label: str, low: int = 1, high: int = 4, zone: str = "Main") -> UUID:
        view = await setup.create_dining_table(
            self.pool, self.admin, str(self.restaurant_id), label, zone, low, high
        )
        self.tables[label] = view.id
        return view.id

    async def add_booking(
        self, name: str, party: int = 2, start: datetime = EVENING, hours: float = 2
    ) -> UUID:
        view = await setup.create_booking(
            self.pool,
            self.admin,
            str(self.restaurant_id),
            name,
            party,
            start,
            start + timedelta(hours=hours),
        )
        self.bookings[name] = view.id
        return view.id

    async def fetch(self, sql: str, *args: object) -> list[asyncpg.Record]:
        async with tenant_transaction(self.pool, self.tenant) as conn:
            return await conn.fetch(sql, *args)

    async def live_allocations(self) -> list[asyncpg.Record]:
        return await self.fetch(
            "select a.*, t.label from allocations a join dining_tables t on t.id = a.table_id"
            " where a.released_at is null order by t.label"
        )


async def make_world(pool: asyncpg.Pool, tenant: UUID | None = None) -> World:
    tenant = tenant or uuid.uuid4()
    admin = principal(tenant, "admin-1", Role.ADMIN)
    restaurant = await setup.create_restaurant(pool, admin, "Chez Test", "Europe/London")
    return World(pool, tenant, restaurant.id)


async def count(pool: asyncpg.Pool, tenant: UUID, table: str) -> int:
    assert table in {"restaurants", "dining_tables", "bookings", "allocations"}
    async with tenant_transaction(pool, tenant) as conn:
        n: int = await conn.fetchval(f"select count(*) from {table}")
    return n


# ---------------------------------------------------------------- happy paths


async def test_setup__restaurant_tables_and_booking_are_created_and_readable(pool) -> None:
    world = await make_world(pool)
    await world.add_table("T2", 1, 2)
    await world.add_table("T10", 2, 6, zone="Terrace")
    booking_id = await world.add_booking("Ada", party=3)

    from services.tables import reads

    found = await reads.restaurant(pool, world.staff(), str(world.restaurant_id))
    assert found is not None and found.timezone == "Europe/London"
    assert [t.label for t in found.tables] == ["T2", "T10"]  # natural order
    booking = await reads.booking(pool, world.staff(), str(booking_id))
    assert booking is not None
    assert (booking.status, booking.party_size, booking.tables) == ("PENDING", 3, ())
    assert booking.starts_at == EVENING and booking.ends_at == EVENING + timedelta(hours=2)


async def test_create_booking__staff_may_add_walk_ins(pool) -> None:
    world = await make_world(pool)
    view = await setup.create_booking(
        pool,
        world.staff(),
        str(world.restaurant_id),
        "  Walk   In ",
        2,
        EVENING,
        EVENING + timedelta(hours=1),
    )
    assert view.guest_name == "Walk In"


async def test_setup__needs_the_right_role(pool) -> None:
    world = await make_world(pool)
    with pytest.raises(Forbidden):
        await setup.create_restaurant(pool, world.staff(), "Mine", "Europe/Paris")
    with pytest.raises(Forbidden):
        await setup.create_dining_table(
            pool, world.staff(), str(world.restaurant_id), "T1", "Main", 1, 2
        )
    player = principal(world.tenant, "p", Role.PLAYER)
    with pytest.raises(Forbidden):
        await setup.create_booking(
            pool, player, str(world.restaurant_id), "X", 2, EVENING, EVENING + timedelta(hours=1)
        )


# ---------------------------------------------------------------- bad input


def fields(err: InvalidInput) -> set[str]:
    return {p.field for p in err.fields}


async def test_create_restaurant__bad_input_names_each_field_and_writes_nothing(pool) -> None:
    tenant = uuid.uuid4()
    admin = principal(tenant, "admin-1", Role.ADMIN)
    with pytest.raises(InvalidInput) as caught:
        await setup.create_restaurant(pool, admin, "   ", "Mars/Olympus_Mons")
    assert fields(caught.value) == {"name", "timezone"}
    for bad_zone in ("", "../../etc/passwd", "localtime", "europe/london"):
        with pytest.raises(InvalidInput) as caught:
            await setup.create_restaurant(pool, admin, "Fine", bad_zone)
        assert fields(caught.value) == {"timezone"}
    with pytest.raises(InvalidInput) as caught:
        await setup.create_restaurant(pool, admin, "x" * 201, "UTC")
    assert fields(caught.value) == {"name"}
    assert await count(pool, tenant, "restaurants") == 0


@pytest.mark.parametrize(
    ("label", "zone", "low", "high", "bad"),
    [
        ("", "Main", 1, 2, {"label"}),
        ("T1", " ", 1, 2, {"zone"}),
        ("T1", "Main", 0, 2, {"minCapacity"}),
        ("T1", "Main", 3, 2, {"maxCapacity"}),
        ("T1", "Main", 1, 51, {"maxCapacity"}),
        ("x" * 41, "Main", -1, 0, {"label", "minCapacity", "maxCapacity"}),
    ],
)
async def test_create_dining_table__bad_input_names_each_field_and_writes_nothing(
    pool, label: str, zone: str, low: int, high: int, bad: set[str]
) -> None:
    world = await make_world(pool)
    with pytest.raises(InvalidInput) as caught:
        await setup.create_dining_table(
            pool, world.admin, str(world.restaurant_id), label, zone, low, high
        )
    assert fields(caught.value) == bad
    assert await count(pool, world.tenant, "dining_tables") == 0


async def test_create_dining_table__duplicate_label_is_invalid_input_on_label(pool) -> None:
    world = await make_world(pool)
    await world.add_table("T1")
    with pytest.raises(InvalidInput) as caught:
        await world.add_table("T1", 2, 2)
    assert fields(caught.value) == {"label"}
    assert "already has a table" in caught.value.message
    assert await count(pool, world.tenant, "dining_tables") == 1
    other = await make_world(pool, world.tenant)
    await other.add_table("T1")  # labels are unique per restaurant only


async def test_create_dining_table__unknown_restaurant_is_not_found(pool) -> None:
    world = await make_world(pool)
    for rid in (str(uuid.uuid4()), "not-an-id"):
        with pytest.raises(NotFound):
            await setup.create_dining_table(pool, world.admin, rid, "T1", "Main", 1, 2)


@pytest.mark.parametrize(
    ("guest", "party", "start", "end", "bad"),
    [
        ("", 2, EVENING, EVENING + timedelta(hours=2), {"guestName"}),
        ("Ada", 0, EVENING, EVENING + timedelta(hours=2), {"partySize"}),
        ("Ada", 51, EVENING, EVENING + timedelta(hours=2), {"partySize"}),
        ("Ada", 2, EVENING, EVENING, {"endsAt"}),
        ("Ada", 2, EVENING, EVENING - timedelta(hours=1), {"endsAt"}),
        ("Ada", 2, EVENING, EVENING + timedelta(hours=13), {"endsAt"}),
        ("Ada", 2, EVENING.replace(tzinfo=None), EVENING + timedelta(hours=1), {"startsAt"}),
        (" ", -3, EVENING, EVENING, {"guestName", "partySize", "endsAt"}),
    ],
)
async def test_create_booking__bad_input_names_each_field_and_writes_nothing(
    pool, guest: str, party: int, start: datetime, end: datetime, bad: set[str]
) -> None:
    world = await make_world(pool)
    with pytest.raises(InvalidInput) as caught:
        await setup.create_booking(
            pool, world.admin, str(world.restaurant_id), guest, party, start, end
        )
    assert fields(caught.value) == bad
    assert await count(pool, world.tenant, "bookings") == 0


async def test_create_booking__unknown_restaurant_is_not_found(pool) -> None:
    world = await make_world(pool)
    with pytest.raises(NotFound):
        await setup.create_booking(
            pool, world.admin, str(uuid.uuid4()), "Ada", 2, EVENING, EVENING + timedelta(hours=1)
        )


async def test_demo_seed__fills_an_empty_tables_area_once_and_prints_a_staff_token(pool) -> None:
    from services.tables import demo

    tenant = uuid.uuid4()
    lines = await demo.seeder(pool, tenant, lambda user, roles: f"token-of-{user}")
    assert any("token-of-demo-staff" in line for line in lines)
    rows = await World(pool, tenant, uuid.uuid4()).fetch(
        "select (select count(*) from dining_tables) as tables,"
        " (select count(distinct zone) from dining_tables) as zones,"
        " (select count(*) from bookings) as bookings,"
        " (select count(distinct booking_id) from allocations where released_at is null) as seated,"
        " (select min(timezone) from restaurants) as tz"
    )
    assert dict(rows[0]) | {"seated": 0} == {
        "tables": 20,
        "zones": 3,
        "bookings": 60,
        "seated": 0,
        "tz": "Europe/London",
    }
    assert rows[0]["seated"] > 10  # about half are auto-assigned, for a floor worth looking at
    assert await demo.seed(pool, tenant) is None  # not twice
    assert await count(pool, tenant, "restaurants") == 1
