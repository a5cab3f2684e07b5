"""The poems area's queries: a game as its players see it, and a player's assignment.

A game is read in one statement (`game_view`) and turned into the view every player of the
game shares: it never holds an unrevealed line, as poems are filled only once the game is
COMPLETED. The realtime path reads a change's game with the same loader (live.py).
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from db.pool import tenant_transaction
from db.rows import Row
from db.sql import load
from services.core.ids import parse_id
from services.core.principal import Principal, Role
from services.poems.model import (
    Assignment,
    GameStatus,
    GameView,
    LineView,
    PlayerView,
    PoemView,
)

Q = load("poems")


def game_of_row(row: Row) -> GameView:
    """A game_view row as the view every player of the game shares."""
    players = tuple(
        PlayerView(
            id=UUID(pid), user_id=user, display_name=name, seat=seat, submitted_this_round=done
        )
        for pid, user, name, seat, done in row["players"] or ()
    )
    poems: tuple[PoemView, ...] = ()
    status = GameStatus(row["status"])
    if status is GameStatus.COMPLETED and row["poem_count"]:
        by_seat = {p.seat: p for p in players}
        lines: list[list[LineView]] = [[] for _ in range(row["poem_count"])]
        for poem, round_, seat, text in row["lines"] or ():
            lines[poem].append(LineView(round_, text, by_seat[seat]))
        poems = tuple(PoemView(i, tuple(ls)) for i, ls in enumerate(lines))
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


async def get_game(pool: asyncpg.Pool, who: Principal, raw_id: str) -> GameView | None:
    """The game if the caller plays in it; None otherwise (never says whether it exists)."""
    row = await _player_row(pool, who, raw_id, "game_view")
    return game_of_row(row) if row is not None and row["member"] else None


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
