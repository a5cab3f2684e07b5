"""Poems commands, one transaction each: read, plan, commit; triggers notify.

Joining, starting, leaving, adding a bot, skipping and ending lock the game row (FOR UPDATE)
before reading what they depend on, so concurrent joins get distinct seats and a start sees
every player. A line is planned from a read under a key-share lock and then counted by one
UPDATE of the game row, so racing submissions advance a round exactly once without queueing on
one another; the key-share lock keeps out whoever fills a stalled round until the line is
counted. Whenever a round begins, the lines of its bots and of players who left are written
at once (`_fill`), in the same transaction; when the game ends, its readers are fixed
(`_reveal`). Events are sent by triggers at commit.
"""

from __future__ import annotations

import math
import random
import secrets
import uuid
from dataclasses import replace
from typing import Final
from uuid import UUID

import asyncpg

from db.errors import ConstraintViolation, translated
from db.pool import tenant_transaction
from services.core.ids import parse_id
from services.core.principal import Principal, Role
from services.core.tenants import ensure_tenant
from services.errors import Forbidden, NotFound
from services.poems.bots import new_seed
from services.poems.config import PoemsConfig
from services.poems.errors import (
    CONSTRAINTS,
    GameNotJoinable,
    NotYourTurn,
    RateLimited,
    no_such_game,
)
from services.poems.inputs import clean_display_name, create_input, join_input
from services.poems.model import (
    GameResult,
    GameStatus,
    LineResult,
    LineView,
    PoemView,
    ShareLink,
)
from services.poems.plan import (
    NewLine,
    StoredLine,
    SubmitState,
    new_code,
    plan_bot_lines,
    plan_join,
    plan_line,
    plan_readers,
    plan_start,
)
from services.poems.reads import Q, game, game_of_viewer, read_game, token_hash
from services.poems.rules import require_host, require_running
from services.poems.shapes import GameShape

_CODE_ATTEMPTS = 20
_SUBMIT_ATTEMPTS = 3
DEFAULT_CONFIG: Final = PoemsConfig()
SHARE_TOKEN_BYTES: Final = 24  # 192 random bits, 32 URL-safe characters


async def _result(
    pool: asyncpg.Pool, who: Principal, game_id: UUID, user_id: str | None = None
) -> GameResult:
    """The game after a committed change, and the caller's player in it (or `user_id`'s)."""
    found = await read_game(pool, who.tenant_id, game_id)
    player = found.player_of(user_id or who.user_id) if found is not None else None
    if found is None or player is None:  # pragma: no cover - checked under the lock
        raise no_such_game()
    return GameResult(found, player)


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


async def count_attempt(pool: asyncpg.Pool, who: Principal, action: str, per_minute: int) -> None:
    """Count one `action` by the caller in its own short transaction, so that an attempt
    refused afterwards (a wrong join code) still counts: a run of guesses at join codes stops
    after `joins_per_minute` of them. The counts are in the database, shared by every process.
    """
    async with tenant_transaction(pool, who.tenant_id) as conn:
        await _count(conn, who, action, per_minute)


async def _count(conn: asyncpg.Connection, who: Principal, action: str, per_minute: int) -> None:
    """Count one `action` ("join" or "line") by the caller in this transaction; RateLimited once
    they have made more than `per_minute` in the current minute."""
    row = await _one(conn, Q["count_attempt"], who.user_id, action)
    if row["used"] > per_minute:
        wait = max(1, math.ceil(row["seconds_left"]))
        what = "joins by code" if action == "join" else "lines"
        raise RateLimited(
            f"too many {what} in a minute ({per_minute} at most); try again in {wait} s",
            retry_after_seconds=wait,
        )


async def create_game(
    pool: asyncpg.Pool,
    who: Principal,
    display_name: str,
    *,
    shape: GameShape = GameShape.CLASSIC,
    word_counts: list[int] | None = None,
    turn_seconds: int | None = None,
    rng: random.Random | None = None,
) -> GameResult:
    """Open a lobby with a fresh join code; the caller is its host and sits in seat 0. The
    shape gives the rounds' word counts; `turn_seconds`, if set, is the turn timeout."""
    who.require(Role.PLAYER)
    name, counts, turn = create_input(display_name, shape, word_counts, turn_seconds)
    rand = rng or secrets.SystemRandom()
    async with tenant_transaction(pool, who.tenant_id) as conn:
        await ensure_tenant(conn)
        game_id: UUID | None = None
        for _ in range(_CODE_ATTEMPTS):
            game_id = await conn.fetchval(
                *Q.bind(
                    "insert_game",
                    code=new_code(rand),
                    host_user_id=who.user_id,
                    word_counts=list(counts),
                    shape=shape.value,
                    turn_seconds=turn,
                    bot_seed=new_seed(rand),
                )
            )
            if game_id is not None:
                break
        if game_id is None:  # pragma: no cover - ~1e9 codes per tenant
            raise RuntimeError("could not find a free join code")
        await _insert_player(conn, game_id, who.user_id, name, seat=0)
    return await _result(pool, who, game_id)


