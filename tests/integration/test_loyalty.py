"""Loyalty against real PostgreSQL: the seed's seven cases, imports and syncs that can run
twice or at once, completion with its redemption, claims, skipped tiers, tenancy."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from services.core.principal import Principal, Role
from services.errors import Forbidden, InvalidInput, NotFound
from services.loyalty import flows, reads, setup
from services.loyalty.errors import NotClaimable
from services.loyalty.model import LoyaltyMissionKind, ProgressStatus, ProgressView

pytestmark = pytest.mark.integration

T0 = datetime(2025, 1, 1, tzinfo=UTC)
T1 = datetime(2025, 4, 1, tzinfo=UTC)
HEADER = "external_id,user_id,kind,value,occurred_at"


def admin(tenant: uuid.UUID) -> Principal:
    return Principal(user_id="boss", tenant_id=tenant, roles=frozenset({Role.ADMIN}))


def creator(tenant: uuid.UUID, user: str) -> Principal:
    return Principal(user_id=user, tenant_id=tenant, roles=frozenset({Role.CREATOR}))


async def lines(*rows: str) -> AsyncIterator[str]:
    for row in rows:
        yield row


async def world(pool: asyncpg.Pool, tenant: uuid.UUID) -> None:
    """Tiers 1 < 2 < 3 and creators c1 (tier_1), c2 (tier_2), c3 (tier_3)."""
    boss = admin(tenant)
    for i in (1, 2, 3):
        await setup.upsert_tier(pool, boss, f"tier_{i}", f"Tier {i}", i)
        await setup.upsert_creator(
            pool,
            boss,
            user_id=f"c{i}",
            handle=f"@c{i}",
            tier_key=f"tier_{i}",
            tier_achieved_at=T0,
            next_checkpoint_at=T1,
        )


async def mission(
    pool: asyncpg.Pool,
    tenant: uuid.UUID,
    tier: str,
    *,
    enabled: bool = True,
    activated: bool = True,
    kind: LoyaltyMissionKind = LoyaltyMissionKind.VIDEOS,
    target: float = 10,
) -> str:
    made = await setup.create_mission(
        pool,
        admin(tenant),
        title=f"{kind.value} for {tier}",
        kind=kind,
        target_value=target,
        tier_eligibility=tier,
        enabled=enabled,
        activated=activated,
    )
    return str(made.id)


async def one_video_mission_done_by_c1(pool: asyncpg.Pool, tenant: uuid.UUID) -> None:
    """A mission of one video for all, and c1's one video imported (not synced yet)."""
    await mission(pool, tenant, "all", target=1)
    await flows.import_metrics(
        pool, admin(tenant), lines(HEADER, f"e1,c1,videos,1,{T0.isoformat()}"), "shop"
    )


async def rows_of(pool: asyncpg.Pool, tenant: uuid.UUID, user: str) -> list[ProgressView]:
    return await reads.creator_progress(pool, admin(tenant), user)


async def sync(pool: asyncpg.Pool, tenant: uuid.UUID, as_of: datetime = T1):
    return await flows.run_daily_sync(pool, admin(tenant), as_of)


# ---------------------------------------------------------------- the seed's seven cases


async def test_case_1__eligible_user_gets_row_created(pool, tenant) -> None:
    await world(pool, tenant)
    await mission(pool, tenant, "tier_1")
    await sync(pool, tenant)
    (row,) = await rows_of(pool, tenant, "c2")
    assert row.status is ProgressStatus.ACTIVE and row.current_value == 0


async def test_case_2__ineligible_user_skipped(pool, tenant) -> None:
    await world(pool, tenant)
    await mission(pool, tenant, "tier_3")
    await sync(pool, tenant)
    assert await rows_of(pool, tenant, "c1") == []
    assert len(await rows_of(pool, tenant, "c3")) == 1


