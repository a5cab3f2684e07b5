"""Loyalty through the real server: a CSV streamed to POST /loyalty/metrics, a sync over
GraphQL, the creator's phone getting the completion live, a claim once, and `allot sync`."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

import httpx

from server.cli import main
from tests.support.gql import GraphQLHttp, subscribe, websocket
from tests.support.server import RunningServer, serve_in_process, test_settings

SETUP = """
mutation($t: String!, $c: ID!, $at: DateTime!) {
  upsertTier(input: {key: $t, name: "Bronze", order: 1}) { __typename }
  upsertCreator(input: {userId: $c, handle: "@cat", tierKey: $t, tierAchievedAt: $at}) {
    __typename ... on Creator { userId tier { key } } ... on Error { message } }
  createLoyaltyMission(input: {title: "Sell 100 units", kind: SALES_UNITS, targetValue: 100,
    tierEligibility: "all", enabled: true, activated: true}) {
    __typename ... on LoyaltyMission { id } } }
"""
SYNC = """mutation { runDailySync(input: {}) { __typename ... on DailySyncReport {
  progressRowsCreated progressRowsUpdated missionsCompleted redemptionsCreated skipped } } }"""
CLAIM = """mutation($p: ID!) { claimMissionReward(input: {progressId: $p}) {
  __typename ... on MissionProgress { id status } ... on NotClaimable { status message }
  ... on Error { code } } }"""
EVENTS = """subscription { myProgressEvents { sequence resync
  progress { id status currentValue mission { id title } } } }"""
HEADER = "occurred_at,kind,value,user_id,external_id"  # any order


async def chunks(rows: list[str], size: int = 7) -> AsyncIterator[bytes]:
    """The CSV in small pieces, so lines arrive split across chunks."""
    body = ("\r\n".join(rows) + "\r\n").encode()
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def upload(server: RunningServer, token: str | None, rows: list[str], **params: str):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        return await client.post(
            "/loyalty/metrics",
            params={"source": "shop", **params},
            headers=headers,
            content=chunks(rows),
        )


async def test_loyalty__streamed_import_sync_live_completion_and_one_claim(
    server: RunningServer, token
) -> None:
    now = datetime.now(UTC)
    async with AsyncExitStack() as stack:
        boss = GraphQLHttp(server.base_url, token("admin", user="boss"))
        stack.push_async_callback(boss.close)
        made = await boss.data(
            SETUP, {"t": "bronze", "c": "cat", "at": (now - timedelta(days=1)).isoformat()}
        )
        assert made["upsertCreator"]["tier"] == {"key": "bronze"}
        assert (await boss.data(SYNC))["runDailySync"]["progressRowsCreated"] == 1

        ws = await stack.enter_async_context(websocket(server.ws_url, token("creator", user="cat")))
        phone = await subscribe(ws, EVENTS)
        first = (await phone.next())["myProgressEvents"]
        assert [(p["status"], p["currentValue"]) for p in first["progress"]] == [("ACTIVE", 0)]

        rows = [HEADER, *(f"{now.isoformat()},sales_units,25,cat,sale-{i}" for i in range(4))]
        answer = await upload(server, token("admin", user="boss"), rows)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"rowsRead": 4, "rowsImported": 4, "rowsSkipped": 0, "errors": []}
        again = (await upload(server, token("admin", user="boss"), rows)).json()
        assert (again["rowsImported"], again["rowsSkipped"]) == (0, 4)

        report = (await boss.data(SYNC))["runDailySync"]
        assert (report["missionsCompleted"], report["redemptionsCreated"]) == (1, 1)
        event = (await phone.next())["myProgressEvents"]
        while event["progress"][0]["status"] != "COMPLETED":
            event = (await phone.next())["myProgressEvents"]
        assert event["progress"][0]["currentValue"] == 100

        cat = GraphQLHttp(server.base_url, token("creator", user="cat"))
        stack.push_async_callback(cat.close)
        progress_id = event["progress"][0]["id"]
        claimed = (await cat.data(CLAIM, {"p": progress_id}))["claimMissionReward"]
        assert claimed["status"] == "CLAIMED"
        twice = (await cat.data(CLAIM, {"p": progress_id}))["claimMissionReward"]
        assert (twice["__typename"], twice["status"]) == ("NotClaimable", "CLAIMED")
        event = (await phone.next())["myProgressEvents"]
        while event["progress"][0]["status"] != "CLAIMED":
            event = (await phone.next())["myProgressEvents"]


async def test_loyalty_upload__refuses_without_an_admin_token_and_reports_bad_lines(
    server: RunningServer, token
) -> None:
    rows = [HEADER, "2026-12-01T10:00:00Z,likes,1,nobody,x1"]
    assert (await upload(server, None, rows)).status_code == 401
    assert (await upload(server, "not-a-token", rows)).status_code == 401
    refused = await upload(server, token("creator", user="cat"), rows)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    no_source = await upload(server, token("admin"), rows, source=" ")
    assert no_source.status_code == 400 and "source" in no_source.text
    bad = (await upload(server, token("admin"), rows)).json()
    assert bad["rowsImported"] == 0
    assert bad["errors"] == [{"field": "line 2: user_id", "message": '"nobody" is not a creator'}]


async def test_loyalty_upload__over_the_import_limit_is_413_and_imports_nothing(
    dsn: str, token
) -> None:
    async with serve_in_process(test_settings(dsn, max_import_bytes=200)) as server:
        rows = [HEADER, *(f"2026-12-01T10:00:00Z,likes,1,nobody,x{i}" for i in range(20))]
        answer = await upload(server, token("admin"), rows)
        assert answer.status_code == 413


async def test_allot_sync__runs_every_tenant_from_the_command_line(
    dsn: str, token, monkeypatch, capsys
) -> None:
    async with serve_in_process(test_settings(dsn)) as server:
        for tenant in (uuid.uuid4(), uuid.uuid4()):
            boss = GraphQLHttp(server.base_url, token("admin", tenant_id=tenant))
            await boss.data(SETUP, {"t": "bronze", "c": "cat", "at": "2026-01-01T00:00:00Z"})
            await boss.close()
    monkeypatch.setenv("DATABASE_URL", dsn)
    from server.settings import get_settings

    get_settings.cache_clear()
    try:
        assert await asyncio.to_thread(main, ["sync"]) == 0  # it runs its own event loop
    finally:
        get_settings.cache_clear()
    reports = json.loads(capsys.readouterr().out)
    assert len(reports) == 2
    assert {r["progress_rows_created"] for r in reports.values()} == {1}
