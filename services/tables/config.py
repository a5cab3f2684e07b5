"""The tables area's tunables (built once at start from ALLOT_HOLD_TTL_SECONDS and
ALLOT_MAX_COMBINED_TABLES, by server.settings)."""

from __future__ import annotations

from dataclasses import dataclass

from services.tables.rules import RulesConfig


@dataclass(frozen=True, slots=True)
class TablesConfig:
    """How long a hold lasts and what the rules allow."""

    hold_ttl_seconds: float = 120.0
    max_combined_tables: int = 3

    @property
    def rules(self) -> RulesConfig:
        """The constraint engine's configuration."""
        return RulesConfig(max_combined_tables=self.max_combined_tables)
