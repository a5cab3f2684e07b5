"""The hub and the subscription helper against real PostgreSQL notifications."""

from __future__ import annotations

import asyncio
import os
import uuid

import asyncpg
import psutil

from db.pool import tenant_transaction
from services.core.principal import Principal, Role
from services.realtime.hub import Change, Hub, PostgresListenBackend, Resync
from services.realtime.stream import Delta, Snapshot, live


async def test_slow_subscriber__memory_bounded_then_resync_snapshot(
    hub: Hub, pool: asyncpg.Pool
) -> None:
    tenant = uuid.uuid4()
    who = Principal("u", tenant, frozenset({Role.STAFF}))
    snapshots = 0

    async def snapshot() -> int:
        nonlocal snapshots
        snapshots += 1
        async with tenant_transaction(pool, tenant) as conn:
            count: int = await conn.fetchval("select count(*) from probe_items")
        return count

    async def read(change: Change) -> str:
        return change.kind

    stream = live(hub, who, f"probe:{tenant}", name="test", snapshot=snapshot, read=read)
    first = await anext(stream)
    assert isinstance(first, Snapshot) and first.data == 0
    # The subscriber now stops reading while 10,000 events are committed.
    rss_before = psutil.Process(os.getpid()).memory_info().rss
    for _ in range(10):
        async with tenant_transaction(pool, tenant) as conn:
            await conn.execute(
                "insert into probe_items (label) select 'x' || g from generate_series(1, 1000) g"
            )
    await asyncio.sleep(1.0)  # let every notification reach the hub
    queued = max(len(s) for subs in hub._topics.values() for s in subs)
    assert queued <= 64  # the hub's queue bound, not 10,000
    rss_after = psutil.Process(os.getpid()).memory_info().rss
    assert rss_after - rss_before < 50 * 1024 * 1024
    # Reading again: the next event is a fresh snapshot marked resync, with everything in it.
    again = await anext(stream)
    assert isinstance(again, Snapshot) and again.resync and again.data == 10_000
    assert again.sequence == first.sequence + 1
    async with tenant_transaction(pool, tenant) as conn:
        await conn.execute("insert into probe_items (label) values ('later')")
    later = await asyncio.wait_for(anext(stream), 5)
    assert (
        isinstance(later, Delta) and later.data == "insert" and later.sequence == again.sequence + 1
    )
    await stream.aclose()
    assert hub.subscriber_count(f"probe:{tenant}") == 0


async def test_listen__many_subscribers_on_a_new_topic_at_once_all_receive(
    hub: Hub, pool: asyncpg.Pool
) -> None:
    tenant = uuid.uuid4()
    received: list[Change] = []
    ready = asyncio.Barrier(201)

    async def one() -> None:
        async with hub.listen(f"probe:{tenant}") as sub:
            await ready.wait()
            item = await asyncio.wait_for(sub.get(), 5)
            assert isinstance(item, Change)
            received.append(item)

    tasks = [asyncio.create_task(one()) for _ in range(200)]
    await ready.wait()
    async with tenant_transaction(pool, tenant) as conn:
        await conn.execute("insert into probe_items (label) values ('all')")
    await asyncio.gather(*tasks)
    assert len(received) == 200 and {c.kind for c in received} == {"insert"}
    assert all(c.tenant == tenant for c in received)


async def test_shared__runs_one_load_for_many_callers_and_forgets_failures(hub: Hub) -> None:
    calls = 0

    async def load() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return 7

    results = await asyncio.gather(*(hub.shared("k", load) for _ in range(100)))
    assert results == [7] * 100 and calls == 1

    async def failing() -> int:
        raise ValueError("boom")

    for _ in range(2):
        try:
            await hub.shared("bad", failing)
        except ValueError:
            pass
    assert "bad" not in hub._memo


async def test_resync_marker__replaces_queue_on_overflow() -> None:
    from services.realtime.hub import Subscriber

    sub = Subscriber(maxsize=3)
    for i in range(10):
        sub.push(Change("t", "k", None, i, None))
    assert len(sub) <= 3
    items = [await sub.get() for _ in range(len(sub))]
    assert any(isinstance(i, Resync) for i in items)
    assert items[-1] == Change("t", "k", None, 9, None) or isinstance(items[0], Resync)


async def test_subscriber__keeps_order_and_wakes_a_waiting_reader() -> None:
    from services.realtime.hub import Subscriber

    sub = Subscriber(maxsize=8)
    for i in range(3):
        sub.push(Change("t", "k", None, i, None))
    assert len(sub) == 3
    assert [(await sub.get()).version for _ in range(2)] == [0, 1]  # type: ignore[union-attr]
    sub.push(Change("t", "k", None, 3, None))
    assert [(await sub.get()).version for _ in range(2)] == [2, 3]  # type: ignore[union-attr]
    assert len(sub) == 0
    waiting = asyncio.create_task(sub.get())
    await asyncio.sleep(0)
    assert not waiting.done()
    sub.push(Change("t", "k", None, 4, None))
    assert (await asyncio.wait_for(waiting, 1)) == Change("t", "k", None, 4, None)
    cancelled = asyncio.create_task(sub.get())
    await asyncio.sleep(0)
    cancelled.cancel()
    sub.push(Resync("reconnect"))  # a cancelled reader loses nothing
    assert isinstance(await asyncio.wait_for(sub.get(), 1), Resync)


