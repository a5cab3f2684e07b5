"""The tasks area's expected failures (each a typed member of a mutation's result union)."""

from __future__ import annotations

from collections.abc import Sequence

from db.errors import Constraints, Meaning
from services.errors import AllotError, NotFound
from services.tasks.model import AssignmentStatus, AssignmentView, Explanation


class InvalidTransition(AllotError):
    """The assignment cannot make this move from its status; `from_` is that status."""

    code = "INVALID_TRANSITION"

    def __init__(self, message: str, from_: AssignmentStatus) -> None:
        super().__init__(message)
        self.from_ = from_


class NoEligibleAssignee(AllotError):
    """No worker may take the task at the step now; `candidates` say why for each."""

    code = "NO_ELIGIBLE_ASSIGNEE"

    def __init__(self, message: str, candidates: Sequence[Explanation]) -> None:
        super().__init__(message)
        self.candidates = tuple(candidates)


class NoTaskAvailable(AllotError):
    """No task at the step is open to the caller now."""

    code = "NO_TASK_AVAILABLE"


class DuplicateAssignment(AllotError):
    """The task at the step already has an active assignment: `existing`."""

    code = "DUPLICATE_ASSIGNMENT"

    def __init__(self, message: str, existing: AssignmentView) -> None:
        super().__init__(message)
        self.existing = existing


def no_such_project() -> NotFound:
    """What a caller learns of another tenant's project (or none): nothing."""
    return NotFound("no such work project")


def no_such_task() -> NotFound:
    """What a caller learns of another tenant's task (or none): nothing."""
    return NotFound("no such task")


def no_such_assignment() -> NotFound:
    """What a caller learns of another tenant's assignment (or none): nothing."""
    return NotFound("no such assignment")


CONSTRAINTS: Constraints = {
    "task_assignments_once_per_user": Meaning(
        None, "that worker already had this task at this step"
    ),
    "task_assignments_one_active": Meaning(
        None, "the task already has an active assignment at this step"
    ),
    "work_projects_name": Meaning("name", "must be 1 to 200 characters, no control characters"),
    "work_projects_steps": Meaning("steps", "a project has 1 to 20 steps"),
    "work_projects_hybrid_weight": Meaning("config.hybridWeight", "must be between 0 and 1"),
    "worker_profiles_quality": Meaning("qualityScore", "must be between 0 and 1"),
    "work_tasks_priority": Meaning("priority", "must be between -1000000 and 1000000"),
}
"""What the tasks area's constraints mean to a user (db.errors translates by name)."""
