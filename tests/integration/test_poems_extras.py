"""Poems beyond the core loop against real PostgreSQL: leaving and host migration, bots,
stalled rounds (also raced by several clocks), shapes, readers, the archive, favourites,
shared poems, abandonment and rate limits."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from db.pool import SYSTEM_ROLE, create_pool
from services.errors import Forbidden, InvalidInput, NotFound
from services.poems import flows, reads, workers
from services.poems.bots import bot_line
from services.poems.config import PoemsConfig
from services.poems.errors import GameNotJoinable, NotYourTurn, RateLimited
from services.poems.matrix import matrix_violations
from services.poems.model import GameStatus, GameView
from services.poems.shapes import GameShape
from services.poems.words import count_words
from tests.integration.test_poems_games import line_of, lobby, play_round, player, superuser

CONFIG = PoemsConfig()


async def submit_mine(pool: asyncpg.Pool, who, game_id: str) -> None:
    a = await reads.my_assignment(pool, who, game_id)
    assert a is not None and not a.submitted
    await flows.submit_line(pool, who, game_id, a.round, line_of(a.word_count, who.user_id))


async def game_of(pool: asyncpg.Pool, who, game_id: str) -> GameView:
    game = await reads.get_game(pool, who, game_id)
    assert game is not None
    return game


async def overdue(dsn: str, game_id: str) -> None:
    """Put the current round's deadline in the past (as if its turn timeout ran out)."""
    conn = await superuser(dsn)
    try:
        await conn.execute(
            "update games set round_deadline = now() - interval '1 second' where id = $1",
            uuid.UUID(game_id),
        )
    finally:
        await conn.close()


# ---------------------------------------------------------------- leaving and hosting


async def test_leave_game__mid_game_leaver_and_host_are_replaced_by_bots_to_the_end(
    pool, tenant
) -> None:
    game, people = await lobby(pool, tenant, 3)
    game_id = str(game.id)
    await flows.start_game(pool, people[0], game_id)
    await submit_mine(pool, people[0], game_id)

    left = await flows.leave_game(pool, people[1], game_id)
    assert left.player.left and left.player.user_id == "p1"
    after = await game_of(pool, people[0], game_id)
    assert after.player_of("p1").left  # type: ignore[union-attr]
    assert after.round == 0  # p2 has still to write round 0
    with pytest.raises(NotYourTurn, match="you left"):
        await flows.submit_line(pool, people[1], game_id, 0, "Moon")

    hosted = await flows.leave_game(pool, people[0], game_id)
    assert hosted.game.host.user_id == "p2"  # the earliest-joined human still playing
    with pytest.raises(Forbidden):
        await flows.end_game(pool, people[0], game_id)

    rounds = len(after.round_word_counts)
    for _ in range(rounds):
        await submit_mine(pool, people[2], game_id)
    done = await game_of(pool, people[2], game_id)
    assert done.status is GameStatus.COMPLETED
    assert all(len(p.lines) == rounds for p in done.poems)
    for poem in done.poems:
        for line in poem.lines:
            assert count_words(line.text) == done.round_word_counts[line.round]
            # Only p2 wrote after round 0; p0 wrote round 0 itself, p1 never wrote.
            human = line.author.user_id == "p2" or (line.author.user_id == "p0" and line.round == 0)
            assert line.by_bot is not human
    # p2 is the only reader left, and reads every poem.
    assert [r.reader.user_id for r in done.readers] == ["p2"] * 3


async def test_leave_game__in_the_lobby_frees_the_seat_and_passes_hosting(pool, tenant) -> None:
    game, people = await lobby(pool, tenant, 4)
    game_id = str(game.id)
    await flows.leave_game(pool, people[1], game_id)
    after = await game_of(pool, people[0], game_id)
    assert [p.seat for p in after.players] == [0, 1, 2]
    assert {p.user_id for p in after.players} == {"p0", "p2", "p3"}
    assert await reads.get_game(pool, people[1], game_id) is None

    await flows.leave_game(pool, people[0], game_id)
    after = await game_of(pool, people[2], game_id)
    assert after.host.user_id == "p2" and len(after.players) == 2
    started = await flows.start_game(pool, people[2], game_id)
    assert not matrix_violations(await _matrix(pool, tenant, game_id), len(started.game.players))


