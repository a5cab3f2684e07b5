"""Clients for tests: GraphQL over HTTP, and over websockets (both protocols)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect


class GraphQLHttp:
    """POST GraphQL operations with a bearer token."""

    def __init__(self, base_url: str, token: str | None) -> None:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30)

    async def raw(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The whole response body (data and errors)."""
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}
        )
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The data of a response that must have no errors."""
        body = await self.raw(query, variables)
        assert not body.get("errors"), body.get("errors")
        data: dict[str, Any] = body["data"]
        return data

    async def close(self) -> None:
        await self.client.aclose()


# websocket id -> operation id -> messages not yet read by that operation
_BUFFERS: dict[int, dict[str, deque[dict[str, Any]]]] = {}


class Subscription:
    """One subscription on a websocket; `next()` returns the next event's data."""

    def __init__(self, ws: ClientConnection, op_id: str, protocol: str) -> None:
        self.ws = ws
        self.id = op_id
        self.protocol = protocol

    async def _message(self, timeout: float) -> dict[str, Any]:
        """The next message for this subscription; others' messages are kept for them."""
        buffers: dict[str, deque[dict[str, Any]]] = _BUFFERS.setdefault(id(self.ws), {})
        mine = buffers.setdefault(self.id, deque())
        deadline = asyncio.get_running_loop().time() + timeout
        while not mine:
            remaining = deadline - asyncio.get_running_loop().time()
            raw = await asyncio.wait_for(self.ws.recv(), max(remaining, 0.001))
            message = json.loads(raw)
            if message.get("type") in ("ka", "ping", "pong") or "id" not in message:
                continue
            buffers.setdefault(message["id"], deque()).append(message)
        return mine.popleft()

    async def next(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next `next`/`data` message's payload data; fails on error or completion."""
        while True:
            message = await self._message(timeout)
            kind = message.get("type")
            if kind in ("next", "data"):
                payload = message["payload"]
                assert not payload.get("errors"), payload["errors"]
                data: dict[str, Any] = payload["data"]
                return data
            raise AssertionError(f"subscription ended: {message}")


@asynccontextmanager
async def websocket(
    url: str, token: str | None, protocol: str = "graphql-transport-ws", **kwargs: Any
) -> AsyncIterator[ClientConnection]:
    """An initialised websocket (connection_ack received) with the token in connection_init."""
    async with connect(url, subprotocols=[protocol], max_size=None, **kwargs) as ws:  # type: ignore[list-item]
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if message["type"] == "connection_ack":
                break
            if message["type"] in ("ka",):
                continue
            raise AssertionError(f"connection not acknowledged: {message}")
        yield ws


async def subscribe(
    ws: ClientConnection,
    query: str,
    variables: dict[str, Any] | None = None,
    protocol: str = "graphql-transport-ws",
) -> Subscription:
    """Start a subscription on an initialised websocket."""
    op_id = uuid.uuid4().hex
    kind = "subscribe" if protocol == "graphql-transport-ws" else "start"
    await ws.send(
        json.dumps(
            {"id": op_id, "type": kind, "payload": {"query": query, "variables": variables or {}}}
        )
    )
    return Subscription(ws, op_id, protocol)
