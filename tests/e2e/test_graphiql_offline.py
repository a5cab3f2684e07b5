"""GraphiQL without the CDN: after `make graphiql-offline` the page works offline.

The assets are fetched once per session with the make target's own code (npm pack), into a
temporary data dir. The browser is Debian's Chromium (`apt-get install chromium`), driven by
Playwright, which records every request the page makes and lets none leave the machine.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from server.auth import issue_token
from server.graphiql import assets, fetch
from services.core.principal import Role
from tests.support.server import TEST_SECRET, RunningServer, serve_in_process, test_settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HTML = {"accept": "text/html"}
# the headers tab's editor (the variables one is there too, hidden)
HEADERS_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"


@pytest.fixture(scope="session")
def fetched(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir into which `make graphiql-offline`'s code has fetched GraphiQL's files."""
    if shutil.which("npm") is None:
        pytest.skip("no npm: `make graphiql-offline` needs Node and npm to fetch GraphiQL")
    data_dir = tmp_path_factory.mktemp("allot-data")
    fetch(data_dir)
    return data_dir


@pytest.fixture
async def offline_server(dsn: str, fetched: Path) -> AsyncIterator[RunningServer]:
    async with serve_in_process(test_settings(dsn, data_dir=fetched)) as running:
        yield running


async def test_graphiql__without_fetched_assets_is_strawberrys_cdn_page(
    server: RunningServer,
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        page = await client.get("/graphql", headers=HTML)
        missing = await client.get(f"/graphiql/assets/{assets()[0].name}")
    assert page.status_code == 200 and "https://unpkg.com/" in page.text
    assert missing.status_code == 404


async def test_graphiql__with_fetched_assets_loads_nothing_from_the_cdn(
    offline_server: RunningServer,
) -> None:
    async with httpx.AsyncClient(base_url=offline_server.base_url) as client:
        page = await client.get("/graphql", headers=HTML)
        assert page.status_code == 200
        assert "unpkg.com" not in page.text and "/graphiql/assets/" in page.text
        for asset in assets():
            served = await client.get(f"/graphiql/assets/{asset.name}")
            assert served.status_code == 200, asset.name
        # only the files the page names, nothing else from the data dir
        for name in ("../jwt_secret", "graphiql@3.8.3/package.json", "x/../../jwt_secret"):
            assert (await client.get(f"/graphiql/assets/{name}")).status_code == 404
        # queries over GET and POST still reach GraphQL
        assert (await client.get("/graphql", params={"query": "{ __typename }"})).json() == {
            "data": {"__typename": "Query"}
        }


async def test_graphiql__offline_renders_and_runs_a_query_with_the_token_in_headers(
    offline_server: RunningServer, tenant
) -> None:
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"no {CHROMIUM}: install it with `apt-get install -y chromium`")
    from playwright.async_api import Route, async_playwright

    token = issue_token(TEST_SECRET, tenant=tenant, user="ada", roles=[Role.ADMIN])
    local = ("http://127.0.0.1:", "ws://127.0.0.1:", "data:")
    requests: list[str] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.on("websocket", lambda ws: requests.append(ws.url))

            async def only_local(route: Route) -> None:
                if route.request.url.startswith(local):
                    await route.continue_()
                else:
                    await route.abort()  # recorded above; the test fails on it

            await page.route("**/*", only_local)
            await page.goto(f"{offline_server.base_url}/graphql")
            query_editor = page.locator(".graphiql-query-editor .CodeMirror")
            await query_editor.wait_for(timeout=30_000)

            # As a user does: paste the header into the Headers tab, write the query, run it.
            await page.get_by_role("button", name="Headers").click()
            await page.locator(HEADERS_EDITOR).click()
            await page.keyboard.type(f'{{"Authorization": "Bearer {token}"}}')
            await query_editor.click()
            await page.keyboard.press("Control+A")
            await page.keyboard.type("{ viewer { userId } }")
            headers = await page.evaluate(
                f"document.querySelector('{HEADERS_EDITOR}').CodeMirror.getValue()"
            )
            assert headers == f'{{"Authorization": "Bearer {token}"}}'
            await page.locator(".graphiql-execute-button").click()
            response = page.locator(".graphiql-response")
            await response.get_by_text('"ada"').wait_for(timeout=30_000)
            assert '"userId": "ada"' in await response.inner_text()
        finally:
            await browser.close()
    assert requests, "the page made no request"
    leaving = [url for url in requests if not url.startswith(local)]
    assert not leaving, f"requests left the machine: {leaving}"
    assert any("/graphiql/assets/graphiql@" in url for url in requests)
