"""optimizeFloor and setBookingPinned on real Postgres: preview, apply, pins, others' holds,
a floor that changes under the plan, events, and who may call them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import pytest

from services.core.principal import Role
from services.errors import Forbidden, InvalidInput, NotFound
from services.realtime.stream import Delta, Snapshot
from services.tables import flows, live, optimize
from services.tables.errors import FloorChanged
from services.tables.model import BookingStatus, FloorPlanView
from tests.integration.test_tables_setup import CONFIG, EVENING, World, make_world, principal

WINDOW = (EVENING - timedelta(hours=2), EVENING + timedelta(hours=6))


async def world_with_a_bad_evening(pool) -> World:
    """Ada (2) sits at the only 4-top; Ben (4) has no table; a 2-top is free."""
    world = await make_world(pool)
    await world.add_table("T2", 1, 2)
    await world.add_table("T4", 2, 4)
    await world.add_booking("Ada", party=2)
    await world.add_booking("Ben", party=4)
    await assign(world, "Ada", "T4")
    return world


async def assign(world: World, booking: str, *labels: str, user: str = "staff-1") -> None:
    held = await flows.propose_tables(
        world.pool,
        world.staff(user),
        str(world.bookings[booking]),
        world.table_ids(*labels),
        CONFIG,
    )
    assert held.status == "HELD", held
    await flows.confirm_assignment(world.pool, world.staff(user), str(held.id), None, CONFIG)


async def run(world: World, apply: bool, who: Any = None) -> FloorPlanView:
    return await flows.optimize_floor(
        world.pool,
        who or world.staff(),
        str(world.restaurant_id),
        WINDOW[0],
        WINDOW[1],
        apply,
        CONFIG,
    )


async def tables_of(world: World) -> dict[str, list[str]]:
    rows = await world.fetch(
        "select b.guest_name, t.label from allocations a"
        " join bookings b on b.id = a.booking_id join dining_tables t on t.id = a.table_id"
        " where a.released_at is null and a.kind = 'ASSIGNMENT' order by b.guest_name, t.label"
    )
    out: dict[str, list[str]] = {}
    for r in rows:
        out.setdefault(r["guest_name"], []).append(r["label"])
    return out


def labels(tables: Iterable[Any]) -> list[str]:
    return [t.label for t in tables]


async def test_optimize_floor__preview_moves_a_party_to_seat_another_and_writes_nothing(
    pool,
) -> None:
    world = await world_with_a_bad_evening(pool)
    preview = await run(world, apply=False)
    assert not preview.applied and preview.proven_optimal
    assert [
        (m.booking.guest_name, labels(m.from_tables), labels(m.to_tables)) for m in preview.moves
    ] == [("Ada", ["T4"], ["T2"])]
    assert [b.guest_name for b in preview.newly_seated] == ["Ben"]
    assert (preview.covers_before, preview.covers_after) == (2, 6)
    assert (preview.empty_seats_before, preview.empty_seats_after) == (2, 0)
    assert await tables_of(world) == {"Ada": ["T4"]}


async def test_optimize_floor__apply_writes_the_plan_in_one_burst_of_floor_events(
    pool, hub
) -> None:
    world = await world_with_a_bad_evening(pool)
    events = live.floor_events(
        pool, hub, world.staff(), str(world.restaurant_id), WINDOW[0], WINDOW[1]
    )
    snapshot = await anext(events)
    assert isinstance(snapshot, Snapshot)
    applied = await run(world, apply=True)
    assert applied.applied and applied.covers_after == 6
    assert await tables_of(world) == {"Ada": ["T2"], "Ben": ["T4"]}
    ben = applied.newly_seated[0]
    assert ben.status == BookingStatus.CONFIRMED and labels(ben.tables) == ["T4"]
    assert labels(applied.moves[0].booking.tables) == ["T2"]

    seen: list[tuple[str, str | None]] = []
    while len([e for e in seen if e[0] == "ASSIGNED"]) < 2:
        event = await asyncio.wait_for(anext(events), 5)
        assert isinstance(event, Delta)
        change = event.data
        who = change.booking.guest_name if change.booking else None
        table = change.allocation.table.label if change.allocation else None
        seen.append((change.kind.value, table or who))
    # Ada's old table is released before anything is taken, then the new tables.
    assert seen[0] == ("UNASSIGNED", "T4")
    assert ("ASSIGNED", "T2") in seen and ("ASSIGNED", "T4") in seen
    assert seen.index(("UNASSIGNED", "T4")) < seen.index(("ASSIGNED", "T4"))
    await events.aclose()

    again = await run(world, apply=True)  # nothing left to gain
    assert again.moves == () and again.newly_seated == () and again.covers_after == 6


async def test_optimize_floor__never_moves_a_pinned_or_seated_booking(pool) -> None:
    world = await world_with_a_bad_evening(pool)
    pinned = await flows.set_booking_pinned(pool, world.staff(), str(world.bookings["Ada"]), True)
    assert pinned.pinned and pinned.stays
    plan = await run(world, apply=True)
    assert plan.moves == () and plan.newly_seated == () and plan.covers_after == 2
    assert await tables_of(world) == {"Ada": ["T4"]}

    await flows.set_booking_pinned(pool, world.staff(), str(world.bookings["Ada"]), False)
    await flows.set_booking_status(
        pool, world.staff(), str(world.bookings["Ada"]), "SEATED", None, CONFIG
    )
    seated = await run(world, apply=True)
    assert seated.moves == () and await tables_of(world) == {"Ada": ["T4"]}


async def test_optimize_floor__keeps_off_other_staffs_live_holds(pool) -> None:
    world = await world_with_a_bad_evening(pool)
    await world.add_booking("Cy", party=2)
    held = await flows.propose_tables(
        pool, world.staff("staff-2"), str(world.bookings["Cy"]), world.table_ids("T2"), CONFIG
    )
    assert held.status == "HELD"
    # T2 is held for Cy: Ada cannot move there, so the most covers are Ben's 4 at T4.
    plan = await run(world, apply=True)
    assert [(m.booking.guest_name, labels(m.to_tables)) for m in plan.moves] == [("Ada", [])]
    assert [b.guest_name for b in plan.newly_seated] == ["Ben"]
    assert await tables_of(world) == {"Ben": ["T4"]}
    holds = await world.live_allocations()
    assert [(h["label"], h["kind"]) for h in holds if h["kind"] == "HOLD"] == [("T2", "HOLD")]


async def test_optimize_floor__a_pinned_booking_keeps_its_tables_over_more_covers(pool) -> None:
    world = await make_world(pool)
    await world.add_table("T4", 2, 4)
    await world.add_booking("Ada", party=2)
    await world.add_booking("Ben", party=4)
    await assign(world, "Ada", "T4")
    preview = await run(world, apply=False)  # Ben's 4 covers beat Ada's 2
    assert [(m.booking.guest_name, labels(m.to_tables)) for m in preview.moves] == [("Ada", [])]
    await flows.set_booking_pinned(pool, world.staff(), str(world.bookings["Ada"]), True)
    plan = await run(world, apply=True)
    assert plan.moves == () and plan.newly_seated == ()
    assert await tables_of(world) == {"Ada": ["T4"]}


async def test_optimize_floor__a_floor_changed_meanwhile_writes_nothing(pool, monkeypatch) -> None:
    world = await world_with_a_bad_evening(pool)
    await world.add_booking("Cy", party=2)
    loop = asyncio.get_running_loop()

    def optimize_then_someone_holds_t2(*args: Any, **kwargs: Any) -> optimize.EveningPlan:
        decided = optimize.optimize(*args, **kwargs)
        # While the plan was being made, another member of staff held T2 for Cy.
        asyncio.run_coroutine_threadsafe(
            flows.propose_tables(
                pool,
                world.staff("staff-2"),
                str(world.bookings["Cy"]),
                world.table_ids("T2"),
                CONFIG,
            ),
            loop,
        ).result()
        return decided

    monkeypatch.setattr(flows, "optimize", optimize_then_someone_holds_t2)
    with pytest.raises(FloorChanged, match="changed"):
        await run(world, apply=True)
    assert await tables_of(world) == {"Ada": ["T4"]}
    held = await world.fetch(
        "select count(*) from allocations where kind = 'HOLD' and released_at is null"
    )
    assert held[0]["count"] == 1


async def test_optimize_floor__rights_window_and_restaurant(pool) -> None:
    world = await world_with_a_bad_evening(pool)
    player = principal(world.tenant, "p", Role.PLAYER)
    with pytest.raises(Forbidden):
        await run(world, apply=False, who=player)
    with pytest.raises(InvalidInput) as bad:
        await flows.optimize_floor(
            pool, world.staff(), str(world.restaurant_id), WINDOW[1], WINDOW[0], False, CONFIG
        )
    assert {p.field for p in bad.value.fields} >= {"to"}
    with pytest.raises(NotFound):
        other = await make_world(pool)
        await flows.optimize_floor(
            pool, other.staff(), str(world.restaurant_id), WINDOW[0], WINDOW[1], False, CONFIG
        )
    with pytest.raises(NotFound):
        await flows.set_booking_pinned(
            pool, (await make_world(pool)).staff(), str(world.bookings["Ada"]), True
        )
