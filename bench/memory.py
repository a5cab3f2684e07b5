"""Memory of idle subscriptions: one Allot server process holding 10,000 probeEvents
subscriptions over graphql-transport-ws.

Measured twice on the same server process: 100 subscriptions on each of 100 connections, then
one on each of 10,000 connections. For each: the server's RSS (VmRSS) before, with all open
(and per subscription), the time from one committed change to the last subscription having
it, the RSS once all are closed (when /metrics shows no active subscription), and the RSS with
the same number open again: memory the server keeps after the first round is reused by the
second, not grown.

ALLOT_BENCH_SUBSCRIPTIONS sets the number (default 10000). The clients run in this process;
its open-file limit is raised to the hard limit (the server inherits it).
"""

from __future__ import annotations

import asyncio
import os
import resource
import sys
import time
import uuid
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._live import PROBE_EVENTS, metric, rss_bytes, subscribed  # noqa: E402
from bench._stats import ms  # noqa: E402
from server.auth import issue_token  # noqa: E402
from services.core.principal import Role  # noqa: E402
from tests.support import dbs  # noqa: E402
from tests.support.server import TEST_SECRET, RunningServer, serve_subprocess  # noqa: E402

SUBSCRIPTIONS = int(os.environ.get("ALLOT_BENCH_SUBSCRIPTIONS", "10000"))
OPENING = 100  # connections being opened at once


def mib(value: float) -> str:
    return f"{value / 2**20:.1f} MiB"


class Idle:
    """`connections` websockets with `each` subscriptions apiece, counting the deltas received."""

    def __init__(self, server: RunningServer, token: str, connections: int, each: int) -> None:
        self.server, self.token = server, token
        self.connections, self.each = connections, each
        self.ready = 0
        self.all_ready = asyncio.Event()
        self.received = 0
        self.target = 0
        self.all_received = asyncio.Event()
        self.opening = asyncio.Semaphore(OPENING)
        self.tasks: list[asyncio.Task[None]] = []

    async def _client(self) -> None:
        async with self.opening:
            ws = await subscribed(
                self.server.ws_url,
                self.token,
                PROBE_EVENTS,
                self.each,
                open_timeout=300,
                max_size=None,
            )
        self.ready += 1
        if self.ready == self.connections:
            self.all_ready.set()
        try:
            async for _message in ws:
                self.received += 1
                if self.received == self.target:
                    self.all_received.set()
        finally:
            await ws.close()

    async def open(self) -> float:
        """Open every subscription; the seconds it took."""
        start = time.perf_counter()
        self.tasks = [asyncio.create_task(self._client()) for _ in range(self.connections)]
        done = asyncio.create_task(self.all_ready.wait())
        await asyncio.wait([done, *self.tasks], return_when=asyncio.FIRST_COMPLETED)
        if not done.done():
            for t in self.tasks:
                if t.done():
                    t.result()  # a client failed: say why
        await done
        return time.perf_counter() - start

    async def close(self) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def change(conn: asyncpg.Connection, tenant: uuid.UUID, row: uuid.UUID) -> float:
    start = time.perf_counter()
    async with conn.transaction():
        await conn.execute("select set_config('allot.tenant_id', $1, true)", str(tenant))
        await conn.execute("update probe_items set version = version + 1 where id = $1", row)
    return start


async def closed(server: RunningServer) -> float:
    """Wait until the server has no active subscription; the gauge's last value."""
    active = -1.0
    for _ in range(300):
        active = await metric(server.base_url, "allot_active_subscriptions")
        if active == 0:
            break
        await asyncio.sleep(0.1)
    return active


async def round_trip(dsn: str, server: RunningServer, each: int) -> None:
    assert server.pid is not None
    connections = SUBSCRIPTIONS // each
    total = connections * each
    tenant = uuid.uuid4()
    token = issue_token(TEST_SECRET, tenant=tenant, user="bench", roles=[Role.STAFF])
    conn = await asyncpg.connect(dsn, server_settings={"role": "allot_app"})
    try:
        async with conn.transaction():
            await conn.execute("select set_config('allot.tenant_id', $1, true)", str(tenant))
            row = await conn.fetchval("insert into probe_items (label) values ('x') returning id")
        before = rss_bytes(server.pid)
        idle = Idle(server, token, connections, each)
        opened = await idle.open()
        await asyncio.sleep(1)
        full = rss_bytes(server.pid)
        idle.target = total
        start = await change(conn, tenant, row)
        await asyncio.wait_for(idle.all_received.wait(), 300)
        delivered = time.perf_counter() - start
        await idle.close()
        active = await closed(server)
        await asyncio.sleep(1)
        after = rss_bytes(server.pid)
        again = Idle(server, token, connections, each)
        reopened = await again.open()
        await asyncio.sleep(1)
        full_again = rss_bytes(server.pid)
        await again.close()
        await closed(server)
    finally:
        await conn.close()
    print(
        f"  {total} subscriptions, {each} per connection ({connections} connections):"
        f" opened in {opened:.1f} s"
    )
    print(
        f"    server RSS before {mib(before)}, all open {mib(full)}"
        f" ({(full - before) / total:,.0f} bytes per subscription)"
    )
    print(f"    one committed change -> the last of {total} subscriptions has it: {ms(delivered)}")
    print(
        f"    all closed: RSS {mib(after)}, allot_active_subscriptions {active:.0f};"
        f" the same number open again (in {reopened:.1f} s): RSS {mib(full_again)}"
        f" ({(full_again - full) / total:+,.0f} bytes per subscription against the first time)"
    )


async def main() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    os.environ["ALLOT_MAX_SUBSCRIPTIONS_PER_CONNECTION"] = "100"
    began = time.perf_counter()
    async with dbs.scratch_database() as dsn:
        print(
            f"memory bench: {SUBSCRIPTIONS} idle probeEvents subscriptions on one server process"
            " (a fresh one for each way; ALLOT_BENCH_SUBSCRIPTIONS sets the number)"
        )
        for each in (100, 1):
            with serve_subprocess(dsn) as server:
                await round_trip(dsn, server, each)
    print(f"total {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    asyncio.run(main())
