"""Tasks through the real server: an admin sets a project up over HTTP, a worker claims and
moves work while watching myAssignmentEvents, a dashboard watches projectQueueEvents, and a
reservation left alone expires live."""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack
from typing import Any

import pytest

from tests.support.gql import GraphQLHttp, subscribe, websocket
from tests.support.server import RunningServer

PROJECT = """
mutation($input: CreateWorkProjectInput!) { createWorkProject(input: $input) {
  __typename ... on WorkProject { id steps config { strategy reservationTimeoutSeconds
    crossStepExclusions hybridWeight } }
  ... on InvalidInput { fields { field message } } ... on Error { code message } } }
"""
TASKS = """
mutation($input: CreateWorkTasksInput!) { createWorkTasks(input: $input) {
  __typename ... on WorkTasksPayload { tasks { id stepId priority payload status } }
  ... on InvalidInput { fields { field message } } ... on Error { code message } } }
"""
PROFILE = """
mutation($input: SetWorkerProfileInput!) { setWorkerProfile(input: $input) {
  __typename ... on WorkerProfile { userId skills } ... on Error { code message } } }
"""
ASSIGNMENT = "assignment { id status userId expiresAt task { id stepId status } }"
CLAIM = (
    """mutation($p: ID!, $s: String!) { claimNextTask(input: {projectId: $p, stepId: $s}) {
  __typename ... on AssignmentPayload { """
    + ASSIGNMENT
    + """ } ... on Error { code message } } }"""
)
MOVES = {
    name: f"""mutation($a: ID!) {{ {name}(input: {{assignmentId: $a}}) {{
  __typename ... on AssignmentPayload {{ {ASSIGNMENT} }}
  ... on InvalidTransition {{ from message }} ... on Error {{ code message }} }} }}"""
    for name in ("acceptAssignment", "startAssignment", "submitAssignment")
}
REJECT = (
    """mutation($a: ID!, $r: JSON!) { rejectAssignment(input: {assignmentId: $a, reason: $r}) {
  __typename ... on AssignmentPayload { """
    + ASSIGNMENT
    + """ } ... on InvalidInput { fields { field } } ... on Error { code message } } }"""
)
MINE = """subscription { myAssignmentEvents {
  sequence resync assignments { id status userId task { id stepId } } } }"""
QUEUE = """subscription($p: ID!) { projectQueueEvents(projectId: $p) {
  sequence resync counts { stepId status count } } }"""


def counts(event: dict[str, Any]) -> dict[tuple[str, str], int]:
    return {(c["stepId"], c["status"]): c["count"] for c in event["counts"] if c["count"]}


