"""Deciding a tables flow (pure): from the locked snapshot of one booking to one whole change.

Every flow that changes a booking's tables (propose, confirm, cancel, auto-assign, a status
change, hold expiry) reads a `Scope` under its locks, asks a planner here for a `Plan`, and
writes that plan in one statement. A planner either returns the plan or raises the refusal
(nothing is written then); `Plan.refusal` is for the one refusal that still commits a change
(confirming a hold that ran out marks the session EXPIRED first).

`revalidated` closes every plan: the PROPOSED sessions of other bookings that propose a table
the plan changes, for an overlapping time, are validated again on the state after the plan,
and only those whose violations differ are written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from services.errors import StaleVersion
from services.tables.candidates import Candidate
from services.tables.errors import FloorChanged, SessionNotActive, TableConflict
from services.tables.model import (
    OPEN_SESSION_STATUSES,
    AllocationKind,
    BookingStatus,
    ReleaseReason,
    SessionStatus,
    Violation,
    ViolationCode,
)
from services.tables.rules import (
    AllocationInfo,
    BookingInfo,
    RulesConfig,
    TableInfo,
    closes_sessions,
    releases_tables,
    validate,
)


@dataclass(frozen=True, slots=True)
class SessionState:
    """An assignment session as the snapshot saw it."""

    id: UUID
    created_by: str
    status: str
    proposed: tuple[UUID, ...]
    violations: tuple[Violation, ...]
    hold_expires_at: datetime | None
    version: int


@dataclass(frozen=True, slots=True)
class CandidateState:
    """A PROPOSED session of another booking that a change of this flow may concern."""

    id: UUID
    booking: BookingInfo
    proposed: tuple[UUID, ...]
    violations: tuple[Violation, ...]


@dataclass(frozen=True)
class Scope:
    """What a flow on one booking decides on, read under its locks.

    `sessions`: the booking's open sessions and the session the flow is about (even closed).
    `stale`: other bookings' HELD sessions whose hold ran out on tables this flow takes.
    `allocations`: live allocations on every table of the scope and of the candidates.
    """

    booking: BookingInfo
    now: datetime
    sessions: Mapping[UUID, SessionState]
    tables: Mapping[UUID, TableInfo]
    allocations: Mapping[UUID, AllocationInfo]
    candidates: tuple[CandidateState, ...] = ()
    stale: tuple[SessionState, ...] = ()

    def holds_of(self, session_id: UUID) -> dict[UUID, AllocationInfo]:
        """The session's live holds, by table."""
        return {
            a.table_id: a
            for a in self.allocations.values()
            if a.session_id == session_id and a.kind == AllocationKind.HOLD
        }

    def of_booking(self, kind: str) -> list[AllocationInfo]:
        """The booking's live allocations of `kind`."""
        own = self.booking.id
        return [a for a in self.allocations.values() if a.booking_id == own and a.kind == kind]

    def open_session_of(self, user: str) -> SessionState | None:
        """The user's open session for this booking, if any."""
        for s in self.sessions.values():
            if s.created_by == user and s.status in OPEN_SESSION_STATUSES:
                return s
        return None


@dataclass(frozen=True, slots=True)
class NewAllocation:
    """A hold (of `session_id`, until `expires_at`) or an assignment of one table."""

    table_id: UUID
    kind: str
    session_id: UUID | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SessionWrite:
    """The flow's own session as it will be (`new`: inserted rather than updated)."""

    id: UUID
    new: bool
    created_by: str
    status: str
    proposed: tuple[UUID, ...]
    violations: tuple[Violation, ...]
    hold_expires_at: datetime | None


@dataclass(frozen=True)
class Plan:
    """A flow's whole change to the database; empty parts change nothing."""

    release: Mapping[UUID, str] = field(default_factory=dict)  # allocation -> reason
    convert: tuple[UUID, ...] = ()  # holds that become assignments
    extend: tuple[UUID, ...] = ()  # holds whose expiry moves to extend_until
    extend_until: datetime | None = None
    insert: tuple[NewAllocation, ...] = ()
    session: SessionWrite | None = None
    close: Mapping[UUID, str] = field(default_factory=dict)  # other session -> new status
    booking_status: str | None = None  # None: the booking row is left alone
    revalidated: Mapping[UUID, tuple[Violation, ...]] = field(default_factory=dict)
    refusal: Exception | None = None  # raised after the plan is committed


# ------------------------------------------------------------------------ the state after


