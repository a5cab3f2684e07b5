"""The poems area's background work: the turn clock, one per process.

A game with a turn timeout gives each round a deadline (set by the database as the round
begins). When it passes, the clock has bots write the round's missing lines and the round
advances, exactly once whatever the number of processes: each game is handled in its own
transaction that locks the game row and skips it when another transaction holds it (another
process's clock, the host skipping, or a player's line being counted; it is looked at again a
moment later), and the round is re-checked under the lock. Between passes the clock sleeps
until the next deadline, but never more than a second, so deadlines set by any process are
seen in time without a wake-up topic.

Every minute it also abandons unfinished games nobody touched for ALLOT_GAME_ABANDON_MINUTES
(their poems are revealed as they stand and their players see GAME_ABANDONED), deletes lobbies
abandoned that long ago, and forgets rate-limit counts older than an hour. It runs across
tenants as allot_system.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import cast

import asyncpg

from db.pool import SYSTEM_ROLE, create_pool
from services.core import background
from services.poems.config import PoemsConfig
from services.poems.flows import fill_stalled_round
from services.poems.reads import Q

log = logging.getLogger(__name__)

BATCH = 100
MAX_SLEEP_SECONDS = 1.0
RETRY_SECONDS = 0.05  # a due game was held by another transaction: look again this soon
HOUSEKEEPING_SECONDS = 60.0


async def fill_due(pool: asyncpg.Pool) -> tuple[int, bool]:
    """Fill every round past its deadline now; (rounds filled, whether some were skipped
    because another transaction held their game)."""
    async with pool.acquire() as conn:
        due = [r["id"] for r in await conn.fetch(Q["due_rounds"], BATCH)]
    filled = 0
    for game_id in due:
        async with pool.acquire() as conn, conn.transaction():
            if await fill_stalled_round(cast(asyncpg.Connection, conn), game_id):
                filled += 1
    return filled, filled < len(due)


async def housekeeping(pool: asyncpg.Pool, config: PoemsConfig) -> int:
    """Abandon idle games, delete lobbies abandoned long ago, forget old rate-limit counts;
    the number of games abandoned."""
    abandoned = 0
    async with pool.acquire() as conn:
        while True:
            ids = await conn.fetch(Q["abandon_idle"], config.abandon_minutes, BATCH)
            abandoned += len(ids)
            if len(ids) < BATCH:
                break
        await conn.execute(Q["purge_abandoned_lobbies"], config.abandon_minutes)
        await conn.execute(Q["purge_rate_limits"])
    return abandoned


class TurnClock:
    """The per-process background worker; `stop()` ends it."""

    def __init__(self, pool: asyncpg.Pool, config: PoemsConfig) -> None:
        self._pool = pool
        self._config = config
        self._task: asyncio.Task[None] | None = None
        self._last_housekeeping = float("-inf")

    @classmethod
    async def start(cls, dsn: str, config: PoemsConfig) -> TurnClock:
        """Open a small allot_system pool, handle what is already due, then run."""
        pool = await create_pool(dsn, min_size=1, max_size=2, role=SYSTEM_ROLE)
        clock = cls(pool, config)
        clock._task = await background.start(
            clock.run_once,
            log=log,
            what="turn clock pass",
            name="poems-turn-clock",
            retry_seconds=MAX_SLEEP_SECONDS,
            max_sleep_seconds=MAX_SLEEP_SECONDS,
        )
        return clock

    async def run_once(self) -> float:
        """Fill due rounds (and, every minute, keep house); how long to sleep."""
        if time.monotonic() - self._last_housekeeping >= HOUSEKEEPING_SECONDS:
            self._last_housekeeping = time.monotonic()
            abandoned = await housekeeping(self._pool, self._config)
            if abandoned:
                log.info("abandoned %d idle game(s)", abandoned)
        filled, skipped = await fill_due(self._pool)
        if filled:
            log.info("filled %d stalled round(s) with bot lines", filled)
        if skipped:
            return RETRY_SECONDS
        async with self._pool.acquire() as conn:
            seconds: float | None = await conn.fetchval(Q["seconds_to_next_deadline"])
        return MAX_SLEEP_SECONDS if seconds is None else min(max(seconds, 0.0), MAX_SLEEP_SECONDS)

    async def stop(self) -> None:
        """Stop the worker and close its pool."""
        await background.cancel(self._task)
        await self._pool.close()
