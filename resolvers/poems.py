"""Poems resolvers: the caller and the input, one service call, a typed result."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from resolvers.common import payload
from schema.context import Context, PublicError
from services.errors import AllotError
from services.poems import events, games
from services.poems.views import Assignment, GameEvent, GameView


async def game(context: Context, game_id: str) -> GameView | None:
    """The game, if the caller plays in it."""
    return await games.get_game(context.pool, context.who(), game_id)


async def my_poem_assignment(context: Context, game_id: str) -> Assignment | None:
    """The caller's line to write this round."""
    return await games.my_assignment(context.pool, context.who(), game_id)


async def create_game(context: Context, display_name: str) -> Any:
    """GameResult or a typed error."""
    return await payload(games.create_game(context.pool, context.who(), display_name))


async def join_game(context: Context, code: str, display_name: str) -> Any:
    """GameResult or a typed error."""
    return await payload(
        games.join_game(
            context.pool,
            context.who(),
            code,
            display_name,
            max_players=context.settings.max_players_per_game,
        )
    )


async def start_game(context: Context, game_id: str) -> Any:
    """GameResult or a typed error."""
    return await payload(games.start_game(context.pool, context.who(), game_id))


async def submit_line(context: Context, game_id: str, round_: int, text: str) -> Any:
    """LineResult or a typed error."""
    return await payload(games.submit_line(context.pool, context.who(), game_id, round_, text))


async def end_game(context: Context, game_id: str) -> Any:
    """GameResult or a typed error."""
    return await payload(games.end_game(context.pool, context.who(), game_id))


async def game_events(context: Context, game_id: str) -> AsyncIterator[GameEvent]:
    """The game's events; an expected failure ends the stream with its message."""
    try:
        async for event in events.game_events(context.pool, context.hub, context.who(), game_id):
            yield event
    except AllotError as err:
        raise PublicError(err.message, err.code) from err
