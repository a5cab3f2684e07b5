"""The loyalty area's background work: the daily sync, at a local time of day.

Each process runs a scheduler; at the configured time (ALLOT_DAILY_SYNC_AT, 14:00 in New
York unless set) one of them, the one that takes a session advisory lock, syncs every tenant
that has missions, each in its own transaction, and records the day (loyalty_daily_runs), so
the others find it done. A day whose time passed while no server ran is caught up at start.
The listing and the record run as allot_system; each tenant's sync as that tenant.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime, timedelta

import asyncpg

from db.pool import SYSTEM_ROLE, create_pool
from services.core import background
from services.loyalty.config import LoyaltyConfig
from services.loyalty.flows import run_sync
from services.loyalty.model import SyncReport
from services.loyalty.reads import Q

log = logging.getLogger(__name__)

RETRY_SECONDS = 60.0  # another process holds the lock, or a run failed: look again this soon


def due_at(config: LoyaltyConfig, day: date) -> datetime:
    """The moment (UTC) of the day's sync."""
    local = datetime.combine(day, config.daily_sync_at, tzinfo=config.daily_sync_zone)
    return local.astimezone(UTC)


def last_due(config: LoyaltyConfig, now: datetime) -> tuple[date, datetime]:
    """The latest scheduled day and moment at or before `now`."""
    today = now.astimezone(config.daily_sync_zone).date()
    moment = due_at(config, today)
    if moment > now:
        today -= timedelta(days=1)
        moment = due_at(config, today)
    return today, moment


async def sync_all(
    system: asyncpg.Pool, app: asyncpg.Pool, as_of: datetime
) -> dict[str, SyncReport]:
    """Sync every tenant that has missions, one transaction each; the reports by tenant."""
    async with system.acquire() as conn:
        tenants = [r["tenant_id"] for r in await conn.fetch(Q["sync_tenants"])]
    reports = {}
    for tenant in tenants:
        reports[str(tenant)] = await run_sync(app, tenant, as_of)
    return reports


class DailySync:
    """The per-process scheduler; `stop()` ends it."""

    def __init__(self, system: asyncpg.Pool, app: asyncpg.Pool, config: LoyaltyConfig) -> None:
        self._system = system
        self._app = app
        self._config = config
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, dsn: str, config: LoyaltyConfig) -> DailySync:
        """Open its pools, catch up a missed day, then wait for the next one."""
        system = await create_pool(dsn, min_size=1, max_size=2, role=SYSTEM_ROLE)
        app = await create_pool(dsn, min_size=1, max_size=1)
        scheduler = cls(system, app, config)
        scheduler._task = await background.start(
            scheduler.run_once,
            log=log,
            what="daily sync pass",
            name="loyalty-daily-sync",
            retry_seconds=RETRY_SECONDS,
            max_sleep_seconds=3600.0,  # wake hourly: clocks and zones move
        )
        return scheduler

    async def run_once(self, now: datetime | None = None) -> float:
        """Run the latest due day's sync if no process has; seconds until the next look."""
        moment = now or datetime.now(UTC)
        day, as_of = last_due(self._config, moment)
        async with self._system.acquire() as conn:
            if not await conn.fetchval(Q["scheduler_lock"]):
                return RETRY_SECONDS  # another process is running it
            try:
                if not await conn.fetchval(Q["ran_on"], day):
                    reports = await sync_all(self._system, self._app, as_of)
                    await conn.execute(Q["record_run"], day)
                    log.info("daily sync of %s done for %d tenant(s)", day, len(reports))
            finally:
                await conn.fetchval(Q["scheduler_unlock"])
        following = due_at(self._config, day + timedelta(days=1))
        return max((following - datetime.now(UTC)).total_seconds(), 1.0)

    async def stop(self) -> None:
        """Stop the scheduler and close its pools."""
        await background.cancel(self._task)
        await self._system.close()
        await self._app.close()
