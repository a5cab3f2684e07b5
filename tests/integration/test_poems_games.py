"""Poems against real PostgreSQL: the game's life, its rules, tenancy and the database guards."""

from __future__ import annotations

import asyncio
import itertools
import uuid

import asyncpg
import pytest

from db.pool import tenant_transaction
from services.core.principal import Principal, Role
from services.errors import Forbidden, InvalidInput, NotFound
from services.poems import flows, reads
from services.poems.config import PoemsConfig
from services.poems.errors import GameNotJoinable, NotEnoughPlayers, NotYourTurn, WrongWordCount
from services.poems.model import GameStatus, GameView
from services.poems.rules import CODE_ALPHABET, ROUND_WORD_COUNTS


def player(tenant: uuid.UUID, user: str) -> Principal:
    return Principal(user_id=user, tenant_id=tenant, roles=frozenset({Role.PLAYER}))


def line_of(words: int, tag: str) -> str:
    """A line of exactly `words` words, unique by `tag`."""
    return " ".join(f"{tag}w{i}" for i in range(words))


async def lobby(pool: asyncpg.Pool, tenant: uuid.UUID, n: int) -> tuple[GameView, list[Principal]]:
    """A game in its lobby with players p0 (host) .. p{n-1}."""
    people = [player(tenant, f"p{i}") for i in range(n)]
    created = await flows.create_game(pool, people[0], "Player 0")
    for i, who in enumerate(people[1:], start=1):
        await flows.join_game(
            pool, who, created.game.code, f"Player {i}", PoemsConfig(max_players_per_game=50)
        )
    game = await reads.get_game(pool, people[0], str(created.game.id))
    assert game is not None
    return game, people


async def started(pool: asyncpg.Pool, tenant: uuid.UUID, n: int) -> tuple[str, list[Principal]]:
    game, people = await lobby(pool, tenant, n)
    await flows.start_game(pool, people[0], str(game.id))
    return str(game.id), people


async def play_round(pool: asyncpg.Pool, game_id: str, people: list[Principal]) -> None:
    """Every player writes their line of the current round, one after the other."""
    for who in people:
        a = await reads.my_assignment(pool, who, game_id)
        assert a is not None
        await flows.submit_line(
            pool, who, game_id, a.round, line_of(a.word_count, f"r{a.round}{who.user_id}")
        )


async def superuser(dsn: str) -> asyncpg.Connection:
    return await asyncpg.connect(dsn)


# ---------------------------------------------------------------- lobby


async def test_create_game__caller_hosts_in_seat_zero_with_a_join_code(pool, tenant) -> None:
    result = await flows.create_game(pool, player(tenant, "ana"), "  Ana  ")
    game = result.game
    assert game.status is GameStatus.LOBBY and game.round == 0
    assert game.round_word_counts == (1, 2, 3, 4, 5, 4, 3, 2, 1)
    assert len(game.code) == 6 and set(game.code) <= set(CODE_ALPHABET)
    assert result.player == game.host == game.players[0]
    assert (result.player.seat, result.player.display_name) == (0, "Ana")
    assert game.poems == () and game.version == 1


async def test_create_game__open_games_of_a_tenant_never_share_a_code(pool, tenant) -> None:
    results = await asyncio.gather(
        *(flows.create_game(pool, player(tenant, f"h{i}"), "Host") for i in range(30))
    )
    assert len({r.game.code for r in results}) == 30


async def test_create_game__bad_display_name_names_display_name(pool, tenant) -> None:
    for bad in ("", "  ", "x" * 41, "bell\x07"):
        with pytest.raises(InvalidInput) as exc:
            await flows.create_game(pool, player(tenant, "ana"), bad)
        assert [p.field for p in exc.value.fields] == ["displayName"]


async def test_create_game__needs_the_player_role(pool, tenant) -> None:
    staff = Principal(user_id="s", tenant_id=tenant, roles=frozenset({Role.STAFF}))
    with pytest.raises(Forbidden):
        await flows.create_game(pool, staff, "Sam")