def allocations_after(scope: Scope, plan: Plan) -> list[AllocationInfo]:
    """The live allocations of the scope once the plan is written (new ones get fresh ids)."""
    out: list[AllocationInfo] = []
    convert, extend = set(plan.convert), set(plan.extend)
    for a in scope.allocations.values():
        if a.id in plan.release:
            continue
        if a.id in convert:
            a = replace(a, kind=AllocationKind.ASSIGNMENT, expires_at=None)
        elif a.id in extend:
            a = replace(a, expires_at=plan.extend_until)
        out.append(a)
    b = scope.booking
    out += [
        AllocationInfo(
            uuid4(), n.table_id, b.id, n.kind, b.starts_at, b.ends_at, n.expires_at, n.session_id
        )
        for n in plan.insert
    ]
    return out


def assignment_after(scope: Scope, plan: Plan) -> list[UUID]:
    """The tables assigned to the booking once the plan is written."""
    own = scope.booking.id
    return sorted(
        {
            a.table_id
            for a in allocations_after(scope, plan)
            if a.booking_id == own and a.kind == AllocationKind.ASSIGNMENT
        },
        key=lambda t: t.int,
    )


def _changes(scope: Scope, plan: Plan) -> list[tuple[UUID, datetime, datetime]]:
    """(table, start, end) of every allocation the plan adds, removes or alters."""
    touched = set(plan.release) | set(plan.convert) | set(plan.extend)
    out = [
        (a.table_id, a.starts_at, a.ends_at) for a in scope.allocations.values() if a.id in touched
    ]
    b = scope.booking
    out += [(n.table_id, b.starts_at, b.ends_at) for n in plan.insert]
    return out


def revalidated(scope: Scope, plan: Plan, rules: RulesConfig) -> Plan:
    """The plan, plus the candidate sessions whose violations the plan changes."""
    changes = _changes(scope, plan)
    if not changes or not scope.candidates:
        return plan
    concerned = [
        c
        for c in scope.candidates
        if any(
            t in c.proposed and start < c.booking.ends_at and c.booking.starts_at < end
            for t, start, end in changes
        )
    ]
    if not concerned:
        return plan
    after = allocations_after(scope, plan)
    found = changed_violations(concerned, scope.tables, after, scope.now, rules)
    return replace(plan, revalidated=found) if found else plan


def changed_violations(
    candidates: Iterable[CandidateState],
    tables: Mapping[UUID, TableInfo],
    allocations: Sequence[AllocationInfo],
    now: datetime,
    rules: RulesConfig,
) -> dict[UUID, tuple[Violation, ...]]:
    """The candidates whose violations differ once validated on `tables` and `allocations`,
    with their new violations."""
    found: dict[UUID, tuple[Violation, ...]] = {}
    for c in candidates:
        now_found = tuple(
            validate(c.booking, c.proposed, tables, allocations, now, rules, ignore_session_id=c.id)
        )
        if now_found != c.violations:
            found[c.id] = now_found
    return found


def _raced(table_ids: Iterable[UUID]) -> Violation:
    return Violation(
        ViolationCode.TABLE_CONFLICT,
        "Another booking took one of these tables a moment ago; try again or pick others",
        tuple(table_ids),
    )


def _release_holds(scope: Scope, session_ids: Iterable[UUID], reason: str) -> dict[UUID, str]:
    ids = set(session_ids)
    return {
        a.id: reason
        for a in scope.allocations.values()
        if a.session_id in ids and a.kind == AllocationKind.HOLD
    }


def _close_others(scope: Scope, keep: UUID | None) -> tuple[dict[UUID, str], dict[UUID, str]]:
    """Cancel the booking's other open sessions: (sessions to close, their holds to release)."""
    others = [
        s.id for s in scope.sessions.values() if s.status in OPEN_SESSION_STATUSES and s.id != keep
    ]
    return dict.fromkeys(others, SessionStatus.CANCELLED), _release_holds(
        scope, others, ReleaseReason.RELEASED
    )


def _tables_changed_status(scope: Scope) -> str:
    """A PENDING booking that gets tables is CONFIRMED; the row is written either way, so its
    version moves with its tables."""
    status = scope.booking.status
    return BookingStatus.CONFIRMED if status == BookingStatus.PENDING else status


# ------------------------------------------------------------------------ planners


