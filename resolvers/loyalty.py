"""Loyalty resolvers: the caller and the input, one service call, its result."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import TYPE_CHECKING

from schema.context import Context
from services.loyalty import flows, live, reads, setup
from services.loyalty.inputs import lines_of_text
from services.loyalty.model import (
    CreatorView,
    ImportReport,
    MissionView,
    ProgressView,
    SyncReport,
    TierView,
)
from services.realtime.stream import Delta, Snapshot

if TYPE_CHECKING:
    from schema.loyalty import (
        CreateLoyaltyMissionInput,
        UpdateLoyaltyMissionInput,
        UpsertCreatorInput,
    )


async def tiers(context: Context) -> list[TierView]:
    return await reads.tiers(context.pool, context.who())


async def loyalty_missions(context: Context) -> list[MissionView]:
    return await reads.missions(context.pool, context.who())


async def my_mission_progress(context: Context) -> list[ProgressView]:
    return await reads.my_progress(context.pool, context.who())


async def creator_progress(context: Context, user_id: str) -> list[ProgressView]:
    return await reads.creator_progress(context.pool, context.who(), user_id)


async def upsert_tier(context: Context, key: str, name: str, order: int) -> TierView:
    return await setup.upsert_tier(context.pool, context.who(), key, name, order)


async def create_loyalty_mission(context: Context, i: CreateLoyaltyMissionInput) -> MissionView:
    return await setup.create_mission(
        context.pool,
        context.who(),
        title=i.title,
        kind=i.kind,
        target_value=i.target_value,
        tier_eligibility=i.tier_eligibility,
        enabled=i.enabled,
        activated=i.activated,
    )


async def update_loyalty_mission(context: Context, i: UpdateLoyaltyMissionInput) -> MissionView:
    return await setup.update_mission(
        context.pool,
        context.who(),
        str(i.mission_id),
        title=i.title,
        target_value=i.target_value,
        enabled=i.enabled,
        activated=i.activated,
    )


async def upsert_creator(context: Context, i: UpsertCreatorInput) -> CreatorView:
    return await setup.upsert_creator(
        context.pool,
        context.who(),
        user_id=str(i.user_id),
        handle=i.handle,
        tier_key=i.tier_key,
        tier_achieved_at=i.tier_achieved_at,
        next_checkpoint_at=i.next_checkpoint_at,
    )


async def import_metrics(context: Context, csv: str, source: str) -> ImportReport:
    return await flows.import_metrics(context.pool, context.who(), lines_of_text(csv), source)


async def run_daily_sync(context: Context, as_of: datetime | None) -> SyncReport:
    return await flows.run_daily_sync(context.pool, context.who(), as_of)


async def claim_mission_reward(context: Context, progress_id: str) -> ProgressView:
    return await flows.claim_reward(context.pool, context.who(), progress_id)


def my_progress_events(
    context: Context,
) -> AsyncIterator[Snapshot[list[ProgressView]] | Delta[list[ProgressView]]]:
    return live.my_progress_events(context.pool, context.hub, context.who())