async def test_case_3__existing_progress_not_duplicated(pool, dsn, tenant) -> None:
    await world(pool, tenant)
    await mission(pool, tenant, "all")
    first = await sync(pool, tenant)
    again = await sync(pool, tenant)
    assert (first.progress_rows_created, again.progress_rows_created) == (3, 0)
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("select count(*) from loyalty_progress") == 3
    finally:
        await conn.close()


async def test_case_4__checkpoint_values_snapshotted(pool, tenant) -> None:
    await world(pool, tenant)
    await mission(pool, tenant, "all")
    await sync(pool, tenant)
    (row,) = await rows_of(pool, tenant, "c1")
    assert (row.checkpoint_start, row.checkpoint_end) == (T0, T1)
    # A later change of the creator's checkpoints leaves the row's snapshot as it was.
    await setup.upsert_creator(
        pool,
        admin(tenant),
        user_id="c1",
        handle="@c1",
        tier_key="tier_1",
        tier_achieved_at=T1,
        next_checkpoint_at=T1 + timedelta(days=90),
    )
    await sync(pool, tenant)
    (row,) = await rows_of(pool, tenant, "c1")
    assert (row.checkpoint_start, row.checkpoint_end) == (T0, T1)


async def test_case_5__status_based_on_activated_flag(pool, tenant) -> None:
    await world(pool, tenant)
    dormant = await mission(pool, tenant, "all", activated=False)
    active = await mission(pool, tenant, "all", activated=True, kind=LoyaltyMissionKind.LIKES)
    await sync(pool, tenant)
    statuses = {str(r.mission.id): r.status for r in await rows_of(pool, tenant, "c1")}
    assert statuses == {dormant: ProgressStatus.DORMANT, active: ProgressStatus.ACTIVE}
    await setup.update_mission(pool, admin(tenant), dormant, activated=True)
    report = await sync(pool, tenant)
    assert report.progress_rows_updated == 3  # each creator's DORMANT row flipped
    statuses = {str(r.mission.id): r.status for r in await rows_of(pool, tenant, "c1")}
    assert statuses == {dormant: ProgressStatus.ACTIVE, active: ProgressStatus.ACTIVE}


async def test_case_6__tier_eligibility_all_creates_rows_for_all_users(pool, tenant) -> None:
    await world(pool, tenant)
    await mission(pool, tenant, "all")
    report = await sync(pool, tenant)
    assert report.progress_rows_created == 3
    for user in ("c1", "c2", "c3"):
        assert len(await rows_of(pool, tenant, user)) == 1


async def test_case_7__disabled_missions_skipped(pool, tenant) -> None:
    await world(pool, tenant)
    off = await mission(pool, tenant, "all", enabled=False)
    assert (await sync(pool, tenant)).progress_rows_created == 0
    await setup.update_mission(pool, admin(tenant), off, enabled=True)
    assert (await sync(pool, tenant)).progress_rows_created == 3


# ---------------------------------------------------------------- progress, completion, claims


