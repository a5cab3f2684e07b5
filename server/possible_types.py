"""Which object types each union and interface of the schema can be, for client caches.

Apollo Client (`possibleTypes`), urql's graphcache (`schema`/`possibleTypes`) and Relay
need this to match fragments such as `... on Error` against a union member; without it,
Apollo drops the fields of fragments on interfaces and unions it cannot resolve.
"""

from __future__ import annotations

import json

import strawberry
from graphql import GraphQLInterfaceType, GraphQLUnionType


def possible_types(schema: strawberry.Schema) -> dict[str, list[str]]:
    """{union or interface name: [object type names]}, sorted, introspection types left out."""
    graphql_schema = schema._schema
    out: dict[str, list[str]] = {}
    for name, kind in sorted(graphql_schema.type_map.items()):
        if name.startswith("__"):
            continue
        if isinstance(kind, GraphQLUnionType | GraphQLInterfaceType):
            out[name] = sorted(t.name for t in graphql_schema.get_possible_types(kind))
    return out


def possible_types_json(schema: strawberry.Schema) -> str:
    """possible_types as indented JSON, the way `allot possible-types` prints it."""
    return json.dumps(possible_types(schema), indent=2)
