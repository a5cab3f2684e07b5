"""The tasks area's background work: the reservation expirer, one per process.

An ASSIGNED assignment not accepted within its project's reservationTimeoutSeconds expires
and its task returns to the pool (cooling down when the project says so). Each pass is one
statement per batch that skips reservations another transaction holds (an accept at the same
moment, or another process's expirer), so several processes never expire one twice and never
wait on each other. Between passes the expirer sleeps until the next deadline, but never more
than a second: a reservation placed by any process (the shortest timeout is a second) is seen
before it is due, without a wake-up topic. It runs across tenants as allot_system; reservations
that ran out while no server was running are expired by the first pass, before `start` returns.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from db.pool import SYSTEM_ROLE, create_pool
from services.core import background
from services.tasks.reads import Q

log = logging.getLogger(__name__)

BATCH = 500
MAX_SLEEP_SECONDS = 1.0


async def expire_due(pool: asyncpg.Pool) -> int:
    """Expire every reservation past its deadline now; the number expired."""
    expired = 0
    while True:
        async with pool.acquire() as conn:
            freed = await conn.fetch(Q["expire_due"], BATCH)
        expired += len(freed)
        if len(freed) < BATCH:
            return expired


class ReservationExpirer:
    """The per-process background worker; `stop()` ends it."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, dsn: str) -> ReservationExpirer:
        """Open a small allot_system pool, expire what is already due, then run."""
        pool = await create_pool(dsn, min_size=1, max_size=2, role=SYSTEM_ROLE)
        expirer = cls(pool)
        expirer._task = await background.start(
            expirer.run_once,
            log=log,
            what="reservation expiry pass",
            name="tasks-reservation-expirer",
            retry_seconds=MAX_SLEEP_SECONDS,
            max_sleep_seconds=MAX_SLEEP_SECONDS,
        )
        return expirer

    async def run_once(self) -> float:
        """Expire what is due; return how long to sleep before the next pass."""
        expired = await expire_due(self._pool)
        if expired:
            log.info("expired %d task reservation(s)", expired)
        async with self._pool.acquire() as conn:
            seconds: float | None = await conn.fetchval(Q["seconds_to_next_reservation"])
        return MAX_SLEEP_SECONDS if seconds is None else min(max(seconds, 0.0), MAX_SLEEP_SECONDS)

    async def stop(self) -> None:
        """Stop the worker and close its pool."""
        await background.cancel(self._task)
        await self._pool.close()
