"""The loyalty area's words: mission kinds and progress statuses, and the immutable views of
tiers, creators, missions, progress rows and the reports of imports and syncs.

The enums are defined here once and exposed to GraphQL as they are (schema/loyalty.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final
from uuid import UUID

ALL_TIERS: Final = "all"
"""A mission's tier eligibility that opens it to every creator."""


class LoyaltyMissionKind(StrEnum):
    """What a mission counts (the metric events of the same kind)."""

    SALES_DOLLARS = "SALES_DOLLARS"
    SALES_UNITS = "SALES_UNITS"
    VIDEOS = "VIDEOS"
    VIEWS = "VIEWS"
    LIKES = "LIKES"


class ProgressStatus(StrEnum):
    """Where a creator's progress on a mission is: counting, waiting for activation, done,
    or its reward claimed."""

    ACTIVE = "ACTIVE"
    DORMANT = "DORMANT"
    COMPLETED = "COMPLETED"
    CLAIMED = "CLAIMED"


@dataclass(frozen=True, slots=True)
class TierView:
    id: UUID
    key: str
    name: str
    order: int


@dataclass(frozen=True, slots=True)
class CreatorView:
    user_id: str
    handle: str
    tier: TierView
    tier_achieved_at: datetime
    next_checkpoint_at: datetime | None


@dataclass(frozen=True, slots=True)
class MissionView:
    id: UUID
    title: str
    kind: LoyaltyMissionKind
    target_value: float
    tier_eligibility: str
    enabled: bool
    activated: bool


@dataclass(frozen=True, slots=True)
class ProgressView:
    id: UUID
    mission: MissionView
    user_id: str
    current_value: float
    status: ProgressStatus
    checkpoint_start: datetime | None
    checkpoint_end: datetime | None
    completed_at: datetime | None
    version: int


@dataclass(frozen=True, slots=True)
class LineError:
    """One problem of an import: where (a line and column, or the file) and what."""

    field: str
    message: str


@dataclass(frozen=True, slots=True)
class ImportReport:
    rows_read: int
    rows_imported: int
    rows_skipped: int
    errors: tuple[LineError, ...]


@dataclass(frozen=True, slots=True)
class SyncReport:
    progress_rows_created: int
    progress_rows_updated: int
    missions_completed: int
    redemptions_created: int
    skipped: tuple[str, ...]
