"""The tables planners (pure): what each flow decides from a snapshot, and its invariants.

The property tests generate restaurants, allocations and sessions and check what every flow
must keep true: a plan never double-books a table, and re-validation writes exactly the
sessions whose violations a plan changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.errors import StaleVersion
from services.tables import plan
from services.tables.candidates import rank_candidates
from services.tables.errors import SessionNotActive, TableConflict
from services.tables.model import AllocationKind, ReleaseReason, SessionStatus
from services.tables.plan import (
    CandidateState,
    Plan,
    Scope,
    SessionState,
    allocations_after,
    assignment_after,
)
from services.tables.rules import (
    AllocationInfo,
    BookingInfo,
    RulesConfig,
    TableInfo,
    validate,
)
from tests.support.tables import END, OTHER_BOOKING, RESTAURANT, START, alloc, new_id, table

BOOKING = UUID(int=0xB00C)
NOW = START - timedelta(hours=3)
TTL = timedelta(seconds=120)
RULES = RulesConfig()


def booking(
    party: int = 2, status: str = "PENDING", booking_id: UUID = BOOKING, start: datetime = START
) -> BookingInfo:
    return BookingInfo(booking_id, RESTAURANT, party, start, start + timedelta(hours=2), status)


def session(
    user: str = "ana",
    status: str = SessionStatus.PROPOSED,
    proposed: Sequence[TableInfo] = (),
    expires: datetime | None = None,
    version: int = 1,
) -> SessionState:
    return SessionState(new_id(), user, status, tuple(t.id for t in proposed), (), expires, version)


def scope(
    tables: Sequence[TableInfo],
    allocations: Sequence[AllocationInfo] = (),
    sessions: Sequence[SessionState] = (),
    b: BookingInfo | None = None,
    candidates: Sequence[CandidateState] = (),
    stale: Sequence[SessionState] = (),
) -> Scope:
    return Scope(
        booking=b or booking(),
        now=NOW,
        sessions={s.id: s for s in sessions},
        tables={t.id: t for t in tables},
        allocations={a.id: a for a in allocations},
        candidates=tuple(candidates),
        stale=tuple(stale),
    )


def propose(s: Scope, *tables: TableInfo, user: str = "ana") -> Plan:
    return plan.propose(s, user, [t.id for t in tables], TTL, RULES, new_id())


# ---------------------------------------------------------------- propose


def test_propose__clean_tables_are_held_until_now_plus_the_ttl_in_a_new_session() -> None:
    t1, t2 = table("T1"), table("T2")
    p = propose(scope([t1, t2], b=booking(party=6)), t1, t2)
    assert p.session is not None and p.session.new
    assert (p.session.status, p.session.hold_expires_at) == (SessionStatus.HELD, NOW + TTL)
    assert [(n.table_id, n.kind, n.session_id) for n in p.insert] == [
        (t1.id, AllocationKind.HOLD, p.session.id),
        (t2.id, AllocationKind.HOLD, p.session.id),
    ]
    assert not p.release and not p.close and p.booking_status is None


def test_propose__the_same_tables_again_extend_the_hold_of_the_same_session() -> None:
    t1 = table("T1")
    mine = session(status=SessionStatus.HELD, proposed=[t1], expires=NOW + timedelta(seconds=30))
    hold = alloc(t1, BOOKING, AllocationKind.HOLD, mine.id, NOW + timedelta(seconds=30))
    p = propose(scope([t1], [hold], [mine]), t1)
    assert p.session is not None and (p.session.id, p.session.new) == (mine.id, False)
    assert p.extend == (hold.id,) and p.extend_until == NOW + TTL
    assert not p.insert and not p.release


def test_propose__other_tables_release_the_previous_hold() -> None:
    t1, t2 = table("T1"), table("T2")
    mine = session(status=SessionStatus.HELD, proposed=[t1], expires=NOW + TTL)
    hold = alloc(t1, BOOKING, AllocationKind.HOLD, mine.id, NOW + TTL)
    p = propose(scope([t1, t2], [hold], [mine]), t2)
    assert p.release == {hold.id: ReleaseReason.RELEASED}
    assert [n.table_id for n in p.insert] == [t2.id]


def test_propose__broken_rules_hold_nothing_release_the_hold_and_say_why() -> None:
    t1, small = table("T1"), table("S", 1, 2)
    mine = session(status=SessionStatus.HELD, proposed=[t1], expires=NOW + TTL)
    hold = alloc(t1, BOOKING, AllocationKind.HOLD, mine.id, NOW + TTL)
    p = propose(scope([t1, small], [hold], [mine], b=booking(party=4)), small)
    assert p.session is not None and p.session.status == SessionStatus.PROPOSED
    assert [v.code for v in p.session.violations] == ["CAPACITY_TOO_SMALL"]
    assert p.session.hold_expires_at is None and not p.insert
    assert p.release == {hold.id: ReleaseReason.RELEASED}


def test_propose__an_empty_list_releases_the_hold_and_leaves_the_session_proposed() -> None:
    t1 = table("T1")
    mine = session(status=SessionStatus.HELD, proposed=[t1], expires=NOW + TTL)
    hold = alloc(t1, BOOKING, AllocationKind.HOLD, mine.id, NOW + TTL)
    p = propose(scope([t1], [hold], [mine]))
    assert p.session is not None
    assert (p.session.status, p.session.proposed, p.session.violations) == (
        SessionStatus.PROPOSED,
        (),
        (),
    )
    assert p.release == {hold.id: ReleaseReason.RELEASED}


def test_propose__another_bookings_hold_is_a_conflict_naming_it() -> None:
    t1 = table("T1")
    theirs = alloc(t1, OTHER_BOOKING, AllocationKind.HOLD, new_id(), NOW + TTL)
    p = propose(scope([t1], [theirs]), t1)
    assert p.session is not None and p.session.status == SessionStatus.PROPOSED
    assert [(v.code, v.conflicting_booking_id) for v in p.session.violations] == [
        ("TABLE_CONFLICT", OTHER_BOOKING)
    ]
    assert not p.insert


def test_propose__takes_over_a_table_whose_hold_ran_out_and_expires_that_session() -> None:
    t1, t2 = table("T1"), table("T2")
    old = session(
        user="bo", status=SessionStatus.HELD, proposed=[t1, t2], expires=NOW - timedelta(seconds=1)
    )
    ran_out = [
        alloc(t, OTHER_BOOKING, AllocationKind.HOLD, old.id, NOW - timedelta(seconds=1))
        for t in (t1, t2)
    ]
    p = propose(scope([t1, t2], ran_out, stale=[old]), t1)
    assert p.session is not None and p.session.status == SessionStatus.HELD
    assert p.close == {old.id: SessionStatus.EXPIRED}
    assert p.release == {
        a.id: ReleaseReason.EXPIRED for a in ran_out
    }  # all of its holds, not just T1's
    assert [n.table_id for n in p.insert] == [t1.id]


# ---------------------------------------------------------------- confirm, cancel


def held_scope() -> tuple[Scope, SessionState, TableInfo, AllocationInfo]:
    t1 = table("T1")
    mine = session(status=SessionStatus.HELD, proposed=[t1], expires=NOW + TTL, version=3)
    hold = alloc(t1, BOOKING, AllocationKind.HOLD, mine.id, NOW + TTL)
    return scope([t1], [hold], [mine]), mine, t1, hold


def test_confirm__holds_become_the_assignment_and_the_booking_is_confirmed() -> None:
    s, mine, t1, hold = held_scope()
    p = plan.confirm(s, mine.id, 3, RULES)
    assert p.convert == (hold.id,) and not p.insert
    assert p.session is not None and (p.session.status, p.session.hold_expires_at) == (
        SessionStatus.CONFIRMED,
        None,
    )
    assert p.booking_status == "CONFIRMED" and p.refusal is None
    assert assignment_after(s, p) == [t1.id]


def test_confirm__replaces_the_earlier_assignment_and_cancels_other_sessions() -> None:
    t1, t2 = table("T1"), table("T2")
    mine = session(status=SessionStatus.HELD, proposed=[t2], expires=NOW + TTL)
    other = session(user="bo", status=SessionStatus.HELD, proposed=[t1], expires=NOW + TTL)
    earlier = alloc(t1, BOOKING, AllocationKind.ASSIGNMENT)
    my_hold = alloc(t2, BOOKING, AllocationKind.HOLD, mine.id, NOW + TTL)
    their_hold = alloc(t1, BOOKING, AllocationKind.HOLD, other.id, NOW + TTL)
    s = scope(
        [t1, t2], [earlier, my_hold, their_hold], [mine, other], b=booking(status="CONFIRMED")
    )
    p = plan.confirm(s, mine.id, None, RULES)
    assert p.release == {
        earlier.id: ReleaseReason.UNASSIGNED,
        their_hold.id: ReleaseReason.RELEASED,
    }
    assert p.close == {other.id: SessionStatus.CANCELLED}
    assert p.booking_status == "CONFIRMED"  # already confirmed; its version still moves
    assert assignment_after(s, p) == [t2.id]


@pytest.mark.parametrize(
    "status",
    [
        SessionStatus.PROPOSED,
        SessionStatus.CONFIRMED,
        SessionStatus.CANCELLED,
        SessionStatus.EXPIRED,
    ],
)
def test_confirm__a_session_that_is_not_held_is_refused_with_its_status(status: str) -> None:
    t1 = table("T1")
    closed = session(status=status, proposed=[t1])
    with pytest.raises(SessionNotActive) as caught:
        plan.confirm(scope([t1], sessions=[closed]), closed.id, None, RULES)
    assert caught.value.status == status


def test_confirm__a_hold_that_ran_out_is_expired_then_refused() -> None:
    t1 = table("T1")
    mine = session(status=SessionStatus.HELD, proposed=[t1], expires=NOW)
    hold = alloc(t1, BOOKING, AllocationKind.HOLD, mine.id, NOW)
    p = plan.confirm(scope([t1], [hold], [mine]), mine.id, None, RULES)
    assert p.session is not None and p.session.status == SessionStatus.EXPIRED
    assert p.release == {hold.id: ReleaseReason.EXPIRED} and not p.convert
    assert isinstance(p.refusal, SessionNotActive) and p.refusal.status == SessionStatus.EXPIRED


def test_confirm__a_stale_expected_version_is_refused_with_the_current_one() -> None:
    s, mine, _, _ = held_scope()
    with pytest.raises(StaleVersion) as caught:
        plan.confirm(s, mine.id, 2, RULES)
    assert caught.value.current_version == 3


def test_confirm__tables_that_no_longer_pass_the_rules_are_a_conflict() -> None:
    t1 = table("T1")
    mine = session(status=SessionStatus.HELD, proposed=[t1], expires=NOW + TTL)
    hold = alloc(t1, BOOKING, AllocationKind.HOLD, mine.id, NOW + TTL)
    s = scope([t1], [hold], [mine], b=booking(status="CANCELLED"))
    with pytest.raises(TableConflict) as caught:
        plan.confirm(s, mine.id, None, RULES)
    assert [v.code for v in caught.value.violations] == ["BOOKING_NOT_ASSIGNABLE"]


def test_confirm__a_proposed_table_without_its_hold_is_a_conflict() -> None:
    t1, t2 = table("T1"), table("T2")
    mine = session(status=SessionStatus.HELD, proposed=[t1, t2], expires=NOW + TTL)
    only_t1 = alloc(t1, BOOKING, AllocationKind.HOLD, mine.id, NOW + TTL)
    s = scope([t1, t2], [only_t1], [mine], b=booking(party=6))
    with pytest.raises(TableConflict) as caught:
        plan.confirm(s, mine.id, None, RULES)
    assert [(v.code, v.table_ids) for v in caught.value.violations] == [
        ("TABLE_CONFLICT", (t2.id,))
    ]


def test_cancel__releases_the_hold_and_closes_the_session() -> None:
    s, mine, _, hold = held_scope()
    p = plan.cancel(s, mine.id, RULES)
    assert p.release == {hold.id: ReleaseReason.RELEASED}
    assert p.session is not None and (p.session.status, p.session.hold_expires_at) == (
        SessionStatus.CANCELLED,
        None,
    )
    closed = session(status=SessionStatus.CANCELLED)
    with pytest.raises(SessionNotActive):
        plan.cancel(scope([], sessions=[closed]), closed.id, RULES)


# ---------------------------------------------------------------- auto-assign, status, expiry


def test_auto_assign__takes_the_first_candidate_that_still_fits() -> None:
    t1, t2 = table("T1"), table("T2")
    ranked = rank_candidates(booking(), {t.id: t for t in (t1, t2)}, [], NOW, RULES)
    taken = alloc(ranked[0].tables[0])  # the best one was taken meanwhile
    p = plan.auto_assign(scope([t1, t2], [taken]), ranked, RULES)
    assert p is not None
    assert [(n.table_id, n.kind) for n in p.insert] == [
        (ranked[1].tables[0].id, AllocationKind.ASSIGNMENT)
    ]
    assert p.booking_status == "CONFIRMED"


def test_auto_assign__none_when_every_candidate_was_taken() -> None:
    t1 = table("T1")
    ranked = rank_candidates(booking(), {t1.id: t1}, [], NOW, RULES)
    assert plan.auto_assign(scope([t1], [alloc(t1)]), ranked, RULES) is None


def test_auto_assign__keeps_the_same_assignment_and_cancels_open_sessions() -> None:
    t1 = table("T1")
    mine = session(status=SessionStatus.HELD, proposed=[t1], expires=NOW + TTL)
    earlier = alloc(t1, BOOKING, AllocationKind.ASSIGNMENT)
    hold = alloc(t1, BOOKING, AllocationKind.HOLD, mine.id, NOW + TTL)
    s = scope([t1], [earlier, hold], [mine])
    ranked = rank_candidates(booking(), {t1.id: t1}, [], NOW, RULES)
    p = plan.auto_assign(s, ranked, RULES)
    assert p is not None and not p.insert and earlier.id not in p.release
    assert p.close == {mine.id: SessionStatus.CANCELLED} and p.release == {
        hold.id: ReleaseReason.RELEASED
    }


def test_set_status__cancel_gives_every_table_back_and_closes_sessions() -> None:
    t1, t2 = table("T1"), table("T2")
    mine = session(status=SessionStatus.HELD, proposed=[t2], expires=NOW + TTL)
    assigned = alloc(t1, BOOKING, AllocationKind.ASSIGNMENT)
    hold = alloc(t2, BOOKING, AllocationKind.HOLD, mine.id, NOW + TTL)
    p = plan.set_status(scope([t1, t2], [assigned, hold], [mine]), "CANCELLED", RULES)
    assert p.release == {assigned.id: ReleaseReason.UNASSIGNED, hold.id: ReleaseReason.RELEASED}
    assert p.close == {mine.id: SessionStatus.CANCELLED} and p.booking_status == "CANCELLED"


def test_set_status__completed_closes_sessions_but_keeps_the_tables() -> None:
    t1 = table("T1")
    assigned = alloc(t1, BOOKING, AllocationKind.ASSIGNMENT)
    proposing = session(status=SessionStatus.PROPOSED, proposed=[t1])
    p = plan.set_status(scope([t1], [assigned], [proposing]), "COMPLETED", RULES)
    assert not p.release and p.close == {proposing.id: SessionStatus.CANCELLED}


def test_expire__only_holds_that_ran_out() -> None:
    t1, t2 = table("T1"), table("T2")
    due = session(status=SessionStatus.HELD, proposed=[t1], expires=NOW)
    later = session(user="bo", status=SessionStatus.HELD, proposed=[t2], expires=NOW + TTL)
    due_hold = alloc(t1, BOOKING, AllocationKind.HOLD, due.id, NOW)
    later_hold = alloc(t2, BOOKING, AllocationKind.HOLD, later.id, NOW + TTL)
    p = plan.expire(scope([t1, t2], [due_hold, later_hold], [due, later]), RULES)
    assert p.close == {due.id: SessionStatus.EXPIRED} and p.release == {
        due_hold.id: ReleaseReason.EXPIRED
    }


def test_expire__proposals_expire_once_the_booking_is_over_and_not_before() -> None:
    t1 = table("T1")
    waiting = session(proposed=[t1])
    assert plan.expire(scope([t1], sessions=[waiting]), RULES).close == {}
    over = booking(start=NOW - timedelta(hours=2))  # ends exactly now
    p = plan.expire(scope([t1], sessions=[waiting], b=over), RULES)
    assert p.close == {waiting.id: SessionStatus.EXPIRED} and p.release == {}


# ---------------------------------------------------------------- re-validation


def candidate(
    proposed: Sequence[TableInfo], s: Scope, start: datetime = START, party: int = 2
) -> CandidateState:
    b = booking(party=party, booking_id=new_id(), start=start)
    found = validate(b, [t.id for t in proposed], s.tables, s.allocations.values(), NOW, RULES)
    return CandidateState(new_id(), b, tuple(t.id for t in proposed), tuple(found))


def test_revalidation__a_waiting_session_learns_its_table_is_free_now() -> None:
    s, mine, t1, _ = held_scope()
    waiting = candidate([t1], s)
    assert [v.code for v in waiting.violations] == ["TABLE_CONFLICT"]
    s = scope(list(s.tables.values()), list(s.allocations.values()), [mine], candidates=[waiting])
    p = plan.cancel(s, mine.id, RULES)
    assert p.revalidated == {waiting.id: ()}


def test_revalidation__a_waiting_session_learns_its_table_was_just_taken() -> None:
    t1 = table("T1")
    s = scope([t1])
    waiting = candidate([t1], s)
    assert waiting.violations == ()
    p = propose(scope([t1], candidates=[waiting]), t1)
    assert [v.code for v in p.revalidated[waiting.id]] == ["TABLE_CONFLICT"]


def test_revalidation__sessions_at_other_times_or_tables_are_not_touched() -> None:
    t1, t2 = table("T1"), table("T2")
    s = scope([t1, t2])
    later = candidate([t1], s, start=END)  # touching, not overlapping
    elsewhere = candidate([t2], s)
    p = propose(scope([t1, t2], candidates=[later, elsewhere]), t1)
    assert p.revalidated == {}


def test_changed_violations__a_table_edit_changes_only_the_proposals_it_concerns() -> None:
    t1, t2 = table("T1"), table("T2")
    s = scope([t1, t2])
    on_t1, on_t2 = candidate([t1], s), candidate([t2], s)
    closed = {t1.id: replace(t1, active=False), t2.id: t2}
    found = plan.changed_violations([on_t1, on_t2], closed, [], NOW, RULES)
    assert list(found) == [on_t1.id]
    assert [(v.code, v.table_ids) for v in found[on_t1.id]] == [("TABLE_INACTIVE", (t1.id,))]
    reopened = replace(on_t1, violations=found[on_t1.id])
    assert plan.changed_violations([reopened], s.tables, [], NOW, RULES) == {on_t1.id: ()}


# ---------------------------------------------------------------- properties

TABLES = [
    TableInfo(UUID(int=0x7000 + i), RESTAURANT, f"T{i}", "Main", 1, 4, True) for i in range(4)
]
BOOKINGS = [UUID(int=0x8000 + i) for i in range(4)]


def _slot(hour: int) -> datetime:
    return START + timedelta(hours=hour)


@st.composite
def floors(draw: st.DrawFn) -> tuple[Scope, list[UUID]]:
    """A booking, live allocations that never overlap on a table, and a proposal."""
    allocations: list[AllocationInfo] = []
    for t in TABLES:
        hour = 0
        while hour < 6:
            hour += draw(st.integers(0, 2))
            if hour >= 6 or not draw(st.booleans()):
                break
            kind = draw(st.sampled_from([AllocationKind.ASSIGNMENT, AllocationKind.HOLD]))
            expired = kind == AllocationKind.HOLD and draw(st.booleans())
            expires = None
            if kind == AllocationKind.HOLD:
                expires = NOW - timedelta(seconds=1) if expired else NOW + TTL
            allocations.append(
                AllocationInfo(
                    new_id(),
                    t.id,
                    draw(st.sampled_from(BOOKINGS)),
                    kind,
                    _slot(hour),
                    _slot(hour + 2),
                    expires,
                    new_id() if kind == AllocationKind.HOLD else None,
                )
            )
            hour += 2
    start = _slot(draw(st.integers(0, 5)))
    mine = BookingInfo(
        BOOKING, RESTAURANT, draw(st.integers(1, 6)), start, start + timedelta(hours=2), "PENDING"
    )
    requested = draw(st.lists(st.sampled_from([t.id for t in TABLES]), max_size=2, unique=True))
    # The sessions of holds that ran out on requested tables over the booking's time: what
    # tables_open_scope reports as stale.
    stale = [
        SessionState(a.session_id, "bo", SessionStatus.HELD, (a.table_id,), (), a.expires_at, 1)
        for a in allocations
        if a.session_id is not None
        and a.expires_at is not None
        and a.expires_at <= NOW
        and a.table_id in requested
        and a.starts_at < mine.ends_at
        and mine.starts_at < a.ends_at
    ]
    s = Scope(
        mine, NOW, {}, {t.id: t for t in TABLES}, {a.id: a for a in allocations}, (), tuple(stale)
    )
    return s, requested


def _double_booked(allocations: Sequence[AllocationInfo]) -> bool:
    return any(
        a.table_id == b.table_id
        and a.booking_id != b.booking_id
        and a.starts_at < b.ends_at
        and b.starts_at < a.ends_at
        for i, a in enumerate(allocations)
        for b in allocations[i + 1 :]
    )


@settings(max_examples=300)
@given(floors())
def test_property__a_proposal_never_double_books_a_table(floor: tuple[Scope, list[UUID]]) -> None:
    s, requested = floor
    p = plan.propose(s, "ana", requested, TTL, RULES, new_id())
    after = allocations_after(s, p)
    assert not _double_booked(after)  # what the exclusion constraint would refuse
    assert p.session is not None
    if p.session.status == SessionStatus.HELD:
        assert {n.table_id for n in p.insert} == set(requested) and requested
    else:
        assert not p.insert and (p.session.violations or not requested)


@settings(max_examples=200)
@given(floors(), st.lists(st.tuples(st.integers(0, 3), st.integers(0, 5)), max_size=4))
def test_property__revalidation_writes_exactly_the_sessions_whose_violations_change(
    floor: tuple[Scope, list[UUID]], waiting: list[tuple[int, int]]
) -> None:
    s, requested = floor
    candidates = []
    for table_index, hour in waiting:
        b = BookingInfo(new_id(), RESTAURANT, 2, _slot(hour), _slot(hour + 2), "PENDING")
        ids = (TABLES[table_index].id,)
        found = validate(b, ids, s.tables, s.allocations.values(), NOW, RULES)
        candidates.append(CandidateState(new_id(), b, ids, tuple(found)))
    s = Scope(s.booking, s.now, s.sessions, s.tables, s.allocations, tuple(candidates), s.stale)
    p = plan.propose(s, "ana", requested, TTL, RULES, new_id())
    after = allocations_after(s, p)
    for c in candidates:
        now_found = tuple(validate(c.booking, c.proposed, s.tables, after, NOW, RULES, c.id))
        if now_found != c.violations:
            assert p.revalidated.get(c.id) == now_found
        else:
            assert c.id not in p.revalidated
