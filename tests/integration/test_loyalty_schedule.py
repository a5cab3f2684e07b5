"""The daily sync's schedule: due at a local time, run by one process for every tenant, and a
day missed while no server ran caught up at start."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from services.core.principal import Principal, Role
from services.loyalty import reads, setup
from services.loyalty.config import LoyaltyConfig, parse_daily_sync_at
from services.loyalty.model import LoyaltyMissionKind
from services.loyalty.workers import DailySync, due_at, last_due

pytestmark = pytest.mark.integration

NEW_YORK = ZoneInfo("America/New_York")
CONFIG = LoyaltyConfig(time(14, 0), NEW_YORK)


def test_due_at__is_the_local_time_in_its_zone_across_daylight_saving() -> None:
    assert due_at(CONFIG, date(2026, 1, 15)) == datetime(2026, 1, 15, 19, 0, tzinfo=UTC)
    assert due_at(CONFIG, date(2026, 7, 15)) == datetime(2026, 7, 15, 18, 0, tzinfo=UTC)
    before = datetime(2026, 7, 15, 17, 59, tzinfo=UTC)
    assert last_due(CONFIG, before) == (date(2026, 7, 14), datetime(2026, 7, 14, 18, 0, tzinfo=UTC))
    assert parse_daily_sync_at("06:30 Europe/Paris") == LoyaltyConfig(
        time(6, 30), ZoneInfo("Europe/Paris")
    )
    with pytest.raises(ValueError):
        parse_daily_sync_at("2pm")


async def _tenant_with_a_mission(pool: asyncpg.Pool) -> uuid.UUID:
    tenant = uuid.uuid4()
    boss = Principal(user_id="boss", tenant_id=tenant, roles=frozenset({Role.ADMIN}))
    await setup.upsert_tier(pool, boss, "bronze", "Bronze", 1)
    await setup.upsert_creator(
        pool,
        boss,
        user_id="cat",
        handle="@cat",
        tier_key="bronze",
        tier_achieved_at=datetime(2026, 1, 1, tzinfo=UTC),
        next_checkpoint_at=None,
    )
    await setup.create_mission(
        pool,
        boss,
        title="Post",
        kind=LoyaltyMissionKind.VIDEOS,
        target_value=5,
        tier_eligibility="all",
        enabled=True,
        activated=True,
    )
    return tenant


async def test_two_schedulers_at_start__sync_every_tenant_once_for_the_missed_day(
    pool, dsn
) -> None:
    tenants = [await _tenant_with_a_mission(pool) for _ in range(2)]
    first, second = await asyncio.gather(DailySync.start(dsn, CONFIG), DailySync.start(dsn, CONFIG))
    try:
        for tenant in tenants:
            boss = Principal(user_id="boss", tenant_id=tenant, roles=frozenset({Role.ADMIN}))
            assert len(await reads.creator_progress(pool, boss, "cat")) == 1
        conn = await asyncpg.connect(dsn)
        try:
            days = await conn.fetch("select day from loyalty_daily_runs")
        finally:
            await conn.close()
        assert [d["day"] for d in days] == [last_due(CONFIG, datetime.now(UTC))[0]]
        # The day is done: neither runs it again.
        assert await first.run_once() > 1 and await second.run_once() > 1
    finally:
        await first.stop()
        await second.stop()
