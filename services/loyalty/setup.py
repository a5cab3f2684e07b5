"""Loyalty setup, for the tenant's admins, one transaction each: tiers, missions, creators."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from db.errors import ConstraintViolation, translated
from db.pool import tenant_transaction
from services.core.ids import parse_id
from services.core.principal import Principal, Role
from services.core.tenants import ensure_tenant
from services.errors import InvalidInput, Problems
from services.loyalty import inputs
from services.loyalty.errors import CONSTRAINTS, no_such_mission
from services.loyalty.model import CreatorView, LoyaltyMissionKind, MissionView, TierView
from services.loyalty.reads import Q, mission_of, tier_of


def _refused(rule: ConstraintViolation) -> InvalidInput:
    return InvalidInput.one(rule.field or "input", rule.message)


async def upsert_tier(
    pool: asyncpg.Pool, who: Principal, key: str, name: str, order: int
) -> TierView:
    """Create a tier, or rename and reorder the one with this key."""
    who.require(Role.ADMIN)
    clean = inputs.tier(key, name, order)
    async with tenant_transaction(pool, who.tenant_id) as conn:
        await ensure_tenant(conn)
        row = await conn.fetchrow(Q["upsert_tier"], *clean)
    assert row is not None
    return tier_of(row)


async def create_mission(
    pool: asyncpg.Pool,
    who: Principal,
    *,
    title: str,
    kind: LoyaltyMissionKind,
    target_value: float,
    tier_eligibility: str,
    enabled: bool,
    activated: bool,
) -> MissionView:
    """A new mission; its tier may be set up later (until then the sync skips and reports it)."""
    who.require(Role.ADMIN)
    problems = Problems()
    clean_title, target = inputs.mission_fields(problems, title, target_value)
    eligibility = inputs.tier_eligibility(problems, tier_eligibility)
    problems.raise_if_any()
    async with tenant_transaction(pool, who.tenant_id) as conn:
        await ensure_tenant(conn)
        row = await conn.fetchrow(
            *Q.bind(
                "insert_mission",
                title=clean_title,
                kind=kind.value,
                target_value=target,
                tier_eligibility=eligibility,
                enabled=enabled,
                activated=activated,
            )
        )
    assert row is not None
    return mission_of(row)


async def update_mission(
    pool: asyncpg.Pool,
    who: Principal,
    raw_id: str,
    *,
    title: str | None = None,
    target_value: float | None = None,
    enabled: bool | None = None,
    activated: bool | None = None,
) -> MissionView:
    """Change a mission's title, target, enabled or activated (the next sync acts on it)."""
    who.require(Role.ADMIN)
    problems = Problems()
    clean_title, target = inputs.mission_fields(problems, title, target_value)
    problems.raise_if_any()
    mission_id = parse_id(raw_id)
    if mission_id is None:
        raise no_such_mission()
    async with tenant_transaction(pool, who.tenant_id) as conn:
        row = await conn.fetchrow(
            *Q.bind(
                "update_mission",
                mission_id=mission_id,
                title=clean_title,
                target_value=target,
                enabled=enabled,
                activated=activated,
            )
        )
    if row is None:
        raise no_such_mission()
    return mission_of(row)


async def upsert_creator(
    pool: asyncpg.Pool,
    who: Principal,
    *,
    user_id: str,
    handle: str,
    tier_key: str,
    tier_achieved_at: datetime,
    next_checkpoint_at: datetime | None,
) -> CreatorView:
    """Create or update a creator; their tier must exist (InvalidInput naming `tierKey`)."""
    who.require(Role.ADMIN)
    user, clean_handle, key = inputs.creator(user_id, handle, tier_key)
    try:
        async with translated(CONSTRAINTS), tenant_transaction(pool, who.tenant_id) as conn:
            await ensure_tenant(conn)
            tier = await conn.fetchrow(Q["tier_by_key"], key)
            if tier is None:
                raise InvalidInput.one("tierKey", f"no tier has the key {key!r}")
            row = await conn.fetchrow(
                *Q.bind(
                    "upsert_creator",
                    user_id=user,
                    handle=clean_handle,
                    tier_key=key,
                    tier_achieved_at=tier_achieved_at,
                    next_checkpoint_at=next_checkpoint_at,
                )
            )
    except ConstraintViolation as rule:
        raise _refused(rule) from rule
    assert row is not None
    return CreatorView(
        row["user_id"],
        row["handle"],
        tier_of(tier),
        row["tier_achieved_at"],
        row["next_checkpoint_at"],
    )
