"""gameEvents: a snapshot of the game, then one event per change, for the game's players.

Triggers announce changes on topic `game:<id>` (IDs only). Each delta is read once per
event for all subscribers (`hub.shared`): the game view is the same for every player and
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
from services.poems.views import GameEvent, GameEventKind, GameView
from services.realtime.hub import Change, Hub
from services.realtime.stream import Snapshot, live

# Events whose change id names the player concerned (who joined, who submitted).
_ABOUT_A_PLAYER = frozenset({GameEventKind.PLAYER_JOINED, GameEventKind.LINE_SUBMITTED})
_KINDS = frozenset(k.value for k in GameEventKind) - {GameEventKind.SNAPSHOT.value}


def topic(game_id: UUID) -> str:
    """The realtime topic of one game (as the triggers name it)."""
    return f"game:{game_id}"


async def game_events(
    pool: asyncpg.Pool, hub: Hub, who: Principal, raw_id: str
) -> AsyncIterator[GameEvent]:
    """Yield SNAPSHOT, then each change of the game; NotFound unless the caller plays in it."""
    who.require(Role.PLAYER)
    game_id = parse_id(raw_id)
    if game_id is None:
        raise NotFound("no such game (or you do not play in it)")

    def shared_key(change: Change) -> tuple[object, ...]:
        # Everything a delta depends on: the change, the tenant and the game (every player
        # of a game reads the same view, which never holds an unrevealed line).
        return ("poems.game", change, who.tenant_id, game_id)

    async def snapshot() -> GameView:
        game = await get_game(pool, who, str(game_id))
        if game is None:
            raise NotFound("no such game (or you do not play in it)")
        return game

    async def delta(change: Change) -> GameView | None:
        async def load() -> GameView | None:
            return await read_game(pool, who.tenant_id, game_id)

        return await hub.shared(shared_key(change), load)

    stream = live(
        hub,
        who,
        topic(game_id),
        name="gameEvents",
        snapshot=snapshot,
        delta=delta,
        allowed=lambda change: change.kind in _KINDS,
    )
    async for event in stream:
        if isinstance(event, Snapshot):
            yield GameEvent(GameEventKind.SNAPSHOT, event.sequence, event.resync, event.data)
            continue
        kind = GameEventKind(event.change.kind)
        player = event.data.player(event.change.id) if kind in _ABOUT_A_PLAYER else None
        yield GameEvent(kind, event.sequence, False, event.data, player, shared_key(event.change))
