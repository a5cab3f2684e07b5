"""Both websocket protocols, driven by the real Python `gql` client (which offers legacy
graphql-ws first): queries, mutations and subscriptions, and the connection_init timeout."""

from __future__ import annotations

import asyncio
import json

import pytest
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.support.server import RunningServer, serve_in_process, test_settings

PROTOCOLS = [WebsocketsTransport.APOLLO_SUBPROTOCOL, WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL]


def _client(server: RunningServer, token: str, protocol: str) -> Client:
    transport = WebsocketsTransport(
        url=server.ws_url,
        subprotocols=[protocol],
        init_payload={"authorization": f"Bearer {token}"},
    )
    return Client(transport=transport, fetch_schema_from_transport=False)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_gql_client__query_mutation_and_subscription_work(
    server: RunningServer, token, protocol: str
) -> None:
    async with _client(server, token("staff", user="ana"), protocol) as session:
        viewer = await session.execute(gql("{ viewer { userId } }"))
        assert viewer == {"viewer": {"userId": "ana"}}
        events = session.subscribe(gql("subscription { probeEvents { kind item { label } } }"))
        first = await asyncio.wait_for(anext(events), 10)
        assert first["probeEvents"]["kind"] == "SNAPSHOT"
        added = await session.execute(gql('mutation { probeAdd(label: "over ws") { id } }'))
        assert added["probeAdd"]["id"]
        event = await asyncio.wait_for(anext(events), 10)
        assert event["probeEvents"] == {"kind": "INSERT", "item": {"label": "over ws"}}
        await events.aclose()


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_socket_without_connection_init__is_closed_after_the_timeout(
    dsn: str, protocol: str
) -> None:
    settings = test_settings(dsn, ws_connection_init_timeout_seconds=1.0)
    async with serve_in_process(settings) as running:
        async with connect(running.ws_url, subprotocols=[protocol]) as ws:  # type: ignore[list-item]
            with pytest.raises(ConnectionClosed) as info:
                await asyncio.wait_for(ws.recv(), 10)
    assert info.value.rcvd is not None and info.value.rcvd.code == 4408
    assert info.value.rcvd.reason == "Connection initialisation timeout"


async def test_graphql_ws__an_initialised_socket_outlives_the_init_timeout(dsn: str, token) -> None:
    settings = test_settings(dsn, ws_connection_init_timeout_seconds=1.0)
    async with serve_in_process(settings) as running:
        async with connect(running.ws_url, subprotocols=["graphql-ws"]) as ws:  # type: ignore[list-item]
            init = {"authorization": f"Bearer {token('staff')}"}
            await ws.send(json.dumps({"type": "connection_init", "payload": init}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
            await asyncio.sleep(1.5)
            await ws.send(
                json.dumps(
                    {"id": "1", "type": "start", "payload": {"query": "{ viewer { userId } }"}}
                )
            )
            data = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert data["type"] == "data" and data["payload"]["data"]["viewer"]["userId"]
            assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {
                "type": "complete",
                "id": "1",
            }
