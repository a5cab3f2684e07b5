"""Poems beyond the core loop through the real server: every new event kind with every field
equal to a fresh query, shared poems without a token (GraphQL and the link's page), typed
RateLimited answers, and a stalled round advanced exactly once by two server processes."""

from __future__ import annotations

import asyncio
import logging
import uuid
from contextlib import AsyncExitStack
from typing import Any

import asyncpg
import httpx
import pytest

from db.pool import SYSTEM_ROLE, create_pool
from services.poems.config import PoemsConfig
from services.poems.workers import housekeeping
from tests.e2e.test_poems_play import JOIN, Seat, seats, words
from tests.support.gql import GraphQLHttp, subscribe, websocket
from tests.support.server import RunningServer, serve_in_process, serve_subprocess, test_settings

PLAYER = "id displayName seat submittedThisRound isBot left"
GAME = f"""
fragment X on Game {{
  id code status round roundWordCounts version turnSeconds roundDeadline completedAt
  host {{ {PLAYER} }}
  players {{ {PLAYER} }}
  poems {{ index favoritedByMe lines {{ round text byBot author {{ {PLAYER} }} }} }}
  readers {{ poemIndex reader {{ {PLAYER} }} }}
}}
"""
EVENTS = (
    GAME
    + f"""
subscription($id: ID!) {{ gameEvents(gameId: $id) {{
  kind sequence resync byBot player {{ {PLAYER} }} game {{ ...X }} }} }}
"""
)
FRESH = GAME + "query($id: ID!) { game(id: $id) { ...X } }"
ACTION = """
  __typename ... on GamePayload { game { id round status host { id } } player { id isBot left } }
  ... on Error { code message } ... on InvalidInput { fields { field message } }
"""
CREATE_TIMED = (
    "mutation($name: String!, $turn: Int) { createGame(input: {displayName: $name, "
    "shape: QUICK, turnSeconds: $turn}) { " + ACTION + " } }"
)
ADD_BOT = (
    "mutation($id: ID!, $name: String!) { addBotPlayer(input: {gameId: $id, displayName: $name})"
    " { " + ACTION + " } }"
)
LEAVE = "mutation($id: ID!) { leaveGame(input: {gameId: $id}) { " + ACTION + " } }"
SKIP = (
    "mutation($id: ID!, $round: Int) { skipStalledPlayers(input: {gameId: $id, round: $round})"
    " { " + ACTION + " } }"
)
START = "mutation($id: ID!) { startGame(input: {gameId: $id}) { __typename } }"
ASSIGNMENT = "query($id: ID!) { myPoemAssignment(gameId: $id) { round wordCount submitted } }"
SUBMIT = """
mutation($id: ID!, $round: Int!, $text: String!) {
  submitLine(input: {gameId: $id, round: $round, text: $text}) {
    __typename ... on RateLimited { retryAfterSeconds } ... on Error { code message } } }
"""
SHARE = """
mutation($id: ID!, $poem: Int!) { sharePoem(input: {gameId: $id, poemIndex: $poem}) {
  __typename ... on SharedPoemLink { token url } ... on Error { code message } } }
"""
UNSHARE = """
mutation($token: String!) { unsharePoem(input: {token: $token}) {
  __typename ... on SharedPoemLink { token } ... on Error { code message } } }
"""
SHARED = "query($token: String!) { sharedPoem(token: $token) { lines { round text authorName } } }"
FAVORITE = """
mutation($id: ID!, $poem: Int!) { favoritePoem(input: {gameId: $id, poemIndex: $poem}) {
  __typename ... on Poem { index favoritedByMe } ... on Error { code message } } }
"""
MY = """
{ myGames(limit: 5) { id status completedAt poems { index favoritedByMe } }
  myFavoritePoems { game { id } poem { index favoritedByMe lines { text } } } }
"""


async def _fresh(seat: Seat, game_id: str) -> dict[str, Any]:
    game: dict[str, Any] = (await seat.http.data(FRESH, {"id": game_id}))["game"]
    return game


async def _expect(
    watchers: list[Seat], game_id: str, kinds: list[tuple[str, str | None, bool]]
) -> dict[str, Any]:
    """Each watcher's next events are `kinds` (kind, player id or None, byBot), each with the
    game a fresh query shows, field by field; the fresh game."""
    fresh = await _fresh(watchers[0], game_id)
    for w in watchers:
        for kind, player_id, by_bot in kinds:
            event = await w.next_event()
            assert (event["kind"], event["byBot"]) == (kind, by_bot), (w.user, event)
            assert event["game"] == fresh, (event, fresh)
            if player_id is None:
                assert event["player"] is None, event
            else:
                assert event["player"] == next(
                    p for p in fresh["players"] if p["id"] == player_id
                ), event
        assert await _fresh(w, game_id) == fresh
    return fresh


