"""Tests for services.poems.shapes: word counts and turn time validation, and that every shape
makes a valid matrix."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.errors import FieldProblem, InvalidInput, Problems
from services.poems.matrix import generate_matrix, matrix_violations
from services.poems.rules import ROUND_WORD_COUNTS
from services.poems.shapes import (
    MAX_ROUNDS,
    MAX_TURN_SECONDS,
    MAX_WORDS,
    MIN_ROUNDS,
    MIN_TURN_SECONDS,
    SHAPE_WORD_COUNTS,
    GameShape,
    turn_seconds,
    word_counts,
)


def _word_counts(
    shape: GameShape, custom: list[int] | None
) -> tuple[tuple[int, ...], list[FieldProblem]]:
    problems = Problems()
    return word_counts(problems, shape, custom), problems.items


def test_fixed_shapes__their_word_counts() -> None:
    assert _word_counts(GameShape.CLASSIC, None) == ((1, 2, 3, 4, 5, 4, 3, 2, 1), [])
    assert _word_counts(GameShape.QUICK, None) == ((1, 2, 3, 2, 1), [])
    assert SHAPE_WORD_COUNTS[GameShape.CLASSIC] == ROUND_WORD_COUNTS
    assert set(SHAPE_WORD_COUNTS) == {GameShape.CLASSIC, GameShape.QUICK}
    for counts in SHAPE_WORD_COUNTS.values():
        assert MIN_ROUNDS <= len(counts) <= MAX_ROUNDS
        assert all(1 <= count <= MAX_WORDS for count in counts)


@pytest.mark.parametrize("shape", [GameShape.CLASSIC, GameShape.QUICK])
@pytest.mark.parametrize("custom", [[], [1, 2, 3], [0]])
def test_fixed_shapes__reject_word_counts(shape: GameShape, custom: list[int]) -> None:
    counts, problems = _word_counts(shape, custom)
    assert counts == SHAPE_WORD_COUNTS[shape]
    assert [p.field for p in problems] == ["wordCounts"]
    assert problems[0].message.startswith("only with shape CUSTOM")
    assert f"shape {shape} has its own" in problems[0].message


@pytest.mark.parametrize(
    "custom",
    [[1, 1, 1], [10] * 15, [3, 1, 4, 1, 5, 9, 2, 6], [*range(1, 11), 5, 4, 3, 2, 1]],
)
def test_custom__accepts_allowed_word_counts(custom: list[int]) -> None:
    assert _word_counts(GameShape.CUSTOM, custom) == (tuple(custom), [])


@pytest.mark.parametrize(
    ("custom", "messages"),
    [
        (None, ["required with shape CUSTOM: 3 to 15 rounds, each of 1 to 10 words"]),
        ([], ["has 0 rounds; allowed are 3 to 15 rounds, each of 1 to 10 words"]),
        ([1, 2], ["has 2 rounds; allowed are 3 to 15 rounds, each of 1 to 10 words"]),
        ([1] * 16, ["has 16 rounds; allowed are 3 to 15 rounds, each of 1 to 10 words"]),
        ([1, 0, 3], ["each round must have 1 to 10 words (round 2 has 0)"]),
        ([11, 2, -1, 4], ["each round must have 1 to 10 words (round 1 has 11, round 3 has -1)"]),
        (
            [0, 1],
            [
                "has 2 rounds; allowed are 3 to 15 rounds, each of 1 to 10 words",
                "each round must have 1 to 10 words (round 1 has 0)",
            ],
        ),
    ],
)
def test_custom__rejects_what_is_not_allowed(custom: list[int] | None, messages: list[str]) -> None:
    _, problems = _word_counts(GameShape.CUSTOM, custom)
    assert problems == [FieldProblem("wordCounts", message) for message in messages]


@pytest.mark.parametrize("raw", [None, MIN_TURN_SECONDS, 60, MAX_TURN_SECONDS])
def test_turn_seconds__accepts_null_and_the_range(raw: int | None) -> None:
    problems = Problems()
    assert turn_seconds(problems, raw) == raw
    assert problems.items == []


@pytest.mark.parametrize("raw", [-5, 0, MIN_TURN_SECONDS - 1, MAX_TURN_SECONDS + 1])
def test_turn_seconds__rejects_outside_the_range(raw: int) -> None:
    problems = Problems()
    turn_seconds(problems, raw)
    assert problems.items == [
        FieldProblem(
            "turnSeconds",
            f"must be 10 to 86400 seconds (one day), or null for no time limit (got {raw})",
        )
    ]


def test_problems__raised_together() -> None:
    problems = Problems()
    word_counts(problems, GameShape.QUICK, [1, 2, 3])
    turn_seconds(problems, 3)
    with pytest.raises(InvalidInput) as raised:
        problems.raise_if_any()
    assert [p.field for p in raised.value.fields] == ["wordCounts", "turnSeconds"]


_CUSTOM = st.lists(st.integers(1, MAX_WORDS), min_size=MIN_ROUNDS, max_size=MAX_ROUNDS)
_SHAPES = st.one_of(
    st.sampled_from([GameShape.CLASSIC, GameShape.QUICK]).map(lambda s: (s, None)),
    _CUSTOM.map(lambda counts: (GameShape.CUSTOM, counts)),
)


@settings(max_examples=300, derandomize=True)
@given(
    shape=_SHAPES,
    n=st.one_of(st.integers(2, 12), st.sampled_from([30, 50])),
    seed=st.integers(0, 2**32),
)
def test_every_shape__makes_a_valid_matrix(
    shape: tuple[GameShape, list[int] | None], n: int, seed: int
) -> None:
    problems = Problems()
    counts = word_counts(problems, *shape)
    assert problems.items == []
    matrix = generate_matrix(n, rounds=len(counts), rng=random.Random(seed))
    assert len(matrix) == len(counts)
    assert matrix_violations(matrix, n) == []


@pytest.mark.parametrize("rounds", range(MIN_ROUNDS, MAX_ROUNDS + 1))
@pytest.mark.parametrize("n", range(2, 13))
def test_every_round_count__makes_valid_matrices(rounds: int, n: int) -> None:
    for seed in range(10):
        assert matrix_violations(generate_matrix(n, rounds, random.Random(seed)), n) == []
