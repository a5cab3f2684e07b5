"""Tests for services.poems.matrix: the hard rules, determinism, coverage and the guard."""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.poems.matrix import generate_matrix, matrix_violations
from services.poems.rules import ROUND_WORD_COUNTS

PROPERTY = settings(max_examples=200)
SEATS = st.integers(2, 300)
SEEDS = st.integers()


def _make(n: int, seed: int, rounds: int = 9) -> list[list[int]]:
    return generate_matrix(n, rounds, random.Random(seed))


def _pair_counts(matrix: list[list[int]]) -> Counter[tuple[int, int]]:
    return Counter((poem, seat) for row in matrix for poem, seat in enumerate(row))


@PROPERTY
@given(n=SEATS, seed=SEEDS)
def test_generate_matrix__rows_are_permutations(n: int, seed: int) -> None:
    matrix = _make(n, seed)
    assert len(matrix) == 9
    for row in matrix:
        assert sorted(row) == list(range(n))


@PROPERTY
@given(n=SEATS, seed=SEEDS)
def test_generate_matrix__no_seat_writes_consecutive_lines_of_a_poem(n: int, seed: int) -> None:
    matrix = _make(n, seed)
    for before, now in itertools.pairwise(matrix):
        assert all(a != b for a, b in zip(before, now, strict=True))


@PROPERTY
@given(n=st.integers(9, 300), seed=SEEDS)
def test_generate_matrix__no_repeated_pair_when_seats_at_least_rounds(n: int, seed: int) -> None:
    matrix = _make(n, seed)
    assert max(_pair_counts(matrix).values()) == 1


@PROPERTY
@given(n=st.integers(2, 8), rounds=st.integers(9, 40), seed=SEEDS)
def test_generate_matrix__pair_count_capped_when_seats_below_rounds(
    n: int, rounds: int, seed: int
) -> None:
    matrix = _make(n, seed, rounds)
    assert max(_pair_counts(matrix).values()) <= math.ceil(rounds / n)


@PROPERTY
@given(n=st.integers(2, 60), rounds=st.integers(1, 60), seed=SEEDS)
def test_generate_matrix__any_round_count_passes_the_guard(n: int, rounds: int, seed: int) -> None:
    matrix = _make(n, seed, rounds)
    assert len(matrix) == rounds
    assert matrix_violations(matrix, n) == []


@pytest.mark.parametrize("n", range(2, 9))
def test_generate_matrix__small_tables_valid_for_500_seeds(n: int) -> None:
    cap = math.ceil(9 / n)
    for seed in range(500):
        matrix = _make(n, seed)
        assert all(sorted(row) == list(range(n)) for row in matrix), seed
        for before, now in itertools.pairwise(matrix):
            assert all(a != b for a, b in zip(before, now, strict=True)), seed
        assert max(_pair_counts(matrix).values()) <= cap, seed
        assert matrix_violations(matrix, n) == [], seed


@pytest.mark.parametrize("rounds", [1, 2, 9, 20])
def test_generate_matrix__two_seats_alternate(rounds: int) -> None:
    for seed in range(50):
        matrix = _make(2, seed, rounds)
        for r, row in enumerate(matrix):
            assert row == (matrix[0] if r % 2 == 0 else matrix[0][::-1])


def test_generate_matrix__same_seed_gives_same_matrix() -> None:
    assert _make(50, 1234) == _make(50, 1234)
    assert _make(5, -7) == _make(5, -7)


def test_generate_matrix__different_seeds_give_different_matrices() -> None:
    matrices = {tuple(map(tuple, _make(10, seed))) for seed in range(20)}
    assert len(matrices) == 20


def test_generate_matrix__default_rng_gives_valid_nine_rounds() -> None:
    matrix = generate_matrix(12)
    assert len(matrix) == 9
    assert matrix_violations(matrix, 12) == []


@pytest.mark.parametrize(("n", "rounds"), [(1, 9), (0, 9), (-3, 9), (5, 0), (5, -1)])
def test_generate_matrix__rejects_too_few_seats_or_rounds(n: int, rounds: int) -> None:
    with pytest.raises(ValueError):
        generate_matrix(n, rounds, random.Random(0))