async def _matrix(pool: asyncpg.Pool, tenant: uuid.UUID, game_id: str) -> list[list[int]]:
    from db.pool import tenant_transaction

    async with tenant_transaction(pool, tenant) as conn:
        matrix: list[list[int]] = await conn.fetchval(
            "select matrix from games where id = $1", uuid.UUID(game_id)
        )
    return matrix


async def test_leave_game__the_last_human_of_a_lobby_abandons_it(pool, tenant) -> None:
    game, people = await lobby(pool, tenant, 1)
    await flows.add_bot_player(pool, people[0], str(game.id), "Robo", CONFIG)
    gone = await flows.leave_game(pool, people[0], str(game.id))
    assert gone.game.status is GameStatus.ABANDONED
    with pytest.raises(GameNotJoinable, match="over"):
        await flows.leave_game(pool, people[0], str(game.id))


# ---------------------------------------------------------------- bots


async def test_add_bot_player__only_the_host_only_in_the_lobby(pool, tenant) -> None:
    game, people = await lobby(pool, tenant, 2)
    with pytest.raises(Forbidden):
        await flows.add_bot_player(pool, people[1], str(game.id), "Robo", CONFIG)
    with pytest.raises(InvalidInput) as bad:
        await flows.add_bot_player(pool, people[0], str(game.id), "  ", CONFIG)
    assert bad.value.fields[0].field == "displayName"
    added = await flows.add_bot_player(pool, people[0], str(game.id), "Robo", CONFIG)
    assert added.player.is_bot and added.player.display_name == "Robo"
    await flows.start_game(pool, people[0], str(game.id))
    with pytest.raises(GameNotJoinable):
        await flows.add_bot_player(pool, people[0], str(game.id), "Late", CONFIG)


async def test_bots__write_their_lines_as_each_round_begins_reproducibly(pool, tenant) -> None:
    game, people = await lobby(pool, tenant, 1)
    game_id = str(game.id)
    for name in ("Robo", "Ada"):
        await flows.add_bot_player(pool, people[0], game_id, name, CONFIG)
    await flows.start_game(pool, people[0], game_id)
    running = await game_of(pool, people[0], game_id)
    assert [p.submitted_this_round for p in running.players] == [False, True, True]
    rounds = len(running.round_word_counts)
    for _ in range(rounds):
        await submit_mine(pool, people[0], game_id)
    done = await game_of(pool, people[0], game_id)
    assert done.status is GameStatus.COMPLETED
    seed = await _seed(pool, tenant, game_id)
    for poem in done.poems:
        for line in poem.lines:
            if line.author.is_bot:
                assert line.by_bot
                assert line.text == bot_line(seed, line.round, poem.index, len(line.text.split()))
    assert [r.reader.user_id for r in done.readers] == ["p0"] * 3


async def _seed(pool: asyncpg.Pool, tenant: uuid.UUID, game_id: str) -> int:
    from db.pool import tenant_transaction

    async with tenant_transaction(pool, tenant) as conn:
        seed: int = await conn.fetchval(
            "select bot_seed from games where id = $1", uuid.UUID(game_id)
        )
    return seed


# ---------------------------------------------------------------- stalled rounds


async def test_create_game__turn_seconds_gives_each_round_a_deadline(pool, tenant) -> None:
    host, guest = player(tenant, "p0"), player(tenant, "p1")
    created = await flows.create_game(pool, host, "Host", turn_seconds=30)
    assert created.game.turn_seconds == 30 and created.game.round_deadline is None
    await flows.join_game(pool, guest, created.game.code, "Guest", CONFIG)
    before = datetime.now(UTC)
    started = await flows.start_game(pool, host, str(created.game.id))
    deadline = started.game.round_deadline
    assert deadline is not None
    assert before + timedelta(seconds=25) < deadline < before + timedelta(seconds=35)
    for bad in (0, 9, 86401):
        with pytest.raises(InvalidInput) as exc:
            await flows.create_game(pool, host, "Host", turn_seconds=bad)
        assert [p.field for p in exc.value.fields] == ["turnSeconds"]


