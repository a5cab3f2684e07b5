"""Poems commands, one transaction each: read, plan, commit; triggers notify.

Joining, starting and ending lock the game row (FOR UPDATE) before reading what they
depend on, so concurrent joins get distinct seats and a start sees every player. A line
is planned from a plain read and then counted by one UPDATE of the game row, the only
statement that holds its lock, so racing submissions advance a round exactly once
without queueing on a long lock. Events are sent by triggers inside the same transaction.
"""

from __future__ import annotations

import random
import secrets
from uuid import UUID

import asyncpg

from db.errors import ConstraintViolation, translated
from db.pool import tenant_transaction
from services.core.ids import parse_id
from services.core.principal import Principal, Role
from services.core.tenants import ensure_tenant
from services.errors import NotFound
from services.poems.config import PoemsConfig
from services.poems.errors import CONSTRAINTS, GameNotJoinable, NotYourTurn, no_such_game
from services.poems.inputs import clean_display_name, join_input
from services.poems.model import GameResult, GameStatus, LineResult, LineView
from services.poems.plan import (
    NewLine,
    StoredLine,
    SubmitState,
    new_code,
    plan_join,
    plan_line,
    plan_start,
)
from services.poems.reads import Q, read_game
from services.poems.rules import ROUND_WORD_COUNTS, require_host

_CODE_ATTEMPTS = 20
_SUBMIT_ATTEMPTS = 3


async def _result(pool: asyncpg.Pool, who: Principal, game_id: UUID) -> GameResult:
    """The game after a committed change, and the caller's player in it."""
    game = await read_game(pool, who.tenant_id, game_id)
    player = game.player_of(who.user_id) if game is not None else None
    if game is None or player is None:  # pragma: no cover - players are never removed
        raise no_such_game()
    return GameResult(game, player)


async def _one(conn: asyncpg.Connection, query: str, *args: object) -> asyncpg.Record:
    """The single row of a query that always returns one (counts, sub-selects)."""
    row = await conn.fetchrow(query, *args)
    assert row is not None
    return row


async def _lock_member(conn: asyncpg.Connection, who: Principal, raw_id: str) -> asyncpg.Record:
    """Lock the game row if the caller plays in it; NotFound otherwise."""
    game_id = parse_id(raw_id)
    row = None
    if game_id is not None:
        row = await conn.fetchrow(Q["lock_game_for_member"], game_id, who.user_id)
    if row is None:
        raise no_such_game()
    return row


async def create_game(
    pool: asyncpg.Pool, who: Principal, display_name: str, *, rng: random.Random | None = None
) -> GameResult:
    """Open a lobby with a fresh join code; the caller is its host and sits in seat 0."""
    who.require(Role.PLAYER)
    name = clean_display_name(display_name)
    rand = rng or secrets.SystemRandom()
    async with tenant_transaction(pool, who.tenant_id) as conn:
        await ensure_tenant(conn)
        game_id: UUID | None = None
        for _ in range(_CODE_ATTEMPTS):
            game_id = await conn.fetchval(
                Q["insert_game"], new_code(rand), who.user_id, list(ROUND_WORD_COUNTS)
            )
            if game_id is not None:
                break
        if game_id is None:  # pragma: no cover - ~1e9 codes per tenant
            raise RuntimeError("could not find a free join code")
        await conn.execute(
            *Q.bind(
                "insert_player", game_id=game_id, user_id=who.user_id, display_name=name, seat=0
            )
        )
    return await _result(pool, who, game_id)


async def join_game(
    pool: asyncpg.Pool,
    who: Principal,
    code: str,
    display_name: str,
    config: PoemsConfig,
) -> GameResult:
    """Take the next seat of a lobby; joining again returns the caller's existing player."""
    who.require(Role.PLAYER)
    normalized, name = join_input(code, display_name)
    async with tenant_transaction(pool, who.tenant_id) as conn:
        game = await conn.fetchrow(Q["lock_game_by_code"], normalized)
        if game is None:
            raise NotFound(f"no open game has the code {normalized}")
        ctx = await _one(conn, Q["join_context"], game["id"], who.user_id)
        if ctx["player_id"] is None:
            seat = plan_join(
                GameStatus(game["status"]), ctx["player_count"], config.max_players_per_game
            )
            try:
                async with translated(CONSTRAINTS):
                    await conn.execute(
                        *Q.bind(
                            "insert_player",
                            game_id=game["id"],
                            user_id=who.user_id,
                            display_name=name,
                            seat=seat,
                        )
                    )
                    await conn.execute(Q["touch_game"], game["id"])
            except ConstraintViolation as rule:  # pragma: no cover - the lock prevents it
                raise GameNotJoinable(rule.message) from rule
    return await _result(pool, who, game["id"])