async def test_sync__counts_events_in_the_window_completes_and_redeems_once(
    pool, dsn, tenant
) -> None:
    await world(pool, tenant)
    await mission(pool, tenant, "all", target=10)
    await sync(pool, tenant)
    report = await flows.import_metrics(
        pool,
        admin(tenant),
        lines(
            HEADER,
            f"e1,c1,videos,4,{(T0 + timedelta(days=1)).isoformat()}",
            f"e2,c1,VIDEOS,6,{(T0 + timedelta(days=2)).isoformat()}",
            f"e3,c1,videos,50,{(T0 - timedelta(days=1)).isoformat()}",  # before the window
            f"e4,c1,likes,50,{(T0 + timedelta(days=1)).isoformat()}",  # another kind
            f"e5,c2,videos,3,{(T0 + timedelta(days=3)).isoformat()}",
        ),
        "shop",
    )
    assert (report.rows_read, report.rows_imported, report.errors) == (5, 5, ())
    done = await sync(pool, tenant)
    assert (done.progress_rows_updated, done.missions_completed, done.redemptions_created) == (
        2,
        1,
        1,
    )
    (c1,) = await rows_of(pool, tenant, "c1")
    (c2,) = await rows_of(pool, tenant, "c2")
    assert (c1.status, c1.current_value, c2.status, c2.current_value) == (
        ProgressStatus.COMPLETED,
        10,
        ProgressStatus.ACTIVE,
        3,
    )
    again = await sync(pool, tenant)
    assert (
        again.progress_rows_created,
        again.progress_rows_updated,
        again.missions_completed,
        again.redemptions_created,
    ) == (0, 0, 0, 0)
    # The creator claims once; a second claim, or anyone else's, is refused.
    with pytest.raises(NotClaimable) as exc:
        await flows.claim_reward(pool, creator(tenant, "c2"), str(c2.id))
    assert exc.value.status is ProgressStatus.ACTIVE
    with pytest.raises(NotFound):
        await flows.claim_reward(pool, creator(tenant, "c2"), str(c1.id))
    claimed = await flows.claim_reward(pool, creator(tenant, "c1"), str(c1.id))
    assert claimed.status is ProgressStatus.CLAIMED
    with pytest.raises(NotClaimable) as exc:
        await flows.claim_reward(pool, creator(tenant, "c1"), str(c1.id))
    assert exc.value.status is ProgressStatus.CLAIMED
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("select count(*) from loyalty_redemptions") == 1
    finally:
        await conn.close()


async def test_concurrent_claims__exactly_one_succeeds(pool, tenant) -> None:
    await world(pool, tenant)
    await one_video_mission_done_by_c1(pool, tenant)
    await sync(pool, tenant)
    (row,) = await rows_of(pool, tenant, "c1")
    results = await asyncio.gather(
        *(flows.claim_reward(pool, creator(tenant, "c1"), str(row.id)) for _ in range(10)),
        return_exceptions=True,
    )
    won = [r for r in results if isinstance(r, ProgressView)]
    lost = [r for r in results if isinstance(r, NotClaimable)]
    assert len(won) == 1 and len(lost) == 9, results


async def test_a_failure_between_completion_and_redemption__leaves_neither(
    pool, dsn, tenant
) -> None:
    await world(pool, tenant)
    await one_video_mission_done_by_c1(pool, tenant)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "create function fail_redemption() returns trigger language plpgsql as "
            "$$ begin raise exception 'no rewards today'; end $$"
        )
        await conn.execute(
            "create trigger fail_redemption before insert on loyalty_redemptions "
            "for each row execute function fail_redemption()"
        )
        with pytest.raises(asyncpg.RaiseError):
            await sync(pool, tenant)
        assert await conn.fetchval("select count(*) from loyalty_progress") == 0
        assert await conn.fetchval("select count(*) from loyalty_redemptions") == 0
        await conn.execute("drop trigger fail_redemption on loyalty_redemptions")
    finally:
        await conn.close()
    report = await sync(pool, tenant)
    assert (report.missions_completed, report.redemptions_created) == (1, 1)


async def test_two_syncs_at_once__duplicate_nothing(pool, dsn, tenant) -> None:
    await world(pool, tenant)
    for tier in ("all", "tier_1", "tier_2"):
        await mission(pool, tenant, tier, target=1)
    await flows.import_metrics(
        pool,
        admin(tenant),
        lines(HEADER, *(f"e{i},c{i},videos,1,{T0.isoformat()}" for i in (1, 2, 3))),
        "shop",
    )
    first, second = await asyncio.gather(sync(pool, tenant), sync(pool, tenant))
    assert first.progress_rows_created + second.progress_rows_created == 3 + 3 + 2
    assert first.redemptions_created + second.redemptions_created == 8
    assert 0 in (first.progress_rows_created, second.progress_rows_created)  # one waited
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("select count(*) from loyalty_progress") == 8
        assert await conn.fetchval("select count(*) from loyalty_redemptions") == 8
    finally:
        await conn.close()


