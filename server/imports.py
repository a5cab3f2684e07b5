"""POST /loyalty/metrics?source=<name>: a metrics CSV as the request body, streamed.

The same import as the importMetrics mutation (services.loyalty.flows.import_metrics), for
files too large for a GraphQL request: the body is read as it arrives, a line at a time,
through COPY into a staging table, so the server's memory stays flat whatever the file's
size (BodyLimit lets this path through; ALLOT_MAX_IMPORT_BYTES bounds it instead). The
answer is the import's report as JSON (rowsRead, rowsImported, rowsSkipped, errors), or a
GraphQL-shaped error body (401 without a valid admin token, 400 without a source).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.auth import InvalidToken, bearer, verify_token
from server.limits import error_response
from server.state import AppState
from services.errors import AllotError, InvalidInput
from services.loyalty.flows import import_metrics
from services.loyalty.inputs import lines_of_stream

PATH: Final = "/loyalty/metrics"


class TooLarge(Exception):
    """The upload passed ALLOT_MAX_IMPORT_BYTES."""


async def _limited(request: Request, max_bytes: int) -> AsyncIterator[bytes]:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge
        yield chunk


def metrics_import(state: Callable[[], AppState]) -> Callable[[Request], object]:
    """The route's handler, for the running app's state."""

    async def handle(request: Request) -> Response:
        current = state()
        token = bearer(request.headers.get("authorization"))
        if token is None:
            return error_response(401, "send 'Authorization: Bearer <token>'", "UNAUTHENTICATED")
        try:
            who = verify_token(current.jwt_secret, token, algorithm=current.settings.jwt_algorithm)
        except InvalidToken as exc:
            return error_response(401, f"authentication failed: {exc}", "UNAUTHENTICATED")
        source = request.query_params.get("source", "")
        max_bytes = current.settings.max_import_bytes
        try:
            report = await import_metrics(
                current.pool, who, lines_of_stream(_limited(request, max_bytes)), source
            )
        except TooLarge:
            return error_response(413, f"the file is over {max_bytes} bytes")
        except InvalidInput as exc:
            return error_response(400, exc.message, exc.code)
        except AllotError as exc:
            status = 403 if exc.code == "FORBIDDEN" else 400
            return error_response(status, exc.message, exc.code)
        return JSONResponse(
            {
                "rowsRead": report.rows_read,
                "rowsImported": report.rows_imported,
                "rowsSkipped": report.rows_skipped,
                "errors": [{"field": e.field, "message": e.message} for e in report.errors],
            }
        )

    return handle