async def _insert_player(
    conn: asyncpg.Connection,
    game_id: UUID,
    user_id: str,
    name: str,
    *,
    seat: int,
    is_bot: bool = False,
) -> None:
    await conn.execute(
        *Q.bind(
            "insert_player",
            game_id=game_id,
            user_id=user_id,
            display_name=name,
            seat=seat,
            is_bot=is_bot,
        )
    )


async def join_game(
    pool: asyncpg.Pool,
    who: Principal,
    code: str,
    display_name: str,
    config: PoemsConfig,
) -> GameResult:
    """Take the next seat of a lobby; joining again returns the caller's existing player.
    Joins by code are rate-limited per user (a wrong code counts too)."""
    who.require(Role.PLAYER)
    normalized, name = join_input(code, display_name)
    await count_attempt(pool, who, "join", config.joins_per_minute)
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
                    await _insert_player(conn, game["id"], who.user_id, name, seat=seat)
                    await conn.execute(Q["touch_game"], game["id"])
            except ConstraintViolation as rule:  # pragma: no cover - the lock prevents it
                raise GameNotJoinable(rule.message) from rule
    return await _result(pool, who, game["id"])


async def add_bot_player(
    pool: asyncpg.Pool, who: Principal, raw_id: str, display_name: str, config: PoemsConfig
) -> GameResult:
    """The host adds a bot player in the lobby (to make up numbers); the answer's player is
    the bot."""
    who.require(Role.PLAYER)
    name = clean_display_name(display_name)
    bot = f"bot:{uuid.uuid4()}"
    async with tenant_transaction(pool, who.tenant_id) as conn:
        game = await _lock_member(conn, who, raw_id)
        require_host(game["host_user_id"], who.user_id, "add bots to")
        seat = plan_join(
            GameStatus(game["status"]),
            await conn.fetchval(Q["player_count"], game["id"]),
            config.max_players_per_game,
        )
        await _insert_player(conn, game["id"], bot, name, seat=seat, is_bot=True)
        await conn.execute(Q["touch_game"], game["id"])
    return await _result(pool, who, game["id"], bot)


async def start_game(
    pool: asyncpg.Pool, who: Principal, raw_id: str, *, rng: random.Random | None = None
) -> GameResult:
    """The host starts the game: the assignment matrix is drawn and fixed, round 0 begins
    (and its bots write their lines)."""
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
        await _fill(conn, game["id"], stalled=False)
    return await _result(pool, who, game["id"])


class _Changed(Exception):
    """The game moved on between reading and writing: read and plan again."""


async def submit_line(
    pool: asyncpg.Pool,
    who: Principal,
    raw_id: str,
    round_: int,
    text: str,
    config: PoemsConfig = DEFAULT_CONFIG,
) -> LineResult:
    """Write the caller's line of this round; the last line of a round advances the game.

    Submissions are rate-limited per user (counted in the same transaction). The line is
    planned from a read under a key-share lock (submissions do not wait for one another); the
    UPDATE that counts it takes the game row lock. If the game moved on in between (ended, or
    the same line stored by a concurrent retry), the transaction rolls back and the submission
    is read and planned again.
    """
    who.require(Role.PLAYER)
    game_id = parse_id(raw_id)
    if game_id is None:
        raise no_such_game()
    for _ in range(_SUBMIT_ATTEMPTS):
        try:
            plan = await _submit_once(pool, who, game_id, round_, text, config)
        except _Changed:
            continue
        result = await _result(pool, who, game_id)
        return LineResult(LineView(round_, plan.text, result.player), result.game)
    raise NotYourTurn("the game changed while your line was being saved; try again")


async def _submit_once(
    pool: asyncpg.Pool,
    who: Principal,
    game_id: UUID,
    round_: int,
    text: str,
    config: PoemsConfig,
) -> StoredLine | NewLine:
    """One attempt: count it against the caller's limit, read, plan, insert the line, count the
    line (raises _Changed to retry). A refused submission writes nothing, its count included:
    what the limit bounds is what gets through (new lines and retries of stored ones)."""
    async with tenant_transaction(pool, who.tenant_id) as conn:
        await _count(conn, who, "line", config.lines_per_minute)
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
            left=game["left"],
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
                        await conn.fetchrow(Q["record_line"], game_id, plan.round, 1)
                    )
            except ConstraintViolation as rule:
                if rule.constraint == "game_lines_current_round":
                    raise _Changed from rule  # the host ended the game meanwhile
                raise NotYourTurn(rule.message) from rule  # pragma: no cover - planned away
            if not counted:
                raise _Changed
            await _after_counting(conn, game_id, plan.round, counted)
    return plan


