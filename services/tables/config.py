"""The tables area's tunables (built once at start from ALLOT_HOLD_TTL_SECONDS,
ALLOT_MAX_COMBINED_TABLES and ALLOT_OPTIMIZER_SECONDS, by server.settings)."""

from __future__ import annotations

from dataclasses import dataclass

from services.tables.rules import RulesConfig


@dataclass(frozen=True, slots=True)
class TablesConfig:
    """How long a hold lasts, what the rules allow, and how long optimizeFloor may search."""

    hold_ttl_seconds: float = 120.0
    max_combined_tables: int = 3
    optimizer_seconds: float = 5.0

    @property
    def rules(self) -> RulesConfig:
        """The constraint engine's configuration."""
        return RulesConfig(max_combined_tables=self.max_combined_tables)
