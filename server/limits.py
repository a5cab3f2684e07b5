"""Request size limits at the edge, and the JSON GraphQL error body for requests refused there."""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BAD_REQUEST = "BAD_REQUEST"
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
NOT_FOUND = "NOT_FOUND"

# close code for a websocket message over the limit (RFC 6455 "message too big")
MESSAGE_TOO_BIG_CLOSE = 1009

_CODES = {400: BAD_REQUEST, 404: NOT_FOUND, 405: METHOD_NOT_ALLOWED, 413: PAYLOAD_TOO_LARGE}


def error_response(status: int, message: str, code: str | None = None) -> JSONResponse:
    """A GraphQL-shaped error body, `{"errors": [{"message", "extensions": {"code"}}]}`."""
    code = code or _CODES.get(status, BAD_REQUEST)
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status
    )


class BodyLimit:
    """Refuse an HTTP body over `max_bytes` with 413 (before reading it when Content-Length
    says so, else as soon as the stream passes it), and close a websocket whose message is
    over it with 1009. The `streamed` paths read their own bodies as they arrive (an upload),
    with their own bound."""

    def __init__(self, app: ASGIApp, max_bytes: int, streamed: tuple[str, ...] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.streamed = frozenset(streamed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in self.streamed:
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await _LimitedSocket(self.app, self.max_bytes, receive, send).run(scope)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        too_large = error_response(413, f"the request body is over {self.max_bytes} bytes")
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await too_large(scope, receive, send)
            return
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        # Read the body (at most max_bytes of it) here, then hand it on whole.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class _LimitedSocket:
    """One websocket whose incoming messages may be at most max_bytes."""

    def __init__(self, app: ASGIApp, max_bytes: int, receive: Receive, send: Send) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self._receive = receive
        self._send = send
        self.closed = False

    async def run(self, scope: Scope) -> None:
        await self.app(scope, self.receive, self.send)

    def _too_big(self, message: Message) -> bool:
        data = message.get("bytes")
        if data is not None:
            return len(data) > self.max_bytes
        text: str | None = message.get("text")
        if text is None or len(text) * 4 <= self.max_bytes:  # UTF-8: at most 4 bytes a char
            return False
        return len(text) > self.max_bytes or len(text.encode()) > self.max_bytes

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "websocket.receive" and self._too_big(message):
            await self._send(
                {
                    "type": "websocket.close",
                    "code": MESSAGE_TOO_BIG_CLOSE,
                    "reason": "message too big",
                }
            )
            self.closed = True
            return {"type": "websocket.disconnect", "code": MESSAGE_TOO_BIG_CLOSE}
        return message

    async def send(self, message: Message) -> None:
        if not self.closed:  # after our close, the app's late messages have nowhere to go
            await self._send(message)