def propose(
    scope: Scope,
    user: str,
    requested: Sequence[UUID],
    ttl: timedelta,
    rules: RulesConfig,
    new_session_id: UUID,
) -> Plan:
    """Hold every requested table if the rules allow, else record why (and hold nothing).

    The user's open session for the booking is reused (or created with `new_session_id`); its
    previous hold is released, the same tables again only extend it, and an empty list
    releases it. Holds that ran out on requested tables (`scope.stale`) are expired first.
    """
    existing = scope.open_session_of(user)
    session_id = existing.id if existing else new_session_id
    release: dict[UUID, str] = {}
    close: dict[UUID, str] = {}
    for stale in scope.stale:
        close[stale.id] = SessionStatus.EXPIRED
        release.update(_release_holds(scope, [stale.id], ReleaseReason.EXPIRED))
    own_holds = scope.holds_of(session_id)
    violations = tuple(
        validate(
            scope.booking,
            requested,
            scope.tables,
            scope.allocations.values(),
            scope.now,
            rules,
            ignore_session_id=session_id,
        )
    )
    status, hold_expires_at = SessionStatus.PROPOSED, None
    insert: tuple[NewAllocation, ...] = ()
    extend: tuple[UUID, ...] = ()
    if requested and not violations:
        status, hold_expires_at = SessionStatus.HELD, scope.now + ttl
        insert = tuple(
            NewAllocation(t, AllocationKind.HOLD, session_id, hold_expires_at)
            for t in requested
            if t not in own_holds
        )
        extend = tuple(a.id for t, a in own_holds.items() if t in requested)
        release.update(
            {a.id: ReleaseReason.RELEASED for t, a in own_holds.items() if t not in requested}
        )
    else:
        release.update({a.id: ReleaseReason.RELEASED for a in own_holds.values()})
    plan = Plan(
        release=release,
        extend=extend,
        extend_until=hold_expires_at if extend else None,
        insert=insert,
        session=SessionWrite(
            session_id,
            existing is None,
            user,
            status,
            tuple(requested),
            violations,
            hold_expires_at,
        ),
        close=close,
    )
    return revalidated(scope, plan, rules)


_NOT_ACTIVE: dict[str, str] = {
    SessionStatus.PROPOSED: "the session holds no tables; propose tables that pass the rules first",
    SessionStatus.CONFIRMED: "the session is already confirmed",
    SessionStatus.CANCELLED: (
        "the session was cancelled (or another session for this booking was confirmed)"
    ),
    SessionStatus.EXPIRED: "the hold expired; propose the tables again",
}


def _not_active(status: str) -> str:
    return _NOT_ACTIVE.get(status, f"the session is {status}")


def not_active(status: str) -> SessionNotActive:
    """The refusal for acting on a session that is `status`."""
    return SessionNotActive(_not_active(status), status)


def confirm(
    scope: Scope, session_id: UUID, expected_version: int | None, rules: RulesConfig
) -> Plan:
    """Turn the session's holds into the booking's assignment.

    The session must be HELD and its hold unexpired; an expired one is marked EXPIRED (that
    is committed) and refused. The tables are validated again; the booking's earlier
    assignment is replaced, its other open sessions are cancelled.
    """
    session = scope.sessions[session_id]
    if session.status != SessionStatus.HELD:
        raise not_active(session.status)
    if session.hold_expires_at is None or session.hold_expires_at <= scope.now:
        plan = Plan(
            release=_release_holds(scope, [session_id], ReleaseReason.EXPIRED),
            session=replace(
                _write_of(session),
                status=SessionStatus.EXPIRED,
                violations=(),
                hold_expires_at=None,
            ),
            refusal=not_active(SessionStatus.EXPIRED),
        )
        return revalidated(scope, plan, rules)
    if expected_version is not None and expected_version != session.version:
        raise StaleVersion(
            "the session changed since you last saw it; check it and confirm again",
            session.version,
        )
    violations = validate(
        scope.booking,
        session.proposed,
        scope.tables,
        scope.allocations.values(),
        scope.now,
        rules,
        ignore_session_id=session_id,
    )
    held = scope.holds_of(session_id)
    if not violations and set(held) != set(session.proposed):
        violations = [_raced(t for t in session.proposed if t not in held)]
    if violations:
        raise TableConflict(
            "the proposed tables can no longer be given to this booking", violations
        )
    close, release = _close_others(scope, session_id)
    release.update(
        {a.id: ReleaseReason.UNASSIGNED for a in scope.of_booking(AllocationKind.ASSIGNMENT)}
    )
    plan = Plan(
        release=release,
        convert=tuple(a.id for a in held.values()),
        session=replace(
            _write_of(session), status=SessionStatus.CONFIRMED, violations=(), hold_expires_at=None
        ),
        close=close,
        booking_status=_tables_changed_status(scope),
    )
    return revalidated(scope, plan, rules)


def _write_of(session: SessionState) -> SessionWrite:
    return SessionWrite(
        session.id,
        False,
        session.created_by,
        session.status,
        session.proposed,
        session.violations,
        session.hold_expires_at,
    )


