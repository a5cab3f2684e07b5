"""A lean GraphQL-over-HTTP client for the benches: one keep-alive HTTP/1.1 connection.

httpx spends about 1.4 ms of client CPU per request on this machine, more than the server
spends on a small GraphQL operation; a bench with 50 such clients measures mostly httpx. This
client writes the request bytes itself and reads one Content-Length response (which is what
the server sends), so the figures are the server's.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit


class GraphQLClient:
    """POST /graphql with a bearer token over one persistent connection (one request at a time)."""

    def __init__(self, base_url: str, token: str) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.token = token
        self._head = (
            f"POST /graphql HTTP/1.1\r\nhost: {self.host}:{self.port}\r\n"
            f"content-type: application/json\r\nauthorization: Bearer {token}\r\n"
        ).encode()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def call(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """The operation's `data`; GraphQL errors raise."""
        body = json.dumps({"query": query, "variables": variables}).encode()
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None
        self._writer.write(self._head + b"content-length: %d\r\n\r\n" % len(body) + body)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = head.split(b" ", 2)[1]
        length = None
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            raise RuntimeError(f"response without Content-Length: {head[:200]!r}")
        answer = json.loads(await self._reader.readexactly(length))
        if status != b"200" or answer.get("errors"):
            raise RuntimeError(f"HTTP {status.decode()}: {answer}")
        data: dict[str, Any] = answer["data"]
        return data

    async def close(self) -> None:
        """Close the connection."""
        if self._writer is not None:
            self._writer.close()
            await self._writer.wait_closed()
            self._writer = None
