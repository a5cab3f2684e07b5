"""Live pages: a staff floor, a game's big screen, a work queue board, and an index.

Plain HTML, CSS and ES modules from `static/`, no build step; the four pages are one
template, `page.html`, with their title and module. The pages use only the public API:
queries and mutations over `POST /graphql` with the bearer token, subscriptions over
graphql-transport-ws on `/graphql`. The token never reaches these routes: the page reads it
from the URL fragment or asks for it, and keeps it in sessionStorage.

Mounted at `/live` by server.app: `/live/`, `/live/floor/{restaurantId}`,
`/live/game/{gameId}`, `/live/tasks/{projectId}` and `/live/static/{file}` (only the files
shipped in `static/`; every other path is 404).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

STATIC = Path(__file__).resolve().parent / "static"
# Every page is the same document: a header with the connection state, and its module.
PAGE = Path(__file__).resolve().parent / "page.html"
PAGES = {"index": "Allot live pages", "floor": "Floor", "game": "Game", "tasks": "Work queue"}

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}

# Self only: no inline script or style, no other origin (the websocket is same-origin too).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str
    etag: str


def _asset(body: bytes, content_type: str) -> Asset:
    return Asset(body, content_type, '"' + hashlib.sha256(body).hexdigest()[:16] + '"')


def _load() -> dict[str, Asset]:
    """Every file shipped in static/, and each page (`<name>.html`) from the one template
    (read once: the package's files do not change)."""
    out: dict[str, Asset] = {}
    for path in sorted(STATIC.iterdir()):
        kind = CONTENT_TYPES.get(path.suffix)
        if path.is_file() and kind:
            out[path.name] = _asset(path.read_bytes(), kind)
    template = PAGE.read_text(encoding="utf-8")
    for name, title in PAGES.items():
        page = template.replace("{page}", name).replace("{title}", title)
        out[f"{name}.html"] = _asset(page.encode(), CONTENT_TYPES[".html"])
    return out


def _headers(asset: Asset) -> dict[str, str]:
    return {
        "content-security-policy": CSP,
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "cross-origin-opener-policy": "same-origin",
        # Always revalidated: a new version of a page is never mixed with old modules.
        "cache-control": "no-cache",
        "etag": asset.etag,
    }


def routes() -> list[BaseRoute]:
    """The routes to mount at /live."""
    assets = _load()

    def send(request: Request, name: str) -> Response:
        asset = assets.get(name)
        if asset is None:
            return PlainTextResponse("Not Found", status_code=404)
        headers = _headers(asset)
        if request.headers.get("if-none-match") == asset.etag:
            return Response(status_code=304, headers=headers)
        return Response(asset.body, headers=headers, media_type=asset.content_type)

    def page(name: str) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return send(request, name)

        return endpoint

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name.endswith(".html"):  # pages are served at their own paths only
            return PlainTextResponse("Not Found", status_code=404)
        return send(request, name)

    return [
        Route("/", page("index.html")),
        Route("/floor/{restaurant_id}", page("floor.html")),
        Route("/game/{game_id}", page("game.html")),
        Route("/tasks/{project_id}", page("tasks.html")),
        Route("/static/{name}", static),
    ]
