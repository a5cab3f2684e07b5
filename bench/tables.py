"""Tables benchmarks: realtime latency, contention, and auto-assignment at restaurant scale.

1. Realtime: a confirmAssignment mutation sent -> the floorEvents message received by every one
   of 1, 100 and 1000 subscribers of one restaurant (each on its own websocket, in this process;
   the server is another process). Next to it, sampled in the same rounds: the raw floor (an
   asyncpg transaction with an UPDATE and a NOTIFY reaching a LISTEN connection) and the stock
   stack (bench/_stock_app.py: the same libraries with no Allot code, a mutation's UPDATE and
   NOTIFY reaching as many subscribers), and the websocket floor (bench/_floor_app.py: no
   GraphQL; a committed UPDATE, one read and one frame for as many subscribers). Printed with
   the ratio confirm end-to-end / stock stack trivial mutation (p50) and its target.
2. Rules at scale: suggestTables and autoAssign on a 200-table restaurant with 2,000 bookings in
   the evening.
3. Contention: 50 staff clients propose then confirm over HTTP on a 40-table restaurant for 30 s:
   confirmations/s, conflict rate, request latency, and the overlap check (must be 0); with one
   server process, then two on one port (ALLOT_WORKERS=2). Measured after a short warm-up and a
   VACUUM ANALYZE: the steady state of a database in service, with statistics.
4. Hold expiry: how soon after its deadline a 1 s hold is gone, with two server processes (two
   expirers) sharing the database.

It starts its own PostgreSQL (embedded, or uses DATABASE_URL) and its server processes. The
HTTP clients are bench._http's (httpx alone would spend more CPU per request than the server).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._http import GraphQLClient  # noqa: E402
from bench._live import ProbeFanOut, RawFloor, Subscribers  # noqa: E402
from bench._stats import ms, pct  # noqa: E402
from db.pool import create_pool, tenant_transaction  # noqa: E402
from db.sql import load  # noqa: E402
from server.auth import issue_token  # noqa: E402
from services.core.principal import Principal, Role  # noqa: E402
from services.tables import setup  # noqa: E402
from tests.support import dbs  # noqa: E402
from tests.support.server import TEST_SECRET, RunningServer, serve_subprocess  # noqa: E402

Q = load("tables")
EVENING = datetime(2031, 6, 1, 17, 0, tzinfo=UTC)

PROPOSE = """mutation($b: ID!, $t: [ID!]!) { proposeTables(input: {bookingId: $b, tableIds: $t}) {
  __typename ... on SessionPayload { session { id status version violations { code } } } } }"""
CONFIRM = """mutation($s: ID!) { confirmAssignment(input: {sessionId: $s}) {
  __typename ... on SessionPayload { session { status } } } }"""
CANCEL = """mutation($s: ID!) { cancelAssignmentSession(input: {sessionId: $s}) {
  __typename } }"""
SUGGEST = "query($b: ID!) { suggestTables(bookingId: $b) { score tables { label } } }"
AUTO = """mutation($b: ID!) { autoAssign(input: {bookingId: $b}) {
  __typename ... on AutoAssignPayload { tables { label } } } }"""
STOCK_BUMP = "mutation { bump }"
STOCK_BUMPS = "subscription { bumps { value } }"
FLOOR = """subscription($r: ID!, $f: DateTime!, $t: DateTime!) {
  floorEvents(restaurantId: $r, from: $f, to: $t) {
    kind sequence allocation { id kind table { label } } booking { id status } } }"""


async def vacuum_analyze(dsn: str) -> None:
    """Statistics on what the tables and their indexes hold now, as autovacuum keeps them in
    a database in service. A database fresh from its migrations has none, and plans as if
    every table and index were a handful of rows."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("vacuum analyze")
    finally:
        await conn.close()


