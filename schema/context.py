"""What every resolver gets in `info.context`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from services.config import AreaConfigs
from services.core.principal import Principal
from services.errors import NotAuthenticated
from services.realtime.hub import Hub


@dataclass
class Context:
    """Per request (HTTP) or per connection (websocket)."""

    request: Request | WebSocket
    response: Response | None
    pool: asyncpg.Pool
    hub: Hub
    areas: AreaConfigs
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
