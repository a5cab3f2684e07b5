"""Tests for services.poems.readers: balance, and optimality against brute force.

Small cases are compared with every balanced assignment; larger ones are checked with the
min-cost flow optimality certificate (no cost-lowering cycle of moves between readers).
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Iterator, Sequence
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.poems.matrix import generate_matrix
from services.poems.readers import ReaderPlan, assign_readers

PROPERTY = settings(max_examples=200, derandomize=True)


@cache
def _balanced(poems: int, readers: int) -> tuple[tuple[int, ...], ...]:
    """Every balanced assignment of ``poems`` poems to reader indexes ``0..readers-1``."""
    share, extra = divmod(poems, readers)
    found: list[tuple[int, ...]] = []
    counts = [0] * readers

    def extend(prefix: list[int]) -> None:
        if len(prefix) == poems:
            if sum(c == share + 1 for c in counts) == extra:
                found.append(tuple(prefix))
            return
        for r in range(readers):
            if counts[r] < share + (1 if extra else 0):
                counts[r] += 1
                prefix.append(r)
                extend(prefix)
                prefix.pop()
                counts[r] -= 1

    extend([])
    return tuple(found)


def _pair_levels(
    matrix: Sequence[Sequence[int]], human: Sequence[Sequence[bool]] | None
) -> dict[tuple[int, int], tuple[int, int]]:
    """(wrote the first line, wrote a line) of every (poem, seat), computed from scratch."""
    levels: dict[tuple[int, int], tuple[int, int]] = {}
    for poem, seat in itertools.product(range(len(matrix[0])), repeat=2):
        lines = [
            r
            for r, row in enumerate(matrix)
            if row[poem] == seat and (human is None or human[r][poem])
        ]
        levels[poem, seat] = (int(0 in lines), int(bool(lines)))
    return levels


def _levels(
    levels: dict[tuple[int, int], tuple[int, int]], reader_of: Sequence[int | None]
) -> tuple[int, int]:
    """(own first lines, own poems) of an assignment."""
    pairs = [levels[poem, seat] for poem, seat in enumerate(reader_of) if seat is not None]
    return sum(first for first, _ in pairs), sum(own for _, own in pairs)


def _brute_force(
    matrix: Sequence[Sequence[int]],
    human: Sequence[Sequence[bool]] | None,
    readers: Sequence[int],
) -> tuple[int, int]:
    """The lexicographically least (own first lines, own poems) over balanced assignments."""
    levels = _pair_levels(matrix, human)
    return min(
        _levels(levels, [readers[r] for r in choice])
        for choice in _balanced(len(matrix[0]), len(readers))
    )


def _check_plan(
    plan: ReaderPlan,
    matrix: Sequence[Sequence[int]],
    human: Sequence[Sequence[bool]] | None,
    readers: Sequence[int],
) -> None:
    """Shape, balance and self-consistency of a plan."""
    poems = len(matrix[0])
    assert len(plan.reader_of) == poems
    if not readers:
        assert plan.reader_of == (None,) * poems
        return
    assert all(seat in readers for seat in plan.reader_of)
    counts = sorted(len(plan.poems_of(seat)) for seat in readers)
    assert counts[-1] - counts[0] <= 1
    assert sum(counts) == poems
    assert (plan.own_first_lines, plan.own_poems) == _levels(
        _pair_levels(matrix, human), plan.reader_of
    )
    assert plan.ideal == (plan.own_poems == 0)
    assert plan.own_first_line_avoided == (plan.own_first_lines == 0)


def _bot_patterns(rounds: int, n: int, seed: int) -> Iterator[list[list[bool]] | None]:
    """All human (None), a few random bot stand-ins, and a bot-written first round."""
    yield None
    rng = random.Random(seed)
    for share in (0.2, 0.5):
        yield [[rng.random() >= share for _ in range(n)] for _ in range(rounds)]
    yield [[r > 0 for _ in range(n)] for r in range(rounds)]


def _reader_subsets(n: int) -> Iterator[tuple[int, ...]]:
    for size in range(1, n + 1):
        yield from itertools.combinations(range(n), size)


@pytest.mark.parametrize("n", [2, 3, 4, 5])
@pytest.mark.parametrize("rounds", [3, 5, 9])
def test_assign_readers__matches_brute_force_on_every_small_case(n: int, rounds: int) -> None:
    for seed in range(4):
        matrix = generate_matrix(n, rounds, random.Random(seed))
        for human in _bot_patterns(rounds, n, seed):
            for readers in _reader_subsets(n):
                plan = assign_readers(matrix, human, readers)
                _check_plan(plan, matrix, human, readers)
                best = _brute_force(matrix, human, readers)
                assert (plan.own_first_lines, plan.own_poems) == best, (seed, human, readers)


def test_assign_readers__no_readers_gives_no_reader() -> None:
    matrix = generate_matrix(4, 9, random.Random(1))
    plan = assign_readers(matrix, None, [])
    assert plan == ReaderPlan((None,) * 4, True, True, 0, 0)
    assert plan.poems_of(0) == ()


def test_assign_readers__ideal_when_one_exists() -> None:
    # 4 poems, seats 0 and 1 wrote poems 0, 1 and 2, 3 respectively (bots did the rest).
    matrix = [[0, 0, 1, 1], [2, 3, 2, 3]]
    human = [[True, True, True, True], [False, False, False, False]]
    plan = assign_readers(matrix, human, [0, 1])
    assert plan.reader_of == (1, 1, 0, 0)
    assert plan.ideal and plan.own_first_line_avoided


def test_assign_readers__bot_lines_do_not_count_as_the_seats() -> None:
    matrix = [[0, 1], [1, 0]]
    assert not assign_readers(matrix, None, [0]).ideal
    plan = assign_readers(matrix, [[False, False], [False, False]], [0])
    assert plan.reader_of == (0, 0) and plan.ideal


def test_assign_readers__avoids_first_lines_before_other_own_lines() -> None:
    # A lone reader reads both poems, so its own first line (poem 0) is unavoidable.
    matrix = [[0, 1], [1, 0], [0, 1]]
    plan = assign_readers(matrix, None, [0])
    assert (plan.ideal, plan.own_first_line_avoided, plan.own_first_lines) == (False, False, 1)
    # Two readers: each takes the poem whose first line the other wrote.
    plan = assign_readers(matrix, None, [0, 1])
    assert plan.reader_of == (1, 0)
    assert (plan.ideal, plan.own_first_line_avoided, plan.own_poems) == (False, True, 2)


def test_assign_readers__deterministic_and_rng_only_breaks_ties() -> None:
    matrix = generate_matrix(12, 9, random.Random(3))
    readers = [0, 2, 3, 5, 8]
    assert assign_readers(matrix, None, readers) == assign_readers(matrix, None, readers)
    plans = {assign_readers(matrix, None, readers, random.Random(s)) for s in range(20)}
    assert len({(p.own_first_lines, p.own_poems) for p in plans}) == 1
    assert len(plans) > 1
    first = assign_readers(matrix, None, readers, random.Random(7))
    assert first == assign_readers(matrix, None, readers, random.Random(7))


@pytest.mark.parametrize(
    ("matrix", "human", "readers", "message"),
    [
        ([], None, [0], "no rounds"),
        ([[0, 1], [1]], None, [0], "differ in length"),
        ([[0, 1], [1, 0]], [[True, True]], [0], "shape"),
        ([[0, 1], [1, 0]], None, [0, 0], "distinct"),
        ([[0, 1], [1, 0]], None, [2], "not seats"),
    ],
)
def test_assign_readers__rejects_bad_input(
    matrix: list[list[int]], human: list[list[bool]] | None, readers: list[int], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        assign_readers(matrix, human, readers)


def _certified_optimal(
    plan: ReaderPlan,
    matrix: Sequence[Sequence[int]],
    human: Sequence[Sequence[bool]] | None,
    readers: Sequence[int],
) -> bool:
    """True when no balanced assignment is cheaper: the residual graph has no negative cycle.

    Node per reader; an edge a -> b for moving one of a's poems to b, weighing the cost change;
    plus a node through which a reader with the smaller share may hand its extra slot to one
    with the larger share (b -> extra -> a, weight 0). Bellman-Ford finds a negative cycle.
    """
    poems = len(matrix[0])
    levels = _pair_levels(matrix, human)

    def cost(poem: int, seat: int) -> int:
        first, own = levels[poem, seat]
        return (poems + 1) * first + own

    index = {seat: i for i, seat in enumerate(readers)}
    k = len(readers)
    share = poems // k
    edges: list[tuple[int, int, int]] = []
    for a in readers:
        for b in readers:
            if a != b:
                moves = [cost(p, b) - cost(p, a) for p in plan.poems_of(a)]
                if moves:
                    edges.append((index[a], index[b], min(moves)))
    extra = k
    for seat in readers:
        if len(plan.poems_of(seat)) == share:
            edges.append((index[seat], extra, 0))
        else:
            edges.append((extra, index[seat], 0))
    distance = [0] * (k + 1)
    for _ in range(k + 1):
        changed = False
        for a, b, w in edges:
            if distance[a] + w < distance[b]:
                distance[b] = distance[a] + w
                changed = True
        if not changed:
            return True
    return False


@st.composite
def _cases(
    draw: st.DrawFn, seats: st.SearchStrategy[int]
) -> tuple[list[list[int]], list[list[bool]] | None, list[int], int]:
    n = draw(seats)
    rounds = draw(st.sampled_from([3, 5, 9, 15]))
    seed = draw(st.integers(0, 2**32))
    matrix = generate_matrix(n, rounds, random.Random(seed))
    bots = draw(st.sampled_from([0.0, 0.1, 0.4]))
    rng = random.Random(seed)
    human = None if not bots else [[rng.random() >= bots for _ in range(n)] for _ in range(rounds)]
    readers = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
    return matrix, human, readers, seed


@settings(max_examples=60, derandomize=True)
@given(case=_cases(st.integers(6, 7)))
def test_assign_readers__matches_brute_force_for_six_and_seven_seats(
    case: tuple[list[list[int]], list[list[bool]] | None, list[int], int],
) -> None:
    matrix, human, readers, _ = case
    if len(readers) > 5:  # keep the brute force small
        readers = readers[:5]
    plan = assign_readers(matrix, human, readers)
    _check_plan(plan, matrix, human, readers)
    assert (plan.own_first_lines, plan.own_poems) == _brute_force(matrix, human, readers)


@PROPERTY
@given(case=_cases(st.integers(2, 50)))
def test_assign_readers__balanced_and_certified_optimal_up_to_fifty(
    case: tuple[list[list[int]], list[list[bool]] | None, list[int], int],
) -> None:
    matrix, human, readers, seed = case
    plan = assign_readers(matrix, human, readers, random.Random(seed))
    _check_plan(plan, matrix, human, readers)
    assert _certified_optimal(plan, matrix, human, readers)


def test_assign_readers__fast_for_fifty_poems() -> None:
    rng = random.Random(5)
    worst = 0.0
    for k in (1, 2, 3, 7, 25, 49, 50):
        matrix = generate_matrix(50, 9, rng)
        human = [[rng.random() >= 0.1 for _ in range(50)] for _ in range(9)]
        readers = rng.sample(range(50), k)
        start = time.perf_counter()
        assign_readers(matrix, human, readers, rng)
        worst = max(worst, time.perf_counter() - start)
    assert worst < 0.05  # about 1 ms when measured; generous for a busy machine


def test_certificate__rejects_a_plan_that_a_swap_improves() -> None:
    matrix = [[0, 1], [1, 0]]
    worse = ReaderPlan((0, 1), False, False, 2, 2)
    assert not _certified_optimal(worse, matrix, None, [0, 1])
    assert _certified_optimal(assign_readers(matrix, None, [0, 1]), matrix, None, [0, 1])
