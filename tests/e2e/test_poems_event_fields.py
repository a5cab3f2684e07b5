"""Every field of every gameEvents event is what a fresh `game` query says.

A screen drawn from events alone must show what a reload would: each event's game (and
player) is compared, field by field and with the same selection, with a `game` query made
once the change that sent it is done (each step waits for its events on every subscriber,
so the state has not moved on when it is queried). Every round of a whole game is played,
with the submitters' order rotating, so a later round cannot be answered with an earlier
round's state (LINE_SUBMITTED once showed round 0 or 1 in every round).
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import Any

from tests.e2e.test_poems_play import CREATE, GAME, JOIN, START, SUBMIT, Seat, seats, words
from tests.support.gql import subscribe, websocket
from tests.support.server import RunningServer

PLAYER = "id displayName seat submittedThisRound"
EVENTS = (
    GAME
    + f"""
subscription($id: ID!) {{ gameEvents(gameId: $id) {{
  kind sequence resync player {{ {PLAYER} }} game {{ ...G }} }} }}
"""
)
# The fragment of the events' game, with the player fields the events select.
FRESH = GAME + f"query($id: ID!) {{ game(id: $id) {{ ...G players {{ {PLAYER} }} }} }}"
ALL_KINDS = {
    "SNAPSHOT",
    "PLAYER_JOINED",
    "GAME_STARTED",
    "LINE_SUBMITTED",
    "ROUND_ADVANCED",
    "GAME_COMPLETED",
}


async def _fresh(seat: Seat, game_id: str) -> dict[str, Any]:
    game: dict[str, Any] = (await seat.http.data(FRESH, {"id": game_id}))["game"]
    return game


def _same_game(event: dict[str, Any], fresh: dict[str, Any]) -> None:
    """The event's game is the fresh game, every field (the selections are the same)."""
    assert event["game"] == {k: fresh[k] for k in event["game"]}, (event, fresh)


async def _expect(
    watchers: list[Seat], game_id: str, kinds: list[str], player_id: str | None = None
) -> list[dict[str, Any]]:
    """Each watcher's next events are `kinds`, and each equals a fresh query, field by field."""
    fresh = await _fresh(watchers[0], game_id)
    got = []
    for w in watchers:
        for kind in kinds:
            event = await w.next_event()
            assert event["kind"] == kind, (w.user, event)
            assert event["resync"] is False
            _same_game(event, fresh)
            if kind in ("PLAYER_JOINED", "LINE_SUBMITTED"):
                assert player_id is not None
                assert event["player"] == next(p for p in fresh["players"] if p["id"] == player_id)
            else:
                assert event["player"] is None, event
            got.append(event)
    # Everyone's fresh view is the same, so comparing with one player's query is enough.
    for w in watchers[1:]:
        assert await _fresh(w, game_id) == fresh
    return got


async def test_whole_game__every_field_of_every_event_equals_a_fresh_game_query(
    server: RunningServer, token
) -> None:
    n = 3
    async with seats(server, token, n) as players, AsyncExitStack() as stack:
        host = players[0]
        created = (await host.http.data(CREATE, {"name": "Host"}))["createGame"]
        game_id, code = created["game"]["id"], created["game"]["code"]

        async def watch(seat: Seat) -> None:
            ws = await stack.enter_async_context(
                websocket(server.ws_url, token("player", user=seat.user))
            )
            seat.events = await subscribe(ws, EVENTS, {"id": game_id})
            event = await seat.next_event()
            assert event["kind"] == "SNAPSHOT" and event["player"] is None
            _same_game(event, await _fresh(seat, game_id))

        await watch(host)
        kinds: set[str] = {"SNAPSHOT"}
        for i, p in enumerate(players[1:], start=1):
            joined = (await p.http.data(JOIN, {"code": code, "name": f"P{i}"}))["joinGame"]
            assert joined["__typename"] == "GamePayload", joined
            watching = [w for w in players if w.events is not None]
            for e in await _expect(watching, game_id, ["PLAYER_JOINED"], joined["player"]["id"]):
                kinds.add(e["kind"])
            await watch(p)
        seated = (await _fresh(host, game_id))["players"]
        me = {p.user: seated[i]["id"] for i, p in enumerate(players)}

        started = (await host.http.data(START, {"id": game_id}))["startGame"]
        assert started["__typename"] == "GamePayload", started
        for e in await _expect(players, game_id, ["GAME_STARTED"]):
            kinds.add(e["kind"])
        rounds = started["game"]["roundWordCounts"]
        for r, count in enumerate(rounds):
            order = players[r % n :] + players[: r % n]  # a different first submitter each round
            for k, p in enumerate(order):
                sent = await p.http.data(
                    SUBMIT, {"id": game_id, "round": r, "text": words(count, f"{p.user}r{r}")}
                )
                assert sent["submitLine"]["__typename"] == "LinePayload", sent
                last = k == n - 1
                expected = ["LINE_SUBMITTED"]
                if last:
                    expected.append("GAME_COMPLETED" if r == len(rounds) - 1 else "ROUND_ADVANCED")
                events = await _expect(players, game_id, expected, me[p.user])
                kinds.update(e["kind"] for e in events)
                line = events[0]["game"]
                # The round a screen shows: this round, or the next once its last line is in.
                assert line["round"] == (r + 1 if last and r < len(rounds) - 1 else r), events
                assert line["version"] == sent["submitLine"]["game"]["version"]
        assert kinds == ALL_KINDS
        final = await _fresh(host, game_id)
        assert final["status"] == "COMPLETED" and len(final["poems"]) == n


