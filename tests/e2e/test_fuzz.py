"""Fuzz the whole API over HTTP: operations generated from the served schema, valid and invalid,
half of them with their arguments moved into variables (some of those then spoiled), and
garbage bodies. Whatever comes back is a GraphQL answer: never an HTTP 500, never
INTERNAL_ERROR, never a traceback or SQL; nothing is logged at ERROR; the server still
answers afterwards.

ALLOT_FUZZ_OPERATIONS sets how many operations (2,000 by default), ALLOT_FUZZ_SEED the seed
(fixed by default, so a run is repeatable; any integer explores other operations).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import graphql
import httpx
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries

from tests.support.server import RunningServer

OPERATIONS = int(os.environ.get("ALLOT_FUZZ_OPERATIONS", "2000"))
SEED = int(os.environ.get("ALLOT_FUZZ_SEED", "20261202"))
ALL_ROLES = ("admin", "staff", "player", "creator", "worker")

# What a response must never show: a traceback, a Python file, a driver or SQL error.
LEAKS = ("Traceback", 'File "', "asyncpg", "SQLSTATE", "syntax error at or near", "psycopg")

# Values a client gets wrong, by the kind of type they were meant for.
NEAR_MISSES: dict[str, list[Any]] = {
    "DateTime": ["", "2026-13-45", "2026-12-02T25:00:00Z", "tomorrow", 5, None, {}],
    "ID": [None, {}, ["x"], 5, "", "\x00", "\ud800"],
    "String": [None, 5, {}, "\x00", "\ud800", "x" * 10_000],
    "Int": [None, "1", 1.5, 2**40, -(2**40), {}],
    "Float": [None, "x", {}, []],
    "Boolean": [None, "true", 0],
    "JSON": [None, "\ud800", {"\x00": 1}, [[[[]]]]],
    "enum": [None, "NOT_A_VALUE", 5, ""],
    "input": [None, {}, [], "x", {"unknownField": 1}],
    "list": [None, [None], "x", [{}]],
}


def _datetimes() -> st.SearchStrategy[graphql.ValueNode]:
    good = st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
    ).map(lambda d: d.isoformat())
    bad = st.sampled_from(NEAR_MISSES["DateTime"][:4]) | st.text(max_size=30)
    return (good | bad).map(nodes.String)


def _json_values() -> st.SearchStrategy[graphql.ValueNode]:
    return st.one_of(
        st.integers(-1000, 1000).map(nodes.Int),
        st.text(max_size=20).map(nodes.String),
        st.just(graphql.NullValueNode()),
        st.lists(st.integers(0, 9).map(nodes.Int), max_size=4).map(
            lambda items: nodes.List(list(items))
        ),
    )


SCALARS = {"DateTime": _datetimes(), "JSON": _json_values()}


def _type_key(type_: graphql.GraphQLInputType) -> str:
    named = graphql.get_nullable_type(type_)
    if isinstance(named, graphql.GraphQLList):
        return "list"
    if isinstance(named, graphql.GraphQLEnumType):
        return "enum"
    if isinstance(named, graphql.GraphQLInputObjectType):
        return "input"
    assert isinstance(named, graphql.GraphQLScalarType)
    return named.name if named.name in NEAR_MISSES else "String"


def with_variables(
    schema: graphql.GraphQLSchema, query: str, rng: random.Random
) -> tuple[str, dict[str, Any] | None]:
    """Move every root field's arguments into variables, as typed clients send them; now and
    then spoil one variable's value, leave one out, or send no variables at all."""
    document = graphql.parse(query)
    operation = document.definitions[0]
    assert isinstance(operation, graphql.OperationDefinitionNode)
    root = schema.get_root_type(operation.operation)
    assert root is not None
    variables: dict[str, Any] = {}
    definitions: list[graphql.VariableDefinitionNode] = []
    types: dict[str, graphql.GraphQLInputType] = {}
    fields = []
    for selection in operation.selection_set.selections:
        if not isinstance(selection, graphql.FieldNode) or not selection.arguments:
            fields.append(selection)
            continue
        field = root.fields[selection.name.value]
        arguments = []
        for argument in selection.arguments:
            name = f"v{len(definitions)}"
            type_ = field.args[argument.name.value].type
            types[name] = type_
            variables[name] = graphql.value_from_ast_untyped(argument.value)
            definitions.append(
                graphql.VariableDefinitionNode(
                    variable=graphql.VariableNode(name=graphql.NameNode(value=name)),
                    type=graphql.parse_type(str(type_)),
                )
            )
            arguments.append(
                graphql.ArgumentNode(
                    name=argument.name,
                    value=graphql.VariableNode(name=graphql.NameNode(value=name)),
                )
            )
        fields.append(
            graphql.FieldNode(
                alias=selection.alias,
                name=selection.name,
                arguments=tuple(arguments),
                directives=selection.directives,
                selection_set=selection.selection_set,
            )
        )
    rewritten = graphql.OperationDefinitionNode(
        operation=operation.operation,
        name=graphql.NameNode(value="Fuzz"),
        variable_definitions=tuple(definitions),
        selection_set=graphql.SelectionSetNode(selections=tuple(fields)),
    )
    text = graphql.print_ast(graphql.DocumentNode(definitions=(rewritten,)))
    roll = rng.random()
    if variables and roll < 0.3:
        name = rng.choice(sorted(variables))
        variables[name] = rng.choice(NEAR_MISSES[_type_key(types[name])])
    elif variables and roll < 0.4:
        del variables[rng.choice(sorted(variables))]
    elif roll < 0.45:
        return text, None
    return text, variables