async def test_join_game__code_is_case_insensitive_and_joining_twice_returns_same_player(
    pool, tenant
) -> None:
    created = await flows.create_game(pool, player(tenant, "ana"), "Ana")
    bob = player(tenant, "bob")
    first = await flows.join_game(
        pool, bob, f" {created.game.code.lower()} ", "Bob", PoemsConfig(max_players_per_game=50)
    )
    again = await flows.join_game(
        pool, bob, created.game.code, "Bobby", PoemsConfig(max_players_per_game=50)
    )
    assert first.player.seat == 1 and again.player == first.player
    assert [p.display_name for p in again.game.players] == ["Ana", "Bob"]
    assert again.game.version == 2  # one join, one version bump


async def test_join_game__unknown_code_is_not_found_and_malformed_code_names_code(
    pool, tenant
) -> None:
    with pytest.raises(NotFound):
        await flows.join_game(
            pool, player(tenant, "bob"), "ABCDEF", "Bob", PoemsConfig(max_players_per_game=50)
        )
    with pytest.raises(InvalidInput) as exc:
        await flows.join_game(
            pool, player(tenant, "bob"), "0OO1", " ", PoemsConfig(max_players_per_game=50)
        )
    assert {p.field for p in exc.value.fields} == {"code", "displayName"}


async def test_join_game__full_game_is_not_joinable_with_a_clear_message(pool, tenant) -> None:
    game, _ = await lobby(pool, tenant, 3)
    with pytest.raises(GameNotJoinable) as exc:
        await flows.join_game(
            pool, player(tenant, "late"), game.code, "Late", PoemsConfig(max_players_per_game=3)
        )
    assert "full" in exc.value.message and "3 players" in exc.value.message


async def test_join_game__started_game_is_not_joinable_but_its_players_rejoin(pool, tenant) -> None:
    game_id, people = await started(pool, tenant, 2)
    game = await reads.get_game(pool, people[0], game_id)
    assert game is not None
    with pytest.raises(GameNotJoinable) as exc:
        await flows.join_game(
            pool, player(tenant, "late"), game.code, "Late", PoemsConfig(max_players_per_game=50)
        )
    assert "already started" in exc.value.message
    again = await flows.join_game(
        pool, people[1], game.code, "Player 1", PoemsConfig(max_players_per_game=50)
    )
    assert again.player.seat == 1


async def test_join_game__concurrent_joins_get_distinct_seats(pool, tenant) -> None:
    created = await flows.create_game(pool, player(tenant, "host"), "Host")
    joined = await asyncio.gather(
        *(
            flows.join_game(
                pool,
                player(tenant, f"u{i}"),
                created.game.code,
                f"U{i}",
                PoemsConfig(max_players_per_game=50),
            )
            for i in range(40)
        )
    )
    assert sorted(j.player.seat for j in joined) == list(range(1, 41))


async def test_join_game__concurrent_joins_never_exceed_the_cap(pool, tenant) -> None:
    created = await flows.create_game(pool, player(tenant, "host"), "Host")
    outcomes = await asyncio.gather(
        *(
            flows.join_game(
                pool,
                player(tenant, f"u{i}"),
                created.game.code,
                f"U{i}",
                PoemsConfig(max_players_per_game=5),
            )
            for i in range(20)
        ),
        return_exceptions=True,
    )
    assert sum(not isinstance(o, BaseException) for o in outcomes) == 4
    assert all(isinstance(o, GameNotJoinable) for o in outcomes if isinstance(o, BaseException))
    game = await reads.get_game(pool, player(tenant, "host"), str(created.game.id))
    assert game is not None and [p.seat for p in game.players] == [0, 1, 2, 3, 4]


# ---------------------------------------------------------------- start


async def test_start_game__only_the_host_may_start(pool, tenant) -> None:
    game, people = await lobby(pool, tenant, 2)
    with pytest.raises(Forbidden):
        await flows.start_game(pool, people[1], str(game.id))


async def test_start_game__needs_at_least_two_players(pool, tenant) -> None:
    game, people = await lobby(pool, tenant, 1)
    with pytest.raises(NotEnoughPlayers) as exc:
        await flows.start_game(pool, people[0], str(game.id))
    assert exc.value.minimum == 2


