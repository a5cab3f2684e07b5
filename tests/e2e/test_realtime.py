"""The realtime path end to end: triggers -> NOTIFY -> hub -> real websocket subscribers."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import asyncpg
import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from db.pool import tenant_transaction, with_server_setting
from tests.support.gql import GraphQLHttp, subscribe, websocket
from tests.support.server import (
    RunningServer,
    running_state,
    serve_in_process,
    serve_subprocess,
    test_settings,
)

PROBE = (
    "subscription { probeEvents { kind sequence resync items { label } item { label version } } }"
)
ADD = "mutation($l: String!) { probeAdd(label: $l) { id } }"


async def _add(server: RunningServer, token: str, label: str) -> None:
    client = GraphQLHttp(server.base_url, token)
    await client.data(ADD, {"l": label})
    await client.close()


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
async def test_committed_change__reaches_a_websocket_subscriber(
    server: RunningServer, token, protocol: str
) -> None:
    t = token("staff")
    async with websocket(server.ws_url, t, protocol) as ws:
        sub = await subscribe(ws, PROBE, protocol=protocol)
        first = (await sub.next())["probeEvents"]
        assert first == {
            "kind": "SNAPSHOT",
            "sequence": 1,
            "resync": False,
            "items": [],
            "item": None,
        }
        await _add(server, t, "hello")
        event = (await sub.next())["probeEvents"]
        assert (
            event["kind"] == "INSERT"
            and event["sequence"] == 2
            and event["item"]["label"] == "hello"
        )


async def test_rolled_back_change__never_reaches_a_subscriber(
    server: RunningServer, token, tenant
) -> None:
    t = token("staff")
    pool = running_state(server).pool
    async with websocket(server.ws_url, t) as ws:
        sub = await subscribe(ws, PROBE)
        await sub.next()
        with pytest.raises(RuntimeError):
            async with tenant_transaction(pool, tenant) as conn:
                await conn.execute("insert into probe_items (label) values ('ghost')")
                raise RuntimeError("abort")
        await _add(server, t, "real")
        event = (await sub.next())["probeEvents"]
        assert event["item"]["label"] == "real"  # the ghost never arrived before it
        with pytest.raises(asyncio.TimeoutError):
            await sub.next(timeout=0.5)


async def test_other_tenants_changes__never_reach_a_subscriber(
    server: RunningServer, token
) -> None:
    mine, theirs = token("staff"), token("staff", tenant_id=uuid.uuid4())
    async with websocket(server.ws_url, mine) as ws:
        sub = await subscribe(ws, PROBE)
        await sub.next()
        await _add(server, theirs, "not yours")
        await _add(server, mine, "yours")
        event = (await sub.next())["probeEvents"]
        assert event["item"]["label"] == "yours"


async def test_killed_listen_connection__every_subscription_resyncs_and_keeps_receiving(
    server: RunningServer, token, dsn: str
) -> None:
    t = token("staff")
    hub = running_state(server).hub
    async with websocket(server.ws_url, t) as ws1, websocket(server.ws_url, t) as ws2:
        subs = [
            await subscribe(ws1, PROBE),
            await subscribe(ws2, PROBE),
            await subscribe(ws2, PROBE),
        ]
        for s in subs:
            await s.next()
        pid = hub.backend.listener.backend_pid
        assert pid is not None
        admin = await asyncpg.connect(dsn)
        try:
            assert await admin.fetchval("select pg_terminate_backend($1)", pid)
        finally:
            await admin.close()
        start = time.monotonic()
        for s in subs:
            event = (await s.next(timeout=2.0))["probeEvents"]
            assert (
                event["kind"] == "SNAPSHOT" and event["resync"] is True and event["sequence"] == 2
            )
        assert time.monotonic() - start < 2.0
        assert hub.backend.listener.backend_pid not in (None, pid)
        await _add(server, t, "after")
        for s in subs:
            event = (await s.next())["probeEvents"]
            assert event["item"]["label"] == "after" and event["sequence"] == 3


async def test_200_clients_subscribing_to_a_new_topic_at_once__all_succeed(
    server: RunningServer, token, tenant
) -> None:
    t = token("staff")
    topic = f"probe:{tenant}"

    snapshots = asyncio.Semaphore(0)

    async def one_client(ready: asyncio.Event) -> str:
        async with websocket(server.ws_url, t, open_timeout=30) as ws:
            sub = await subscribe(ws, PROBE)
            snapshot = (await sub.next(timeout=30))["probeEvents"]
            assert snapshot["kind"] == "SNAPSHOT"
            snapshots.release()
            await ready.wait()
            event = (await sub.next(timeout=30))["probeEvents"]
            return str(event["item"]["label"])

    ready = asyncio.Event()
    tasks = [asyncio.create_task(one_client(ready)) for _ in range(200)]
    for _ in range(200):  # a change after every snapshot is a delta for every one of them
        await asyncio.wait_for(snapshots.acquire(), 60)
    assert running_state(server).hub.subscriber_count(topic) == 200
    ready.set()
    await _add(server, t, "everyone")
    labels = await asyncio.gather(*tasks)
    assert labels == ["everyone"] * 200


async def test_websocket_without_valid_token__is_refused(server: RunningServer) -> None:
    for bad in (None, "nonsense"):
        with pytest.raises((AssertionError, ConnectionClosed)) as info:
            async with websocket(server.ws_url, bad):
                pass
        closed = info.value
        if isinstance(closed, ConnectionClosed):
            assert closed.rcvd is not None and closed.rcvd.code == 4403


async def test_websocket_whose_token_expires__is_closed(server: RunningServer, token) -> None:
    from datetime import timedelta

    short = token("staff", ttl=timedelta(seconds=2))
    async with websocket(server.ws_url, short) as ws:
        sub = await subscribe(ws, PROBE)
        await sub.next()
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), 10)
            await asyncio.wait_for(ws.recv(), 10)
    assert info.value.rcvd is not None and info.value.rcvd.code == 4403


async def test_subscriptions_per_connection__limit_is_enforced(dsn: str, token) -> None:
    async with serve_in_process(test_settings(dsn, max_subscriptions_per_connection=2)) as running:
        async with websocket(running.ws_url, token("staff")) as ws:
            a, b = await subscribe(ws, PROBE), await subscribe(ws, PROBE)
            await a.next()
            await b.next()
            third = await subscribe(ws, PROBE)
            with pytest.raises(AssertionError, match="Subscription limit reached"):
                await third.next()
            await a.ws.ping()  # the connection and the first two subscriptions stay open
            await _add(running, token("staff"), "still here")
            assert (await a.next())["probeEvents"]["item"]["label"] == "still here"


@pytest.mark.parametrize("notify_rows", [True, False])
async def test_notify_rows_setting__decides_whether_notifications_carry_rows(
    dsn: str, token, notify_rows: bool
) -> None:
    """ALLOT_NOTIFY_ROWS: with it the notification of a mutation carries the row; without it,
    IDs only. The subscriber gets the same event either way."""
    t = token("staff")
    payloads: list[str] = []
    listen = await asyncpg.connect(dsn)
    await listen.add_listener("allot_events", lambda *args: payloads.append(args[3]))
    try:
        async with serve_in_process(test_settings(dsn, notify_rows=notify_rows)) as running:
            async with websocket(running.ws_url, t) as ws:
                sub = await subscribe(ws, PROBE)
                await sub.next()
                await _add(running, t, "either way")
                event = (await sub.next())["probeEvents"]
        await asyncio.sleep(0.2)  # the raw listener has it by now too
    finally:
        await listen.close()
    assert event["kind"] == "INSERT" and event["item"]["label"] == "either way"
    [payload] = [p for p in payloads if "probe:" in p]
    carried = json.loads(payload).get("r")
    if notify_rows:
        assert [row["label"] for row in carried] == ["either way"]
    else:
        assert carried is None


async def test_two_server_processes__a_change_through_one_reaches_a_subscriber_on_the_other(
    dsn: str, token
) -> None:
    t = token("staff")
    with serve_subprocess(dsn) as a, serve_subprocess(dsn) as b:
        async with websocket(b.ws_url, t) as ws:
            sub = await subscribe(ws, PROBE)
            await sub.next()
            await _add(a, t, "from A")
            event = (await sub.next())["probeEvents"]
            assert event["item"]["label"] == "from A"


async def test_subscriber_that_stops_reading__gets_every_event_in_order_then_a_resync(
    dsn: str, token, tenant
) -> None:
    """A client that stops reading while thousands of large changes are committed: the
    server's writes to its socket have to wait, the hub stops sending to it directly, its
    queue overflows, and when it reads again it finds its events in order (each sequence the
    one before plus one) and a resync snapshot holding everything."""
    t = token("staff")
    big = "x" * 6000
    settings = test_settings(dsn, subscriber_queue_size=16)
    async with serve_in_process(settings) as running:
        async with websocket(running.ws_url, t, max_queue=1) as ws:
            sub = await subscribe(ws, PROBE)
            await sub.next()
            async with tenant_transaction(running_state(running).pool, tenant) as conn:
                await conn.execute(
                    "insert into probe_items (label)"
                    " select $1 || g from generate_series(1, 3000) g",
                    big,
                )
            await asyncio.sleep(2)  # the server writes what its socket takes, then waits
            events = []
            while True:
                try:
                    events.append((await asyncio.wait_for(sub.next(), 2))["probeEvents"])
                except TimeoutError:
                    break
    sequences = [e["sequence"] for e in events]
    assert sequences == list(range(2, 2 + len(events)))
    resyncs = [e for e in events if e["kind"] == "SNAPSHOT"]
    assert resyncs and all(e["resync"] for e in resyncs)
    assert len(resyncs[-1]["items"]) == 3000
    assert len(events) < 3000  # not every change was queued for it


async def _reads_back(server: RunningServer) -> float:
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{server.base_url}/metrics")).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("allot_realtime_reads_total ")
    )


@pytest.mark.parametrize("notify_rows", [True, False])
async def test_two_server_processes__read_a_change_back_only_without_notify_rows(
    dsn: str, token, notify_rows: bool
) -> None:
    """The database work per event does not grow with the processes: with the rows in the
    notification neither process reads the change back; with IDs only, each reads it once."""
    t = token("staff")
    if not notify_rows:
        dsn = with_server_setting(dsn, "allot.notify_rows", "off")
    with serve_subprocess(dsn) as a, serve_subprocess(dsn) as b:
        async with websocket(a.ws_url, t) as on_a, websocket(b.ws_url, t) as on_b:
            subs = [await subscribe(on_a, PROBE), await subscribe(on_b, PROBE)]
            for sub in subs:
                await sub.next()
            before = [await _reads_back(a), await _reads_back(b)]
            for i in range(3):
                await _add(a, t, f"change {i}")
                for sub in subs:
                    assert (await sub.next())["probeEvents"]["item"]["label"] == f"change {i}"
            after = [await _reads_back(a), await _reads_back(b)]
    assert [y - x for x, y in zip(before, after, strict=True)] == (
        [0, 0] if notify_rows else [3, 3]
    )


async def test_shutdown__closes_websockets_with_a_close_code(dsn: str, token) -> None:
    async with serve_in_process(test_settings(dsn)) as running:
        ws_cm = websocket(running.ws_url, token("staff"))
        ws = await ws_cm.__aenter__()
        sub = await subscribe(ws, PROBE)
        await sub.next()
    # leaving the block shut the server down; the client must have seen a proper close
    with pytest.raises(ConnectionClosed) as info:
        await asyncio.wait_for(ws.recv(), 5)
    assert info.value.rcvd is not None and info.value.rcvd.code in (1001, 1012)
    await ws_cm.__aexit__(None, None, None)


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
async def test_delta__executed_once_for_all_subscribers_each_with_its_own_sequence(
    server: RunningServer, token, protocol: str
) -> None:
    """graphql-transport-ws sends the shared frame straight to each operation's socket; legacy
    graphql-ws shares the execution. Either way: one resolution, each reader's own sequence."""
    from services.realtime.metrics import DIRECT_DELTAS, SHARED_FRAMES
    from tests.support import probe_schema

    query = "subscription { probeEvents { sequence kind item { label resolutions } } }"
    t = token("staff")
    frames_before = SHARED_FRAMES._value.get()
    direct_before = DIRECT_DELTAS._value.get()
    async with websocket(server.ws_url, t, protocol) as ws:
        early = [await subscribe(ws, query, protocol=protocol) for _ in range(10)]
        for s in early:
            await s.next()
        await _add(server, t, "one")
        for s in early:
            assert (await s.next())["probeEvents"]["sequence"] == 2
        late = [await subscribe(ws, query, protocol=protocol) for _ in range(10)]
        for s in late:
            assert (await s.next())["probeEvents"]["sequence"] == 1
        before = probe_schema.RESOLUTIONS[0]
        await _add(server, t, "two")
        events = [(await s.next())["probeEvents"] for s in early + late]
    assert probe_schema.RESOLUTIONS[0] == before + 1  # one execution for twenty subscribers
    assert {e["item"]["resolutions"] for e in events} == {before + 1}
    assert [e["sequence"] for e in events] == [3] * 10 + [2] * 10
    assert {e["item"]["label"] for e in events} == {"two"}
    direct = protocol == "graphql-transport-ws"
    assert SHARED_FRAMES._value.get() - frames_before == (30 if direct else 0)
    # On graphql-transport-ws the hub's task sends them: no subscription's reader woke up.
    assert DIRECT_DELTAS._value.get() - direct_before == (30 if direct else 0)


