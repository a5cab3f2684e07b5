"""Core types: the viewer and roles."""

from __future__ import annotations

import strawberry

from resolvers import core as resolve
from schema.context import Info
from services.core.principal import Role

strawberry.enum(Role)  # exposed to GraphQL as services.core.principal defines it


@strawberry.type(description="Who the bearer token says you are.")
class Viewer:
    user_id: strawberry.ID
    tenant_id: strawberry.ID
    roles: list[Role]


@strawberry.type
class Query:
    @strawberry.field(description="The caller, from the bearer token.")
    def viewer(self, info: Info) -> Viewer:
        found = resolve.viewer(info.context)
        return Viewer(
            user_id=strawberry.ID(found.user_id),
            tenant_id=strawberry.ID(str(found.tenant_id)),
            roles=sorted(found.roles, key=lambda r: r.value),
        )
