"""The live pages (server/live) in a real browser: Debian's Chromium driven by Playwright.

Each test starts the real server on the test database, builds its data through the API, opens
the pages with a token in the URL fragment, and checks what a person sees while other clients
change things over the API. Screenshots go to the test's tmp_path (their paths are printed).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import uvicorn

from server.app import create_app
from server.settings import Settings
from tests.support.gql import GraphQLHttp
from tests.support.server import RunningServer, free_port, serve_in_process, test_settings

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
needs_chromium = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None,
    reason=f"no {CHROMIUM}: install it with `apt-get install -y chromium` to test the live pages",
)
Token = Callable[..., str]


class Restartable:
    """The real app under uvicorn on a fixed port, which can be stopped and started again
    (the browser's websocket sees the server go away and come back on the same address)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.server: uvicorn.Server | None = None
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        config = uvicorn.Config(
            create_app(self.settings),
            host="127.0.0.1",
            port=self.port,
            log_config=None,
            access_log=False,
            lifespan="on",
            ws_ping_interval=None,
            ws_per_message_deflate=False,
        )
        self.server = uvicorn.Server(config)
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self.task.done():
                self.task.result()
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self.server is None or self.task is None:
            return
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self.task, 15)
        self.server = self.task = None


@contextlib.asynccontextmanager
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


async def new_page(chromium: Any, errors: list[str], width: int = 1280, height: int = 800) -> Any:
    """A page in its own context (its own sessionStorage); console errors are collected."""
    context = await chromium.new_context(viewport={"width": width, "height": height})
    page = await context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page


async def shot(page: Any, path: Path, what: str) -> None:
    await page.wait_for_timeout(700)  # let bars that just arrived finish fading in
    await page.screenshot(path=str(path), full_page=True)
    print(f"screenshot ({what}): {path}")


async def ok(client: GraphQLHttp, query: str, **variables: Any) -> dict[str, Any]:
    """The one root field's value of a mutation that must succeed."""
    data = await client.data(query, variables)
    (value,) = data.values()
    assert "code" not in value, value
    result: dict[str, Any] = value
    return result


def iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


RESTAURANT = """mutation($n: String!) {
  createRestaurant(input: {name: $n, timezone: "Europe/London"}) {
  __typename ... on Restaurant { id } ... on Error { code message } } }"""
TABLE = """mutation($r: ID!, $l: String!, $z: String!) { createDiningTable(input: {restaurantId: $r,
  label: $l, zone: $z, minCapacity: 2, maxCapacity: 4}) {
  __typename ... on DiningTable { id } ... on Error { code message } } }"""
BOOKING = """mutation($r: ID!, $g: String!, $p: Int!, $s: DateTime!, $e: DateTime!) {
  createBooking(input: {restaurantId: $r, guestName: $g, partySize: $p, startsAt: $s, endsAt: $e}) {
  __typename ... on Booking { id } ... on Error { code message } } }"""
AUTO = """mutation($b: ID!) { autoAssign(input: {bookingId: $b}) {
  __typename ... on AutoAssignPayload { tables { id label } } ... on Error { code message } } }"""
PROPOSE = """mutation($b: ID!, $t: [ID!]!) { proposeTables(input: {bookingId: $b, tableIds: $t}) {
  __typename ... on SessionPayload { session { id status } } ... on Error { code message } } }"""


