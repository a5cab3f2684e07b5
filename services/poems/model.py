"""The poems area's words: its status and event enums, and the immutable views of games,
players, poems and lines that answers and events return.

The enums are defined here once and exposed to GraphQL as they are (schema/poems.py).

A GameView is the same for every player of the game: it never holds an unrevealed line
(poems are filled only once the game is COMPLETED), which is what lets the realtime path
read it once per event and share it between all subscribers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID


class GameStatus(StrEnum):
    """Where a game is in its life."""

    LOBBY = "LOBBY"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    ABANDONED = "ABANDONED"  # unfinished and idle for ALLOT_GAME_ABANDON_MINUTES

    @property
    def over(self) -> bool:
        """Finished, one way or the other: the poems are revealed."""
        return self in (GameStatus.COMPLETED, GameStatus.ABANDONED)


class GameEventKind(StrEnum):
    """What happened to a game (the trigger's `kind`, plus SNAPSHOT)."""

    SNAPSHOT = "SNAPSHOT"
    PLAYER_JOINED = "PLAYER_JOINED"
    PLAYER_LEFT = "PLAYER_LEFT"
    HOST_CHANGED = "HOST_CHANGED"
    GAME_STARTED = "GAME_STARTED"
    LINE_SUBMITTED = "LINE_SUBMITTED"
    ROUND_ADVANCED = "ROUND_ADVANCED"
    GAME_COMPLETED = "GAME_COMPLETED"
    GAME_ABANDONED = "GAME_ABANDONED"


@dataclass(frozen=True, slots=True)
class PlayerView:
    """One seat of a game."""

    id: UUID
    user_id: str
    display_name: str
    seat: int
    submitted_this_round: bool
    is_bot: bool = False
    left: bool = False  # left mid-game: a bot writes their remaining lines


@dataclass(frozen=True, slots=True)
class LineView:
    """One line of a poem, the seat's player, and whether a bot wrote it for them."""

    round: int
    text: str
    author: PlayerView
    by_bot: bool = False


@dataclass(frozen=True, slots=True)
class PoemView:
    """One poem; `lines` is empty until the game is over. `favorited_by_me` is the viewer's
    own mark (False in the view players share, set by reads.for_viewer)."""

    index: int
    lines: tuple[LineView, ...]
    favorited_by_me: bool = False


@dataclass(frozen=True, slots=True)
class ReaderView:
    """Who reads which poem aloud at the reveal."""

    poem_index: int
    reader: PlayerView


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
    readers: tuple[ReaderView, ...] = ()
    turn_seconds: int | None = None
    round_deadline: datetime | None = None
    completed_at: datetime | None = None

    def with_favorites(self, favorites: frozenset[int]) -> GameView:
        """The game as one viewer sees it: their favourite poems marked."""
        if not favorites:
            return self
        poems = tuple(replace(p, favorited_by_me=p.index in favorites) for p in self.poems)
        return replace(self, poems=poems)

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
    by_bot: bool = False  # LINE_SUBMITTED: a bot wrote the line (for a bot or a stand-in)


@dataclass(frozen=True, slots=True)
class SharedLineView:
    """A line of a shared poem: no ids, only the name it was written under."""

    round: int
    text: str
    author_name: str


@dataclass(frozen=True, slots=True)
class SharedPoemView:
    """A poem as its link shows it to anyone."""

    lines: tuple[SharedLineView, ...]


@dataclass(frozen=True, slots=True)
class ShareLink:
    """A link to one poem: the token (shown once, stored hashed) and its address."""

    token: str
    url: str


@dataclass(frozen=True, slots=True)
class FavoriteView:
    """One of the caller's favourite poems and its game."""

    game: GameView
    poem: PoemView
