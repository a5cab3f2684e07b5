"""Notifications carry the changed rows (db/migrations/0011_notify_rows.sql): what they carry
is what a read of the area's view returns, a payload too large for NOTIFY goes without them,
and a session with allot.notify_rows=off sends IDs only; either way a subscriber gets the
same event."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from prometheus_client import REGISTRY

from db.listener import CHANNEL
from db.pool import create_pool, tenant_transaction, with_server_setting
from services.core.principal import Principal, Role
from services.poems.live import game_events
from services.realtime.hub import Change, Hub
from services.realtime.stream import Delta, Snapshot, live
from services.tables import flows as tables
from services.tables.model import ALLOCATION_EVENTS
from tests.integration.test_poems_games import play_round, started
from tests.integration.test_tables_setup import CONFIG, make_world

# Which view a change's rows come from, and by which column and value (as the areas read them).
VIEWS = {
    "allocation": ("tables_allocation_views", "allocation_id"),
    "BOOKING_CHANGED": ("tables_booking_views", "booking_id"),
    "TABLE_CHANGED": ("tables_table_views", "id"),
}


def _view_of(change: Change) -> tuple[str, str, object]:
    if change.topic.startswith("poems.game:"):
        return "poems_game_views", "id", uuid.UUID(change.topic.split(":", 1)[1])
    view, key = VIEWS["allocation" if change.kind in ALLOCATION_EVENTS else change.kind]
    return view, key, change.id


@asynccontextmanager
async def notifications(dsn: str) -> AsyncIterator[list[str]]:
    """Every payload sent on the events channel while the block runs."""
    got: list[str] = []
    conn = await asyncpg.connect(dsn)
    await conn.add_listener(CHANNEL, lambda *args: got.append(args[3]))
    try:
        yield got
        await asyncio.sleep(0.3)  # the last notifications of the block
    finally:
        await conn.close()


async def test_carried_rows__are_what_a_read_of_the_view_returns(
    dsn: str, pool: asyncpg.Pool, hub: Hub
) -> None:
    async with notifications(dsn) as got:
        world = await make_world(pool)
        await world.add_table("T1", 1, 4)
        await world.add_table("T2", 1, 4)
        await world.add_booking("Ada", party=4)
        session = await tables.propose_tables(
            pool, world.staff(), str(world.bookings["Ada"]), world.table_ids("T1"), CONFIG
        )
        await tables.confirm_assignment(pool, world.staff(), str(session.id), None, CONFIG)
        game_id, people = await started(pool, uuid.uuid4(), 3)
        await play_round(pool, game_id, people)
    last: dict[tuple[str, object], Change] = {}  # what each view row was last notified as
    for payload in got:
        change = Change.parse(payload)
        if change.topic.startswith(("tables.floor:", "poems.game:")):
            assert change.rows, payload  # every one of them fits
            view, key, value = _view_of(change)
            last[view, value] = change
    assert {view for view, _ in last} == {
        "tables_allocation_views",
        "tables_booking_views",
        "tables_table_views",
        "poems_game_views",
    }
    for change in last.values():
        view, key, value = _view_of(change)
        carried = await hub.rows(change, view, key, value)
        read = await hub.rows(dataclasses.replace(change, rows=None), view, key, value)
        assert [dict(r) for r in carried] == [dict(r) for r in read], view


async def test_rows_are_those_committed__a_round_s_last_line_carries_the_next_round(
    dsn: str, pool: asyncpg.Pool
) -> None:
    """The triggers run at commit: a line's notification carries the game as its transaction
    left it (the round advanced by its last line), not as it was when the line was inserted."""
    game_id, people = await started(pool, uuid.uuid4(), 2)
    async with notifications(dsn) as got:
        await play_round(pool, game_id, people)
    lines = [Change.parse(p) for p in got if '"LINE_SUBMITTED"' in p]
    assert [c.rows[0]["round"] for c in lines if c.rows] == [0, 1]
    assert [c.rows[0]["version"] for c in lines if c.rows] == [c.version for c in lines]


def _reads() -> float:
    """Statements the hubs of this process have run to read changed rows back."""
    return REGISTRY.get_sample_value("allot_realtime_reads_total") or 0.0


async def _probe_delta(hub: Hub, pool: asyncpg.Pool, label: str) -> tuple[Change, str, float]:
    """Insert a probe item labelled `label`; the change a subscriber got, the label it read
    and how many statements the hub ran to read it back."""
    tenant = uuid.uuid4()
    who = Principal("u", tenant, frozenset({Role.STAFF}))

    async def snapshot() -> None:
        return None

    async def read(change: Change) -> tuple[Change, str]:
        rows = await hub.rows(change, "probe_items", "id", change.id)
        return change, rows[0]["label"]

    stream = live(hub, who, f"probe:{tenant}", name="test", snapshot=snapshot, read=read)
    try:
        assert isinstance(await anext(stream), Snapshot)
        before = _reads()
        async with tenant_transaction(pool, tenant) as conn:
            await conn.execute("insert into probe_items (label) values ($1)", label)
        delta = await asyncio.wait_for(anext(stream), 5)
        assert isinstance(delta, Delta)
        change, got = delta.data
        return change, got, _reads() - before
    finally:
        await stream.aclose()


async def test_a_change_too_large_for_a_notification__goes_without_rows_and_is_read(
    hub: Hub, pool: asyncpg.Pool
) -> None:
    small, label, reads = await _probe_delta(hub, pool, "small")
    assert small.rows is not None and label == "small" and reads == 0
    long = "x" * 9000  # with it, the payload would pass NOTIFY's 8000 bytes
    large, label, reads = await _probe_delta(hub, pool, long)
    assert large.rows is None and label == long and reads == 1


async def test_sessions_with_notify_rows_off__send_ids_only_and_are_read(
    dsn: str, hub: Hub
) -> None:
    quiet = await create_pool(with_server_setting(dsn, "allot.notify_rows", "off"))
    try:
        change, label, reads = await _probe_delta(hub, quiet, "read back")
    finally:
        await quiet.close()
    assert change.rows is None and label == "read back" and reads == 1


async def test_game_events__same_events_whether_rows_are_carried_or_read(
    dsn: str, pool: asyncpg.Pool, hub: Hub
) -> None:
    """A player's gameEvents through a round: the same deltas with carried rows as with rows
    read back (a server whose sessions have allot.notify_rows=off)."""
    seen = []
    quiet = await create_pool(with_server_setting(dsn, "allot.notify_rows", "off"))
    try:
        for writer in (pool, quiet):
            game_id, people = await started(writer, uuid.uuid4(), 3)
            stream = game_events(pool, hub, people[1], game_id)
            assert isinstance(await anext(stream), Snapshot)
            await play_round(writer, game_id, people)
            deltas = [await asyncio.wait_for(anext(stream), 5) for _ in range(4)]
            await stream.aclose()
            seen.append(
                [
                    (d.change.kind, d.data.game.round, d.data.game.version, d.change.rows is None)
                    for d in deltas
                    if isinstance(d, Delta)
                ]
            )
    finally:
        await quiet.close()
    carried, read = seen
    kinds = ["LINE_SUBMITTED"] * 3 + ["ROUND_ADVANCED"]
    assert [c[0] for c in carried] == [r[0] for r in read] == kinds
    # Carried: each event shows the game as its own transaction committed it; the last line's
    # transaction advanced the round, so its LINE_SUBMITTED and ROUND_ADVANCED show round 1.
    assert [c[1] for c in carried] == [0, 0, 1, 1]
    versions = [c[2] for c in carried]
    assert versions[0] < versions[1] < versions[2] == versions[3]
    # Read back: each event shows the game as it was when read, never older than its change.
    assert [r[2] for r in read] == sorted(r[2] for r in read) and read[-1][1:3] == (1, versions[3])
    assert not any(c[3] for c in carried) and all(r[3] for r in read)
