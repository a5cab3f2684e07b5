"""Holds run out on time: the expirer, the floor's HOLD_EXPIRED, and holds that expired offline."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from services.realtime.stream import Delta, Snapshot
from services.tables import flows, live, reads, workers
from services.tables.config import TablesConfig
from services.tables.errors import SessionNotActive
from services.tables.workers import HoldExpirer
from tests.integration.test_tables_setup import EVENING, World, make_world

SHORT = TablesConfig(hold_ttl_seconds=1, max_combined_tables=3)
SHORTER = TablesConfig(hold_ttl_seconds=0.3, max_combined_tables=3)


@pytest.fixture
async def expirer(dsn: str, hub) -> AsyncIterator[HoldExpirer]:
    running = await HoldExpirer.start(dsn, hub, SHORT)
    yield running
    await running.stop()


async def eventually(check, seconds: float = 3.0) -> None:
    """Poll `check` (async, truthy when done) for up to `seconds` (generous on a busy machine)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "not within the time allowed"
        await asyncio.sleep(0.05)


async def status(world: World, session_id) -> str:
    rows = await world.fetch(
        "select status from manual_assignment_sessions where id = $1", session_id
    )
    value: str = rows[0]["status"]
    return value


async def world_with(pool, tables: int = 1, bookings: int = 1) -> World:
    world = await make_world(pool)
    for i in range(1, tables + 1):
        await world.add_table(f"T{i}", 1, 4)
    for i in range(bookings):
        await world.add_booking(f"Guest {i}", party=2)
    return world


async def hold_ran_out(world: World, session_id) -> bool:
    rows = await world.fetch(
        "select hold_expires_at <= clock_timestamp() as due from manual_assignment_sessions"
        " where id = $1",
        session_id,
    )
    due: bool = rows[0]["due"]
    return due


async def test_hold__with_a_1s_ttl_expires_on_time_for_the_floor_and_the_owner(
    pool, hub, expirer
) -> None:
    world = await world_with(pool)
    floor = live.floor_events(
        pool,
        hub,
        world.staff("watcher"),
        str(world.restaurant_id),
        EVENING - timedelta(hours=1),
        EVENING + timedelta(hours=4),
    )
    assert isinstance(await anext(floor), Snapshot)
    held = await flows.propose_tables(
        pool, world.staff(), str(world.bookings["Guest 0"]), world.table_ids("T1"), SHORT
    )
    assert held.status == "HELD"

    events = []
    while True:  # the expirer's doing, within a generous bound
        event = await asyncio.wait_for(anext(floor), 5)
        events.append(event)
        if isinstance(event, Delta) and event.data.kind == "HOLD_EXPIRED":
            break
        if isinstance(event, Snapshot) and not event.data.allocations:
            break  # the hub reconnected (a very busy machine): the resync shows the hold gone
    await floor.aclose()
    if all(isinstance(e, Delta) for e in events):
        placed, expired = events
        assert isinstance(placed, Delta) and placed.data.kind == "HOLD_PLACED"
        assert isinstance(expired, Delta) and expired.sequence == placed.sequence + 1
        assert expired.data.allocation is not None
        assert expired.data.allocation.table.label == "T1"
        assert expired.data.allocation.released_at is not None

    assert await status(world, held.id) == "EXPIRED"
    assert await world.live_allocations() == []
    with pytest.raises(SessionNotActive) as caught:
        await flows.confirm_assignment(pool, world.staff(), str(held.id), None, SHORT)
    assert caught.value.status == "EXPIRED"


async def test_hold__placed_by_another_process_wakes_the_expirer_through_the_hub(
    pool, hub, expirer
) -> None:
    world = await world_with(pool)
    workers._waiters.discard(expirer._wake)  # as if the hold were placed in another process
    held = await flows.propose_tables(
        pool, world.staff(), str(world.bookings["Guest 0"]), world.table_ids("T1"), SHORT
    )
    assert held.status == "HELD"

    async def gone() -> bool:
        return await status(world, held.id) == "EXPIRED"

    await eventually(gone)


async def test_confirm__after_the_hold_ran_out_marks_the_session_expired(pool) -> None:
    world = await world_with(pool)  # no expirer running: confirm must notice by itself
    held = await flows.propose_tables(
        pool, world.staff(), str(world.bookings["Guest 0"]), world.table_ids("T1"), SHORTER
    )
    await eventually(lambda: hold_ran_out(world, held.id))
    with pytest.raises(SessionNotActive) as caught:
        await flows.confirm_assignment(pool, world.staff(), str(held.id), None, SHORTER)
    assert caught.value.status == "EXPIRED"
    assert await status(world, held.id) == "EXPIRED"  # committed despite the error
    assert await world.live_allocations() == []


