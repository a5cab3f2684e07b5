"""The README's GraphQL examples run as written, with a real client, on the demo data.

The server is prepared as `allot run` prepares it (migrations, then the demo seeders), the
tokens and the join code are read from the banner it prints, and each ```graphql block of
the README is sent with the `gql` client (HTTP, and graphql-transport-ws for
subscriptions) after its placeholders are filled in.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from gql import Client, GraphQLRequest
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport
from graphql import GraphQLUnionType, OperationDefinitionNode, get_named_type, parse

from server.cli import prepare
from tests.support.server import serve_in_process, test_settings
from tests.unit.test_readme import README_GRAPHQL, SCHEMA


def _blocks() -> dict[str, str]:
    """Each README example by the root field it asks for."""
    out: dict[str, str] = {}
    for text in README_GRAPHQL:
        operation = parse(text).definitions[0]
        assert isinstance(operation, OperationDefinitionNode)
        root = operation.selection_set.selections[0]
        out[root.name.value] = text  # type: ignore[attr-defined]
    return out


def _banner_tokens(banner: str) -> dict[str, str]:
    """The tokens `allot run` prints: admin, staff, players, guests, a worker, a creator."""
    found: dict[str, str] = {}
    label = ""
    for line in banner.splitlines():
        if "act as its admin" in line:
            label = "admin"
        elif line.startswith("Tables:"):
            label = "staff"
        match = re.search(
            r'((?:player|guest) \d|worker|creator)?:? ?\{"Authorization": "Bearer ([^"]+)"\}', line
        )
        if match:
            found[match.group(1) or label] = match.group(2)
    return found


def _fill(text: str, values: dict[str, str]) -> str:
    for placeholder, value in values.items():
        text = text.replace(f'"<{placeholder}>"', f'"{value}"')
    assert '"<' not in text, f"a placeholder is left: {text}"
    return text


def _assert_success(operation: str, data: dict[str, Any]) -> None:
    """Every union a mutation returns is its success member, not an Error."""
    for field, value in data.items():
        kind = get_named_type(SCHEMA.mutation_type.fields[field].type)  # type: ignore[union-attr]
        if isinstance(kind, GraphQLUnionType):
            success = kind.types[0].name
            assert value and "code" not in value, f"{operation}: {value}"
            assert value.get("__typename", success) == success, f"{operation}: {value}"


async def test_readme_examples__run_as_written_on_the_demo_data(dsn: str) -> None:
    settings = test_settings(dsn, seed_demo=True)
    banner, _ = await asyncio.to_thread(prepare, settings, seed=True)
    tokens = _banner_tokens(banner)
    assert set(tokens) >= {
        *("admin", "staff", "player 1", "player 2", "guest 1", "guest 2", "worker", "creator")
    }
    project_id = re.search(r"Tasks: a demo project [^:]*: ([0-9a-f-]{36})", banner)
    code = re.search(r"join code ([A-Z0-9]{6})", banner)
    party_id = re.search(r"not yet assigned: ([0-9a-f-]{36})", banner)
    assert code and party_id and project_id, banner
    blocks = _blocks()

    async with serve_in_process(test_settings(dsn)) as server:

        async def run(who: str | None, text: str, **variables: Any) -> dict[str, Any]:
            headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
            transport = HTTPXAsyncTransport(f"{server.base_url}/graphql", headers=headers)
            async with Client(transport=transport, fetch_schema_from_transport=True) as session:
                data: dict[str, Any] = await session.execute(
                    GraphQLRequest(text, variable_values=variables or None)
                )
            if text.lstrip().startswith("mutation"):
                _assert_success(text, data)
            return data

        async def first_event(who: str, text: str, **variables: Any) -> dict[str, Any]:
            transport = WebsocketsTransport(
                url=server.ws_url, init_payload={"authorization": f"Bearer {tokens[who]}"}
            )
            async with Client(transport=transport) as session:
                async for event in session.subscribe(
                    GraphQLRequest(text, variable_values=variables or None)
                ):
                    return dict(event)
            raise AssertionError("the subscription ended without an event")

        # Two commands: the first query.
        viewer = (await run("admin", blocks["viewer"]))["viewer"]
        assert viewer["roles"] == ["ADMIN"]

        # Tables.
        restaurants = (await run("staff", blocks["restaurants"]))["restaurants"]
        assert [r["name"] for r in restaurants] == ["Allot Bistro"]
        restaurant = restaurants[0]["id"]
        tz = ZoneInfo(restaurants[0]["timezone"])
        today = datetime.now(tz).date()
        evening = {
            "r": restaurant,
            "from": datetime.combine(today, time(16, 0), tz).isoformat(),
            "to": datetime.combine(today, time(23, 59), tz).isoformat(),
        }
        floor = (await run("staff", blocks["floor"], **evening))["floor"]
        waiting = [b for b in floor["bookings"] if not b["tables"] and b["status"] == "PENDING"]
        booking = waiting[0]["id"]
        suggestions = await run(
            "staff",
            "query($b: ID!) { suggestTables(bookingId: $b) { tables { id } violations { code } } }",
            b=booking,
        )
        free = next(s for s in suggestions["suggestTables"] if not s["violations"])
        proposed = await run(
            "staff",
            blocks["proposeTables"],
            booking=booking,
            tables=[t["id"] for t in free["tables"]],
        )
        session = proposed["proposeTables"]["session"]
        assert session["status"] == "HELD", session
        confirmed = await run(
            "staff", blocks["confirmAssignment"], session=session["id"], version=session["version"]
        )
        assert confirmed["confirmAssignment"]["session"]["booking"]["status"] == "CONFIRMED"
        snapshot = await first_event("staff", blocks["floorEvents"], **evening)
        assert snapshot["floorEvents"]["kind"] == "SNAPSHOT"

        # Poems, in the README's order: step 1 opens another lobby (where player 1 adds a
        # bot); 2 joins the banner's.
        other = (await run("player 1", blocks["createGame"]))["createGame"]["game"]["id"]
        bot = await run("player 1", _fill(blocks["addBotPlayer"], {"lobby id": other}))
        assert bot["addBotPlayer"]["player"]["isBot"], bot
        joined = await run("player 2", _fill(blocks["joinGame"], {"join code": code.group(1)}))
        game = {"game id": joined["joinGame"]["game"]["id"]}
        snapshot = await first_event("player 1", _fill(blocks["gameEvents"], game))
        assert snapshot["gameEvents"]["kind"] == "SNAPSHOT"
        started = await run("player 1", _fill(blocks["startGame"], game))
        assert started["startGame"]["game"]["status"] == "IN_PROGRESS", started
        for player in ("player 1", "player 2"):
            mine = await run(player, _fill(blocks["myPoemAssignment"], game))
            assert mine["myPoemAssignment"]["wordCount"] == 1
        await run("player 1", _fill(blocks["submitLine"], game))
        # Player 2 stalls: the host has a bot write their line, then player 2 leaves.
        skipped = await run("player 1", _fill(blocks["skipStalledPlayers"], game))
        assert skipped["skipStalledPlayers"]["game"]["round"] == 1, skipped
        left = await run("player 2", _fill(blocks["leaveGame"], game))
        assert left["leaveGame"]["player"]["left"] is True, left
        await run(
            "player 1",
            "mutation($g: ID!) { endGame(input: {gameId: $g}) { __typename } }",
            g=game["game id"],
        )
        revealed = (await run("player 1", _fill(blocks["game"], game)))["game"]
        assert revealed["id"] == game["game id"] and revealed["status"] == "COMPLETED"
        assert [r["reader"]["displayName"] for r in revealed["readers"]] == ["Demo Player 1"] * 2
        archive = (await run("player 1", blocks["myGames"]))["myGames"]
        assert archive[0]["id"] == game["game id"], archive
        link = (await run("player 2", _fill(blocks["sharePoem"], game)))["sharePoem"]
        shared = await run(None, _fill(blocks["sharedPoem"], {"share token": link["token"]}))
        assert shared["sharedPoem"]["lines"][0]["round"] == 0, shared

        # Party: the admin assigns, a guest reads their own missions and watches.
        party = {"party id": party_id.group(1)}
        assigned = await run("admin", _fill(blocks["assignPartyMissions"], party))
        assert assigned["assignPartyMissions"]["assignedSlots"] == 36, assigned
        mine = (await run("guest 1", _fill(blocks["myPartyMissions"], party)))["myPartyMissions"]
        assert len(mine) == 3 and len({m["mission"]["type"] for m in mine}) >= 2
        snapshot = await first_event("guest 2", _fill(blocks["partyEvents"], party))
        assert snapshot["partyEvents"]["kind"] == "SNAPSHOT"
        slots = [s for m in snapshot["partyEvents"]["party"]["missions"] for s in m["slots"]]
        assert {s["participant"]["displayName"] for s in slots if s["participant"]} == {"Ben"}

        # Tasks: the worker claims, accepts, starts and submits; the admin asks who may review.
        project = {"project id": project_id.group(1)}
        claimed = await run("worker", _fill(blocks["claimNextTask"], project))
        assignment = claimed["claimNextTask"]["assignment"]
        assert assignment["status"] == "ASSIGNED" and assignment["expiresAt"], claimed
        mine = {"assignment id": assignment["id"]}
        accepted = await run("worker", _fill(blocks["acceptAssignment"], mine))
        assert accepted["acceptAssignment"]["assignment"]["status"] == "ACCEPTED"
        await run(
            "worker",
            "mutation($a: ID!) { startAssignment(input: {assignmentId: $a}) { __typename } }",
            a=assignment["id"],
        )
        submitted = await run("worker", _fill(blocks["submitAssignment"], mine))
        task = submitted["submitAssignment"]["assignment"]["task"]
        assert (task["stepId"], task["status"]) == ("review", "OPEN")
        why = await run("admin", _fill(blocks["explainAssignment"], {"task id": task["id"]}))
        worker_1 = next(c for c in why["explainAssignment"] if c["userId"] == "demo-worker-1")
        assert worker_1["reasons"][0] == "annotated this task; may not review it", worker_1
        snapshot = await first_event("worker", blocks["myAssignmentEvents"])
        assert snapshot["myAssignmentEvents"]["sequence"] == 1
        counts = await first_event("admin", _fill(blocks["projectQueueEvents"], project))
        review_open = next(
            c
            for c in counts["projectQueueEvents"]["counts"]
            if (c["stepId"], c["status"]) == ("review", "OPEN")
        )
        assert review_open["count"] == 1

        # Loyalty: the admin imports (twice: the second imports nothing) and syncs; the
        # creator watches.
        csv = (
            "external_id,user_id,kind,value,occurred_at\\n"
            "readme-1,demo-creator-1,sales_dollars,120,2026-12-01T18:00:00-05:00"
        )
        imported = await run(
            "admin", _fill(blocks["importMetrics"], {"source": "readme", "csv": csv})
        )
        assert imported["importMetrics"]["rowsImported"] == 1, imported
        again = await run("admin", _fill(blocks["importMetrics"], {"source": "readme", "csv": csv}))
        assert again["importMetrics"]["rowsSkipped"] == 1, again
        synced = (await run("admin", blocks["runDailySync"]))["runDailySync"]
        assert synced["skipped"] == [], synced
        progress = await first_event("creator", blocks["myProgressEvents"])
        rows = progress["myProgressEvents"]["progress"]
        assert rows and {r["status"] for r in rows} <= {"ACTIVE", "COMPLETED"}
        assert set(blocks) == {
            "viewer",
            "restaurants",
            "floor",
            "proposeTables",
            "confirmAssignment",
            "floorEvents",
            "createGame",
            "joinGame",
            "gameEvents",
            "startGame",
            "myPoemAssignment",
            "submitLine",
            "game",
            "addBotPlayer",
            "skipStalledPlayers",
            "leaveGame",
            "myGames",
            "sharePoem",
            "sharedPoem",
            "assignPartyMissions",
            "myPartyMissions",
            "partyEvents",
            "claimNextTask",
            "acceptAssignment",
            "submitAssignment",
            "explainAssignment",
            "myAssignmentEvents",
            "projectQueueEvents",
            "importMetrics",
            "runDailySync",
            "myProgressEvents",
        }, "a README example this test does not run"
