"""The poems area's tunables (built once at start from ALLOT_MAX_PLAYERS_PER_GAME, by
server.settings)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PoemsConfig:
    """How many players a game takes."""

    max_players_per_game: int = 50
