"""Who reads which poem aloud at the reveal: a balanced, exact min-cost assignment.

Every poem gets one reader from ``readers`` (the humans still in the game; bots cannot read),
and the poems are spread as evenly as possible: with ``P`` poems and ``k`` readers each reader
reads ``P // k`` or ``P // k + 1`` of them (a *balanced* assignment). A reader hearing their own
words read back is no surprise, so the plan prefers, in strict priority:

1. an *ideal* assignment: no reader reads a poem they wrote any line of;
2. failing that, one where no reader reads a poem whose first line (round 0) they wrote;
3. then, as few (reader, poem) pairs as possible where the reader wrote a line of the poem.

Only lines the seat's human wrote count: a line a bot wrote standing in for a seat is not that
seat's (``human[round][poem]`` False).

Exactness. Each (poem, reader) pair costs ``(P + 1) * first + wrote``, where ``first`` is 1 when
the reader wrote the poem's first line and ``wrote`` is 1 when they wrote any of its lines. A
total is below ``P + 1`` exactly when no reader has their own first line, so minimising the sum
minimises first-line pairs first and the other pairs second: the plan is ideal, or avoids first
lines, whenever any balanced assignment is or does. The balance is built into the columns: each
reader gets ``P // k`` *mandatory* slots and, when ``P % k`` is not 0, one *optional* slot
costing ``H`` more, ``H`` above any difference the pair costs can make; every assignment of
poems to slots fills exactly ``P`` slots, so the cheapest fills every mandatory slot and exactly
``P % k`` optional ones. The rows (poems) are matched to the slots by the Hungarian algorithm
(shortest augmenting paths with potentials, O(P^2 * slots) at worst) after a greedy start that
matches most poems to a slot at their row's least cost; about a millisecond for 50 poems.

Ties are broken by the order rows and slots are offered to the algorithm: the given order by
default (the same inputs, the same plan), shuffled by ``rng`` when one is passed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReaderPlan:
    """Who reads each poem, and how good the plan is.

    ``reader_of[poem]`` is the seat that reads it, or None for every poem when there are no
    readers. ``ideal``: no reader reads a poem they wrote a line of (False only when no balanced
    assignment has that). ``own_first_line_avoided``: no reader reads a poem whose first line
    they wrote (False only when no balanced assignment avoids it). ``own_first_lines`` and
    ``own_poems`` count the (reader, poem) pairs where the reader wrote the first line and any
    line; both are as small as possible, in that order. With no readers all is vacuously well.
    """

    reader_of: tuple[int | None, ...]
    ideal: bool
    own_first_line_avoided: bool
    own_first_lines: int
    own_poems: int

    def poems_of(self, seat: int) -> tuple[int, ...]:
        """The poems ``seat`` reads, in poem order (empty for a seat that does not read)."""
        return tuple(poem for poem, reader in enumerate(self.reader_of) if reader == seat)


def assign_readers(
    matrix: Sequence[Sequence[int]],
    human: Sequence[Sequence[bool]] | None,
    readers: Sequence[int],
    rng: random.Random | None = None,
) -> ReaderPlan:
    """Assign every poem of ``matrix`` (``matrix[round][poem] = seat``) one of ``readers``.

    ``human[round][poem]`` is True when the matrix's seat wrote that line themself (False: a
    bot stood in for them); None means every line was written by its seat's human. ``readers``
    are the distinct seats that may read, in any number (none gives a plan without readers).
    The plan is balanced and optimal as the module docstring describes; ``rng`` only breaks
    ties. Raises ValueError when the shapes do not match or a reader is not a seat.
    """
    wrote, first = _authorship(matrix, human)
    poems = len(first)
    if len(set(readers)) != len(readers):
        raise ValueError(f"readers must be distinct, got {list(readers)}")
    outside = sorted(seat for seat in readers if not 0 <= seat < poems)
    if outside:
        raise ValueError(f"readers {outside} are not seats 0..{poems - 1}")
    if not readers:
        return ReaderPlan((None,) * poems, True, True, 0, 0)
    weight = poems + 1  # one own first line outweighs every other own poem together
    pair_cost = [
        [weight * (first[poem] == seat) + (seat in wrote[poem]) for seat in readers]
        for poem in range(poems)
    ]
    share, extra = divmod(poems, len(readers))
    slots = [(r, 0) for r in range(len(readers)) for _ in range(share)]
    if extra:
        penalty = poems * (weight + 1) + 1  # above any difference the pair costs can make
        slots += [(r, penalty) for r in range(len(readers))]
    rows = list(range(poems))
    if rng is not None:
        rng.shuffle(rows)
        rng.shuffle(slots)
    cost = [[pair_cost[poem][r] + surcharge for r, surcharge in slots] for poem in rows]
    column_of = _hungarian(cost)
    reader_of: list[int | None] = [None] * poems
    for row, poem in enumerate(rows):
        reader_of[poem] = readers[slots[column_of[row]][0]]
    own_first_lines = sum(first[poem] == seat for poem, seat in enumerate(reader_of))
    own_poems = sum(seat in wrote[poem] for poem, seat in enumerate(reader_of))
    return ReaderPlan(
        tuple(reader_of), own_poems == 0, own_first_lines == 0, own_first_lines, own_poems
    )


def _authorship(
    matrix: Sequence[Sequence[int]], human: Sequence[Sequence[bool]] | None
) -> tuple[list[set[int]], list[int]]:
    """Per poem, the seats whose human wrote a line of it, and the seat whose human wrote its
    first line (-1 when a bot did). Raises ValueError on mismatched shapes."""
    if not matrix:
        raise ValueError("matrix has no rounds")
    poems = len(matrix[0])
    if any(len(row) != poems for row in matrix):
        raise ValueError("matrix rows differ in length")
    if human is not None and (len(human) != len(matrix) or any(len(row) != poems for row in human)):
        raise ValueError("human must have the matrix's shape")
    wrote: list[set[int]] = [set() for _ in range(poems)]
    for r, row in enumerate(matrix):
        for poem, seat in enumerate(row):
            if human is None or human[r][poem]:
                wrote[poem].add(seat)
    first = [seat if human is None or human[0][poem] else -1 for poem, seat in enumerate(matrix[0])]
    return wrote, first


def _hungarian(cost: Sequence[Sequence[int]]) -> list[int]:
    """Return ``column_of[row]`` minimising the total ``cost[row][column]``, each column used at
    most once; needs at least as many columns as rows.

    The classic O(rows^2 * columns) form: rows are added one at a time, each by a shortest
    augmenting path (Dijkstra on reduced costs) that keeps the potentials ``u``, ``v`` feasible.
    It starts from ``u`` = the row minima and a greedy matching of tight pairs (reduced cost 0),
    which keeps its invariants and leaves only the contested rows to augment.
    """
    rows = len(cost)
    columns = len(cost[0]) if rows else 0
    if columns < rows:
        raise ValueError(f"need at least as many columns as rows, got {columns} < {rows}")
    inf = float("inf")
    u = [0.0] + [float(min(row)) for row in cost]  # feasible: every reduced cost is >= 0
    v = [0.0] * (columns + 1)
    row_at = [0] * (columns + 1)  # row_at[j]: 1-based row matched to column j (0: none)
    way = [0] * (columns + 1)
    unmatched: list[int] = []
    for i, row in enumerate(cost, start=1):  # match tight pairs greedily; most rows end here
        j = next((j for j in range(1, columns + 1) if not row_at[j] and row[j - 1] == u[i]), 0)
        if j:
            row_at[j] = i
        else:
            unmatched.append(i)
    for i in unmatched:
        row_at[0] = i
        j0 = 0
        min_reduced = [inf] * (columns + 1)
        used = [False] * (columns + 1)
        while True:
            used[j0] = True
            i0 = row_at[j0]
            cost_row = cost[i0 - 1]
            u_i0 = u[i0]
            delta = inf
            j1 = 0
            for j in range(1, columns + 1):
                if not used[j]:
                    reduced = cost_row[j - 1] - u_i0 - v[j]
                    if reduced < min_reduced[j]:
                        min_reduced[j] = reduced
                        way[j] = j0
                    if min_reduced[j] < delta:
                        delta = min_reduced[j]
                        j1 = j
            for j in range(columns + 1):
                if used[j]:
                    u[row_at[j]] += delta
                    v[j] -= delta
                else:
                    min_reduced[j] -= delta
            j0 = j1
            if row_at[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            row_at[j0] = row_at[j1]
            j0 = j1
    column_of = [0] * rows
    for j in range(1, columns + 1):
        if row_at[j]:
            column_of[row_at[j] - 1] = j - 1
    return column_of