async def test_skip_stalled_players__fills_the_round_once_and_only_for_the_host(
    pool, tenant
) -> None:
    game, people = await lobby(pool, tenant, 3)
    game_id = str(game.id)
    await flows.start_game(pool, people[0], game_id)
    await submit_mine(pool, people[1], game_id)
    with pytest.raises(Forbidden):
        await flows.skip_stalled_players(pool, people[1], game_id)
    skipped = await flows.skip_stalled_players(pool, people[0], game_id, 0)
    assert skipped.game.round == 1
    # A second click meant for round 0 skips nothing: round 1 is untouched.
    again = await flows.skip_stalled_players(pool, people[0], game_id, 0)
    assert again.game.round == 1
    assert not any(p.submitted_this_round for p in again.game.players)
    await flows.end_game(pool, people[0], game_id)
    ended = await game_of(pool, people[0], game_id)
    bots = [(line.author.user_id, line.by_bot) for p in ended.poems for line in p.lines]
    assert sorted(bots) == [("p0", True), ("p1", False), ("p2", True)]


async def test_turn_clock__a_due_round_advances_exactly_once_under_racing_clocks(
    pool, tenant, dsn
) -> None:
    game, people = await lobby(pool, tenant, 4)
    game_id = str(game.id)
    await flows.start_game(pool, people[0], game_id)
    await submit_mine(pool, people[0], game_id)
    await overdue(dsn, game_id)
    clocks = [await create_pool(dsn, min_size=1, max_size=2, role=SYSTEM_ROLE) for _ in range(3)]

    async def clock(system: asyncpg.Pool) -> int:
        """A clock's passes, as the worker runs them: again while the game was held."""
        filled, skipped = 0, True
        while skipped:
            done, skipped = await workers.fill_due(system)
            filled += done
            await asyncio.sleep(0.01)
        return filled

    try:
        # Three clocks (two passes at once each) and a late player race for round 0.
        late = asyncio.create_task(_try_submit(pool, people[1], game_id))
        results = await asyncio.gather(*(clock(c) for c in clocks for _ in range(2)))
        await late
    finally:
        for c in clocks:
            await c.close()
    assert sum(results) == 1  # exactly one pass filled it
    after = await game_of(pool, people[0], game_id)
    assert after.round == 1 and after.status is GameStatus.IN_PROGRESS
    assert after.round_deadline is None  # no turn timeout on this game
    await flows.end_game(pool, people[0], game_id)
    ended = await game_of(pool, people[0], game_id)
    assert sorted(len(p.lines) for p in ended.poems) == [1, 1, 1, 1]


async def _try_submit(pool: asyncpg.Pool, who, game_id: str) -> None:
    try:
        await submit_mine(pool, who, game_id)
    except (NotYourTurn, AssertionError):
        pass  # the clock filled the round first


async def test_turn_clock__fills_a_round_past_its_deadline_and_sets_the_next(
    pool, tenant, dsn
) -> None:
    host, guest = player(tenant, "p0"), player(tenant, "p1")
    created = await flows.create_game(pool, host, "Host", turn_seconds=10)
    await flows.join_game(pool, guest, created.game.code, "Guest", CONFIG)
    game_id = str(created.game.id)
    await flows.start_game(pool, host, game_id)
    await overdue(dsn, game_id)
    clock = await create_pool(dsn, min_size=1, max_size=2, role=SYSTEM_ROLE)
    try:
        assert await workers.fill_due(clock) == (1, False)
        assert await workers.fill_due(clock) == (0, False)
    finally:
        await clock.close()
    after = await game_of(pool, host, game_id)
    assert after.round == 1
    assert after.round_deadline is not None
    assert after.round_deadline > datetime.now(UTC) + timedelta(seconds=5)


# ---------------------------------------------------------------- shapes


@pytest.mark.parametrize(
    ("shape", "counts", "expected"),
    [
        (GameShape.CLASSIC, None, [1, 2, 3, 4, 5, 4, 3, 2, 1]),
        (GameShape.QUICK, None, [1, 2, 3, 2, 1]),
        (GameShape.CUSTOM, [2, 4, 6], [2, 4, 6]),
    ],
)
async def test_create_game__shape_gives_the_rounds(pool, tenant, shape, counts, expected) -> None:
    created = await flows.create_game(
        pool, player(tenant, "p0"), "Host", shape=shape, word_counts=counts
    )
    assert list(created.game.round_word_counts) == expected