async def test_start_game__twice_is_not_joinable(pool, tenant) -> None:
    game_id, people = await started(pool, tenant, 2)
    with pytest.raises(GameNotJoinable) as exc:
        await flows.start_game(pool, people[0], game_id)
    assert "already started" in exc.value.message


async def test_start_game__non_player_and_bad_id_are_not_found(pool, tenant) -> None:
    game, _ = await lobby(pool, tenant, 2)
    with pytest.raises(NotFound):
        await flows.start_game(pool, player(tenant, "stranger"), str(game.id))
    with pytest.raises(NotFound):
        await flows.start_game(pool, player(tenant, "p0"), "not-a-uuid")


async def test_start_game__stores_a_valid_matrix_that_can_never_change(pool, tenant, dsn) -> None:
    game_id, people = await started(pool, tenant, 4)
    result = await reads.get_game(pool, people[0], game_id)
    assert result is not None and result.status is GameStatus.IN_PROGRESS and result.round == 0
    async with tenant_transaction(pool, tenant) as conn:
        matrix = await conn.fetchval("select matrix from games where id = $1", uuid.UUID(game_id))
    assert len(matrix) == 9 and all(sorted(row) == [0, 1, 2, 3] for row in matrix)
    with pytest.raises(asyncpg.CheckViolationError) as exc:
        async with tenant_transaction(pool, tenant) as conn:
            await conn.execute(
                "update games set matrix = $2::int[] where id = $1",
                uuid.UUID(game_id),
                [list(reversed(r)) for r in matrix],
            )
    assert exc.value.constraint_name == "games_matrix_immutable"


# ---------------------------------------------------------------- submit


async def test_submit_line__wrong_word_count_says_expected_and_actual(pool, tenant) -> None:
    game_id, people = await started(pool, tenant, 2)
    with pytest.raises(WrongWordCount) as exc:
        await flows.submit_line(pool, people[0], game_id, 0, "two words")
    assert (exc.value.expected, exc.value.actual) == (1, 2)


@pytest.mark.parametrize("text", ["x" * 201, "tab\tinside", "bell\x07", "   "])
async def test_submit_line__unacceptable_text_names_text(pool, tenant, text: str) -> None:
    game_id, people = await started(pool, tenant, 2)
    with pytest.raises(InvalidInput) as exc:
        await flows.submit_line(pool, people[0], game_id, 0, text)
    assert [p.field for p in exc.value.fields] == ["text"]


async def test_submit_line__wrong_round_or_unstarted_game_is_not_your_turn(pool, tenant) -> None:
    game, people = await lobby(pool, tenant, 2)
    with pytest.raises(NotYourTurn):
        await flows.submit_line(pool, people[0], str(game.id), 0, "early")
    await flows.start_game(pool, people[0], str(game.id))
    with pytest.raises(NotYourTurn) as exc:
        await flows.submit_line(pool, people[0], str(game.id), 1, "two words")
    assert "has not started" in exc.value.message


async def test_submit_line__non_player_is_not_found(pool, tenant) -> None:
    game_id, _ = await started(pool, tenant, 2)
    with pytest.raises(NotFound):
        await flows.submit_line(pool, player(tenant, "stranger"), game_id, 0, "hello")


async def test_submit_line__retry_returns_stored_line_and_a_different_text_is_refused(
    pool, tenant
) -> None:
    game_id, people = await started(pool, tenant, 3)
    first = await flows.submit_line(pool, people[0], game_id, 0, "hello")
    again = await flows.submit_line(pool, people[0], game_id, 0, "  hello ")
    assert again.line == first.line and again.game.version == first.game.version
    with pytest.raises(InvalidInput) as exc:
        await flows.submit_line(pool, people[0], game_id, 0, "goodbye")
    assert [p.field for p in exc.value.fields] == ["text"]
    assert "already submitted" in exc.value.message