async def _after_counting(
    conn: asyncpg.Connection, game_id: UUID, round_: int, counted: asyncpg.Record
) -> None:
    """After lines of `round_` were counted: reveal a game that ended, or let the bots of a
    round that began write."""
    if counted["status"] == GameStatus.COMPLETED:
        await _reveal(conn, game_id)
    elif counted["round"] != round_:
        await _fill(conn, game_id, stalled=False)


async def _fill(conn: asyncpg.Connection, game_id: UUID, *, stalled: bool) -> None:
    """Write the bot lines the current round waits for (the game row is locked or counted by
    this transaction): those of bots and of players who left, or, for a `stalled` round,
    every missing line. A round the bots complete advances, and the next one's bots write too,
    until a round waits for a human or the game ends."""
    while True:
        state = await conn.fetchrow(Q["round_to_fill"], game_id)
        if state is None or state["status"] != GameStatus.IN_PROGRESS:
            return
        seats = state["missing"] if stalled else state["stand_ins"]
        if not seats:
            return
        lines = plan_bot_lines(
            state["matrix"], state["round"], seats, state["word_count"], state["bot_seed"]
        )
        await conn.execute(
            *Q.bind(
                "insert_bot_lines",
                game_id=game_id,
                round=state["round"],
                word_count=state["word_count"],
                poems=[line.poem for line in lines],
                seats=[line.seat for line in lines],
                texts=[line.text for line in lines],
            )
        )
        counted = await conn.fetchrow(Q["record_line"], game_id, state["round"], len(lines))
        assert counted is not None  # the row is locked by this transaction
        if counted["status"] == GameStatus.COMPLETED:
            await _reveal(conn, game_id)
            return
        if counted["round"] == state["round"]:
            return
        stalled = False


async def _reveal(conn: asyncpg.Connection, game_id: UUID) -> None:
    """Fix who reads which poem aloud, as the game ends (in the same transaction)."""
    ctx = await _one(conn, Q["reveal_context"], game_id)
    human_lines = [(poem, round_) for poem, round_ in ctx["human_lines"]]
    readers = plan_readers(ctx["matrix"], human_lines, ctx["readers"])
    await conn.execute(Q["set_readers"], game_id, readers)


async def skip_stalled_players(
    pool: asyncpg.Pool, who: Principal, raw_id: str, round_: int | None = None
) -> GameResult:
    """The host has bots write every missing line of the current round (or of `round_`, if
    that is still the current one: a second click after the round moved on skips nothing), and
    the round advances."""
    who.require(Role.PLAYER)
    async with tenant_transaction(pool, who.tenant_id) as conn:
        game = await _lock_member(conn, who, raw_id)
        require_host(game["host_user_id"], who.user_id, "skip stalled players of")
        require_running(GameStatus(game["status"]))
        if round_ is None or round_ == game["round"]:
            await _fill(conn, game["id"], stalled=True)
    return await _result(pool, who, game["id"])


async def fill_stalled_round(conn: asyncpg.Connection, game_id: UUID) -> bool:
    """The turn clock's step: if the game's round ran past its deadline and nobody else holds
    the game, bots write its missing lines and it advances; False when there was nothing to
    do (someone else did it, or a submission is being counted: try again soon)."""
    due = await conn.fetchrow(Q["lock_due_round"], game_id)
    if due is None:
        return False
    await _fill(conn, game_id, stalled=True)
    return True


async def leave_game(pool: asyncpg.Pool, who: Principal, raw_id: str) -> GameResult:
    """Leave a game. In the lobby the player is gone (the last seat moves into theirs); in a
    running game their seat stays and a bot writes their remaining lines, starting with this
    round's if it is missing. A host who leaves hands hosting to the earliest-joined human
    still in the game; a lobby whose last human leaves is abandoned. The answer's player is the
    caller as they left."""
    who.require(Role.PLAYER)
    async with tenant_transaction(pool, who.tenant_id) as conn:
        row = await _lock_member(conn, who, raw_id)
        status = GameStatus(row["status"])
        if status.over:
            raise GameNotJoinable("the game is over")
        before = await game(conn, row["id"])
        me = before.player_of(who.user_id) if before is not None else None
        assert before is not None and me is not None  # locked, and the caller plays in it
        if not row["left"]:
            await _leave(conn, row, status)
    after = await read_game(pool, who.tenant_id, row["id"])
    return GameResult(after or before, replace(me, left=True, submitted_this_round=False))