@pytest.mark.parametrize(
    ("shape", "counts"),
    [
        (GameShape.CUSTOM, None),
        (GameShape.CUSTOM, [1, 2]),
        (GameShape.CUSTOM, [1, 11, 2]),
        (GameShape.QUICK, [1, 2, 3]),
        (GameShape.CUSTOM, list(range(1, 11)) + [1] * 6),
    ],
)
async def test_create_game__bad_word_counts_name_word_counts(pool, tenant, shape, counts) -> None:
    with pytest.raises(InvalidInput) as exc:
        await flows.create_game(pool, player(tenant, "p0"), "Host", shape=shape, word_counts=counts)
    assert {p.field for p in exc.value.fields} == {"wordCounts"}


async def test_custom_shape__plays_to_the_end_with_its_word_counts(pool, tenant) -> None:
    people = [player(tenant, f"p{i}") for i in range(3)]
    created = await flows.create_game(
        pool, people[0], "Host", shape=GameShape.CUSTOM, word_counts=[3, 1, 2, 1]
    )
    for i, who in enumerate(people[1:], start=1):
        await flows.join_game(pool, who, created.game.code, f"P{i}", CONFIG)
    game_id = str(created.game.id)
    await flows.start_game(pool, people[0], game_id)
    for _ in range(4):
        await play_round(pool, game_id, people)
    done = await game_of(pool, people[0], game_id)
    assert done.status is GameStatus.COMPLETED
    for poem in done.poems:
        assert [count_words(line.text) for line in poem.lines] == [3, 1, 2, 1]


# ---------------------------------------------------------------- readers


@pytest.mark.parametrize("n", [3, 4])
async def test_readers__fixed_at_completion_never_a_poem_the_reader_wrote_when_possible(
    pool, tenant, n
) -> None:
    # Three one-word rounds. With 4 players each writes 3 of the 4 poems and misses one, so
    # everyone can read a poem they never touched. With 3 every player wrote every poem, so the
    # best is a poem they did not begin.
    people = [player(tenant, f"p{i}") for i in range(n)]
    created = await flows.create_game(
        pool, people[0], "Host", shape=GameShape.CUSTOM, word_counts=[1, 1, 1]
    )
    for i, who in enumerate(people[1:], start=1):
        await flows.join_game(pool, who, created.game.code, f"P{i}", CONFIG)
    game_id = str(created.game.id)
    await flows.start_game(pool, people[0], game_id)
    assert (await game_of(pool, people[0], game_id)).readers == ()
    for _ in range(3):
        await play_round(pool, game_id, people)
    views = [await game_of(pool, who, game_id) for who in people]
    readers = views[0].readers
    assert all(v.readers == readers for v in views)  # the same for everyone
    assert sorted(r.poem_index for r in readers) == list(range(n))
    assert sorted(r.reader.user_id for r in readers) == [f"p{i}" for i in range(n)]
    for r in readers:
        authors = [line.author.user_id for line in views[0].poems[r.poem_index].lines]
        if n == 4:
            assert r.reader.user_id not in authors
        else:
            assert authors[0] != r.reader.user_id


# ---------------------------------------------------------------- archive and favourites


async def _finished(pool: asyncpg.Pool, people) -> str:
    created = await flows.create_game(pool, people[0], "Host", shape=GameShape.QUICK)
    for i, who in enumerate(people[1:], start=1):
        await flows.join_game(pool, who, created.game.code, f"P{i}", CONFIG)
    game_id = str(created.game.id)
    await flows.start_game(pool, people[0], game_id)
    await play_round(pool, game_id, people)
    await flows.end_game(pool, people[0], game_id)
    return game_id


async def test_my_games__finished_games_newest_first_paged(pool, tenant) -> None:
    people = [player(tenant, "p0"), player(tenant, "p1")]
    ids = [await _finished(pool, people) for _ in range(3)]
    unfinished = await flows.create_game(pool, people[0], "Host")
    page = await reads.my_games(pool, people[1], 2, None)
    assert [str(g.id) for g in page] == [ids[2], ids[1]]
    assert all(g.poems and g.completed_at is not None for g in page)
    rest = await reads.my_games(pool, people[1], 2, page[-1].completed_at)
    assert [str(g.id) for g in rest] == [ids[0]]
    mine = {str(g.id) for g in await reads.my_games(pool, people[0], 20, None)}
    assert str(unfinished.game.id) not in mine
    assert await reads.my_games(pool, player(tenant, "stranger"), 20, None) == []
    with pytest.raises(InvalidInput) as exc:
        await reads.my_games(pool, people[0], 0, None)
    assert exc.value.fields[0].field == "limit"


