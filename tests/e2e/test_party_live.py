"""A party through the real server: an admin sets it up over HTTP with variables, guests and
the admin watch partyEvents, and each guest's phone gets the plan with only their own roles."""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack
from typing import Any

import pytest

from tests.support.gql import GraphQLHttp, subscribe, websocket
from tests.support.server import RunningServer

PARTY = """
fragment P on Party {
  id name version assignedAt
  participants { id displayName }
  missions { id type title detail slots { role participant { id displayName } } }
}
"""
RESULT = """
  __typename ... on Party { ...P }
  ... on InvalidInput { code fields { field message } } ... on Error { code message }
"""
CREATE = PARTY + "mutation($name: String!) { createParty(input: {name: $name}) {" + RESULT + "} }"
ADD_GUESTS = (
    PARTY
    + """
mutation($id: ID!, $guests: [PartyParticipantInput!]!) {
  addPartyParticipants(input: {partyId: $id, participants: $guests}) {"""
    + RESULT
    + "} }"
)
ADD_MISSIONS = (
    PARTY
    + """
mutation($id: ID!, $missions: [PartyMissionInput!]!) {
  addPartyMissions(input: {partyId: $id, missions: $missions}) {"""
    + RESULT
    + "} }"
)
ASSIGN = (
    PARTY
    + """
mutation($input: AssignPartyMissionsInput!) { assignPartyMissions(input: $input) {
  __typename ... on PartyAssignmentPayload { assignedSlots party { ...P } }
  ... on Infeasible { code message reasons } ... on Error { code message } } }
"""
)
MINE = """
query($id: ID!) { myPartyMissions(partyId: $id) {
  role mission { id type title slots { role participant { id } } } } }
"""
GET = PARTY + "query($id: ID!) { party(id: $id) { ...P } }"
EVENTS = (
    PARTY
    + "subscription($id: ID!) { partyEvents(partyId: $id) { kind sequence resync party { ...P } } }"
)

GUESTS = [{"userId": f"guest-{i}", "displayName": f"Guest {i}"} for i in range(9)]
MISSIONS = [
    *({"type": "BOOK", "title": f"Book {i}", "detail": "Talk about it"} for i in range(5)),
    *({"type": "PASSPHRASE", "title": f"Phrase {i}", "detail": "Say it"} for i in range(4)),
    *({"type": "OBJECT", "title": f"Thing {i}", "detail": "Take it"} for i in range(9)),
]


def holders(party: dict[str, Any]) -> set[str]:
    return {
        s["participant"]["id"] for m in party["missions"] for s in m["slots"] if s["participant"]
    }


