"""A whole game through the real server: five players over HTTP, each watching gameEvents."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.support.gql import GraphQLHttp, Subscription, subscribe, websocket
from tests.support.server import RunningServer

GAME_FIELDS = """
  id code status round roundWordCounts version
  host { id seat }
  players { id displayName seat submittedThisRound }
  poems { index lines { round text author { id seat } } }
"""
GAME = "fragment G on Game {" + GAME_FIELDS + "}\n"
CREATE = (
    GAME
    + """
mutation($name: String!) { createGame(input: {displayName: $name}) {
  __typename ... on GamePayload { game { ...G } player { id seat } }
  ... on Error { code message } ... on InvalidInput { fields { field message } } } }
"""
)
JOIN = (
    GAME
    + """
mutation($code: String!, $name: String!) { joinGame(input: {code: $code, displayName: $name}) {
  __typename ... on GamePayload { game { ...G } player { id seat } }
  ... on Error { code message } ... on InvalidInput { fields { field message } } } }
"""
)
START = (
    GAME
    + """
mutation($id: ID!) { startGame(input: {gameId: $id}) {
  __typename ... on GamePayload { game { ...G } player { id seat } }
  ... on NotEnoughPlayers { minimum } ... on Error { code message } } }
"""
)
END = (
    GAME
    + """
mutation($id: ID!) { endGame(input: {gameId: $id}) {
  __typename ... on GamePayload { game { ...G } } ... on Error { code message } } }
"""
)
SUBMIT = (
    GAME
    + """
mutation($id: ID!, $round: Int!, $text: String!) {
  submitLine(input: {gameId: $id, round: $round, text: $text}) {
    __typename ... on LinePayload { line { round text author { id seat } } game { ...G } }
    ... on WrongWordCount { expected actual } ... on InvalidInput { fields { field message } }
    ... on Error { code message } } }
"""
)
ASSIGNMENT = """
query($id: ID!) { myPoemAssignment(gameId: $id) {
  gameId round poemIndex wordCount previousLine submitted } }
"""
GET = GAME + "query($id: ID!) { game(id: $id) { ...G } }"
EVENTS = (
    GAME
    + """
subscription($id: ID!) { gameEvents(gameId: $id) {
  kind sequence resync player { id seat displayName } game { ...G } } }
