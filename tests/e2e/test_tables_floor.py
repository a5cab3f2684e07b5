"""The tables area over the real server: GraphQL over HTTP and graphql-transport-ws."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.gql import GraphQLHttp, subscribe, websocket
from tests.support.server import RunningServer, serve_in_process, test_settings

EVENING = datetime(2031, 6, 1, 18, 0, tzinfo=UTC)
WINDOW = {
    "from": (EVENING - timedelta(hours=1)).isoformat(),
    "to": (EVENING + timedelta(hours=5)).isoformat(),
}

SETUP_RESTAURANT = """
mutation($name: String!, $tz: String!) {
  createRestaurant(input: {name: $name, timezone: $tz}) {
    __typename
    ... on Restaurant { id }
    ... on InvalidInput { fields { field message } }
  }
}"""
SETUP_TABLE = """
mutation($r: ID!, $label: String!) {
  createDiningTable(input: {restaurantId: $r, label: $label, zone: "Main", minCapacity: 1,
                            maxCapacity: 4}) {
    __typename ... on DiningTable { id label }
  }
}"""
SETUP_BOOKING = """
mutation($r: ID!, $name: String!, $s: DateTime!, $e: DateTime!) {
  createBooking(input: {restaurantId: $r, guestName: $name, partySize: 2, startsAt: $s,
                        endsAt: $e}) {
    __typename ... on Booking { id }
  }
}"""
PROPOSE = """
mutation($b: ID!, $t: [ID!]!) {
  proposeTables(input: {bookingId: $b, tableIds: $t}) {
    __typename
    ... on SessionPayload {
      session { id status version holdExpiresAt proposedTables { label }
                violations { code message conflictingBookingId tableIds } }
    }
    ... on Error { code message }
  }
}"""
CONFIRM = """
mutation($s: ID!, $v: Int) {
  confirmAssignment(input: {sessionId: $s, expectedVersion: $v}) {
    __typename
    ... on SessionPayload { session { status booking { status tables { label } } } }
    ... on SessionNotActive { status }
    ... on Error { code message }
  }
}"""
CANCEL = """
mutation($s: ID!) {
  cancelAssignmentSession(input: {sessionId: $s}) {
    __typename ... on SessionPayload { session { status } }
  }
}"""
FLOOR_EVENTS = """
subscription($r: ID!, $from: DateTime!, $to: DateTime!) {
  floorEvents(restaurantId: $r, from: $from, to: $to) {
    kind sequence resync
    floor { tables { label } allocations { kind table { label } } bookings { id status } }
    allocation { id kind bookingId expiresAt version table { label } }
    booking { id status version tables { label } }
    table { label active version }
  }
}"""
SESSION_EVENTS = """
subscription($s: ID!) {
  sessionEvents(sessionId: $s) {
    sequence resync
    session { status version violations { code conflictingBookingId } }
  }
}"""


class Restaurant:
    """A restaurant set up through the API alone, as a client would."""

    def __init__(self, server: RunningServer, token) -> None:
        self.server = server
        self.token = token
        self.admin = GraphQLHttp(server.base_url, token("admin", user="boss"))
        self.id = ""
        self.tables: dict[str, str] = {}
        self.bookings: dict[str, str] = {}

    async def build(self, tables: int = 2, bookings: int = 2) -> Restaurant:
        data = await self.admin.data(SETUP_RESTAURANT, {"name": "E2E", "tz": "Europe/London"})
        self.id = data["createRestaurant"]["id"]
        for i in range(1, tables + 1):
            data = await self.admin.data(SETUP_TABLE, {"r": self.id, "label": f"T{i}"})
            self.tables[f"T{i}"] = data["createDiningTable"]["id"]
        for i in range(1, bookings + 1):
            data = await self.admin.data(
                SETUP_BOOKING,
                {
                    "r": self.id,
                    "name": f"Guest {i}",
                    "s": EVENING.isoformat(),
                    "e": (EVENING + timedelta(hours=2)).isoformat(),
                },
            )
            self.bookings[f"B{i}"] = data["createBooking"]["id"]
        return self

    def staff(self, user: str) -> GraphQLHttp:
        return GraphQLHttp(self.server.base_url, self.token("staff", user=user))

    async def close(self) -> None:
        await self.admin.close()


@pytest.fixture
async def short_holds(dsn: str) -> AsyncIterator[RunningServer]:
    """The real server with 1-second holds."""
    async with serve_in_process(test_settings(dsn, hold_ttl_seconds=1.0)) as running:
        yield running


async def propose(client: GraphQLHttp, booking: str, *tables: str) -> dict[str, Any]:
    result: dict[str, Any] = (await client.data(PROPOSE, {"b": booking, "t": list(tables)}))[
        "proposeTables"
    ]
    return result


async def test_floor_events__a_staff_client_sees_propose_confirm_and_expiry_in_order(
    short_holds: RunningServer, token
) -> None:
    place = await Restaurant(short_holds, token).build()
    other = place.staff("bea")
    async with websocket(short_holds.ws_url, token("staff", user="al")) as ws:
        sub = await subscribe(ws, FLOOR_EVENTS, {"r": place.id, **WINDOW})
        first = (await sub.next())["floorEvents"]
        assert (first["kind"], first["resync"]) == ("SNAPSHOT", False)
        assert [t["label"] for t in first["floor"]["tables"]] == ["T1", "T2"]
        assert first["floor"]["allocations"] == [] and len(first["floor"]["bookings"]) == 2

        held = await propose(other, place.bookings["B1"], place.tables["T1"])
        session = held["session"]
        assert session["status"] == "HELD"
        confirmed = (await other.data(CONFIRM, {"s": session["id"], "v": session["version"]}))[
            "confirmAssignment"
        ]
        assert confirmed["__typename"] == "SessionPayload"
        assert confirmed["session"]["booking"] == {
            "status": "CONFIRMED",
            "tables": [{"label": "T1"}],
        }
        left = await propose(other, place.bookings["B2"], place.tables["T2"])  # never confirmed
        assert left["session"]["status"] == "HELD"

        events = [(await sub.next(timeout=5))["floorEvents"] for _ in range(5)]
    await other.close()
    await place.close()

    assert [
        (e["kind"], (e["allocation"] or {}).get("table"), (e["booking"] or {}).get("status"))
        for e in events
    ] == [
        ("HOLD_PLACED", {"label": "T1"}, None),
        ("ASSIGNED", {"label": "T1"}, None),
        ("BOOKING_CHANGED", None, "CONFIRMED"),
        ("HOLD_PLACED", {"label": "T2"}, None),
        ("HOLD_EXPIRED", {"label": "T2"}, None),  # the expirer, within the 5 s allowed
    ]
    sequences = [first["sequence"], *(e["sequence"] for e in events)]
    assert sequences == list(range(sequences[0], sequences[0] + 6))
    assert events[1]["allocation"]["id"] == events[0]["allocation"]["id"]  # the hold became it
    assert events[1]["allocation"]["expiresAt"] is None
    assert events[2]["booking"]["tables"] == [{"label": "T1"}]
    assert all(e["resync"] is False for e in events)


async def test_session_events__the_waiting_staff_sees_the_conflict_clear(
    server: RunningServer, token
) -> None:
    place = await Restaurant(server, token).build()
    holder, waiter = place.staff("holder"), place.staff("waiter")
    held = (await propose(holder, place.bookings["B1"], place.tables["T1"]))["session"]
    waiting = (await propose(waiter, place.bookings["B2"], place.tables["T1"]))["session"]
    assert waiting["status"] == "PROPOSED"
    assert waiting["violations"][0]["code"] == "TABLE_CONFLICT"
    assert waiting["violations"][0]["conflictingBookingId"] == place.bookings["B1"]
    assert waiting["violations"][0]["tableIds"] == [place.tables["T1"]]

    async with websocket(server.ws_url, token("staff", user="waiter")) as ws:
        sub = await subscribe(ws, SESSION_EVENTS, {"s": waiting["id"]})
        snap = (await sub.next())["sessionEvents"]
        assert snap["session"]["violations"][0]["code"] == "TABLE_CONFLICT"
        cancelled = await holder.data(CANCEL, {"s": held["id"]})
        assert cancelled["cancelAssignmentSession"]["session"]["status"] == "CANCELLED"
        update = (await sub.next())["sessionEvents"]
    assert update["sequence"] == snap["sequence"] + 1
    assert update["session"] == {
        "status": "PROPOSED",
        "version": waiting["version"] + 1,
        "violations": [],
    }
    # And now the waiting staff gets the table.
    again = await propose(waiter, place.bookings["B2"], place.tables["T1"])
    assert again["session"]["status"] == "HELD" and again["session"]["id"] == waiting["id"]
    for client in (holder, waiter):
        await client.close()
    await place.close()


async def test_graphql__typed_errors_for_bad_input_other_tenants_and_stale_sessions(
    server: RunningServer, token
) -> None:
    place = await Restaurant(server, token).build(tables=1, bookings=1)
    bad = await place.admin.data(SETUP_RESTAURANT, {"name": " ", "tz": "Nowhere/Land"})
    assert bad["createRestaurant"]["__typename"] == "InvalidInput"
    assert {f["field"] for f in bad["createRestaurant"]["fields"]} == {"name", "timezone"}

    staff = place.staff("al")
    session = (await propose(staff, place.bookings["B1"], place.tables["T1"]))["session"]
    stale = await staff.data(CONFIRM, {"s": session["id"], "v": session["version"] + 7})
    assert stale["confirmAssignment"]["__typename"] == "StaleVersion"

    other_tenant = GraphQLHttp(server.base_url, token("staff", "admin", tenant_id=uuid.uuid4()))
    theirs = await propose(other_tenant, place.bookings["B1"], place.tables["T1"])
    assert theirs["__typename"] == "NotFound"
    assert (
        await other_tenant.data(
            "query($id: ID!) { booking(id: $id) { id } }", {"id": place.bookings["B1"]}
        )
    )["booking"] is None
    refused = await other_tenant.data(CONFIRM, {"s": session["id"], "v": None})
    assert refused["confirmAssignment"]["__typename"] == "NotFound"
    body = await other_tenant.raw(
        "query($r: ID!, $f: DateTime!, $t: DateTime!) { floor(restaurantId: $r, from: $f, to: $t)"
        " { restaurantId } }",
        {"r": place.id, "f": WINDOW["from"], "t": WINDOW["to"]},
    )
    assert body["errors"][0]["message"] == "restaurant not found"
    assert body["errors"][0]["extensions"] == {"code": "NOT_FOUND"}
    player = GraphQLHttp(server.base_url, token("player", user="pat"))
    body = await player.raw(
        "query($b: ID!) { suggestTables(bookingId: $b) { score } }", {"b": place.bookings["B1"]}
    )
    await player.close()
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN"}

    async with websocket(server.ws_url, token("staff", tenant_id=uuid.uuid4())) as ws:
        sub = await subscribe(ws, FLOOR_EVENTS, {"r": place.id, **WINDOW})
        with pytest.raises(AssertionError, match=r"restaurant not found.*'code': 'NOT_FOUND'"):
            await sub.next()
    async with websocket(server.ws_url, token("staff", user="al", tenant_id=uuid.uuid4())) as ws:
        sub = await subscribe(ws, SESSION_EVENTS, {"s": session["id"]})
        with pytest.raises(AssertionError, match="assignment session not found"):
            await sub.next()

    done = await staff.data(CONFIRM, {"s": session["id"], "v": session["version"]})
    assert done["confirmAssignment"]["__typename"] == "SessionPayload"
    for client in (staff, other_tenant):
        await client.close()
    await place.close()
    await asyncio.sleep(0)


UPDATE_TABLE = """
mutation($t: ID!, $active: Boolean, $max: Int, $v: Int) {
  updateDiningTable(input: {tableId: $t, active: $active, maxCapacity: $max,
                            expectedVersion: $v}) {
    __typename
    ... on DiningTable { label active maxCapacity version }
    ... on InvalidInput { fields { field message } }
    ... on StaleVersion { currentVersion }
    ... on Error { code message }
  }
}"""


async def test_update_dining_table__over_graphql_and_seen_on_the_floor(
    server: RunningServer, token
) -> None:
    place = await Restaurant(server, token).build(tables=2, bookings=1)
    staff = place.staff("al")
    table = place.tables["T1"]
    refused = await staff.data(UPDATE_TABLE, {"t": table, "active": False})
    assert refused["updateDiningTable"]["__typename"] == "Forbidden"
    bad = await place.admin.data(UPDATE_TABLE, {"t": table, "max": 0})
    assert bad["updateDiningTable"]["fields"] == [
        {"field": "maxCapacity", "message": "must be between 1 and 50"}
    ]
    stale = await place.admin.data(UPDATE_TABLE, {"t": table, "active": False, "v": 9})
    assert stale["updateDiningTable"]["__typename"] == "StaleVersion"
    assert stale["updateDiningTable"]["currentVersion"] == 1

    async with websocket(server.ws_url, token("staff", user="al")) as ws:
        sub = await subscribe(ws, FLOOR_EVENTS, {"r": place.id, **WINDOW})
        assert (await sub.next())["floorEvents"]["kind"] == "SNAPSHOT"
        done = await place.admin.data(UPDATE_TABLE, {"t": table, "active": False, "v": 1})
        assert done["updateDiningTable"] == {
            "__typename": "DiningTable",
            "label": "T1",
            "active": False,
            "maxCapacity": 4,
            "version": 2,
        }
        changed = (await sub.next(timeout=5))["floorEvents"]
    assert (changed["kind"], changed["table"]) == (
        "TABLE_CHANGED",
        {"label": "T1", "active": False, "version": 2},
    )
    proposed = await propose(staff, place.bookings["B1"], table)
    assert proposed["session"]["status"] == "PROPOSED"
    assert [v["code"] for v in proposed["session"]["violations"]] == ["TABLE_INACTIVE"]
    await staff.close()
    await place.close()
