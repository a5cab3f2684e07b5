"""Loyalty benchmarks: the daily sync over 1,000,000 progress rows, and a 1,000,000-row metrics
import streamed through the server.

One tenant with 3 tiers (bronze < silver < gold), 100,000 creators (a third in each tier) and
10 missions, all enabled and activated, two of each kind: 5 open to `all` and 5 to `bronze`,
the lowest tier (every creator qualifies through the tier comparison, so the first sync has
exactly 10 x 100,000 rows to create). Each kind has a low target (about half the creators
reach it after the import) and a high one (well under 1% do). Measured:

1. set-up: the tiers and missions through the service, then the creators inserted set-based
   as the superuser (one statement), timed apart;
2. the first sync (`flows.run_sync`, in this process): 1,000,000 progress rows created;
3. a no-op rerun (the same as_of, no new data): every count must be zero;
4. an import of 1,000,000 metric rows (10 per creator, 2 of each kind) through
   `POST /loyalty/metrics` on one uvicorn server process, the CSV generated as a file first
   and sent streamed from it (chunked, 64 KiB at a time); the server's RSS sampled every
   0.1 s from before the upload to its answer: baseline, peak and the difference. Then the
   first 200,000 rows of the same file (the same source, so all skipped) on a fresh server
   process, to compare the peak;
5. the sync after the import, recomputing every row: rows updated, missions completed,
   redemptions created.

Targets: first sync under 30 s; no-op rerun under 3 s; the 1,000,000-row import under 60 s
with the server's memory flat (peak under 300 MB, whatever the file's size).

The server processes start after the first two syncs, so nothing listens to the syncs'
notifications meanwhile; the first one's daily-sync catch-up at start finds nothing to change
(no events yet) and records the day, so the second one's does nothing. It starts its own
PostgreSQL (embedded, deleted on exit, or uses DATABASE_URL with a scratch database that it
drops at the end).
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from db.pool import create_pool  # noqa: E402
from server.auth import issue_token  # noqa: E402
from services.core.principal import Principal, Role  # noqa: E402
from services.loyalty import flows, setup  # noqa: E402
from services.loyalty.model import LoyaltyMissionKind, SyncReport  # noqa: E402
from tests.support import dbs  # noqa: E402
from tests.support.server import TEST_SECRET, serve_subprocess  # noqa: E402

CREATORS = 100_000
ROWS = 1_000_000
SMALL_ROWS = 200_000
TIERS = (("bronze", "Bronze", 1), ("silver", "Silver", 2), ("gold", "Gold", 3))
KINDS = tuple(LoyaltyMissionKind)
LOW_TARGET, HIGH_TARGET = 100.0, 190.0  # each creator's total of a kind: two values of 1..100
SOURCE = "bench"
CHUNK = 64 * 1024
SAMPLE_SECONDS = 0.1

ACHIEVED = datetime(2026, 1, 1, tzinfo=UTC)
NEXT_CHECKPOINT = datetime(2027, 1, 1, tzinfo=UTC)
FIRST_AS_OF = datetime(2026, 12, 1, tzinfo=UTC)
SECOND_AS_OF = datetime(2026, 12, 2, tzinfo=UTC)  # the next day's sync, after the import

CREATORS_SQL = """insert into loyalty_creators
  (tenant_id, user_id, handle, tier_key, tier_achieved_at, next_checkpoint_at)
select $1, 'creator-' || lpad(n::text, 6, '0'), 'Creator ' || n,
       ($2::text[])[1 + n % array_length($2::text[], 1)], $3, $4
