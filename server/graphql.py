"""The GraphQL endpoint: HTTP and websockets (graphql-transport-ws and legacy graphql-ws)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from contextlib import aclosing
from datetime import UTC, datetime, timedelta

import jwt
import strawberry
from cross_web import HTTPException
from prometheus_client import Gauge
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import (
    CompleteMessage,
    ErrorMessage,
)
from strawberry.subscriptions.protocols.graphql_ws.types import (
    ConnectionInitMessage as LegacyConnectionInitMessage,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.types.unset import UnsetType

from schema.context import Context
from schema.extensions import OPERATION_RESOLUTION_FAILURE
from schema.fanout import PersonalData, Sink, current_sink
from server.auth import InvalidToken, bearer, verify_token
from server.limits import error_response
from server.memory import Reclaimer
from server.settings import Settings
from server.state import AppState
from services.core.principal import Principal

log = logging.getLogger(__name__)

OPEN_WEBSOCKETS = Gauge("allot_open_websockets", "Open GraphQL websocket connections")

# graphql-transport-ws's close code for "Forbidden"
TOKEN_EXPIRED_CLOSE = 4403
# graphql-transport-ws's close code for a socket that sent no connection_init in time
INIT_TIMEOUT_CLOSE = 4408


def _refusal(error: ConnectionRejectionError) -> str:
    """Why a socket was refused, in a few words (never the token): 'no token', ..."""
    payload = error.payload
    reason = payload.get("reason") if isinstance(payload, dict) else None
    return reason if isinstance(reason, str) else "invalid token"


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, where each subscription can send shared deltas as ready frames."""

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        """As strawberry's, but a refused socket's close reason says why ('Forbidden: ...')."""
        if self.connection_timed_out:
            return
        if self.connection_init_timeout_task:
            # Cancelled, and let go of: an idle socket need not keep the finished task.
            self.connection_init_timeout_task.cancel()
            self.connection_init_timeout_task = None
        payload = message.get("payload", {})
        if not isinstance(payload, dict):
            await self.websocket.close(code=4400, reason="Invalid connection init payload")
            return
        if self.connection_init_received:
            await self.websocket.close(code=4429, reason="Too many initialisation requests")
            return
        self.connection_init_received = True
        self.context.connection_params = payload
        try:
            ack = await self.view.on_ws_connect(self.context)
        except ConnectionRejectionError as exc:
            await self.websocket.close(code=4403, reason=f"Forbidden: {_refusal(exc)}")
            return
        if isinstance(ack, UnsetType) or ack is None:
            await self.send_message({"type": "connection_ack"})
        else:
            await self.send_message({"type": "connection_ack", "payload": ack})
        self.connection_acknowledged = True

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

        # The task's context holds the sink, whose `send` holds the operation, which holds the
        # task: reset it when the operation ends, or every ended subscription is a reference
        # cycle (with its executor) that only a full garbage collection frees.
        token = current_sink.set(Sink(operation.id, send))
        reclaimer = _reclaimer(self.view)
        reclaimer.opened()
        try:
            await super().run_operation(operation)
        finally:
            current_sink.reset(token)
            reclaimer.closed()


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    """Legacy graphql-ws (Apollo's subscriptions-transport-ws), which the Python gql client
    picks first: as on graphql-transport-ws, a socket must send connection_init in time, and
    queries and mutations are answered too (one data message, then complete)."""

    async def handle(self) -> None:
        timeout = self.view.connection_init_wait_timeout.total_seconds()
        timer = asyncio.create_task(self._close_without_init(timeout))
        try:
            await super().handle()
        finally:
            timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timer

    async def _close_without_init(self, timeout: float) -> None:
        await asyncio.sleep(timeout)
        if not self.connection_acknowledged:
            with contextlib.suppress(Exception):
                await self.websocket.close(
                    code=INIT_TIMEOUT_CLOSE, reason="Connection initialisation timeout"
                )

    async def handle_connection_init(self, message: LegacyConnectionInitMessage) -> None:
        """As strawberry's; a refused socket gets a connection_error with a message, and is
        closed with 4403 and the reason, as on graphql-transport-ws."""
        payload = message.get("payload")
        if payload is not None and not isinstance(payload, dict):
            await self.send_message(
                {"type": "connection_error", "payload": {"message": "invalid payload"}}
            )
            await self.websocket.close(code=4400, reason="Invalid connection init payload")
            return
        self.context.connection_params = payload
        try:
            await self.view.on_ws_connect(self.context)
        except ConnectionRejectionError as exc:
            said = {k: v for k, v in exc.payload.items() if k != "reason"}
            await self.send_message({"type": "connection_error", "payload": said})
            await self.websocket.close(code=4403, reason=f"Forbidden: {_refusal(exc)}")
            return
        await self.send_message({"type": "connection_ack"})
        self.connection_acknowledged = True
        if self.keep_alive:
            self.keep_alive_task = asyncio.create_task(self.handle_keep_alive())

    async def handle_async_results(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        """Run any operation (strawberry's runs subscriptions only) and send its results."""
        reclaimer = _reclaimer(self.view)
        reclaimer.opened()
        try:
            source = await self.schema.stream(
                query,
                variable_values=variables,
                context_value=self.context,
                root_value=self.root_value,
                operation_name=operation_name,
            )
            async with aclosing(source):
                first = True
                async for result in source:
                    if first and isinstance(result, PreExecutionError) and result.errors:
                        await self.send_message(
                            ErrorMessage(
                                type="error", id=operation_id, payload=result.errors[0].formatted
                            )
                        )
                        return
                    if isinstance(result, ExecutionResult):
                        await self.send_data_message(result, operation_id)
                    first = False
            await self.send_message(CompleteMessage(type="complete", id=operation_id))
        except asyncio.CancelledError:
            await self.send_message(CompleteMessage(type="complete", id=operation_id))
        finally:
            self.subscriptions.pop(operation_id, None)
            self.tasks.pop(operation_id, None)
            reclaimer.closed()


class AllotGraphQL(GraphQL[Context, None]):
    """strawberry's ASGI view with Allot's context, token checks and websocket limits."""

    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

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
        # What closed sockets and subscriptions leave in reference cycles, collected in batches.
        self.reclaimer = Reclaimer()

    @property
    def state(self) -> AppState:
        """The running app's state (set once start-up has finished)."""
        return self._state()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            # strawberry answers a refused request in plain text; clients expect GraphQL JSON.
            try:
                response = await self.run(Request(scope, receive))
            except HTTPException as exc:
                # A mutation over GET is a method the operation does not allow: 405, not 400.
                wrong_method = isinstance(exc.__cause__, InvalidOperationTypeError)
                unknown = isinstance(exc.__cause__, CannotGetOperationTypeError)
                response = error_response(
                    405 if wrong_method else exc.status_code,
                    exc.reason,
                    code=OPERATION_RESOLUTION_FAILURE if unknown else None,
                )
                log.info("request refused: %s", exc.reason)
            await response(scope, receive, send)
            return
        if scope["type"] != "websocket":
            await super().__call__(scope, receive, send)
            return
        OPEN_WEBSOCKETS.inc()
        self.reclaimer.opened()
        try:
            await super().__call__(scope, receive, send)
        finally:
            OPEN_WEBSOCKETS.dec()
            self.reclaimer.closed()
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

    def parse_json(self, data: str | bytes) -> object:
        """A request body's JSON: an object (or a batch list); anything else is a 400."""
        try:
            parsed = self.decode_json(data)
        except ValueError as exc:  # not JSON, or not UTF-8
            raise HTTPException(400, "Unable to parse request body as JSON") from exc
        if not isinstance(parsed, dict | list):
            raise HTTPException(400, "the request body must be a JSON object")
        return parsed

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
                {
                    "message": 'send {"authorization": "Bearer <token>"} in connection_init',
                    "reason": "no token",
                }
            )
        try:
            principal = self._verify(token)
        except InvalidToken as exc:
            expired = isinstance(exc.__cause__, jwt.ExpiredSignatureError)
            reason = "token expired" if expired else "invalid token"
            raise ConnectionRejectionError({"message": str(exc), "reason": reason}) from exc
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


def _reclaimer(view: object) -> Reclaimer:
    assert isinstance(view, AllotGraphQL)
    return view.reclaimer


async def _close_expired(websocket: WebSocket) -> None:
    with contextlib.suppress(Exception):
        await websocket.close(code=TOKEN_EXPIRED_CLOSE, reason="token expired")
