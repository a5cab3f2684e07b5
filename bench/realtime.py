"""Realtime fan-out of the foundation: commit -> NOTIFY -> hub -> N websocket subscribers.

Starts its own PostgreSQL (embedded, or DATABASE_URL), one Allot server process with the
probe area and one websocket floor server process (bench/_floor_app.py: Starlette and uvicorn,
one LISTEN, one read of the changed row and one preformatted frame per change, no GraphQL);
the subscribers run in this process.

1. For 1, 100 and 1000 subscribers (each on its own websocket): the time from a commit (an
   UPDATE of a probe_items row, whose trigger notifies) until the last subscriber has the
   message, on Allot and on the websocket floor, sampled in alternate rounds so both see the
   same machine, with the ratio Allot / websocket floor (p50) and its target; next to them
   the raw floor (an UPDATE and a NOTIFY committed on one asyncpg connection reaching a
   LISTEN on another). And each server process's CPU time (user + system, /proc/<pid>/stat)
   over all the rounds, per event of its own; each server also sees the other's
   notifications, which it drops after reading the topic.
2. Reads of the changed row per event with 1, 2 and 4 Allot server processes on the database,
   each with subscribers of one tenant: the sum of allot_realtime_reads_total over the
   processes' /metrics, per committed change.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import uuid
from contextlib import AsyncExitStack, ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._live import ProbeFanOut, RawFloor, cpu_seconds, metric  # noqa: E402
from bench._stats import ms, pct  # noqa: E402
from db.pool import with_server_setting  # noqa: E402
from server.auth import issue_token  # noqa: E402
from services.core.principal import Role  # noqa: E402
from tests.support import dbs  # noqa: E402
from tests.support.server import TEST_SECRET, RunningServer, serve_subprocess  # noqa: E402

TARGET = 1.3  # Allot / websocket floor, p50
ROUNDS = ((1, 100), (100, 40), (1000, 20))
WARMUP = 3
READS = "allot_realtime_reads_total"


def allot_fan_out(dsn: str, server: RunningServer, count: int) -> ProbeFanOut:
    tenant = uuid.uuid4()
    token = issue_token(TEST_SECRET, tenant=tenant, user="bench", roles=[Role.STAFF])
    return ProbeFanOut(dsn, server.ws_url, token, str(tenant), count)


def floor_fan_out(dsn: str, server: RunningServer, count: int) -> ProbeFanOut:
    tenant = str(uuid.uuid4())
    return ProbeFanOut(dsn, f"{server.ws_url}?topic=probe:{tenant}", "none", tenant, count)


def cpu(server: RunningServer) -> float:
    assert server.pid is not None
    return cpu_seconds(server.pid)


async def latency(dsn: str, allot: RunningServer, floor: RunningServer) -> None:
    for count, rounds in ROUNDS:
        ours: list[float] = []
        theirs: list[float] = []
        raw_floor: list[float] = []
        async with (
            RawFloor(dsn) as raw,
            allot_fan_out(dsn, allot, count) as on_allot,
            floor_fan_out(dsn, floor, count) as on_floor,
        ):
            for _ in range(WARMUP):
                await on_allot.sample()
                await on_floor.sample()
            # Over all the rounds, so what a server does after its message is out counts too.
            allot_cpu, floor_cpu = cpu(allot), cpu(floor)
            for _ in range(rounds):
                raw_floor += [await raw.sample() for _ in range(3)]
                ours.append(await on_allot.sample())
                theirs.append(await on_floor.sample())
            await asyncio.sleep(0.2)
            allot_cpu, floor_cpu = cpu(allot) - allot_cpu, cpu(floor) - floor_cpu
        a50, f50 = statistics.median(ours), statistics.median(theirs)
        ratio = a50 / f50
        verdict = "met" if ratio <= TARGET else "not met"
        print(
            f"  {count:>5} subscribers: Allot p50 {ms(a50):>10}  p99 {ms(pct(ours, 99)):>10};"
            f"  websocket floor p50 {ms(f50):>10}  p99 {ms(pct(theirs, 99)):>10};"
            f"  Allot / floor {ratio:.2f}x (target <= {TARGET}x: {verdict})"
        )
        print(
            f"        server CPU per event: Allot {ms(allot_cpu / rounds)},"
            f" websocket floor {ms(floor_cpu / rounds)}"
            f" ({allot_cpu / max(floor_cpu, 1e-9):.1f}x);"
            f"  raw floor (UPDATE + NOTIFY -> LISTEN) p50 {ms(statistics.median(raw_floor))}"
            f"  p99 {ms(pct(raw_floor, 99))}"
        )


async def reads_per_event(
    dsn: str, processes: int, notify_rows: bool, subscribers: int = 10, changes: int = 20
) -> None:
    """Statements the server processes ran to read changed rows back, per event. With rows
    in the notifications the database serves one read per event whatever the number of
    processes: the trigger's, in the writer's transaction; with IDs only, one per process."""
    if not notify_rows:  # the writer's session and every server's (ALLOT_NOTIFY_ROWS=false)
        dsn = with_server_setting(dsn, "allot.notify_rows", "off")
    tenant = uuid.uuid4()
    token = issue_token(TEST_SECRET, tenant=tenant, user="bench", roles=[Role.STAFF])
    with ExitStack() as servers:
        started = [servers.enter_context(serve_subprocess(dsn)) for _ in range(processes)]
        async with AsyncExitStack() as stack:
            # One writer: its UPDATEs reach every process's subscribers (one tenant's topic).
            writer = await stack.enter_async_context(
                ProbeFanOut(dsn, started[0].ws_url, token, str(tenant), subscribers)
            )
            others = [
                await stack.enter_async_context(
                    ProbeFanOut(dsn, s.ws_url, token, str(tenant), subscribers, writer.row)
                )
                for s in started[1:]
            ]
            before: list[float] = []
            for i in range(changes + 1):  # the first is a warm-up
                if i == 1:
                    before = [await metric(s.base_url, READS) for s in started]
                marks = [other.mark() for other in others]
                await writer.sample()
                for other, mark in zip(others, marks, strict=True):
                    await other.arrival(writer.events, mark)
            after = [await metric(s.base_url, READS) for s in started]
    reads = [b - a for a, b in zip(before, after, strict=True)]
    carried = "+ 1 in the writer's transaction" if notify_rows else "IDs only"
    print(
        f"  {processes} server process{'es' if processes > 1 else ''},"
        f" {subscribers} subscribers each, {changes} changes:"
        f" {sum(reads) / changes:.2f} reads back per event ({carried};"
        f" per process: {', '.join(f'{r / changes:.2f}' for r in reads)})"
    )


async def main() -> None:
    async with dbs.scratch_database() as dsn:
        print("realtime bench (clients in this process, the servers in others)")
        print(
            "1. commit (UPDATE of a watched row) -> the message at the last subscriber, one"
            " server process each: Allot (probeEvents over graphql-transport-ws) and the"
            " websocket floor (bench/_floor_app.py), in alternate rounds"
        )
        with (
            serve_subprocess(dsn) as allot,
            serve_subprocess(dsn, app="bench._floor_app:app_factory") as floor,
        ):
            await latency(dsn, allot, floor)
        print("2. reads of the changed row per event (allot_realtime_reads_total, summed)")
        for notify_rows in (True, False):
            print(f"  ALLOT_NOTIFY_ROWS={'true' if notify_rows else 'false'}")
            for processes in (1, 2, 4):
                await reads_per_event(dsn, processes, notify_rows)


if __name__ == "__main__":
    asyncio.run(main())
