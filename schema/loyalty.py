"""Loyalty (issue 001): tiers, creators, missions, progress, imports and the daily sync."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated

import strawberry

from resolvers import loyalty as resolve
from schema.context import Info
from schema.errors import Error, FieldError, Forbidden, InvalidInput, NotFound
from schema.fanout import shared_events
from services.loyalty import errors as domain
from services.loyalty import model
from services.loyalty.model import LoyaltyMissionKind, ProgressStatus
from services.realtime.stream import Delta, Snapshot

# ---------------------------------------------------------------- types

strawberry.enum(LoyaltyMissionKind, description="What a mission counts.")
strawberry.enum(ProgressStatus)


@strawberry.type(description="A creator tier; a higher order is a higher tier.")
class Tier:
    id: strawberry.ID
    key: str
    name: str
    order: int

    @classmethod
    def of(cls, v: model.TierView) -> Tier:
        return cls(id=strawberry.ID(str(v.id)), key=v.key, name=v.name, order=v.order)


@strawberry.type(description="A mission open to a tier and the tiers above it, or to all.")
class LoyaltyMission:
    id: strawberry.ID
    title: str
    kind: LoyaltyMissionKind
    target_value: float
    tier_eligibility: str = strawberry.field(description='A tier key, or "all".')
    enabled: bool
    activated: bool

    @classmethod
    def of(cls, v: model.MissionView) -> LoyaltyMission:
        return cls(
            id=strawberry.ID(str(v.id)),
            title=v.title,
            kind=v.kind,
            target_value=v.target_value,
            tier_eligibility=v.tier_eligibility,
            enabled=v.enabled,
            activated=v.activated,
        )


@strawberry.type(description="A creator's progress on a mission.")
class MissionProgress:
    id: strawberry.ID
    mission: LoyaltyMission
    user_id: strawberry.ID
    current_value: float
    status: ProgressStatus
    checkpoint_start: datetime | None = strawberry.field(
        description="The creator's tierAchievedAt when the row was made; never changes."
    )
    checkpoint_end: datetime | None = strawberry.field(
        description="The creator's nextCheckpointAt when the row was made; never changes."
    )
    completed_at: datetime | None
    version: int

    @classmethod
    def of(cls, v: model.ProgressView) -> MissionProgress:
        return cls(
            id=strawberry.ID(str(v.id)),
            mission=LoyaltyMission.of(v.mission),
            user_id=strawberry.ID(v.user_id),
            current_value=v.current_value,
            status=v.status,
            checkpoint_start=v.checkpoint_start,
            checkpoint_end=v.checkpoint_end,
            completed_at=v.completed_at,
            version=v.version,
        )


@strawberry.type
class Creator:
    user_id: strawberry.ID
    handle: str
    tier: Tier
    tier_achieved_at: datetime
    next_checkpoint_at: datetime | None

    @classmethod
    def of(cls, v: model.CreatorView) -> Creator:
        return cls(
            user_id=strawberry.ID(v.user_id),
            handle=v.handle,
            tier=Tier.of(v.tier),
            tier_achieved_at=v.tier_achieved_at,
            next_checkpoint_at=v.next_checkpoint_at,
        )


@strawberry.type(description="What an import did; when `errors` is not empty nothing was.")
class ImportReport:
    rows_read: int
    rows_imported: int
    rows_skipped: int = strawberry.field(
        description="Already imported before (the same source and external id)."
    )
    errors: list[FieldError] = strawberry.field(
        description='Each problem with its line and column: field "line 7: value", message '
        '"\\"12,5\\" is not a number".'
    )

    @classmethod
    def of(cls, v: model.ImportReport) -> ImportReport:
        return cls(
            rows_read=v.rows_read,
            rows_imported=v.rows_imported,
            rows_skipped=v.rows_skipped,
            errors=[FieldError(field=e.field, message=e.message) for e in v.errors],
        )


@strawberry.type
class DailySyncReport:
    progress_rows_created: int
    progress_rows_updated: int
    missions_completed: int
    redemptions_created: int
    skipped: list[str] = strawberry.field(
        description="Creators or missions skipped, each with why (a tier with no tier row)."
    )

    @classmethod
    def of(cls, v: model.SyncReport) -> DailySyncReport:
        return cls(
            progress_rows_created=v.progress_rows_created,
            progress_rows_updated=v.progress_rows_updated,
            missions_completed=v.missions_completed,
            redemptions_created=v.redemptions_created,
            skipped=list(v.skipped),
        )


# ---------------------------------------------------------------- inputs and results


@strawberry.input
class UpsertTierInput:
    key: str
    name: str
    order: int


@strawberry.input
class CreateLoyaltyMissionInput:
    title: str
    kind: LoyaltyMissionKind
    target_value: float
    tier_eligibility: str = strawberry.field(
        description='A tier key (it may be set up later) or "all".'
    )
    enabled: bool
    activated: bool


@strawberry.input
class UpdateLoyaltyMissionInput:
    mission_id: strawberry.ID
    title: str | None = None
    target_value: float | None = None
    enabled: bool | None = None
    activated: bool | None = None


@strawberry.input
class UpsertCreatorInput:
    user_id: strawberry.ID
    handle: str
    tier_key: str
    tier_achieved_at: datetime
    next_checkpoint_at: datetime | None = None


@strawberry.input
class ImportMetricsInput:
    csv: str = strawberry.field(
        description="A header of external_id,user_id,kind,value,occurred_at (any order), then "
        "one event per line. For large files, POST the file to /loyalty/metrics instead."
    )
    source: str


@strawberry.input
class RunDailySyncInput:
    as_of: datetime | None = strawberry.field(
        default=None, description="Count events up to this moment (default: now)."
    )


@strawberry.input
class ClaimMissionRewardInput:
    progress_id: strawberry.ID


@strawberry.type
class NotClaimable(Error):
    status: ProgressStatus

    @classmethod
    def of(cls, err: domain.NotClaimable) -> NotClaimable:
        return cls(code=err.code, message=err.message, status=err.status)


UpsertTierResult = Annotated[Tier | InvalidInput | Forbidden, strawberry.union("UpsertTierResult")]
CreateLoyaltyMissionResult = Annotated[
    LoyaltyMission | InvalidInput | Forbidden, strawberry.union("CreateLoyaltyMissionResult")
]
UpdateLoyaltyMissionResult = Annotated[
    LoyaltyMission | InvalidInput | NotFound | Forbidden,
    strawberry.union("UpdateLoyaltyMissionResult"),
]
UpsertCreatorResult = Annotated[
    Creator | InvalidInput | NotFound | Forbidden, strawberry.union("UpsertCreatorResult")
]
ImportMetricsResult = Annotated[
    ImportReport | InvalidInput | Forbidden, strawberry.union("ImportMetricsResult")
]
RunDailySyncResult = Annotated[DailySyncReport | Forbidden, strawberry.union("RunDailySyncResult")]
ClaimMissionRewardResult = Annotated[
    MissionProgress | NotClaimable | NotFound | Forbidden,
    strawberry.union("ClaimMissionRewardResult"),
]


# ---------------------------------------------------------------- events


@strawberry.type(description="All of your progress rows: a SNAPSHOT, then after each change.")
class ProgressEvent:
    sequence: int
    resync: bool
    progress: list[MissionProgress]


def _event(
    event: Snapshot[list[model.ProgressView]] | Delta[list[model.ProgressView]],
) -> ProgressEvent:
    return ProgressEvent(
        sequence=event.sequence,
        resync=isinstance(event, Snapshot) and event.resync,
        progress=[MissionProgress.of(p) for p in event.data],
    )


# ---------------------------------------------------------------- roots


@strawberry.type
class Query:
    @strawberry.field(description="The tenant's tiers, lowest first.")
    async def tiers(self, info: Info) -> list[Tier]:
        return [Tier.of(t) for t in await resolve.tiers(info.context)]

    @strawberry.field(description="The tenant's missions.")
    async def loyalty_missions(self, info: Info) -> list[LoyaltyMission]:
        return [LoyaltyMission.of(m) for m in await resolve.loyalty_missions(info.context)]

    @strawberry.field(description="Your progress on every mission you take part in (creators).")
    async def my_mission_progress(self, info: Info) -> list[MissionProgress]:
        return [MissionProgress.of(p) for p in await resolve.my_mission_progress(info.context)]

    @strawberry.field(description="A creator's progress (admins).")
    async def creator_progress(self, info: Info, user_id: strawberry.ID) -> list[MissionProgress]:
        rows = await resolve.creator_progress(info.context, user_id)
        return [MissionProgress.of(p) for p in rows]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create a tier, or rename and reorder the one with the key.")
    async def upsert_tier(self, info: Info, input: UpsertTierInput) -> UpsertTierResult:
        return Tier.of(await resolve.upsert_tier(info.context, input.key, input.name, input.order))

    @strawberry.mutation(description="Create a mission (admins).")
    async def create_loyalty_mission(
        self, info: Info, input: CreateLoyaltyMissionInput
    ) -> CreateLoyaltyMissionResult:
        return LoyaltyMission.of(await resolve.create_loyalty_mission(info.context, input))

    @strawberry.mutation(
        description="Change a mission's title, target, enabled or activated (admins); the next "
        "sync acts on it."
    )
    async def update_loyalty_mission(
        self, info: Info, input: UpdateLoyaltyMissionInput
    ) -> UpdateLoyaltyMissionResult:
        return LoyaltyMission.of(await resolve.update_loyalty_mission(info.context, input))

    @strawberry.mutation(description="Create or update a creator (admins); the tier must exist.")
    async def upsert_creator(self, info: Info, input: UpsertCreatorInput) -> UpsertCreatorResult:
        return Creator.of(await resolve.upsert_creator(info.context, input))

    @strawberry.mutation(
        description="Import metric events from CSV, all or none (admins); events imported "
        "before (same source and external id) are skipped."
    )
    async def import_metrics(self, info: Info, input: ImportMetricsInput) -> ImportMetricsResult:
        report = await resolve.import_metrics(info.context, input.csv, input.source)
        return ImportReport.of(report)

    @strawberry.mutation(
        description="Run the daily sync for your tenant now (admins): safe to run again."
    )
    async def run_daily_sync(self, info: Info, input: RunDailySyncInput) -> RunDailySyncResult:
        return DailySyncReport.of(await resolve.run_daily_sync(info.context, input.as_of))

    @strawberry.mutation(description="Claim a completed mission's reward, once (creators).")
    async def claim_mission_reward(
        self, info: Info, input: ClaimMissionRewardInput
    ) -> ClaimMissionRewardResult:
        return MissionProgress.of(
            await resolve.claim_mission_reward(info.context, input.progress_id)
        )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="SNAPSHOT of your progress, then all of it again after each sync or claim "
        "that changed it (creators)."
    )
    def my_progress_events(self, info: Info) -> AsyncGenerator[ProgressEvent, None]:
        return shared_events(
            resolve.my_progress_events(info.context), snapshot=_event, delta=_event
        )
