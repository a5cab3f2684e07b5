"""Every route of the poems API over the real server: secrecy, tenancy and typed errors."""

from __future__ import annotations

import json
import uuid
from contextlib import AsyncExitStack
from typing import Any

from tests.e2e.test_poems_play import (
    ASSIGNMENT,
    CREATE,
    END,
    EVENTS,
    GET,
    JOIN,
    START,
    SUBMIT,
    Seat,
    seats,
    watch,
    words,
)
from tests.support.gql import GraphQLHttp, subscribe, websocket
from tests.support.server import RunningServer, serve_in_process, test_settings

POEM_LINES = """
query($id: ID!) { game(id: $id) { status poems { index lines { round text } } } }
"""


async def lobby(players: list[Seat]) -> tuple[str, str]:
    """players[0] hosts, everyone else joins; returns (game id, code)."""
    created = (await players[0].http.data(CREATE, {"name": "Host"}))["createGame"]
    for i, seat in enumerate(players[1:], start=1):
        joined = await seat.http.data(JOIN, {"code": created["game"]["code"], "name": f"P{i}"})
        assert joined["joinGame"]["__typename"] == "GamePayload"
    return created["game"]["id"], created["game"]["code"]


async def submit(seat: Seat, game_id: str, round_: int, text: str) -> dict[str, Any]:
    result: dict[str, Any] = (
        await seat.http.data(SUBMIT, {"id": game_id, "round": round_, "text": text})
    )["submitLine"]
    return result


def shown(body: Any, texts: set[str]) -> set[str]:
    """Which of `texts` appear anywhere in a response."""
    dumped = json.dumps(body)
    return {t for t in texts if t in dumped}


async def test_unfinished_lines__no_route_reveals_another_players_line(
    server: RunningServer, token
) -> None:
    async with seats(server, token, 3) as players, AsyncExitStack() as stack:
        game_id, _ = await lobby(players)
        await players[0].http.data(START, {"id": game_id})
        host_events = await watch(stack, server, token("player", user="u0"), game_id)
        assert (await host_events.next())["gameEvents"]["kind"] == "SNAPSHOT"

        written: dict[str, set[str]] = {p.user: set() for p in players}  # user -> own lines
        everything: set[str] = set()
        # Round 0 complete, round 1 half done: lines exist that nobody but their author may see.
        for round_, writers in ((0, players), (1, players[:2])):
            for seat in writers:
                a = (await seat.http.data(ASSIGNMENT, {"id": game_id}))["myPoemAssignment"]
                text = words(a["wordCount"], f"secret{seat.user}r{round_}")
                result = await submit(seat, game_id, round_, text)
                assert result["__typename"] == "LinePayload"
                assert result["line"]["text"] == text
                # submitLine answers with the caller's own line and nothing else
                assert shown(result, everything) == set()
                assert result["game"]["poems"] == []
                written[seat.user].add(text)
                everything.add(text)
                event = (await host_events.next())["gameEvents"]
                assert event["kind"] == "LINE_SUBMITTED" and event["player"] is not None
                assert shown(event, everything) == set()  # who submitted, never what
                if round_ == 0 and seat is players[-1]:
                    advanced = (await host_events.next())["gameEvents"]
                    assert advanced["kind"] == "ROUND_ADVANCED"
                    assert shown(advanced, everything) == set()

        for seat in players:
            others = everything - written[seat.user]
            # game(id), including Game.poems and Poem.lines, for every player (the host too)
            body = await seat.http.raw(POEM_LINES, {"id": game_id})
            assert body["data"]["game"] == {"status": "IN_PROGRESS", "poems": []}
            assert shown(await seat.http.raw(GET, {"id": game_id}), others) == set()
            # myPoemAssignment: exactly the previous line of the caller's own poem
            a = (await seat.http.data(ASSIGNMENT, {"id": game_id}))["myPoemAssignment"]
            assert a["round"] == 1 and a["previousLine"] in others
            assert shown(a, others) == {a["previousLine"]}
            # a retried submission answers with the caller's line only
            if written[seat.user]:
                own_round_0 = next(t for t in written[seat.user] if "r0" in t)
                retry = await submit(seat, game_id, 0, own_round_0)
                assert retry["__typename"] == "LinePayload"
                assert shown(retry, everything) == {own_round_0}
        # a fresh subscription's snapshot shows nothing either
        fresh = await watch(stack, server, token("player", user="u2"), game_id)
        assert shown(await fresh.next(), everything) == set()

        ended = (await players[0].http.data(END, {"id": game_id}))["endGame"]
        assert ended["game"]["status"] == "COMPLETED"
        assert shown(ended, everything) == everything  # revealed once the game is over
        body = await players[2].http.data(POEM_LINES, {"id": game_id})
        assert sum(len(p["lines"]) for p in body["game"]["poems"]) == len(everything)


