"""The poems area's words: its status and event enums, and the immutable views of games,
players, poems and lines that answers and events return.

The enums are defined here once and exposed to GraphQL as they are (schema/poems.py).

A GameView is the same for every player of the game: it never holds an unrevealed line
(poems are filled only once the game is COMPLETED), which is what lets the realtime path
read it once per event and share it between all subscribers.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID


class GameStatus(StrEnum):
    """Where a game is in its life."""

    LOBBY = "LOBBY"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"


class GameEventKind(StrEnum):
    """What happened to a game (the trigger's `kind`, plus SNAPSHOT)."""

    SNAPSHOT = "SNAPSHOT"
    PLAYER_JOINED = "PLAYER_JOINED"
    GAME_STARTED = "GAME_STARTED"
    LINE_SUBMITTED = "LINE_SUBMITTED"
    ROUND_ADVANCED = "ROUND_ADVANCED"
    GAME_COMPLETED = "GAME_COMPLETED"


@dataclass(frozen=True, slots=True)
class PlayerView:
    """One seat of a game."""

    id: UUID
    user_id: str
    display_name: str
    seat: int
    submitted_this_round: bool


@dataclass(frozen=True, slots=True)
class LineView:
    """One line of a poem and who wrote it."""

    round: int
    text: str
    author: PlayerView


@dataclass(frozen=True, slots=True)
class PoemView:
    """One poem; `lines` is empty unless the game is completed."""

    index: int
    lines: tuple[LineView, ...]


@dataclass(frozen=True, slots=True)
class GameView:
    """A game as every one of its players may see it."""

    id: UUID
    code: str
    status: GameStatus
    round: int
    round_word_counts: tuple[int, ...]
    host: PlayerView
    players: tuple[PlayerView, ...]
    poems: tuple[PoemView, ...]
    version: int

    def player(self, player_id: UUID | None) -> PlayerView | None:
        """The player with this id, if they play in this game."""
        return next((p for p in self.players if p.id == player_id), None)

    def player_of(self, user_id: str) -> PlayerView | None:
        """The player a user is in this game, if any."""
        return next((p for p in self.players if p.user_id == user_id), None)


@dataclass(frozen=True, slots=True)
class GameResult:
    """A game and the caller's player in it (create, join, start, end)."""

    game: GameView
    player: PlayerView


@dataclass(frozen=True, slots=True)
class LineResult:
    """The caller's own line and the game after it."""

    line: LineView
    game: GameView


@dataclass(frozen=True, slots=True)
class Assignment:
    """What the caller writes this round: which poem, how many words, the line before."""

    game_id: UUID
    round: int
    poem_index: int
    word_count: int
    previous_line: str | None
    submitted: bool


@dataclass(frozen=True, slots=True)
class GameChange:
    """One delta of a game's subscription: what happened, the game after it, and the player
    who joined or submitted (never what they wrote)."""

    kind: GameEventKind
    game: GameView
    player: PlayerView | None = None