async def test_two_players_submit_at_once__each_event_names_its_player_and_the_real_round(
    server: RunningServer, token
) -> None:
    """Two real connections submit in the same round at the same moment, in every round: each
    LINE_SUBMITTED names its own submitter, already marked as submitted, with the round they
    wrote in, and the events' versions never go back; the last one is what a query says."""
    n = 3
    async with seats(server, token, n) as players, AsyncExitStack() as stack:
        host = players[0]
        created = (await host.http.data(CREATE, {"name": "Host"}))["createGame"]
        game_id, code = created["game"]["id"], created["game"]["code"]
        for i, p in enumerate(players[1:], start=1):
            await p.http.data(JOIN, {"code": code, "name": f"P{i}"})
        ws = await stack.enter_async_context(websocket(server.ws_url, token("player", user="u0")))
        host.events = await subscribe(ws, EVENTS, {"id": game_id})
        assert (await host.next_event())["kind"] == "SNAPSHOT"
        started = (await host.http.data(START, {"id": game_id}))["startGame"]
        assert (await host.next_event())["kind"] == "GAME_STARTED"
        rounds = started["game"]["roundWordCounts"]
        for r, count in enumerate(rounds[:4]):
            racers = players[1:]
            sent = await asyncio.gather(
                *(
                    p.http.data(
                        SUBMIT, {"id": game_id, "round": r, "text": words(count, f"{p.user}r{r}")}
                    )
                    for p in racers
                )
            )
            assert all(s["submitLine"]["__typename"] == "LinePayload" for s in sent), sent
            versions = sorted(s["submitLine"]["game"]["version"] for s in sent)
            first, second = await host.next_event(), await host.next_event()
            assert [first["kind"], second["kind"]] == ["LINE_SUBMITTED", "LINE_SUBMITTED"]
            racer_ids = {
                s["submitLine"]["line"]["author"]["id"] for s in sent
            }  # the two submitters
            assert {first["player"]["id"], second["player"]["id"]} == racer_ids
            for event in (first, second):
                assert event["game"]["round"] == r, (r, event)
                assert event["player"]["submittedThisRound"] is True, event
            # An event's game is the one its commit made (or, with IDs only, read when it is
            # announced) and an answer is read once its commit is done, so an answer may
            # already show the other's line: versions never go back, and the last event shows
            # what the later answer shows.
            assert first["game"]["version"] <= second["game"]["version"] == versions[1], (
                versions,
                first,
                second,
            )
            _same_game(second, await _fresh(host, game_id))
            last = await host.http.data(
                SUBMIT, {"id": game_id, "round": r, "text": words(count, f"u0r{r}")}
            )
            assert last["submitLine"]["__typename"] == "LinePayload", last
            await _expect(
                [host], game_id, ["LINE_SUBMITTED", "ROUND_ADVANCED"], created["player"]["id"]
            )
