"""Every field of every floorEvents and sessionEvents event is what a fresh query says.

A screen drawn from events alone must show what a reload would: each event is compared,
field by field, with the same rows read by queries once the change that sent it is done
(each step waits for its events, so the state has not moved on when it is queried).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.e2e.test_tables_floor import WINDOW, Restaurant
from tests.support.gql import GraphQLHttp, Subscription, subscribe, websocket
from tests.support.server import RunningServer, serve_in_process, test_settings

TABLE = "id label zone minCapacity maxCapacity active restaurantId version"
BOOKING = f"id restaurantId guestName partySize startsAt endsAt status version tables {{ {TABLE} }}"
ALLOCATION = (
    f"id kind bookingId sessionId startsAt endsAt expiresAt version releasedAt table {{ {TABLE} }}"
)
SESSION = (
    f"id status version holdExpiresAt lastValidatedAt createdBy createdAt updatedAt"
    f" proposedTables {{ {TABLE} }} violations {{ code message tableIds conflictingBookingId }}"
    f" booking {{ {BOOKING} }}"
)
FLOOR_EVENTS = f"""
subscription($r: ID!, $from: DateTime!, $to: DateTime!) {{
  floorEvents(restaurantId: $r, from: $from, to: $to) {{
    kind sequence resync
    floor {{ restaurantId from to tables {{ {TABLE} }} allocations {{ {ALLOCATION} }}
             bookings {{ {BOOKING} }} }}
    allocation {{ {ALLOCATION} }}
    booking {{ {BOOKING} }}
    table {{ {TABLE} }}
  }}
}}"""
SESSION_EVENTS = f"""
subscription($s: ID!) {{
  sessionEvents(sessionId: $s) {{ sequence resync session {{ {SESSION} }} }}
}}"""
FLOOR = f"""
query($r: ID!, $from: DateTime!, $to: DateTime!) {{
  floor(restaurantId: $r, from: $from, to: $to) {{
    restaurantId from to tables {{ {TABLE} }} allocations {{ {ALLOCATION} }}
    bookings {{ {BOOKING} }}
  }}
}}"""
BOOKING_QUERY = f"query($id: ID!) {{ booking(id: $id) {{ {BOOKING} }} }}"
SESSION_QUERY = f"query($id: ID!) {{ assignmentSession(id: $id) {{ {SESSION} }} }}"
PROPOSE = f"""
mutation($b: ID!, $t: [ID!]!) {{
  proposeTables(input: {{bookingId: $b, tableIds: $t}}) {{
    __typename ... on SessionPayload {{ session {{ {SESSION} }} }}
  }}
}}"""
CONFIRM = """
mutation($s: ID!) {
  confirmAssignment(input: {sessionId: $s}) { __typename }
}"""
CANCEL = """
mutation($s: ID!) { cancelAssignmentSession(input: {sessionId: $s}) { __typename } }"""
EDIT_TABLE = """
mutation($t: ID!) { updateDiningTable(input: {tableId: $t, zone: "Terrace"}) { __typename } }"""
SET_STATUS = """
mutation($b: ID!, $s: BookingStatus!) {
  setBookingStatus(input: {bookingId: $b, status: $s}) { __typename }
}"""


@pytest.fixture
async def six_second_holds(dsn: str) -> AsyncIterator[RunningServer]:
    """The real server with holds short enough to see one expire."""
    async with serve_in_process(test_settings(dsn, hold_ttl_seconds=6.0)) as running:
        yield running


async def _drain(sub: Subscription, field: str, quiet: float = 0.8) -> list[dict[str, Any]]:
    """Every event until none has come for `quiet` seconds."""
    events = []
    while True:
        try:
            events.append((await sub.next(timeout=quiet))[field])
        except TimeoutError:
            return events


class Checker:
    """Compares events with fresh queries of the same rows."""

    def __init__(self, place: Restaurant, reader: GraphQLHttp) -> None:
        self.place = place
        self.reader = reader
        self.kinds: set[str] = set()

    async def floor(self) -> dict[str, Any]:
        data = await self.reader.data(FLOOR, {"r": self.place.id, **WINDOW})
        floor: dict[str, Any] = data["floor"]
        return floor

    async def floor_event(self, event: dict[str, Any]) -> None:
        self.kinds.add(event["kind"])
        assert event["resync"] is False
        now = await self.floor()
        if event["kind"] == "SNAPSHOT":
            assert event["floor"] == now
            return
        assert event["floor"] is None
        if event["allocation"] is not None:
            allocation = event["allocation"]
            live = {a["id"]: a for a in now["allocations"]}
            if allocation["releasedAt"] is None:
                assert allocation == live[allocation["id"]], event["kind"]
            else:
                assert allocation["id"] not in live, event["kind"]
        if event["booking"] is not None:
            fresh = await self.reader.data(BOOKING_QUERY, {"id": event["booking"]["id"]})
            assert event["booking"] == fresh["booking"], event["kind"]
        if event["table"] is not None:
            tables = {t["id"]: t for t in now["tables"]}
            assert event["table"] == tables[event["table"]["id"]], event["kind"]

    async def session_event(self, event: dict[str, Any], owner: GraphQLHttp) -> None:
        fresh = await owner.data(SESSION_QUERY, {"id": event["session"]["id"]})
        assert event["session"] == fresh["assignmentSession"]


async def test_every_floor_and_session_event__equals_a_fresh_query_field_by_field(
    six_second_holds: RunningServer, token
) -> None:
    server = six_second_holds
    place = await Restaurant(server, token).build()
    staff = place.staff("al")
    check = Checker(place, staff)
    b1, b2 = place.bookings["B1"], place.bookings["B2"]
    t1, t2 = place.tables["T1"], place.tables["T2"]
    async with websocket(server.ws_url, token("staff", user="al")) as ws:
        floor = await subscribe(ws, FLOOR_EVENTS, {"r": place.id, **WINDOW})
        await check.floor_event((await floor.next())["floorEvents"])

        async def step(
            mutation: str,
            variables: dict[str, Any],
            *sessions: Subscription,
            by: GraphQLHttp = staff,
        ) -> dict[str, Any]:
            result = await by.data(mutation, variables)
            assert all(r["__typename"] != "Forbidden" for r in result.values())
            for event in await _drain(floor, "floorEvents"):
                await check.floor_event(event)
            for sub in sessions:
                for event in await _drain(sub, "sessionEvents", quiet=0.3):
                    await check.session_event(event, staff)
            return result

        held = (await step(PROPOSE, {"b": b1, "t": [t1]}))["proposeTables"]["session"]
        first = await subscribe(ws, SESSION_EVENTS, {"s": held["id"]})
        await check.session_event((await first.next())["sessionEvents"], staff)
        await step(PROPOSE, {"b": b1, "t": [t1]}, first)  # the same tables: the hold extended
        await step(CONFIRM, {"s": held["id"]}, first)
        waiting = (await step(PROPOSE, {"b": b2, "t": [t1]}))["proposeTables"]["session"]
        assert waiting["status"] == "PROPOSED"  # T1 is taken: violations, no hold
        second = await subscribe(ws, SESSION_EVENTS, {"s": waiting["id"]})
        await check.session_event((await second.next())["sessionEvents"], staff)
        await step(PROPOSE, {"b": b2, "t": [t2]}, second)
        await step(CANCEL, {"s": waiting["id"]}, second)
        await step(EDIT_TABLE, {"t": t2}, by=place.admin)  # only admins edit tables
        await step(SET_STATUS, {"b": b1, "s": "CANCELLED"}, first)
        expiring = (await step(PROPOSE, {"b": b2, "t": [t2]}))["proposeTables"]["session"]
        third = await subscribe(ws, SESSION_EVENTS, {"s": expiring["id"]})
        await check.session_event((await third.next())["sessionEvents"], staff)
        for _ in range(30):  # the expirer releases the hold a moment after its 6 s
            if "HOLD_EXPIRED" in check.kinds:
                break
            for event in await _drain(floor, "floorEvents", quiet=0.5):
                await check.floor_event(event)
        for event in await _drain(third, "sessionEvents", quiet=0.3):
            await check.session_event(event, staff)
        await asyncio.sleep(0)
    await staff.close()
    await place.close()

    assert check.kinds == {
        "SNAPSHOT",
        "HOLD_PLACED",
        "HOLD_RELEASED",
        "HOLD_EXPIRED",
        "ASSIGNED",
        "UNASSIGNED",
        "BOOKING_CHANGED",
        "TABLE_CHANGED",
    }
