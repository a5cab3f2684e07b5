"""Assignment matrix for a poem game: who writes which poem in which round.

``matrix[round][poem] = seat``; seats and poems are both ``0..n-1``. Rules, for every n >= 2:

1. every row is a permutation of ``range(n)`` (each seat writes exactly one line per round);
2. no seat writes two consecutive lines of one poem (``matrix[r][p] != matrix[r-1][p]``);
3. if ``n >= rounds``, no seat writes the same poem twice (a Latin rectangle);
4. if ``n < rounds``, each seat writes each poem at most ``cap = ceil(rounds / n)`` times.

Construction (valid by design; no retries, no backtracking). The rows are split into at most
``cap`` *blocks* of consecutive rows; inside a block no (seat, poem) pair repeats, so a pair
occurs at most once per block, i.e. at most ``cap`` times. Each row is a random perfect matching
between poems and allowed seats, of one of two kinds:

* *free*: allowed only while a spare block remains and the rows left, this one included, fit
  into the spare blocks (``(cap - blocks) * n >= rows_left``). Only the previous row's pairs are
  forbidden. If the row repeats a pair of the current block, it starts a new block.
* *bound*: otherwise. Every pair of the current block is forbidden (this includes the previous
  row, which always belongs to the current block), so the row extends the block.

A perfect matching always exists. Free rows forbid one seat per poem and one poem per seat: the
allowed graph is (n - 1)-regular. A bound row after ``j`` rows of the block forbids a Latin
rectangle of ``j`` rows, leaving an (n - j)-regular graph, and ``j < n`` holds because of the
invariant ``(n - j) + (cap - blocks) * n >= rows_left`` (true at the start since
``cap * n >= rounds``, kept by both kinds of row, and forcing ``j < n`` whenever a row is bound).
A regular bipartite graph of positive degree has a perfect matching (Hall's theorem). With
``n >= rounds`` (cap 1) every row is bound: the matrix is a Latin rectangle. With n = 2 rows
alternate, the only possibility.

Why not simply "not the previous seat and count below the cap": that greedy can dead-end. For
n = 3, rounds = 9 (cap 3) and Latin-square rows A, B, C, the valid prefix A B A B A B C leaves
no eighth row (only A and B avoid C, and both were used 3 times); random greedy runs dead-end
about 35% of the time for n = 3 and 18% for n = 5.

Each row starts as a uniformly shuffled permutation; only the poems whose seat is forbidden are
re-matched, by augmenting paths (Kuhn's algorithm on the implicit allowed graph, candidates
chosen uniformly at random). An augmenting path always exists when a perfect matching does, so
this terminates. About ``j`` poems need repair in a row forbidding ``j`` seats per poem, so a
row costs O(n) plus a few short paths. With 9 rounds and ``secrets.SystemRandom`` a matrix
took about 10 ms for n = 1,000 and 0.12 s for n = 10,000 when measured; it gets slower (still
polynomial) as ``rounds`` approaches ``n``.

Uniformity (honest): close, not exact. A row needing no repair is uniform over the allowed rows
(a uniform permutation conditioned on being allowed); repaired rows are biased, though every
allowed row keeps a positive probability. Measured on the second row: indistinguishable from
uniform for n = 3, total variation distance from uniform about 0.06 to 0.09 for n = 4 to 6.
Drawing row by row is not uniform over whole matrices either, since prefixes differ in their
number of completions (n = 3, 5 rounds: the likeliest matrix is about 2.5 times as likely as
the least likely).
Every valid matrix can occur when ``n >= rounds``. When ``n < rounds`` only matrices that split
greedily into at most ``cap`` blocks can occur: for 9 rounds, 192 of the 348 valid matrices for
n = 3 and about 26% of them (67,060,224 of 262,047,168) for n = 4.
"""

from __future__ import annotations

import math
import random
import secrets
from collections import Counter
from collections.abc import Iterator, Sequence

_PROBES = 8  # random probes before listing all candidate seats in _matched_seats


def generate_matrix(n: int, rounds: int = 9, rng: random.Random | None = None) -> list[list[int]]:
    """Return a random ``matrix[round][poem] = seat`` for ``n`` seats obeying the rules above.

    ``rng`` defaults to ``secrets.SystemRandom()``; pass a seeded ``random.Random`` for tests.
    """
    if n < 2:
        raise ValueError(f"need at least 2 seats, got {n}")
    if rounds < 1:
        raise ValueError(f"need at least 1 round, got {rounds}")
    rand = rng if rng is not None else secrets.SystemRandom()
    cap = math.ceil(rounds / n)
    blocks = 1
    block: list[set[int]] = [set() for _ in range(n)]  # block[poem]: its seats in this block
    matrix: list[list[int]] = []
    for r in range(rounds):
        if r > 0 and blocks < cap and (cap - blocks) * n >= rounds - r:
            row = _random_row(n, [{seat} for seat in matrix[-1]], rand)
            if any(seat in block[poem] for poem, seat in enumerate(row)):
                blocks += 1
                block = [set() for _ in range(n)]
        else:
            row = _random_row(n, block, rand)
        for poem, seat in enumerate(row):
            block[poem].add(seat)
        matrix.append(row)
    return matrix


