"""gameEvents: a snapshot of the game, then one event per change, for the game's players.

Triggers announce changes on topic `poems.game:<id>`, with the game as the change committed
it (poems_game_views) when it fits in the notification. Each delta's game is decoded from it,
or else read, once per change for all subscribers of this process (live's `read`, hub.rows):
the game view is the same for every player and never holds an unrevealed line, so sharing it
reveals nothing. LINE_SUBMITTED names who submitted, never
what, and says whether a bot wrote the line (the trigger's BOT_LINE_SUBMITTED)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Final
from uuid import UUID

import asyncpg

from services.core.ids import parse_id
from services.core.principal import Principal, Role
from services.poems import reads
from services.poems.errors import no_such_game
from services.poems.model import GameChange, GameEventKind, GameView
from services.realtime.hub import Change, Hub
from services.realtime.stream import Delta, Snapshot, live

# The area's topics, as its triggers send them (`poems.game:<game id>`).
TOPICS: Final = ("poems.game",)

# Events whose change id names the player concerned (who joined, left or submitted).
_ABOUT_A_PLAYER = frozenset(
    {GameEventKind.PLAYER_JOINED, GameEventKind.PLAYER_LEFT, GameEventKind.LINE_SUBMITTED}
)
# The trigger's kind for a line a bot wrote: LINE_SUBMITTED with `by_bot`.
_BOT_LINE = "BOT_LINE_SUBMITTED"
_KINDS = frozenset(k.value for k in GameEventKind) - {GameEventKind.SNAPSHOT.value} | {_BOT_LINE}


def topic(game_id: UUID) -> str:
    """The realtime topic of one game (as the triggers name it)."""
    return f"{TOPICS[0]}:{game_id}"


async def game_events(
    pool: asyncpg.Pool, hub: Hub, who: Principal, raw_id: str
) -> AsyncGenerator[Snapshot[GameView] | Delta[GameChange], None]:
    """Yield SNAPSHOT, then each change of the game; NotFound unless the caller plays in it."""
    who.require(Role.PLAYER)
    game_id = parse_id(raw_id)
    if game_id is None:
        raise no_such_game()

    async def snapshot() -> GameView:
        game = await reads.get_game(pool, who, str(game_id))
        if game is None:
            raise no_such_game()
        return game

    async def read(change: Change) -> GameView | None:
        # The same for every player of the game: the view never holds an unrevealed line.
        # Usually it came in the notification, as the change committed it.
        if change.tenant is None:
            return None
        rows = await hub.rows(change, "poems_game_views", "id", game_id)
        return reads.game_of_row(rows[0]) if rows else None

    def visible(change: Change, game: GameView) -> GameChange:
        by_bot = change.kind == _BOT_LINE
        kind = GameEventKind.LINE_SUBMITTED if by_bot else GameEventKind(change.kind)
        player = game.player(change.id) if kind in _ABOUT_A_PLAYER else None
        return GameChange(kind, game, player, by_bot)

    async for event in live(
        hub,
        who,
        topic(game_id),
        name="gameEvents",
        snapshot=snapshot,
        read=read,
        visible=visible,
        allowed=lambda change: change.kind in _KINDS,
    ):
        yield event