async def _my_line(seat: Seat, game_id: str) -> dict[str, Any]:
    a = (await seat.http.data(ASSIGNMENT, {"id": game_id}))["myPoemAssignment"]
    sent = await seat.http.data(
        SUBMIT,
        {"id": game_id, "round": a["round"], "text": words(a["wordCount"], seat.user)},
    )
    result: dict[str, Any] = sent["submitLine"]
    return result


async def test_bots_leaving_and_a_new_host__every_event_equals_a_fresh_query(
    server: RunningServer, token
) -> None:
    async with seats(server, token, 3) as players, AsyncExitStack() as stack:
        host, p1, p2 = players
        created = (await host.http.data(CREATE_TIMED, {"name": "Host", "turn": 600}))["createGame"]
        game_id = created["game"]["id"]
        code = (await _fresh(host, game_id))["code"]
        for i, p in enumerate((p1, p2), start=1):
            joined = await p.http.data(JOIN, {"code": code, "name": f"P{i}"})
            assert joined["joinGame"]["__typename"] == "GamePayload"
        for p in players:
            ws = await stack.enter_async_context(
                websocket(server.ws_url, token("player", user=p.user))
            )
            p.events = await subscribe(ws, EVENTS, {"id": game_id})
            assert (await p.next_event())["kind"] == "SNAPSHOT"

        bot = (await host.http.data(ADD_BOT, {"id": game_id, "name": "Robo"}))["addBotPlayer"]
        assert bot["__typename"] == "GamePayload" and bot["player"]["isBot"], bot
        bot_id = bot["player"]["id"]
        await _expect(players, game_id, [("PLAYER_JOINED", bot_id, False)])
        refused = (await p1.http.data(ADD_BOT, {"id": game_id, "name": "X"}))["addBotPlayer"]
        assert refused["__typename"] == "Forbidden"

        assert (await host.http.data(START, {"id": game_id}))["startGame"]["__typename"] == (
            "GamePayload"
        )
        fresh = await _expect(
            players, game_id, [("GAME_STARTED", None, False), ("LINE_SUBMITTED", bot_id, True)]
        )
        assert fresh["turnSeconds"] == 600 and fresh["roundDeadline"] is not None
        ids = {p["displayName"]: p["id"] for p in fresh["players"]}

        assert (await _my_line(host, game_id))["__typename"] == "LinePayload"
        await _expect(players, game_id, [("LINE_SUBMITTED", ids["Host"], False)])

        left = (await p1.http.data(LEAVE, {"id": game_id}))["leaveGame"]
        assert left["__typename"] == "GamePayload" and left["player"]["left"], left
        await _expect(
            players,
            game_id,
            [("PLAYER_LEFT", ids["P1"], False), ("LINE_SUBMITTED", ids["P1"], True)],
        )

        gone = (await host.http.data(LEAVE, {"id": game_id}))["leaveGame"]
        assert gone["game"]["host"]["id"] == ids["P2"], gone
        fresh = await _expect(
            players, game_id, [("PLAYER_LEFT", ids["Host"], False), ("HOST_CHANGED", None, False)]
        )
        assert fresh["host"]["id"] == ids["P2"] and fresh["round"] == 0

        # The new host skips nobody: P2 still has to write; a skip of round 0 fills P2's line.
        skipped = (await p2.http.data(SKIP, {"id": game_id, "round": 0}))["skipStalledPlayers"]
        assert skipped["game"]["round"] == 1, skipped
        fresh = await _expect(
            players,
            game_id,
            [("LINE_SUBMITTED", ids["P2"], True), ("ROUND_ADVANCED", None, False)]
            + [("LINE_SUBMITTED", i, True) for i in (ids["Host"], ids["P1"], bot_id)],
        )
        assert [p["submittedThisRound"] for p in fresh["players"]] == [True, True, False, True]
        again = (await p2.http.data(SKIP, {"id": game_id, "round": 0}))["skipStalledPlayers"]
        assert again["game"]["round"] == 1  # the round moved on: nothing skipped

        for r in range(1, 5):
            assert (await _my_line(p2, game_id))["__typename"] == "LinePayload"
            kinds = [("LINE_SUBMITTED", ids["P2"], False)]
            if r < 4:
                kinds += [("ROUND_ADVANCED", None, False)]
                kinds += [("LINE_SUBMITTED", i, True) for i in (ids["Host"], ids["P1"], bot_id)]
            else:
                kinds += [("GAME_COMPLETED", None, False)]
            fresh = await _expect(players, game_id, kinds)
        assert fresh["status"] == "COMPLETED"
        assert [r["reader"]["id"] for r in fresh["readers"]] == [ids["P2"]] * 4
        for poem in fresh["poems"]:
            for line in poem["lines"]:
                assert line["byBot"] is not (
                    (line["author"]["id"] == ids["P2"] and line["round"] > 0)
                    or (line["author"]["id"] == ids["Host"] and line["round"] == 0)
                ), line