async def test_party__set_up_assigned_and_pushed_to_every_guest_with_only_their_roles(
    server: RunningServer, token
) -> None:
    async with AsyncExitStack() as stack:
        boss = GraphQLHttp(server.base_url, token("admin", user="boss"))
        stack.push_async_callback(boss.close)
        created = (await boss.data(CREATE, {"name": "Friday"}))["createParty"]
        assert created["__typename"] == "Party"
        party_id = created["id"]

        bad = (await boss.data(ADD_GUESTS, {"id": party_id, "guests": [GUESTS[0], GUESTS[0]]}))[
            "addPartyParticipants"
        ]
        assert bad["__typename"] == "InvalidInput"
        assert [f["field"] for f in bad["fields"]] == ["participants[1].userId"]

        added = (await boss.data(ADD_GUESTS, {"id": party_id, "guests": GUESTS}))[
            "addPartyParticipants"
        ]
        assert [p["displayName"] for p in added["participants"]] == [
            g["displayName"] for g in GUESTS
        ]
        pooled = (await boss.data(ADD_MISSIONS, {"id": party_id, "missions": MISSIONS}))[
            "addPartyMissions"
        ]
        assert [len(m["slots"]) for m in pooled["missions"]] == [2] * 5 + [3] * 4 + [1] * 9
        assert not holders(pooled)

        watchers = {}
        for g in (GUESTS[0], GUESTS[1]):
            ws = await stack.enter_async_context(
                websocket(server.ws_url, token("player", user=g["userId"]))
            )
            watchers[g["userId"]] = await subscribe(ws, EVENTS, {"id": party_id})
        ws = await stack.enter_async_context(websocket(server.ws_url, token("admin", user="b")))
        watchers["boss"] = await subscribe(ws, EVENTS, {"id": party_id})
        for sub in watchers.values():
            first = (await sub.next())["partyEvents"]
            assert (first["kind"], first["sequence"], first["resync"]) == ("SNAPSHOT", 1, False)
            assert first["party"]["version"] == pooled["version"]

        done = (await boss.data(ASSIGN, {"input": {"partyId": party_id, "seed": 11}}))[
            "assignPartyMissions"
        ]
        assert done["__typename"] == "PartyAssignmentPayload" and done["assignedSlots"] == 27
        ids = {p["displayName"]: p["id"] for p in done["party"]["participants"]}
        assert holders(done["party"]) == set(ids.values())

        everything = (await watchers["boss"].next())["partyEvents"]
        assert (everything["kind"], everything["sequence"]) == ("MISSIONS_ASSIGNED", 2)
        assert everything["party"] == done["party"]
        for g in (GUESTS[0], GUESTS[1]):
            event = (await watchers[g["userId"]].next())["partyEvents"]
            assert (event["kind"], event["sequence"]) == ("MISSIONS_ASSIGNED", 2)
            mine = ids[g["displayName"]]
            assert holders(event["party"]) == {mine}
            assert [m["id"] for m in event["party"]["missions"]] == [
                m["id"] for m in done["party"]["missions"]
            ]
            phone = GraphQLHttp(server.base_url, token("player", user=g["userId"]))
            stack.push_async_callback(phone.close)
            own = (await phone.data(MINE, {"id": party_id}))["myPartyMissions"]
            assert len(own) == 3 and len({m["mission"]["type"] for m in own}) >= 2
            for m in own:
                assert [
                    s["participant"]["id"] for s in m["mission"]["slots"] if s["participant"]
                ] == [mine]
            seen = (await phone.data(GET, {"id": party_id}))["party"]
            assert seen == event["party"]

        late = (
            await boss.data(
                ADD_GUESTS, {"id": party_id, "guests": [{"userId": "late", "displayName": "Late"}]}
            )
        )["addPartyParticipants"]
        assert late["assignedAt"] == done["party"]["assignedAt"]
        event = (await watchers["boss"].next())["partyEvents"]
        assert (event["kind"], event["sequence"]) == ("PARTICIPANTS_CHANGED", 3)
        added_missions = await boss.data(ADD_MISSIONS, {"id": party_id, "missions": MISSIONS[:1]})
        assert added_missions["addPartyMissions"]["__typename"] == "Party"
        event = (await watchers[GUESTS[0]["userId"]].next())["partyEvents"]
        assert event["kind"] == "PARTICIPANTS_CHANGED"
        event = (await watchers[GUESTS[0]["userId"]].next())["partyEvents"]
        assert (event["kind"], event["sequence"]) == ("MISSIONS_CHANGED", 4)


async def test_party__strangers_and_other_tenants_get_not_found_everywhere(
    server: RunningServer, token
) -> None:
    async with AsyncExitStack() as stack:
        boss = GraphQLHttp(server.base_url, token("admin", user="boss"))
        stack.push_async_callback(boss.close)
        party_id = (await boss.data(CREATE, {"name": "Private"}))["createParty"]["id"]
        await boss.data(ADD_GUESTS, {"id": party_id, "guests": GUESTS[:3]})
        strangers = [
            token("player", user="someone-else"),
            token("player", user="guest-0", tenant_id=uuid.uuid4()),
            token("admin", user="boss", tenant_id=uuid.uuid4()),
            token("staff", user="guest-0"),
        ]
        for value in strangers:
            http = GraphQLHttp(server.base_url, value)
            stack.push_async_callback(http.close)
            for query in (GET, MINE):
                answer = await http.raw(query, {"id": party_id})
                assert [e["extensions"]["code"] for e in answer["errors"]] == ["NOT_FOUND"]
                assert "Private" not in str(answer) and "guest-" not in str(answer)
            ws = await stack.enter_async_context(websocket(server.ws_url, value))
            sub = await subscribe(ws, EVENTS, {"id": party_id})
            with pytest.raises(AssertionError, match=r"no such party.*'code': 'NOT_FOUND'"):
                await sub.next()
        other = GraphQLHttp(server.base_url, token("admin", tenant_id=uuid.uuid4()))
        stack.push_async_callback(other.close)
        refused = (await other.data(ADD_GUESTS, {"id": party_id, "guests": GUESTS[3:4]}))[
            "addPartyParticipants"
        ]
        assert [f["field"] for f in refused["fields"]] == ["partyId"]
        assigned = (await other.data(ASSIGN, {"input": {"partyId": party_id}}))[
            "assignPartyMissions"
        ]
        assert assigned["code"] == "NOT_FOUND"
