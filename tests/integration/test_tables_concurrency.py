"""Races on real concurrent connections: one table, many staff; one booking, two confirmations."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import asyncpg

from db.pool import tenant_transaction
from services.errors import AllotError
from services.realtime.stream import Delta, Snapshot
from services.tables import flows, live, reads, store
from services.tables.errors import SessionNotActive, TableConflict
from tests.integration.test_tables_setup import CONFIG, EVENING, World, make_world

OVERLAPS = """
select count(*) from allocations a
join allocations b on a.table_id = b.table_id and a.id < b.id and a.during && b.during
  and a.booking_id <> b.booking_id
where a.released_at is null and b.released_at is null
"""


async def overlapping_allocations(world: World) -> int:
    n: int = (await world.fetch(OVERLAPS))[0]["count"]
    return n


async def test_propose__50_staff_race_for_one_table_and_exactly_one_holds(pool) -> None:
    world = await make_world(pool)
    table = await world.add_table("T1", 1, 4)
    bookings = [await world.add_booking(f"Guest {i}", party=2) for i in range(50)]

    async def one(i: int):
        return await flows.propose_tables(
            pool, world.staff(f"staff-{i}"), str(bookings[i]), [str(table)], CONFIG
        )

    sessions = await asyncio.gather(*(one(i) for i in range(50)))

    held = [s for s in sessions if s.status == "HELD"]
    assert len(held) == 1
    winner = held[0].booking.id
    losers = [s for s in sessions if s.status != "HELD"]
    assert len(losers) == 49
    for s in losers:
        assert s.status == "PROPOSED"
        assert [(v.code, v.conflicting_booking_id, v.table_ids) for v in s.violations] == [
            ("TABLE_CONFLICT", winner, (table,))
        ]
    live_rows = await world.live_allocations()
    assert [(r["booking_id"], r["kind"]) for r in live_rows] == [(winner, "HOLD")]
    assert await overlapping_allocations(world) == 0


async def test_confirm__two_staff_confirm_one_booking_onto_different_tables_one_wins(
    pool, hub
) -> None:
    world = await make_world(pool)
    for label, (low, high) in {"T2": (2, 4), "T3": (2, 4), "T4": (4, 6)}.items():
        await world.add_table(label, low, high)
    for round_ in range(3):
        start = EVENING + timedelta(hours=3 * round_)
        booking = await world.add_booking(f"Party {round_}", party=6, start=start)
        a = await flows.propose_tables(
            pool, world.staff("a"), str(booking), world.table_ids("T4"), CONFIG
        )
        b = await flows.propose_tables(
            pool, world.staff("b"), str(booking), world.table_ids("T2", "T3"), CONFIG
        )
        assert (a.status, b.status) == ("HELD", "HELD")
        streams = {
            s.id: live.session_events(pool, hub, world.staff(who), str(s.id))
            for who, s in (("a", a), ("b", b))
        }
        for stream in streams.values():
            assert isinstance(await anext(stream), Snapshot)

        results = await asyncio.gather(
            flows.confirm_assignment(pool, world.staff("a"), str(a.id), None, CONFIG),
            flows.confirm_assignment(pool, world.staff("b"), str(b.id), None, CONFIG),
            return_exceptions=True,
        )

        won = [r for r in results if not isinstance(r, BaseException)]
        lost = [r for r in results if isinstance(r, BaseException)]
        assert len(won) == 1 and len(lost) == 1
        error = lost[0]
        assert isinstance(error, SessionNotActive | TableConflict), error
        assert isinstance(error, AllotError)
        if isinstance(error, SessionNotActive):
            assert error.status == "CANCELLED"
        winner = won[0]
        loser_id = b.id if winner.id == a.id else a.id

        final = await reads.booking(pool, world.staff(), str(booking))
        assert final is not None and final.status == "CONFIRMED"
        assert final.tables == winner.booking.tables
        assert {t.id for t in final.tables} == {t.id for t in winner.proposed_tables}
        rows = await world.fetch(
            "select table_id, kind from allocations where booking_id = $1 and released_at is null",
            booking,
        )
        assert {(r["table_id"], r["kind"]) for r in rows} == {
            (t.id, "ASSIGNMENT") for t in winner.proposed_tables
        }

        # Its own HELD, committed just before it subscribed, may reach it first.
        event = await asyncio.wait_for(anext(streams[loser_id]), 5)
        if isinstance(event, Delta) and event.data.status == "HELD":
            event = await asyncio.wait_for(anext(streams[loser_id]), 5)
        assert isinstance(event, Delta) and event.data.status == "CANCELLED"
        for stream in streams.values():
            await stream.aclose()
        assert await overlapping_allocations(world) == 0


async def test_propose__insert_race_with_the_exclusion_constraint_answers_table_conflict(
    pool, dsn
) -> None:
    """A writer outside the lock order commits an overlapping allocation between propose's read
    and its insert: the exclusion constraint fires, and propose answers PROPOSED with a
    TABLE_CONFLICT naming that booking instead of failing."""
    world = await make_world(pool)
    table = await world.add_table("T1", 1, 4)
    mine = await world.add_booking("Mine", party=2)
    theirs = await world.add_booking("Theirs", party=2)

    outsider = await asyncpg.connect(dsn)  # the superuser: no lock order, no RLS
    try:
        tx = outsider.transaction()
        await tx.start()
        await outsider.execute(
            "insert into allocations (tenant_id, restaurant_id, table_id, booking_id, kind, during)"
            " select tenant_id, restaurant_id, $1, id, 'ASSIGNMENT', during from bookings"
            " where id = $2",
            table,
            theirs,
        )
        proposing = asyncio.create_task(
            flows.propose_tables(pool, world.staff(), str(mine), [str(table)], CONFIG)
        )
        # Wait until propose is blocked on the outsider's uncommitted row (in its insert: the
        # only place it can wait for another transaction's id here).
        for _ in range(500):
            waiting = await outsider.fetchval(
                "select count(*) from pg_stat_activity where datname = current_database()"
                " and wait_event_type = 'Lock' and wait_event = 'transactionid'"
            )
            if waiting:
                break
            await asyncio.sleep(0.02)
        assert waiting, "propose never reached its insert"
        await tx.commit()
        session = await asyncio.wait_for(proposing, 10)
    finally:
        await outsider.close()

    assert session.status == "PROPOSED"
    assert [(v.code, v.conflicting_booking_id) for v in session.violations] == [
        ("TABLE_CONFLICT", theirs)
    ]
    rows = await world.live_allocations()
    assert [r["booking_id"] for r in rows] == [theirs]
    assert uuid.UUID(str(session.booking.id)) == mine


async def _waiting_on_a_key(observer: asyncpg.Connection) -> bool:
    """Whether a backend of this database waits for an advisory lock (a (table, day) key)."""
    waiting: int = await observer.fetchval(
        "select count(*) from pg_stat_activity where datname = current_database()"
        " and wait_event_type = 'Lock' and wait_event = 'advisory'"
    )
    return waiting > 0


async def test_keys__the_same_table_on_another_day_never_waits_an_overlap_does(pool, dsn) -> None:
    """A flow holds its booking's (table, day) keys until it commits: staff working on the
    same table on other dates go on, a booking overlapping it (even across midnight) waits."""
    world = await make_world(pool)
    table = await world.add_table("T1", 1, 4)
    late = await world.add_booking("Late", start=EVENING + timedelta(hours=5))  # 23:00-01:00
    other_day = await world.add_booking("Later", start=EVENING + timedelta(days=2))
    after_midnight = await world.add_booking("Night", start=EVENING + timedelta(hours=6.5))

    holding = asyncio.Event()
    release = asyncio.Event()

    async def hold_the_keys() -> None:
        async with tenant_transaction(pool, world.tenant) as conn:
            snap = await store.lock_and_read(conn, booking_id=late, take=[table])
            assert snap is not None
            holding.set()
            await release.wait()

    holder = asyncio.create_task(hold_the_keys())
    await holding.wait()
    observer = await asyncpg.connect(dsn)  # the owner: sees every backend's wait
    try:
        tomorrow = await asyncio.wait_for(
            flows.propose_tables(pool, world.staff("b"), str(other_day), [str(table)], CONFIG),
            10,
        )
        assert tomorrow.status == "HELD"  # done while the keys of the late booking are held
        night = asyncio.create_task(
            flows.propose_tables(pool, world.staff("c"), str(after_midnight), [str(table)], CONFIG)
        )
        for _ in range(500):
            if await _waiting_on_a_key(observer):
                break
            await asyncio.sleep(0.01)
        assert await _waiting_on_a_key(observer) and not night.done()
    finally:
        release.set()
        await holder
        await observer.close()
    assert (await asyncio.wait_for(night, 10)).status == "HELD"


async def test_propose__two_staff_race_across_midnight_and_exactly_one_holds(pool) -> None:
    world = await make_world(pool)
    table = await world.add_table("T1", 1, 4)
    late = await world.add_booking("Late", start=EVENING + timedelta(hours=5))  # 23:00-01:00
    night = await world.add_booking("Night", start=EVENING + timedelta(hours=6.5))  # 00:30-
    for _ in range(5):
        results = await asyncio.gather(
            flows.propose_tables(pool, world.staff("a"), str(late), [str(table)], CONFIG),
            flows.propose_tables(pool, world.staff("b"), str(night), [str(table)], CONFIG),
        )
        assert sorted(s.status for s in results) == ["HELD", "PROPOSED"]
        loser = next(s for s in results if s.status == "PROPOSED")
        assert [v.code for v in loser.violations] == ["TABLE_CONFLICT"]
        assert await overlapping_allocations(world) == 0
        for s in results:  # clear both for the next round
            if s.status in ("HELD", "PROPOSED"):
                await flows.cancel_assignment_session(
                    pool, world.staff("a" if s.booking.id == late else "b"), str(s.id), CONFIG
                )
