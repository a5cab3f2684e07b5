"""What the running app holds: settings, the pool, the hub, background workers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg

from server.settings import Settings
from services.config import AreaConfigs
from services.realtime.hub import Hub


@dataclass
class AppState:
    """Created at start-up by the lifespan; torn down at shutdown."""

    settings: Settings
    dsn: str
    jwt_secret: str
    pool: asyncpg.Pool
    hub: Hub
    areas: AreaConfigs
    workers: list[Any] = field(default_factory=list)
