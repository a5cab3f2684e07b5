"""The hub's dedicated LISTEN connection: never pooled, reconnects with backoff.

It detects a lost connection two ways: asyncpg's termination listener (the
server closed the socket) and a periodic keepalive query (a silent network
failure). After every reconnect it calls `on_reconnect`, because notifications
sent while it was away are lost and listeners must resync.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import asyncpg

from db.pool import APP_ROLE

log = logging.getLogger(__name__)

CHANNEL = "allot_events"


class Listener:
    """Keeps one connection LISTENing on CHANNEL for as long as it runs."""

    def __init__(
        self,
        dsn: str,
        on_payload: Callable[[str], None],
        on_reconnect: Callable[[], None],
        *,
        keepalive_seconds: float = 5.0,
        max_backoff_seconds: float = 10.0,
    ) -> None:
        self._dsn = dsn
        self._on_payload = on_payload
        self._on_reconnect = on_reconnect
        self._keepalive = keepalive_seconds
        self._max_backoff = max_backoff_seconds
        self._conn: asyncpg.Connection | None = None
        self._lost = asyncio.Event()
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def listening(self) -> bool:
        """True while the LISTEN connection is up."""
        return self._conn is not None and not self._conn.is_closed() and not self._lost.is_set()

    @property
    def backend_pid(self) -> int | None:
        """The server process id of the LISTEN connection (for operators and tests)."""
        return self._conn.get_server_pid() if self.listening and self._conn else None

    async def start(self, timeout: float = 30.0) -> None:
        """Start listening; wait until the first connection is up."""
        self._task = asyncio.create_task(self._run(), name="allot-listener")
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def stop(self) -> None:
        """Stop listening and close the connection."""
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._close()

    async def _connect(self) -> None:
        conn = await asyncpg.connect(
            self._dsn, server_settings={"role": APP_ROLE, "application_name": "allot-listen"}
        )
        self._lost.clear()
        conn.add_termination_listener(self._terminated)
        await conn.add_listener(CHANNEL, self._notified)
        self._conn = conn

    def _terminated(self, _conn: Any) -> None:
        self._lost.set()

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: object) -> None:
        self._on_payload(str(payload))

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 2)
            if not conn.is_closed():
                conn.terminate()

    async def _run(self) -> None:
        backoff = 0.05
        first = True
        while True:
            try:
                await self._connect()
            except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
                log.warning("LISTEN connection failed (%s); retrying in %.2fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            backoff = 0.05
            if first:
                first = False
                self._ready.set()
            else:
                log.warning("LISTEN connection restored; subscribers will resync")
                self._on_reconnect()
            await self._watch()
            await self._close()

    async def _watch(self) -> None:
        """Return when the connection is lost."""
        while not self._lost.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._lost.wait(), self._keepalive)
                break
            try:
                assert self._conn is not None
                await asyncio.wait_for(self._conn.execute("select 1"), self._keepalive)
            except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                log.warning("LISTEN keepalive failed")
                self._lost.set()
        log.warning("LISTEN connection lost")
