"""Rows that arrive as JSON (a notification's "r", db/migrations/0011_notify_rows.sql), made
into what asyncpg would have returned for the same rows of the same view.

`to_jsonb` writes uuids and timestamps as strings; the column types of the view (read once per
view from the catalog) say which strings to turn back. JSON columns stay as they are: the
pool decodes json and jsonb to Python values too (db.pool).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final
from uuid import UUID

import asyncpg

# A row as asyncpg returns it, or the same row decoded from JSON.
Row = asyncpg.Record | Mapping[str, Any]

_CONVERT: Final[dict[str, Callable[[Any], Any]]] = {
    "uuid": UUID,
    "uuid[]": lambda values: [UUID(v) for v in values],
    "timestamp with time zone": datetime.fromisoformat,
}
# Types whose JSON is already what asyncpg returns (enums come as their labels, as text).
_AS_IS: Final = frozenset(
    {"text", "integer", "bigint", "smallint", "boolean", "json", "jsonb", "integer[]", "text[]"}
)

_COLUMNS = """
select a.attname, format_type(a.atttypid, a.atttypmod), t.typtype = 'e'
from pg_attribute a join pg_type t on t.oid = a.atttypid
where a.attrelid = $1::regclass and a.attnum > 0 and not a.attisdropped
"""

Converters = dict[str, Callable[[Any], Any]]


async def converters(conn: asyncpg.Connection, view: str) -> Converters:
    """How to turn each column of `view` back from JSON (only those that need it)."""
    out: Converters = {}
    for name, type_name, is_enum in await conn.fetch(_COLUMNS, view):
        if type_name in _CONVERT:
            out[name] = _CONVERT[type_name]
        elif type_name not in _AS_IS and not is_enum:
            raise TypeError(f"{view}.{name}: no JSON decoding for type {type_name}")
    return out


def decode(convert: Converters, rows: Sequence[Mapping[str, Any]]) -> list[Row]:
    """`rows` as asyncpg returns them (nulls stay null)."""
    out: list[Row] = []
    for row in rows:
        decoded = dict(row)
        for name, to_python in convert.items():
            value = decoded.get(name)
            if value is not None:
                decoded[name] = to_python(value)
        out.append(decoded)
    return out