def cancel(scope: Scope, session_id: UUID, rules: RulesConfig) -> Plan:
    """Release the session's hold and close it."""
    session = scope.sessions[session_id]
    if session.status not in OPEN_SESSION_STATUSES:
        raise not_active(session.status)
    plan = Plan(
        release=_release_holds(scope, [session_id], ReleaseReason.RELEASED),
        session=replace(_write_of(session), status=SessionStatus.CANCELLED, hold_expires_at=None),
    )
    return revalidated(scope, plan, rules)


def auto_assign(scope: Scope, ranked: Sequence[Candidate], rules: RulesConfig) -> Plan | None:
    """Assign the first of `ranked` that still passes the rules (None if none does).

    The booking's earlier assignment is replaced (kept if it is that very set) and its open
    sessions are cancelled.
    """
    allocations = scope.allocations.values()
    current = {a.table_id for a in scope.of_booking(AllocationKind.ASSIGNMENT)}
    for candidate in ranked:
        ids = list(candidate.table_ids)
        if validate(scope.booking, ids, scope.tables, allocations, scope.now, rules):
            continue
        close, release = _close_others(scope, None)
        insert: tuple[NewAllocation, ...] = ()
        if set(ids) != current:
            release.update(
                {
                    a.id: ReleaseReason.UNASSIGNED
                    for a in scope.of_booking(AllocationKind.ASSIGNMENT)
                }
            )
            insert = tuple(NewAllocation(t, AllocationKind.ASSIGNMENT) for t in ids)
        plan = Plan(
            release=release,
            insert=insert,
            close=close,
            booking_status=_tables_changed_status(scope),
        )
        return revalidated(scope, plan, rules)
    return None


def unassign(scope: Scope, rules: RulesConfig) -> Plan:
    """Release the booking's assigned tables (optimizeFloor's first step for a booking it moves:
    every move's old tables are free before any new ones are taken)."""
    release = {a.id: ReleaseReason.UNASSIGNED for a in scope.of_booking(AllocationKind.ASSIGNMENT)}
    return revalidated(scope, Plan(release=release), rules)


def assign(scope: Scope, table_ids: Sequence[UUID], rules: RulesConfig) -> Plan:
    """Give the booking exactly `table_ids` (optimizeFloor's second step); FloorChanged if the
    rules no longer allow it on the floor as it is now."""
    allocations = scope.allocations.values()
    problems = validate(scope.booking, list(table_ids), scope.tables, allocations, scope.now, rules)
    if problems:
        raise FloorChanged(
            "the floor changed since the plan was made: " + "; ".join(v.message for v in problems)
        )
    insert = tuple(NewAllocation(t, AllocationKind.ASSIGNMENT) for t in table_ids)
    plan = Plan(insert=insert, booking_status=_tables_changed_status(scope))
    return revalidated(scope, plan, rules)


def set_status(scope: Scope, status: str, rules: RulesConfig) -> Plan:
    """Move the booking to `status` (the caller checked the move is allowed).

    A booking that is over, or off, closes its open sessions; a cancelled booking or a no-show
    gives its tables back at once.
    """
    release: dict[UUID, str] = {}
    close: dict[UUID, str] = {}
    if closes_sessions(status):
        close, release = _close_others(scope, None)
    if releases_tables(status):
        release.update(
            {a.id: ReleaseReason.RELEASED for a in scope.of_booking(AllocationKind.HOLD)}
        )
        release.update(
            {a.id: ReleaseReason.UNASSIGNED for a in scope.of_booking(AllocationKind.ASSIGNMENT)}
        )
    plan = Plan(release=release, close=close, booking_status=status)
    return revalidated(scope, plan, rules)


def expire(scope: Scope, rules: RulesConfig) -> Plan:
    """Expire the booking's HELD sessions whose hold has run out, and release their holds.

    Once the booking is over, its PROPOSED sessions expire too: nobody will act on them, and
    left open they would be looked at by every later flow on the restaurant's tables.
    """
    over = scope.booking.ends_at <= scope.now
    due = [
        s.id
        for s in scope.sessions.values()
        if (
            s.status == SessionStatus.HELD
            and s.hold_expires_at is not None
            and s.hold_expires_at <= scope.now
        )
        or (over and s.status == SessionStatus.PROPOSED)
    ]
    plan = Plan(
        release=_release_holds(scope, due, ReleaseReason.EXPIRED),
        close=dict.fromkeys(due, SessionStatus.EXPIRED),
    )
    return revalidated(scope, plan, rules)