def _problems(response: httpx.Response) -> list[str]:
    """What is wrong with one answer (empty: nothing)."""
    found = []
    if response.status_code >= 500:
        found.append(f"HTTP {response.status_code}")
    found += [f"leaks {leak!r}" for leak in LEAKS if leak in response.text]
    try:
        body = response.json()
    except ValueError:
        return [*found, f"not JSON: {response.text[:200]!r}"]
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(body, dict) or ("data" not in body and not errors):
        found.append("not a GraphQL response")
    for error in errors or []:
        if (error.get("extensions") or {}).get("code") == "INTERNAL_ERROR":
            found.append(f"INTERNAL_ERROR at {error.get('path')}")
    return found


class _Errors(logging.Handler):
    """Every record the server logs at ERROR or above while the fuzz runs."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logged_errors() -> Iterator[list[logging.LogRecord]]:
    handler = _Errors()
    logging.getLogger().addHandler(handler)
    try:
        yield handler.records
    finally:
        logging.getLogger().removeHandler(handler)


def runs(count: int) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """`count` examples from the fixed (or ALLOT_FUZZ_SEED's) seed, none remembered between
    runs, however long each takes."""

    def apply(test: Callable[..., None]) -> Callable[..., None]:
        limited = settings(
            max_examples=count,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )(test)
        return seed(SEED)(limited)

    return apply


def _served(root: graphql.GraphQLObjectType) -> list[str]:
    """The root fields of the API itself: the test server's probe area (whose `probeFail`
    fails on purpose, to test the INTERNAL_ERROR mask) is not fuzzed."""
    return [name for name in root.fields if not name.startswith("probe")]


def _fuzz(server: RunningServer, token: str) -> list[tuple[str, Any, list[str]]]:
    """Generate and send OPERATIONS operations (in a thread: the server runs on the loop)."""
    with httpx.Client(
        base_url=server.base_url, headers={"authorization": f"Bearer {token}"}, timeout=30
    ) as http:
        introspection = http.post(
            "/graphql", json={"query": graphql.get_introspection_query()}
        ).json()["data"]
        schema = graphql.build_client_schema(introspection)
        # Mostly one root field at a time (every field gets its turn), and now and then
        # several at once, as a client's document may ask. Each strategy is built once.
        assert schema.query_type is not None and schema.mutation_type is not None
        roots = ((queries, schema.query_type), (mutations, schema.mutation_type))
        modes = (Mode.POSITIVE, Mode.NEGATIVE)
        wholes = [
            make(schema, fields=_served(root), custom_scalars=SCALARS, mode=mode)
            for make, root in roots
            for mode in modes
        ]
        singles = [
            make(schema, fields=[field], custom_scalars=SCALARS, mode=mode)
            for make, root in roots
            for field in _served(root)
            for mode in modes
            # one field without arguments cannot be made invalid
            if mode is Mode.POSITIVE or root.fields[field].args
        ]
        operations = st.one_of(
            st.sampled_from(singles), st.sampled_from(singles), st.sampled_from(wholes)
        ).flatmap(lambda strategy: strategy)
        findings: list[tuple[str, Any, list[str]]] = []

        @runs(OPERATIONS)
        @given(query=operations, moved=st.booleans(), rng=st.randoms(use_true_random=False))
        def send(query: str, moved: bool, rng: random.Random) -> None:
            variables: dict[str, Any] | None = None
            if moved:
                try:
                    query, variables = with_variables(schema, query, rng)
                except graphql.GraphQLError:
                    pass  # an invalid operation that does not parse: sent as generated
            body = json.dumps({"query": query, "variables": variables})
            response = http.post(
                "/graphql", content=body, headers={"content-type": "application/json"}
            )
            problems = _problems(response)
            if problems:
                findings.append((query, variables, problems))

        send()
        return findings


async def test_generated_operations__never_fail_as_the_server(
    server: RunningServer, token, logged_errors: list[logging.LogRecord]
) -> None:
    findings = await asyncio.to_thread(_fuzz, server, token(*ALL_ROLES, user="fuzz"))
    assert not findings, "\n".join(f"{p}: {q} {v}" for q, v, p in findings[:20])
    assert not logged_errors, [r.getMessage() for r in logged_errors[:20]]
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        still = await client.post("/graphql", json={"query": "{ __typename }"})
    assert still.json() == {"data": {"__typename": "Query"}}


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)
GARBAGE = st.one_of(
    st.binary(max_size=200),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {"query": JSON_VALUES}, optional={"variables": JSON_VALUES, "operationName": JSON_VALUES}
    ).map(lambda v: json.dumps(v).encode()),
    st.sampled_from(
        [
            b"",
            b"null",
            b"{",
            b'{"query": "{ __typename }"',
            b"\xff\xfe\x00",
            b'{"query": "\xff"}',
            b'{"query": "{ __typename }", "variables": "x"}',
            b'{"query": 5}',
            b"[]",
            b'{"query": "' + b"{ __typename " * 100_000 + b'}"}',
        ]
    ),
)


def _garbage(server: RunningServer, token: str, count: int) -> list[tuple[bytes, list[str]]]:
    findings: list[tuple[bytes, list[str]]] = []
    with httpx.Client(
        base_url=server.base_url, headers={"authorization": f"Bearer {token}"}, timeout=30
    ) as http:

        @runs(count)
        @given(body=GARBAGE, content_type=st.sampled_from(["application/json", "text/plain"]))
        def send(body: bytes, content_type: str) -> None:
            response = http.post("/graphql", content=body, headers={"content-type": content_type})
            problems = _problems(response)
            if response.status_code < 400 and "errors" not in response.text:
                problems.append(f"accepted garbage with {response.status_code}")
            if problems:
                findings.append((body[:200], problems))

        send()
    return findings


async def test_garbage_bodies__are_refused_as_graphql_errors(
    server: RunningServer, token, logged_errors: list[logging.LogRecord]
) -> None:
    findings = await asyncio.to_thread(
        _garbage, server, token(*ALL_ROLES, user="fuzz"), max(200, OPERATIONS // 10)
    )
    assert not findings, findings[:20]
    assert not logged_errors, [r.getMessage() for r in logged_errors[:20]]


def test_moving_arguments_into_variables__keeps_the_operation() -> None:
    """The rewrite itself: the same field and values, now as typed variables."""
    schema = graphql.build_schema(
        """type Query { floor(restaurantId: ID!, from: DateTime!, limit: Int): [Int!] }
        scalar DateTime"""
    )
    when = (datetime(2031, 6, 1, tzinfo=UTC) + timedelta(hours=18)).isoformat()
    query = f'{{ floor(restaurantId: "r1", from: "{when}", limit: 3) }}'
    rng = random.Random(1)
    for _ in range(50):
        text, variables = with_variables(schema, query, rng)
        assert graphql.validate(schema, graphql.parse(text)) == []
        assert "$v0: ID!" in text and "$v1: DateTime!" in text and "$v2: Int" in text
        if variables == {"v0": "r1", "v1": when, "v2": 3}:
            break
    else:
        pytest.fail("the values were never kept as they were")
