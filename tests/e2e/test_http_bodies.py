"""Bodies the server refuses (too large, not a GraphQL request) get a JSON GraphQL error."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.support.gql import websocket
from tests.support.server import RunningServer, serve_in_process, test_settings

LIMIT = 4096


def _error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": code}
    message: str = error["message"]
    return message


@pytest.fixture
async def small(dsn: str) -> AsyncIterator[RunningServer]:
    """A server whose body limit is LIMIT bytes."""
    async with serve_in_process(test_settings(dsn, max_body_bytes=LIMIT)) as running:
        yield running


async def test_body_over_the_limit__is_413_by_content_length(small: RunningServer) -> None:
    body = json.dumps({"query": "{ __typename }", "pad": "x" * LIMIT})
    async with httpx.AsyncClient(base_url=small.base_url) as client:
        response = await client.post(
            "/graphql", content=body, headers={"content-type": "application/json"}
        )
    assert str(LIMIT) in _error(response, 413, "PAYLOAD_TOO_LARGE")


async def test_chunked_body_over_the_limit__is_413_while_streaming(small: RunningServer) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ __typename }", "pad": "'
        for _ in range(LIMIT // 512 + 2):
            yield b"x" * 512
        yield b'"}'

    async with httpx.AsyncClient(base_url=small.base_url) as client:
        response = await client.post(
            "/graphql", content=chunks(), headers={"content-type": "application/json"}
        )
    assert "content-length" not in response.request.headers
    _error(response, 413, "PAYLOAD_TOO_LARGE")


async def test_body_under_the_limit__is_answered(small: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=small.base_url) as client:
        response = await client.post("/graphql", json={"query": "{ __typename }"})
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_websocket_message_over_the_limit__closes_with_1009(
    small: RunningServer, token
) -> None:
    async with websocket(small.ws_url, token("staff")) as ws:
        await ws.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": "x" * LIMIT}})
        )
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), 10)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1009


BAD_BODIES: dict[str, tuple[bytes, str]] = {
    "malformed JSON": (b'{"query": ', "application/json"),
    "empty body": (b"", "application/json"),
    "null": (b"null", "application/json"),
    "a list": (b"[]", "application/json"),
    "a number": (b"5", "application/json"),
    "not UTF-8": (b'{"query": "\xff\xfe"}', "application/json"),
    "wrong content type": (b"query=%7B__typename%7D", "text/plain"),
}


@pytest.mark.parametrize("name", BAD_BODIES)
async def test_bad_body__is_a_400_json_graphql_error(server: RunningServer, name: str) -> None:
    body, content_type = BAD_BODIES[name]
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        response = await client.post(
            "/graphql", content=body, headers={"content-type": content_type}
        )
    _error(response, 400, "BAD_REQUEST")


async def test_get__runs_a_query_and_refuses_a_mutation(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        query = await client.get("/graphql", params={"query": "{ __typename }"})
        mutation = await client.get(
            "/graphql", params={"query": 'mutation { probeAdd(label: "x") { id } }'}
        )
    assert query.json() == {"data": {"__typename": "Query"}}
    assert "mutation" in _error(mutation, 405, "METHOD_NOT_ALLOWED").lower()
