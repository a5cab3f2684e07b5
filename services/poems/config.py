"""The poems area's tunables (built once at start by server.settings from
ALLOT_MAX_PLAYERS_PER_GAME, ALLOT_JOINS_PER_MINUTE, ALLOT_LINES_PER_MINUTE and
ALLOT_GAME_ABANDON_MINUTES)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PoemsConfig:
    """How many players a game takes, how often a user may try to join by code and submit a
    line, and how long an unfinished game may sit idle before it is abandoned."""

    max_players_per_game: int = 50
    joins_per_minute: int = 10
    lines_per_minute: int = 30
    abandon_minutes: int = 120
