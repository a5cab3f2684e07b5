"""What the realtime benches share: the raw floor, websocket subscribers, and a server
process's CPU time, memory and metrics."""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any

import asyncpg
import httpx
import websockets

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """The process's CPU time so far (user + system), from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def rss_bytes(pid: int) -> int:
    """The process's resident memory (VmRSS), from /proc/<pid>/status."""
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise LookupError("no VmRSS")


async def metric(base_url: str, name: str) -> float:
    """The sum of a metric's samples (every label set) on a server's /metrics."""
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{base_url}/metrics")).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and line[len(name) : len(name) + 1] in (" ", "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


class RawFloor:
    """The floor: an UPDATE and a NOTIFY committed on one asyncpg connection, until a LISTEN
    connection has it. Sampled in the same rounds as Allot, so both see the same machine."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.got: asyncio.Queue[float] = asyncio.Queue()

    async def __aenter__(self) -> RawFloor:
        self.listen = await asyncpg.connect(self.dsn)
        self.send = await asyncpg.connect(self.dsn)
        await self.send.execute(
            "create table if not exists bench_floor (id int primary key, v int)"
        )
        await self.send.execute("insert into bench_floor values (1, 0) on conflict do nothing")
        await self.listen.add_listener(
            "bench_floor", lambda *_: self.got.put_nowait(time.perf_counter())
        )
        for _ in range(20):  # warm-up
            await self.sample()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.listen.close()
        await self.send.close()

    async def sample(self) -> float:
        start = time.perf_counter()
        async with self.send.transaction():
            await self.send.execute("update bench_floor set v = v + 1 where id = 1")
            await self.send.execute("select pg_notify('bench_floor', 'x')")
        return (await self.got.get()) - start


async def subscribed(
    ws_url: str,
    token: str,
    query: str,
    count: int = 1,
    variables: dict[str, Any] | None = None,
    open_timeout: float = 120,
    **connect: Any,
) -> websockets.ClientConnection:
    """A graphql-transport-ws connection with `count` subscriptions of `query`, each past its
    first message (the snapshot)."""
    ws = await websockets.connect(
        ws_url,
        subprotocols=[websockets.Subprotocol("graphql-transport-ws")],
        open_timeout=open_timeout,
        ping_interval=None,
        **connect,
    )
    init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
    await ws.send(json.dumps(init))
    await ws.recv()
    payload = {"query": query, "variables": variables or {}}
    for i in range(count):
        await ws.send(json.dumps({"id": str(i + 1), "type": "subscribe", "payload": payload}))
    for _ in range(count):
        await ws.recv()
    return ws


class Subscribers:
    """N websockets each subscribed to one subscription, recording arrival times. Ready when
    each has its first message (a snapshot)."""

    def __init__(
        self, ws_url: str, token: str, query: str, variables: dict[str, Any], count: int
    ) -> None:
        self.ws_url, self.token, self.count = ws_url, token, count
        self.query, self.variables = query, variables
        self.arrivals: list[list[float]] = [[] for _ in range(count)]
        self.raw: list[list[str]] = [[] for _ in range(count)]
        self.target = 0
        self.reached = 0
        self.all_reached = asyncio.Event()
        self.ready = asyncio.Semaphore(0)
        self.tasks: list[asyncio.Task[None]] = []

    async def _client(self, i: int) -> None:
        ws = await subscribed(
            self.ws_url, self.token, self.query, variables=self.variables, max_size=None
        )
        async with ws:
            self.ready.release()
            mine, raw = self.arrivals[i], self.raw[i]
            async for message in ws:
                mine.append(time.perf_counter())
                raw.append(str(message))
                if len(mine) == self.target:
                    self.reached += 1
                    if self.reached == self.count:
                        self.all_reached.set()

    async def start(self) -> None:
        # The first alone: stock broadcaster's first subscribe to a channel must finish
        # before the next begins (they would LISTEN on its one connection at once).
        for first, last in ((0, 1), (1, self.count)):
            self.tasks += [asyncio.create_task(self._client(i)) for i in range(first, last)]
            for _ in range(first, last):
                await asyncio.wait_for(self.ready.acquire(), 120)

    async def expect(self, more: int) -> None:
        """Wait until every subscriber has `more` further messages."""
        self.target += more
        self.reached = sum(1 for a in self.arrivals if len(a) >= self.target)
        if self.reached == self.count:
            return
        self.all_reached.clear()
        await asyncio.wait_for(self.all_reached.wait(), 120)

    async def stop(self) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


PROBE_EVENTS = "subscription { probeEvents { kind sequence resync item { id label version } } }"


class ProbeFanOut:
    """`count` websockets subscribed to probeEvents of one tenant on a server (Allot, or the
    websocket floor of bench/_floor_app.py with the topic in `ws_url`); each sample commits an
    UPDATE of the tenant's probe_items row (its trigger notifies) and lasts until the last
    subscriber has the message. `row`: that row, if another ProbeFanOut made it already (its
    INSERT would reach the other's subscribers too)."""

    def __init__(
        self, dsn: str, ws_url: str, token: str, tenant: str, count: int, row: Any = None
    ) -> None:
        self.dsn, self.tenant, self.row = dsn, tenant, row
        self.subscribers = Subscribers(ws_url, token, PROBE_EVENTS, {}, count)
        self.events = 0

    async def __aenter__(self) -> ProbeFanOut:
        self.conn = await asyncpg.connect(self.dsn, server_settings={"role": "allot_app"})
        if self.row is None:
            async with self.conn.transaction():
                await self.conn.execute(
                    "select set_config('allot.tenant_id', $1, true)", self.tenant
                )
                self.row = await self.conn.fetchval(
                    "insert into probe_items (label) values ('e0') returning id"
                )
        await self.subscribers.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.subscribers.stop()
        await self.conn.close()

    def mark(self) -> list[int]:
        """How many messages each subscriber has had so far."""
        return [len(a) for a in self.subscribers.arrivals]

    async def sample(self) -> float:
        """Commit a change; the seconds until its message is at the last subscriber."""
        before = self.mark()
        self.events += 1
        start = time.perf_counter()
        async with self.conn.transaction():
            await self.conn.execute("select set_config('allot.tenant_id', $1, true)", self.tenant)
            await self.conn.execute(
                "update probe_items set label = $1, version = version + 1 where id = $2",
                f"e{self.events}",
                self.row,
            )
        return await self.arrival(self.events, before) - start

    async def arrival(self, event: int, before: list[int]) -> float:
        """When the last subscriber had the message of change `event` (ProbeFanOut.events of
        the one that committed it), counting from the `before` mark."""
        subs = self.subscribers
        await subs.expect(1)
        # Each has a message now; almost always this change's. Another one (a resync
        # snapshot, when the server is slow) may have come first: then wait for this one.
        label = f'"e{event}"'
        while True:
            arrived = [
                next((t for t, m in zip(a[n:], r[n:], strict=True) if label in m), None)
                for a, r, n in zip(subs.arrivals, subs.raw, before, strict=True)
            ]
            if None not in arrived:
                return max(t for t in arrived if t is not None)
            await asyncio.sleep(0.001)
