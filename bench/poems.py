"""Poems benchmarks: the assignment matrix, and a 50-player game over the real server.

1. Matrix: generate_matrix(n) with secrets.SystemRandom for n = 2 .. 10,000 players
   (targets: n = 1,000 under 100 ms, n = 10,000 under 2 s), each result checked valid.
2. A 50-player game, played 5 times (the first as warm-up) through one server process
   (uvicorn subprocess), clients in this process: every player on its own websocket,
   subscribed to gameEvents. Each round, 49 players submit at once over HTTP; once every
   player has seen those 49 LINE_SUBMITTED events, the 50th submits alone, and we time
   from sending that last submission until every player has received ROUND_ADVANCED (or
   GAME_COMPLETED after round 9). Target: p50 under 50 ms with 50 subscribers.

It starts its own PostgreSQL (embedded, deleted on exit, or uses DATABASE_URL with a
scratch database that it drops at the end).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import statistics
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._http import GraphQLClient  # noqa: E402
from bench._stats import ms, pct  # noqa: E402
from server.auth import issue_token  # noqa: E402
from services.core.principal import Role  # noqa: E402
from services.poems.matrix import generate_matrix, matrix_violations  # noqa: E402
from tests.support import dbs  # noqa: E402
from tests.support.server import TEST_SECRET, serve_subprocess  # noqa: E402

PLAYERS = 50
GAMES = 5  # the first is a warm-up

CREATE = """mutation($n: String!) { createGame(input: {displayName: $n}) {
  __typename ... on GamePayload { game { id code } } } }"""
JOIN = """mutation($c: String!, $n: String!) { joinGame(input: {code: $c, displayName: $n}) {
  __typename ... on GamePayload { player { seat } } } }"""
START = """mutation($g: ID!) { startGame(input: {gameId: $g}) {
  __typename ... on GamePayload { game { status } } } }"""
ASSIGNMENT = "query($g: ID!) { myPoemAssignment(gameId: $g) { round poemIndex wordCount } }"
SUBMIT = """mutation($g: ID!, $r: Int!, $t: String!) {
  submitLine(input: {gameId: $g, round: $r, text: $t}) {
    __typename ... on LinePayload { line { round } } ... on Error { message } } }"""
# What a "waiting for 3 players" view needs; no fragments, so deltas are executed once for all.
EVENTS = """subscription($g: ID!) { gameEvents(gameId: $g) {
  kind sequence player { seat } game { round status version players { seat submittedThisRound } }
} }"""


def bench_matrix() -> None:
    print("1. matrix: generate_matrix(n, rounds=9, rng=secrets.SystemRandom())")
    rng = secrets.SystemRandom()
    for n, reps in ((2, 200), (10, 200), (100, 100), (1_000, 20), (10_000, 3)):
        times = []
        for _ in range(reps):
            start = time.perf_counter()
            matrix = generate_matrix(n, rng=rng)
            times.append(time.perf_counter() - start)
        assert not matrix_violations(matrix, n)
        print(
            f"   n = {n:>6,}: median {ms(statistics.median(times)):>11}  "
            f"max {ms(max(times)):>11}  ({reps} runs, last matrix valid)"
        )


class Watcher:
    """Counts, per game round, which players received which events and when."""

    def __init__(self) -> None:
        self.lines: dict[int, int] = defaultdict(int)  # round -> LINE_SUBMITTED received
        self.closings: dict[int, list[float]] = defaultdict(list)  # round -> arrival times
        self.changed = asyncio.Event()
        self.gaps = 0
        self.events = 0

    async def until(self, check: Any) -> None:
        while not check():
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 60)


class Player:
    """One player: an HTTP client and a websocket subscribed to the current game."""

    def __init__(self, seat: int, base_url: str, tenant: uuid.UUID) -> None:
        self.token = issue_token(
            TEST_SECRET, tenant=tenant, user=f"bench-{seat}", roles=[Role.PLAYER]
        )
        self.http = GraphQLClient(base_url, self.token)
        self.ws: ClientConnection | None = None
        self.watcher = Watcher()
        self.sequence = 0
        self.round = 0
        self.op = ""

    async def gql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        return await self.http.call(query, variables)

    async def connect(self, ws_url: str) -> None:
        self.ws = await websockets.connect(
            ws_url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")], max_size=None
        )
        payload = {"authorization": f"Bearer {self.token}"}
        await self.ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert json.loads(await self.ws.recv())["type"] == "connection_ack"

    async def watch(self, game_id: str, watcher: Watcher) -> None:
        """Subscribe to a new game (ending the previous subscription)."""
        assert self.ws is not None
        if self.op:
            await self.ws.send(json.dumps({"id": self.op, "type": "complete"}))
        self.op, self.watcher, self.sequence, self.round = uuid.uuid4().hex, watcher, 0, 0
        await self.ws.send(
            json.dumps(
                {
                    "id": self.op,
                    "type": "subscribe",
                    "payload": {"query": EVENTS, "variables": {"g": game_id}},
                }
            )
        )

    async def read(self) -> None:
        assert self.ws is not None
        async for raw in self.ws:
            message = json.loads(raw)
            if message.get("type") != "next" or message.get("id") != self.op:
                continue
            event = message["payload"]["data"]["gameEvents"]
            w = self.watcher
            w.events += 1
            if event["sequence"] != self.sequence + 1:
                w.gaps += 1
            self.sequence = event["sequence"]
            if event["kind"] == "LINE_SUBMITTED":
                w.lines[self.round] += 1
            elif event["kind"] in ("ROUND_ADVANCED", "GAME_COMPLETED"):
                w.closings[self.round].append(time.perf_counter())
                self.round += 1
            w.changed.set()


def line(words: int, seat: int, round_: int) -> str:
    return " ".join(f"s{seat}r{round_}w{i}" for i in range(words))


async def play(players: list[Player], results: dict[str, list[float]], rng: random.Random) -> int:
    """One whole game; returns how many events the players received."""
    host = players[0]
    created = (await host.gql(CREATE, {"n": "Host"}))["createGame"]["game"]
    game_id = created["id"]
    for seat, p in enumerate(players[1:], start=1):
        joined = (await p.gql(JOIN, {"c": created["code"], "n": f"P{seat}"}))["joinGame"]
        assert joined["__typename"] == "GamePayload"
    watcher = Watcher()
    for p in players:
        await p.watch(game_id, watcher)
    await watcher.until(lambda: watcher.events >= PLAYERS)  # every SNAPSHOT
    assert (await host.gql(START, {"g": game_id}))["startGame"]["__typename"] == "GamePayload"
    await watcher.until(lambda: watcher.events >= 2 * PLAYERS)  # every GAME_STARTED
    for round_ in range(9):
        got = await asyncio.gather(*(p.gql(ASSIGNMENT, {"g": game_id}) for p in players))
        counts = [g["myPoemAssignment"]["wordCount"] for g in got]
        order = list(range(PLAYERS))
        rng.shuffle(order)
        *first, last = order

        async def submit(seat: int, r: int = round_, words: list[int] = counts) -> float:
            start = time.perf_counter()
            body = await players[seat].gql(
                SUBMIT, {"g": game_id, "r": r, "t": line(words[seat], seat, r)}
            )
            assert body["submitLine"]["__typename"] == "LinePayload", body
            return time.perf_counter() - start

        results["submit"] += await asyncio.gather(*(submit(s) for s in first))
        await watcher.until(lambda r=round_: watcher.lines[r] >= (PLAYERS - 1) * PLAYERS)
        sent = time.perf_counter()
        results["submit_last"].append(await submit(last))
        await watcher.until(lambda r=round_: len(watcher.closings[r]) >= PLAYERS)
        key = "advance" if round_ < 8 else "complete"
        results[key].append(max(watcher.closings[round_]) - sent)
    assert watcher.gaps == 0, f"{watcher.gaps} sequence gaps"
    return watcher.events


async def bench_game(base_url: str, ws_url: str) -> None:
    print(
        f"2. a {PLAYERS}-player game over the real server, every player subscribed "
        f"({GAMES - 1} games measured after 1 warm-up, 9 rounds each)"
    )
    tenant = uuid.uuid4()
    players = [Player(seat, base_url, tenant) for seat in range(PLAYERS)]
    for p in players:
        await p.connect(ws_url)
    readers = [asyncio.create_task(p.read()) for p in players]
    rng = random.Random(2024)
    try:
        await play(players, defaultdict(list), rng)  # warm-up
        results: dict[str, list[float]] = defaultdict(list)
        events = 0
        began = time.perf_counter()
        for _ in range(GAMES - 1):
            events += await play(players, results, rng)
        took = time.perf_counter() - began
        sub, adv = results["submit"], results["advance"] + results["complete"]
        print(
            f"   submitLine, {PLAYERS - 1} players at once: p50 {ms(statistics.median(sub))}  "
            f"p99 {ms(pct(sub, 99))}  ({len(sub)} submissions)"
        )
        last = results["submit_last"]
        print(
            f"   submitLine, the round's last line alone: p50 {ms(statistics.median(last))}  "
            f"p99 {ms(pct(last, 99))}"
        )
        print(
            f"   last submission sent -> all {PLAYERS} players received ROUND_ADVANCED: "
            f"p50 {ms(statistics.median(results['advance']))}  "
            f"p99 {ms(pct(results['advance'], 99))}  ({len(results['advance'])} rounds)"
        )
        print(
            f"   last submission sent -> all {PLAYERS} players received GAME_COMPLETED: "
            f"p50 {ms(statistics.median(results['complete']))}  "
            f"max {ms(max(results['complete']))}  ({len(results['complete'])} games)"
        )
        print(
            f"   all round closings: p50 {ms(statistics.median(adv))}; {events:,} events "
            f"delivered in order, no sequence gaps; {took:.1f} s for {GAMES - 1} games"
        )
    finally:
        for t in readers:
            t.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        for p in players:
            await p.http.close()
            if p.ws is not None:
                await p.ws.close()


async def main() -> None:
    began = time.perf_counter()
    print("poems bench")
    bench_matrix()
    # The same 50 players play game after game, far faster than people do: lift the per-user
    # limits on joins and lines for this server.
    os.environ.setdefault("ALLOT_JOINS_PER_MINUTE", "1000000")
    os.environ.setdefault("ALLOT_LINES_PER_MINUTE", "1000000")
    async with dbs.scratch_database() as dsn:
        with serve_subprocess(dsn) as server:
            await bench_game(server.base_url, server.ws_url)
    print(f"total {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    asyncio.run(main())
