"""The tasks area's words: strategies and statuses, and the immutable views of projects,
tasks, assignments, worker profiles and explanations that answers and events return.

The enums are defined here once and exposed to GraphQL as they are (schema/tasks.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final
from uuid import UUID


class LoadBalancingStrategy(StrEnum):
    """How assignTask picks among the eligible workers."""

    ROUND_ROBIN = "ROUND_ROBIN"
    CAPACITY_BASED = "CAPACITY_BASED"
    PERFORMANCE_WEIGHTED = "PERFORMANCE_WEIGHTED"
    HYBRID = "HYBRID"


class AssignmentStatus(StrEnum):
    """Where an assignment is in its life."""

    ASSIGNED = "ASSIGNED"
    ACCEPTED = "ACCEPTED"
    IN_PROGRESS = "IN_PROGRESS"
    SUBMITTED = "SUBMITTED"
    EXPIRED = "EXPIRED"
    REASSIGNED = "REASSIGNED"
    REJECTED = "REJECTED"


ACTIVE: Final = frozenset(
    {AssignmentStatus.ASSIGNED, AssignmentStatus.ACCEPTED, AssignmentStatus.IN_PROGRESS}
)
"""The statuses that hold the task at its step and count against a worker's capacity."""


class TaskStatus(StrEnum):
    """A task at its current step: waiting, held by an active assignment, or through."""

    OPEN = "OPEN"
    ASSIGNED = "ASSIGNED"
    DONE = "DONE"


@dataclass(frozen=True, slots=True)
class AssignmentConfig:
    """A project's assignment rules."""

    strategy: LoadBalancingStrategy
    max_concurrent_per_user: int | None = None
    cross_step_exclusions: tuple[tuple[str, str], ...] = ()
    cooldown_minutes: int = 0
    reservation_timeout_seconds: int = 300
    hybrid_weight: float = 0.5


@dataclass(frozen=True, slots=True)
class ProjectView:
    """A work project: its ordered steps and its rules."""

    id: UUID
    name: str
    steps: tuple[str, ...]
    config: AssignmentConfig


@dataclass(frozen=True, slots=True)
class TaskView:
    """A task at its current step."""

    id: UUID
    project_id: UUID
    step_id: str
    priority: int
    required_skills: tuple[str, ...]
    payload: Any
    status: TaskStatus
    cooldown_until: datetime | None
    version: int


@dataclass(frozen=True, slots=True)
class AssignmentView:
    """One worker's assignment of a task at a step."""

    id: UUID
    task: TaskView
    step_id: str
    user_id: str
    status: AssignmentStatus
    reject_reason: Any
    assigned_at: datetime
    updated_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class WorkerProfileView:
    """What assignment knows of a worker."""

    user_id: str
    skills: tuple[str, ...]
    quality_score: float | None
    active: bool


@dataclass(frozen=True, slots=True)
class Explanation:
    """One worker's case for a task at a step: eligible or not, why, and their score."""

    user_id: str
    eligible: bool
    score: float | None
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class QueueCount:
    """How many tasks of a project are at a step with a status."""

    step_id: str
    status: TaskStatus
    count: int


@dataclass(frozen=True, slots=True)
class Presence:
    """A worker's last heartbeat for a project."""

    project_id: UUID
    last_seen_at: datetime


@dataclass(frozen=True, slots=True)
class WorkerOnline:
    """A worker online for a project: their last heartbeat and when they count as gone."""

    user_id: str
    last_seen_at: datetime
    online_until: datetime


@dataclass(frozen=True, slots=True)
class QueueView:
    """A project's queue: its tasks counted by step and status, and the workers online."""

    counts: tuple[QueueCount, ...]
    online: tuple[WorkerOnline, ...]
