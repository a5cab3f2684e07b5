"""The stock stack, the realtime bench's second baseline: strawberry, Starlette, uvicorn, asyncpg
and broadcaster's own Postgres backend, put together as their documentation shows, with no
Allot code in it.

A `bump` mutation commits an UPDATE and a NOTIFY (carrying the new value) in one asyncpg
transaction; every `bumps` subscription receives it through broadcaster and strawberry. Allot
does more between a confirm and its floor event (authentication, row-level security, the
rules, several rows written, the changed row read back for the subscribers), so this is about
the least an application on this stack spends from a mutation sent to a subscriber's message.

Run by bench/tables.py as `uvicorn bench._stock_app:app_factory --factory` on DATABASE_URL.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import strawberry
from broadcaster import Broadcast
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL

CHANNEL = "bench_stock"
SETUP = """
create table if not exists bench_stock (id int primary key, v int not null);
insert into bench_stock values (1, 0) on conflict do nothing;
"""


@strawberry.type
class Bump:
    value: int


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "hello"


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def bump(self, info: strawberry.Info) -> int:
        pool: asyncpg.Pool = info.context["request"].app.state.pool
        async with pool.acquire() as conn, conn.transaction():
            value: int = await conn.fetchval(
                "update bench_stock set v = v + 1 where id = 1 returning v"
            )
            await conn.execute("select pg_notify($1, $2)", CHANNEL, str(value))
        return value


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def bumps(self, info: strawberry.Info) -> AsyncGenerator[Bump, None]:
        broadcast: Broadcast = info.context["request"].app.state.broadcast
        async with broadcast.subscribe(CHANNEL) as subscriber:
            yield Bump(value=-1)  # subscribed: the bench's clients wait for this first
            while True:
                event = await subscriber.get()
                yield Bump(value=int(event.message))


def app_factory() -> Starlette:
    """The app, on the database DATABASE_URL names."""
    dsn = os.environ["DATABASE_URL"]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(dsn, min_size=2, max_size=10)
        assert pool is not None
        await pool.execute(SETUP)
        app.state.pool = pool
        app.state.broadcast = broadcast = Broadcast(dsn)
        await broadcast.connect()
        try:
            yield
        finally:
            await broadcast.disconnect()
            await pool.close()

    async def ready(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    schema = strawberry.Schema(query=Query, mutation=Mutation, subscription=Subscription)
    view: Any = GraphQL(schema)
    return Starlette(
        routes=[
            Route("/readyz", ready),
            Route("/graphql", view, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", view),
        ],
        lifespan=lifespan,
    )
