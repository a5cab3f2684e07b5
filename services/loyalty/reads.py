"""The loyalty area's queries: tiers, missions, and a creator's progress with its missions."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from db.pool import tenant_transaction
from db.rows import Row
from db.sql import load
from services.core.principal import Principal, Role
from services.core.text import plain
from services.loyalty.model import (
    LoyaltyMissionKind,
    MissionView,
    ProgressStatus,
    ProgressView,
    TierView,
)

Q = load("loyalty")


def tier_of(row: Row) -> TierView:
    return TierView(row["id"], row["key"], row["name"], row["tier_order"])


def mission_of(row: Row, id_column: str = "id") -> MissionView:
    return MissionView(
        id=row[id_column],
        title=row["title"],
        kind=LoyaltyMissionKind(row["kind"]),
        target_value=row["target_value"],
        tier_eligibility=row["tier_eligibility"],
        enabled=row["enabled"],
        activated=row["activated"],
    )


def progress_of(rows: Iterable[Row]) -> list[ProgressView]:
    """progress_of rows (a progress row with its mission's columns) as views."""
    return [
        ProgressView(
            id=r["id"],
            mission=mission_of(r, "mission_id"),
            user_id=r["user_id"],
            current_value=r["current_value"],
            status=ProgressStatus(r["status"]),
            checkpoint_start=r["checkpoint_start"],
            checkpoint_end=r["checkpoint_end"],
            completed_at=r["completed_at"],
            version=r["version"],
        )
        for r in rows
    ]


async def tiers(pool: asyncpg.Pool, who: Principal) -> list[TierView]:
    """The tenant's tiers, lowest first (admins and creators)."""
    who.require(Role.ADMIN, Role.CREATOR)
    async with tenant_transaction(pool, who.tenant_id) as conn:
        return [tier_of(r) for r in await conn.fetch(Q["tiers"])]


async def missions(pool: asyncpg.Pool, who: Principal) -> list[MissionView]:
    """The tenant's missions, oldest first (admins and creators)."""
    who.require(Role.ADMIN, Role.CREATOR)
    async with tenant_transaction(pool, who.tenant_id) as conn:
        return [mission_of(r) for r in await conn.fetch(Q["missions"])]


async def progress(conn: asyncpg.Connection, user_id: str) -> list[ProgressView]:
    """A creator's progress rows with their missions (one statement)."""
    return progress_of(await conn.fetch(Q["progress_of"], user_id))


async def my_progress(pool: asyncpg.Pool, who: Principal) -> list[ProgressView]:
    """The caller's own progress (creators)."""
    who.require(Role.CREATOR)
    async with tenant_transaction(pool, who.tenant_id) as conn:
        return await progress(conn, who.user_id)


async def creator_progress(pool: asyncpg.Pool, who: Principal, user_id: str) -> list[ProgressView]:
    """Any creator's progress (admins)."""
    who.require(Role.ADMIN)
    user = user_id.strip()
    if not plain(user):
        return []  # names no creator
    async with tenant_transaction(pool, who.tenant_id) as conn:
        return await progress(conn, user)