def _random_row(n: int, forbidden: Sequence[set[int]], rng: random.Random) -> list[int]:
    """Return a random permutation ``row`` with ``row[p] not in forbidden[p]`` for every poem.

    Requires that such a permutation exists (guaranteed by the block construction).
    """
    row = list(range(n))
    rng.shuffle(row)
    bad = [p for p in range(n) if row[p] in forbidden[p]]
    if not bad:
        return row
    poem_of = [0] * n
    for poem, seat in enumerate(row):
        poem_of[seat] = poem
    free: list[int] = []
    for poem in bad:
        free.append(row[poem])
        poem_of[row[poem]] = -1
        row[poem] = -1
    rng.shuffle(bad)
    for poem in bad:
        _augment(poem, row, poem_of, free, forbidden, rng)
    return row


def _augment(
    start: int,
    row: list[int],
    poem_of: list[int],
    free: list[int],
    forbidden: Sequence[set[int]],
    rng: random.Random,
) -> None:
    """Match the unmatched poem ``start`` by flipping one augmenting path (iterative DFS).

    Such a path exists whenever a perfect matching exists: in the symmetric difference with a
    perfect matching, the component of ``start`` is an alternating path ending at a free seat.
    """
    visited: set[int] = set()
    poems = [start]  # the DFS stack; poems[i + 1] currently holds seats[i]
    seats: list[int] = []
    branches = [_matched_seats(forbidden[start], poem_of, visited, rng)]
    end = _free_seat(free, forbidden[start], rng)
    while end < 0:
        seat = next(branches[-1], -1)
        if seat < 0:  # dead branch: backtrack
            poems.pop()
            branches.pop()
            if not poems:  # pragma: no cover - impossible when a perfect matching exists
                raise AssertionError("no augmenting path: no perfect matching exists")
            seats.pop()
            continue
        visited.add(seat)
        seats.append(seat)
        poems.append(poem_of[seat])
        branches.append(_matched_seats(forbidden[poem_of[seat]], poem_of, visited, rng))
        end = _free_seat(free, forbidden[poem_of[seat]], rng)
    free.remove(end)
    seats.append(end)
    for poem, seat in zip(poems, seats, strict=True):
        row[poem] = seat
        poem_of[seat] = poem


def _free_seat(free: list[int], banned: set[int], rng: random.Random) -> int:
    """Return a uniformly random free seat not in ``banned``, or -1 if there is none."""
    ends = [s for s in free if s not in banned]
    return rng.choice(ends) if ends else -1


def _matched_seats(
    banned: set[int], poem_of: Sequence[int], visited: set[int], rng: random.Random
) -> Iterator[int]:
    """Yield every matched, unvisited seat not in ``banned``, each time uniformly at random.

    A few random probes find one in O(1) when most seats qualify (the usual case); otherwise
    the remaining candidates are listed and shuffled, so the enumeration is always complete.
    """
    n = len(poem_of)
    for _ in range(_PROBES):
        seat = rng.randrange(n)
        if seat not in visited and seat not in banned and poem_of[seat] >= 0:
            yield seat
    rest = [s for s in range(n) if s not in visited and s not in banned and poem_of[s] >= 0]
    rng.shuffle(rest)
    for seat in rest:
        if seat not in visited:
            yield seat


def matrix_violations(matrix: Sequence[Sequence[int]], n: int) -> list[str]:
    """Describe every broken rule of ``matrix`` for ``n`` seats (empty list when valid).

    Used by tests and as a final guard before a generated matrix is stored.
    """
    problems: list[str] = []
    rounds = len(matrix)
    if n < 2:
        problems.append(f"need at least 2 seats, got {n}")
    if rounds < 1:
        problems.append("matrix has no rounds")
    seats = range(n)
    for r, row in enumerate(matrix):
        if len(row) != n:
            problems.append(f"round {r}: has {len(row)} poems, expected {n}")
        outside = sorted({s for s in row if s not in seats})
        if outside:
            problems.append(f"round {r}: seats {outside} are not in 0..{n - 1}")
        counts = Counter(row)
        repeated = sorted(s for s, k in counts.items() if k > 1)
        missing = [s for s in seats if s not in counts]
        if repeated or missing:
            problems.append(
                f"round {r}: not one line per seat (repeated {repeated}, missing {missing})"
            )
    for r in range(1, rounds):
        for p, (before, now) in enumerate(zip(matrix[r - 1], matrix[r], strict=False)):
            if before == now:
                problems.append(f"round {r}: seat {now} writes poem {p} right after round {r - 1}")
    if n < 1 or rounds < 1:
        return problems
    cap = math.ceil(rounds / n)
    pair_counts = Counter((p, s) for row in matrix for p, s in enumerate(row))
    for (p, s), k in sorted(pair_counts.items()):
        if k > cap:
            rule = "no seat may write a poem twice" if cap == 1 else f"at most {cap} allowed"
            problems.append(f"seat {s} writes poem {p} {k} times ({rule})")
    return problems