"""
)


def words(n: int, tag: str) -> str:
    """A line of exactly n words, each carrying a tag unique to its author and round."""
    return " ".join(f"{tag}x{i}" for i in range(n))


@dataclass
class Seat:
    """One player: an HTTP client and, once subscribed, its event stream."""

    user: str
    http: GraphQLHttp
    events: Subscription | None = None
    seen: list[dict[str, Any]] = field(default_factory=list)

    async def next_event(self) -> dict[str, Any]:
        assert self.events is not None
        event: dict[str, Any] = (await self.events.next(timeout=10))["gameEvents"]
        if self.seen:
            assert event["sequence"] == self.seen[-1]["sequence"] + 1, (self.user, event)
        self.seen.append(event)
        return event


@asynccontextmanager
async def seats(server: RunningServer, token, n: int, **kw: Any) -> AsyncIterator[list[Seat]]:
    async with AsyncExitStack() as stack:
        result = []
        for i in range(n):
            http = GraphQLHttp(server.base_url, token("player", user=f"u{i}", **kw))
            stack.push_async_callback(http.close)
            result.append(Seat(f"u{i}", http))
        yield result


async def watch(
    stack: AsyncExitStack, server: RunningServer, token_value: str, game_id: str
) -> Subscription:
    ws = await stack.enter_async_context(websocket(server.ws_url, token_value))
    return await subscribe(ws, EVENTS, {"id": game_id})


async def test_five_player_game__played_through_with_every_event_in_order(
    server: RunningServer, token
) -> None:
    n = 5
    async with seats(server, token, n) as players, AsyncExitStack() as stack:
        host = players[0]
        created = (await host.http.data(CREATE, {"name": "Ana"}))["createGame"]
        assert created["__typename"] == "GamePayload"
        game_id, code = created["game"]["id"], created["game"]["code"]
        host.events = await watch(stack, server, token("player", user="u0"), game_id)
        first = await host.next_event()
        assert (first["kind"], first["sequence"], first["resync"]) == ("SNAPSHOT", 1, False)

        for i, seat in enumerate(players[1:], start=1):
            joined = (await seat.http.data(JOIN, {"code": code.lower(), "name": f"Player {i}"}))[
                "joinGame"
            ]
            assert joined["__typename"] == "GamePayload" and joined["player"]["seat"] == i
            for earlier in players[:i]:
                event = await earlier.next_event()
                assert event["kind"] == "PLAYER_JOINED"
                assert (
                    event["player"]["seat"] == i and event["player"]["displayName"] == f"Player {i}"
                )
                assert len(event["game"]["players"]) == i + 1
            seat.events = await watch(stack, server, token("player", user=f"u{i}"), game_id)
            snapshot = await seat.next_event()
            assert snapshot["kind"] == "SNAPSHOT" and snapshot["sequence"] == 1
            assert [p["seat"] for p in snapshot["game"]["players"]] == list(range(i + 1))

        started = (await host.http.data(START, {"id": game_id}))["startGame"]
        assert started["__typename"] == "GamePayload"
        assert (started["game"]["status"], started["game"]["round"]) == ("IN_PROGRESS", 0)
        for seat in players:
            event = await seat.next_event()
            assert event["kind"] == "GAME_STARTED" and event["game"]["status"] == "IN_PROGRESS"

        poems: dict[int, dict[int, tuple[str, int]]] = {p: {} for p in range(n)}
        counts = started["game"]["roundWordCounts"]
        for round_, count in enumerate(counts):
            assignments = await asyncio.gather(
                *(seat.http.data(ASSIGNMENT, {"id": game_id}) for seat in players)
            )
            mine = [a["myPoemAssignment"] for a in assignments]
            assert sorted(a["poemIndex"] for a in mine) == list(range(n))  # one poem each
            for seat_no, a in enumerate(mine):
                assert (a["round"], a["wordCount"], a["submitted"]) == (round_, count, False)
                before = poems[a["poemIndex"]].get(round_ - 1)
                assert a["previousLine"] == (before[0] if before else None)
                if before is not None:
                    assert before[1] != seat_no  # never two consecutive lines of one poem

            texts = [words(count, f"s{s}r{round_}") for s in range(n)]
            submitted = await asyncio.gather(
                *(
                    seat.http.data(SUBMIT, {"id": game_id, "round": round_, "text": texts[s]})
                    for s, seat in enumerate(players)
                )
            )
            for s, result in enumerate(submitted):
                payload = result["submitLine"]
                assert payload["__typename"] == "LinePayload", payload
                assert payload["line"] == {
                    "round": round_,
                    "text": texts[s],
                    "author": {"id": payload["line"]["author"]["id"], "seat": s},
                }
                poems[mine[s]["poemIndex"]][round_] = (texts[s], s)

            last = round_ == len(counts) - 1
            for seat in players:
                submitters = []
                for _ in range(n):
                    event = await seat.next_event()
                    assert event["kind"] == "LINE_SUBMITTED", event
                    # Who, never what, while the game runs (once it is complete, every
                    # poem is revealed to its players, in events as in a fresh query).
                    if event["game"]["status"] != "COMPLETED":
                        assert not any(t in str(event) for t in texts)
                    submitters.append(event["player"]["seat"])
                assert sorted(submitters) == list(range(n))
                closing = await seat.next_event()
                if last:
                    assert closing["kind"] == "GAME_COMPLETED"
                    assert closing["game"]["status"] == "COMPLETED"
                else:
                    assert closing["kind"] == "ROUND_ADVANCED"
                    assert closing["game"]["round"] == round_ + 1
                    assert closing["game"]["poems"] == []
                    assert not any(p["submittedThisRound"] for p in closing["game"]["players"])

        final = players[0].seen[-1]["game"]
        revealed = {
            p["index"]: [(line["text"], line["author"]["seat"]) for line in p["lines"]]
            for p in final["poems"]
        }
        assert revealed == {p: [poems[p][r] for r in range(len(counts))] for p in range(n)}
        for seat in players:
            assert [e["sequence"] for e in seat.seen] == list(range(1, len(seat.seen) + 1))
            assert seat.seen[-1]["game"] == final  # every player got the same revealed game
        assert (await players[3].http.data(ASSIGNMENT, {"id": game_id}))["myPoemAssignment"] is None
