"""Logging: a websocket opened or closed is a DEBUG line; refusals stay at INFO."""

from __future__ import annotations

import logging
import uuid

import pytest

from server.logs import quiet_websocket_connections


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logger() -> logging.Logger:
    log = logging.getLogger(f"test.uvicorn.{uuid.uuid4().hex}")
    log.propagate = False
    quiet_websocket_connections(log.name)
    quiet_websocket_connections(log.name)  # installed once, however often configured
    return log


def _lines(log: logging.Logger, level: int) -> list[tuple[str, str]]:
    log.setLevel(level)
    handler = _Records()
    log.addHandler(handler)
    log.info("connection open")
    log.info('%s - "WebSocket %s" [accepted]', "127.0.0.1:5000", "/graphql")
    log.info('%s - "WebSocket %s" 403', "127.0.0.1:5001", "/graphql")
    log.info("connection closed")
    log.info("Application startup complete.")
    log.warning("connection closed")  # only INFO records are demoted
    log.removeHandler(handler)
    return [(r.levelname, r.getMessage()) for r in handler.records]


def test_at_info__connection_lines_are_left_out(logger: logging.Logger) -> None:
    assert len(logger.filters) == 1
    assert _lines(logger, logging.INFO) == [
        ("INFO", '127.0.0.1:5001 - "WebSocket /graphql" 403'),
        ("INFO", "Application startup complete."),
        ("WARNING", "connection closed"),
    ]


def test_at_debug__connection_lines_are_debug_records(logger: logging.Logger) -> None:
    assert _lines(logger, logging.DEBUG) == [
        ("DEBUG", "connection open"),
        ("DEBUG", '127.0.0.1:5000 - "WebSocket /graphql" [accepted]'),
        ("INFO", '127.0.0.1:5001 - "WebSocket /graphql" 403'),
        ("DEBUG", "connection closed"),
        ("INFO", "Application startup complete."),
        ("WARNING", "connection closed"),
    ]


def test_by_default__on_uvicorn_error() -> None:
    from server.logs import WebsocketConnectionsAtDebug

    quiet_websocket_connections()
    uvicorn = logging.getLogger("uvicorn.error")
    assert sum(isinstance(f, WebsocketConnectionsAtDebug) for f in uvicorn.filters) == 1