async def test_missions_of_a_tier_with_no_row__are_skipped_and_reported(pool, tenant) -> None:
    await world(pool, tenant)
    await mission(pool, tenant, "platinum")
    report = await sync(pool, tenant)
    assert report.progress_rows_created == 0
    assert report.skipped == ("mission 'VIDEOS for platinum': its tier 'platinum' has no tier row",)
    await setup.upsert_tier(pool, admin(tenant), "platinum", "Platinum", 0)
    report = await sync(pool, tenant)
    assert report.skipped == () and report.progress_rows_created == 3  # order 0: all reach it


async def test_upsert_creator__an_unknown_tier_names_tier_key(pool, tenant) -> None:
    with pytest.raises(InvalidInput) as exc:
        await setup.upsert_creator(
            pool,
            admin(tenant),
            user_id="c1",
            handle="@c1",
            tier_key="gold",
            tier_achieved_at=T0,
            next_checkpoint_at=None,
        )
    assert [p.field for p in exc.value.fields] == ["tierKey"]


# ---------------------------------------------------------------- imports


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([], [("file", "the file is empty")]),
        (["external_id,user_id,kind,value"], [("line 1", "missing column(s) occurred_at")]),
        (["external_id,user_id,kind,value,occurred_at,extra"], [("line 1", "unknown column")]),
        ([HEADER, "e1,c1,videos,12,5,2025-01-02T00:00:00+00:00"], [("line 2", "has 6 columns")]),
        (
            [HEADER, 'e1,c1,videos,"12,5",2025-01-02T00:00:00+00:00'],
            [("line 2: value", '"12,5" is not a number')],
        ),
        (
            [HEADER, "e1,c1,videos,-1,2025-01-02T00:00:00+00:00"],
            [("line 2: value", '"-1" is negative')],
        ),
        ([HEADER, "e1,c1,videos,1,yesterday"], [("line 2: occurred_at", "is not an ISO 8601")]),
        (
            [HEADER, "e1,c1,videos,1,2025-01-02T00:00:00"],
            [("line 2: occurred_at", "no UTC offset")],
        ),
        (
            [HEADER, "e1,nobody,videos,1,2025-01-02T00:00:00+00:00"],
            [("line 2: user_id", '"nobody" is not a creator')],
        ),
        (
            [HEADER, "e1,c1,shares,1,2025-01-02T00:00:00+00:00"],
            [("line 2: kind", '"shares" is not one of')],
        ),
        (
            [
                HEADER,
                "e1,c1,videos,1,2025-01-02T00:00:00+00:00",
                "e1,c2,likes,1,2025-01-02T00:00:00+00:00",
            ],
            [("line 3: external_id", '"e1" is also on line 2')],
        ),
    ],
)
async def test_import__bad_input_names_line_and_column_and_imports_nothing(
    pool, dsn, tenant, rows, expected
) -> None:
    await world(pool, tenant)
    good = "e0,c1,videos,1,2025-01-02T00:00:00+00:00"  # after the bad line: not imported either
    body = [*rows, good] if rows else rows
    report = await flows.import_metrics(pool, admin(tenant), lines(*body), "shop")
    assert report.rows_imported == 0
    got = [(e.field, e.message) for e in report.errors]
    assert len(got) == len(expected), got
    for (where, message), (want_where, want) in zip(got, expected, strict=True):
        assert where == want_where and want in message, (where, message)
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("select count(*) from loyalty_metric_events") == 0
    finally:
        await conn.close()


