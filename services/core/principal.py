"""Who is calling: the verified claims of a bearer token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from uuid import UUID

from services.errors import Forbidden


class Role(StrEnum):
    """What a user may do within a tenant."""

    ADMIN = "admin"
    STAFF = "staff"
    PLAYER = "player"
    CREATOR = "creator"
    WORKER = "worker"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller, scoped to one tenant."""

    user_id: str
    tenant_id: UUID
    roles: frozenset[Role]
    expires_at: datetime | None = None

    def has(self, *roles: Role) -> bool:
        """True if the caller has any of `roles`."""
        return not self.roles.isdisjoint(roles)

    def require(self, *roles: Role) -> None:
        """Raise Forbidden unless the caller has one of `roles`."""
        if not self.has(*roles):
            names = " or ".join(r.value for r in roles)
            raise Forbidden(f"this needs the {names} role")

    def expired(self, now: datetime | None = None) -> bool:
        """True once the token's expiry has passed."""
        if self.expires_at is None:
            return False
        return (now or datetime.now(UTC)) >= self.expires_at
