"""Task-assignment rules: who may take a task at a step, who is best, and how assignments move.

Pure: a snapshot in, a verdict out. No I/O, no clock (``now`` is passed in), no randomness: the
same input always gives the same answer. assignTask and claimNextTask decide with
:func:`exclusions` and :func:`rank` (or :func:`choose`); :func:`explain` tells a dashboard why,
using the very same two functions, so its first eligible worker is always the one chosen.

Eligibility (:func:`exclusions`), reasons in the order they are reported:

* the worker's profile is inactive;
* each required skill the worker lacks (sorted);
* when presence is needed (assignTask; claiming proves presence), no recent heartbeat;
* the worker already had this task at this step, in any status (one reason per status);
* a cross-step exclusion pair ``(a, b)`` containing the step, and the worker holds or submitted
  the task at the other step of the pair (pairs are symmetric; a rejected, expired or
  reassigned assignment did not do the work and does not exclude);
* the worker is at ``max_concurrent_per_user`` active assignments;
* the task is cooling down (``cooldown_until > now``).

Strategies (:func:`rank`), each giving a score where higher is better:

* ``CAPACITY_BASED``: fewest active assignments first; the score is the free capacity
  ``free`` below, which falls as active assignments rise.
* ``PERFORMANCE_WEIGHTED``: highest quality first (unknown counts as 0.0); the score is that
  quality.
* ``HYBRID``: ``w * free + (1 - w) * quality`` with ``w = hybrid_weight``, where ``free`` is
  ``(max - active) / max`` (at least 0) when ``max_concurrent_per_user`` is set, else
  ``1 / (1 + active)``.
* ``ROUND_ROBIN``: the eligible workers in user-id order starting strictly after ``cursor`` (the
  last worker assigned at this project and step), wrapping round; the score is ``1 - i / n``
  for the ``i``-th of ``n`` (1.0 for the next in turn).

Ties (every strategy but round robin, whose order has none): the longest idle first (never
assigned before anyone, then the oldest ``last_assigned_at``), then user id ascending.

Datetimes are expected timezone-aware (UTC); ``cooldown_until`` is shown in UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final

from services.tasks.errors import InvalidTransition
from services.tasks.model import (
    ACTIVE,
    AssignmentConfig,
    AssignmentStatus,
    Explanation,
    LoadBalancingStrategy,
)

# ---------------------------------------------------------------------------------------------
# inputs


@dataclass(frozen=True, slots=True)
class Worker:
    """What assignment knows of one worker in a project at the moment of deciding."""

    user_id: str
    skills: frozenset[str]
    quality_score: float | None
    """0..1; None when unknown (ranked as 0.0)."""
    active: bool
    """The profile's active flag."""
    present: bool
    """A recent heartbeat for the project."""
    active_assignments: int
    """ASSIGNED, ACCEPTED or IN_PROGRESS assignments in this project."""
    last_assigned_at: datetime | None
    """None: never assigned (counts as idle the longest)."""


@dataclass(frozen=True, slots=True)
class PastAssignment:
    """One assignment the task had, at any step, in any status."""

    user_id: str
    step_id: str
    status: AssignmentStatus


@dataclass(frozen=True, slots=True)
class TaskScope:
    """The task as assignment sees it at the step it is asked for."""

    step_id: str
    required_skills: frozenset[str]
    cooldown_until: datetime | None
    history: tuple[PastAssignment, ...]
    """Every assignment this task ever had, at any step."""


# ---------------------------------------------------------------------------------------------
# eligibility

DID_THE_WORK: Final = ACTIVE | {AssignmentStatus.SUBMITTED}
"""The statuses at another step that make a cross-step exclusion apply."""


def past_tense(step: str) -> str:
    """The step name as a verb done: ``review`` -> ``reviewed``, ``annotate`` -> ``annotated``."""
    return step + "d" if step.endswith("e") else step + "ed"


def _same_step_reason(status: AssignmentStatus, step: str) -> str:
    """What an earlier assignment of the task at this step, with this status, says."""
    if status in ACTIVE:
        return f"already holds this task at {step}"
    if status is AssignmentStatus.SUBMITTED:
        return f"already submitted this task at {step}"
    if status is AssignmentStatus.REJECTED:
        return "already rejected this task"
    return f"already had this task at {step} ({status.value.lower()})"