async def test_favorites__per_player_listed_newest_first_and_only_when_over(pool, tenant) -> None:
    people = [player(tenant, "p0"), player(tenant, "p1")]
    first, second = await _finished(pool, people), await _finished(pool, people)
    poem = await flows.set_favorite(pool, people[1], first, 1, favorite=True)
    assert poem.favorited_by_me and poem.index == 1
    await flows.set_favorite(pool, people[1], second, 0, favorite=True)
    await flows.set_favorite(pool, people[1], second, 0, favorite=True)  # harmless twice
    seen = await game_of(pool, people[1], first)
    assert [p.favorited_by_me for p in seen.poems] == [False, True]
    assert not any(p.favorited_by_me for p in (await game_of(pool, people[0], first)).poems)
    favorites = await reads.my_favorite_poems(pool, people[1])
    assert [(str(f.game.id), f.poem.index) for f in favorites] == [(second, 0), (first, 1)]
    assert all(f.poem.favorited_by_me for f in favorites)
    await flows.set_favorite(pool, people[1], first, 1, favorite=False)
    assert [f.poem.index for f in await reads.my_favorite_poems(pool, people[1])] == [0]

    with pytest.raises(NotFound):
        await flows.set_favorite(pool, people[1], first, 7, favorite=True)
    with pytest.raises(NotFound):
        await flows.set_favorite(pool, player(tenant, "stranger"), first, 0, favorite=True)
    running = await flows.create_game(pool, people[0], "Host")
    with pytest.raises(Forbidden):
        await flows.set_favorite(pool, people[0], str(running.game.id), 0, favorite=True)


# ---------------------------------------------------------------- shared poems


async def test_share_poem__readable_by_anyone_with_the_link_until_revoked(pool, tenant) -> None:
    people = [player(tenant, "p0"), player(tenant, "p1")]
    game_id = await _finished(pool, people)
    link = await flows.share_poem(pool, people[1], game_id, 0, "http://allot.test/")
    assert link.url == f"http://allot.test/poems/shared/{link.token}"
    assert len(link.token) >= 32
    shared = await reads.shared_poem(pool, link.token)
    game = await game_of(pool, people[0], game_id)
    assert shared is not None
    assert [(x.round, x.text) for x in shared.lines] == [
        (line.round, line.text) for line in game.poems[0].lines
    ]
    assert {x.author_name for x in shared.lines} <= {"Host", "P1"}
    assert await reads.shared_poem(pool, link.token[:-1] + "x") is None
    assert await reads.shared_poem(pool, "") is None

    with pytest.raises(Forbidden):
        await flows.unshare_poem(pool, people[0], link.token, "http://allot.test/")
    with pytest.raises(NotFound):
        other_tenant = player(uuid.uuid4(), "p1")
        await flows.unshare_poem(pool, other_tenant, link.token, "http://allot.test/")
    await flows.unshare_poem(pool, people[1], link.token, "http://allot.test/")
    assert await reads.shared_poem(pool, link.token) is None

    running = await flows.create_game(pool, people[0], "Host")
    with pytest.raises(Forbidden):
        await flows.share_poem(pool, people[0], str(running.game.id), 0, "http://allot.test/")
    with pytest.raises(NotFound):
        await flows.share_poem(pool, player(tenant, "stranger"), game_id, 0, "http://x/")


async def test_share_poem__stores_only_the_tokens_hash(pool, tenant, dsn) -> None:
    people = [player(tenant, "p0"), player(tenant, "p1")]
    game_id = await _finished(pool, people)
    link = await flows.share_poem(pool, people[0], game_id, 1, "http://allot.test/")
    conn = await superuser(dsn)
    try:
        stored = await conn.fetch("select token_hash from poem_shares")
    finally:
        await conn.close()
    assert reads.token_hash(link.token) in {r["token_hash"] for r in stored}
    assert link.token not in {r["token_hash"] for r in stored}


# ---------------------------------------------------------------- abandonment


