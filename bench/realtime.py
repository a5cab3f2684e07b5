"""Realtime fan-out of the foundation: commit -> NOTIFY -> hub -> N websocket subscribers.

Starts its own PostgreSQL (embedded, or DATABASE_URL) and one server process
with the probe area; the subscribers run in this process. For each event it
measures the time from the committing client's COMMIT to the moment the last
subscriber has the message, and compares it with the raw floor: a NOTIFY
committed on one asyncpg connection reaching a LISTEN on another.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._stats import pct  # noqa: E402
from server.auth import issue_token  # noqa: E402
from services.core.principal import Role  # noqa: E402
from tests.support import dbs  # noqa: E402
from tests.support.server import TEST_SECRET, serve_subprocess  # noqa: E402

EVENTS = 20
QUERY = "subscription { probeEvents { kind sequence resync item { id label version } } }"


async def raw_floor(dsn: str) -> list[float]:
    listen = await asyncpg.connect(dsn)
    send = await asyncpg.connect(dsn)
    got: asyncio.Queue[float] = asyncio.Queue()
    await listen.add_listener("bench", lambda *_: got.put_nowait(time.perf_counter()))
    out = []
    for i in range(EVENTS * 2):
        start = time.perf_counter()
        async with send.transaction():
            await send.execute("select pg_notify('bench', $1)", str(i))
        out.append((await got.get()) - start)
    await listen.close()
    await send.close()
    return out[EVENTS:]


async def fan_out(dsn: str, ws_url: str, subscribers: int) -> list[float]:
    """One websocket and one subscription per subscriber, as real dashboards have."""
    tenant = uuid.uuid4()
    token = issue_token(TEST_SECRET, tenant=tenant, user="bench", roles=[Role.STAFF])
    conn = await asyncpg.connect(dsn, server_settings={"role": "allot_app"})
    arrivals: dict[str, int] = {}
    done: dict[str, asyncio.Event] = {}
    last_arrival: dict[str, float] = {}
    ready = asyncio.Semaphore(0)

    async def client() -> None:
        async with websockets.connect(
            ws_url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")], open_timeout=60
        ) as ws:
            await ws.send(
                json.dumps(
                    {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
                )
            )
            await ws.recv()
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": QUERY}}))
            await ws.recv()  # the snapshot
            ready.release()
            async for raw in ws:
                msg = json.loads(raw)
                label = msg["payload"]["data"]["probeEvents"]["item"]["label"]
                arrivals[label] = arrivals.get(label, 0) + 1
                if arrivals[label] == subscribers:
                    last_arrival[label] = time.perf_counter()
                    done[label].set()

    tasks = [asyncio.create_task(client()) for _ in range(subscribers)]
    try:
        for _ in range(subscribers):
            await asyncio.wait_for(ready.acquire(), 60)
        latencies = []
        for i in range(EVENTS + 2):
            label = f"e{i}"
            done[label] = asyncio.Event()
            start = time.perf_counter()
            async with conn.transaction():
                await conn.execute("select set_config('allot.tenant_id', $1, true)", str(tenant))
                await conn.execute("insert into probe_items (label) values ($1)", label)
            await asyncio.wait_for(done[label].wait(), 60)
            if i >= 2:  # warm-up
                latencies.append(last_arrival[label] - start)
        return latencies
    finally:
        await conn.close()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def main() -> None:
    async with dbs.scratch_database() as dsn:
        floor = await raw_floor(dsn)
        f50 = statistics.median(floor)
        f99 = pct(floor, 99)
        print(f"raw floor (NOTIFY -> LISTEN): p50 {f50 * 1000:.2f} ms  p99 {f99 * 1000:.2f} ms")
        with serve_subprocess(dsn) as server:
            for n in (1, 100, 1000):
                lat = await fan_out(dsn, server.ws_url, n)
                p50, p99 = statistics.median(lat), pct(lat, 99)
                print(
                    f"{n:>5} subscribers: all delivered p50 {p50 * 1000:7.2f} ms  "
                    f"p99 {p99 * 1000:7.2f} ms  ({p50 / f50:.1f}x raw floor)"
                )


if __name__ == "__main__":
    asyncio.run(main())
