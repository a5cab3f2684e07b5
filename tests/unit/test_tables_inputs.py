"""Pure helpers of the tables area: input checks, status moves, stored violations, ids."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.core.ids import parse_id
from services.errors import Problems
from services.tables import inputs, rules
from services.tables.model import (
    BookingStatus,
    Violation,
    ViolationCode,
    violation_from_json,
    violations_to_json,
)
from services.tables.rules import booking_info

START = datetime(2031, 6, 1, 18, 0, tzinfo=UTC)


def problems_of(fn, *args, **kwargs) -> dict[str, str]:
    problems = Problems()
    fn(problems, *args, **kwargs)
    return {p.field: p.message for p in problems.items}


def test_text__trims_and_collapses_spaces_and_names_the_field() -> None:
    problems = Problems()
    assert inputs.text(problems, "name", "  Chez   Nous \n", 20) == "Chez Nous"
    assert not problems.items
    assert problems_of(inputs.text, "name", " \t ", 20) == {"name": "must not be empty"}
    assert "at most 3" in problems_of(inputs.text, "label", "abcd", 3)["label"]


@pytest.mark.parametrize("bad", ["a\x00b", "\x00", "bell\x07", "\ud800x", "x\x7f"])
def test_text__refuses_control_characters_postgres_cannot_store(bad: str) -> None:
    """Found by tests/e2e/test_fuzz.py: a NUL in a name reached INSERT and was INTERNAL_ERROR."""
    assert problems_of(inputs.text, "name", bad, 20) == {
        "name": "must not contain control characters"
    }


@pytest.mark.parametrize("zone", ["Europe/London", "America/New_York", "UTC", "Asia/Kolkata"])
def test_timezone__accepts_iana_names(zone: str) -> None:
    assert problems_of(inputs.timezone, "timezone", zone) == {}


@pytest.mark.parametrize(
    "zone", ["", "Mars/Base", "europe/london", "../etc/passwd", "localtime", "posixrules", "+01:00"]
)
def test_timezone__refuses_anything_else(zone: str) -> None:
    assert "IANA" in problems_of(inputs.timezone, "timezone", zone)["timezone"]


@pytest.mark.parametrize(
    ("low", "high", "bad"),
    [
        (1, 1, set()),
        (2, 50, set()),
        (0, 2, {"minCapacity"}),
        (3, 2, {"maxCapacity"}),
        (1, 51, {"maxCapacity"}),
        (51, 51, {"minCapacity", "maxCapacity"}),
        (-1, 0, {"minCapacity", "maxCapacity"}),
    ],
)
def test_capacities__one_to_fifty_and_min_not_above_max(low: int, high: int, bad: set[str]) -> None:
    assert set(problems_of(inputs.capacities, low, high)) == bad


def test_time_range__offsets_order_and_length() -> None:
    assert problems_of(inputs.time_range, START, START + timedelta(hours=2)) == {}
    assert set(problems_of(inputs.time_range, START.replace(tzinfo=None), START)) == {"startsAt"}
    assert set(problems_of(inputs.time_range, START, START)) == {"endsAt"}
    assert set(problems_of(inputs.time_range, START, START + timedelta(hours=13))) == {"endsAt"}
    window = problems_of(
        inputs.time_range, START, START - timedelta(days=1), start_field="from", end_field="to"
    )
    assert window == {"to": "must be after from"}


def test_party_size__one_to_fifty() -> None:
    assert problems_of(inputs.party_size, 1) == problems_of(inputs.party_size, 50) == {}
    assert (
        set(problems_of(inputs.party_size, 0))
        == set(problems_of(inputs.party_size, 51))
        == {"partySize"}
    )


@given(st.sampled_from(sorted(BookingStatus)), st.sampled_from(sorted(BookingStatus)))
def test_lifecycle__final_statuses_never_move_and_every_refusal_explains(a: str, b: str) -> None:
    if a in ("COMPLETED", "CANCELLED", "NO_SHOW") and a != b:
        assert not rules.can_move(a, b)
        assert "final" in rules.refusal(a, b)
    if not rules.can_move(a, b):
        assert b in rules.refusal(a, b) or "final" in rules.refusal(a, b)
    assert rules.can_move(a, a)
    if rules.releases_tables(b):
        assert rules.closes_sessions(b)


def test_lifecycle__the_usual_evening() -> None:
    path = ["PENDING", "CONFIRMED", "SEATED", "COMPLETED"]
    assert all(rules.can_move(x, y) for x, y in itertools.pairwise(path))
    assert rules.can_move("PENDING", "SEATED")  # a walk-in
    assert not rules.can_move("SEATED", "CANCELLED")
    assert not rules.can_move("CONFIRMED", "PENDING")


ids = st.uuids()
violations = st.builds(
    Violation,
    code=st.sampled_from(
        [
            ViolationCode.TABLE_CONFLICT,
            ViolationCode.CAPACITY_TOO_SMALL,
            ViolationCode.TABLE_UNKNOWN,
        ]
    ),
    message=st.text(max_size=80),
    table_ids=st.tuples(ids, ids) | st.tuples(ids) | st.just(()),
    conflicting_booking_id=st.none() | ids,
)


@given(st.lists(violations, max_size=4))
def test_violations__survive_being_stored_as_json(items: list[Violation]) -> None:
    stored = violations_to_json(items)
    assert [violation_from_json(v) for v in stored] == items
    assert all(set(v) == {"code", "message", "tableIds", "conflictingBookingId"} for v in stored)


def test_parse_id__uuids_only() -> None:
    u = uuid.uuid4()
    assert parse_id(str(u)) == u and parse_id(f" {u} ") == u and parse_id(u) == u
    assert parse_id("T1") is None and parse_id("") is None and parse_id(None) is None


def test_booking_info__times_in_the_restaurant_zone_for_messages() -> None:
    row = {
        "id": uuid.uuid4(),
        "restaurant_id": uuid.uuid4(),
        "party_size": 2,
        "status": "PENDING",
        "starts_at": START,
        "ends_at": START + timedelta(hours=2),
        "timezone": "Europe/London",
    }
    info = booking_info(row)
    assert info.starts_at == START and info.starts_at.tzinfo == ZoneInfo("Europe/London")
    assert info.starts_at.strftime("%H:%M") == "19:00"