def exclusions(
    worker: Worker,
    task: TaskScope,
    config: AssignmentConfig,
    now: datetime,
    *,
    need_presence: bool,
) -> list[str]:
    """Every reason the worker may not take the task at its step now (empty: eligible).

    ``need_presence`` is True for assignTask; claimNextTask passes False (claiming proves the
    worker is there). The order of the reasons is the module docstring's.
    """
    reasons: list[str] = []
    if not worker.active:
        reasons.append("profile is inactive")
    reasons.extend(f"missing skill: {s}" for s in sorted(task.required_skills - worker.skills))
    if need_presence and not worker.present:
        reasons.append("not online (no recent heartbeat)")

    mine = [p for p in task.history if p.user_id == worker.user_id]
    step = task.step_id
    for past in mine:
        if past.step_id == step:
            _add_once(reasons, _same_step_reason(past.status, step))
    for a, b in config.cross_step_exclusions:
        if a == b or step not in (a, b):
            continue
        other = b if step == a else a
        if any(p.step_id == other and p.status in DID_THE_WORK for p in mine):
            _add_once(reasons, f"{past_tense(other)} this task; may not {step} it")

    limit = config.max_concurrent_per_user
    if limit is not None and worker.active_assignments >= limit:
        reasons.append(f"at {worker.active_assignments} of {limit} active assignments")
    until = task.cooldown_until
    if until is not None and until > now:
        shown = until.astimezone(UTC) if until.tzinfo is not None else until
        reasons.append(f"task is cooling down until {shown:%H:%M} UTC")
    return reasons


def _add_once(reasons: list[str], reason: str) -> None:
    if reason not in reasons:
        reasons.append(reason)


# ---------------------------------------------------------------------------------------------
# strategies


def quality(worker: Worker) -> float:
    """The worker's quality score, unknown counting as 0.0."""
    return worker.quality_score if worker.quality_score is not None else 0.0


def free_capacity(worker: Worker, config: AssignmentConfig) -> float:
    """How free the worker is, 0..1: ``(max - active) / max`` (at least 0) with a maximum,
    else ``1 / (1 + active)``."""
    limit = config.max_concurrent_per_user
    if limit is not None:
        if limit <= 0:
            return 0.0
        return max(0.0, (limit - worker.active_assignments) / limit)
    return 1.0 / (1 + max(0, worker.active_assignments))


def score(worker: Worker, config: AssignmentConfig) -> float:
    """The worker's score under a scoring strategy (not round robin, whose score is by turn)."""
    strategy = config.strategy
    if strategy is LoadBalancingStrategy.PERFORMANCE_WEIGHTED:
        return quality(worker)
    if strategy is LoadBalancingStrategy.HYBRID:
        w = config.hybrid_weight
        return w * free_capacity(worker, config) + (1 - w) * quality(worker)
    return free_capacity(worker, config)


def _idle_key(worker: Worker) -> tuple[bool, float, str]:
    """Longest idle first (never assigned first, then oldest), then user id ascending."""
    last = worker.last_assigned_at
    return (last is not None, last.timestamp() if last is not None else 0.0, worker.user_id)


def rank(
    eligible: Sequence[Worker], config: AssignmentConfig, *, cursor: str | None
) -> list[tuple[Worker, float]]:
    """The eligible workers best first, each with the score that ranked them (higher is better).

    ``cursor`` matters to round robin only: the user id of the last worker assigned at this
    project and step, None if none yet.
    """
    if config.strategy is LoadBalancingStrategy.ROUND_ROBIN:
        ordered = sorted(eligible, key=lambda w: w.user_id)
        if cursor is not None:
            after = [w for w in ordered if w.user_id > cursor]
            ordered = after + [w for w in ordered if w.user_id <= cursor]
        n = len(ordered)
        return [(w, 1.0 - i / n) for i, w in enumerate(ordered)]

    scored = [(w, score(w, config)) for w in eligible]
    if config.strategy is LoadBalancingStrategy.CAPACITY_BASED:
        # By the count itself: the clamped score would tie workers beyond the maximum.
        scored.sort(key=lambda ws: (ws[0].active_assignments, *_idle_key(ws[0])))
    else:
        scored.sort(key=lambda ws: (-ws[1], *_idle_key(ws[0])))
    return scored


def choose(
    eligible: Sequence[Worker], config: AssignmentConfig, *, cursor: str | None
) -> Worker | None:
    """The best of the eligible workers (the first of :func:`rank`), None if there is none."""
    ranked = rank(eligible, config, cursor=cursor)
    return ranked[0][0] if ranked else None


# ---------------------------------------------------------------------------------------------
# explanations


