"""Manual assignment sessions on real Postgres: propose, hold, confirm, cancel, re-validation."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from services.errors import Forbidden, InvalidInput, NotFound, StaleVersion
from services.realtime.stream import Delta, Snapshot
from services.tables import flows, live, reads
from services.tables.errors import InvalidBookingTransition, SessionNotActive, TableConflict
from tests.integration.test_tables_setup import CONFIG, EVENING, World, make_world


async def small_world(pool) -> World:
    world = await make_world(pool)
    for label, (low, high) in {"T1": (1, 2), "T2": (2, 4), "T3": (2, 4), "T4": (4, 6)}.items():
        await world.add_table(label, low, high)
    await world.add_booking("Ada", party=2)
    await world.add_booking("Ben", party=2)
    await world.add_booking("Cy", party=6)
    return world


async def propose(world: World, booking: str, *labels: str, user: str = "staff-1"):
    return await flows.propose_tables(
        world.pool,
        world.staff(user),
        str(world.bookings[booking]),
        world.table_ids(*labels),
        CONFIG,
    )


async def test_propose__clean_tables_are_held_all_together(pool) -> None:
    world = await small_world(pool)
    session = await propose(world, "Cy", "T2", "T3")
    assert session.status == "HELD" and session.violations == ()
    assert [t.label for t in session.proposed_tables] == ["T2", "T3"]
    assert session.hold_expires_at is not None and session.last_validated_at is not None
    holds = await world.live_allocations()
    assert [(h["label"], h["kind"], h["session_id"]) for h in holds] == [
        ("T2", "HOLD", session.id),
        ("T3", "HOLD", session.id),
    ]
    assert all(h["expires_at"] == session.hold_expires_at for h in holds)


async def test_propose__same_tables_again_extend_the_hold_and_keep_the_session(pool) -> None:
    world = await small_world(pool)
    first = await propose(world, "Ada", "T2")
    await asyncio.sleep(0.01)
    again = await propose(world, "Ada", "T2")
    assert again.id == first.id and again.status == "HELD"
    assert again.hold_expires_at is not None and first.hold_expires_at is not None
    assert again.hold_expires_at > first.hold_expires_at
    holds = await world.live_allocations()
    assert len(holds) == 1 and holds[0]["expires_at"] == again.hold_expires_at


async def test_propose__other_tables_release_the_previous_hold(pool) -> None:
    world = await small_world(pool)
    first = await propose(world, "Ada", "T2")
    moved = await propose(world, "Ada", "T3")
    assert moved.id == first.id and moved.status == "HELD"
    assert [h["label"] for h in await world.live_allocations()] == ["T3"]


async def test_propose__empty_list_releases_the_hold(pool) -> None:
    world = await small_world(pool)
    await propose(world, "Ada", "T2")
    released = await propose(world, "Ada")
    assert (released.status, released.proposed_tables, released.violations) == ("PROPOSED", (), ())
    assert released.hold_expires_at is None
    assert await world.live_allocations() == []


async def test_propose__broken_rules_hold_nothing_and_say_why(pool) -> None:
    world = await small_world(pool)
    assert (await propose(world, "Cy", "T4")).status == "HELD"
    session = await propose(world, "Cy", "T1")  # a 2-seat table for 6
    assert session.status == "PROPOSED"
    assert [v.code for v in session.violations] == ["CAPACITY_TOO_SMALL"]
    assert await world.live_allocations() == []  # the earlier hold on T4 was released too


async def test_propose__bad_ids_are_invalid_input_and_unknown_booking_not_found(pool) -> None:
    world = await small_world(pool)
    with pytest.raises(InvalidInput) as caught:
        await flows.propose_tables(pool, world.staff(), "nope", ["also-nope"], CONFIG)
    assert {p.field for p in caught.value.fields} == {"bookingId", "tableIds"}
    with pytest.raises(NotFound):
        await flows.propose_tables(pool, world.staff(), str(uuid.uuid4()), [], CONFIG)
    unknown = await flows.propose_tables(
        pool, world.staff(), str(world.bookings["Ada"]), [str(uuid.uuid4())], CONFIG
    )
    assert [v.code for v in unknown.violations] == ["TABLE_UNKNOWN"]


async def test_propose__a_held_table_is_a_conflict_naming_the_holder(pool) -> None:
    world = await small_world(pool)
    await propose(world, "Ada", "T2", user="a")
    session = await propose(world, "Ben", "T2", user="b")
    assert session.status == "PROPOSED"
    (conflict,) = session.violations
    assert conflict.code == "TABLE_CONFLICT"
    assert conflict.conflicting_booking_id == world.bookings["Ada"]
    assert conflict.table_ids == (world.tables["T2"],)
    # The holder's times, in the restaurant's zone (Europe/London, summer), named.
    assert "(19:00-21:00 Europe/London; hold expires " in conflict.message
    assert conflict.message.endswith(" Europe/London)")


async def test_conflict__clears_for_the_waiting_staff_when_the_holder_cancels(pool, hub) -> None:
    world = await small_world(pool)
    held = await propose(world, "Ada", "T2", user="b")
    waiting = await propose(world, "Ben", "T2", user="a")
    assert [v.code for v in waiting.violations] == ["TABLE_CONFLICT"]

    events = live.session_events(pool, hub, world.staff("a"), str(waiting.id))
    snapshot = await anext(events)
    assert isinstance(snapshot, Snapshot) and snapshot.data.violations
    await flows.cancel_assignment_session(pool, world.staff("b"), str(held.id), CONFIG)
    update = await asyncio.wait_for(anext(events), 5)
    await events.aclose()
    assert isinstance(update, Delta)
    assert update.sequence == snapshot.sequence + 1
    assert update.data.status == "PROPOSED" and update.data.violations == ()
    assert update.data.version == waiting.version + 1


async def test_conflict__appears_for_a_proposed_session_when_someone_holds_its_table(pool) -> None:
    world = await small_world(pool)
    waiting = await propose(world, "Cy", "T2", user="a")  # broken: T2 seats 4, not 6
    assert {v.code for v in waiting.violations} == {"CAPACITY_TOO_SMALL"}
    await propose(world, "Ada", "T2", user="b")
    now = await reads.assignment_session(pool, world.staff("a"), str(waiting.id))
    assert now is not None
    assert [v.code for v in now.violations] == ["CAPACITY_TOO_SMALL", "TABLE_CONFLICT"]
    assert now.version == waiting.version + 1


async def test_unrelated_change__never_touches_a_session(pool) -> None:
    world = await small_world(pool)
    await world.add_booking("Late", party=2, start=EVENING + timedelta(hours=3))
    waiting = await propose(world, "Ben", "T1", "T4", user="a")  # PROPOSED (T4 not needed)
    assert waiting.status == "PROPOSED"
    # Other tables, and the same table at another time, in every flow:
    other = await propose(world, "Ada", "T2", user="b")
    await flows.confirm_assignment(pool, world.staff("b"), str(other.id), None, CONFIG)
    late = await propose(world, "Late", "T1", user="c")
    assert late.status == "HELD"
    await flows.cancel_assignment_session(pool, world.staff("c"), str(late.id), CONFIG)
    await flows.auto_assign(pool, world.staff("c"), str(world.bookings["Late"]), CONFIG)
    await flows.set_booking_status(
        pool, world.staff("c"), str(world.bookings["Late"]), "CANCELLED", None, CONFIG
    )
    after = await reads.assignment_session(pool, world.staff("a"), str(waiting.id))
    assert after is not None
    assert (after.version, after.updated_at) == (waiting.version, waiting.updated_at)


async def test_confirm__holds_become_the_assignment_and_the_booking_is_confirmed(pool) -> None:
    world = await small_world(pool)
    held = await propose(world, "Cy", "T2", "T3")
    done = await flows.confirm_assignment(pool, world.staff(), str(held.id), held.version, CONFIG)
    assert done.status == "CONFIRMED" and done.hold_expires_at is None
    assert done.booking.status == "CONFIRMED"
    assert [t.label for t in done.booking.tables] == ["T2", "T3"]
    rows = await world.live_allocations()
    assert [(r["label"], r["kind"], r["expires_at"]) for r in rows] == [
        ("T2", "ASSIGNMENT", None),
        ("T3", "ASSIGNMENT", None),
    ]
    with pytest.raises(SessionNotActive) as caught:
        await flows.confirm_assignment(pool, world.staff(), str(held.id), None, CONFIG)
    assert caught.value.status == "CONFIRMED"


async def test_confirm__stale_version_writes_nothing(pool) -> None:
    world = await small_world(pool)
    held = await propose(world, "Ada", "T2")
    again = await propose(world, "Ada", "T2")
    with pytest.raises(StaleVersion) as caught:
        await flows.confirm_assignment(pool, world.staff(), str(held.id), held.version, CONFIG)
    assert caught.value.current_version == again.version
    assert [r["kind"] for r in await world.live_allocations()] == ["HOLD"]


async def test_confirm__replaces_the_earlier_assignment_even_on_the_same_table(pool) -> None:
    world = await small_world(pool)
    first = await propose(world, "Cy", "T4")
    await flows.confirm_assignment(pool, world.staff(), str(first.id), None, CONFIG)
    # Re-assign the party of 4 to T2 + T3, then back onto T4 (a table it already has).
    moved = await propose(world, "Cy", "T2", "T3")
    assert moved.status == "HELD" and moved.id != first.id
    done = await flows.confirm_assignment(pool, world.staff(), str(moved.id), None, CONFIG)
    assert [t.label for t in done.booking.tables] == ["T2", "T3"]
    back = await propose(world, "Cy", "T4")
    done = await flows.confirm_assignment(pool, world.staff(), str(back.id), None, CONFIG)
    assert [t.label for t in done.booking.tables] == ["T4"]
    assert [(r["label"], r["kind"]) for r in await world.live_allocations()] == [
        ("T4", "ASSIGNMENT")
    ]


async def test_confirm__cancels_other_staff_sessions_for_the_booking(pool) -> None:
    world = await small_world(pool)
    mine = await propose(world, "Cy", "T4", user="a")
    theirs = await propose(world, "Cy", "T2", "T3", user="b")
    assert theirs.status == "HELD"
    await flows.confirm_assignment(pool, world.staff("a"), str(mine.id), None, CONFIG)
    other = await reads.assignment_session(pool, world.staff("b"), str(theirs.id))
    assert other is not None and other.status == "CANCELLED"
    assert [r["label"] for r in await world.live_allocations()] == ["T4"]


async def test_cancel__releases_the_hold_and_only_the_owner_or_an_admin_may(pool) -> None:
    world = await small_world(pool)
    held = await propose(world, "Ada", "T2", user="a")
    with pytest.raises(Forbidden):
        await flows.cancel_assignment_session(pool, world.staff("b"), str(held.id), CONFIG)
    with pytest.raises(Forbidden):
        await flows.confirm_assignment(pool, world.staff("b"), str(held.id), None, CONFIG)
    with pytest.raises(Forbidden):
        await reads.assignment_session(pool, world.staff("b"), str(held.id))
    cancelled = await flows.cancel_assignment_session(pool, world.admin, str(held.id), CONFIG)
    assert cancelled.status == "CANCELLED"
    assert await world.live_allocations() == []
    with pytest.raises(SessionNotActive):
        await flows.cancel_assignment_session(pool, world.staff("a"), str(held.id), CONFIG)
    fresh = await propose(world, "Ada", "T2", user="a")  # a new session after a closed one
    assert fresh.id != held.id and fresh.status == "HELD"


async def test_auto_assign__takes_the_best_free_tables(pool) -> None:
    world = await small_world(pool)
    await propose(world, "Ada", "T2", user="b")  # T2 held for Ada
    result = await flows.auto_assign(pool, world.staff(), str(world.bookings["Ben"]), CONFIG)
    # Ben (2) would fit T1 (1-2) exactly: the best candidate.
    assert [t.label for t in result.tables] == ["T1"]
    assert result.booking.status == "CONFIRMED" and result.booking.tables == result.tables
    suggestions = await reads.suggest_tables(pool, world.staff(), str(world.bookings["Cy"]), CONFIG)
    assert next([t.label for t in s.tables] for s in suggestions) == ["T4"]
    assert all("T2" not in [t.label for t in s.tables] or s.violations for s in suggestions)


async def test_auto_assign__no_tables_lists_why_the_best_failed(pool) -> None:
    from services.tables.errors import NoTablesAvailable

    world = await make_world(pool)
    await world.add_table("T1", 1, 2)
    await world.add_booking("Ada", party=2)
    await world.add_booking("Ben", party=2)
    await world.add_booking("Big", party=20)
    await flows.auto_assign(pool, world.staff(), str(world.bookings["Ada"]), CONFIG)
    with pytest.raises(NoTablesAvailable) as caught:
        await flows.auto_assign(pool, world.staff(), str(world.bookings["Ben"]), CONFIG)
    (why,) = caught.value.violations
    assert why.code == "TABLE_CONFLICT" and why.conflicting_booking_id == world.bookings["Ada"]
    with pytest.raises(NoTablesAvailable) as caught:
        await flows.auto_assign(pool, world.staff(), str(world.bookings["Big"]), CONFIG)
    assert [v.code for v in caught.value.violations] == ["CAPACITY_TOO_SMALL"]


async def test_set_booking_status__cancel_releases_tables_and_closes_sessions(pool) -> None:
    world = await small_world(pool)
    first = await propose(world, "Cy", "T4", user="a")
    await flows.confirm_assignment(pool, world.staff("a"), str(first.id), None, CONFIG)
    open_session = await propose(world, "Cy", "T2", "T3", user="b")
    waiting = await propose(world, "Ada", "T2", user="c")
    assert [v.code for v in waiting.violations] == ["TABLE_CONFLICT"]
    booking = await reads.booking(pool, world.staff(), str(world.bookings["Cy"]))
    assert booking is not None
    cancelled = await flows.set_booking_status(
        pool, world.staff(), str(booking.id), "CANCELLED", booking.version, CONFIG
    )
    assert cancelled.status == "CANCELLED" and cancelled.tables == ()
    assert await world.live_allocations() == []
    closed = await reads.assignment_session(pool, world.staff("b"), str(open_session.id))
    assert closed is not None and closed.status == "CANCELLED"
    cleared = await reads.assignment_session(pool, world.staff("c"), str(waiting.id))
    assert cleared is not None and cleared.violations == ()
    with pytest.raises(InvalidBookingTransition):
        await flows.set_booking_status(pool, world.staff(), str(booking.id), "SEATED", None, CONFIG)


async def test_set_booking_status__valid_moves_only_with_version_check(pool) -> None:
    world = await small_world(pool)
    bid = str(world.bookings["Ada"])
    seated = await flows.set_booking_status(pool, world.staff(), bid, "SEATED", None, CONFIG)
    with pytest.raises(StaleVersion):
        await flows.set_booking_status(
            pool, world.staff(), bid, "COMPLETED", seated.version - 1, CONFIG
        )
    done = await flows.set_booking_status(
        pool, world.staff(), bid, "COMPLETED", seated.version, CONFIG
    )
    assert done.status == "COMPLETED"
    with pytest.raises(InvalidBookingTransition) as caught:
        await flows.set_booking_status(pool, world.staff(), bid, "PENDING", None, CONFIG)
    assert "final" in caught.value.message
    refused = await flows.propose_tables(pool, world.staff(), bid, world.table_ids("T1"), CONFIG)
    assert [v.code for v in refused.violations] == ["BOOKING_NOT_ASSIGNABLE"]


async def test_confirm__a_hold_taken_by_a_table_conflict_is_reported(pool) -> None:
    """Rules that fail at confirm (here: the booking was cancelled) roll back and explain."""
    world = await small_world(pool)
    held = await propose(world, "Ada", "T2")
    async with __import__("db.pool").pool.tenant_transaction(pool, world.tenant) as conn:
        await conn.execute("update bookings set status = 'NO_SHOW' where id = $1", held.booking.id)
    with pytest.raises(TableConflict) as caught:
        await flows.confirm_assignment(pool, world.staff(), str(held.id), None, CONFIG)
    assert [v.code for v in caught.value.violations] == ["BOOKING_NOT_ASSIGNABLE"]
    assert [r["kind"] for r in await world.live_allocations()] == ["HOLD"]