async def test_prepare__runs_once_per_change_before_any_subscriber_sees_it(
    hub: Hub, pool: asyncpg.Pool
) -> None:
    """The topic's prepare step (a shared read, say) runs once per change for all its
    subscribers, and a subscriber gets the change only once it is prepared."""
    tenant = uuid.uuid4()
    topic = f"probe:{tenant}"
    prepared: list[int | None] = []

    async def prepare(change: Change) -> None:
        await asyncio.sleep(0.05)
        prepared.append(change.version)

    async def one() -> list[int | None]:
        async with hub.listen(topic, prepare=prepare) as sub:
            await ready.wait()
            seen = []
            for _ in range(3):
                item = await asyncio.wait_for(sub.get(), 5)
                assert isinstance(item, Change)
                assert item.version in prepared  # prepared before it arrived
                seen.append(item.version)
            return seen

    ready = asyncio.Barrier(51)
    tasks = [asyncio.create_task(one()) for _ in range(50)]
    await ready.wait()
    async with tenant_transaction(pool, tenant) as conn:
        item = await conn.fetchval("insert into probe_items (label) values ('a') returning id")
    for _ in range(2):
        async with tenant_transaction(pool, tenant) as conn:
            await conn.execute("update probe_items set version = version + 1 where id = $1", item)
    results = await asyncio.gather(*tasks)
    assert prepared == [1, 2, 3]  # once per change, not once per subscriber
    assert results == [[1, 2, 3]] * 50
    assert hub._prepare == {} and hub._pending == {}  # nothing kept once the topic is empty


async def test_prepare__keeps_commit_order_when_an_earlier_change_prepares_slower(
    hub: Hub, pool: asyncpg.Pool
) -> None:
    tenant = uuid.uuid4()
    slow_first = {1: 0.3, 2: 0.0, 3: 0.1}

    async def prepare(change: Change) -> None:
        await asyncio.sleep(slow_first[change.version or 0])

    async with hub.listen(f"probe:{tenant}", prepare=prepare) as sub:
        async with tenant_transaction(pool, tenant) as conn:
            item = await conn.fetchval("insert into probe_items (label) values ('a') returning id")
        for _ in range(2):
            async with tenant_transaction(pool, tenant) as conn:
                await conn.execute(
                    "update probe_items set version = version + 1 where id = $1", item
                )
        versions = []
        for _ in range(3):
            change = await asyncio.wait_for(sub.get(), 5)
            assert isinstance(change, Change)
            versions.append(change.version)
    assert versions == [1, 2, 3]


async def test_prepare__a_failing_step_still_delivers_the_change(
    hub: Hub, pool: asyncpg.Pool
) -> None:
    """Subscribers then do the work themselves (hub.shared retries a failed load)."""
    tenant = uuid.uuid4()

    async def prepare(change: Change) -> None:
        raise RuntimeError("the database hiccuped")

    async with hub.listen(f"probe:{tenant}", prepare=prepare) as sub:
        async with tenant_transaction(pool, tenant) as conn:
            await conn.execute("insert into probe_items (label) values ('a')")
        change = await asyncio.wait_for(sub.get(), 5)
    assert isinstance(change, Change) and change.kind == "insert"


async def test_prepare__a_flood_is_not_prepared_change_by_change(
    pool: asyncpg.Pool, dsn: str
) -> None:
    """More changes waiting than a subscriber may queue go through unprepared: the
    subscriber overflows and resyncs, as it would have anyway."""
    tenant = uuid.uuid4()
    hub = Hub(PostgresListenBackend(dsn), queue_size=8)
    await hub.connect()
    prepared = 0
    gate = asyncio.Event()

    async def prepare(change: Change) -> None:
        nonlocal prepared
        prepared += 1
        await gate.wait()

    try:
        async with hub.listen(f"probe:{tenant}", prepare=prepare) as sub:
            async with tenant_transaction(pool, tenant) as conn:
                await conn.execute(
                    "insert into probe_items (label) select 'x' || g from generate_series(1, 200) g"
                )
            for _ in range(100):
                if hub._backlog.get(f"probe:{tenant}") == 200:
                    break
                await asyncio.sleep(0.02)
            gate.set()
            for _ in range(100):
                if not hub._backlog:
                    break
                await asyncio.sleep(0.02)
            first = await asyncio.wait_for(sub.get(), 5)
            assert isinstance(first, Resync)  # the queue overflowed: take a fresh snapshot
        assert prepared <= 8 + 1
    finally:
        await hub.close()


async def test_change_committed_just_before_subscribing__is_in_the_snapshot_not_a_delta(
    hub: Hub, pool: asyncpg.Pool
) -> None:
    """A change whose notification is still on its way when a subscription starts is in its
    snapshot (read after the hub has everything committed before it), and is not sent again
    as a delta that would show it as it was: the first delta is the next change."""
    tenant = uuid.uuid4()
    who = Principal("u", tenant, frozenset({Role.STAFF}))

    async def snapshot() -> list[str]:
        async with tenant_transaction(pool, tenant) as conn:
            return [r["label"] for r in await conn.fetch("select label from probe_items")]

    async def read(change: Change) -> str:
        rows = await hub.rows(change, "probe_items", "id", change.id)
        return str(rows[0]["label"])

    for i in range(5):
        async with tenant_transaction(pool, tenant) as conn:
            await conn.execute("insert into probe_items (label) values ($1)", f"before {i}")
        stream = live(hub, who, f"probe:{tenant}", name="test", snapshot=snapshot, read=read)
        first = await anext(stream)
        assert isinstance(first, Snapshot) and f"before {i}" in first.data
        async with tenant_transaction(pool, tenant) as conn:
            await conn.execute("insert into probe_items (label) values ($1)", f"after {i}")
        delta = await asyncio.wait_for(anext(stream), 5)
        await stream.aclose()
        assert isinstance(delta, Delta) and delta.data == f"after {i}"
        async with tenant_transaction(pool, tenant) as conn:
            await conn.execute("delete from probe_items")