def staff_client(base_url: str, tenant: uuid.UUID, user: str, *roles: Role) -> GraphQLClient:
    """One staff member's GraphQL client over HTTP."""
    token = issue_token(TEST_SECRET, tenant=tenant, user=user, roles=roles or [Role.STAFF])
    return GraphQLClient(base_url, token)


async def restaurant(
    pool: asyncpg.Pool,
    tenant: uuid.UUID,
    tables: Sequence[tuple[str, str, int, int]],
    bookings: Sequence[tuple[str, int, datetime, datetime]],
) -> tuple[uuid.UUID, list[uuid.UUID], list[uuid.UUID]]:
    """A restaurant with (label, zone, min, max) tables and (guest, party, start, end) bookings."""
    admin = Principal("bench-admin", tenant, frozenset({Role.ADMIN}))
    created = await setup.create_restaurant(pool, admin, "Bench", "Europe/London")
    async with tenant_transaction(pool, tenant) as conn:
        table_ids = [
            r["id"]
            for r in await conn.fetch(
                *Q.bind(
                    "insert_dining_tables",
                    restaurant_id=created.id,
                    labels=[t[0] for t in tables],
                    zones=[t[1] for t in tables],
                    min_capacities=[t[2] for t in tables],
                    max_capacities=[t[3] for t in tables],
                )
            )
        ]
        booking_ids = [
            r["id"]
            for r in await conn.fetch(
                *Q.bind(
                    "insert_bookings",
                    restaurant_id=created.id,
                    guest_names=[b[0] for b in bookings],
                    party_sizes=[b[1] for b in bookings],
                    starts=[b[2] for b in bookings],
                    ends=[b[3] for b in bookings],
                )
            )
        ]
    return created.id, table_ids, booking_ids


# ---------------------------------------------------------------------------- 1. realtime


class Latencies:
    """Per round: the time until every subscriber had the event, and until each one had it."""

    def __init__(self) -> None:
        self.all: list[float] = []
        self.each: list[float] = []

    def add(self, t0: float, subs: Subscribers, before: Sequence[int]) -> None:
        firsts = [a[n] - t0 for a, n in zip(subs.arrivals, before, strict=True)]
        self.all.append(max(firsts))
        self.each.extend(firsts)

    def line(self, floor: Sequence[float]) -> str:
        p50, f50 = statistics.median(self.all), statistics.median(floor)
        return (
            f"all delivered p50 {ms(p50):>10}  p99 {ms(pct(self.all, 99)):>10}"
            f"  ({p50 / f50:5.1f}x the raw floor);  each delivery p50"
            f" {ms(statistics.median(self.each))}"
        )


TARGET = 1.3  # confirm end-to-end / the stock stack's trivial mutation, p50


