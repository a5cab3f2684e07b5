"""A real Allot server (uvicorn) on a free port, in this process or in a child process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from starlette.applications import Starlette

from server.app import create_app
from server.graphql import AllotGraphQL
from server.settings import Settings
from server.state import AppState
from tests.support import probe_schema

TEST_SECRET = "test-secret-" + "x" * 40
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_settings(dsn: str, **overrides: object) -> Settings:
    """Settings for a test server on database `dsn`."""
    values: dict[str, object] = {
        "database_url": dsn,
        "jwt_secret": TEST_SECRET,
        "migrate_on_start": False,
        "seed_demo": False,
        "hub_keepalive_seconds": 1.0,
        "hub_reconnect_max_seconds": 0.5,
    }
    values.update(overrides)
    return Settings.model_validate(values)


test_settings.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


@dataclass
class RunningServer:
    base_url: str
    ws_url: str
    app: Starlette | None = None
    graphql: AllotGraphQL | None = None
    pid: int | None = None  # the server process (serve_subprocess), e.g. for its CPU and memory


@asynccontextmanager
async def serve_in_process(settings: Settings) -> AsyncIterator[RunningServer]:
    """Start the app with the probe area under uvicorn in this event loop."""
    port = free_port()
    app = create_app(settings, extra_schema=[probe_schema])
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        ws_ping_interval=None,
        ws_per_message_deflate=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield RunningServer(
            f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/graphql", app, _graphql_view(app)
        )
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 15)


def running_state(server: RunningServer) -> AppState:
    """The in-process server's live state (pool, hub)."""
    assert server.graphql is not None
    return server.graphql.state


def _graphql_view(app: Starlette) -> AllotGraphQL:
    for route in app.routes:
        endpoint = getattr(route, "app", None)
        if isinstance(endpoint, AllotGraphQL):
            return endpoint
    raise LookupError("no GraphQL route")


@contextlib.contextmanager
def serve_subprocess(
    dsn: str, workers: int = 1, app: str = "tests.support.probe_app:app_factory"
) -> Iterator[RunningServer]:
    """Start the app with the probe area as a separate uvicorn process (or `workers` of them
    on one port, as ALLOT_WORKERS runs it). `app`: another app factory with a /readyz."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "ALLOT_JWT_SECRET": TEST_SECRET,
        "ALLOT_MIGRATE_ON_START": "false",
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--ws-per-message-deflate",
            "false",
            "--log-level",
            "warning",
            "--workers",
            str(workers),
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("server process did not become ready")
            time.sleep(0.1)
        yield RunningServer(
            f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/graphql", pid=proc.pid
        )
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