async def test_live__pages_and_files_are_served_strictly(dsn: str) -> None:
    async with (
        serve_in_process(test_settings(dsn)) as server,
        httpx.AsyncClient(base_url=server.base_url) as http,
    ):
        for path in ("/live/", "/live/floor/x", "/live/game/x", "/live/tasks/x"):
            page = await http.get(path)
            assert page.status_code == 200, path
            assert page.headers["content-type"] == "text/html; charset=utf-8"
            csp = page.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "default-src 'none'" in csp
            assert "unsafe-inline" not in csp
            assert page.headers["cache-control"] == "no-cache"
            assert page.headers["x-content-type-options"] == "nosniff"
        js = await http.get("/live/static/gqlws.js")
        assert js.headers["content-type"] == "text/javascript; charset=utf-8"
        assert "PROTOCOL.md" in js.text
        again = await http.get(
            "/live/static/gqlws.js", headers={"if-none-match": js.headers["etag"]}
        )
        assert again.status_code == 304
        css = await http.get("/live/static/live.css")
        assert css.headers["content-type"] == "text/css; charset=utf-8"
        for path in (
            "/live/static/__init__.py",
            "/live/static/%2e%2e%2f__init__.py",
            "/live/static/..%2f..%2fapp.py",
            "/live/static/floor.html",
            "/live/static/",
            "/live/floor/a/b",
            "/live/nothing",
            "/live/__init__.py",
        ):
            assert (await http.get(path)).status_code == 404, path
        assert (await http.get("/live", follow_redirects=True)).status_code == 200