async def realtime(
    pool: asyncpg.Pool,
    allot: RunningServer,
    stock: RunningServer,
    ws_floor: RunningServer,
    dsn: str,
) -> None:
    for count, rounds in ((1, 100), (100, 40), (1000, 20)):
        tenant = uuid.uuid4()
        start = EVENING + timedelta(hours=2)
        rid, tables, bookings = await restaurant(
            pool,
            tenant,
            [("T1", "Main", 1, 4), ("T2", "Main", 1, 4)],
            [("Ada", 2, start, start + timedelta(hours=2))],
        )
        staff = staff_client(allot.base_url, tenant, "staff-1")
        bumper = GraphQLClient(stock.base_url, "none")
        window = {
            "r": str(rid),
            "f": EVENING.isoformat(),
            "t": (EVENING + 12 * (start - EVENING)).isoformat(),
        }
        subs = Subscribers(allot.ws_url, staff.token, FLOOR, window, count)
        stock_subs = Subscribers(stock.ws_url, "none", STOCK_BUMPS, {}, count)
        await subs.start()
        await stock_subs.start()
        ours, theirs = Latencies(), Latencies()
        floor: list[float] = []
        websocket_floor: list[float] = []
        kinds: Counter[str] = Counter()
        floor_tenant = str(uuid.uuid4())
        floor_url = f"{ws_floor.ws_url}?topic=probe:{floor_tenant}"
        try:
            async with (
                RawFloor(dsn) as raw,
                ProbeFanOut(dsn, floor_url, "none", floor_tenant, count) as on_floor,
            ):
                for r in range(rounds + 2):
                    floor += [await raw.sample() for _ in range(3)]
                    sample = await on_floor.sample()
                    if r >= 2:  # warm-up
                        websocket_floor.append(sample)
                    before = [len(a) for a in stock_subs.arrivals]
                    t0 = time.perf_counter()
                    await bumper.call(STOCK_BUMP, {})
                    await stock_subs.expect(1)
                    if r >= 2:  # warm-up
                        theirs.add(t0, stock_subs, before)
                    table = str(tables[r % 2])
                    data = await staff.call(PROPOSE, {"b": str(bookings[0]), "t": [table]})
                    session = data["proposeTables"]["session"]
                    assert session["status"] == "HELD", session
                    await subs.expect(1)  # HOLD_PLACED everywhere before the timed part
                    before = [len(a) for a in subs.arrivals]
                    t0 = time.perf_counter()
                    data = await staff.call(CONFIRM, {"s": session["id"]})
                    assert data["confirmAssignment"]["__typename"] == "SessionPayload"
                    # (UNASSIGNED,) ASSIGNED, BOOKING_CHANGED
                    await subs.expect(2 if r == 0 else 3)
                    if r >= 2:
                        ours.add(t0, subs, before)
            for message in subs.raw[0]:
                kinds[json.loads(message)["payload"]["data"]["floorEvents"]["kind"]] += 1
        finally:
            await subs.stop()
            await stock_subs.stop()
            await staff.close()
            await bumper.close()
        print(f"  {count:>5} subscribers, Allot: {ours.line(floor)}")
        print(f"         the stock stack: {theirs.line(floor)}")
        w50 = statistics.median(websocket_floor)
        print(
            f"         websocket floor: all delivered p50 {ms(w50):>10}"
            f"  p99 {ms(pct(websocket_floor, 99)):>10}"
            f"  ({w50 / statistics.median(floor):5.1f}x the raw floor);  from the commit"
        )
        ratio = statistics.median(ours.all) / statistics.median(theirs.all)
        verdict = "met" if ratio <= TARGET else "not met"
        print(
            f"               raw floor: p50 {ms(statistics.median(floor))}"
            f"  p99 {ms(pct(floor, 99))};  confirm end-to-end / stock stack trivial mutation"
            f" (p50): {ratio:.2f}x (target <= {TARGET}x: {verdict})"
        )
        assert set(kinds) == {"HOLD_PLACED", "ASSIGNED", "UNASSIGNED", "BOOKING_CHANGED"}, kinds


# ---------------------------------------------------------------------------- 2. contention