async def test_other_tenant__cannot_see_join_play_or_watch_the_game(
    server: RunningServer, token
) -> None:
    async with seats(server, token, 2) as players:
        game_id, code = await lobby(players)
        await players[0].http.data(START, {"id": game_id})
        outsider = GraphQLHttp(
            server.base_url, token("player", user="u0", tenant_id=uuid.uuid4())
        )  # the host's user id, in another tenant
        try:
            assert (await outsider.data(GET, {"id": game_id}))["game"] is None
            assert (await outsider.data(ASSIGNMENT, {"id": game_id}))["myPoemAssignment"] is None
            joined = (await outsider.data(JOIN, {"code": code, "name": "Eve"}))["joinGame"]
            assert joined["__typename"] == "NotFound"
            for query, name, variables in (
                (START, "startGame", {"id": game_id}),
                (END, "endGame", {"id": game_id}),
                (SUBMIT, "submitLine", {"id": game_id, "round": 0, "text": "hello"}),
            ):
                result = (await outsider.data(query, variables))[name]
                assert result["__typename"] == "NotFound", (name, result)
        finally:
            await outsider.close()
        async with websocket(
            server.ws_url, token("player", user="u0", tenant_id=uuid.uuid4())
        ) as ws:
            sub = await subscribe(ws, EVENTS, {"id": game_id})
            raw = json.loads(await ws.recv())
            assert raw["id"] == sub.id and raw["type"] in ("error", "next")
            assert "no such game" in json.dumps(raw) and "Internal" not in json.dumps(raw)


async def test_non_player_of_the_tenant__gets_null_and_not_found(
    server: RunningServer, token
) -> None:
    async with seats(server, token, 2) as players:
        game_id, _ = await lobby(players)
        stranger = GraphQLHttp(server.base_url, token("player", user="stranger"))
        staff = GraphQLHttp(server.base_url, token("staff", user="u0"))
        try:
            assert (await stranger.data(GET, {"id": game_id}))["game"] is None
            assert (await stranger.data(GET, {"id": "not-a-uuid"}))["game"] is None
            result = (await stranger.data(START, {"id": game_id}))["startGame"]
            assert result["__typename"] == "NotFound"
            created = (await staff.data(CREATE, {"name": "Sam"}))["createGame"]
            assert created["__typename"] == "Forbidden" and "player" in created["message"]
            assert (await staff.data(GET, {"id": game_id}))["game"] is None
        finally:
            await stranger.close()
            await staff.close()


async def test_bad_input__each_gets_its_typed_error(server: RunningServer, token) -> None:
    async with seats(server, token, 3) as players:
        host, guest, late = players
        bad_name = (await host.http.data(CREATE, {"name": "\t"}))["createGame"]
        assert bad_name["__typename"] == "InvalidInput"
        assert [f["field"] for f in bad_name["fields"]] == ["displayName"]

        game_id, code = await lobby(players[:1])
        too_few = (await host.http.data(START, {"id": game_id}))["startGame"]
        assert (too_few["__typename"], too_few["minimum"]) == ("NotEnoughPlayers", 2)
        await guest.http.data(JOIN, {"code": code, "name": "Guest"})
        not_host = (await guest.http.data(START, {"id": game_id}))["startGame"]
        assert not_host["__typename"] == "Forbidden"
        early = await submit(host, game_id, 0, "early")
        assert early["__typename"] == "NotYourTurn"
        assert (await host.http.data(START, {"id": game_id}))["startGame"]["__typename"] == (
            "GamePayload"
        )
        again = (await host.http.data(START, {"id": game_id}))["startGame"]
        assert again["__typename"] == "GameNotJoinable"
        joined = (await late.http.data(JOIN, {"code": code, "name": "Late"}))["joinGame"]
        assert joined["__typename"] == "GameNotJoinable" and "started" in joined["message"]

        wrong = await submit(host, game_id, 0, "two words")
        assert (wrong["__typename"], wrong["expected"], wrong["actual"]) == ("WrongWordCount", 1, 2)
        for text in ("x" * 201, "new\nline", "nul\x00"):
            rejected = await submit(host, game_id, 0, text)
            assert rejected["__typename"] == "InvalidInput"
            assert [f["field"] for f in rejected["fields"]] == ["text"]
        future = await submit(host, game_id, 3, "four words right here")
        assert future["__typename"] == "NotYourTurn" and "not started" in future["message"]
        out_of_range = await submit(host, game_id, 9, "x")
        assert [f["field"] for f in out_of_range["fields"]] == ["round"]
        assert (await submit(host, game_id, 0, "fine"))["__typename"] == "LinePayload"
        changed = await submit(host, game_id, 0, "other")
        assert changed["__typename"] == "InvalidInput" and "already submitted" in changed["message"]
        malformed = (await late.http.data(JOIN, {"code": "OOOOOO", "name": "Late"}))["joinGame"]
        assert [f["field"] for f in malformed["fields"]] == ["code"]


async def test_join_game__cap_reached_is_not_joinable(dsn: str, token) -> None:
    async with serve_in_process(test_settings(dsn, max_players_per_game=2)) as running:
        async with seats(running, token, 3) as players:
            game_id, code = await lobby(players[:2])
            full = (await players[2].http.data(JOIN, {"code": code, "name": "Third"}))["joinGame"]
            assert full["__typename"] == "GameNotJoinable"
            assert "full" in full["message"] and "2 players" in full["message"]
            game = (await players[0].http.data(GET, {"id": game_id}))["game"]
            assert len(game["players"]) == 2
