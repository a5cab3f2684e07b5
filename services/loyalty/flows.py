"""Loyalty commands, one transaction each: importing metric events, the daily sync, claiming a
reward; triggers notify each creator whose rows changed.

An import streams its CSV through a checking reader (inputs.MetricsReader) into a staging
table with COPY, then checks what only the database can (unknown creators, an external id
twice in the file) and inserts the events in one statement that skips those imported before
(UNIQUE (source, external id)): any problem and nothing is imported; the same file twice
imports nothing the second time. Memory holds a line at a time, whatever the file's size.

A sync is one transaction per tenant under an advisory lock (a second one waits, then finds
nothing to do), each step one set-based statement: create the eligible creators' missing
progress rows (ON CONFLICT on UNIQUE (mission, creator)), activate DORMANT rows of activated
missions, recompute ACTIVE values from the events in each row's checkpoint window up to
`as_of`, and complete the rows at their target together with their redemption.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable
from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from db.pool import tenant_transaction
from services.core.ids import parse_id
from services.core.principal import Principal, Role
from services.core.tenants import ensure_tenant
from services.loyalty import inputs, reads
from services.loyalty.errors import NotClaimable, no_such_progress
from services.loyalty.inputs import MAX_ERRORS, MetricsReader
from services.loyalty.model import ImportReport, LineError, ProgressStatus, ProgressView, SyncReport
from services.loyalty.reads import Q

log = logging.getLogger(__name__)

_STAGING_COLUMNS = ("line", "external_id", "user_id", "kind", "value", "occurred_at")


class _Rejected(Exception):
    """An import with problems: rolls its transaction back."""


async def import_metrics(
    pool: asyncpg.Pool, who: Principal, lines: AsyncIterable[str], source: str
) -> ImportReport:
    """Import a metrics CSV's events, all or none (admins)."""
    who.require(Role.ADMIN)
    clean_source = inputs.source(source)
    errors: list[LineError] = []
    reader = MetricsReader(errors)
    try:
        async with tenant_transaction(pool, who.tenant_id) as conn:
            await ensure_tenant(conn)
            await conn.execute(Q["import_lock"])
            await conn.execute(Q["create_staging"])
            await conn.copy_records_to_table(
                "loyalty_import", records=reader.records(lines), columns=_STAGING_COLUMNS
            )
            if errors:
                raise _Rejected
            for row in await conn.fetch(Q["unknown_creators"], MAX_ERRORS):
                reader.problem(
                    f"line {row['line']}: user_id", f'"{row["user_id"]}" is not a creator'
                )
            for row in await conn.fetch(Q["repeated_ids"], MAX_ERRORS):
                reader.problem(
                    f"line {row['line']}: external_id",
                    f'"{row["external_id"]}" is also on line {row["first"]}',
                )
            if errors:
                raise _Rejected
            imported: int = await conn.fetchval(Q["import_staged"], clean_source)
    except _Rejected:
        return ImportReport(reader.rows_read, 0, 0, tuple(errors))
    log.info("imported %d metric event(s) from %s", imported, clean_source)
    return ImportReport(reader.rows_read, imported, reader.rows_read - imported, ())


async def sync_tenant(conn: asyncpg.Connection, as_of: datetime) -> SyncReport:
    """The daily sync's steps for the transaction's tenant (the caller owns the transaction)."""
    await conn.execute(Q["sync_lock"])
    state = await conn.fetchrow(Q["sync_state"])
    # Incremental when the last sync counted up to this as_of or less; else every row.
    since = state["last_synced_at"] if state and state["last_as_of"] <= as_of else None
    skipped = [
        f"mission {r['title']!r}: its tier {r['tier_eligibility']!r} has no tier row"
        for r in await conn.fetch(Q["skipped_missions"])
    ] + [
        f"creator {r['user_id']!r}: their tier {r['tier_key']!r} has no tier row"
        for r in await conn.fetch(Q["skipped_creators"])
    ]
    created = await conn.fetchval(Q["create_progress"])
    activated = await conn.fetchval(Q["activate_progress"])
    recomputed = await conn.fetchval(
        *Q.bind(
            "recompute_progress",
            as_of=as_of,
            since=since,
            last_as_of=state["last_as_of"] if state else None,
        )
    )
    done = await conn.fetchrow(Q["complete_progress"])
    assert done is not None
    await conn.execute(Q["record_sync"], as_of)
    return SyncReport(
        progress_rows_created=created,
        progress_rows_updated=activated + recomputed,
        missions_completed=done["completed"],
        redemptions_created=done["redeemed"],
        skipped=tuple(skipped),
    )


async def run_sync(pool: asyncpg.Pool, tenant: UUID, as_of: datetime | None = None) -> SyncReport:
    """Sync one tenant now (or as of a moment), in one transaction."""
    moment = as_of or datetime.now(UTC)
    async with tenant_transaction(pool, tenant) as conn:
        report = await sync_tenant(conn, moment)
    for reason in report.skipped:
        log.warning("daily sync of tenant %s skipped %s", tenant, reason)
    log.info(
        "daily sync of tenant %s: %d row(s) created, %d updated, %d completed",
        tenant,
        report.progress_rows_created,
        report.progress_rows_updated,
        report.missions_completed,
    )
    return report


async def run_daily_sync(
    pool: asyncpg.Pool, who: Principal, as_of: datetime | None = None
) -> SyncReport:
    """The caller's tenant's sync (admins)."""
    who.require(Role.ADMIN)
    return await run_sync(pool, who.tenant_id, as_of)


async def claim_reward(pool: asyncpg.Pool, who: Principal, raw_id: str) -> ProgressView:
    """The caller's COMPLETED row becomes CLAIMED, exactly once (creators)."""
    who.require(Role.CREATOR)
    progress_id = parse_id(raw_id)
    if progress_id is None:
        raise no_such_progress()
    async with tenant_transaction(pool, who.tenant_id) as conn:
        claimed = await conn.fetchval(Q["claim"], progress_id, who.user_id)
        if claimed is None:
            status = await conn.fetchval(Q["progress_status"], progress_id, who.user_id)
            if status is None:
                raise no_such_progress()
            state = ProgressStatus(status)
            said = "claimed already" if state is ProgressStatus.CLAIMED else f"{state.value}"
            raise NotClaimable(f"the reward cannot be claimed: the mission is {said}", state)
        rows = await reads.progress(conn, who.user_id)
    return next(p for p in rows if p.id == progress_id)
