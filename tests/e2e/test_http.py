"""The HTTP surface of the real server: GraphQL, auth, limits, health, metrics, CORS, logs."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from tests.support.gql import GraphQLHttp, subscribe, websocket
from tests.support.server import RunningServer


async def test_viewer__answers_with_the_token_claims(server: RunningServer, token, tenant) -> None:
    client = GraphQLHttp(server.base_url, token("admin", "staff", user="ana"))
    data = await client.data("{ viewer { userId tenantId roles } }")
    await client.close()
    assert data["viewer"] == {"userId": "ana", "tenantId": str(tenant), "roles": ["ADMIN", "STAFF"]}


async def test_viewer__without_token_is_a_clear_error(server: RunningServer) -> None:
    client = GraphQLHttp(server.base_url, None)
    body = await client.raw("{ viewer { userId } }")
    await client.close()
    assert body["data"] is None
    assert "authentication required" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}


@pytest.mark.parametrize("bad", ["garbage", "a.b.c"])
async def test_viewer__invalid_token_is_refused_without_echoing_it(
    server: RunningServer, bad: str
) -> None:
    client = GraphQLHttp(server.base_url, bad)
    body = await client.raw("{ viewer { userId } }")
    await client.close()
    message = body["errors"][0]["message"]
    assert "authentication failed" in message and bad not in message


async def test_viewer__expired_token_is_refused(server: RunningServer, token) -> None:
    from datetime import timedelta

    client = GraphQLHttp(server.base_url, token("admin", ttl=timedelta(seconds=-5)))
    body = await client.raw("{ viewer { userId } }")
    await client.close()
    assert "expired" in body["errors"][0]["message"]


async def test_viewer__token_of_another_secret_is_refused(server: RunningServer, tenant) -> None:
    from server.auth import issue_token
    from services.core.principal import Role

    forged = issue_token(
        "another-secret-" + "y" * 40, tenant=tenant, user="eve", roles=[Role.ADMIN]
    )
    client = GraphQLHttp(server.base_url, forged)
    body = await client.raw("{ viewer { userId } }")
    await client.close()
    assert body["data"] is None and "authentication failed" in body["errors"][0]["message"]


async def test_query_depth_over_limit_gets_clear_error(dsn: str, token) -> None:
    from tests.support.server import serve_in_process, test_settings

    async with serve_in_process(test_settings(dsn, max_query_depth=0)) as running:
        client = GraphQLHttp(running.base_url, token())
        body = await client.raw("{ viewer { userId } }")
        await client.close()
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]


async def test_aliases_over_limit_get_clear_error(server: RunningServer, token) -> None:
    client = GraphQLHttp(server.base_url, token())
    query = "{ " + " ".join(f"a{i}: viewer {{ userId }}" for i in range(40)) + " }"
    body = await client.raw(query)
    await client.close()
    assert "aliases found" in body["errors"][0]["message"].lower()


async def test_tokens_over_limit_get_clear_error(server: RunningServer, token) -> None:
    client = GraphQLHttp(server.base_url, token())
    query = "{ viewer { " + " ".join(["userId"] * 2100) + " } }"
    body = await client.raw(query)
    await client.close()
    assert "token" in body["errors"][0]["message"].lower()


async def test_unexpected_error__hides_internals(server: RunningServer, token) -> None:
    client = GraphQLHttp(server.base_url, token())
    body = await client.raw("{ probeFail }")
    await client.close()
    message = body["errors"][0]["message"]
    assert "Internal error" in message
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL_ERROR"}
    assert "relation" not in message and "Traceback" not in str(body) and "select" not in message


async def test_graphiql_is_served_on_get(server: RunningServer) -> None:
    async with httpx.AsyncClient() as c:
        r = await c.get(f"{server.base_url}/graphql", headers={"accept": "text/html"})
    assert r.status_code == 200 and "graphiql" in r.text.lower()


async def test_health_and_readiness(server: RunningServer) -> None:
    async with httpx.AsyncClient() as c:
        health = await c.get(f"{server.base_url}/healthz")
        ready = await c.get(f"{server.base_url}/readyz")
    assert health.status_code == 200
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": True, "migrations": True, "hub": True}


async def test_readiness__503_when_hub_is_not_listening(server: RunningServer) -> None:
    from tests.support.server import running_state

    hub = running_state(server).hub
    await hub.backend.listener.stop()
    async with httpx.AsyncClient() as c:
        ready = await c.get(f"{server.base_url}/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["hub"] is False


async def test_metrics__prometheus_format_with_allot_series(server: RunningServer, token) -> None:
    client = GraphQLHttp(server.base_url, token())
    await client.data("query Who { viewer { userId } }")
    await client.close()
    async with httpx.AsyncClient() as c:
        text = (await c.get(f"{server.base_url}/metrics")).text
    for series in (
        "allot_open_websockets",
        "allot_active_subscriptions",
        "allot_events_delivered_total",
        "allot_resyncs_total",
        "allot_hub_reconnects_total",
        "allot_graphql_request_seconds",
    ):
        assert series in text
    assert 'operation="Who"' in text


async def test_request_id__returned_and_logged_but_token_never_logged(
    server: RunningServer, token, caplog: pytest.LogCaptureFixture
) -> None:
    secret_token = token("admin")
    caplog.set_level(logging.DEBUG)
    async with httpx.AsyncClient() as c:
        r = await c.post(
            f"{server.base_url}/graphql",
            json={"query": "{ viewer { userId } }"},
            headers={"authorization": f"Bearer {secret_token}", "x-request-id": "req-42"},
        )
        bad = await c.post(
            f"{server.base_url}/graphql",
            json={"query": "{ probeFail }"},
            headers={"authorization": f"Bearer {secret_token}"},
        )
    assert r.headers["x-request-id"] == "req-42"
    assert bad.status_code == 200
    logged = "\n".join(
        rec.getMessage() + str(getattr(rec, "request_id", "")) for rec in caplog.records
    )
    assert "req-42" in logged
    assert secret_token not in logged and secret_token not in caplog.text


async def test_access_log__requests_at_info_websocket_sessions_at_debug(
    server: RunningServer, token, caplog: pytest.LogCaptureFixture
) -> None:
    """A dashboard's websockets come and go by the thousand: each session's line is DEBUG,
    while every HTTP request is logged at INFO."""
    caplog.set_level(logging.DEBUG, logger="allot.http")
    async with httpx.AsyncClient() as c:
        await c.post(f"{server.base_url}/graphql", json={"query": "{ __typename }"})
    async with websocket(server.ws_url, token("staff")) as ws:
        sub = await subscribe(ws, "subscription { probeEvents { kind } }")
        await sub.next()
    await asyncio.sleep(0.2)  # the session's line is written as the socket closes
    lines = {
        (r.levelno, r.getMessage().split(" ")[0])
        for r in caplog.records
        if r.name == "allot.http" and " /graphql " in r.getMessage()
    }
    assert lines == {(logging.INFO, "POST"), (logging.DEBUG, "WS")}


async def test_cors__allows_configured_origin_only(dsn: str, token) -> None:
    from tests.support.server import serve_in_process, test_settings

    settings = test_settings(dsn, cors_origins=["https://app.example"])
    async with serve_in_process(settings) as running, httpx.AsyncClient() as c:
        ok = await c.options(
            f"{running.base_url}/graphql",
            headers={
                "origin": "https://app.example",
                "access-control-request-method": "POST",
                "access-control-request-headers": "authorization,content-type",
            },
        )
        other = await c.options(
            f"{running.base_url}/graphql",
            headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
        )
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in other.headers


async def test_errors__unexpected_logged_once_with_traceback_refusals_not_as_errors(
    server: RunningServer, token, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = GraphQLHttp(server.base_url, token())
    await client.raw("{ probeFail }")
    anonymous = GraphQLHttp(server.base_url, None)
    await anonymous.raw("{ viewer { userId } }")
    await anonymous.close()
    await client.close()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is not None
    assert "no_such_relation_secret" in str(errors[0].exc_info[1])  # the operator sees the cause
    refused = [r for r in caplog.records if "authentication required" in r.getMessage()]
    assert refused and all(r.levelno < logging.ERROR for r in refused)


async def test_possible_types__are_served_without_a_token(server: RunningServer) -> None:
    """For Apollo's possibleTypes: the same map `allot possible-types` prints."""
    from server.possible_types import possible_types

    assert server.graphql is not None
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        response = await client.get("/graphql/possible-types.json")
    assert response.status_code == 200
    assert response.json() == possible_types(server.graphql.schema)  # type: ignore[arg-type]
    assert "NotFound" in response.json()["Error"]