async def contention(
    pool: asyncpg.Pool,
    dsn: str,
    base_url: str,
    seconds: float = 30,
    warmup: float = 3,
    staff: int = 50,
    evenings: int = 200,
) -> None:
    """Staff pick a booking still without tables and a table that fits, as they would from the
    floor plan; on TABLE_CONFLICT they try another table (same session), after three conflicts
    they close the dialog (cancel). Bookings span enough evenings (40 each) that the staff
    never run out of work: the figure is the server's pace, not the size of the book."""
    rng = random.Random(2)
    tenant = uuid.uuid4()
    tables = (
        [(f"S{i}", "Main", 1, 2) for i in range(1, 16)]
        + [(f"M{i}", "Main", 2, 4) for i in range(1, 21)]
        + [(f"L{i}", "Main", 4, 6) for i in range(1, 6)]
    )
    bookings = []
    for day in range(evenings):
        for i in range(40):
            start = EVENING + timedelta(days=day, minutes=15 * rng.randrange(0, 21))
            party = rng.choice((1, 2, 2, 2, 3, 4, 4, 5, 6))
            bookings.append((f"Guest {day}-{i}", party, start, start + timedelta(hours=2)))
    _, table_ids, booking_ids = await restaurant(pool, tenant, tables, bookings)
    fits = {
        party: [str(tid) for tid, t in zip(table_ids, tables, strict=True) if t[2] <= party <= t[3]]
        for party in range(1, 7)
    }
    parties = [b[1] for b in bookings]
    waiting = set(range(len(booking_ids)))
    clients = [staff_client(base_url, tenant, f"staff-{i}") for i in range(staff)]
    stats: Counter[str] = Counter()
    propose_lat: list[float] = []
    confirm_lat: list[float] = []

    async def timed(
        api: GraphQLClient, query: str, variables: dict[str, Any], into: list[float]
    ) -> Any:
        t0 = time.perf_counter()
        data = await api.call(query, variables)
        into.append(time.perf_counter() - t0)
        return data

    async def work(api: GraphQLClient, seed: int, deadline: float) -> None:
        mine = random.Random(seed)
        while time.perf_counter() < deadline and waiting:
            k = mine.choice(tuple(waiting))
            booking = str(booking_ids[k])
            session: dict[str, Any] = {}
            for table in mine.sample(fits[parties[k]], 3):
                data = await timed(api, PROPOSE, {"b": booking, "t": [table]}, propose_lat)
                stats["proposals"] += 1
                session = data["proposeTables"]["session"]
                if session["status"] == "HELD":
                    break
                codes = {v["code"] for v in session["violations"]}
                stats["conflicts" if "TABLE_CONFLICT" in codes else "other_violations"] += 1
            if session["status"] != "HELD":
                await api.call(CANCEL, {"s": session["id"]})
                stats["gave_up"] += 1
                continue
            data = await timed(api, CONFIRM, {"s": session["id"]}, confirm_lat)
            kind = data["confirmAssignment"]["__typename"]
            if kind == "SessionPayload":
                stats["confirmed"] += 1
                waiting.discard(k)
            else:
                stats[f"confirm_{kind}"] += 1

    async def run(length: float) -> float:
        stats.clear()
        propose_lat.clear()
        confirm_lat.clear()
        started = time.perf_counter()
        deadline = started + length
        await asyncio.gather(*(work(c, i, deadline) for i, c in enumerate(clients)))
        return time.perf_counter() - started

    await run(warmup)  # the database in service: data on its tables, and statistics about it
    await vacuum_analyze(dsn)
    elapsed = await run(seconds)
    for c in clients:
        await c.close()
    async with tenant_transaction(pool, tenant) as conn:
        overlaps = await conn.fetchval(
            "select count(*) from allocations a join allocations b on a.table_id = b.table_id"
            " and a.id < b.id and a.during && b.during and a.booking_id <> b.booking_id"
            " where a.released_at is null and b.released_at is null"
        )
        assigned = await conn.fetchval(
            "select count(distinct booking_id) from allocations"
            " where released_at is null and kind = 'ASSIGNMENT'"
        )
    lost = sum(v for k, v in stats.items() if k.startswith("confirm_"))
    every = propose_lat + confirm_lat
    print(
        f"  {staff} staff, {len(table_ids)} tables, {len(booking_ids)} bookings over {evenings}"
        " evenings,"
        f" {elapsed:.1f} s: {stats['confirmed'] / elapsed:.1f} confirmations/s"
        f" ({stats['confirmed']} confirmed of {stats['proposals']} proposals)"
    )
    print(
        f"  conflict rate {(stats['conflicts'] + lost) / max(stats['proposals'], 1):.1%}"
        f" ({stats['conflicts']} proposals answered TABLE_CONFLICT, {lost} confirmations lost,"
        f" {stats['gave_up']} bookings given up after 3 conflicts)"
    )
    print(
        f"  latency: propose p50 {ms(statistics.median(propose_lat))}"
        f" p99 {ms(pct(propose_lat, 99))}; confirm p50 {ms(statistics.median(confirm_lat))}"
        f" p99 {ms(pct(confirm_lat, 99))}; all p50 {ms(statistics.median(every))}"
        f" p99 {ms(pct(every, 99))}"
    )
    print(f"  bookings with tables at the end: {assigned}; overlapping allocations: {overlaps}")
    assert overlaps == 0


