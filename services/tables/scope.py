"""The I/O of a tables flow: lock what the decision depends on, read it, write the plan.

Lock order (every flow follows it, so flows never deadlock):

1. the booking row (`lock_booking`);
2. every (table, day) whose allocations the flow may change, as transaction advisory locks in
   key order (`lock_booking_tables`): the booking's tables, the tables it may take, and the
   tables of holds that ran out on those; each over every UTC day of the booking;
3. the PROPOSED sessions of other bookings that a change may concern, in id order
   (`read_booking_scope`, which reads the snapshot itself in the same statement).

Two bookings whose times overlap always share a day, so two flows that could decide on the
same allocations always share a key and queue; flows on other tables or other days never wait
for each other. Under these locks the snapshot cannot change, except for allocations on the
other tables of the candidate sessions, which are read after those sessions are locked
(`read_candidates`, only when there are candidates).
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
from services.tables import views
from services.tables.common import booking_info
from services.tables.plan import CandidateState, Plan, Scope, SessionState, assignment_after
from services.tables.rules import AllocationInfo, TableInfo

Q = load("tables")


async def lock_booking(
    conn: asyncpg.Connection,
    *,
    booking_id: UUID | None = None,
    session_id: UUID | None = None,
) -> asyncpg.Record | None:
    """Lock the booking (by id, or the booking of `session_id`); None if there is none.

    The row carries `now` (the transaction's clock for the whole flow) and, with
    `session_id`, `session_created_by`.
    """
    if booking_id is not None:
        row: asyncpg.Record | None = await conn.fetchrow(Q["lock_booking"], booking_id)
    else:
        row = await conn.fetchrow(Q["lock_booking_of_session"], session_id)
    return row


async def try_lock_booking(conn: asyncpg.Connection, booking_id: UUID) -> asyncpg.Record | None:
    """Lock the booking unless another transaction holds it (then None)."""
    row: asyncpg.Record | None = await conn.fetchrow(Q["try_lock_booking"], booking_id)
    return row


@dataclass(frozen=True)
class Snapshot:
    """A flow's locked booking row, the rules' scope, and views of the scope's tables."""

    row: asyncpg.Record
    scope: Scope
    tables: Mapping[UUID, views.TableView]


async def read(
    conn: asyncpg.Connection,
    booking: asyncpg.Record,
    *,
    take: Sequence[UUID] = (),
    about: UUID | None = None,
) -> Snapshot:
    """Lock the booking's tables (and `take`) and read the flow's snapshot.

    `about` is a session the flow acts on: it is read even if it is closed.
    """
    during = booking["during"]
    locked = await conn.fetchrow(Q["lock_booking_tables"], booking["id"], during, list(take))
    assert locked is not None
    doc = await conn.fetchrow(
        Q["read_booking_scope"], booking["id"], during, list(take), locked["stale_sessions"], about
    )
    assert doc is not None
    tables = {t.id: t for t in map(_table, doc["tables"])}
    allocations = {a.id: a for a in map(_allocation, doc["allocations"])}
    candidates = tuple(map(_candidate, doc["candidates"]))
    if candidates:
        more = await conn.fetchrow(
            Q["read_candidates"],
            list({t for c in candidates for t in c.proposed}),
            [asyncpg.Range(c.booking.starts_at, c.booking.ends_at) for c in candidates],
        )
        assert more is not None
        tables.update((t.id, t) for t in map(_table, more["tables"]))
        allocations.update((a.id, a) for a in map(_allocation, more["allocations"]))
    scope = Scope(
        booking=booking_info(booking),
        now=booking["now"],
        sessions={s.id: s for s in map(_session, doc["sessions"])},
        tables={t.id: _info(t) for t in tables.values()},
        allocations=allocations,
        candidates=candidates,
        stale=tuple(map(_session, doc["stale"])),
    )
    return Snapshot(booking, scope, tables)


@dataclass(frozen=True)
class Written:
    """What the database says after a plan: the own session's row and the booking's."""

    session: Mapping[str, Any] | None
    booking_status: str
    booking_version: int


async def commit(conn: asyncpg.Connection, snap: Snapshot, plan: Plan) -> Written:
    """Write the whole plan in one statement (its triggers announce every change)."""
    b = snap.row
    s = plan.session
    release = list(plan.release.items())
    row = await conn.fetchrow(
        Q["commit_plan"],
        [a for a, _ in release],
        [reason for _, reason in release],
        list(plan.convert),
        list(plan.extend),
        plan.extend_until,
        [n.table_id for n in plan.insert],
        [n.kind for n in plan.insert],
        [n.session_id for n in plan.insert],
        [n.expires_at for n in plan.insert],
        b["during"],
        s.id if s else None,
        s.new if s else False,
        s.created_by if s else None,
        s.status if s else None,
        list(s.proposed) if s else [],
        views.violations_to_json(s.violations) if s else [],
        s.hold_expires_at if s else None,
        list(plan.close),
        list(plan.close.values()),
        list(plan.revalidated),
        [json.dumps(views.violations_to_json(v)) for v in plan.revalidated.values()],
        plan.booking_status,
        b["id"],
        b["restaurant_id"],
    )
    assert row is not None
    booking = row["booking"]
    return Written(
        session=_session_row(row["session"]) if row["session"] else None,
        booking_status=booking["status"] if booking else b["status"],
        booking_version=booking["version"] if booking else b["version"],
    )


def booking_view(snap: Snapshot, plan: Plan, written: Written) -> views.BookingView:
    """The booking as the plan left it."""
    b = snap.row
    return views.BookingView(
        id=b["id"],
        restaurant_id=b["restaurant_id"],
        guest_name=b["guest_name"],
        party_size=b["party_size"],
        starts_at=b["starts_at"],
        ends_at=b["ends_at"],
        status=written.booking_status,
        version=written.booking_version,
        tables=views.sort_tables(snap.tables[t] for t in assignment_after(snap.scope, plan)),
    )


def session_view(snap: Snapshot, plan: Plan, written: Written) -> views.SessionView:
    """The flow's own session as the plan left it."""
    assert plan.session is not None and written.session is not None
    return views.session_of(
        {**written.session, "created_by": plan.session.created_by},
        booking_view(snap, plan, written),
        tuple(snap.tables[t] for t in plan.session.proposed if t in snap.tables),
        plan.session.violations,
    )


# ------------------------------------------------------------------------ the snapshot's JSON


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).astimezone(UTC) if value is not None else None


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def _ids(values: Iterable[str]) -> tuple[UUID, ...]:
    return tuple(UUID(v) for v in values)


def _table(d: Mapping[str, Any]) -> views.TableView:
    return views.TableView(
        id=UUID(d["id"]),
        restaurant_id=UUID(d["restaurant_id"]),
        label=d["label"],
        zone=d["zone"],
        min_capacity=d["min_capacity"],
        max_capacity=d["max_capacity"],
        active=d["active"],
        version=d["version"],
    )


def _info(t: views.TableView) -> TableInfo:
    return TableInfo(
        t.id, t.restaurant_id, t.label, t.zone, t.min_capacity, t.max_capacity, t.active
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
        violations=tuple(views.violation_from_json(v) for v in d["violations"]),
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
        violations=tuple(views.violation_from_json(v) for v in d["violations"]),
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