async def test_tasks__claimed_moved_and_expired_live_for_the_worker_and_the_dashboard(
    server: RunningServer, token
) -> None:
    async with AsyncExitStack() as stack:
        boss = GraphQLHttp(server.base_url, token("admin", user="boss"))
        stack.push_async_callback(boss.close)
        config = {"strategy": "CAPACITY_BASED", "reservationTimeoutSeconds": 1}
        bad = (
            await boss.data(
                PROJECT,
                {
                    "input": {
                        "name": "x",
                        "steps": ["a"],
                        "config": {**config, "crossStepExclusions": [["a", "b"]]},
                    }
                },
            )
        )["createWorkProject"]
        assert [f["field"] for f in bad["fields"]] == ["config.crossStepExclusions[0]"]
        project = (
            await boss.data(
                PROJECT,
                {
                    "input": {
                        "name": "Labelling",
                        "steps": ["annotate", "review"],
                        "config": {**config, "crossStepExclusions": [["annotate", "review"]]},
                    }
                },
            )
        )["createWorkProject"]
        assert project["config"]["crossStepExclusions"] == [["annotate", "review"]]
        pid = project["id"]
        made = (
            await boss.data(
                TASKS,
                {
                    "input": {
                        "projectId": pid,
                        "tasks": [
                            {"stepId": "annotate", "priority": 1, "payload": {"text": "hello"}},
                            {"stepId": "annotate", "priority": 5, "payload": [1, 2]},
                        ],
                    }
                },
            )
        )["createWorkTasks"]["tasks"]
        assert [t["payload"] for t in made] == [{"text": "hello"}, [1, 2]]
        await boss.data(PROFILE, {"input": {"userId": "ann", "skills": []}})

        ws = await stack.enter_async_context(websocket(server.ws_url, token("worker", user="ann")))
        mine = await subscribe(ws, MINE)
        first = (await mine.next())["myAssignmentEvents"]
        assert (first["sequence"], first["assignments"]) == (1, [])
        board_ws = await stack.enter_async_context(websocket(server.ws_url, token("admin")))
        board = await subscribe(board_ws, QUEUE, {"p": pid})
        snap = (await board.next())["projectQueueEvents"]
        assert counts(snap) == {("annotate", "OPEN"): 2}

        ann = GraphQLHttp(server.base_url, token("worker", user="ann"))
        stack.push_async_callback(ann.close)
        claimed = (await ann.data(CLAIM, {"p": pid, "s": "annotate"}))["claimNextTask"]
        assert claimed["assignment"]["task"]["id"] == made[1]["id"]  # priority 5 first
        event = (await mine.next())["myAssignmentEvents"]
        assert [a["status"] for a in event["assignments"]] == ["ASSIGNED"]
        assert event["sequence"] == 2
        queued = (await board.next())["projectQueueEvents"]
        while counts(queued) != {("annotate", "OPEN"): 1, ("annotate", "ASSIGNED"): 1}:
            queued = (await board.next())["projectQueueEvents"]

        # Left alone, the reservation expires within a second of its deadline, live.
        expired = (await mine.next(timeout=5))["myAssignmentEvents"]
        assert [a["status"] for a in expired["assignments"]] == ["EXPIRED"]
        # Every later change of the queue reaches the board too, not only the first.
        while counts(queued) != {("annotate", "OPEN"): 2}:
            queued = (await board.next())["projectQueueEvents"]

        again = (await ann.data(CLAIM, {"p": pid, "s": "annotate"}))["claimNextTask"]
        aid = again["assignment"]["id"]
        assert again["assignment"]["task"]["id"] == made[0]["id"]  # never the expired one again
        refused = (await ann.data(MOVES["submitAssignment"], {"a": aid}))["submitAssignment"]
        assert (refused["__typename"], refused["from"]) == ("InvalidTransition", "ASSIGNED")
        for name in ("acceptAssignment", "startAssignment", "submitAssignment"):
            moved = (await ann.data(MOVES[name], {"a": aid}))[name]
            assert moved["__typename"] == "AssignmentPayload", moved
        assert moved["assignment"]["task"] == {
            "id": made[0]["id"],
            "stepId": "review",
            "status": "OPEN",
        }
        statuses: list[str] = []
        while statuses != ["SUBMITTED"]:
            statuses = [
                a["status"] for a in (await mine.next())["myAssignmentEvents"]["assignments"]
            ]
        no_review = (await ann.data(CLAIM, {"p": pid, "s": "review"}))["claimNextTask"]
        assert no_review["__typename"] == "NoTaskAvailable"
        no_reason = (await ann.data(REJECT, {"a": aid, "r": ""}))["rejectAssignment"]
        assert no_reason["fields"] == [{"field": "reason"}]


