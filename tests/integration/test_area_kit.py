"""Every area keeps the template's promises about the database: the constraint names its
errors translate exist after migrations, and its topics are the ones its triggers send."""

from __future__ import annotations

import importlib
import re
from types import ModuleType

import asyncpg
import pytest

from schema.root import AREAS

pytestmark = pytest.mark.integration

# What a NOTIFY topic looks like in a trigger: allot_notify('tables.floor:' || ..., or a whole
# literal topic such as 'tables.holds'.
_NOTIFY_TOPIC = re.compile(r"allot_notify\(\s*'([^']*)'")


def _area_modules(name: str) -> list[ModuleType]:
    """services.<area>.<name> of every served area that has one."""
    found = []
    for schema_module in AREAS:
        area = schema_module.__name__.rsplit(".", 1)[-1]
        try:
            found.append(importlib.import_module(f"services.{area}.{name}"))
        except ModuleNotFoundError:
            continue
    return found


def test_every_served_area_but_core__has_errors_and_live_modules() -> None:
    areas = {m.__name__.rsplit(".", 1)[-1] for m in AREAS} - {"core"}
    assert areas
    assert {m.__name__.split(".")[1] for m in _area_modules("errors")} == areas
    assert {m.__name__.split(".")[1] for m in _area_modules("live")} == areas


async def test_every_translated_constraint__exists_after_migrations(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        constraints = {r["conname"] for r in await conn.fetch("select conname from pg_constraint")}
        indexes = {r["relname"] for r in await conn.fetch("select relname from pg_class")}
        sources = "\n".join(r["prosrc"] for r in await conn.fetch("select prosrc from pg_proc"))
    finally:
        await conn.close()
    raised = set(re.findall(r"constraint\s*=\s*'(\w+)'", sources))
    declared = {name for m in _area_modules("errors") for name in m.CONSTRAINTS}
    assert declared
    unknown = sorted(declared - constraints - indexes - raised)
    assert not unknown, f"CONSTRAINTS name constraints that do not exist: {unknown}"


async def test_every_trigger_topic__is_one_its_area_declares_and_the_reverse(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        sources = [r["prosrc"] for r in await conn.fetch("select prosrc from pg_proc")]
    finally:
        await conn.close()
    sent = {t.rstrip(":") for src in sources for t in _NOTIFY_TOPIC.findall(src)}
    sent.discard("probe")  # the test suite's own probe table (tests/support/probe.sql)
    declared = {topic for m in _area_modules("live") for topic in m.TOPICS}
    for topic in declared:
        area = topic.split(".", 1)[0]
        assert re.fullmatch(rf"{area}\.\w+", topic), f"{topic!r} does not carry its area"
    assert sent == declared
