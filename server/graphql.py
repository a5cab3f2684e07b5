"""The GraphQL endpoint: HTTP and websockets (graphql-transport-ws and legacy graphql-ws)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import strawberry
from prometheus_client import Gauge
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)

from schema.context import Context
from schema.fanout import PersonalData, Sink, current_sink
from server.auth import InvalidToken, bearer, verify_token
from server.settings import Settings
from server.state import AppState
from services.core.principal import Principal

log = logging.getLogger(__name__)

OPEN_WEBSOCKETS = Gauge("allot_open_websockets", "Open GraphQL websocket connections")

# graphql-transport-ws's close code for "Forbidden"
TOKEN_EXPIRED_CLOSE = 4403


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, where each subscription can send shared deltas as ready frames."""

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        # Runs in the operation's own task: the sink is seen by this subscription only.
        adapter = self.websocket
        assert isinstance(adapter, ASGIWebSocketAdapter)
        socket = adapter.ws

        async def send(text: str) -> None:
            if operation.completed:  # the client ended the subscription
                return
            try:
                await socket.send_text(text)
            except WebSocketDisconnect as exc:
                raise WebSocketDisconnected from exc

        current_sink.set(Sink(operation.id, send))
        await super().run_operation(operation)


class AllotGraphQL(GraphQL[Context, None]):
    """strawberry's ASGI view with Allot's context, token checks and websocket limits."""

    graphql_transport_ws_handler_class = TransportWSHandler

    def __init__(
        self, schema: strawberry.Schema, settings: Settings, state: Callable[[], AppState]
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql",
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
            connection_init_wait_timeout=timedelta(
                seconds=settings.ws_connection_init_timeout_seconds
            ),
            max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
        )
        self._state = state
        self._verified: dict[str, Principal] = {}

    @property
    def state(self) -> AppState:
        """The running app's state (set once start-up has finished)."""
        return self._state()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await super().__call__(scope, receive, send)
            return
        OPEN_WEBSOCKETS.inc()
        try:
            await super().__call__(scope, receive, send)
        finally:
            OPEN_WEBSOCKETS.dec()
            timer = scope.get("allot.expiry_timer")
            if timer is not None:
                timer.cancel()

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None = None
    ) -> Context:
        context = Context(
            request=request,
            response=response if isinstance(response, Response) else None,
            pool=self.state.pool,
            hub=self.state.hub,
            areas=self.state.areas,
        )
        if isinstance(request, Request):
            token = bearer(request.headers.get("authorization"))
            if token is not None:
                try:
                    context.principal = self._verify(token)
                except InvalidToken as exc:
                    context.auth_problem = f"authentication failed: {exc}"
        return context

    def encode_json(self, data: object) -> str:
        """JSON for HTTP and websocket messages; a shared subscription event is serialized once."""
        if isinstance(data, dict) and data.get("type") == "next":
            payload = data.get("payload")
            if isinstance(payload, dict) and len(payload) == 1:
                result = payload.get("data")
                if isinstance(result, PersonalData):
                    return (
                        f'{{"id":{json.dumps(data["id"])},"type":"next",'
                        f'"payload":{{"data":{result.to_json()}}}}}'
                    )
        return json.dumps(data, separators=(",", ":"))

    def _verify(self, token: str) -> Principal:
        """Verify a token; a token seen recently is not verified again until it expires."""
        known = self._verified.get(token)
        if known is not None and not known.expired():
            return known
        principal = verify_token(
            self.state.jwt_secret, token, algorithm=self.state.settings.jwt_algorithm
        )
        if len(self._verified) >= 4096:
            self._verified.clear()
        self._verified[token] = principal
        return principal

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:
        """Accept the socket only with a valid token in the connection_init payload."""
        params = context.connection_params or {}
        raw = params.get("authorization") or params.get("Authorization")
        token = bearer(raw) if isinstance(raw, str) else None
        if token is None:
            raise ConnectionRejectionError(
                {"message": 'send {"authorization": "Bearer <token>"} in connection_init'}
            )
        try:
            principal = self._verify(token)
        except InvalidToken as exc:
            raise ConnectionRejectionError({"message": str(exc)}) from exc
        context.principal = principal
        if principal.expires_at is not None and isinstance(context.request, WebSocket):
            delay = (principal.expires_at - datetime.now(UTC)).total_seconds()
            websocket = context.request
            loop = asyncio.get_running_loop()
            timer = loop.call_later(
                max(delay, 0), lambda: asyncio.ensure_future(_close_expired(websocket))
            )
            websocket.scope["allot.expiry_timer"] = timer
        return None


async def _close_expired(websocket: WebSocket) -> None:
    with contextlib.suppress(Exception):
        await websocket.close(code=TOKEN_EXPIRED_CLOSE, reason="token expired")
