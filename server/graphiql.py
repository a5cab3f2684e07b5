"""GraphiQL without the public CDN: fetch its files once with npm, then serve them ourselves.

strawberry's GraphiQL page loads React, GraphiQL, its explorer plugin and their CSS from
unpkg.com; a browser that cannot reach it shows "Loading..." for ever. `make
graphiql-offline` (`python -m server.graphiql`) reads the page strawberry ships, fetches
exactly the files it names (same packages, versions and paths) with `npm pack`, checks each
against the page's own `integrity` hash, and keeps them under ALLOT_DATA_DIR/graphiql/.
While they are all there, GET /graphql serves the same page pointing at
/graphiql/assets/...; otherwise strawberry's CDN page, unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.http.ides import get_graphql_ide_html

CDN = "https://unpkg.com/"
ASSETS_ROUTE = "/graphiql/assets/"
# src="https://unpkg.com/<package>@<version>/<path>" integrity="sha384-..."
_TAG = re.compile(
    r'(?:src|href)="' + re.escape(CDN) + r'(?P<spec>(?:@[^/@"]+/)?[^/@"]+@[^/"]+)/(?P<path>[^"]+)"'
    r'\s+integrity="(?P<integrity>sha384-[^"]+)"'
)


@dataclass(frozen=True)
class Asset:
    """One file the GraphiQL page loads: `path` inside the npm package `spec` (name@version)."""

    spec: str
    path: str
    integrity: str

    @property
    def name(self) -> str:
        """Where it is kept under the assets folder, and served under ASSETS_ROUTE."""
        return f"{self.spec}/{self.path}"


def cdn_page() -> str:
    """strawberry's GraphiQL page, loading everything from the CDN."""
    return get_graphql_ide_html(graphql_ide="graphiql")


def assets(page: str | None = None) -> list[Asset]:
    """The files the page loads from the CDN, each with its integrity hash."""
    found = [Asset(m["spec"], m["path"], m["integrity"]) for m in _TAG.finditer(page or cdn_page())]
    if not found:
        raise RuntimeError(
            "strawberry's GraphiQL page names no CDN files: update server/graphiql.py"
        )
    return found


def assets_dir(data_dir: Path) -> Path:
    """Where `make graphiql-offline` keeps the files."""
    return Path(data_dir) / "graphiql"


def offline_page(page: str | None = None) -> str:
    """The GraphiQL page with every CDN file served by this server."""
    html = page or cdn_page()
    for asset in assets(html):
        html = html.replace(CDN + asset.name, ASSETS_ROUTE + asset.name)
    if CDN in html:
        raise RuntimeError("the GraphiQL page still loads from the CDN")
    return html


def _integrity(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def fetch(data_dir: Path, *, npm: str = "npm") -> list[Path]:
    """Fetch every file the page needs with `npm pack` into assets_dir(data_dir), each checked
    against the page's integrity hash; return the files written."""
    if shutil.which(npm) is None:
        raise RuntimeError(f"{npm} is not installed; GraphiQL keeps loading from {CDN}")
    wanted = assets()
    target = assets_dir(data_dir)
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        specs = sorted({a.spec for a in wanted})
        result = subprocess.run(
            [npm, "pack", *specs, "--json", "--pack-destination", tmp],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"npm pack {' '.join(specs)} failed:\n{result.stderr.strip()}")
        tarballs = {p["id"]: Path(tmp) / p["filename"] for p in json.loads(result.stdout)}
        for asset in wanted:
            with tarfile.open(tarballs[asset.spec]) as tar:
                member = tar.extractfile(f"package/{asset.path}")
                if member is None:
                    raise RuntimeError(f"{asset.spec} has no {asset.path}")
                data = member.read()
            if _integrity(data) != asset.integrity:
                raise RuntimeError(f"{asset.name} does not match the page's integrity hash")
            path = target / asset.name
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(path.name + ".partial")
            partial.write_bytes(data)
            partial.replace(path)
            written.append(path)
    return written


class OfflineGraphiQL:
    """The offline page on GET /graphql while every asset is there; anything else goes on to
    the GraphQL view (queries over GET, strawberry's CDN page)."""

    def __init__(self, graphql: ASGIApp, data_dir: Path) -> None:
        self.graphql = graphql
        self.folder = assets_dir(data_dir)
        self.assets = {a.name: a for a in assets()}
        self.page = offline_page()

    def available(self) -> bool:
        """True once `make graphiql-offline` has fetched every file (checked on each page load,
        so it takes effect without a restart)."""
        return all((self.folder / name).is_file() for name in self.assets)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        accept = request.headers.get("accept", "")
        if (
            request.method in ("GET", "HEAD")
            and "query" not in request.query_params
            and ("text/html" in accept or "*/*" in accept)
            and self.available()
        ):
            await HTMLResponse(self.page)(scope, receive, send)
            return
        await self.graphql(scope, receive, send)

    async def asset(self, request: Request) -> Response:
        """GET /graphiql/assets/<package>@<version>/<path>: only the files the page names."""
        name = request.path_params["name"]
        if name not in self.assets or not (self.folder / name).is_file():
            return PlainTextResponse("not found", status_code=404)
        media = "text/css" if name.endswith(".css") else "text/javascript"
        return FileResponse(
            self.folder / name,
            media_type=media,
            headers={"cache-control": "public, max-age=31536000, immutable"},  # versioned
        )


def main() -> int:
    """`python -m server.graphiql` (`make graphiql-offline`): fetch into ALLOT_DATA_DIR."""
    from server.settings import get_settings

    data_dir = get_settings().data_dir
    try:
        written = fetch(data_dir)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"fetched {path}")
    print(
        f"GraphiQL now loads from this server (assets in {assets_dir(data_dir).resolve()}); "
        "no restart needed."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
