"""Demo data for `allot run`: three tiers, 50 creators, 6 missions and a week of metric
events, synced once, and a creator token to watch progress with in GraphiQL."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg

from db.pool import tenant_transaction
from services.core.principal import Principal, Role
from services.loyalty import flows, setup
from services.loyalty.model import LoyaltyMissionKind
from services.loyalty.reads import Q

CREATOR = "demo-creator-1"
TIERS = (("bronze", "Bronze", 1), ("silver", "Silver", 2), ("gold", "Gold", 3))
MISSIONS = (
    ("Sell $500", LoyaltyMissionKind.SALES_DOLLARS, 500.0, "all"),
    ("Sell 40 units", LoyaltyMissionKind.SALES_UNITS, 40.0, "all"),
    ("Post 5 videos", LoyaltyMissionKind.VIDEOS, 5.0, "bronze"),
    ("Reach 20,000 views", LoyaltyMissionKind.VIEWS, 20_000.0, "silver"),
    ("Collect 2,000 likes", LoyaltyMissionKind.LIKES, 2_000.0, "silver"),
    ("Sell $2,000", LoyaltyMissionKind.SALES_DOLLARS, 2_000.0, "gold"),
)
SOURCE = "demo-shop"


def events(now: datetime, rng: random.Random) -> list[str]:
    """A week of metric events for the 50 creators, as CSV lines (with the header)."""
    out = ["external_id,user_id,kind,value,occurred_at"]
    amounts = {
        LoyaltyMissionKind.SALES_DOLLARS: (5, 120),
        LoyaltyMissionKind.SALES_UNITS: (1, 6),
        LoyaltyMissionKind.VIDEOS: (0, 2),
        LoyaltyMissionKind.VIEWS: (200, 4000),
        LoyaltyMissionKind.LIKES: (10, 400),
    }
    for i in range(50):
        for day in range(7):
            moment = now - timedelta(days=day, hours=rng.randrange(1, 20))
            for kind, (low, high) in amounts.items():
                value = rng.randint(low, high)
                who, at = f"demo-creator-{i + 1}", moment.isoformat()
                out.append(f"e-{i}-{day}-{kind.value},{who},{kind.value.lower()},{value},{at}")
    return out


async def _lines(lines: list[str]) -> AsyncIterator[str]:
    for line in lines:
        yield line


async def seed(
    pool: asyncpg.Pool, tenant: UUID, token: Callable[[str, list[Role]], str]
) -> list[str]:
    """Set the loyalty demo up if the tenant has no tiers yet, then sync; print a token."""
    admin = Principal(user_id="demo-admin", tenant_id=tenant, roles=frozenset({Role.ADMIN}))
    async with tenant_transaction(pool, tenant) as conn:
        empty = not await conn.fetchval(Q["any_loyalty"])
    if empty:
        rng = random.Random(7)
        now = datetime.now(UTC)
        for key, name, order in TIERS:
            await setup.upsert_tier(pool, admin, key, name, order)
        for i in range(50):
            await setup.upsert_creator(
                pool,
                admin,
                user_id=f"demo-creator-{i + 1}",
                handle=f"@creator{i + 1}",
                tier_key=TIERS[i % 3][0],
                tier_achieved_at=now - timedelta(days=30),
                next_checkpoint_at=now + timedelta(days=60),
            )
        for title, kind, target, tier in MISSIONS:
            await setup.create_mission(
                pool,
                admin,
                title=title,
                kind=kind,
                target_value=target,
                tier_eligibility=tier,
                enabled=True,
                activated=True,
            )
        await flows.import_metrics(pool, admin, _lines(events(now, rng)), SOURCE)
        await flows.run_sync(pool, tenant)
    return [
        "",
        "Loyalty: 3 tiers, 50 creators, 6 missions and a week of sales, synced once.",
        f"  {CREATOR} (bronze) watches their progress with this token:",
        f'  creator: {{"Authorization": "Bearer {token(CREATOR, [Role.CREATOR])}"}}',
    ]