def test_generate_matrix__ten_thousand_seats_valid() -> None:
    n = 10_000
    matrix = _make(n, 42)
    assert len(matrix) == 9
    assert all(sorted(row) == list(range(n)) for row in matrix)
    assert max(_pair_counts(matrix).values()) == 1
    assert matrix_violations(matrix, n) == []


def _derangements(n: int) -> set[tuple[int, ...]]:
    return {p for p in itertools.permutations(range(n)) if all(p[i] != i for i in range(n))}


@pytest.mark.parametrize("n", [3, 4])
def test_generate_matrix__second_row_reaches_every_allowed_row_evenly(n: int) -> None:
    # Relabel seats so that the first row is the identity; the second row is then a derangement.
    samples = 3000
    seen: Counter[tuple[int, ...]] = Counter()
    for seed in range(samples):
        first, second = _make(n, seed, rounds=2)
        poem_of = {seat: poem for poem, seat in enumerate(first)}
        seen[tuple(poem_of[seat] for seat in second)] += 1
    allowed = _derangements(n)
    assert set(seen) == allowed
    expected = samples / len(allowed)
    assert min(seen.values()) > 0.5 * expected
    assert max(seen.values()) < 1.5 * expected


def test_generate_matrix__every_latin_square_of_order_three_occurs() -> None:
    squares = Counter(tuple(map(tuple, _make(3, seed, rounds=3))) for seed in range(2000))
    assert len(squares) == 12
    assert min(squares.values()) > 0.5 * 2000 / 12


def test_generate_matrix__three_seats_nine_rounds_reach_all_192_block_matrices() -> None:
    # 192 of the 348 valid matrices split into 3 blocks without repeats (see module docstring).
    matrices = {tuple(map(tuple, _make(3, seed))) for seed in range(6000)}
    assert len(matrices) == 192


def test_round_word_counts__diamond_of_nine_rounds() -> None:
    assert ROUND_WORD_COUNTS == (1, 2, 3, 4, 5, 4, 3, 2, 1)
    assert ROUND_WORD_COUNTS == ROUND_WORD_COUNTS[::-1]


# --- matrix_violations on hand-made matrices -------------------------------------------------

A = [0, 1, 2]
B = [1, 2, 0]
C = [2, 0, 1]


def test_matrix_violations__valid_matrices_have_none() -> None:
    assert matrix_violations([A, B, C], 3) == []
    assert matrix_violations([A, B, C, A, B], 3) == []
    assert matrix_violations([[0, 1], [1, 0], [0, 1]], 2) == []


def test_matrix_violations__catches_repeated_seat_in_a_round() -> None:
    problems = matrix_violations([A, [1, 0, 0]], 3)
    assert problems == ["round 1: not one line per seat (repeated [0], missing [2])"]


def test_matrix_violations__catches_seat_out_of_range() -> None:
    problems = matrix_violations([A, [1, 2, 3]], 3)
    assert any("round 1" in p and "[3]" in p and "not in 0..2" in p for p in problems)


def test_matrix_violations__catches_wrong_row_length() -> None:
    problems = matrix_violations([A, [1, 0]], 3)
    assert any("round 1" in p and "has 2 poems, expected 3" in p for p in problems)


def test_matrix_violations__catches_consecutive_lines() -> None:
    problems = matrix_violations([[0, 1], [0, 1], [1, 0]], 2)  # cap is 2, so only adjacency
    assert problems == [
        "round 1: seat 0 writes poem 0 right after round 0",
        "round 1: seat 1 writes poem 1 right after round 0",
    ]


def test_matrix_violations__catches_repeat_when_seats_at_least_rounds() -> None:
    problems = matrix_violations([A, B, A], 3)  # cap is 1, no consecutive repeats
    assert len(problems) == 3
    assert all("writes poem" in p and "2 times" in p and "twice" in p for p in problems)


def test_matrix_violations__catches_cap_exceeded_when_seats_below_rounds() -> None:
    problems = matrix_violations([A, B, A, B, A], 3)  # cap is ceil(5 / 3) = 2
    assert len(problems) == 3
    assert all("3 times (at most 2 allowed)" in p for p in problems)


def test_matrix_violations__catches_empty_matrix_and_too_few_seats() -> None:
    assert matrix_violations([], 3) == ["matrix has no rounds"]
    assert any("at least 2 seats" in p for p in matrix_violations([[0]], 1))
