"""Real concurrent connections: a round advances exactly once however submissions race."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from db.pool import tenant_transaction
from services.poems import flows, reads
from services.poems.config import PoemsConfig
from services.poems.live import topic
from tests.integration.test_poems_games import line_of, started

SENTINEL = "poems-test-sentinel"


class Notifications:
    """Every allot_events payload delivered to a dedicated LISTEN connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.items: list[dict[str, Any]] = []
        self._sentinel = asyncio.Event()

    def on_notify(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        data = json.loads(str(payload))
        if data.get("t") == SENTINEL:
            self._sentinel.set()
        else:
            self.items.append(data)

    async def settled(self, dsn: str) -> list[dict[str, Any]]:
        """Everything committed so far: NOTIFY is delivered in commit order, so once a
        notification sent after them arrives, all of them have."""
        self._sentinel.clear()
        other = await asyncpg.connect(dsn)
        try:
            await other.execute("select pg_notify('allot_events', $1)", json.dumps({"t": SENTINEL}))
        finally:
            await other.close()
        await asyncio.wait_for(self._sentinel.wait(), 10)
        return list(self.items)

    def kinds(self, game_id: str) -> list[str]:
        return [n["k"] for n in self.items if n["t"] == topic(uuid.UUID(game_id))]


@asynccontextmanager
async def notifications(dsn: str) -> AsyncIterator[Notifications]:
    conn = await asyncpg.connect(dsn)
    notes = Notifications(conn)
    await conn.add_listener("allot_events", notes.on_notify)
    try:
        yield notes
    finally:
        await conn.close()


async def lock_waiters(dsn: str) -> int:
    """How many backends of this database are waiting for a lock."""
    conn = await asyncpg.connect(dsn)
    try:
        value: int = await conn.fetchval(
            "select count(*) from pg_stat_activity"
            " where datname = current_database() and wait_event_type = 'Lock'"
        )
        return value
    finally:
        await conn.close()


async def both_waiting(dsn: str, n: int) -> None:
    while await lock_waiters(dsn) < n:
        await asyncio.sleep(0.01)


async def game_row(pool: asyncpg.Pool, tenant: uuid.UUID, game_id: str) -> asyncpg.Record:
    async with tenant_transaction(pool, tenant) as conn:
        row = await conn.fetchrow(
            "select round, status, version,"
            " (select count(*) from game_lines where game_id = g.id) as lines"
            " from games g where id = $1",
            uuid.UUID(game_id),
        )
    assert row is not None
    return row


async def test_submit_line__last_two_lines_at_the_same_moment_advance_the_round_exactly_once(
    pool, tenant, dsn
) -> None:
    game_id, people = await started(pool, tenant, 3)
    await flows.submit_line(pool, people[0], game_id, 0, "first")
    before = await game_row(pool, tenant, game_id)
    async with notifications(dsn) as notes:
        # Hold the game row's update lock: both lines get inserted, then both counting
        # UPDATEs queue on the lock; release them at once.
        async with pool.acquire() as blocker:
            tx = blocker.transaction()
            await tx.start()
            await blocker.execute("select set_config('allot.tenant_id', $1, true)", str(tenant))
            await blocker.execute(
                "select 1 from games where id = $1 for no key update", uuid.UUID(game_id)
            )
            racing = [
                asyncio.create_task(flows.submit_line(pool, who, game_id, 0, f"racer{i}"))
                for i, who in enumerate(people[1:])
            ]
            await asyncio.wait_for(both_waiting(dsn, 2), 20)
            await tx.rollback()
        results = await asyncio.gather(*racing)
        await notes.settled(dsn)
        kinds = notes.kinds(game_id)
    after = await game_row(pool, tenant, game_id)
    assert (after["round"], after["status"], after["lines"]) == (1, "IN_PROGRESS", 3)
    assert after["version"] == before["version"] + 2  # one bump per line, no extra advance
    assert sorted(kinds) == ["LINE_SUBMITTED", "LINE_SUBMITTED", "ROUND_ADVANCED"]
    assert kinds[-1] == "ROUND_ADVANCED"
    assert {r.line.text for r in results} == {"racer0", "racer1"}
    assert any(r.game.round == 1 for r in results)  # at least the one that completed it


async def test_submit_line__fifty_players_at_once_advance_each_round_exactly_once(
    pool, tenant, dsn
) -> None:
    game_id, people = await started(pool, tenant, 50)
    async with notifications(dsn) as notes:
        for round_ in (0, 1):
            assignments = await asyncio.gather(
                *(reads.my_assignment(pool, who, game_id) for who in people)
            )
            assert all(a is not None and a.round == round_ for a in assignments)
            await asyncio.gather(
                *(
                    flows.submit_line(
                        pool, who, game_id, round_, line_of(round_ + 1, f"{who.user_id}r{round_}")
                    )
                    for who in people
                )
            )
        await notes.settled(dsn)
        kinds = notes.kinds(game_id)
    after = await game_row(pool, tenant, game_id)
    assert (after["round"], after["lines"]) == (2, 100)
    assert kinds.count("ROUND_ADVANCED") == 2 and kinds.count("LINE_SUBMITTED") == 100
    # each round's 50 lines are announced before that round's advance
    assert kinds.index("ROUND_ADVANCED") == 50 and kinds[-1] == "ROUND_ADVANCED"


async def test_start_game__racing_a_join_never_leaves_a_player_without_a_poem(pool, tenant) -> None:
    from services.poems.errors import GameNotJoinable
    from tests.integration.test_poems_games import lobby, player

    game, people = await lobby(pool, tenant, 3)
    joins = [
        flows.join_game(
            pool,
            player(tenant, f"late{i}"),
            game.code,
            "Late",
            PoemsConfig(max_players_per_game=50),
        )
        for i in range(10)
    ]
    outcomes = await asyncio.gather(
        flows.start_game(pool, people[0], str(game.id)), *joins, return_exceptions=True
    )
    assert not isinstance(outcomes[0], BaseException)
    assert all(isinstance(o, GameNotJoinable) for o in outcomes if isinstance(o, BaseException))
    final = await reads.get_game(pool, people[0], str(game.id))
    assert final is not None
    async with tenant_transaction(pool, tenant) as conn:
        width = await conn.fetchval(
            "select array_length(matrix, 2) from games where id = $1", game.id
        )
    assert width == len(final.players)  # everyone who got in has a poem in every round


async def test_submit_line__racing_lines_of_every_round_each_send_a_distinct_notification(
    pool, tenant, dsn
) -> None:
    # A player's LINE_SUBMITTED once had the same payload in every round (their player id, no
    # version): the realtime path, which reads and executes each change once, then answered
    # all of them with the first round's game. Every line's notification must be its own.
    game_id, people = await started(pool, tenant, 4)
    async with notifications(dsn) as notes:
        for round_ in range(3):
            await asyncio.gather(
                *(
                    flows.submit_line(
                        pool, who, game_id, round_, line_of(round_ + 1, f"{who.user_id}r{round_}")
                    )
                    for who in people
                )
            )
        items = await notes.settled(dsn)
    lines = [n for n in items if n["t"] == topic(uuid.UUID(game_id)) and n["k"] == "LINE_SUBMITTED"]
    assert len(lines) == 12
    assert all(n["v"] is not None for n in lines)
    assert len({(n["id"], n["v"]) for n in lines}) == 12  # no two changes alike
    # Each player's versions grow round after round (a line is written against a newer game).
    by_player: dict[str, list[int]] = {}
    for n in lines:
        by_player.setdefault(n["id"], []).append(n["v"])
    assert len(by_player) == 4
    assert all(vs == sorted(set(vs)) and len(vs) == 3 for vs in by_player.values())