async def test_import_twice__imports_nothing_the_second_time(pool, tenant) -> None:
    await world(pool, tenant)
    rows = [HEADER, *(f"e{i},c1,views,{i},2025-01-0{i}T10:00:00-05:00" for i in range(1, 6))]
    first = await flows.import_metrics(pool, admin(tenant), lines(*rows), "shop")
    again = await flows.import_metrics(pool, admin(tenant), lines(*rows), "shop")
    other = await flows.import_metrics(pool, admin(tenant), lines(*rows), "another-shop")
    assert (first.rows_imported, first.rows_skipped) == (5, 0)
    assert (again.rows_read, again.rows_imported, again.rows_skipped) == (5, 0, 5)
    assert other.rows_imported == 5  # a source's external ids are its own


async def test_the_same_file_imported_at_once_twice__lands_once(pool, dsn, tenant) -> None:
    await world(pool, tenant)
    rows = [HEADER, *(f"e{i},c2,likes,1,2025-01-02T00:00:00Z" for i in range(200))]
    a, b = await asyncio.gather(
        flows.import_metrics(pool, admin(tenant), lines(*rows), "shop"),
        flows.import_metrics(pool, admin(tenant), lines(*rows), "shop"),
    )
    assert a.rows_imported + b.rows_imported == 200
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("select count(*) from loyalty_metric_events") == 200
    finally:
        await conn.close()


# ---------------------------------------------------------------- who may do what


async def test_another_tenant_and_other_roles__see_and_touch_nothing(pool, tenant) -> None:
    await world(pool, tenant)
    await one_video_mission_done_by_c1(pool, tenant)
    await sync(pool, tenant)
    (row,) = await rows_of(pool, tenant, "c1")
    other = uuid.uuid4()
    assert await reads.my_progress(pool, creator(other, "c1")) == []
    assert await reads.creator_progress(pool, admin(other), "c1") == []
    assert await reads.tiers(pool, admin(other)) == []
    with pytest.raises(NotFound):
        await flows.claim_reward(pool, creator(other, "c1"), str(row.id))
    with pytest.raises(Forbidden):
        await flows.run_daily_sync(pool, creator(tenant, "c1"))
    with pytest.raises(Forbidden):
        await reads.creator_progress(pool, creator(tenant, "c1"), "c2")
    with pytest.raises(NotFound):
        await setup.update_mission(pool, admin(other), str(row.mission.id), enabled=False)
    other_sync = await flows.run_daily_sync(pool, admin(other), T1)
    assert other_sync.progress_rows_created == 0


async def test_a_rerun_reads_only_what_can_change__and_misses_nothing(pool, tenant) -> None:
    await world(pool, tenant)
    await mission(pool, tenant, "all", target=100)
    at = T0 + timedelta(days=10)
    await flows.import_metrics(
        pool,
        admin(tenant),
        lines(
            HEADER,
            f"e1,c1,videos,5,{(T0 + timedelta(days=1)).isoformat()}",
            f"e2,c1,videos,7,{(at + timedelta(days=5)).isoformat()}",  # after the first as_of
        ),
        "shop",
    )
    assert (await sync(pool, tenant, at)).progress_rows_updated == 1
    assert (await sync(pool, tenant, at)).progress_rows_updated == 0
    # Imported since the last sync, inside the window already counted: the rerun sees it.
    await flows.import_metrics(
        pool, admin(tenant), lines(HEADER, f"e3,c2,videos,2,{T0.isoformat()}"), "shop"
    )
    assert (await sync(pool, tenant, at)).progress_rows_updated == 1
    # A later as_of takes in the events of the new part of the window, imported long ago.
    assert (await sync(pool, tenant, at + timedelta(days=6))).progress_rows_updated == 1
    values = {u: (await rows_of(pool, tenant, u))[0].current_value for u in ("c1", "c2", "c3")}
    assert values == {"c1": 12, "c2": 2, "c3": 0}
    # An earlier as_of than the last counts everything again, by the earlier window.
    assert (await sync(pool, tenant, at)).progress_rows_updated == 1
    assert (await rows_of(pool, tenant, "c1"))[0].current_value == 5
