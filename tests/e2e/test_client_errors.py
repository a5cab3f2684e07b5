"""Client mistakes over the real server: each is the GraphQL error it is, with a code, and is
logged as a refusal (INFO), never as a server failure."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport

from tests.support.gql import GraphQLHttp
from tests.support.server import RunningServer, serve_in_process, test_settings

FLOOR = (
    "query Floor($r: ID!, $f: DateTime!, $t: DateTime!) {"
    " floor(restaurantId: $r, from: $f, to: $t) { tables { id } } }"
)
OK_TIME = "2031-06-01T18:00:00Z"
SET_STATUS = (
    "mutation($input: SetBookingStatusInput!) { setBookingStatus(input: $input) { __typename } }"
)
CREATE_BOOKING = (
    "mutation($input: CreateBookingInput!) { createBooking(input: $input) { __typename } }"
)
BOOKING_ID = "00000000-0000-4000-8000-000000000001"

# (query, variables, what the message must name)
VARIABLE_MISTAKES: dict[str, tuple[str, dict[str, Any] | None, str]] = {
    "wrong type": (FLOOR, {"r": "x", "f": 5, "t": OK_TIME}, "$f"),
    "missing required": (FLOOR, {"r": "x", "f": OK_TIME}, "$t"),
    "no variables at all": (FLOOR, None, "$r"),
    "empty DateTime": (FLOOR, {"r": "x", "f": "", "t": OK_TIME}, "$f"),
    "impossible date": (FLOOR, {"r": "x", "f": "2026-13-45", "t": OK_TIME}, "$f"),
    "impossible hour": (FLOOR, {"r": "x", "f": "2026-12-02T25:00:00Z", "t": OK_TIME}, "$f"),
    "null for ID!": (FLOOR, {"r": None, "f": OK_TIME, "t": OK_TIME}, "$r"),
    "object for ID": (FLOOR, {"r": {"id": "x"}, "f": OK_TIME, "t": OK_TIME}, "$r"),
    "list for ID": (FLOOR, {"r": ["x"], "f": OK_TIME, "t": OK_TIME}, "$r"),
    "bad enum value": (
        SET_STATUS,
        {"input": {"bookingId": BOOKING_ID, "status": "ON_THE_MOON"}},
        "$input",
    ),
    "input missing a required field": (
        CREATE_BOOKING,
        {"input": {"restaurantId": BOOKING_ID, "guestName": "Ana", "partySize": 2}},
        "$input",
    ),
    "input with an unknown field": (
        SET_STATUS,
        {"input": {"bookingId": BOOKING_ID, "status": "SEATED", "colour": "red"}},
        "$input",
    ),
    "Int out of range": (
        SET_STATUS,
        {"input": {"bookingId": BOOKING_ID, "status": "SEATED", "expectedVersion": 2**40}},
        "$input",
    ),
}


def _refusals_only(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
    assert any(
        r.levelno == logging.INFO and "request refused" in r.getMessage() for r in caplog.records
    )


@pytest.mark.parametrize("case", list(VARIABLE_MISTAKES))
async def test_variable_mistake__is_bad_user_input_naming_the_variable(
    server: RunningServer, token, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    query, variables, variable = VARIABLE_MISTAKES[case]
    caplog.set_level(logging.INFO)
    client = GraphQLHttp(server.base_url, token("admin", "staff"))
    response = await client.client.post(
        "/graphql",
        json={"query": query} if variables is None else {"query": query, "variables": variables},
    )
    await client.close()
    body = response.json()
    assert response.status_code == 200
    assert body["data"] is None
    assert body["errors"]
    for error in body["errors"]:
        assert error["extensions"] == {"code": "BAD_USER_INPUT"}, error
        assert error["message"].startswith("Variable '$"), error
    assert any(f"Variable '{variable}'" in e["message"] for e in body["errors"])
    _refusals_only(caplog)


@pytest.mark.parametrize(
    "case", ["wrong type", "impossible date", "null for ID!", "bad enum value"]
)
async def test_variable_mistake__reaches_the_gql_client_as_bad_user_input(
    server: RunningServer, token, case: str
) -> None:
    """What a typed client (here the real `gql` library) sees of a variable mistake."""
    query, variables, variable = VARIABLE_MISTAKES[case]
    transport = HTTPXAsyncTransport(
        url=f"{server.base_url}/graphql",
        headers={"authorization": f"Bearer {token('admin', 'staff')}"},
    )
    async with Client(transport=transport) as session:
        with pytest.raises(TransportQueryError) as caught:
            await session.execute(GraphQLRequest(query, variable_values=variables))
    errors = caught.value.errors or []
    assert errors and all(e["extensions"] == {"code": "BAD_USER_INPUT"} for e in errors)
    assert any(f"Variable '{variable}'" in e["message"] for e in errors)


INLINE_MISTAKES = {
    "unknown field": "{ viewer { shoeSize } }",
    "bad DateTime literal": (
        '{ floor(restaurantId: "x", from: "2026-13-45", to: "2031-06-01T18:00:00Z")'
        " { tables { id } } }"
    ),
    "empty DateTime literal": (
        '{ floor(restaurantId: "x", from: "", to: "2031-06-01T18:00:00Z") { tables { id } } }'
    ),
    "bad enum literal": (
        'mutation { setBookingStatus(input: {bookingId: "x", status: ON_THE_MOON}) { __typename } }'
    ),
    "missing argument": "{ booking { id } }",
    "undefined variable": "{ booking(id: $nope) { id } }",
    "unused variable of unknown type": "query($x: NoSuchType) { viewer { userId } }",
}


@pytest.mark.parametrize("case", list(INLINE_MISTAKES))
async def test_invalid_document__is_graphql_validation_failed(
    server: RunningServer, token, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    caplog.set_level(logging.INFO)
    client = GraphQLHttp(server.base_url, token("admin", "staff"))
    body = await client.raw(INLINE_MISTAKES[case])
    await client.close()
    assert body["data"] is None
    assert body["errors"]
    for error in body["errors"]:
        assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}, error
        assert "Internal error" not in error["message"]
    _refusals_only(caplog)


@pytest.mark.parametrize("document", ["{ viewer { userId }", "{ viewer(", "query }", "}{", "#"])
async def test_unparsable_document__is_graphql_parse_failed(
    server: RunningServer, token, caplog: pytest.LogCaptureFixture, document: str
) -> None:
    caplog.set_level(logging.INFO)
    client = GraphQLHttp(server.base_url, token())
    body = await client.raw(document)
    await client.close()
    [error] = body["errors"]
    assert error["message"].startswith("Syntax Error")
    assert error["extensions"] == {"code": "GRAPHQL_PARSE_FAILED"}
    _refusals_only(caplog)


async def test_limits__errors_carry_query_too_complex(
    dsn: str, token, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    deep = "{ viewer { userId } }"
    aliases = "{ " + " ".join(f"a{i}: viewer {{ userId }}" for i in range(40)) + " }"
    tokens = "{ viewer { " + " ".join(["userId"] * 2100) + " } }"
    settings = test_settings(dsn, max_query_depth=0)
    async with serve_in_process(settings) as running:
        client = GraphQLHttp(running.base_url, token())
        bodies = {
            "depth": await client.raw(deep),
            "aliases": await client.raw(aliases),
            "tokens": await client.raw(tokens),
        }
        await client.close()
    expected = {
        "depth": "exceeds maximum operation depth of 0",
        "aliases": "40 aliases found. Allowed: 30",
        "tokens": "Document contains more than 2000 tokens",
    }
    for name, body in bodies.items():
        assert body["data"] is None
        messages = [e["message"] for e in body["errors"]]
        assert any(expected[name] in m for m in messages), (name, messages)
        for error in body["errors"]:
            assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX"}, (name, error)
    _refusals_only(caplog)


def _nested(field: str, levels: int, leaf: str = "name") -> str:
    return "".join(f"{field} {{ " for _ in range(levels)) + leaf + " }" * levels


async def test_introspection__exempt_from_depth_limit_but_bounded_by_its_own_rule(
    server: RunningServer, token
) -> None:
    """Introspection is exempt from ALLOT_MAX_QUERY_DEPTH on purpose (GraphiQL's and client
    generators' introspection queries nest `ofType` deeply); graphql-core's introspection depth
    rule refuses what only a recursive walk of the schema needs."""
    from graphql import get_introspection_query

    client = GraphQLHttp(server.base_url, token())
    # 14 levels against the limit of 12: __schema > types > fields > type > 10 x ofType
    fourteen = "{ __schema { types { fields { type { " + _nested("ofType", 10) + " } } } } }"
    deep = await client.raw(fourteen)
    full = await client.raw(get_introspection_query(descriptions=True))
    # a walk through the schema by `fields { type { fields ...`, four `fields` deep
    walk = (
        '{ __type(name: "Query") { fields { type { fields { type { fields { type {'
        " fields { name } } } } } } } } }"
    )
    recursive = await client.raw(walk)
    ordinary = await client.raw("{ " + _nested("viewer", 1, "userId") + " }")
    await client.close()
    assert not deep.get("errors"), deep.get("errors")
    assert not full.get("errors") and full["data"]["__schema"]["queryType"]["name"] == "Query"
    assert recursive["data"] is None
    assert recursive["errors"]
    for error in recursive["errors"]:
        assert error["message"] == "Maximum introspection depth exceeded"
        assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX"}
    assert not ordinary.get("errors")


@pytest.mark.parametrize("operation_name", [None, "Nope"])
async def test_two_operations__without_a_name_that_picks_one_is_refused(
    server: RunningServer, token, caplog: pytest.LogCaptureFixture, operation_name: str | None
) -> None:
    """The spec's rule: a document of several operations runs only the one operationName names."""
    caplog.set_level(logging.INFO)
    client = GraphQLHttp(server.base_url, token())
    document = "query A { viewer { userId } } query B { viewer { roles } }"
    payload: dict[str, object] = {"query": document}
    if operation_name is not None:
        payload["operationName"] = operation_name
    response = await client.client.post("/graphql", json=payload)
    picked = await client.client.post("/graphql", json={"query": document, "operationName": "B"})
    await client.close()
    body = response.json()
    assert body.get("data") is None, body
    [error] = body["errors"]
    assert "operation" in error["message"].lower()
    assert error["extensions"] == {"code": "OPERATION_RESOLUTION_FAILURE"}
    assert picked.json() == {"data": {"viewer": {"roles": ["ADMIN"]}}}
    _refusals_only(caplog)