def ordinal(n: int) -> str:
    """``1`` -> ``1st``, ``2`` -> ``2nd``, ``11`` -> ``11th``, ``23`` -> ``23rd``."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _load_words(worker: Worker, config: AssignmentConfig) -> str:
    n, limit = worker.active_assignments, config.max_concurrent_per_user
    if limit is not None:
        return f"{n} of {limit} active assignments"
    return f"{n} active assignment" + ("" if n == 1 else "s")


def _quality_words(worker: Worker) -> str:
    if worker.quality_score is None:
        return "quality unknown (counts as 0.00)"
    return f"quality {worker.quality_score:.2f}"


def _score_reasons(worker: Worker, place: int, config: AssignmentConfig) -> tuple[str, ...]:
    """What made the score of the eligible worker ranked ``place`` (0-based)."""
    strategy = config.strategy
    if strategy is LoadBalancingStrategy.ROUND_ROBIN:
        return ("next in turn" if place == 0 else f"{ordinal(place + 1)} in turn",)
    if strategy is LoadBalancingStrategy.CAPACITY_BASED:
        return (_load_words(worker, config),)
    if strategy is LoadBalancingStrategy.PERFORMANCE_WEIGHTED:
        return (_quality_words(worker),)
    w = config.hybrid_weight
    return (
        f"{_load_words(worker, config)} (free {free_capacity(worker, config):.2f})",
        _quality_words(worker),
        f"weights {w:.2f} free capacity / {1 - w:.2f} quality",
    )


def explain(
    workers: Sequence[Worker],
    task: TaskScope,
    config: AssignmentConfig,
    now: datetime,
    *,
    cursor: str | None,
    need_presence: bool = True,
) -> list[Explanation]:
    """Every worker's case for the task at its step: the eligible first in :func:`rank` order
    with their score and what made it, then the ineligible by user id with their exclusions.

    Built from :func:`exclusions` and :func:`rank`, so the first eligible explanation is always
    the worker :func:`choose` picks from the same snapshot.
    """
    eligible: list[Worker] = []
    refused: list[tuple[Worker, list[str]]] = []
    for worker in workers:
        why = exclusions(worker, task, config, now, need_presence=need_presence)
        if why:
            refused.append((worker, why))
        else:
            eligible.append(worker)
    out = [
        Explanation(w.user_id, True, s, _score_reasons(w, i, config))
        for i, (w, s) in enumerate(rank(eligible, config, cursor=cursor))
    ]
    refused.sort(key=lambda wr: wr[0].user_id)
    out.extend(Explanation(w.user_id, False, None, tuple(why)) for w, why in refused)
    return out


# ---------------------------------------------------------------------------------------------
# state machine


class Action(StrEnum):
    """A move of an assignment."""

    ACCEPT = "ACCEPT"
    START = "START"
    SUBMIT = "SUBMIT"
    REJECT = "REJECT"
    EXPIRE = "EXPIRE"
    REASSIGN = "REASSIGN"


_DONE: Final = {
    Action.ACCEPT: "accepted",
    Action.START: "started",
    Action.SUBMIT: "submitted",
    Action.REJECT: "rejected",
    Action.EXPIRE: "expired",
    Action.REASSIGN: "reassigned",
}

TRANSITIONS: Final[dict[tuple[AssignmentStatus, Action], AssignmentStatus]] = {
    (AssignmentStatus.ASSIGNED, Action.ACCEPT): AssignmentStatus.ACCEPTED,
    (AssignmentStatus.ACCEPTED, Action.START): AssignmentStatus.IN_PROGRESS,
    (AssignmentStatus.IN_PROGRESS, Action.SUBMIT): AssignmentStatus.SUBMITTED,
    **{
        (held, action): to
        for held in sorted(ACTIVE)
        for action, to in (
            (Action.REJECT, AssignmentStatus.REJECTED),
            (Action.EXPIRE, AssignmentStatus.EXPIRED),
            (Action.REASSIGN, AssignmentStatus.REASSIGNED),
        )
    },
}
"""Every allowed move: (from, action) -> to. Anything not here is an InvalidTransition."""


def transition(current: AssignmentStatus, action: Action) -> AssignmentStatus:
    """The status after ``action``; raises InvalidTransition if it is not allowed from here."""
    to = TRANSITIONS.get((current, action))
    if to is None:
        raise InvalidTransition(
            f"an assignment that is {current.value} cannot be {_DONE[action]}", from_=current
        )
    return to


# ---------------------------------------------------------------------------------------------
# steps


def next_step(steps: Sequence[str], step_id: str) -> str | None:
    """The step after ``step_id`` in the project's ordered steps, None after the last.

    Raises ValueError if ``step_id`` is not one of ``steps``.
    """
    try:
        i = list(steps).index(step_id)
    except ValueError:
        raise ValueError(f"{step_id!r} is not a step of this project") from None
    return steps[i + 1] if i + 1 < len(steps) else None
