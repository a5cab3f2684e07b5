"""Core types: the viewer and roles."""

from __future__ import annotations

from enum import Enum

import strawberry

from resolvers import core as resolve
from schema.context import Info


@strawberry.enum
class Role(Enum):
    ADMIN = "admin"
    STAFF = "staff"
    PLAYER = "player"
    CREATOR = "creator"
    WORKER = "worker"


@strawberry.type(description="Who the bearer token says you are.")
class Viewer:
    user_id: strawberry.ID
    tenant_id: strawberry.ID
    roles: list[Role]


@strawberry.type
class Query:
    @strawberry.field(description="The caller, from the bearer token.")
    def viewer(self, info: Info) -> Viewer:
        principal = resolve.viewer(info.context)
        return Viewer(
            user_id=strawberry.ID(principal.user_id),
            tenant_id=strawberry.ID(str(principal.tenant_id)),
            roles=sorted((Role(r.value) for r in principal.roles), key=lambda r: r.value),
        )
