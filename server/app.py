"""The ASGI app: GraphQL on /graphql, health, readiness and metrics."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Sequence
from types import ModuleType

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute

from db.embedded import start_embedded
from db.migrate import migrate, pending
from db.pool import create_pool, with_server_setting
from schema.root import build_schema
from server.auth import resolve_jwt_secret
from server.graphiql import OfflineGraphiQL
from server.graphql import AllotGraphQL
from server.imports import PATH as IMPORT_PATH
from server.imports import metrics_import
from server.limits import BodyLimit
from server.live import routes as live_routes
from server.logs import RequestIdMiddleware, configure
from server.possible_types import possible_types
from server.settings import Settings, get_settings
from server.shared_poems import PATH as SHARED_POEM_PATH
from server.shared_poems import shared_poem_page
from server.state import AppState
from server.workers import WORKERS
from services.realtime.hub import Hub, PostgresListenBackend

log = logging.getLogger(__name__)


async def database_url(settings: Settings) -> str:
    """DATABASE_URL, or the DSN of the embedded server (started if needed)."""
    if settings.database_url:
        return settings.database_url
    return await asyncio.to_thread(start_embedded, settings.data_dir / "pgdata")


async def start(settings: Settings) -> AppState:
    """Everything the app needs before it serves: secret, database, migrations, pool, hub."""
    secret = resolve_jwt_secret(settings)
    dsn = await database_url(settings)
    if not settings.notify_rows:  # every session of this process, pools and workers alike
        dsn = with_server_setting(dsn, "allot.notify_rows", "off")
    if settings.should_migrate:
        await migrate(dsn)
    pool = await create_pool(dsn, min_size=settings.pool_min_size, max_size=settings.pool_max_size)
    hub = Hub(
        PostgresListenBackend(
            dsn,
            keepalive_seconds=settings.hub_keepalive_seconds,
            max_backoff_seconds=settings.hub_reconnect_max_seconds,
        ),
        queue_size=settings.subscriber_queue_size,
    )
    await hub.connect()
    state = AppState(
        settings=settings, dsn=dsn, jwt_secret=secret, pool=pool, hub=hub, areas=settings.areas
    )
    for factory in WORKERS:
        state.workers.append(await factory(state))
    return state


def tune_gc() -> None:
    """For a server process: spend less of each request in the garbage collector.

    What is built by now (modules, the schema) is moved out of the collector's reach, and
    the youngest generation is collected every 20,000 allocations instead of 700: a request
    allocates thousands of short-lived objects, and reference counting frees most of them.
    (About 10% of the server's CPU per request on a busy two-core machine.)
    """
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


async def stop(state: AppState) -> None:
    """Stop workers, the hub and the pool, in that order."""
    for worker in reversed(state.workers):
        with contextlib.suppress(Exception):
            await worker.stop()
    await state.hub.close()
    await asyncio.wait_for(state.pool.close(), 10)


def create_app(
    settings: Settings | None = None, *, extra_schema: Sequence[ModuleType] = ()
) -> Starlette:
    """Build the app; start-up work happens in its lifespan."""
    settings = settings or get_settings()
    holder: dict[str, AppState] = {}

    def current() -> AppState:
        return holder["state"]

    schema = build_schema(settings.limits, extra_schema)
    graphql = AllotGraphQL(schema, settings, current)
    schema_types = possible_types(schema)
    graphiql = OfflineGraphiQL(graphql, settings.data_dir)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        holder["state"] = await start(settings)
        try:
            yield
        finally:
            await stop(holder.pop("state"))

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> Response:
        state = holder.get("state")
        checks = {"database": False, "migrations": False, "hub": False}
        if state is not None:
            try:
                async with state.pool.acquire(timeout=2) as conn:
                    checks["migrations"] = not await pending(conn)
                    checks["database"] = True
            except (TimeoutError, OSError, Exception):
                log.warning("readiness check: database unreachable")
            checks["hub"] = state.hub.listening
        ready = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
        )

    async def metrics(_request: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    async def possible_types_json(_request: Request) -> Response:
        # Schema metadata, as introspection is: served without a token.
        return JSONResponse(schema_types)

    async def home(_request: Request) -> Response:
        return RedirectResponse("/graphql")

    middleware = [
        Middleware(RequestIdMiddleware),
        Middleware(BodyLimit, max_bytes=settings.max_body_bytes, streamed=(IMPORT_PATH,)),
    ]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["authorization", "content-type", "x-request-id"],
                expose_headers=["x-request-id"],
            )
        )
    return Starlette(
        routes=[
            Route("/", home),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Route("/graphql/possible-types.json", possible_types_json),
            Route(IMPORT_PATH, metrics_import(current), methods=["POST"]),
            Route(SHARED_POEM_PATH, shared_poem_page(current)),
            Mount("/live", routes=live_routes()),
            Route("/graphiql/assets/{name:path}", graphiql.asset),
            Route("/graphql", graphiql, methods=["GET"]),  # the offline page, or on to graphql
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )


def app_factory() -> Starlette:
    """For `uvicorn server.app:app_factory --factory` (and each of `allot run`'s workers)."""
    settings = get_settings()
    configure(settings.log_level)
    app = create_app(settings)
    tune_gc()
    return app