async def test_tasks__other_tenants_and_other_workers_are_refused(
    server: RunningServer, token
) -> None:
    async with AsyncExitStack() as stack:
        boss = GraphQLHttp(server.base_url, token("admin", user="boss"))
        stack.push_async_callback(boss.close)
        pid = (
            await boss.data(
                PROJECT,
                {"input": {"name": "P", "steps": ["annotate"], "config": {"strategy": "HYBRID"}}},
            )
        )["createWorkProject"]["id"]
        await boss.data(TASKS, {"input": {"projectId": pid, "tasks": [{"stepId": "annotate"}]}})
        await boss.data(PROFILE, {"input": {"userId": "ann", "skills": []}})
        ann = GraphQLHttp(server.base_url, token("worker", user="ann"))
        stack.push_async_callback(ann.close)
        aid = (await ann.data(CLAIM, {"p": pid, "s": "annotate"}))["claimNextTask"]["assignment"][
            "id"
        ]

        bob = GraphQLHttp(server.base_url, token("worker", user="bob"))
        stack.push_async_callback(bob.close)
        assert (await bob.data(MOVES["acceptAssignment"], {"a": aid}))["acceptAssignment"][
            "code"
        ] == "FORBIDDEN"
        stranger = GraphQLHttp(server.base_url, token("worker", user="ann", tenant_id=uuid.uuid4()))
        stack.push_async_callback(stranger.close)
        answer = (await stranger.data(MOVES["acceptAssignment"], {"a": aid}))["acceptAssignment"]
        assert answer["code"] == "NOT_FOUND"
        claim = (await stranger.data(CLAIM, {"p": pid, "s": "annotate"}))["claimNextTask"]
        assert claim["code"] == "NOT_FOUND"
        async with websocket(server.ws_url, token("admin", tenant_id=uuid.uuid4())) as ws:
            sub = await subscribe(ws, QUEUE, {"p": pid})
            with pytest.raises(AssertionError, match="NOT_FOUND"):
                await sub.next()
        async with websocket(server.ws_url, token("worker", user="w")) as ws:
            sub = await subscribe(ws, QUEUE, {"p": pid})
            with pytest.raises(AssertionError, match="FORBIDDEN"):
                await sub.next()


ONLINE = """subscription($p: ID!) { projectQueueEvents(projectId: $p) {
  sequence workersOnline { userId lastSeenAt onlineUntil } } }"""
HEARTBEAT = """mutation($p: ID!) { heartbeat(input: {projectId: $p}) {
  __typename ... on HeartbeatPayload { lastSeenAt } ... on Error { code message } } }"""
PROJECTS = "{ workProjects { id name steps } }"


async def test_queue_board__shows_workers_as_they_come_online_without_an_event_per_heartbeat(
    server: RunningServer, token
) -> None:
    async with AsyncExitStack() as stack:
        boss = GraphQLHttp(server.base_url, token("admin", user="boss"))
        stack.push_async_callback(boss.close)
        config = {"strategy": "CAPACITY_BASED"}
        made = await boss.data(
            PROJECT, {"input": {"name": "Board", "steps": ["annotate"], "config": config}}
        )
        pid = made["createWorkProject"]["id"]
        listed = (await boss.data(PROJECTS))["workProjects"]
        assert [p["id"] for p in listed] == [pid]
        board_ws = await stack.enter_async_context(websocket(server.ws_url, token("admin")))
        board = await subscribe(board_ws, ONLINE, {"p": pid})
        assert (await board.next())["projectQueueEvents"]["workersOnline"] == []

        ann = GraphQLHttp(server.base_url, token("worker", user="ann"))
        stack.push_async_callback(ann.close)
        beat = (await ann.data(HEARTBEAT, {"p": pid}))["heartbeat"]
        online = (await board.next())["projectQueueEvents"]["workersOnline"]
        assert [(w["userId"], w["lastSeenAt"]) for w in online] == [("ann", beat["lastSeenAt"])]
        assert online[0]["onlineUntil"] > online[0]["lastSeenAt"]

        await ann.data(HEARTBEAT, {"p": pid})  # still online, announced just now: no event
        with pytest.raises(TimeoutError):
            await board.next(timeout=0.5)

        bob = GraphQLHttp(server.base_url, token("worker", user="bob"))
        stack.push_async_callback(bob.close)
        await bob.data(HEARTBEAT, {"p": pid})
        online = (await board.next())["projectQueueEvents"]["workersOnline"]
        assert [w["userId"] for w in online] == ["ann", "bob"]
        stranger = GraphQLHttp(server.base_url, token("player", user="p"))
        stack.push_async_callback(stranger.close)
        assert (await stranger.data(PROJECTS))["workProjects"] == []
