"""The tasks area's tunables (built once at start from ALLOT_PRESENCE_SECONDS, by
server.settings)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TasksConfig:
    """How long a heartbeat keeps a worker present for a project."""

    presence_seconds: float = 60.0
