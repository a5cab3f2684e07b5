"""The served schema contains every type, field, argument and enum value of the contract.

Areas not built yet are listed in NOT_BUILT; remove an area from it when it lands,
so this test tightens as the project grows.
"""

from __future__ import annotations

import re
from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    build_schema,
)

from schema.extensions import Limits
from schema.root import build_schema as build_served

CONTRACT = Path(__file__).resolve().parents[2] / "schema" / "contract.graphql"
NOT_BUILT: set[str] = set()

# Root fields and setup inputs of each area, by the name stem they use.
AREA_OF_SECTION = {
    "000": "party",
    "001": "loyalty",
    "002": "tables",
    "003": "poems",
    "004": "tasks",
}


def _sections(text: str) -> dict[str, str]:
    """Type names declared in each '# ---- area (NNN)' section of the contract."""
    owner: dict[str, str] = {}
    area = "core"
    for line in text.splitlines():
        m = re.match(r"# -{4,} (\w+)(?: \((\d+)\))?", line)
        if m:
            area = AREA_OF_SECTION.get(m.group(2) or "", m.group(1))
            continue
        d = re.match(r"\s*(?:type|input|enum|union|interface|scalar)\s+(\w+)", line)
        if d:
            owner[d.group(1)] = area
    return owner


def _area_of_setup(name: str) -> str | None:
    rules = {
        "tables": ("Restaurant", "DiningTable", "Booking"),
        "party": ("Party",),
        "loyalty": ("Tier", "LoyaltyMission", "Creator"),
        "tasks": ("WorkProject", "WorkTask", "WorkerProfile", "AssignmentConfig"),
    }
    for area, stems in rules.items():
        if any(stem in name for stem in stems):
            return area
    return None


def _root_field_area(owner: dict[str, str], contract: GraphQLSchema, root: str, field: str) -> str:
    """A root field belongs to the area of the type it returns (or its input's)."""
    gql_type = contract.get_type(root)
    assert isinstance(gql_type, GraphQLObjectType)
    f = gql_type.fields[field]
    named = f.type
    while hasattr(named, "of_type"):
        named = named.of_type
    area = owner.get(named.name, "core")
    if area == "setup":
        area = _area_of_setup(named.name) or "core"
    return area


def _effective_owner(contract_text: str) -> dict[str, str]:
    owner = _sections(contract_text)
    for name, area in list(owner.items()):
        if area == "setup":
            owner[name] = _area_of_setup(name) or "core"
    return owner


def test_served_schema__contains_the_contract_of_every_built_area() -> None:
    text = CONTRACT.read_text(encoding="utf-8")
    contract = build_schema(text)
    served = build_served(Limits()).as_str()
    schema = build_schema(served)
    owner = _effective_owner(text)
    missing: list[str] = []

    for name, ctype in contract.type_map.items():
        if name.startswith("__") or name in ("Query", "Mutation", "Subscription"):
            continue
        if owner.get(name, "core") in NOT_BUILT or isinstance(ctype, GraphQLScalarType):
            continue  # scalars are checked through the fields that use them
        stype = schema.type_map.get(name)
        if stype is None:
            missing.append(f"type {name}")
            continue
        if isinstance(ctype, GraphQLEnumType):
            assert isinstance(stype, GraphQLEnumType)
            missing += [f"{name}.{v}" for v in ctype.values if v not in stype.values]
        elif isinstance(ctype, GraphQLUnionType):
            assert isinstance(stype, GraphQLUnionType)
            have = {t.name for t in stype.types}
            missing += [f"{name} | {t.name}" for t in ctype.types if t.name not in have]
        elif isinstance(ctype, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            assert isinstance(stype, type(ctype)), f"{name} is a different kind of type"
            for fname, cfield in ctype.fields.items():
                sfield = stype.fields.get(fname)
                if sfield is None:
                    missing.append(f"{name}.{fname}")
                    continue
                if str(sfield.type) != str(cfield.type):
                    missing.append(f"{name}.{fname}: {cfield.type} (served {sfield.type})")
                for aname, carg in getattr(cfield, "args", {}).items():
                    sarg = sfield.args.get(aname)
                    if sarg is None or str(sarg.type) != str(carg.type):
                        missing.append(f"{name}.{fname}({aname}: {carg.type})")
            if isinstance(ctype, GraphQLObjectType) and isinstance(stype, GraphQLObjectType):
                have = {i.name for i in stype.interfaces}
                missing += [
                    f"{name} implements {i.name}" for i in ctype.interfaces if i.name not in have
                ]

    for root in ("Query", "Mutation", "Subscription"):
        croot = contract.get_type(root)
        sroot = schema.get_type(root)
        assert isinstance(croot, GraphQLObjectType)
        for fname, cfield in croot.fields.items():
            if _root_field_area(owner, contract, root, fname) in NOT_BUILT:
                continue
            sfield = sroot.fields.get(fname) if isinstance(sroot, GraphQLObjectType) else None
            if sfield is None or str(sfield.type) != str(cfield.type):
                missing.append(f"{root}.{fname}: {cfield.type}")
                continue
            for aname, carg in cfield.args.items():
                sarg = sfield.args.get(aname)
                if sarg is None or str(sarg.type) != str(carg.type):
                    missing.append(f"{root}.{fname}({aname}: {carg.type})")

    assert not missing, "served schema lacks:\n" + "\n".join(missing)


def test_contract_copy__matches_every_area_section() -> None:
    owner = _effective_owner(CONTRACT.read_text(encoding="utf-8"))
    # Sanity: the section parser sees each area, so NOT_BUILT means something.
    assert {"tables", "poems", "party", "loyalty", "tasks", "core"} <= set(owner.values())
    assert owner["AssignmentSession"] == "tables" and owner["Game"] == "poems"
    assert owner["CreateRestaurantInput"] == "tables" and owner["Viewer"] == "core"