async def test_submit_line__retry_after_the_round_advanced_returns_stored_line(
    pool, tenant
) -> None:
    game_id, people = await started(pool, tenant, 2)
    await flows.submit_line(pool, people[0], game_id, 0, "alpha")
    last = await flows.submit_line(pool, people[1], game_id, 0, "beta")
    assert last.game.round == 1
    retry = await flows.submit_line(pool, people[1], game_id, 0, "beta")
    assert retry.line.text == "beta" and retry.game.round == 1


async def test_submit_line__marks_who_submitted_this_round(pool, tenant) -> None:
    game_id, people = await started(pool, tenant, 3)
    result = await flows.submit_line(pool, people[1], game_id, 0, "hello")
    assert [p.submitted_this_round for p in result.game.players] == [False, True, False]
    assert result.line.author.seat == 1 and result.line.text == "hello"


async def test_my_assignment__shows_only_the_previous_line_of_the_callers_poem(
    pool, tenant
) -> None:
    game_id, people = await started(pool, tenant, 3)
    written: dict[int, str] = {}
    for who in people:
        a = await reads.my_assignment(pool, who, game_id)
        assert a is not None and a.round == 0 and a.previous_line is None and a.word_count == 1
        text = f"first{who.user_id}"
        await flows.submit_line(pool, who, game_id, 0, text)
        written[a.poem_index] = text
    poems_seen = set()
    for who in people:
        a = await reads.my_assignment(pool, who, game_id)
        assert a is not None and a.round == 1 and a.word_count == 2 and not a.submitted
        assert a.previous_line == written[a.poem_index]
        poems_seen.add(a.poem_index)
    assert poems_seen == {0, 1, 2}


async def test_my_assignment__is_null_in_the_lobby_and_for_non_players(pool, tenant) -> None:
    game, people = await lobby(pool, tenant, 2)
    assert await reads.my_assignment(pool, people[0], str(game.id)) is None
    await flows.start_game(pool, people[0], str(game.id))
    assert await reads.my_assignment(pool, player(tenant, "stranger"), str(game.id)) is None


# ---------------------------------------------------------------- whole games and ending


async def test_two_player_game__completes_with_no_consecutive_lines_by_one_player(
    pool, tenant
) -> None:
    game_id, people = await started(pool, tenant, 2)
    for _ in ROUND_WORD_COUNTS:
        mid = await reads.get_game(pool, people[0], game_id)
        assert mid is not None and mid.poems == ()  # nothing revealed before the end
        await play_round(pool, game_id, people)
    game = await reads.get_game(pool, people[1], game_id)
    assert game is not None and game.status is GameStatus.COMPLETED
    assert len(game.poems) == 2
    for poem in game.poems:
        assert [line.round for line in poem.lines] == list(range(9))
        authors = [line.author.seat for line in poem.lines]
        assert all(a != b for a, b in itertools.pairwise(authors)), authors
        assert [len(line.text.split()) for line in poem.lines] == list(ROUND_WORD_COUNTS)
    assert await reads.my_assignment(pool, people[0], game_id) is None
    with pytest.raises(InvalidInput) as exc:
        await flows.submit_line(pool, people[0], game_id, 8, "more")
    assert "already submitted" in exc.value.message


async def test_end_game__host_completes_a_stalled_game_revealing_poems_as_they_stand(
    pool, tenant
) -> None:
    game_id, people = await started(pool, tenant, 3)
    await play_round(pool, game_id, people)
    await flows.submit_line(pool, people[0], game_id, 1, "just two")
    with pytest.raises(Forbidden):
        await flows.end_game(pool, people[1], game_id)
    ended = await flows.end_game(pool, people[0], game_id)
    assert ended.game.status is GameStatus.COMPLETED
    assert sorted(len(p.lines) for p in ended.game.poems) == [1, 1, 2]
    assert not any(p.submitted_this_round for p in ended.game.players)
    again = await flows.end_game(pool, people[0], game_id)
    assert again.game.version == ended.game.version  # ending twice changes nothing