# ---------------------------------------------------------------------------- 3. rules at scale


async def at_scale(pool: asyncpg.Pool, base_url: str, calls: int = 100) -> None:
    rng = random.Random(3)
    tenant = uuid.uuid4()
    sizes = ((1, 2), (2, 2), (2, 4), (2, 4), (3, 4), (4, 6), (4, 6), (6, 8))
    tables = [
        (f"{zone[0]}{i + 1}", zone, *sizes[i % len(sizes)])
        for zone in ("Main", "Terrace", "Bar", "Garden", "Upstairs")
        for i in range(40)
    ]
    bookings = []
    for i in range(2000):
        start = EVENING + timedelta(minutes=15 * rng.randrange(0, 25))
        length = timedelta(minutes=rng.choice((90, 105, 120, 150)))
        bookings.append(
            (f"Guest {i}", rng.choice((1, 2, 2, 2, 3, 4, 4, 5, 6, 8)), start, start + length)
        )
    rid, table_ids, booking_ids = await restaurant(pool, tenant, tables, bookings)
    # Give every fourth booking its tables first-fit (set up directly, not measured): the rules
    # then see about 500 assignments, and autoAssign still finds room for some of the rest
    # (2,000 bookings are far more than 200 tables can seat in one evening).
    free_from: dict[uuid.UUID, list[tuple[datetime, datetime]]] = {t: [] for t in table_ids}
    assigned: set[int] = set()
    async with tenant_transaction(pool, tenant) as conn:
        for k in sorted(range(0, len(bookings), 4), key=lambda k: bookings[k][2]):
            _, party, start, end = bookings[k]
            for tid, t in zip(table_ids, tables, strict=True):
                if t[2] <= party <= t[3] and all(e <= start or end <= s for s, e in free_from[tid]):
                    free_from[tid].append((start, end))
                    await conn.execute(
                        *Q.bind(
                            "insert_assignments",
                            table_ids=[tid],
                            restaurant_id=rid,
                            booking_id=booking_ids[k],
                            during=asyncpg.Range(start, end),
                        )
                    )
                    assigned.add(k)
                    break
        allocations = await conn.fetchval("select count(*) from allocations")
    waiting = [booking_ids[k] for k in range(len(bookings)) if k not in assigned]
    api = staff_client(base_url, tenant, "staff-1")
    suggest_lat: list[float] = []
    for b in rng.sample(booking_ids, calls):
        t0 = time.perf_counter()
        await api.call(SUGGEST, {"b": str(b)})
        suggest_lat.append(time.perf_counter() - t0)
    auto_lat: list[float] = []
    outcomes: Counter[str] = Counter()
    for b in rng.sample(waiting, min(calls, len(waiting))):
        t0 = time.perf_counter()
        data = await api.call(AUTO, {"b": str(b)})
        auto_lat.append(time.perf_counter() - t0)
        outcomes[data["autoAssign"]["__typename"]] += 1
    await api.close()
    print(
        f"  200 tables in 5 zones, 2000 bookings, {allocations} assignments:"
        f" suggestTables p50 {ms(statistics.median(suggest_lat))}"
        f" (p99 {ms(pct(suggest_lat, 99))});"
        f" autoAssign p50 {ms(statistics.median(auto_lat))} (p99 {ms(pct(auto_lat, 99))};"
        f" {outcomes['AutoAssignPayload']} assigned, {outcomes['NoTablesAvailable']} no tables)"
    )