async def _finished_game(players: list[Seat]) -> str:
    host, guest = players
    created = (await host.http.data(CREATE_TIMED, {"name": "Host", "turn": None}))["createGame"]
    game_id: str = created["game"]["id"]
    code = (await _fresh(host, game_id))["code"]
    await guest.http.data(JOIN, {"code": code, "name": "Guest"})
    await host.http.data(START, {"id": game_id})
    for _ in range(5):
        for p in players:
            assert (await _my_line(p, game_id))["__typename"] == "LinePayload"
    return game_id


async def test_shared_poem__anyone_reads_it_without_a_token_until_it_is_revoked(
    server: RunningServer, token, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with seats(server, token, 2) as players:
        game_id = await _finished_game(players)
        link = (await players[1].http.data(SHARE, {"id": game_id, "poem": 0}))["sharePoem"]
        assert link["__typename"] == "SharedPoemLink", link
        assert link["url"] == f"{server.base_url}/poems/shared/{link['token']}"
        fresh = await _fresh(players[0], game_id)

        anonymous = GraphQLHttp(server.base_url, None)
        try:
            body = await anonymous.raw(SHARED, {"token": link["token"]})
            assert not body.get("errors"), body
            lines = body["data"]["sharedPoem"]["lines"]
            assert [(x["round"], x["text"]) for x in lines] == [
                (x["round"], x["text"]) for x in fresh["poems"][0]["lines"]
            ]
            assert {x["authorName"] for x in lines} == {"Host", "Guest"}
            denied = await anonymous.raw("{ myGames { id } }")
            assert denied["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

            async with httpx.AsyncClient() as web:
                page = await web.get(link["url"])
                assert page.status_code == 200 and "text/html" in page.headers["content-type"]
                assert all(x["text"] in page.text for x in lines)
                assert game_id not in page.text

                other = await players[0].http.data(UNSHARE, {"token": link["token"]})
                assert other["unsharePoem"]["__typename"] == "Forbidden"
                revoked = await players[1].http.data(UNSHARE, {"token": link["token"]})
                assert revoked["unsharePoem"]["__typename"] == "SharedPoemLink"
                gone = await anonymous.raw(SHARED, {"token": link["token"]})
                assert gone["data"]["sharedPoem"] is None
                assert (await web.get(link["url"])).status_code == 404
        finally:
            await anonymous.close()

        # Allot logged the page without its token. (The test's own HTTP client logs its URLs,
        # and this in-process uvicorn its access log, which `allot run` turns off.)
        ours = [r.getMessage() for r in caplog.records if r.name.startswith("allot")]
        assert any("/poems/shared/<token>" in m for m in ours)
        assert not [m for m in ours if link["token"] in m]

        favorite = await players[0].http.data(FAVORITE, {"id": game_id, "poem": 1})
        assert favorite["favoritePoem"] == {"__typename": "Poem", "index": 1, "favoritedByMe": True}
        mine = await players[0].http.data(MY)
        assert mine["myGames"][0]["id"] == game_id
        assert [p["favoritedByMe"] for p in mine["myGames"][0]["poems"]] == [False, True]
        assert mine["myFavoritePoems"][0]["game"]["id"] == game_id
        assert mine["myFavoritePoems"][0]["poem"]["index"] == 1


async def test_rate_limited__is_a_typed_answer_with_a_retry_time(dsn: str, token) -> None:
    async with serve_in_process(test_settings(dsn, joins_per_minute=2)) as server:
        guesser = GraphQLHttp(server.base_url, token("player", user="guesser"))
        try:
            for code in ("AAAAAA", "BBBBBB"):
                sent = await guesser.data(JOIN, {"code": code, "name": "G"})
                assert sent["joinGame"]["__typename"] == "NotFound"
            limited = await guesser.data(
                'mutation { joinGame(input: {code: "CCCCCC", displayName: "G"}) { __typename'
                " ... on RateLimited { code message retryAfterSeconds } } }"
            )
            answer = limited["joinGame"]
            assert answer["__typename"] == "RateLimited" and answer["code"] == "RATE_LIMITED"
            assert 1 <= answer["retryAfterSeconds"] <= 60
        finally:
            await guesser.close()


async def test_stalled_round__two_server_processes_advance_it_exactly_once(dsn: str, token) -> None:
    with serve_subprocess(dsn) as a, serve_subprocess(dsn) as b:
        async with AsyncExitStack() as stack:
            players = []
            for i, srv in enumerate((a, b, a)):
                http = GraphQLHttp(srv.base_url, token("player", user=f"u{i}"))
                stack.push_async_callback(http.close)
                players.append(Seat(f"u{i}", http))
            host = players[0]
            created = (await host.http.data(CREATE_TIMED, {"name": "Host", "turn": 10}))[
                "createGame"
            ]
            game_id = created["game"]["id"]
            code = (await _fresh(host, game_id))["code"]
            for i, p in enumerate(players[1:], start=1):
                await p.http.data(JOIN, {"code": code, "name": f"P{i}"})
            watchers = []
            for p, srv in zip(players[:2], (a, b), strict=True):
                ws = await stack.enter_async_context(
                    websocket(srv.ws_url, token("player", user=p.user))
                )
                p.events = await subscribe(ws, EVENTS, {"id": game_id})
                assert (await p.next_event())["kind"] == "SNAPSHOT"
                watchers.append(p)
            await host.http.data(START, {"id": game_id})
            await _my_line(host, game_id)
            for w in watchers:
                assert [(await w.next_event())["kind"] for _ in range(2)] == [
                    "GAME_STARTED",
                    "LINE_SUBMITTED",
                ]
            conn = await asyncpg.connect(dsn)
            try:
                await conn.execute(
                    "update games set round_deadline = now() where id = $1", uuid.UUID(game_id)
                )
            finally:
                await conn.close()
            for w in watchers:
                events = [await w.next_event() for _ in range(3)]
                assert [(e["kind"], e["byBot"]) for e in events] == [
                    ("LINE_SUBMITTED", True),
                    ("LINE_SUBMITTED", True),
                    ("ROUND_ADVANCED", False),
                ]
                assert events[-1]["game"]["round"] == 1
            await asyncio.sleep(2.5)  # both clocks have passed by the old deadline by now
            fresh = await _fresh(host, game_id)
            assert fresh["round"] == 1 and not any(
                p["submittedThisRound"] for p in fresh["players"]
            )
            for w in watchers:  # and nothing else came: no second advance, no more bot lines
                assert w.events is not None
                with pytest.raises(TimeoutError):
                    await w.events.next(timeout=0.5)


async def test_idle_game__is_abandoned_with_its_poems_and_everyone_is_told(
    server: RunningServer, token, dsn: str
) -> None:
    async with seats(server, token, 2) as players, AsyncExitStack() as stack:
        host, guest = players
        created = (await host.http.data(CREATE_TIMED, {"name": "Host", "turn": None}))["createGame"]
        game_id = created["game"]["id"]
        code = (await _fresh(host, game_id))["code"]
        await guest.http.data(JOIN, {"code": code, "name": "Guest"})
        await host.http.data(START, {"id": game_id})
        await _my_line(host, game_id)
        ws = await stack.enter_async_context(websocket(server.ws_url, token("player", user="u1")))
        guest.events = await subscribe(ws, EVENTS, {"id": game_id})
        assert (await guest.next_event())["kind"] == "SNAPSHOT"
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(
                "update games set active_at = now() - interval '1 day' where id = $1",
                uuid.UUID(game_id),
            )
        finally:
            await conn.close()
        system = await create_pool(dsn, min_size=1, max_size=1, role=SYSTEM_ROLE)
        try:
            assert await housekeeping(system, PoemsConfig(abandon_minutes=60)) == 1
        finally:
            await system.close()
        fresh = await _expect([guest], game_id, [("GAME_ABANDONED", None, False)])
        assert fresh["status"] == "ABANDONED" and fresh["completedAt"] is not None
        assert sorted(len(p["lines"]) for p in fresh["poems"]) == [0, 1]