async def test_end_game__a_completed_game_frees_its_join_code(pool, tenant) -> None:
    game, people = await lobby(pool, tenant, 1)
    await flows.end_game(pool, people[0], str(game.id))
    with pytest.raises(GameNotJoinable):
        await flows.join_game(
            pool, player(tenant, "late"), game.code, "Late", PoemsConfig(max_players_per_game=50)
        )
    async with tenant_transaction(pool, tenant) as conn:
        reused = await conn.fetchval(
            "insert into games (code, host_user_id, round_word_counts)"
            " values ($1, 'x', '{1}') returning id",
            game.code,
        )
    assert reused is not None


# ---------------------------------------------------------------- tenancy and guards


async def test_other_tenant__cannot_see_join_start_or_write_the_game(pool, tenant) -> None:
    game_id, people = await started(pool, tenant, 2)
    game = await reads.get_game(pool, people[0], game_id)
    assert game is not None
    stranger = player(uuid.uuid4(), "p0")  # same user id, another tenant
    assert await reads.get_game(pool, stranger, game_id) is None
    assert await reads.my_assignment(pool, stranger, game_id) is None
    with pytest.raises(NotFound):
        await flows.join_game(
            pool, stranger, game.code, "Eve", PoemsConfig(max_players_per_game=50)
        )
    with pytest.raises(NotFound):
        await flows.submit_line(pool, stranger, game_id, 0, "hello")
    with pytest.raises(NotFound):
        await flows.end_game(pool, stranger, game_id)


async def test_guard__database_refuses_a_line_by_the_wrong_author(pool, tenant) -> None:
    game_id, _ = await started(pool, tenant, 3)
    gid = uuid.UUID(game_id)
    async with tenant_transaction(pool, tenant) as conn:
        row = await conn.fetchval("select matrix[1:1] from games where id = $1", gid)
    poem, wrong_seat = 0, (row[0][0] + 1) % 3
    with pytest.raises(asyncpg.CheckViolationError) as exc:
        async with tenant_transaction(pool, tenant) as conn:
            await conn.execute(
                "insert into game_lines (game_id, poem, round, seat, text, word_count)"
                " values ($1, $2, 0, $3, 'sneaky', 1)",
                gid,
                poem,
                wrong_seat,
            )
    assert exc.value.constraint_name == "game_lines_author_matches_matrix"


async def test_guard__database_refuses_to_advance_an_incomplete_round_or_edit_a_line(
    pool, tenant
) -> None:
    game_id, people = await started(pool, tenant, 2)
    gid = uuid.UUID(game_id)
    await flows.submit_line(pool, people[0], game_id, 0, "lonely")
    with pytest.raises(asyncpg.CheckViolationError) as exc:
        async with tenant_transaction(pool, tenant) as conn:
            await conn.execute("update games set round = 1 where id = $1", gid)
    assert exc.value.constraint_name == "games_round_complete"
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with tenant_transaction(pool, tenant) as conn:
            await conn.execute("update game_lines set text = 'changed' where game_id = $1", gid)


async def test_guard__database_refuses_a_player_joining_a_started_game(pool, tenant) -> None:
    game_id, _ = await started(pool, tenant, 2)
    with pytest.raises(asyncpg.CheckViolationError) as exc:
        async with tenant_transaction(pool, tenant) as conn:
            await conn.execute(
                "insert into game_players (game_id, user_id, display_name, seat)"
                " values ($1, 'late', 'Late', 2)",
                uuid.UUID(game_id),
            )
    assert exc.value.constraint_name == "game_players_lobby_only"


async def test_demo_seed__opens_one_lobby_and_prints_two_player_tokens(pool, tenant) -> None:
    from services.poems import demo

    def token(user: str, roles: list[Role]) -> str:
        return f"token-of-{user}-{'+'.join(r.value for r in roles)}"

    first = "\n".join(await demo.seed(pool, tenant, token))
    second = "\n".join(await demo.seed(pool, tenant, token))
    assert "token-of-demo-player-1-player" in first and "token-of-demo-player-2-player" in first
    async with tenant_transaction(pool, tenant) as conn:
        codes = await conn.fetch("select code from games")
    assert len(codes) == 1  # the second run found the area filled and created nothing
    assert codes[0]["code"] in first and codes[0]["code"] in second
