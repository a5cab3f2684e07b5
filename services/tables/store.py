"""A tables flow's SQL side: lock what the decision depends on and read it, write the plan.

`lock_and_read` takes every lock a flow needs, in the one order all flows follow (the booking,
then (table, day) keys, then the sessions to re-validate: see tables_open_scope in
db/migrations), and reads the snapshot under them, in one round trip. `commit` writes a plan
in one statement.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg

from db.sql import load
from services.tables.model import (
    BookingStatus,
    BookingView,
    SessionView,
    TableView,
    sort_tables,
    violation_from_json,
    violations_to_json,
)
from services.tables.plan import CandidateState, Plan, Scope, SessionState, assignment_after
from services.tables.reads import session_of
from services.tables.rules import AllocationInfo, booking_info, table_info

Q = load("tables")


@dataclass(frozen=True)
class Locked:
    """A flow's locked booking row, the rules' scope, and views of the scope's tables.

    The row carries `now` (the transaction's clock, the one the flow decides with) and, when
    the flow was opened by session, `session_created_by`.
    """

    row: asyncpg.Record
    scope: Scope
    tables: Mapping[UUID, TableView]


async def lock_and_read(
    conn: asyncpg.Connection,
    *,
    booking_id: UUID | None = None,
    session_id: UUID | None = None,
    take: Sequence[UUID] = (),
    about: UUID | None = None,
    skip_locked: bool = False,
) -> Locked | None:
    """Lock the booking (by id, or the booking of `session_id`) and what a flow on it may
    change, then read the snapshot; None if there is no such booking (or, with
    `skip_locked`, another transaction holds it).

    `take`: tables the flow may take besides the booking's own. `about`: a session the flow
    acts on, read even when it is closed.
    """
    row = await conn.fetchrow(
        *Q.bind(
            "open_scope",
            booking_id=booking_id,
            session_id=session_id,
            take=list(take),
            about=about,
            skip_locked=skip_locked,
        )
    )
    if row is None:
        return None
    doc = row["snapshot"]
    tables = {t.id: t for t in map(_table, doc["tables"])}
    scope = Scope(
        booking=booking_info(row),
        now=row["now"],
        sessions={s.id: s for s in map(_session, doc["sessions"])},
        tables={t.id: table_info(t) for t in tables.values()},
        allocations={a.id: a for a in map(_allocation, doc["allocations"])},
        candidates=tuple(map(_candidate, doc["candidates"])),
        stale=tuple(map(_session, doc["stale"])),
    )
    return Locked(row, scope, tables)


@dataclass(frozen=True)
class Written:
    """What the database says after a plan: the own session's row and the booking's."""

    session: Mapping[str, Any] | None
    booking_status: str
    booking_version: int


async def commit(conn: asyncpg.Connection, locked: Locked, plan: Plan) -> Written:
    """Write the whole plan in one statement (its triggers announce every change)."""
    b = locked.row
    s = plan.session
    release = list(plan.release.items())
    row = await conn.fetchrow(
        *Q.bind(
            "commit_plan",
            released_ids=[a for a, _ in release],
            release_reasons=[reason for _, reason in release],
            converted_ids=list(plan.convert),
            extended_ids=list(plan.extend),
            extended_until=plan.extend_until,
            new_table_ids=[n.table_id for n in plan.insert],
            new_kinds=[n.kind for n in plan.insert],
            new_session_ids=[n.session_id for n in plan.insert],
            new_expiries=[n.expires_at for n in plan.insert],
            during=b["during"],
            session_id=s.id if s else None,
            session_is_new=s.new if s else False,
            session_created_by=s.created_by if s else None,
            session_status=s.status if s else None,
            session_proposed=list(s.proposed) if s else [],
            session_violations=violations_to_json(s.violations) if s else [],
            session_hold_expires_at=s.hold_expires_at if s else None,
            closed_ids=list(plan.close),
            closed_statuses=list(plan.close.values()),
            revalidated_ids=list(plan.revalidated),
            revalidated_violations=[
                json.dumps(violations_to_json(v)) for v in plan.revalidated.values()
            ],
            booking_status=plan.booking_status,
            booking_id=b["id"],
            restaurant_id=b["restaurant_id"],
        )
    )
    assert row is not None
    booking = row["booking"]
    return Written(
        session=_session_row(row["session"]) if row["session"] else None,
        booking_status=booking["status"] if booking else b["status"],
        booking_version=booking["version"] if booking else b["version"],
    )


def booking_view(locked: Locked, plan: Plan, written: Written) -> BookingView:
    """The booking as the plan left it."""
    b = locked.row
    return BookingView(
        id=b["id"],
        restaurant_id=b["restaurant_id"],
        guest_name=b["guest_name"],
        party_size=b["party_size"],
        starts_at=b["starts_at"],
        ends_at=b["ends_at"],
        status=BookingStatus(written.booking_status),
        version=written.booking_version,
        tables=sort_tables(locked.tables[t] for t in assignment_after(locked.scope, plan)),
        pinned=b["pinned"],
    )


def session_view(locked: Locked, plan: Plan, written: Written) -> SessionView:
    """The flow's own session as the plan left it."""
    assert plan.session is not None and written.session is not None
    return session_of(
        {**written.session, "created_by": plan.session.created_by},
        booking_view(locked, plan, written),
        tuple(locked.tables[t] for t in plan.session.proposed if t in locked.tables),
        plan.session.violations,
    )


# ------------------------------------------------------------------------ the snapshot's JSON


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def _time(value: str | None) -> datetime | None:
    return _at(value) if value is not None else None


def _ids(values: Iterable[str]) -> tuple[UUID, ...]:
    return tuple(UUID(v) for v in values)


def _table(d: Mapping[str, Any]) -> TableView:
    return TableView(
        id=UUID(d["id"]),
        restaurant_id=UUID(d["restaurant_id"]),
        label=d["label"],
        zone=d["zone"],
        min_capacity=d["min_capacity"],
        max_capacity=d["max_capacity"],
        active=d["active"],
        version=d["version"],
    )


def _allocation(d: Mapping[str, Any]) -> AllocationInfo:
    return AllocationInfo(
        id=UUID(d["id"]),
        table_id=UUID(d["table_id"]),
        booking_id=UUID(d["booking_id"]),
        kind=d["kind"],
        starts_at=_at(d["starts_at"]),
        ends_at=_at(d["ends_at"]),
        expires_at=_time(d["expires_at"]),
        session_id=UUID(d["session_id"]) if d["session_id"] else None,
    )


def _session(d: Mapping[str, Any]) -> SessionState:
    return SessionState(
        id=UUID(d["id"]),
        created_by=d["created_by"],
        status=d["status"],
        proposed=_ids(d["proposed"]),
        violations=tuple(violation_from_json(v) for v in d["violations"]),
        hold_expires_at=_time(d["hold_expires_at"]),
        version=d["version"],
    )


def _candidate(d: Mapping[str, Any]) -> CandidateState:
    booking = {
        **d,
        "id": UUID(d["booking_id"]),
        "restaurant_id": UUID(d["restaurant_id"]),
        "starts_at": _at(d["starts_at"]),
        "ends_at": _at(d["ends_at"]),
    }
    return CandidateState(
        id=UUID(d["id"]),
        booking=booking_info(booking),
        proposed=_ids(d["proposed"]),
        violations=tuple(violation_from_json(v) for v in d["violations"]),
    )


def _session_row(d: Mapping[str, Any]) -> dict[str, Any]:
    """A session row from its JSON, typed as a fetched row would be."""
    return {
        "id": UUID(d["id"]),
        "status": d["status"],
        "hold_expires_at": _time(d["hold_expires_at"]),
        "last_validated_at": _time(d["last_validated_at"]),
        "version": d["version"],
        "created_at": _at(d["created_at"]),
        "updated_at": _at(d["updated_at"]),
    }