async def test_expirer__cleans_holds_that_ran_out_while_no_server_was_running(pool, dsn) -> None:
    world = await world_with(pool, tables=2, bookings=2)
    held = [
        await flows.propose_tables(
            pool,
            world.staff(f"s{i}"),
            str(world.bookings[f"Guest {i}"]),
            world.table_ids(f"T{i + 1}"),
            SHORTER,
        )
        for i in range(2)
    ]
    for session in held:
        await eventually(lambda s=session: hold_ran_out(world, s.id))
    assert len(await world.live_allocations()) == 2  # nobody cleaned them yet

    started = await HoldExpirer.start(dsn, None, SHORTER)  # the server starts
    try:
        for session in held:  # cleaned before start returned
            assert await status(world, session.id) == "EXPIRED"
        assert await world.live_allocations() == []
        reasons = await world.fetch("select release_reason from allocations")
        assert [r["release_reason"] for r in reasons] == ["EXPIRED", "EXPIRED"]
    finally:
        await started.stop()


async def test_expirer__closes_the_proposals_of_bookings_that_are_over(pool, dsn, hub) -> None:
    world = await make_world(pool)
    await world.add_table("T1", 1, 4)
    now = datetime.now(UTC)
    await world.add_booking("Lunch", party=6, start=now - timedelta(hours=3))  # over an hour ago
    await world.add_booking("Dinner", party=6, start=now + timedelta(hours=3))
    abandoned = {
        name: await flows.propose_tables(
            pool, world.staff(), str(world.bookings[name]), world.table_ids("T1"), SHORT
        )
        for name in ("Lunch", "Dinner")
    }
    assert {s.status for s in abandoned.values()} == {"PROPOSED"}  # T1 seats 4, not 6
    events = live.session_events(pool, hub, world.staff(), str(abandoned["Lunch"].id))
    assert isinstance(await anext(events), Snapshot)

    started = await HoldExpirer.start(dsn, hub, SHORT)  # its first pass does the housekeeping
    try:
        assert await status(world, abandoned["Lunch"].id) == "EXPIRED"
        assert await status(world, abandoned["Dinner"].id) == "PROPOSED"
        update = await asyncio.wait_for(anext(events), 5)
        assert isinstance(update, Delta) and update.data.status == "EXPIRED"
    finally:
        await events.aclose()
        await started.stop()


async def test_expirer__several_processes_never_handle_a_hold_twice(pool, dsn, hub) -> None:
    world = await world_with(pool, tables=12, bookings=12)
    held = [
        await flows.propose_tables(
            pool,
            world.staff(f"s{i}"),
            str(world.bookings[f"Guest {i}"]),
            world.table_ids(f"T{i + 1}"),
            SHORT,
        )
        for i in range(12)
    ]
    # Three processes' expirers, all asleep until the same deadlines, then racing for them.
    expirers = await asyncio.gather(*(HoldExpirer.start(dsn, hub, SHORT) for _ in range(3)))
    try:

        async def all_expired() -> bool:
            rows = await world.fetch(
                "select count(*) from manual_assignment_sessions where status = 'EXPIRED'"
            )
            return bool(rows[0]["count"] == 12)

        await eventually(all_expired)
    finally:
        for e in expirers:
            await e.stop()
    rows = await world.fetch("select id, version from manual_assignment_sessions")
    versions = {r["id"]: r["version"] for r in rows}
    assert all(versions[s.id] == s.version + 1 for s in held)  # one update each, by one expirer
    released = await world.fetch("select version from allocations where released_at is not null")
    assert len(released) == 12 and {r["version"] for r in released} == {2}


async def test_propose__takes_over_a_table_whose_hold_ran_out_before_the_expirer_came(pool) -> None:
    world = await world_with(pool, tables=1, bookings=2)
    first = await flows.propose_tables(
        pool, world.staff("a"), str(world.bookings["Guest 0"]), world.table_ids("T1"), SHORTER
    )
    await eventually(lambda: hold_ran_out(world, first.id))
    second = await flows.propose_tables(
        pool, world.staff("b"), str(world.bookings["Guest 1"]), world.table_ids("T1"), SHORTER
    )
    assert second.status == "HELD" and second.violations == ()
    old = await reads.assignment_session(pool, world.staff("a"), str(first.id))
    assert old is not None and old.status == "EXPIRED" and old.hold_expires_at is None
    assert [r["booking_id"] for r in await world.live_allocations()] == [world.bookings["Guest 1"]]