async def start_game(
    pool: asyncpg.Pool, who: Principal, raw_id: str, *, rng: random.Random | None = None
) -> GameResult:
    """The host starts the game: the assignment matrix is drawn and fixed, round 0 begins."""
    who.require(Role.PLAYER)
    async with tenant_transaction(pool, who.tenant_id) as conn:
        game = await _lock_member(conn, who, raw_id)
        require_host(game["host_user_id"], who.user_id, "start")
        matrix = plan_start(
            GameStatus(game["status"]),
            await conn.fetchval(Q["player_count"], game["id"]),
            len(game["round_word_counts"]),
            rng or secrets.SystemRandom(),
        )
        await conn.execute(Q["start_game"], game["id"], matrix)
    return await _result(pool, who, game["id"])


class _Changed(Exception):
    """The game moved on between reading and writing: read and plan again."""


async def submit_line(
    pool: asyncpg.Pool, who: Principal, raw_id: str, round_: int, text: str
) -> LineResult:
    """Write the caller's line of this round; the last line of a round advances the game.

    The line is planned from a plain read; only the final UPDATE that counts it takes the
    game row lock, so many players can submit at once without queueing on a long lock. If
    the game moved on in between (ended, or the same line stored by a concurrent retry),
    the transaction rolls back and the submission is read and planned again.
    """
    who.require(Role.PLAYER)
    game_id = parse_id(raw_id)
    if game_id is None:
        raise no_such_game()
    for _ in range(_SUBMIT_ATTEMPTS):
        try:
            plan = await _submit_once(pool, who, game_id, round_, text)
        except _Changed:
            continue
        result = await _result(pool, who, game_id)
        return LineResult(LineView(round_, plan.text, result.player), result.game)
    raise NotYourTurn("the game changed while your line was being saved; try again")


async def _submit_once(
    pool: asyncpg.Pool, who: Principal, game_id: UUID, round_: int, text: str
) -> StoredLine | NewLine:
    """One attempt: read, plan, insert the line, count it (raises _Changed to retry)."""
    async with tenant_transaction(pool, who.tenant_id) as conn:
        game = await conn.fetchrow(Q["submit_read"], game_id, who.user_id, round_)
        if game is None:
            raise no_such_game()
        state = SubmitState(
            status=GameStatus(game["status"]),
            current_round=game["round"],
            word_counts=game["round_word_counts"],
            matrix=game["matrix"],
            seat=game["seat"],
            existing_text=game["existing_text"],
        )
        plan = plan_line(state, round_, text)
        if isinstance(plan, NewLine):
            try:
                async with translated(CONSTRAINTS):
                    line_id = await conn.fetchval(
                        *Q.bind(
                            "insert_line",
                            game_id=game_id,
                            poem=plan.poem,
                            round=plan.round,
                            seat=game["seat"],
                            text=plan.text,
                            word_count=plan.word_count,
                        )
                    )
                    counted = line_id is not None and (
                        await conn.fetchrow(Q["record_line"], game_id, plan.round)
                    )
            except ConstraintViolation as rule:
                if rule.constraint == "game_lines_current_round":
                    raise _Changed from rule  # the host ended the game meanwhile
                raise NotYourTurn(rule.message) from rule  # pragma: no cover - planned away
            if not counted:
                raise _Changed
    return plan


async def end_game(pool: asyncpg.Pool, who: Principal, raw_id: str) -> GameResult:
    """The host ends the game now: it is COMPLETED and its poems are revealed as they stand."""
    who.require(Role.PLAYER)
    async with tenant_transaction(pool, who.tenant_id) as conn:
        game = await _lock_member(conn, who, raw_id)
        require_host(game["host_user_id"], who.user_id, "end")
        await conn.execute(Q["end_game"], game["id"])
    return await _result(pool, who, game["id"])
