"""Memory of idle subscriptions: one server process, N probeEvents subscriptions held open.

For 100 subscriptions per connection and for 1 per connection, on a fresh server process
each time: the server's RSS before, with N open (and per subscription), after every socket
has closed, and after opening N again (memory returned or reused: no new growth).

    python bench/_memory_probe.py [N]            # default 2000
    ALLOT_TRACEMALLOC=25 python bench/_memory_probe.py 1000

With ALLOT_TRACEMALLOC (frames to keep) the server traces its allocations and the top sites
held by the open subscriptions are printed (a snapshot with N open compared to one before).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

import httpx
import psutil
import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._live import subscribed  # noqa: E402
from server.auth import issue_token  # noqa: E402
from services.core.principal import Role  # noqa: E402
from tests.support import dbs  # noqa: E402
from tests.support.server import TEST_SECRET, serve_subprocess  # noqa: E402

QUERY = "subscription { probeEvents { kind sequence resync item { id label version } } }"
SNAPSHOT_DIR = Path(tempfile.gettempdir())


def app_factory() -> object:
    """The probe app; with ALLOT_TRACEMALLOC, tracing, and a snapshot written on SIGUSR1."""
    frames = os.environ.get("ALLOT_TRACEMALLOC")
    if frames:
        tracemalloc.start(int(frames))

        def dump(_signum: int, _frame: object) -> None:
            name = f"allot-tracemalloc-{os.getpid()}-{time.monotonic_ns()}.snap"
            tracemalloc.take_snapshot().dump(str(SNAPSHOT_DIR / name))
            (SNAPSHOT_DIR / f"allot-tracemalloc-{os.getpid()}.last").write_text(name)

        signal.signal(signal.SIGUSR1, dump)
    if os.environ.get("ALLOT_PROBE_GC_LOG"):  # how long each collection of closed sockets took
        import logging

        collector = logging.getLogger("server.memory")
        collector.setLevel(logging.DEBUG)
        collector.addHandler(logging.StreamHandler())
    from tests.support.probe_app import app_factory as probe

    return probe()


def server_process(base_url: str) -> psutil.Process:
    port = int(base_url.rsplit(":", 1)[1])
    for conn in psutil.net_connections("tcp"):
        if (
            conn.status == psutil.CONN_LISTEN
            and getattr(conn.laddr, "port", None) == port
            and conn.pid
        ):
            return psutil.Process(conn.pid)
    raise LookupError(f"nothing listens on {port}")


def rss_mb(proc: psutil.Process) -> float:
    for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise LookupError("VmRSS")


async def active(base_url: str) -> float:
    async with httpx.AsyncClient(timeout=120) as client:
        text = (await client.get(f"{base_url}/metrics")).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("allot_active_subscriptions{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def settle(base_url: str, want: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while await active(base_url) != want:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{await active(base_url)} active subscriptions, not {want}")
        await asyncio.sleep(0.2)


class Subscriptions:
    """N idle subscriptions, `per` on each connection, held until close()."""

    def __init__(self, ws_url: str, token: str, n: int, per: int) -> None:
        self.ws_url, self.token, self.n, self.per = ws_url, token, n, per
        self.sockets: list[websockets.ClientConnection] = []

    async def _one(self, count: int, gate: asyncio.Semaphore) -> None:
        async with gate:
            ws = await subscribed(
                self.ws_url, self.token, QUERY, count, open_timeout=60, max_queue=None
            )
            self.sockets.append(ws)

    async def open(self) -> None:
        gate = asyncio.Semaphore(100)
        counts = [self.per] * (self.n // self.per)
        await asyncio.gather(*(self._one(c, gate) for c in counts))

    async def close(self) -> None:
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)
        self.sockets.clear()


def snapshot(proc: psutil.Process) -> tracemalloc.Snapshot:
    last = SNAPSHOT_DIR / f"allot-tracemalloc-{proc.pid}.last"
    last.unlink(missing_ok=True)
    proc.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + 120
    while not last.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("no tracemalloc snapshot")
        time.sleep(0.2)
    path = SNAPSHOT_DIR / last.read_text()
    snap = tracemalloc.Snapshot.load(str(path))
    last.unlink()
    return snap


def print_top(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, n: int) -> None:
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]
    before, after = before.filter_traces(ignore), after.filter_traces(ignore)
    total = sum(s.size_diff for s in after.compare_to(before, "filename"))
    print(f"  traced: +{total / n / 1024:.1f} KB per subscription")
    for stat in after.compare_to(before, "lineno")[:20]:
        frame = stat.traceback[0]
        where = f"{Path(frame.filename).name}:{frame.lineno}"
        print(f"    {stat.size_diff / n:8.0f} B {stat.count_diff / n:6.2f} blocks  {where}")


async def run(dsn: str, n: int, per: int) -> None:
    tracing = bool(os.environ.get("ALLOT_TRACEMALLOC"))
    token = issue_token(TEST_SECRET, tenant=uuid.uuid4(), user="mem", roles=[Role.STAFF])
    with serve_subprocess(dsn, app="bench._memory_probe:app_factory") as server:
        proc = server_process(server.base_url)
        warm = Subscriptions(server.ws_url, token, per, per)  # code paths warm, caches built
        await warm.open()
        await warm.close()
        await settle(server.base_url, 0)
        base = rss_mb(proc)
        first = snapshot(proc) if tracing else None
        subs = Subscriptions(server.ws_url, token, n, per)
        await subs.open()
        await settle(server.base_url, n)
        held = rss_mb(proc)
        if first is not None:
            print_top(first, snapshot(proc), n)
        await subs.close()
        await settle(server.base_url, 0)
        await asyncio.sleep(1)
        closed = rss_mb(proc)
        again = Subscriptions(server.ws_url, token, n, per)
        await again.open()
        await settle(server.base_url, n)
        reopened = rss_mb(proc)
        await again.close()
        await settle(server.base_url, 0)
        await asyncio.sleep(1)
        print(
            f"{n} subscriptions, {per} per connection: RSS before {base:.0f} MB, "
            f"open {held:.0f} MB ({(held - base) * 1024 / n:.1f} KB per subscription), "
            f"after close {closed:.0f} MB, reopened {reopened:.0f} MB, "
            f"closed again {rss_mb(proc):.0f} MB"
        )


async def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    os.environ.setdefault("ALLOT_MAX_SUBSCRIPTIONS_PER_CONNECTION", "100")
    async with dbs.scratch_database() as dsn:
        for per in [int(p) for p in os.environ.get("ALLOT_PROBE_PER", "100,1").split(",")]:
            await run(dsn, n, per)


if __name__ == "__main__":
    asyncio.run(main())
