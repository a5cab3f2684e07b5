"""The loyalty area's tunables (built once at start from ALLOT_DAILY_SYNC_AT, by
server.settings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from typing import Final
from zoneinfo import ZoneInfo

NEW_YORK: Final = ZoneInfo("America/New_York")


@dataclass(frozen=True, slots=True)
class LoyaltyConfig:
    """When the daily sync runs: a local time of day in a time zone."""

    daily_sync_at: time = time(14, 0)
    daily_sync_zone: ZoneInfo = field(default=NEW_YORK)


def parse_daily_sync_at(raw: str) -> LoyaltyConfig:
    """'14:00 America/New_York' as a LoyaltyConfig; ValueError saying what is wrong."""
    parts = raw.split()
    if len(parts) != 2:
        raise ValueError("expected 'HH:MM Area/City', for example '14:00 America/New_York'")
    at = time.fromisoformat(parts[0])
    return LoyaltyConfig(daily_sync_at=at, daily_sync_zone=ZoneInfo(parts[1]))
