"""The poems planner: join codes, display names, and what a submitted line does."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.errors import InvalidInput
from services.poems.errors import NotYourTurn, WrongWordCount
from services.poems.inputs import clean_display_name, normalize_code
from services.poems.matrix import generate_matrix
from services.poems.model import GameStatus
from services.poems.plan import NewLine, StoredLine, SubmitState, new_code, plan_line
from services.poems.rules import CODE_ALPHABET, CODE_LENGTH, ROUND_WORD_COUNTS

MATRIX = generate_matrix(3, rng=random.Random(7))


def state(**changes: object) -> SubmitState:
    base = SubmitState(
        status=GameStatus.IN_PROGRESS,
        current_round=0,
        word_counts=ROUND_WORD_COUNTS,
        matrix=MATRIX,
        seat=1,
        existing_text=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def field_of(exc: pytest.ExceptionInfo[InvalidInput]) -> list[str]:
    return [p.field for p in exc.value.fields]


def test_alphabet__has_no_ambiguous_characters() -> None:
    assert not set("0O1IL") & set(CODE_ALPHABET)


@given(st.integers())
def test_new_code__is_six_unambiguous_characters(seed: int) -> None:
    code = new_code(random.Random(seed))
    assert len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET)
    assert normalize_code(f"  {code.lower()} ") == code


@pytest.mark.parametrize("bad", ["", "ABC", "ABCDEFG", "ABCDE0", "abcdeI", "AB CDE"])
def test_normalize_code__rejects_malformed_codes_naming_code(bad: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        normalize_code(bad)
    assert field_of(exc) == ["code"]


def test_display_name__is_trimmed() -> None:
    assert clean_display_name("  Ada Lovelace \n") == "Ada Lovelace"
    assert clean_display_name("x" * 40) == "x" * 40


@pytest.mark.parametrize("bad", ["", "   ", "x" * 41, "Ada\tL", "Ada\x00", "A\u200bda", "A\nB"])
def test_display_name__rejects_empty_long_or_control_naming_display_name(bad: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        clean_display_name(bad)
    assert field_of(exc) == ["displayName"]


def test_plan_line__stores_the_cleaned_line_on_the_matrix_poem() -> None:
    plan = plan_line(state(), 0, "  hello ")
    assert plan == NewLine(poem=MATRIX[0].index(1), round=0, text="hello", word_count=1)


def test_plan_line__in_the_last_round_uses_its_word_count() -> None:
    plan = plan_line(state(current_round=8, seat=2), 8, "farewell")
    assert plan == NewLine(poem=MATRIX[8].index(2), round=8, text="farewell", word_count=1)


def test_plan_line__wrong_word_count_says_expected_and_actual() -> None:
    with pytest.raises(WrongWordCount) as exc:
        plan_line(state(current_round=2), 2, "only two")
    assert (exc.value.expected, exc.value.actual) == (3, 2)
    assert "exactly 3 words" in exc.value.message


@pytest.mark.parametrize("text", ["", "   ", "x" * 201, "tab\there", "line\nbreak"])
def test_plan_line__rejected_text_names_text(text: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        plan_line(state(), 0, text)
    assert field_of(exc) == ["text"]


@pytest.mark.parametrize(
    ("changes", "round_", "needle"),
    [
        ({"status": GameStatus.LOBBY, "matrix": None}, 0, "not started"),
        ({"status": GameStatus.COMPLETED}, 0, "over"),
        ({"current_round": 3}, 2, "round 2 is over"),
        ({"current_round": 3}, 4, "round 4 has not started"),
    ],
)
def test_plan_line__outside_your_turn_is_not_your_turn(
    changes: dict[str, object], round_: int, needle: str
) -> None:
    with pytest.raises(NotYourTurn) as exc:
        plan_line(state(**changes), round_, "hello")
    assert needle in exc.value.message


@pytest.mark.parametrize("round_", [-1, 9, 100])
def test_plan_line__round_out_of_range_names_round(round_: int) -> None:
    with pytest.raises(InvalidInput) as exc:
        plan_line(state(), round_, "hello")
    assert field_of(exc) == ["round"]


def test_plan_line__retry_with_the_same_text_returns_the_stored_line() -> None:
    plan = plan_line(state(existing_text="hello", current_round=1), 0, " hello ")
    assert plan == StoredLine("hello")


def test_plan_line__different_text_after_a_stored_line_is_refused() -> None:
    with pytest.raises(InvalidInput) as exc:
        plan_line(state(existing_text="hello"), 0, "goodbye")
    assert field_of(exc) == ["text"] and "already submitted" in exc.value.message


@given(st.text(max_size=60))
def test_plan_line__never_stores_a_line_of_the_wrong_word_count(text: str) -> None:
    try:
        plan = plan_line(state(current_round=1), 1, text)
    except (InvalidInput, WrongWordCount):
        return
    assert isinstance(plan, NewLine) and plan.word_count == 2
