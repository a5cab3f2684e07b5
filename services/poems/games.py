"""Poems commands and queries: each command is one transaction (read, plan, commit).

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
from db.sql import load
from services.core.principal import Principal, Role
from services.core.tenants import ensure_tenant
from services.errors import FieldProblem, Forbidden, InvalidInput, NotFound
from services.poems.config import PoemsConfig
from services.poems.errors import CONSTRAINTS, GameNotJoinable, NotEnoughPlayers, NotYourTurn
from services.poems.matrix import ROUND_WORD_COUNTS, generate_matrix, matrix_violations
from services.poems.rules import (
    MIN_PLAYERS,
    NewLine,
    StoredLine,
    SubmitState,
    clean_display_name,
    new_code,
    normalize_code,
    parse_id,
    plan_line,
)
from services.poems.views import (
    Assignment,
    GameResult,
    GameStatus,
    GameView,
    LineResult,
    LineView,
    PlayerView,
    PoemView,
)

Q = load("poems")

_CODE_ATTEMPTS = 20


def _not_found() -> NotFound:
    return NotFound("no such game (or you do not play in it)")


def _player_role(who: Principal) -> None:
    who.require(Role.PLAYER)


async def _one(conn: asyncpg.Connection, query: str, *args: object) -> asyncpg.Record:
    """The single row of a query that always returns one (counts, sub-selects)."""
    row = await conn.fetchrow(query, *args)
    assert row is not None
    return row


# ---------------------------------------------------------------- reading


def _view(row: asyncpg.Record) -> GameView:
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


async def read_game(pool: asyncpg.Pool, tenant: UUID, game_id: UUID) -> GameView | None:
    """The game, for whoever already proved they play in it (the shared realtime read)."""
    async with tenant_transaction(pool, tenant) as conn:
        row = await conn.fetchrow(Q["game_view"], game_id, None)
    return _view(row) if row is not None else None


async def get_game(pool: asyncpg.Pool, who: Principal, raw_id: str) -> GameView | None:
    """The game if the caller plays in it; None otherwise (never says whether it exists)."""
    game_id = parse_id(raw_id)
    if game_id is None or not who.has(Role.PLAYER):
        return None
    async with tenant_transaction(pool, who.tenant_id) as conn:
        row = await conn.fetchrow(Q["game_view"], game_id, who.user_id)
    return _view(row) if row is not None and row["member"] else None


async def my_assignment(pool: asyncpg.Pool, who: Principal, raw_id: str) -> Assignment | None:
    """The caller's poem this round and only the line just before theirs; None unless playing."""
    game_id = parse_id(raw_id)
    if game_id is None or not who.has(Role.PLAYER):
        return None
    async with tenant_transaction(pool, who.tenant_id) as conn:
        row = await conn.fetchrow(Q["my_assignment"], game_id, who.user_id)
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


async def _result(pool: asyncpg.Pool, who: Principal, game_id: UUID) -> GameResult:
    """The game after a committed change, and the caller's player in it."""
    game = await read_game(pool, who.tenant_id, game_id)
    player = game.player_of(who.user_id) if game is not None else None
    if game is None or player is None:  # pragma: no cover - players are never removed
        raise _not_found()
    return GameResult(game, player)


# ---------------------------------------------------------------- commands


async def create_game(
    pool: asyncpg.Pool, who: Principal, display_name: str, *, rng: random.Random | None = None
) -> GameResult:
    """Open a lobby with a fresh join code; the caller is its host and sits in seat 0."""
    _player_role(who)
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
        await conn.execute(Q["insert_player"], game_id, who.user_id, name, 0)
    return await _result(pool, who, game_id)


