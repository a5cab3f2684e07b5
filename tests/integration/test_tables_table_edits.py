"""Editing a table (updateDiningTable): only the given fields change, a table out of service is
offered no more, the proposals on it are validated again and their owners hear of it, the floor
sees the table change, and bad input names its field and writes nothing."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest

from services.errors import Forbidden, InvalidInput, NotFound, StaleVersion
from services.realtime.stream import Delta, Snapshot
from services.tables import flows, live, reads, setup
from services.tables.errors import NoTablesAvailable, TableConflict
from services.tables.model import TableEdit
from tests.integration.test_tables_sessions import propose, small_world
from tests.integration.test_tables_setup import CONFIG, EVENING, World, fields, make_world


async def edit(world: World, table: str, expected_version: int | None = None, **changes: Any):
    return await setup.update_dining_table(
        world.pool,
        world.admin,
        str(world.tables[table]),
        TableEdit(**changes),
        expected_version,
        CONFIG,
    )


async def table_row(world: World, label: str):
    (row,) = await world.fetch("select * from dining_tables where id = $1", world.tables[label])
    return row


async def test_update__changes_only_the_given_fields_and_moves_the_version(pool) -> None:
    world = await small_world(pool)
    before = await table_row(world, "T2")
    edited = await edit(world, "T2", label="  Window  2 ", max_capacity=5)
    assert (edited.label, edited.zone, edited.min_capacity, edited.max_capacity) == (
        "Window 2",
        "Main",
        2,
        5,
    )
    assert edited.active and edited.version == before["version"] + 1
    restaurant = await reads.restaurant(pool, world.staff(), str(world.restaurant_id))
    assert restaurant is not None
    assert [(t.label, t.max_capacity) for t in restaurant.tables if t.id == edited.id] == [
        ("Window 2", 5)
    ]
    same = await edit(world, "T2", zone="Main", active=True)  # nothing to change
    assert same.version == edited.version


async def test_update__a_table_out_of_service_is_offered_no_more_until_it_is_back(pool) -> None:
    world = await small_world(pool)
    await edit(world, "T4", active=False)
    session = await propose(world, "Cy", "T4")
    assert session.status == "PROPOSED"
    assert [v.code for v in session.violations] == ["TABLE_INACTIVE"]
    assert await world.live_allocations() == []
    suggested = await reads.suggest_tables(pool, world.staff(), str(world.bookings["Cy"]), CONFIG)
    assert all(world.tables["T4"] not in {t.id for t in s.tables} for s in suggested)
    for label in ("T2", "T3"):  # combined with T1 or each other, they would seat six too
        await edit(world, label, active=False)
    with pytest.raises(NoTablesAvailable):
        await flows.auto_assign(pool, world.staff(), str(world.bookings["Cy"]), CONFIG)

    await edit(world, "T4", active=True)
    assert (await propose(world, "Cy", "T4")).status == "HELD"


async def test_update__proposals_on_the_table_are_validated_again_and_told(pool, hub) -> None:
    world = await small_world(pool)
    small = await propose(world, "Cy", "T2", user="a")  # T2 seats 4, Cy is 6
    assert [v.code for v in small.violations] == ["CAPACITY_TOO_SMALL"]
    elsewhere = await propose(world, "Ben", "T1", "T2", "T3", user="b")  # not T4
    assert elsewhere.status == "PROPOSED"

    events = live.session_events(pool, hub, world.staff("a"), str(small.id))
    assert isinstance(await anext(events), Snapshot)
    await edit(world, "T2", max_capacity=6)
    update = await asyncio.wait_for(anext(events), 5)
    assert isinstance(update, Delta)
    assert update.data.status == "PROPOSED" and update.data.violations == ()
    assert update.data.version == small.version + 1

    await edit(world, "T2", active=False)
    update = await asyncio.wait_for(anext(events), 5)
    await events.aclose()
    assert isinstance(update, Delta)
    assert [v.code for v in update.data.violations] == ["TABLE_INACTIVE"]
    assert update.data.violations[0].table_ids == (world.tables["T2"],)

    # Ben's proposal includes T2 too; one that does not is left alone.
    ben = await reads.assignment_session(pool, world.staff("b"), str(elsewhere.id))
    assert ben is not None and "TABLE_INACTIVE" in {v.code for v in ben.violations}
    await edit(world, "T4", zone="Terrace")
    again = await reads.assignment_session(pool, world.staff("b"), str(elsewhere.id))
    assert again is not None and again.version == ben.version


async def test_update__holds_and_assignments_stay_and_confirm_checks_again(pool) -> None:
    world = await small_world(pool)
    held = await propose(world, "Ada", "T2")
    assert held.status == "HELD"
    await edit(world, "T2", active=False)
    assert [h["label"] for h in await world.live_allocations()] == ["T2"]
    with pytest.raises(TableConflict) as caught:
        await flows.confirm_assignment(pool, world.staff(), str(held.id), None, CONFIG)
    assert [v.code for v in caught.value.violations] == ["TABLE_INACTIVE"]
    assert [h["kind"] for h in await world.live_allocations()] == ["HOLD"]


async def test_update__the_floor_sees_tables_added_and_edited(pool, hub) -> None:
    world = await small_world(pool)
    floor = live.floor_events(
        pool,
        hub,
        world.staff("watcher"),
        str(world.restaurant_id),
        EVENING,
        EVENING + timedelta(hours=4),
    )
    assert isinstance(await anext(floor), Snapshot)
    edited = await edit(world, "T3", active=False)
    added = await world.add_table("T9", 2, 2, zone="Bar")
    # What small_world wrote just before may still be on its way too (a change committed
    # before the subscription can reach it after its snapshot): read up to T9's.
    seen: dict[uuid.UUID, tuple[bool, int]] = {}
    while added not in seen:
        change = await asyncio.wait_for(anext(floor), 5)
        assert isinstance(change, Delta)
        if change.data.table is None:
            continue  # one of small_world's bookings
        seen[change.data.table.id] = (change.data.table.active, change.data.table.version)
    await floor.aclose()
    assert seen[edited.id] == (False, edited.version) and seen[added] == (True, 1)


@pytest.mark.parametrize(
    ("changes", "bad"),
    [
        ({"label": "  "}, {"label"}),
        ({"label": "x" * 41, "zone": ""}, {"label", "zone"}),
        ({"min_capacity": 0, "max_capacity": 51}, {"minCapacity", "maxCapacity"}),
        ({"min_capacity": 5}, {"minCapacity"}),  # T2 seats at most 4
        ({"min_capacity": 3, "max_capacity": 2}, {"maxCapacity"}),
        ({"label": "T3"}, {"label"}),  # taken in this restaurant
    ],
)
async def test_update__bad_input_names_the_field_and_writes_nothing(
    pool, changes: dict[str, Any], bad: set[str]
) -> None:
    world = await small_world(pool)
    before = await table_row(world, "T2")
    with pytest.raises(InvalidInput) as caught:
        await edit(world, "T2", **changes)
    assert fields(caught.value) == bad
    assert await table_row(world, "T2") == before


async def test_update__stale_version_and_roles_write_nothing(pool) -> None:
    world = await small_world(pool)
    before = await table_row(world, "T2")
    with pytest.raises(StaleVersion) as caught:
        await edit(world, "T2", before["version"] + 1, active=False)
    assert caught.value.current_version == before["version"]
    with pytest.raises(Forbidden):
        await setup.update_dining_table(
            pool, world.staff(), str(world.tables["T2"]), TableEdit(active=False), None, CONFIG
        )
    stranger = await make_world(pool)  # another tenant's admin
    for table_id in (str(world.tables["T2"]), str(uuid.uuid4()), "not-an-id"):
        with pytest.raises(NotFound):
            await setup.update_dining_table(
                pool, stranger.admin, table_id, TableEdit(active=False), None, CONFIG
            )
    assert await table_row(world, "T2") == before
    assert (await edit(world, "T2", before["version"], active=False)).active is False


async def toggle_hold(world: World) -> None:
    """The holder releases T1 and takes it again, four times."""
    for k in range(8):
        await propose(world, "Holder", *(("T1",) if k % 2 else ()), user="h")


async def take_out_of_service(world: World, table: str, after: float) -> None:
    await asyncio.sleep(after)
    await edit(world, table, active=False)


async def test_update__racing_flows_never_leave_a_proposal_validated_on_the_old_table(
    pool,
) -> None:
    """While the admin takes T1 out of service, the holder of T1 keeps placing and releasing
    its hold (each such flow re-validates the waiting proposals on T1) and other staff propose
    T1 for the first time. Whatever the interleaving, every proposal on T1 ends validated on
    the table as it is now: TABLE_INACTIVE, and TABLE_CONFLICT exactly when another booking
    has T1 at the end."""
    for attempt in range(5):
        world = await make_world(pool)
        await world.add_table("T1", 1, 4)
        for name in ["Holder"] + [f"W{i}" for i in range(4)] + [f"N{i}" for i in range(4)]:
            await world.add_booking(name)
        assert (await propose(world, "Holder", "T1", user="h")).status == "HELD"
        for i in range(4):
            assert (await propose(world, f"W{i}", "T1", user=f"w{i}")).status == "PROPOSED"

        await asyncio.gather(
            toggle_hold(world),
            take_out_of_service(world, "T1", after=0.002 * attempt),
            toggle_hold(world),
            *(propose(world, f"N{i}", "T1", user=f"n{i}") for i in range(4)),
        )
        taken_by = {a["booking_id"] for a in await world.live_allocations()}
        proposals = await world.fetch(
            "select s.booking_id, s.violations from manual_assignment_sessions s"
            " where s.status = 'PROPOSED' and $1 = any(s.proposed_table_ids)",
            world.tables["T1"],
        )
        assert len(proposals) >= 4
        for p in proposals:
            conflict = {"TABLE_CONFLICT"} if taken_by - {p["booking_id"]} else set()
            assert {v["code"] for v in p["violations"]} == {"TABLE_INACTIVE"} | conflict, attempt
