"""Root fields of one operation: one field's failure leaves its siblings' transactions clean."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.support.gql import GraphQLHttp
from tests.support.server import RunningServer, running_state

CREATE = (
    'mutation { createRestaurant(input: {name: "Two fields", timezone: "UTC"})'
    " { ... on Restaurant { id } } }"
)
EARLY, LATE = "2031-06-01T18:00:00Z", "2031-06-01T20:00:00Z"
TWO_FLOORS = """
query($r: ID!, $aFrom: DateTime!, $aTo: DateTime!, $bFrom: DateTime!, $bTo: DateTime!) {
  a: floor(restaurantId: $r, from: $aFrom, to: $aTo) { tables { id } }
  b: floor(restaurantId: $r, from: $bFrom, to: $bTo) { tables { id } }
}"""
FLOOR_AND_BOOKING = """
query($r: ID!, $from: DateTime!, $to: DateTime!) {
  a: floor(restaurantId: $r, from: $from, to: $to) { tables { id } }
  b: booking(id: "not-a-booking") { id }
}"""


async def test_failing_root_field__its_cancelled_sibling_rolls_back_cleanly(
    server: RunningServer, token, caplog: pytest.LogCaptureFixture
) -> None:
    """`floor` is non-null: its failure nulls `data`, and graphql-core cancels the sibling
    `floor`, which may be inside its transaction. That transaction is rolled back before its
    connection goes back to the pool: asyncpg never has to reset one with a transaction open."""
    caplog.set_level(logging.INFO)
    client = GraphQLHttp(server.base_url, token("admin", "staff"))
    restaurant = (await client.data(CREATE))["createRestaurant"]["id"]
    bad = {"r": restaurant, "aFrom": EARLY, "aTo": LATE, "bFrom": LATE, "bTo": EARLY}
    bodies = await asyncio.gather(*(client.raw(TWO_FLOORS, bad) for _ in range(20)))
    good = {"r": restaurant, "aFrom": EARLY, "aTo": LATE, "bFrom": EARLY, "bTo": LATE}
    both = await client.data(TWO_FLOORS, good)
    await client.close()
    for body in bodies:
        assert body["data"] is None
        [error] = body["errors"]
        assert error["path"] == ["b"] and error["extensions"] == {"code": "INVALID_INPUT"}
    assert both == {"a": {"tables": []}, "b": {"tables": []}}
    logged = [r.getMessage() for r in caplog.records]
    assert not [m for m in logged if "active transaction" in m], logged
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    pool = running_state(server).pool
    async with pool.acquire() as conn:
        assert not conn.is_in_transaction()


async def test_nullable_root_field_fails__sibling_data_comes_back(
    server: RunningServer, token, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = GraphQLHttp(server.base_url, token("admin", "staff"))
    restaurant = (await client.data(CREATE))["createRestaurant"]["id"]
    body = await client.raw(FLOOR_AND_BOOKING, {"r": restaurant, "from": EARLY, "to": LATE})
    await client.close()
    assert body["data"]["a"] == {"tables": []}
    assert body["data"]["b"] is None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
