"""The page a shared poem's link opens (`/poems/shared/{token}`): the poem's lines and the names
they were written under, readable without a token, as sharedPoem answers it. A token that names
nothing, or a revoked one, gets 404."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from server.state import AppState
from services.poems.reads import shared_poem

PATH = "/poems/shared/{token}"

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<style>
body {{ font-family: Georgia, serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem;
       color: #222; background: #fdfbf7; }}
ol {{ list-style: none; padding: 0; font-size: 1.4rem; line-height: 1.6; text-align: center; }}
li small {{ display: block; font-size: 0.75rem; color: #777; font-family: sans-serif; }}
</style></head>
<body><main><h1>{title}</h1><ol>{lines}</ol></main></body></html>
"""


def shared_poem_page(current: Callable[[], AppState]) -> Callable[[Request], Awaitable[Response]]:
    """The route's endpoint, reading through the running app's pool."""

    async def page(request: Request) -> Response:
        poem = await shared_poem(current().pool, request.path_params["token"])
        if poem is None:
            body = _PAGE.format(title="No such poem", lines="<li>This link is not shared.</li>")
            return HTMLResponse(body, status_code=404)
        lines = "".join(
            f"<li>{html.escape(line.text)}<small>{html.escape(line.author_name)}</small></li>"
            for line in poem.lines
        )
        return HTMLResponse(
            _PAGE.format(title="A shared poem", lines=lines),
            headers={"cache-control": "no-store", "referrer-policy": "no-referrer"},
        )

    return page
