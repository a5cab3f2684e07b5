"""All settings, read from the environment (prefix ALLOT_, except DATABASE_URL)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from schema.extensions import Limits
from services.config import AreaConfigs
from services.loyalty.config import parse_daily_sync_at
from services.poems.config import PoemsConfig
from services.tables.config import TablesConfig
from services.tasks.config import TasksConfig


class Settings(BaseSettings):
    """Process settings; every field maps to an environment variable."""

    model_config = SettingsConfigDict(env_prefix="ALLOT_", extra="ignore")

    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "ALLOT_DATABASE_URL")
    )
    jwt_secret: str | None = None
    jwt_algorithm: str = "HS256"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(default=1, ge=1, le=64)
    log_level: str = "INFO"
    data_dir: Path = Path(".allot")
    migrate_on_start: bool | None = None  # default: True for the embedded database
    seed_demo: bool = True
    cors_origins: list[str] = Field(default_factory=list)
    pool_min_size: int = 2
    pool_max_size: int = 20
    max_query_depth: int = 12
    max_aliases: int = 30
    max_query_tokens: int = 2000
    max_subscriptions_per_connection: int = 50
    subscriber_queue_size: int = 256
    notify_rows: bool = True
    hub_keepalive_seconds: float = 5.0
    hub_reconnect_max_seconds: float = 10.0
    ws_connection_init_timeout_seconds: float = 10.0
    max_body_bytes: int = Field(default=1_048_576, ge=1)
    max_import_bytes: int = Field(default=2_147_483_648, ge=1)
    hold_ttl_seconds: float = 120.0
    max_combined_tables: int = 3
    optimizer_seconds: float = Field(default=5.0, gt=0, le=300)
    max_players_per_game: int = 50
    joins_per_minute: int = Field(default=10, ge=1)
    lines_per_minute: int = Field(default=30, ge=1)
    game_abandon_minutes: int = Field(default=120, ge=1)
    presence_seconds: float = Field(default=60.0, gt=0)
    daily_sync_at: str = "14:00 America/New_York"

    @property
    def embedded(self) -> bool:
        """True when no DATABASE_URL is set and Allot runs its own PostgreSQL."""
        return not self.database_url

    @property
    def areas(self) -> AreaConfigs:
        """Each area's configuration, from these settings."""
        return AreaConfigs(
            tables=TablesConfig(
                hold_ttl_seconds=self.hold_ttl_seconds,
                max_combined_tables=self.max_combined_tables,
                optimizer_seconds=self.optimizer_seconds,
            ),
            poems=PoemsConfig(
                max_players_per_game=self.max_players_per_game,
                joins_per_minute=self.joins_per_minute,
                lines_per_minute=self.lines_per_minute,
                abandon_minutes=self.game_abandon_minutes,
            ),
            tasks=TasksConfig(presence_seconds=self.presence_seconds),
            loyalty=parse_daily_sync_at(self.daily_sync_at),
        )

    @property
    def limits(self) -> Limits:
        """What one GraphQL document may ask for."""
        return Limits(
            max_depth=self.max_query_depth,
            max_aliases=self.max_aliases,
            max_tokens=self.max_query_tokens,
        )

    @property
    def should_migrate(self) -> bool:
        """Migrate at start: explicit setting, else only for the embedded database."""
        return self.embedded if self.migrate_on_start is None else self.migrate_on_start


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
