"""Raw input of the tasks area to checked values: projects and their rules, task batches,
worker profiles, reject reasons.

Each bad field is recorded in `Problems` and raised together as `InvalidInput`; a field of a
list item is named with its index (`tasks[3].stepId`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from services.core.text import plain, storable
from services.errors import Problems
from services.tasks.model import AssignmentConfig, LoadBalancingStrategy

MAX_STEPS: Final = 20
MAX_TASKS: Final = 10_000
MAX_PRIORITY: Final = 1_000_000
MAX_SKILLS: Final = 50
STEP: Final = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,39}")
SKILL: Final = re.compile(r"[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]{0,59}")


@dataclass(frozen=True, slots=True)
class ProjectDraft:
    """A project as a client asks for it (inputs.project checks it)."""

    name: str
    steps: Sequence[str]
    strategy: LoadBalancingStrategy
    max_concurrent_per_user: int | None = None
    cross_step_exclusions: Sequence[Sequence[str]] = ()
    cooldown_minutes: int = 0
    reservation_timeout_seconds: int = 300
    hybrid_weight: float = 0.5


@dataclass(frozen=True, slots=True)
class NewProject:
    """A project to create."""

    name: str
    steps: tuple[str, ...]
    config: AssignmentConfig


@dataclass(frozen=True, slots=True)
class NewTask:
    """A task to create, at `step_id` (a step of its project)."""

    step_id: str
    priority: int = 0
    required_skills: tuple[str, ...] = ()
    payload: Any = None


@dataclass(frozen=True, slots=True)
class Profile:
    """A worker profile to set."""

    user_id: str
    skills: tuple[str, ...]
    quality_score: float | None
    active: bool


def json_value(problems: Problems, field: str, value: Any, depth: int = 0) -> Any:
    """A JSON value PostgreSQL can store: no NUL character in a string or key, no infinite or
    NaN number, nested at most 32 deep."""
    if depth > 32:
        problems.add(field, "is nested too deeply (at most 32 levels)")
    elif isinstance(value, str):
        if not storable(value):
            problems.add(field, "must not contain the NUL character or a lone surrogate")
    elif isinstance(value, float) and not math.isfinite(value):
        problems.add(field, "numbers must be finite")
    elif isinstance(value, dict):
        for key, item in value.items():
            json_value(problems, field, key, depth + 1)
            json_value(problems, field, item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            json_value(problems, field, item, depth + 1)
    return value


def _skills(problems: Problems, field: str, raw: Sequence[str]) -> tuple[str, ...]:
    """Distinct skills in the order given: each a non-empty name without control characters."""
    out: list[str] = []
    if len(raw) > MAX_SKILLS:
        problems.add(field, f"at most {MAX_SKILLS} skills")
    for i, skill in enumerate(raw):
        cleaned = skill.strip()
        if not SKILL.fullmatch(cleaned) or not plain(cleaned):
            problems.add(f"{field}[{i}]", "a skill is 1 to 60 characters, no control characters")
        elif cleaned not in out:
            out.append(cleaned)
    return tuple(out)


def project(draft: ProjectDraft) -> NewProject:
    """A project and its rules, or InvalidInput naming every bad field."""
    problems = Problems()
    name, steps = draft.name, draft.steps
    max_concurrent_per_user = draft.max_concurrent_per_user
    cooldown_minutes = draft.cooldown_minutes
    reservation_timeout_seconds = draft.reservation_timeout_seconds
    hybrid_weight = draft.hybrid_weight
    clean_name = name.strip()
    if not clean_name or len(clean_name) > 200 or not plain(clean_name):
        problems.add("name", "must be 1 to 200 characters, no control characters")
    clean_steps = tuple(s.strip() for s in steps)
    if not 1 <= len(clean_steps) <= MAX_STEPS:
        problems.add("steps", f"a project has 1 to {MAX_STEPS} steps")
    for i, step in enumerate(clean_steps):
        if not STEP.fullmatch(step):
            problems.add(f"steps[{i}]", "a step is a letter then up to 39 letters, digits, - or _")
        elif step in clean_steps[:i]:
            problems.add(f"steps[{i}]", f"{step!r} is listed twice")
    pairs: list[tuple[str, str]] = []
    for i, pair in enumerate(draft.cross_step_exclusions):
        field = f"config.crossStepExclusions[{i}]"
        if len(pair) != 2 or pair[0] == pair[1]:
            problems.add(field, "a pair names two different steps")
            continue
        unknown = [s for s in pair if s not in clean_steps]
        if unknown:
            problems.add(field, f"unknown step {unknown[0]!r} (the steps are {list(clean_steps)})")
            continue
        pairs.append((pair[0], pair[1]))
    if max_concurrent_per_user is not None and not 1 <= max_concurrent_per_user <= 10_000:
        problems.add("config.maxConcurrentPerUser", "must be between 1 and 10000 (or null)")
    if not 0 <= cooldown_minutes <= 10_080:
        problems.add("config.cooldownMinutes", "must be between 0 and 10080 (a week)")
    if not 1 <= reservation_timeout_seconds <= 86_400:
        problems.add("config.reservationTimeoutSeconds", "must be between 1 and 86400")
    if not (math.isfinite(hybrid_weight) and 0 <= hybrid_weight <= 1):
        problems.add("config.hybridWeight", "must be between 0 and 1")
    problems.raise_if_any()
    return NewProject(
        clean_name,
        clean_steps,
        AssignmentConfig(
            strategy=draft.strategy,
            max_concurrent_per_user=max_concurrent_per_user,
            cross_step_exclusions=tuple(pairs),
            cooldown_minutes=cooldown_minutes,
            reservation_timeout_seconds=reservation_timeout_seconds,
            hybrid_weight=hybrid_weight,
        ),
    )


def tasks(raw: Sequence[NewTask], steps: Sequence[str]) -> list[NewTask]:
    """A batch of tasks for a project with `steps`, or InvalidInput naming every bad field."""
    problems = Problems()
    if not 1 <= len(raw) <= MAX_TASKS:
        problems.add("tasks", f"a batch has 1 to {MAX_TASKS:,} tasks")
    out: list[NewTask] = []
    for i, t in enumerate(raw):
        step = t.step_id.strip()
        if step not in steps:
            problems.add(
                f"tasks[{i}].stepId", f"unknown step {step!r} (the steps are {list(steps)})"
            )
        if not -MAX_PRIORITY <= t.priority <= MAX_PRIORITY:
            problems.add(
                f"tasks[{i}].priority", f"must be between -{MAX_PRIORITY} and {MAX_PRIORITY}"
            )
        skills = _skills(problems, f"tasks[{i}].requiredSkills", t.required_skills)
        json_value(problems, f"tasks[{i}].payload", t.payload)
        out.append(NewTask(step, t.priority, skills, t.payload))
    problems.raise_if_any()
    return out


def profile(draft: Profile) -> Profile:
    """A worker profile with its fields cleaned, or InvalidInput naming every bad field."""
    problems = Problems()
    user = draft.user_id.strip()
    if not user or len(user) > 200 or not plain(user):
        problems.add("userId", "must be 1 to 200 characters, no control characters")
    clean = _skills(problems, "skills", draft.skills)
    quality = draft.quality_score
    if quality is not None and not (math.isfinite(quality) and 0 <= quality <= 1):
        problems.add("qualityScore", "must be between 0 and 1 (or null)")
    problems.raise_if_any()
    return Profile(user, clean, quality, draft.active)


def reject_reason(raw: Any) -> Any:
    """The reason a worker gives for rejecting: required (not null, empty text or empty)."""
    problems = Problems()
    if raw is None or raw in ("", {}, []) or (isinstance(raw, str) and not raw.strip()):
        problems.add("reason", 'a reason is required, for example "audio is unclear"')
    else:
        json_value(problems, "reason", raw)
    problems.raise_if_any()
    return raw
