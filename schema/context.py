"""What every resolver gets in `info.context`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from server.settings import Settings
from services.core.principal import Principal
from services.realtime.hub import Hub


class PublicError(Exception):
    """An error whose message is safe to show to the client as is.

    Its `code` (NOT_FOUND, FORBIDDEN, ...: the codes of the Error types) reaches the client as
    the GraphQL error's `extensions.code`, so a client can branch on it without reading the
    message.
    """

    code = "ERROR"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def extensions(self) -> dict[str, Any]:
        """What graphql-core copies into the error it reports."""
        return {"code": self.code}


class NotAuthenticated(PublicError):
    """No valid bearer token came with the request."""

    code = "UNAUTHENTICATED"


@dataclass
class Context:
    """Per request (HTTP) or per connection (websocket)."""

    request: Request | WebSocket
    response: Response | None
    pool: asyncpg.Pool
    hub: Hub
    settings: Settings
    principal: Principal | None = None
    auth_problem: str | None = None
    connection_params: dict[str, Any] | None = None

    def who(self) -> Principal:
        """The caller, or a clear error if the request carries no valid token."""
        if self.principal is None:
            raise NotAuthenticated(
                self.auth_problem or "authentication required: send 'Authorization: Bearer <token>'"
            )
        return self.principal


Info = strawberry.Info[Context, None]
