"""gameEvents: a snapshot of the game, then one event per change, for the game's players.

Triggers announce changes on topic `game:<id>` (IDs only). Each delta is read once per
change for all subscribers (live's `read`): the game view is the same for every player and
never holds an unrevealed line, so sharing it reveals nothing. LINE_SUBMITTED names who
submitted, never what.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

import asyncpg

from services.core.principal import Principal, Role
from services.errors import NotFound
from services.poems.games import get_game, read_game
from services.poems.rules import parse_id
from services.poems.views import GameChange, GameEventKind, GameView
from services.realtime.hub import Change, Hub
from services.realtime.stream import Delta, Snapshot, live

# Events whose change id names the player concerned (who joined, who submitted).
_ABOUT_A_PLAYER = frozenset({GameEventKind.PLAYER_JOINED, GameEventKind.LINE_SUBMITTED})
_KINDS = frozenset(k.value for k in GameEventKind) - {GameEventKind.SNAPSHOT.value}


def topic(game_id: UUID) -> str:
    """The realtime topic of one game (as the triggers name it)."""
    return f"game:{game_id}"


async def game_events(
    pool: asyncpg.Pool, hub: Hub, who: Principal, raw_id: str
) -> AsyncIterator[Snapshot[GameView] | Delta[GameChange]]:
    """Yield SNAPSHOT, then each change of the game; NotFound unless the caller plays in it."""
    who.require(Role.PLAYER)
    game_id = parse_id(raw_id)
    if game_id is None:
        raise NotFound("no such game (or you do not play in it)")

    async def snapshot() -> GameView:
        game = await get_game(pool, who, str(game_id))
        if game is None:
            raise NotFound("no such game (or you do not play in it)")
        return game

    async def read(change: Change) -> GameView | None:
        # Every player of a game reads the same view, which never holds an unrevealed line.
        return await read_game(pool, who.tenant_id, game_id)

    def visible(change: Change, game: GameView) -> GameChange:
        kind = GameEventKind(change.kind)
        player = game.player(change.id) if kind in _ABOUT_A_PLAYER else None
        return GameChange(kind, game, player)

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