async def test_delta__a_selection_with_fragments_is_executed_for_its_reader_alone(
    server: RunningServer, token
) -> None:
    """Sharing needs to find `sequence` in the selection; through a fragment spread it does
    not look, and that reader's deltas are executed for it alone, still correct."""
    fragment = (
        "subscription { probeEvents { ...E } }"
        " fragment E on ProbeEvent { sequence kind item { label } }"
    )
    plain = "subscription { probeEvents { sequence kind item { label } } }"
    t = token("staff")
    async with websocket(server.ws_url, t) as ws:
        subs = [await subscribe(ws, fragment), await subscribe(ws, plain)]
        for s in subs:
            assert (await s.next())["probeEvents"]["sequence"] == 1
        await _add(server, t, "three")
        events = [(await s.next())["probeEvents"] for s in subs]
    assert events == [{"sequence": 2, "kind": "INSERT", "item": {"label": "three"}}] * 2


async def test_completed_subscription__gets_no_more_events(server: RunningServer, token) -> None:
    """After the client completes a subscription, no frame carries its id any more."""
    query = "subscription { probeEvents { sequence item { label } } }"
    t = token("staff")
    async with websocket(server.ws_url, t) as ws:
        stopped, kept = await subscribe(ws, query), await subscribe(ws, query)
        for s in (stopped, kept):
            await s.next()
        await ws.send(json.dumps({"id": stopped.id, "type": "complete"}))
        await _add(server, t, "four")
        assert (await kept.next())["probeEvents"]["item"] == {"label": "four"}
        with pytest.raises(TimeoutError):
            await stopped.next(timeout=0.5)