async def test_housekeeping__abandons_idle_games_revealing_poems_and_cleans_up_lobbies(
    pool, tenant, dsn
) -> None:
    game, people = await lobby(pool, tenant, 2)
    running_id = str(game.id)
    await flows.start_game(pool, people[0], running_id)
    await submit_mine(pool, people[0], running_id)
    idle_lobby = await flows.create_game(pool, player(tenant, "p9"), "Alone")
    fresh = await flows.create_game(pool, player(tenant, "p8"), "Fresh")
    conn = await superuser(dsn)
    try:
        await conn.execute(
            "update games set active_at = now() - interval '3 hours' where id = any($1)",
            [uuid.UUID(running_id), idle_lobby.game.id],
        )
        system = await create_pool(dsn, min_size=1, max_size=2, role=SYSTEM_ROLE)
        try:
            assert await workers.housekeeping(system, PoemsConfig(abandon_minutes=120)) >= 2
            abandoned = await game_of(pool, people[1], running_id)
            assert abandoned.status is GameStatus.ABANDONED
            assert [len(p.lines) for p in abandoned.poems] in ([1, 0], [0, 1])
            lobby_left = await game_of(pool, player(tenant, "p9"), str(idle_lobby.game.id))
            assert lobby_left.status is GameStatus.ABANDONED
            still = await game_of(pool, player(tenant, "p8"), str(fresh.game.id))
            assert still.status is GameStatus.LOBBY
            with pytest.raises(NotYourTurn):
                await flows.submit_line(pool, people[1], running_id, 0, "Moon")

            await conn.execute(
                "update games set completed_at = now() - interval '3 hours' where id = $1",
                idle_lobby.game.id,
            )
            await workers.housekeeping(system, PoemsConfig(abandon_minutes=120))
            assert await reads.get_game(pool, player(tenant, "p9"), str(idle_lobby.game.id)) is None
            assert await reads.get_game(pool, people[1], running_id) is not None  # kept
        finally:
            await system.close()
    finally:
        await conn.close()


# ---------------------------------------------------------------- rate limits


async def test_rate_limit__join_guesses_are_stopped_with_a_retry_time(pool, tenant) -> None:
    config = PoemsConfig(joins_per_minute=3)
    guesser = player(tenant, "guesser")
    for code in ("AAAAAA", "BBBBBB", "CCCCCC"):
        with pytest.raises(NotFound):
            await flows.join_game(pool, guesser, code, "G", config)
    created = await flows.create_game(pool, player(tenant, "host"), "Host")
    with pytest.raises(RateLimited) as limited:
        await flows.join_game(pool, guesser, created.game.code, "G", config)
    assert 1 <= limited.value.retry_after_seconds <= 60
    # Someone else is not limited by the guesser's attempts.
    await flows.join_game(pool, player(tenant, "friend"), created.game.code, "F", config)


async def test_rate_limit__line_submissions_per_minute(pool, tenant) -> None:
    game, people = await lobby(pool, tenant, 2)
    game_id = str(game.id)
    await flows.start_game(pool, people[0], game_id)
    config = PoemsConfig(lines_per_minute=2)
    first = await flows.submit_line(pool, people[0], game_id, 0, "Moon", config)
    again = await flows.submit_line(pool, people[0], game_id, 0, "Moon", config)  # a retry
    assert again.line.text == first.line.text == "Moon"
    with pytest.raises(RateLimited) as limited:
        await flows.submit_line(pool, people[0], game_id, 0, "Moon", config)
    assert 1 <= limited.value.retry_after_seconds <= 60
    # A refused submission writes nothing, its count included; others are not limited.
    await flows.submit_line(pool, people[1], game_id, 0, "Sun", config)


async def test_my_active_games__lobbies_and_running_games_until_they_end_or_you_leave(
    pool, tenant
) -> None:
    game, people = await lobby(pool, tenant, 3)
    other = await flows.create_game(pool, people[1], "Second")
    assert [g.id for g in await reads.my_active_games(pool, people[1])] == [
        other.game.id,
        game.id,
    ]
    await flows.start_game(pool, people[0], str(game.id))
    assert [g.status for g in await reads.my_active_games(pool, people[2])] == [
        GameStatus.IN_PROGRESS
    ]
    await flows.leave_game(pool, people[2], str(game.id))
    assert await reads.my_active_games(pool, people[2]) == []
    await flows.end_game(pool, people[0], str(game.id))
    assert await reads.my_active_games(pool, people[0]) == []
