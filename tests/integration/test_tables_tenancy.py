"""Another tenant can neither read, change nor subscribe to a restaurant's tables."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from db.pool import tenant_transaction
from services.core.principal import Principal, Role
from services.errors import Forbidden, NotFound
from services.tables import flows, live, reads, setup
from tests.integration.test_tables_setup import CONFIG, EVENING, make_world, principal


async def test_other_tenant__can_neither_read_change_nor_subscribe(pool, hub) -> None:
    world = await make_world(pool)
    await world.add_table("T1", 1, 4)
    await world.add_table("T2", 1, 4)
    bid = str(await world.add_booking("Ada", party=2))
    held = await flows.propose_tables(pool, world.staff(), bid, world.table_ids("T1"), CONFIG)
    rid, sid, t1 = str(world.restaurant_id), str(held.id), world.table_ids("T1")
    window = (EVENING - timedelta(hours=1), EVENING + timedelta(hours=4))

    intruder = principal(uuid.uuid4(), "staff-1", Role.STAFF, Role.ADMIN)  # same user id, even

    # Read: nothing is there.
    assert await reads.restaurant(pool, intruder, rid) is None
    assert await reads.restaurants(pool, intruder) == []
    assert await reads.booking(pool, intruder, bid) is None
    assert await reads.assignment_session(pool, intruder, sid) is None
    with pytest.raises(NotFound):
        await reads.floor(pool, intruder, rid, *window)
    with pytest.raises(NotFound):
        await reads.suggest_tables(pool, intruder, bid, CONFIG)

    # Change: the same NotFound as for an id that never existed.
    attempts = [
        flows.propose_tables(pool, intruder, bid, t1, CONFIG),
        flows.confirm_assignment(pool, intruder, sid, None, CONFIG),
        flows.cancel_assignment_session(pool, intruder, sid, CONFIG),
        flows.auto_assign(pool, intruder, bid, CONFIG),
        flows.set_booking_status(pool, intruder, bid, "CANCELLED", None, CONFIG),
        setup.create_dining_table(pool, intruder, rid, "X1", "Main", 1, 2),
        setup.create_booking(pool, intruder, rid, "Eve", 2, *window),
    ]
    for attempt in attempts:
        with pytest.raises(NotFound):
            await attempt

    # Subscribe: refused before anything is sent.
    with pytest.raises(NotFound):
        await anext(live.floor_events(pool, hub, intruder, rid, *window))
    with pytest.raises(NotFound):
        await anext(live.session_events(pool, hub, intruder, sid))

    # And nothing changed.
    mine = await reads.assignment_session(pool, world.staff(), sid)
    assert mine is not None and (mine.status, mine.version) == ("HELD", held.version)
    assert [r["label"] for r in await world.live_allocations()] == ["T1"]
    booking = await reads.booking(pool, world.staff(), bid)
    assert booking is not None and booking.status == "PENDING"


async def test_row_level_security__hides_every_tables_row_from_another_tenant(pool) -> None:
    world = await make_world(pool)
    await world.add_table("T1")
    bid = str(await world.add_booking("Ada"))
    await flows.propose_tables(pool, world.staff(), bid, world.table_ids("T1"), CONFIG)
    tables = (
        "restaurants",
        "dining_tables",
        "bookings",
        "allocations",
        "manual_assignment_sessions",
    )
    async with tenant_transaction(pool, uuid.uuid4()) as conn:
        for name in tables:
            assert await conn.fetchval(f"select count(*) from {name}") == 0, name
    async with tenant_transaction(pool, world.tenant) as conn:
        for name in tables:
            assert await conn.fetchval(f"select count(*) from {name}") >= 1, name


async def test_roles__only_staff_and_admins_work_with_tables(pool, hub) -> None:
    world = await make_world(pool)
    await world.add_table("T1")
    bid = str(await world.add_booking("Ada"))
    player = Principal("p", world.tenant, frozenset({Role.PLAYER}))
    with pytest.raises(Forbidden):
        await flows.propose_tables(pool, player, bid, world.table_ids("T1"), CONFIG)
    with pytest.raises(Forbidden):
        await reads.booking(pool, player, bid)
    with pytest.raises(Forbidden):
        await anext(
            live.floor_events(
                pool, hub, player, str(world.restaurant_id), EVENING, EVENING + timedelta(hours=1)
            )
        )
