"""A refused token is explained to the client in words, over HTTP and on websockets."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from server.auth import issue_token
from services.core.principal import Role
from tests.support.gql import GraphQLHttp
from tests.support.server import RunningServer


def _bad_tokens(token, tenant) -> dict[str, str]:
    """A token of each kind of wrong -> the words the client should read."""
    return {
        "not-a-jwt": "the token is not a valid JWT",
        issue_token("another-key-" + "y" * 40, tenant=tenant, user="eve", roles=[Role.ADMIN]): (
            "the token's signature does not match this server's key"
        ),
        token("admin", ttl=timedelta(seconds=-5)): "the token has expired",
    }


async def test_http__a_refused_token_is_explained_in_words(
    server: RunningServer, token, tenant
) -> None:
    for bad, words in _bad_tokens(token, tenant).items():
        client = GraphQLHttp(server.base_url, bad)
        body = await client.raw("{ viewer { userId } }")
        await client.close()
        message = body["errors"][0]["message"]
        assert message == f"authentication failed: {words}"
        assert "Error" not in message


async def _legacy_refusal(url: str, token: str | None) -> dict[str, object]:
    """The legacy graphql-ws protocol's answer to connection_init with this token."""
    async with connect(url, subprotocols=["graphql-ws"]) as ws:  # type: ignore[list-item]
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        message: dict[str, object] = json.loads(await asyncio.wait_for(ws.recv(), 10))
        return message


async def test_graphql_ws__connection_error_says_why(server: RunningServer, token, tenant) -> None:
    for bad, words in _bad_tokens(token, tenant).items():
        assert await _legacy_refusal(server.ws_url, bad) == {
            "type": "connection_error",
            "payload": {"message": words},
        }
    missing = await _legacy_refusal(server.ws_url, None)
    assert missing["type"] == "connection_error"
    assert "authorization" in json.dumps(missing["payload"])


async def test_graphql_transport_ws__a_refused_token_closes_with_4403(
    server: RunningServer, token, tenant
) -> None:
    """graphql-transport-ws has no error message before connection_ack: the socket closes with
    4403, and the close reason says which refusal it is (never the token)."""
    reasons: dict[str | None, str] = {None: "Forbidden: no token"}
    for wrong, words in _bad_tokens(token, tenant).items():
        expired = words == "the token has expired"
        reasons[wrong] = "Forbidden: token expired" if expired else "Forbidden: invalid token"
    for bad, reason in reasons.items():
        async with connect(server.ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
            payload = {"authorization": f"Bearer {bad}"} if bad else {}
            await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            with pytest.raises(ConnectionClosed) as info:
                await asyncio.wait_for(ws.recv(), 10)
        assert info.value.rcvd is not None and info.value.rcvd.code == 4403
        assert info.value.rcvd.reason == reason
        assert bad is None or bad not in info.value.rcvd.reason