async def join_game(
    pool: asyncpg.Pool,
    who: Principal,
    code: str,
    display_name: str,
    config: PoemsConfig,
) -> GameResult:
    """Take the next seat of a lobby; joining again returns the caller's existing player."""
    _player_role(who)
    problems: list[FieldProblem] = []
    normalized = name = ""
    try:
        normalized = normalize_code(code)
    except InvalidInput as exc:
        problems += exc.fields
    try:
        name = clean_display_name(display_name)
    except InvalidInput as exc:
        problems += exc.fields
    if problems:
        raise InvalidInput(problems)
    async with tenant_transaction(pool, who.tenant_id) as conn:
        game = await conn.fetchrow(Q["lock_game_by_code"], normalized)
        if game is None:
            raise NotFound(f"no open game has the code {normalized}")
        ctx = await _one(conn, Q["join_context"], game["id"], who.user_id)
        if ctx["player_id"] is None:
            status = GameStatus(game["status"])
            if status is GameStatus.IN_PROGRESS:
                raise GameNotJoinable("the game has already started; new players cannot join")
            if status is GameStatus.COMPLETED:
                raise GameNotJoinable("the game is over")
            if ctx["player_count"] >= config.max_players_per_game:
                raise GameNotJoinable(
                    f"the game is full ({config.max_players_per_game} players at most)"
                )
            try:
                async with translated(CONSTRAINTS):
                    await conn.execute(
                        Q["insert_player"], game["id"], who.user_id, name, ctx["player_count"]
                    )
                    await conn.execute(Q["touch_game"], game["id"])
            except ConstraintViolation as rule:  # pragma: no cover - the lock prevents it
                raise GameNotJoinable(rule.message) from rule
    return await _result(pool, who, game["id"])


async def _lock_member(conn: asyncpg.Connection, who: Principal, raw_id: str) -> asyncpg.Record:
    """Lock the game row if the caller plays in it; NotFound otherwise."""
    game_id = parse_id(raw_id)
    row = None
    if game_id is not None:
        row = await conn.fetchrow(Q["lock_game_for_member"], game_id, who.user_id)
    if row is None:
        raise _not_found()
    return row


async def start_game(
    pool: asyncpg.Pool, who: Principal, raw_id: str, *, rng: random.Random | None = None
) -> GameResult:
    """The host starts the game: the assignment matrix is drawn and fixed, round 0 begins."""
    _player_role(who)
    async with tenant_transaction(pool, who.tenant_id) as conn:
        game = await _lock_member(conn, who, raw_id)
        if game["host_user_id"] != who.user_id:
            raise Forbidden("only the host can start the game")
        status = GameStatus(game["status"])
        if status is GameStatus.IN_PROGRESS:
            raise GameNotJoinable("the game has already started")
        if status is GameStatus.COMPLETED:
            raise GameNotJoinable("the game is over")
        n: int = await conn.fetchval(Q["player_count"], game["id"])
        if n < MIN_PLAYERS:
            raise NotEnoughPlayers(
                f"a game needs at least {MIN_PLAYERS} players to start; it has {n}",
                minimum=MIN_PLAYERS,
            )
        rounds = len(game["round_word_counts"])
        matrix = generate_matrix(n, rounds=rounds, rng=rng or secrets.SystemRandom())
        problems = matrix_violations(matrix, n)
        if problems:  # pragma: no cover - the generator is valid by construction
            raise RuntimeError("generated an invalid matrix: " + "; ".join(problems))
        await conn.execute(Q["start_game"], game["id"], matrix)
    return await _result(pool, who, game["id"])


class _Changed(Exception):
    """The game moved on between reading and writing: read and plan again."""


_SUBMIT_ATTEMPTS = 3


async def submit_line(
    pool: asyncpg.Pool, who: Principal, raw_id: str, round_: int, text: str
) -> LineResult:
    """Write the caller's line of this round; the last line of a round advances the game.

    The line is planned from a plain read; only the final UPDATE that counts it takes the
    game row lock, so many players can submit at once without queueing on a long lock. If
    the game moved on in between (ended, or the same line stored by a concurrent retry),
    the transaction rolls back and the submission is read and planned again.
    """
    _player_role(who)
    game_id = parse_id(raw_id)
    if game_id is None:
        raise _not_found()
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
            raise _not_found()
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
                        Q["insert_line"],
                        game_id,
                        plan.poem,
                        plan.round,
                        game["seat"],
                        plan.text,
                        plan.word_count,
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
    _player_role(who)
    async with tenant_transaction(pool, who.tenant_id) as conn:
        game = await _lock_member(conn, who, raw_id)
        if game["host_user_id"] != who.user_id:
            raise Forbidden("only the host can end the game")
        await conn.execute(Q["end_game"], game["id"])
    return await _result(pool, who, game["id"])
