"""Each folder keeps its job: settings stay at the edge, and every domain error has its type."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

from graphql import GraphQLObjectType

from schema.extensions import Limits
from schema.root import AREAS, build_schema
from services import errors as shared_errors

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_services_schema_and_resolvers__never_import_server() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("services", "schema", "resolvers")
        for path in (ROOT / folder).rglob("*.py")
        if any(n == "server" or n.startswith("server.") for n in _imports(path))
    ]
    assert not offenders


def test_services__never_import_schema_or_resolvers() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "services").rglob("*.py")
        if any(n.split(".")[0] in {"schema", "resolvers"} for n in _imports(path))
    ]
    assert not offenders


def test_every_domain_error__has_a_graphql_error_type_of_its_name() -> None:
    kinds = [
        obj
        for module in [shared_errors]
        + [
            importlib.import_module(f"services.{m.__name__.rsplit('.', 1)[-1]}.errors")
            for m in AREAS
            if m.__name__ != "schema.core"
        ]
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, shared_errors.AllotError)
        and obj not in {shared_errors.AllotError, shared_errors.NotAuthenticated}
    ]
    assert len(kinds) > 4
    served = build_schema(Limits())._schema
    missing = []
    for kind in kinds:
        gql = served.type_map.get(kind.__name__)
        if not isinstance(gql, GraphQLObjectType) or "Error" not in {
            i.name for i in gql.interfaces
        }:
            missing.append(kind.__name__)
    assert not missing, f"domain errors with no GraphQL Error type of the same name: {missing}"
