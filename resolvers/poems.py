"""Poems resolvers: the caller and the input, one service call, its result."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from schema.context import Context
from services.poems import flows, live, reads
from services.poems.model import (
    Assignment,
    FavoriteView,
    GameChange,
    GameResult,
    GameView,
    LineResult,
    PoemView,
    SharedPoemView,
    ShareLink,
)
from services.poems.shapes import GameShape
from services.realtime.stream import Delta, Snapshot


async def game(context: Context, game_id: str) -> GameView | None:
    """The game, if the caller plays in it."""
    return await reads.get_game(context.pool, context.who(), game_id)


async def my_poem_assignment(context: Context, game_id: str) -> Assignment | None:
    """The caller's line to write this round."""
    return await reads.my_assignment(context.pool, context.who(), game_id)


async def my_games(context: Context, limit: int, before: datetime | None) -> list[GameView]:
    return await reads.my_games(context.pool, context.who(), limit, before)


async def my_active_games(context: Context) -> list[GameView]:
    return await reads.my_active_games(context.pool, context.who())


async def my_favorite_poems(context: Context) -> list[FavoriteView]:
    return await reads.my_favorite_poems(context.pool, context.who())


async def shared_poem(context: Context, token: str) -> SharedPoemView | None:
    """Anyone's: the link is the authority (no token needed)."""
    return await reads.shared_poem(context.pool, token)


async def create_game(
    context: Context,
    display_name: str,
    shape: GameShape,
    word_counts: list[int] | None,
    turn_seconds: int | None,
) -> GameResult:
    return await flows.create_game(
        context.pool,
        context.who(),
        display_name,
        shape=shape,
        word_counts=word_counts,
        turn_seconds=turn_seconds,
    )


async def join_game(context: Context, code: str, display_name: str) -> GameResult:
    return await flows.join_game(
        context.pool, context.who(), code, display_name, context.areas.poems
    )


async def start_game(context: Context, game_id: str) -> GameResult:
    return await flows.start_game(context.pool, context.who(), game_id)


async def submit_line(context: Context, game_id: str, round_: int, text: str) -> LineResult:
    return await flows.submit_line(
        context.pool, context.who(), game_id, round_, text, context.areas.poems
    )


async def end_game(context: Context, game_id: str) -> GameResult:
    return await flows.end_game(context.pool, context.who(), game_id)


async def leave_game(context: Context, game_id: str) -> GameResult:
    return await flows.leave_game(context.pool, context.who(), game_id)


async def add_bot_player(context: Context, game_id: str, display_name: str) -> GameResult:
    return await flows.add_bot_player(
        context.pool, context.who(), game_id, display_name, context.areas.poems
    )


async def skip_stalled_players(context: Context, game_id: str, round_: int | None) -> GameResult:
    return await flows.skip_stalled_players(context.pool, context.who(), game_id, round_)


async def set_favorite(context: Context, game_id: str, poem_index: int, on: bool) -> PoemView:
    return await flows.set_favorite(context.pool, context.who(), game_id, poem_index, favorite=on)


async def share_poem(context: Context, game_id: str, poem_index: int) -> ShareLink:
    return await flows.share_poem(
        context.pool, context.who(), game_id, poem_index, str(context.request.base_url)
    )


async def unshare_poem(context: Context, token: str) -> ShareLink:
    return await flows.unshare_poem(
        context.pool, context.who(), token, str(context.request.base_url)
    )


def game_events(
    context: Context, game_id: str
) -> AsyncIterator[Snapshot[GameView] | Delta[GameChange]]:
    """The game's events: a snapshot, then its changes."""
    return live.game_events(context.pool, context.hub, context.who(), game_id)
