"""Every area's configuration, built once at start-up (server.settings) and handed to the
services through the request context: services never read settings themselves."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.loyalty.config import LoyaltyConfig
from services.poems.config import PoemsConfig
from services.tables.config import TablesConfig
from services.tasks.config import TasksConfig


@dataclass(frozen=True, slots=True)
class AreaConfigs:
    """One field per area that has tunables."""

    tables: TablesConfig = field(default_factory=TablesConfig)
    poems: PoemsConfig = field(default_factory=PoemsConfig)
    tasks: TasksConfig = field(default_factory=TasksConfig)
    loyalty: LoyaltyConfig = field(default_factory=LoyaltyConfig)
