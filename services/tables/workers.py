"""The tables area's background work: the hold expirer, one per process, asleep until the
earliest hold runs out.

It wakes at the earliest `hold_expires_at` of any HELD session, or sooner when a hold is placed
(in this process through `hold_placed`, in others through the hub's topic live.HOLDS). Each due
booking is handled in its own transaction that skips bookings another transaction has locked,
so several processes never handle one twice and never wait on each other; a skipped booking is
retried a moment later. Expiring marks the sessions EXPIRED, releases their holds (the floor
sees HOLD_EXPIRED) and re-validates PROPOSED sessions on those tables, all in one transaction.
Every few minutes it also expires the PROPOSED sessions of bookings that are over.
It runs across tenants as allot_system. Holds that ran out while no server was running are
handled by the first pass, before `start` returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast
from uuid import UUID

import asyncpg

from db.pool import SYSTEM_ROLE, create_pool
from db.sql import load
from services.realtime.hub import Hub
from services.tables import plan, store
from services.tables.config import TablesConfig
from services.tables.live import HOLDS

log = logging.getLogger(__name__)

Q = load("tables")

BATCH = 100
IDLE_SECONDS = 30.0  # sleep at most this long with nothing due (a safety net, not the mechanism)
RETRY_SECONDS = 0.05  # a due booking was locked by another transaction: look again this soon
# After a wake-up (a hold placed here or anywhere), wait this long before recomputing the next
# deadline, so a busy evening's stream of new holds costs one query per interval, not one each.
WAKE_COALESCE_SECONDS = 0.05
# Housekeeping this often (and at start): released allocations past KEEP_RELEASED_SECONDS are
# deleted, and the proposals of bookings that are over expire.
PURGE_EVERY_SECONDS = 600.0
KEEP_RELEASED_SECONDS = 86400.0


# The expirers of this process: a hold placed here wakes them without a round trip through
# the hub (holds placed by other processes reach them on the topic HOLDS).
_waiters: set[asyncio.Event] = set()


def hold_placed() -> None:
    """Tell this process's expirers that a hold was placed or extended."""
    for event in tuple(_waiters):
        event.set()


@asynccontextmanager
async def _transaction(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    async with pool.acquire() as conn, conn.transaction():
        yield cast(asyncpg.Connection, conn)


async def expire_booking(pool: asyncpg.Pool, booking_id: UUID, config: TablesConfig) -> bool:
    """Expire the booking's due holds (and, once it is over, its proposals); False if another
    transaction holds the booking."""
    async with _transaction(pool) as conn:
        locked = await store.lock_and_read(conn, booking_id=booking_id, skip_locked=True)
        if locked is None:
            return False
        decided = plan.expire(locked.scope, config.rules)
        if decided.close:
            await store.commit(conn, locked, decided)
            log.info("expired %d hold(s) of booking %s", len(decided.close), booking_id)
        return True


async def expire_due(
    pool: asyncpg.Pool, config: TablesConfig, query: str = "due_hold_bookings"
) -> tuple[int, bool]:
    """Expire every due hold now (or, with query="bookings_over_with_proposals", the
    proposals of bookings that are over); return (bookings handled, whether some were
    skipped)."""
    handled = 0
    for _ in range(1000):  # bounded: each round either handles bookings or stops
        async with pool.acquire() as conn:
            due = [r["booking_id"] for r in await conn.fetch(Q[query], BATCH)]
        if not due:
            return handled, False
        done = 0
        for booking_id in due:
            if await expire_booking(pool, booking_id, config):
                done += 1
        handled += done
        if done < len(due):
            return handled, True
    return handled, True


class HoldExpirer:
    """The per-process background worker; `stop()` ends it."""

    def __init__(self, pool: asyncpg.Pool, hub: Hub | None, config: TablesConfig) -> None:
        self._pool = pool
        self._hub = hub
        self._config = config
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._last_purge = float("-inf")  # housekeeping in the first pass too

    @classmethod
    async def start(cls, dsn: str, hub: Hub | None, config: TablesConfig) -> HoldExpirer:
        """Open a small allot_system pool, expire what is already due, then run."""
        pool = await create_pool(dsn, min_size=1, max_size=2, role=SYSTEM_ROLE)
        expirer = cls(pool, hub, config)
        _waiters.add(expirer._wake)
        try:
            await expirer.run_once()
        except Exception:
            log.exception("the first hold expiry pass failed; it will be retried")
        expirer._tasks.append(asyncio.create_task(expirer._loop(), name="tables-hold-expirer"))
        if hub is not None:
            expirer._tasks.append(asyncio.create_task(expirer._listen(), name="tables-hold-wake"))
        return expirer

    async def run_once(self) -> float | None:
        """Expire what is due; return seconds until the next hold runs out (None: no holds).

        Woken by holds placed anywhere (a burst at a time), it usually only re-reads the next
        deadline.
        """
        if time.monotonic() - self._last_purge > PURGE_EVERY_SECONDS:
            self._last_purge = time.monotonic()
            async with self._pool.acquire() as conn:
                await conn.execute(Q["purge_released"], KEEP_RELEASED_SECONDS)
            await expire_due(self._pool, self._config, "bookings_over_with_proposals")
        seconds = await self._seconds_to_next()
        if seconds is None or seconds > 0:
            return seconds
        _, skipped = await expire_due(self._pool, self._config)
        seconds = await self._seconds_to_next()
        if skipped:
            return RETRY_SECONDS if seconds is None else min(seconds, RETRY_SECONDS)
        return seconds

    async def _seconds_to_next(self) -> float | None:
        async with self._pool.acquire() as conn:
            seconds: float | None = await conn.fetchval(Q["seconds_to_next_expiry"])
        return seconds

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                seconds = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("hold expiry pass failed; retrying in a second")
                seconds = 1.0
            timeout = IDLE_SECONDS if seconds is None else min(max(seconds, 0.0), IDLE_SECONDS)
            try:
                # A few ms late rather than early: a pass before the deadline finds nothing.
                await asyncio.wait_for(self._wake.wait(), timeout + 0.005)
            except TimeoutError:
                continue
            await asyncio.sleep(min(WAKE_COALESCE_SECONDS, timeout + 0.005))

    async def _listen(self) -> None:
        assert self._hub is not None
        async with self._hub.listen(HOLDS) as subscriber:
            while True:
                await subscriber.get()  # a hold anywhere (or a resync): recompute the deadline
                self._wake.set()

    async def stop(self) -> None:
        """Stop the worker and close its pool."""
        _waiters.discard(self._wake)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        await self._pool.close()