async def _leave(conn: asyncpg.Connection, row: asyncpg.Record, status: GameStatus) -> None:
    game_id = row["id"]
    successor = await conn.fetchval(Q["next_host"], game_id, row["user_id"])
    if status is GameStatus.LOBBY and successor is None:
        # The last human of a lobby: the lobby is abandoned (and cleaned up later).
        await conn.execute(Q["leave_running_game"], row["player_id"])
        await conn.execute(Q["abandon_game"], game_id)
        return
    if status is GameStatus.LOBBY:
        await conn.execute(Q["leave_lobby"], row["player_id"])
    else:
        await conn.execute(Q["leave_running_game"], row["player_id"])
    if row["host_user_id"] == row["user_id"] and successor is not None:
        await conn.execute(Q["set_host"], game_id, successor)
    else:
        await conn.execute(Q["touch_game"], game_id)
    await _fill(conn, game_id, stalled=False)


async def end_game(pool: asyncpg.Pool, who: Principal, raw_id: str) -> GameResult:
    """The host ends the game now: it is COMPLETED and its poems are revealed as they stand."""
    who.require(Role.PLAYER)
    async with tenant_transaction(pool, who.tenant_id) as conn:
        game = await _lock_member(conn, who, raw_id)
        require_host(game["host_user_id"], who.user_id, "end")
        if await conn.fetchval(Q["end_game"], game["id"]) is not None:
            await _reveal(conn, game["id"])
    return await _result(pool, who, game["id"])


# ---------------------------------------------------------------- after the game


async def _finished_poem(
    conn: asyncpg.Connection, who: Principal, raw_id: str, poem_index: int, action: str
) -> tuple[UUID, PoemView]:
    """A poem of a finished game the caller played in; NotFound or Forbidden saying why not."""
    game_id = parse_id(raw_id)
    row = None
    if game_id is not None:
        row = await conn.fetchrow(Q["game_view"], game_id, who.user_id)
    if row is None or not row["member"]:
        raise no_such_game()
    found = game_of_viewer(row)
    if not found.status.over:
        raise Forbidden(f"poems can be {action} once the game is over")
    if not 0 <= poem_index < len(found.poems):
        raise NotFound(f"the game has no poem {poem_index} (it has {len(found.poems)})")
    return found.id, found.poems[poem_index]


async def set_favorite(
    pool: asyncpg.Pool, who: Principal, raw_id: str, poem_index: int, *, favorite: bool
) -> PoemView:
    """Mark (or unmark) a poem of a finished game as one of the caller's favourites."""
    who.require(Role.PLAYER)
    async with tenant_transaction(pool, who.tenant_id) as conn:
        game_id, poem = await _finished_poem(conn, who, raw_id, poem_index, "favourited")
        query = "favorite" if favorite else "unfavorite"
        await conn.execute(Q[query], game_id, poem_index, who.user_id)
    return replace(poem, favorited_by_me=favorite)


async def share_poem(
    pool: asyncpg.Pool, who: Principal, raw_id: str, poem_index: int, base_url: str
) -> ShareLink:
    """A link to a poem of a finished game the caller played in, readable by anyone holding
    it (sharedPoem); only the token's hash is stored."""
    who.require(Role.PLAYER)
    token = secrets.token_urlsafe(SHARE_TOKEN_BYTES)
    async with tenant_transaction(pool, who.tenant_id) as conn:
        game_id, _ = await _finished_poem(conn, who, raw_id, poem_index, "shared")
        await conn.execute(Q["share"], token_hash(token), game_id, poem_index, who.user_id)
    return ShareLink(token, shared_url(base_url, token))


async def unshare_poem(pool: asyncpg.Pool, who: Principal, token: str, base_url: str) -> ShareLink:
    """Revoke a link the caller made; it answers nothing from then on."""
    who.require(Role.PLAYER)
    async with tenant_transaction(pool, who.tenant_id) as conn:
        share = await conn.fetchrow(Q["lock_share"], token_hash(token))
        if share is None:
            raise NotFound("no such shared poem")
        if share["created_by"] != who.user_id:
            raise Forbidden("only the player who shared a poem can revoke its link")
        await conn.execute(Q["revoke_share"], token_hash(token))
    return ShareLink(token, shared_url(base_url, token))


def shared_url(base_url: str, token: str) -> str:
    """Where a shared poem's page is served (server/app.py)."""
    return f"{base_url.rstrip('/')}/poems/shared/{token}"