@needs_chromium
async def test_live__floor_shows_holds_expiries_confirms_and_survives_a_restart(
    dsn: str, token: Token, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    settings = test_settings(dsn, hold_ttl_seconds=2)
    server = Restartable(settings)
    await server.start()
    admin = GraphQLHttp(server.base_url, token("admin", user="boss"))
    other = GraphQLHttp(server.base_url, token("staff", user="bea"))
    errors: list[str] = []
    try:
        rid = (await ok(admin, RESTAURANT, n="Test Bistro"))["id"]
        tables = {}
        for label, zone in (("M1", "Main"), ("M2", "Main"), ("T1", "Terrace")):
            tables[label] = (await ok(admin, TABLE, r=rid, l=label, z=zone))["id"]
        now = datetime.now(UTC).replace(microsecond=0)
        starts, ends = now + timedelta(hours=1), now + timedelta(hours=3)
        booked = {}
        for guest, party in (("Ada Lovelace", 2), ("Ben Okri", 3), ("Cleo Moss", 4)):
            made = await ok(admin, BOOKING, r=rid, g=guest, p=party, s=iso(starts), e=iso(ends))
            booked[guest] = made["id"]
        await ok(admin, AUTO, b=booked["Ada Lovelace"])
        earlier, later = iso(now - timedelta(hours=1)), iso(now + timedelta(hours=5))
        window = f"?from={quote(earlier)}&to={quote(later)}"

        async with browser() as chromium:
            page = await new_page(chromium, errors)
            # The index, with the token in the fragment: it lists the restaurant.
            await page.goto(f"{server.base_url}/live/#token={token('staff', user='sam')}")
            link = page.get_by_role("link", name="Floor of Test Bistro")
            await expect(link).to_be_visible(timeout=10_000)
            assert "token" not in page.url  # removed from the address bar
            await shot(page, tmp_path / "index.png", "the index: restaurants, games, projects")
            await link.click()  # the token stays in sessionStorage
            await expect(page.get_by_role("heading", name="Floor · Test Bistro")).to_be_visible()
            await page.goto(f"{page.url}{window}")  # this test's bookings are not this evening's

            conn = page.locator("#conn")
            await expect(conn).to_have_text("Live", timeout=10_000)
            timeline = page.locator(".timeline")
            for label in ("M1", "M2", "T1"):
                await expect(timeline.locator(f'.row[data-table="{label}"]')).to_be_visible()
            await expect(page.get_by_role("group", name="Zone Terrace")).to_be_visible()
            await expect(timeline.get_by_text("Ada Lovelace · 2")).to_be_visible()
            side = page.locator("#unassigned")
            await expect(side.get_by_role("button", name="Ben Okri · 3 people")).to_be_visible()
            await expect(side.get_by_role("button", name="Cleo Moss · 4 people")).to_be_visible()
            await expect(page.locator(".now-line")).to_be_visible()

            # Another client's proposal appears as a hold within a second; its expiry removes it.
            suggestion = await other.data(
                "query($b: ID!) { suggestTables(bookingId: $b) {"
                " tables { id } violations { code } } }",
                {"b": booked["Ben Okri"]},
            )
            ben_tables = next(s for s in suggestion["suggestTables"] if not s["violations"])
            held = await ok(
                other, PROPOSE, b=booked["Ben Okri"], t=[t["id"] for t in ben_tables["tables"]]
            )
            assert held["session"]["status"] == "HELD", held
            hold = timeline.locator(".bar.hold", has_text="Hold · Ben Okri · 3")
            await expect(hold).to_be_visible(timeout=1_000)
            await expect(side.get_by_text("held")).to_be_visible()
            await shot(page, tmp_path / "floor-hold.png", "the floor with another staff's hold")
            await expect(hold).to_have_count(0, timeout=5_000)
            await expect(page.locator(".log")).to_contain_text("expired")

            # A second staff page watches while the first holds and confirms Cleo from the page.
            watcher = await new_page(chromium, errors)
            await watcher.goto(
                f"{server.base_url}/live/floor/{rid}{window}#token={token('staff', user='bea')}"
            )
            await expect(watcher.locator("#conn")).to_have_text("Live", timeout=10_000)
            await expect(watcher.locator("#unassigned").get_by_text("Cleo Moss")).to_be_visible()
            await side.get_by_role("button", name="Cleo Moss · 4 people").click()
            panel = page.locator("#selected")
            hold_button = panel.get_by_role("button", name="Hold").first
            await expect(hold_button).to_be_visible(timeout=5_000)
            await hold_button.click()
            confirm = panel.get_by_role("button", name="Confirm")
            await expect(confirm).to_be_enabled(timeout=1_500)
            await expect(watcher.locator(".bar.hold", has_text="Cleo Moss")).to_be_visible(
                timeout=1_000
            )
            await confirm.click()
            await expect(page.locator(".sessions")).to_contain_text("confirmed", timeout=2_000)
            seen = watcher.locator(".timeline .bar", has_text="Cleo Moss · 4")
            await expect(seen).to_be_visible(timeout=2_000)
            await expect(seen).not_to_have_class("bar hold", timeout=2_000)
            await expect(watcher.locator("#unassigned").get_by_text("Cleo Moss")).to_have_count(0)
            await shot(page, tmp_path / "floor-confirmed.png", "the floor after confirming Cleo")
            phone = await new_page(chromium, errors, width=390, height=844)
            await phone.goto(f"{server.base_url}/live/floor/{rid}{window}#token={token('staff')}")
            await expect(phone.locator(".timeline").get_by_text("Cleo Moss · 4")).to_be_visible(
                timeout=10_000
            )
            await shot(phone, tmp_path / "floor-phone.png", "the floor at phone width")

            # The server goes away: "reconnecting"; a booking is made meanwhile (through another
            # server on the same database); the server comes back: a fresh SNAPSHOT shows it.
            await server.stop()
            await expect(conn).to_have_text("Reconnecting…", timeout=5_000)
            async with serve_in_process(test_settings(dsn)) as elsewhere:
                walk_in = GraphQLHttp(elsewhere.base_url, token("admin", user="boss"))
                try:
                    await ok(
                        walk_in, BOOKING, r=rid, g="Dana Walk-in", p=2, s=iso(starts), e=iso(ends)
                    )
                finally:
                    await walk_in.close()
            await server.start()
            await expect(conn).to_have_text("Resynced", timeout=10_000)
            await expect(side.get_by_role("button", name="Dana Walk-in · 2 people")).to_be_visible()
            await expect(timeline.get_by_text("Cleo Moss · 4")).to_be_visible()
            await shot(page, tmp_path / "floor-resynced.png", "the floor resynced after a restart")
            await expect(conn).to_have_text("Live", timeout=6_000)
    finally:
        await admin.close()
        await other.close()
        await server.stop()
    assert not [e for e in errors if "WebSocket" not in e and "ERR_CONNECTION" not in e], errors


@needs_chromium
async def test_live__game_screen_shows_ticks_then_the_poems(
    server: RunningServer, token: Token, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    ada_token, basho_token = token("player", user="ada"), token("player", user="basho")
    ada = GraphQLHttp(server.base_url, ada_token)
    basho = GraphQLHttp(server.base_url, basho_token)
    errors: list[str] = []
    try:
        game = (
            await ok(
                ada,
                """mutation { createGame(input: {displayName: "Ada", shape: CUSTOM,
                wordCounts: [1, 1, 1]}) { __typename ... on GamePayload { game { id code } }
                ... on Error { code message } } }""",
            )
        )["game"]
        await ok(
            basho,
            """mutation($c: String!) { joinGame(input: {code: $c, displayName: "Basho"}) {
            __typename ... on GamePayload { game { id } } ... on Error { code message } } }""",
            c=game["code"],
        )
        async with browser() as chromium:
            page = await new_page(chromium, errors)
            await page.goto(f"{server.base_url}/live/game/{game['id']}#token={ada_token}")
            await expect(
                page.get_by_role("heading", name=f"Join with code {game['code']}")
            ).to_be_visible(timeout=10_000)
            players = page.get_by_role("list", name="Players")
            await expect(players).to_contain_text("Ada")
            await expect(players).to_contain_text("Basho")
            await ok(
                ada,
                """mutation($g: ID!) { startGame(input: {gameId: $g}) { __typename
                ... on GamePayload { game { id } } ... on Error { code message } } }""",
                g=game["id"],
            )
            await expect(page.locator(".summary")).to_contain_text("Round 1 of 3 · 1 word a line")
            submit = """mutation($g: ID!, $r: Int!, $t: String!) {
              submitLine(input: {gameId: $g, round: $r, text: $t}) { __typename
              ... on LinePayload { game { id round } } ... on Error { code message } } }"""
            await ok(ada, submit, g=game["id"], r=0, t="Moonrise")
            ada_card = page.locator('.player[data-player="Ada"]')
            await expect(ada_card).to_contain_text("✓ written", timeout=2_000)
            await expect(page.locator('.player[data-player="Basho"]')).to_contain_text("writing")
            await expect(page.get_by_text("Lines written this round: 1 of 2")).to_be_visible()
            assert "Moonrise" not in await page.content()  # who, never what
            await shot(page, tmp_path / "game-round.png", "the game screen: Ada has written")
            lines = {"ada": ["Moonrise", "Quiet", "Falls"], "basho": ["River", "Stone", "Away"]}
            await ok(basho, submit, g=game["id"], r=0, t="River")
            for round_ in (1, 2):
                await expect(page.locator(".summary")).to_contain_text(f"Round {round_ + 1} of 3")
                await ok(ada, submit, g=game["id"], r=round_, t=lines["ada"][round_])
                await ok(basho, submit, g=game["id"], r=round_, t=lines["basho"][round_])
            poems = page.get_by_role("region", name="The poems")
            await expect(poems).to_be_visible(timeout=3_000)
            for word in (*lines["ada"], *lines["basho"]):
                await expect(poems.get_by_text(word, exact=True)).to_be_visible()
            await expect(poems.get_by_role("article")).to_have_count(2)
            await expect(page.locator(".summary")).to_contain_text("Finished")
            await shot(page, tmp_path / "game-poems.png", "the game screen: the revealed poems")
    finally:
        await ada.close()
        await basho.close()
    assert not errors, errors


@needs_chromium
async def test_live__tasks_board_counts_change_when_a_task_is_claimed(
    server: RunningServer, token: Token, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    admin_token = token("admin", user="boss")
    boss = GraphQLHttp(server.base_url, admin_token)
    ann = GraphQLHttp(server.base_url, token("worker", user="ann"))
    errors: list[str] = []
    try:
        project = await ok(
            boss,
            """mutation { createWorkProject(input: {name: "Labelling",
            steps: ["annotate", "review"], config: {strategy: CAPACITY_BASED}}) {
            __typename ... on WorkProject { id } ... on Error { code message } } }""",
        )
        await ok(
            boss,
            """mutation($p: ID!) { createWorkTasks(input: {projectId: $p, tasks: [
              {stepId: "annotate"}, {stepId: "annotate"}, {stepId: "annotate"}]}) {
              __typename ... on WorkTasksPayload { tasks { id } }
              ... on Error { code message } } }""",
            p=project["id"],
        )
        await ok(
            boss,
            """mutation { setWorkerProfile(input: {userId: "ann", skills: []}) {
            __typename ... on WorkerProfile { userId } ... on Error { code message } } }""",
        )
        async with browser() as chromium:
            page = await new_page(chromium, errors)
            # Without a valid token the page says so.
            await page.goto(f"{server.base_url}/live/tasks/{project['id']}#token=not-a-token")
            await expect(page.get_by_text("This token is not valid")).to_be_visible(timeout=10_000)
            await expect(page.get_by_label("Token")).to_be_focused()

            await page.goto(f"{server.base_url}/live/tasks/{project['id']}#token={admin_token}")
            await expect(page.locator("#conn")).to_have_text("Live", timeout=10_000)
            await expect(page.get_by_role("heading", name="Work queue · Labelling")).to_be_visible()
            open_ = page.locator('td[data-cell="annotate/OPEN"]')
            assigned = page.locator('td[data-cell="annotate/ASSIGNED"]')
            await expect(open_).to_have_text("3")
            await expect(assigned).to_have_text("0")
            await expect(page.locator('tr[data-step="review"]')).to_be_visible()
            await ok(
                ann,
                """mutation($p: ID!) { claimNextTask(input: {projectId: $p, stepId: "annotate"}) {
                __typename ... on AssignmentPayload { assignment { id } }
                ... on Error { code message } } }""",
                p=project["id"],
            )
            await expect(open_).to_have_text("2", timeout=2_000)
            await expect(assigned).to_have_text("1")
            await expect(page.locator('td[data-cell="all/total"]')).to_have_text("3")
            # Claiming made ann present; a heartbeat of another worker shows them too.
            await expect(page.locator('li[data-worker="ann"]')).to_be_visible(timeout=2_000)
            bob = GraphQLHttp(server.base_url, token("worker", user="bob"))
            try:
                await ok(
                    bob,
                    """mutation($p: ID!) { heartbeat(input: {projectId: $p}) {
                    __typename ... on HeartbeatPayload { lastSeenAt }
                    ... on Error { code message } } }""",
                    p=project["id"],
                )
            finally:
                await bob.close()
            await expect(page.locator('li[data-worker="bob"]')).to_be_visible(timeout=2_000)
            await shot(page, tmp_path / "tasks.png", "the work queue board after a claim")
    finally:
        await boss.close()
        await ann.close()
    assert not [e for e in errors if "401" not in e and "Unauthorized" not in e], errors


@needs_chromium
async def test_live__the_demo_banner_prints_links_that_open_the_pages(
    dsn: str, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    from server.cli import prepare

    banner, _ = await asyncio.to_thread(prepare, test_settings(dsn, seed_demo=True), seed=True)
    links = dict(
        re.findall(
            r"^  (index|floor|game|tasks)[^:]*: (http://127\.0\.0\.1:8000/live/\S+)$", banner, re.M
        )
    )
    assert set(links) == {"index", "floor", "game", "tasks"}, banner
    assert all("#token=" in link for link in links.values())
    errors: list[str] = []
    async with serve_in_process(test_settings(dsn)) as server, browser() as chromium:
        page = await new_page(chromium, errors)
        await page.goto(links["floor"].replace("http://127.0.0.1:8000", server.base_url))
        await expect(page.get_by_role("heading", name="Floor · Allot Bistro")).to_be_visible(
            timeout=10_000
        )
        await expect(page.locator(".row")).to_have_count(20)
        await expect(page.locator("#conn")).to_have_text("Live")
        await shot(page, tmp_path / "demo-floor.png", "the demo floor from the banner's link")
        for name, text in (("game", "Join with code"), ("tasks", "Work queue · Demo labelling")):
            await page.goto(links[name].replace("http://127.0.0.1:8000", server.base_url))
            await expect(page.get_by_role("heading", name=text)).to_be_visible(timeout=10_000)
        await expect(page.locator('td[data-cell="annotate/OPEN"]')).to_have_text("200")
        await page.goto(links["index"].replace("http://127.0.0.1:8000", server.base_url))
        await expect(page.get_by_role("link", name="Floor of Allot Bistro")).to_be_visible()
    assert not errors, errors
