"""The README documents every setting the server reads."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from graphql import (
    FieldNode,
    GraphQLObjectType,
    SelectionSetNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    parse,
    validate,
    visit,
)

from schema.root import build_schema
from server.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_readme__lists_every_setting() -> None:
    for name in Settings.model_fields:
        env = "DATABASE_URL" if name == "database_url" else f"ALLOT_{name.upper()}"
        assert f"`{env}`" in README, f"{env} is not in the README's settings table"


def _graphql_blocks() -> list[str]:
    return [
        textwrap.dedent(block)
        for block in re.findall(r"^ *```graphql\n(.*?)^ *```", README, re.S | re.M)
    ]


README_GRAPHQL = _graphql_blocks()
SCHEMA = build_schema(Settings().limits)._schema


def test_readme__graphql_examples_are_valid_against_the_schema() -> None:
    assert len(README_GRAPHQL) >= 10
    for text in README_GRAPHQL:
        errors = validate(SCHEMA, parse(text))
        assert not errors, f"{text}\n{errors}"


def _objects_without_id(text: str) -> list[str]:
    """The types with an `id` field that `text` selects without it."""
    missing: list[str] = []
    info = TypeInfo(SCHEMA)

    class Check(Visitor):
        def enter_selection_set(self, node: SelectionSetNode, *_args: object) -> None:
            kind = info.get_parent_type()
            if isinstance(kind, GraphQLObjectType) and "id" in kind.fields:
                names = {s.name.value for s in node.selections if isinstance(s, FieldNode)}
                if "id" not in names:
                    missing.append(kind.name)

    visit(parse(text), TypeInfoVisitor(info, Check()))
    return missing


def test_readme__examples_select_id_wherever_there_is_one() -> None:
    """Apollo's and urql's normalized caches key objects by id: an object read without it is
    not updated by later answers, so a status shown from the cache goes stale."""
    assert _objects_without_id("{ restaurants { name } }") == ["Restaurant"]
    for text in README_GRAPHQL:
        assert not _objects_without_id(text), f"{text}\nselects these without their id"


def test_readme__placeholders_look_like_placeholders() -> None:
    """A made-up value ("K7QX2M", "...") reads as one to copy; a placeholder says what to put."""
    for text in README_GRAPHQL:
        for value in re.findall(r'"([^"]*)"', text):
            # Names a reader types as they are: players' names, the demo project's steps.
            assert value.startswith("<") or value in {
                "Ada",
                "Basho",
                "Robo",
                "Moon",
                "annotate",
                "review",
            }, value