from generate_series(0, $5 - 1) as n"""


def user_of(n: int) -> str:
    return f"creator-{n:06d}"


def mib(value: float) -> str:
    return f"{value / 2**20:.1f} MiB"


def counts(report: SyncReport) -> str:
    text = (
        f"{report.progress_rows_created:,} rows created, {report.progress_rows_updated:,} "
        f"updated, {report.missions_completed:,} missions completed, "
        f"{report.redemptions_created:,} redemptions created"
    )
    if report.skipped:
        text += f"; skipped: {'; '.join(report.skipped)}"
    return text


# ---------------------------------------------------------------- 1. set-up


async def set_up(dsn: str, pool: asyncpg.Pool, boss: Principal) -> None:
    began = time.perf_counter()
    for key, name, order in TIERS:
        await setup.upsert_tier(pool, boss, key, name, order)  # the first records the tenant
    for i, kind in enumerate(KINDS):
        for j, target in enumerate((LOW_TARGET, HIGH_TARGET)):
            await setup.create_mission(
                pool,
                boss,
                title=f"{kind.value.title()} {target:g}",
                kind=kind,
                target_value=target,
                tier_eligibility="all" if (i + j) % 2 == 0 else TIERS[0][0],
                enabled=True,
                activated=True,
            )
    service = time.perf_counter() - began
    began = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            CREATORS_SQL,
            boss.tenant_id,
            [key for key, _, _ in TIERS],
            ACHIEVED,
            NEXT_CHECKPOINT,
            CREATORS,
        )
        inserted = time.perf_counter() - began
        await conn.execute("analyze loyalty_tiers, loyalty_missions, loyalty_creators")
    finally:
        await conn.close()
    print(
        f"   {len(TIERS)} tiers and {len(KINDS) * 2} missions through the service in "
        f"{service:.2f} s; {CREATORS:,} creators inserted set-based in {inserted:.2f} s "
        f"(then analyzed; {time.perf_counter() - began:.2f} s in all)"
    )


# ---------------------------------------------------------------- 2, 3, 5. syncs


async def timed_sync(pool: asyncpg.Pool, tenant: uuid.UUID, as_of: datetime) -> SyncReport:
    began = time.perf_counter()
    report = await flows.run_sync(pool, tenant, as_of)
    print(f"   as of {as_of:%Y-%m-%d}: {time.perf_counter() - began:.2f} s; {counts(report)}")
    return report


async def progress_counts(dsn: str, tenant: uuid.UUID) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "select status, count(*) as n from loyalty_progress where tenant_id = $1 "
            "group by status order by status",
            tenant,
        )
        redemptions = await conn.fetchval(
            "select count(*) from loyalty_redemptions where tenant_id = $1", tenant
        )
    finally:
        await conn.close()
    statuses = ", ".join(f"{r['status']} {r['n']:,}" for r in rows)
    return f"progress rows in the database: {statuses}; redemptions {redemptions:,}"


# ---------------------------------------------------------------- 4. import


def write_csv(path: Path, rows: int) -> tuple[float, int, list[list[int]]]:
    """The metrics CSV: row i is creator i % CREATORS's event of kind (i // CREATORS) % 5,
    a value of 1..100, in November; every 7th kind in lower case. Seconds taken, bytes, and
    each creator's total of each kind."""
    rng = random.Random(7)
    totals = [[0] * len(KINDS) for _ in range(CREATORS)]
    began = time.perf_counter()
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("external_id,user_id,kind,value,occurred_at\n")
        lines = []
        for i in range(rows):
            k = (i // CREATORS) % len(KINDS)
            kind = KINDS[k].value.lower() if i % 7 == 0 else KINDS[k].value
            value = rng.randint(1, 100)
            totals[i % CREATORS][k] += value
            day, hour = 1 + i % 30, i % 24
            lines.append(
                f"ev-{i},{user_of(i % CREATORS)},{kind},{value},"
                f"2026-11-{day:02d}T{hour:02d}:{i % 60:02d}:00+00:00\n"
            )
            if len(lines) == 10_000:
                f.writelines(lines)
                lines.clear()
        f.writelines(lines)
    return time.perf_counter() - began, path.stat().st_size, totals


def head_of(source: Path, target: Path, rows: int) -> int:
    """The header and the first `rows` rows of `source` as `target`; its size."""
    with source.open("rb") as f, target.open("wb") as out:
        for _ in range(rows + 1):
            out.write(f.readline())
    return target.stat().st_size


async def chunks_of(path: Path) -> AsyncIterator[bytes]:
    """The file, CHUNK bytes at a time (never more in memory)."""
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


class RssSampler:
    """The process's RSS every SAMPLE_SECONDS in a thread, from start() to stop()."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.baseline = self.process.memory_info().rss
        self.peak = self.baseline
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            self.samples += 1
            self._stop.wait(SAMPLE_SECONDS)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)


@dataclass
class Upload:
    seconds: float
    status: int
    answer: Any
    baseline: int
    peak: int
    samples: int


async def upload(base_url: str, pid: int, token: str, path: Path) -> Upload:
    async with httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(600.0)) as client:
        await client.get("/readyz")  # the connection is open before the clock starts
        sampler = RssSampler(pid)
        sampler.start()
        began = time.perf_counter()
        try:
            response = await client.post(
                "/loyalty/metrics",
                params={"source": SOURCE},
                headers={"authorization": f"Bearer {token}", "content-type": "text/csv"},
                content=chunks_of(path),
            )
            took = time.perf_counter() - began
        finally:
            sampler.stop()
    try:
        answer: Any = response.json()
    except ValueError:
        answer = response.text[:500]
    return Upload(
        took, response.status_code, answer, sampler.baseline, sampler.peak, sampler.samples
    )


def show(rows: int, size: int, up: Upload) -> None:
    print(
        f"   {rows:>9,} rows ({mib(size)}): HTTP {up.status} in {up.seconds:.2f} s "
        f"({rows / up.seconds:,.0f} rows/s)"
    )
    if isinstance(up.answer, dict) and "rowsRead" in up.answer:
        errors = up.answer.get("errors") or []
        print(
            f"             report: rowsRead {up.answer['rowsRead']:,}, rowsImported "
            f"{up.answer['rowsImported']:,}, rowsSkipped {up.answer['rowsSkipped']:,}, "
            f"errors {len(errors)}{': ' + str(errors[:3]) if errors else ''}"
        )
    else:
        print(f"             answer: {up.answer}")
    print(
        f"             server RSS: baseline {mib(up.baseline)}, peak {mib(up.peak)}, "
        f"difference {mib(up.peak - up.baseline)} ({up.samples} samples)"
    )


async def imports(dsn: str, tenant: uuid.UUID, folder: Path) -> int:
    """Both imports; the number of progress rows the 1,000,000 rows should complete."""
    token = issue_token(TEST_SECRET, tenant=tenant, user="boss", roles=[Role.ADMIN])
    big, small = folder / "metrics-1m.csv", folder / "metrics-200k.csv"
    wrote, size, totals = write_csv(big, ROWS)
    small_size = head_of(big, small, SMALL_ROWS)
    print(f"   CSV of {ROWS:,} rows written in {wrote:.2f} s ({mib(size)}) to {big}")
    with serve_subprocess(dsn) as server:
        assert server.pid is not None
        first = await upload(server.base_url, server.pid, token, big)
    show(ROWS, size, first)
    with serve_subprocess(dsn) as server:  # a fresh process: its own baseline
        assert server.pid is not None
        second = await upload(server.base_url, server.pid, token, small)
    show(SMALL_ROWS, small_size, second)
    grown = (second.peak - second.baseline, first.peak - first.baseline)
    print(
        f"   peak growth: {mib(grown[0])} with {SMALL_ROWS:,} rows (all skipped: imported "
        f"before), {mib(grown[1])} with {ROWS:,}"
    )
    return sum(
        1
        for creator in totals
        for total in creator
        for target in (LOW_TARGET, HIGH_TARGET)
        if total >= target
    )


# ---------------------------------------------------------------- main


async def main() -> None:
    began = time.perf_counter()
    print("loyalty bench: the daily sync over 1,000,000 progress rows, a 1,000,000-row import")
    tenant = uuid.uuid4()
    boss = Principal(user_id="boss", tenant_id=tenant, roles=frozenset({Role.ADMIN}))
    async with dbs.scratch_database() as dsn:
        pool = await create_pool(dsn, min_size=1, max_size=2)
        try:
            print(f"1. set-up: one tenant, {len(TIERS)} tiers, {CREATORS:,} creators")
            await set_up(dsn, pool, boss)

            print(f"2. first sync: {len(KINDS) * 2} missions x {CREATORS:,} creators")
            first = await timed_sync(pool, tenant, FIRST_AS_OF)
            if first.progress_rows_created != len(KINDS) * 2 * CREATORS:
                print(f"   expected {len(KINDS) * 2 * CREATORS:,} rows created")
            print("   target: < 30 s")

            print("3. no-op rerun: the same as_of, no new data (all counts must be 0)")
            again = await timed_sync(pool, tenant, FIRST_AS_OF)
            if (
                again.progress_rows_created,
                again.progress_rows_updated,
                again.missions_completed,
                again.redemptions_created,
            ) != (0, 0, 0, 0):
                print("   NOT a no-op: the counts above should all be 0")
            print("   target: < 3 s")

            print(f"4. import {ROWS:,} metric rows streamed to POST /loyalty/metrics")
            with tempfile.TemporaryDirectory(prefix="allot-loyalty-") as folder:
                completing = await imports(dsn, tenant, Path(folder))
            print("   target: < 60 s, server peak RSS < 300 MB whatever the file's size")

            print("5. sync after the import: every row recomputed")
            after = await timed_sync(pool, tenant, SECOND_AS_OF)
            expected = (len(KINDS) * 2 * CREATORS, completing, completing)
            got = (after.progress_rows_updated, after.missions_completed, after.redemptions_created)
            print(
                f"   expected from the CSV: {expected[0]:,} updated, {expected[1]:,} completed "
                f"and redeemed{'' if got == expected else ' -- the counts differ'}"
            )
            print(f"   {await progress_counts(dsn, tenant)}")
        finally:
            await pool.close()
    print(f"total {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    asyncio.run(main())
