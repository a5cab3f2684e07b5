"""Poems resolvers: the caller and the input, one service call, its result."""

from __future__ import annotations

from collections.abc import AsyncIterator

from schema.context import Context
from services.poems import flows, live, reads
from services.poems.model import Assignment, GameChange, GameResult, GameView, LineResult
from services.realtime.stream import Delta, Snapshot


async def game(context: Context, game_id: str) -> GameView | None:
    """The game, if the caller plays in it."""
    return await reads.get_game(context.pool, context.who(), game_id)


async def my_poem_assignment(context: Context, game_id: str) -> Assignment | None:
    """The caller's line to write this round."""
    return await reads.my_assignment(context.pool, context.who(), game_id)


async def create_game(context: Context, display_name: str) -> GameResult:
    return await flows.create_game(context.pool, context.who(), display_name)


async def join_game(context: Context, code: str, display_name: str) -> GameResult:
    return await flows.join_game(
        context.pool, context.who(), code, display_name, context.areas.poems
    )


async def start_game(context: Context, game_id: str) -> GameResult:
    return await flows.start_game(context.pool, context.who(), game_id)


async def submit_line(context: Context, game_id: str, round_: int, text: str) -> LineResult:
    return await flows.submit_line(context.pool, context.who(), game_id, round_, text)


async def end_game(context: Context, game_id: str) -> GameResult:
    return await flows.end_game(context.pool, context.who(), game_id)


def game_events(
    context: Context, game_id: str
) -> AsyncIterator[Snapshot[GameView] | Delta[GameChange]]:
    """The game's events: a snapshot, then its changes."""
    return live.game_events(context.pool, context.hub, context.who(), game_id)
