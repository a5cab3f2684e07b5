"""Tasks (issue 004): work projects, tasks, worker profiles, assignments and live queues."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from resolvers import tasks as resolve
from schema.context import Info
from schema.errors import Error, Forbidden, InvalidInput, NotFound
from schema.fanout import shared_events
from services.realtime.stream import Delta, Snapshot
from services.tasks import errors as domain
from services.tasks import model
from services.tasks.inputs import NewTask, Profile, ProjectDraft
from services.tasks.model import AssignmentStatus, LoadBalancingStrategy
from services.tasks.rules import Action

# ---------------------------------------------------------------- types

strawberry.enum(
    LoadBalancingStrategy,
    description="ROUND_ROBIN: the next eligible worker after the last one; CAPACITY_BASED: "
    "fewest active assignments; PERFORMANCE_WEIGHTED: highest quality score; HYBRID: "
    "hybridWeight x free capacity + (1 - hybridWeight) x quality. Ties: longest idle, then "
    "user id.",
)
strawberry.enum(AssignmentStatus)


@strawberry.type(description="A project's assignment rules.")
class AssignmentConfig:
    strategy: LoadBalancingStrategy
    max_concurrent_per_user: int | None = strawberry.field(
        description="Active assignments (ASSIGNED, ACCEPTED, IN_PROGRESS) a worker may hold in "
        "the project; null: no limit."
    )
    cross_step_exclusions: list[list[str]] = strawberry.field(
        description="Pairs of steps: whoever had a task at one may not take it at the other."
    )
    cooldown_minutes: int = strawberry.field(
        description="A released task waits this long before anyone may claim it."
    )
    reservation_timeout_seconds: int = strawberry.field(
        description="An ASSIGNED assignment not accepted within this expires."
    )
    hybrid_weight: float

    @classmethod
    def of(cls, v: model.AssignmentConfig) -> AssignmentConfig:
        return cls(
            strategy=v.strategy,
            max_concurrent_per_user=v.max_concurrent_per_user,
            cross_step_exclusions=[list(p) for p in v.cross_step_exclusions],
            cooldown_minutes=v.cooldown_minutes,
            reservation_timeout_seconds=v.reservation_timeout_seconds,
            hybrid_weight=v.hybrid_weight,
        )


@strawberry.type(description="A work project: ordered steps a task moves through.")
class WorkProject:
    id: strawberry.ID
    name: str
    steps: list[str]
    config: AssignmentConfig

    @classmethod
    def of(cls, v: model.ProjectView) -> WorkProject:
        return cls(
            id=strawberry.ID(str(v.id)),
            name=v.name,
            steps=list(v.steps),
            config=AssignmentConfig.of(v.config),
        )


@strawberry.type(description="A task at its current step.")
class WorkTask:
    id: strawberry.ID
    project_id: strawberry.ID
    step_id: str
    priority: int
    required_skills: list[str]
    payload: JSON | None
    status: str = strawberry.field(description="OPEN, ASSIGNED or DONE.")
    cooldown_until: datetime | None
    version: int

    @classmethod
    def of(cls, v: model.TaskView) -> WorkTask:
        return cls(
            id=strawberry.ID(str(v.id)),
            project_id=strawberry.ID(str(v.project_id)),
            step_id=v.step_id,
            priority=v.priority,
            required_skills=list(v.required_skills),
            payload=v.payload,
            status=v.status.value,
            cooldown_until=v.cooldown_until,
            version=v.version,
        )


@strawberry.type(description="A worker's assignment of a task at a step.")
class TaskAssignment:
    id: strawberry.ID
    task: WorkTask
    step_id: str
    user_id: strawberry.ID
    status: AssignmentStatus
    reject_reason: JSON | None
    assigned_at: datetime
    updated_at: datetime
    expires_at: datetime | None = strawberry.field(
        description="While ASSIGNED: when the reservation expires unless accepted."
    )

    @classmethod
    def of(cls, v: model.AssignmentView) -> TaskAssignment:
        return cls(
            id=strawberry.ID(str(v.id)),
            task=WorkTask.of(v.task),
            step_id=v.step_id,
            user_id=strawberry.ID(v.user_id),
            status=v.status,
            reject_reason=v.reject_reason,
            assigned_at=v.assigned_at,
            updated_at=v.updated_at,
            expires_at=v.expires_at,
        )


@strawberry.type(description="One worker's case for a task at a step.")
class CandidateExplanation:
    user_id: strawberry.ID
    eligible: bool
    score: float | None = strawberry.field(description="What ranked the eligible; null if not.")
    reasons: list[str] = strawberry.field(description="Why excluded, or what made the score.")

    @classmethod
    def of(cls, v: model.Explanation) -> CandidateExplanation:
        return cls(
            user_id=strawberry.ID(v.user_id),
            eligible=v.eligible,
            score=v.score,
            reasons=list(v.reasons),
        )


@strawberry.type(description="What assignment knows of a worker.")
class WorkerProfile:
    user_id: strawberry.ID
    skills: list[str]
    quality_score: float | None
    active: bool

    @classmethod
    def of(cls, v: model.WorkerProfileView) -> WorkerProfile:
        return cls(
            user_id=strawberry.ID(v.user_id),
            skills=list(v.skills),
            quality_score=v.quality_score,
            active=v.active,
        )


@strawberry.type
class QueueCount:
    step_id: str
    status: str = strawberry.field(description="OPEN, ASSIGNED or DONE.")
    count: int


# ---------------------------------------------------------------- inputs and results


@strawberry.input
class AssignmentConfigInput:
    strategy: LoadBalancingStrategy
    max_concurrent_per_user: int | None = None
    cross_step_exclusions: list[list[str]] | None = strawberry.field(default_factory=list)
    cooldown_minutes: int | None = 0
    reservation_timeout_seconds: int | None = 300
    hybrid_weight: float | None = 0.5


@strawberry.input
class CreateWorkProjectInput:
    name: str
    steps: list[str]
    config: AssignmentConfigInput


@strawberry.input
class WorkTaskInput:
    step_id: str
    priority: int | None = 0
    required_skills: list[str] | None = strawberry.field(default_factory=list)
    payload: JSON | None = None


@strawberry.input
class CreateWorkTasksInput:
    project_id: strawberry.ID
    tasks: list[WorkTaskInput] = strawberry.field(description="At most 10,000 per call.")


@strawberry.input
class SetWorkerProfileInput:
    user_id: strawberry.ID
    skills: list[str]
    quality_score: float | None = None
    active: bool | None = True


@strawberry.input
class AssignTaskInput:
    task_id: strawberry.ID
    step_id: str


@strawberry.input
class ClaimNextTaskInput:
    project_id: strawberry.ID
    step_id: str


@strawberry.input
class AssignmentTransitionInput:
    assignment_id: strawberry.ID


@strawberry.input
class RejectAssignmentInput:
    assignment_id: strawberry.ID
    reason: JSON


@strawberry.input
class ReleaseAssignmentInput:
    assignment_id: strawberry.ID
    reassign: bool | None = strawberry.field(
        default=True,
        description="True: REASSIGNED, the task goes to the next best worker at once; false: "
        "EXPIRED, the task returns to the pool (cooling down if the project says so).",
    )


@strawberry.input
class HeartbeatInput:
    project_id: strawberry.ID


@strawberry.type
class AssignmentPayload:
    assignment: TaskAssignment


@strawberry.type
class WorkTasksPayload:
    tasks: list[WorkTask]


@strawberry.type
class HeartbeatPayload:
    project_id: strawberry.ID
    last_seen_at: datetime


@strawberry.type
class NoEligibleAssignee(Error):
    candidates: list[CandidateExplanation]

    @classmethod
    def of(cls, err: domain.NoEligibleAssignee) -> NoEligibleAssignee:
        return cls(
            code=err.code,
            message=err.message,
            candidates=[CandidateExplanation.of(c) for c in err.candidates],
        )


@strawberry.type
class NoTaskAvailable(Error):
    pass


@strawberry.type
class InvalidTransition(Error):
    from_: AssignmentStatus = strawberry.field(name="from")

    @classmethod
    def of(cls, err: domain.InvalidTransition) -> InvalidTransition:
        return cls(code=err.code, message=err.message, from_=err.from_)


@strawberry.type
class DuplicateAssignment(Error):
    existing: TaskAssignment

    @classmethod
    def of(cls, err: domain.DuplicateAssignment) -> DuplicateAssignment:
        return cls(code=err.code, message=err.message, existing=TaskAssignment.of(err.existing))


AssignTaskResult = Annotated[
    AssignmentPayload
    | NoEligibleAssignee
    | DuplicateAssignment
    | NotFound
    | Forbidden
    | InvalidInput,
    strawberry.union("AssignTaskResult"),
]
ClaimNextTaskResult = Annotated[
    AssignmentPayload | NoTaskAvailable | Forbidden | NotFound | InvalidInput,
    strawberry.union("ClaimNextTaskResult"),
]
AssignmentTransitionResult = Annotated[
    AssignmentPayload | InvalidTransition | NotFound | Forbidden | InvalidInput,
    strawberry.union("AssignmentTransitionResult"),
]
HeartbeatResult = Annotated[
    HeartbeatPayload | NotFound | Forbidden, strawberry.union("HeartbeatResult")
]
CreateWorkProjectResult = Annotated[
    WorkProject | InvalidInput | Forbidden, strawberry.union("CreateWorkProjectResult")
]
CreateWorkTasksResult = Annotated[
    WorkTasksPayload | InvalidInput | NotFound | Forbidden,
    strawberry.union("CreateWorkTasksResult"),
]
SetWorkerProfileResult = Annotated[
    WorkerProfile | InvalidInput | Forbidden, strawberry.union("SetWorkerProfileResult")
]


def _assignment(v: model.AssignmentView) -> AssignmentPayload:
    return AssignmentPayload(assignment=TaskAssignment.of(v))


# ---------------------------------------------------------------- events


@strawberry.type(
    description="The caller's assignments: all active ones in a SNAPSHOT (resync), "
    "then each one that changed."
)
class AssignmentEvent:
    sequence: int
    resync: bool
    assignments: list[TaskAssignment]


@strawberry.type(description="A worker online for a project.")
class WorkerOnline:
    user_id: strawberry.ID
    last_seen_at: datetime
    online_until: datetime = strawberry.field(
        description="When they count as gone unless they heartbeat again (a board may drop them "
        "then without waiting for another event)."
    )


@strawberry.type(description="A project's tasks counted by step and status, and who is online.")
class QueueEvent:
    sequence: int
    resync: bool
    counts: list[QueueCount]
    workers_online: list[WorkerOnline] = strawberry.field(
        description="Workers whose last heartbeat is younger than ALLOT_PRESENCE_SECONDS."
    )


def _assignments(
    event: Snapshot[list[model.AssignmentView]] | Delta[list[model.AssignmentView]],
) -> AssignmentEvent:
    return AssignmentEvent(
        sequence=event.sequence,
        resync=isinstance(event, Snapshot) and event.resync,
        assignments=[TaskAssignment.of(a) for a in event.data],
    )


def _counts(event: Snapshot[model.QueueView] | Delta[model.QueueView]) -> QueueEvent:
    return QueueEvent(
        sequence=event.sequence,
        resync=isinstance(event, Snapshot) and event.resync,
        counts=[
            QueueCount(step_id=c.step_id, status=c.status.value, count=c.count)
            for c in event.data.counts
        ],
        workers_online=[
            WorkerOnline(
                user_id=strawberry.ID(w.user_id),
                last_seen_at=w.last_seen_at,
                online_until=w.online_until,
            )
            for w in event.data.online
        ],
    )


# ---------------------------------------------------------------- roots


@strawberry.type
class Query:
    @strawberry.field(description="A project of your tenant (admins and workers).")
    async def work_project(self, info: Info, id: strawberry.ID) -> WorkProject | None:
        return WorkProject.of(await resolve.work_project(info.context, id))

    @strawberry.field(description="Every project of your tenant, newest first (admins, workers).")
    async def work_projects(self, info: Info) -> list[WorkProject]:
        return [WorkProject.of(p) for p in await resolve.work_projects(info.context)]

    @strawberry.field(description="Your assignments, newest first (workers).")
    async def my_assignments(
        self, info: Info, status: AssignmentStatus | None = None
    ) -> list[TaskAssignment]:
        return [TaskAssignment.of(a) for a in await resolve.my_assignments(info.context, status)]

    @strawberry.field(
        description="Every worker with a profile, eligible or not for the task at the step, why, "
        "and the score that ranks the eligible: what assignTask would decide now (admins)."
    )
    async def explain_assignment(
        self, info: Info, task_id: strawberry.ID, step_id: str
    ) -> list[CandidateExplanation]:
        explained = await resolve.explain_assignment(info.context, task_id, step_id)
        return [CandidateExplanation.of(e) for e in explained]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create a project with its steps and rules (admins).")
    async def create_work_project(
        self, info: Info, input: CreateWorkProjectInput
    ) -> CreateWorkProjectResult:
        c = input.config
        draft = ProjectDraft(
            name=input.name,
            steps=input.steps,
            strategy=c.strategy,
            max_concurrent_per_user=c.max_concurrent_per_user,
            cross_step_exclusions=c.cross_step_exclusions or [],
            cooldown_minutes=0 if c.cooldown_minutes is None else c.cooldown_minutes,
            reservation_timeout_seconds=300
            if c.reservation_timeout_seconds is None
            else c.reservation_timeout_seconds,
            hybrid_weight=0.5 if c.hybrid_weight is None else c.hybrid_weight,
        )
        return WorkProject.of(await resolve.create_work_project(info.context, draft))

    @strawberry.mutation(description="Add tasks to a project, all or none (admins).")
    async def create_work_tasks(
        self, info: Info, input: CreateWorkTasksInput
    ) -> CreateWorkTasksResult:
        batch = [
            NewTask(t.step_id, t.priority or 0, tuple(t.required_skills or ()), t.payload)
            for t in input.tasks
        ]
        tasks = await resolve.create_work_tasks(info.context, input.project_id, batch)
        return WorkTasksPayload(tasks=[WorkTask.of(t) for t in tasks])

    @strawberry.mutation(description="Create or replace a worker's profile (admins).")
    async def set_worker_profile(
        self, info: Info, input: SetWorkerProfileInput
    ) -> SetWorkerProfileResult:
        draft = Profile(
            str(input.user_id), tuple(input.skills), input.quality_score, input.active is not False
        )
        return WorkerProfile.of(await resolve.set_worker_profile(info.context, draft))

    @strawberry.mutation(
        description="Reserve the task at its step for the best eligible worker online, under "
        "the project's strategy (admins). NoEligibleAssignee says why for each worker."
    )
    async def assign_task(self, info: Info, input: AssignTaskInput) -> AssignTaskResult:
        return _assignment(await resolve.assign_task(info.context, input.task_id, input.step_id))

    @strawberry.mutation(
        description="Reserve the highest-priority, then oldest, task at the step that you may "
        "take (workers); concurrent claims never get the same task or wait on each other."
    )
    async def claim_next_task(self, info: Info, input: ClaimNextTaskInput) -> ClaimNextTaskResult:
        return _assignment(
            await resolve.claim_next_task(info.context, input.project_id, input.step_id)
        )

    @strawberry.mutation(description="ASSIGNED -> ACCEPTED, before the reservation runs out.")
    async def accept_assignment(
        self, info: Info, input: AssignmentTransitionInput
    ) -> AssignmentTransitionResult:
        return _assignment(await resolve.move(info.context, input.assignment_id, Action.ACCEPT))

    @strawberry.mutation(description="ACCEPTED -> IN_PROGRESS.")
    async def start_assignment(
        self, info: Info, input: AssignmentTransitionInput
    ) -> AssignmentTransitionResult:
        return _assignment(await resolve.move(info.context, input.assignment_id, Action.START))

    @strawberry.mutation(
        description="IN_PROGRESS -> SUBMITTED: the task moves on to its next step (OPEN), or "
        "is DONE after the last."
    )
    async def submit_assignment(
        self, info: Info, input: AssignmentTransitionInput
    ) -> AssignmentTransitionResult:
        return _assignment(await resolve.move(info.context, input.assignment_id, Action.SUBMIT))

    @strawberry.mutation(
        description="Turn the task down (a reason is required): REJECTED, the task is free for "
        "others and never offered to you again at this step."
    )
    async def reject_assignment(
        self, info: Info, input: RejectAssignmentInput
    ) -> AssignmentTransitionResult:
        return _assignment(
            await resolve.move(info.context, input.assignment_id, Action.REJECT, input.reason)
        )

    @strawberry.mutation(description="Release an active assignment (its worker, or an admin).")
    async def release_assignment(
        self, info: Info, input: ReleaseAssignmentInput
    ) -> AssignmentTransitionResult:
        action = Action.EXPIRE if input.reassign is False else Action.REASSIGN
        return _assignment(await resolve.move(info.context, input.assignment_id, action))

    @strawberry.mutation(
        description="You are online for the project (workers); assignTask only picks workers "
        "whose last heartbeat is younger than ALLOT_PRESENCE_SECONDS."
    )
    async def heartbeat(self, info: Info, input: HeartbeatInput) -> HeartbeatResult:
        seen = await resolve.heartbeat(info.context, input.project_id)
        return HeartbeatPayload(
            project_id=strawberry.ID(str(seen.project_id)), last_seen_at=seen.last_seen_at
        )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="SNAPSHOT of your active assignments, then each new, changed or expired one."
    )
    def my_assignment_events(self, info: Info) -> AsyncGenerator[AssignmentEvent, None]:
        return shared_events(
            resolve.my_assignment_events(info.context), snapshot=_assignments, delta=_assignments
        )

    @strawberry.subscription(
        description="A project's task counts by step and status, whenever they change (admins); "
        "a burst of changes may come as one event."
    )
    def project_queue_events(
        self, info: Info, project_id: strawberry.ID
    ) -> AsyncGenerator[QueueEvent, None]:
        return shared_events(
            resolve.project_queue_events(info.context, project_id), snapshot=_counts, delta=_counts
        )
