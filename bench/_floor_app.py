"""The websocket floor, the realtime bench's server baseline: Starlette and uvicorn with one
WebSocket endpoint and no GraphQL.

It LISTENs on the channel Allot's triggers notify (db.listener.CHANNEL) on its own asyncpg
connection. For each notification of a topic some socket follows, it reads the changed
probe_items row once (as the database's owner, so row-level security does not apply), builds
one text frame shaped as Allot's probeEvents `next` message (the same fields, so the bench
parses both alike) and sends that frame to every socket of the topic. That is about the least
any server spends to push a committed change, read back, to websocket subscribers.

A socket names its topic in the query string (`/graphql?topic=probe:<tenant>`) and speaks
just enough graphql-transport-ws for the bench's clients: connection_init is answered with
connection_ack, the first subscribe with an empty snapshot; further messages are ignored.

Run by the benches as `uvicorn bench._floor_app:app_factory --factory` on DATABASE_URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from db.listener import CHANNEL

SNAPSHOT = (
    '{"id":"1","type":"next","payload":{"data":{"probeEvents":'
    '{"kind":"SNAPSHOT","sequence":1,"resync":false,"items":[],"item":null}}}}'
)


class Floor:
    """The sockets of each topic, and the one LISTEN connection and one reader feeding them."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.topics: dict[str, set[WebSocket]] = {}
        self.sequence = 1
        self.changes: asyncio.Queue[tuple[UUID, str, set[WebSocket]]] = asyncio.Queue()

    async def start(self) -> None:
        self.reader = await asyncpg.connect(self.dsn)
        self.listen = await asyncpg.connect(self.dsn)
        await self.listen.add_listener(CHANNEL, self._notified)
        self.worker = asyncio.create_task(self._work())

    async def stop(self) -> None:
        self.worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.worker
        await self.listen.close()
        await self.reader.close()

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: object) -> None:
        data = json.loads(str(payload))
        sockets = self.topics.get(data["t"])
        if sockets and data.get("id"):
            self.changes.put_nowait((UUID(data["id"]), data["k"], sockets))

    async def _work(self) -> None:
        """The changes in the order they were committed, one at a time on the one reader."""
        while True:
            await self._send(*await self.changes.get())

    async def _send(self, row_id: UUID, kind: str, sockets: set[WebSocket]) -> None:
        row = await self.reader.fetchrow(
            "select id, label, version from probe_items where id = $1", row_id
        )
        if row is None:
            return
        self.sequence += 1
        event = {
            "kind": kind,
            "sequence": self.sequence,
            "resync": False,
            "item": {"id": str(row["id"]), "label": row["label"], "version": row["version"]},
        }
        frame = json.dumps(
            {"id": "1", "type": "next", "payload": {"data": {"probeEvents": event}}},
            separators=(",", ":"),
        )
        for socket in list(sockets):
            try:
                await socket.send_text(frame)
            except (RuntimeError, WebSocketDisconnect, OSError):
                sockets.discard(socket)


def app_factory() -> Starlette:
    """The app, on the database DATABASE_URL names."""
    floor = Floor(os.environ["DATABASE_URL"])

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await floor.start()
        try:
            yield
        finally:
            await floor.stop()

    async def ready(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    async def endpoint(ws: WebSocket) -> None:
        topic = ws.query_params.get("topic", "")
        await ws.accept(subprotocol="graphql-transport-ws")
        subscribed = False
        try:
            while True:
                message = json.loads(await ws.receive_text())
                if message.get("type") == "connection_init":
                    await ws.send_text('{"type":"connection_ack"}')
                elif message.get("type") == "subscribe" and not subscribed:
                    subscribed = True
                    await ws.send_text(SNAPSHOT)
                    floor.topics.setdefault(topic, set()).add(ws)
        except WebSocketDisconnect:
            pass
        finally:
            sockets = floor.topics.get(topic)
            if sockets is not None:
                sockets.discard(ws)
                if not sockets:
                    del floor.topics[topic]

    return Starlette(
        routes=[Route("/readyz", ready), WebSocketRoute("/graphql", endpoint)],
        lifespan=lifespan,
    )
