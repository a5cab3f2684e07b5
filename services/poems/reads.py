"""The poems area's queries: a game as its players see it, and a player's assignment.

A game is read in one statement (`game_view`) and turned into the view every player of the
game shares: it never holds an unrevealed line, as poems are filled only once the game is
COMPLETED. The realtime path reads a change's game with the same loader (live.py).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Final
from uuid import UUID

import asyncpg

from db.pool import tenant_transaction
from db.rows import Row
from db.sql import load
from services.core.ids import parse_id
from services.core.principal import Principal, Role
from services.errors import Problems
from services.poems.model import (
    Assignment,
    FavoriteView,
    GameStatus,
    GameView,
    LineView,
    PlayerView,
    PoemView,
    ReaderView,
    SharedLineView,
    SharedPoemView,
)

Q = load("poems")

MAX_PAGE: Final = 100  # myGames' limit
MAX_FAVORITES: Final = 500


def game_of_row(row: Row) -> GameView:
    """A game_view row as the view every player of the game shares."""
    players = tuple(
        PlayerView(
            id=UUID(pid),
            user_id=user,
            display_name=name,
            seat=seat,
            submitted_this_round=done,
            is_bot=bot,
            left=left,
        )
        for pid, user, name, seat, done, bot, left in row["players"] or ()
    )
    by_seat = {p.seat: p for p in players}
    poems: tuple[PoemView, ...] = ()
    status = GameStatus(row["status"])
    if status.over and row["poem_count"]:
        lines: list[list[LineView]] = [[] for _ in range(row["poem_count"])]
        for poem, round_, seat, text, by_bot in row["lines"] or ():
            lines[poem].append(LineView(round_, text, by_seat[seat], by_bot))
        poems = tuple(PoemView(i, tuple(ls)) for i, ls in enumerate(lines))
    readers = tuple(
        ReaderView(poem, by_seat[seat])
        for poem, seat in enumerate(row["readers"] or ())
        if seat in by_seat
    )
    return GameView(
        id=row["id"],
        code=row["code"],
        status=status,
        round=row["round"],
        round_word_counts=tuple(row["round_word_counts"]),
        host=next(p for p in players if p.user_id == row["host_user_id"]),
        players=players,
        poems=poems,
        version=row["version"],
        readers=readers,
        turn_seconds=row["turn_seconds"],
        round_deadline=row["round_deadline"],
        completed_at=row["completed_at"],
    )


async def game(conn: asyncpg.Connection, game_id: UUID) -> GameView | None:
    """The game (one statement), for whoever already proved they play in it."""
    row = await conn.fetchrow(Q["game_view"], game_id, None)
    return game_of_row(row) if row is not None else None


async def read_game(pool: asyncpg.Pool, tenant: UUID, game_id: UUID) -> GameView | None:
    """The game, for whoever already proved they play in it (a flow's answer)."""
    async with tenant_transaction(pool, tenant) as conn:
        return await game(conn, game_id)


async def _player_row(
    pool: asyncpg.Pool, who: Principal, raw_id: str, query: str
) -> asyncpg.Record | None:
    """The row of `query` (game id, user id) for a player's game; None for an id that names
    nothing or a caller who is not a player."""
    game_id = parse_id(raw_id)
    if game_id is None or not who.has(Role.PLAYER):
        return None
    async with tenant_transaction(pool, who.tenant_id) as conn:
        row: asyncpg.Record | None = await conn.fetchrow(Q[query], game_id, who.user_id)
    return row


def game_of_viewer(row: Row) -> GameView:
    """A game row read for one viewer: the shared view with their favourite poems marked."""
    return game_of_row(row).with_favorites(frozenset(row["favorites"]))


async def get_game(pool: asyncpg.Pool, who: Principal, raw_id: str) -> GameView | None:
    """The game if the caller plays in it; None otherwise (never says whether it exists)."""
    row = await _player_row(pool, who, raw_id, "game_view")
    return game_of_viewer(row) if row is not None and row["member"] else None


async def my_games(
    pool: asyncpg.Pool, who: Principal, limit: int, before: datetime | None
) -> list[GameView]:
    """The caller's finished games (completed or abandoned), newest first, `limit` of them
    that ended before `before`; InvalidInput naming `limit` or `before` when out of range."""
    who.require(Role.PLAYER)
    problems = Problems()
    if not 1 <= limit <= MAX_PAGE:
        problems.add("limit", f"must be between 1 and {MAX_PAGE}")
    if before is not None and before.tzinfo is None:
        problems.add("before", "must carry a time zone (for example 2026-12-02T19:00:00Z)")
    problems.raise_if_any()
    async with tenant_transaction(pool, who.tenant_id) as conn:
        rows = await conn.fetch(Q["my_games"], who.user_id, before, limit)
    return [game_of_viewer(r) for r in rows]


async def my_active_games(pool: asyncpg.Pool, who: Principal) -> list[GameView]:
    """The unfinished games the caller plays in (lobbies and running games), newest first."""
    who.require(Role.PLAYER)
    async with tenant_transaction(pool, who.tenant_id) as conn:
        rows = await conn.fetch(Q["my_active_games"], who.user_id, MAX_PAGE)
    return [game_of_row(r) for r in rows]


async def my_favorite_poems(pool: asyncpg.Pool, who: Principal) -> list[FavoriteView]:
    """The caller's favourite poems, newest first, each with its game."""
    who.require(Role.PLAYER)
    async with tenant_transaction(pool, who.tenant_id) as conn:
        rows = await conn.fetch(Q["my_favorites"], who.user_id, MAX_FAVORITES)
    out: list[FavoriteView] = []
    for row in rows:
        game = game_of_viewer(row)
        if row["favorite"] < len(game.poems):
            out.append(FavoriteView(game, game.poems[row["favorite"]]))
    return out


def token_hash(token: str) -> str:
    """What is stored of a share token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


async def shared_poem(pool: asyncpg.Pool, token: str) -> SharedPoemView | None:
    """The poem a link names, for anyone holding it; None for a token that names nothing or
    was revoked. It gives the lines and the names they were written under, nothing else."""
    if not 16 <= len(token) <= 128:
        return None
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(Q["set_share_lookup"], token_hash(token))
        share = await conn.fetchrow(Q["shared_link"])
        if share is None:
            return None
        await conn.execute(Q["set_tenant"], str(share["tenant_id"]))
        rows = await conn.fetch(Q["shared_lines"], share["game_id"], share["poem"])
    if not rows:
        return None
    return SharedPoemView(
        tuple(SharedLineView(r["round"], r["text"], _written_as(r)) for r in rows)
    )


def _written_as(row: Row) -> str:
    """The name a line shows: its player's, or a bot's standing in for them."""
    if row["by_bot"] and not row["is_bot"]:
        return f"a bot for {row['display_name']}"
    return str(row["display_name"])


async def my_assignment(pool: asyncpg.Pool, who: Principal, raw_id: str) -> Assignment | None:
    """The caller's poem this round and only the line just before theirs; None unless playing."""
    row = await _player_row(pool, who, raw_id, "my_assignment")
    if row is None:
        return None
    return Assignment(
        game_id=row["game_id"],
        round=row["round"],
        poem_index=row["poem"],
        word_count=row["word_count"],
        previous_line=row["previous_line"],
        submitted=row["submitted"],
    )