# ---------------------------------------------------------------------------- 4. hold expiry


async def expiry_lag(pool: asyncpg.Pool, base_urls: Sequence[str], holds: int = 60) -> None:
    """Holds with a 1 s TTL placed through two server processes (each with its own expirer):
    how long after its deadline each hold is released, by the database's clock."""
    rng = random.Random(4)
    tenant = uuid.uuid4()
    tables = [(f"T{i}", "Main", 1, 4) for i in range(holds)]
    bookings = [(f"Guest {i}", 2, EVENING, EVENING + timedelta(hours=2)) for i in range(holds)]
    _, table_ids, booking_ids = await restaurant(pool, tenant, tables, bookings)
    apis = [staff_client(url, tenant, f"staff-{i}") for i, url in enumerate(base_urls)]
    for i in range(holds):
        api = apis[i % len(apis)]
        data = await api.call(PROPOSE, {"b": str(booking_ids[i]), "t": [str(table_ids[i])]})
        assert data["proposeTables"]["session"]["status"] == "HELD"
        await asyncio.sleep(rng.uniform(0, 0.05))
    for api in apis:
        await api.close()
    lags: list[float] = []
    for _ in range(100):
        async with tenant_transaction(pool, tenant) as conn:
            rows = await conn.fetch(
                "select extract(epoch from released_at - expires_at)::float8 as lag"
                " from allocations where kind = 'HOLD' and release_reason = 'EXPIRED'"
            )
        if len(rows) == holds:
            lags = [r["lag"] for r in rows]
            break
        await asyncio.sleep(0.1)
    assert len(lags) == holds, f"only {len(lags)} of {holds} holds expired"
    print(
        f"  {holds} holds (TTL 1 s) through {len(base_urls)} server processes: released after"
        f" their deadline by p50 {ms(statistics.median(lags))}, p99 {ms(pct(lags, 99))},"
        f" max {ms(max(lags))}"
    )


async def main() -> None:
    began = time.perf_counter()
    async with dbs.scratch_database() as dsn:
        pool = await create_pool(dsn, min_size=1, max_size=10)
        try:
            print("tables bench (clients in this process, the server in others)")
            with (
                serve_subprocess(dsn) as server,
                serve_subprocess(dsn, app="bench._stock_app:app_factory") as stock,
                serve_subprocess(dsn, app="bench._floor_app:app_factory") as ws_floor,
            ):
                print(
                    "1. realtime: confirmAssignment sent -> the floorEvents message received, one"
                    " server process. Sampled in the same rounds: the raw floor (UPDATE + NOTIFY"
                    " -> LISTEN) and the stock stack (bench/_stock_app.py: strawberry, Starlette,"
                    " uvicorn, asyncpg and broadcaster with no Allot code; a mutation's UPDATE +"
                    " NOTIFY -> its subscription's message) and the websocket floor"
                    " (bench/_floor_app.py, no GraphQL: a committed UPDATE -> one read, one frame"
                    " for every socket)"
                )
                await realtime(pool, server, stock, ws_floor, dsn)
                # Before the contention runs, so their churn does not weigh on these reads.
                print("2. rules at scale")
                await at_scale(pool, server.base_url)
                print("3. contention: propose then confirm over HTTP, one server process")
                await contention(pool, dsn, server.base_url)
            with serve_subprocess(dsn, workers=2) as server:
                print("   the same with two server processes on that port (ALLOT_WORKERS=2)")
                await contention(pool, dsn, server.base_url)
            os.environ["ALLOT_HOLD_TTL_SECONDS"] = "1"
            try:
                with serve_subprocess(dsn) as one, serve_subprocess(dsn) as two:
                    print("4. hold expiry")
                    await expiry_lag(pool, [one.base_url, two.base_url])
            finally:
                del os.environ["ALLOT_HOLD_TTL_SECONDS"]
        finally:
            await pool.close()
    print(f"total {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    asyncio.run(main())
